package calltracking_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// BenchmarkCallEvents measures call events per second end to end: signed
// generic events through the real host to the plugin in its own process,
// each merged into its call's state with the contact, the activity and the
// call's record written. It reports, beside events/s, each kind's time per
// event over the baseline measured in the same run: a webhook round trip
// the plugin refuses at once (unsigned), which is the host and protocol's
// share alone.
func BenchmarkCallEvents(b *testing.B) {
	h := sdktest.Start(b, calltracking.New(), sdktest.Options{
		Read: []string{"contact", "company", "activity"}, Write: []string{calltracking.CallEntity, "activity", "contact"},
		PluginConfig: baseConfig(), Process: true,
		Locale: sdk.Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
	h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	send := func(b *testing.B, body []byte, signed bool, want int) {
		hd := http.Header{}
		if signed {
			hd.Set(sdk.SignatureHeader, sdk.Sign([]byte(secret), body))
		}
		resp, err := h.Webhook(sdk.Request{Method: http.MethodPost, Path: "/generic", Header: hd, Body: body})
		if err != nil || (resp.Status != want && !(resp.Status == 0 && want == 200)) {
			b.Fatalf("POST: %d %s %v", resp.Status, resp.Body, err)
		}
	}
	event := func(id, kind string, sec int) []byte {
		return fmt.Appendf(nil, `{"call_id":%q,"event":%q,"from":"+37491123456","to":"+37410555001","at":"2026-03-21T10:00:%02dZ","duration":%d}`,
			id, kind, sec, sec)
	}
	perEvent := func(b *testing.B) time.Duration { return b.Elapsed() / time.Duration(b.N) }

	var base time.Duration
	b.Run("baseline_refused", func(b *testing.B) {
		body := event("base", "ringing", 0)
		for b.Loop() {
			send(b, body, false, http.StatusUnauthorized)
		}
		base = perEvent(b)
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("new_calls", func(b *testing.B) {
		i := 0
		kinds := []string{"ringing", "answered", "ended"}
		for b.Loop() {
			send(b, event(fmt.Sprintf("bench-%d", i/3), kinds[i%3], i%3*20), true, http.StatusOK)
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		if base > 0 {
			b.ReportMetric(float64(perEvent(b))/float64(base), "x_baseline")
		}
	})
	b.Run("repeats", func(b *testing.B) {
		body := event("bench-repeat", "ended", 30)
		send(b, body, true, http.StatusOK)
		for b.Loop() {
			send(b, body, true, http.StatusOK)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		if base > 0 {
			b.ReportMetric(float64(perEvent(b))/float64(base), "x_baseline")
		}
	})
}
