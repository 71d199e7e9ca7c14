package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// inZone makes the tab's browser time zone zone (Chromium's emulation), as
// if the computer were set to it.
func inZone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// TestDateTimeInTheCRMsZone: a browser set to UTC shows and takes a
// datetime in the CRM's time zone (locale.timezone, Asia/Yerevan, UTC+4),
// so 10:00 typed there is stored as 06:00Z, and says which zone it is.
func TestDateTimeInTheCRMsZone(t *testing.T) {
	s := startCRMWith(t, "testdata/pipeline.hcl")
	var task struct{ ID string }
	s.mustAPI(t, "POST", "/api/v1/records/task", map[string]any{"title": "Call the bank", "due": "2026-03-10T05:00:00Z"}, &task)

	b := browser(t)
	for _, zone := range []string{"UTC", "America/Los_Angeles"} {
		t.Run(zone, func(t *testing.T) {
			ctx := session(t, b)
			run(t, ctx, "the browser's zone", inZone(zone))
			signIn(t, ctx, s)
			run(t, ctx, "the zone is emulated", waitJS(`Intl.DateTimeFormat().resolvedOptions().timeZone === `+jsString(zone)))
			run(t, ctx, "the task's due time is shown in Yerevan's time",
				chromedp.Navigate(s.URL+"/records/task/"+task.ID),
				waitJS(`document.querySelector('.datepicker-time') && document.querySelector('.datepicker-time').value === '09:00'`),
				waitJS(`document.querySelector('#f-due').value === '2026-03-10'`),
				// The zone is named beside the time, since it is not the browser's.
				waitJS(`/GMT\+4/.test(document.querySelector('.datepicker-zone').textContent)`),
				waitJS(`document.querySelector('.datepicker-zone').title.includes('Asia/Yerevan')`),
			)
			run(t, ctx, "type another day and 10:00, and save",
				chromedp.SendKeys(chromedp.CSS(`#f-due`), kb.End+"\b\b\b\b\b\b\b\b\b\b2026-03-12"),
				waitJS(`document.querySelector('#f-due').value === '2026-03-12'`),
				setSelect(`.datepicker-time`, "10:00"),
				waitJS(`!document.querySelector('#save-record').disabled`),
				chromedp.Click(chromedp.CSS(`#save-record`)),
				waitJS(`document.querySelector('#save-record').disabled`),
			)
			var got struct{ Due string }
			for range 100 {
				s.mustAPI(t, "GET", "/api/v1/records/task/"+task.ID, nil, &got)
				if got.Due == "2026-03-12T06:00:00Z" {
					break
				}
				if err := waitCtx(ctx); err != nil {
					break
				}
			}
			if got.Due != "2026-03-12T06:00:00Z" {
				t.Fatalf("stored due %s, want 2026-03-12T06:00:00Z (10:00 in Yerevan)", got.Due)
			}
			// Back to the first value for the next browser zone.
			s.mustAPI(t, "PATCH", "/api/v1/records/task/"+task.ID, map[string]any{"due": "2026-03-10T05:00:00Z"}, nil)
		})
	}
}
