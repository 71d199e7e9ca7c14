package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// setSelect chooses value in a <select> the way a user does (a change event).
func setSelect(sel, value string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`(() => { const s = document.querySelector(%s); if (!s) return false;
		s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, jsString(sel), jsString(value)))
}

// openUserMenu opens the user menu unless it is open.
func openUserMenu() chromedp.Action[chromedp.Void] {
	return waitJS(`(() => { if (document.querySelector('#user-menu')) return true;
		const b = document.querySelector('.user-button'); if (b) b.click(); return !!document.querySelector('#user-menu'); })()`)
}

// closeUserMenu closes the user menu if it is open.
func closeUserMenu() chromedp.Action[chromedp.Void] {
	return waitJS(`(() => { if (document.querySelector('#user-menu')) document.querySelector('.user-button').click();
		return !document.querySelector('#user-menu'); })()`)
}

// record is a record as the API answers it.
type record map[string]any

// find lists entity records matching filter through the API.
func (s *server) find(t *testing.T, entity, filter string) []record {
	t.Helper()
	var res struct{ Items []record }
	s.mustAPI(t, "GET", "/api/v1/records/"+entity+"?filter="+url.QueryEscape(filter), nil, &res)
	return res.Items
}

// hasWebsocket reports whether this build serves /api/v1/ws (the hub is
// built on branch ws); without it the live checks cannot run.
func (s *server) hasWebsocket(t *testing.T) bool {
	return s.api(t, "GET", "/api/v1/ws", nil, nil) != 404
}

func TestUI(t *testing.T) {
	s := startCRM(t)
	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)
	screenshot(t, ctx, "en-home")

	// A second user session, watching the contact list.
	other := session(t, b)
	signIn(t, other, s)
	run(t, other, "second session opens the contacts", chromedp.Navigate(s.URL+"/records/contact"),
		waitJS(`document.querySelector('.empty, table.records')`))
	live := s.hasWebsocket(t)
	if live {
		run(t, other, "second session is live", waitJS(`document.querySelector('.live-dot.on')`))
	}

	var contactID string
	t.Run("create a contact with a custom field", func(t *testing.T) {
		run(t, ctx, "fill the form",
			chromedp.Navigate(s.URL+"/records/contact/new"),
			chromedp.WaitVisible(chromedp.CSS(`#f-name`)),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), "Anahit Petrosyan"),
			chromedp.SendKeys(chromedp.CSS(`#f-driver_license`), "AM-DL-4711"),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`/^\/records\/contact\/[^/]+$/.test(location.pathname) && !location.pathname.endsWith('/new')`),
			waitJS(`document.querySelector('.timeline, .record-page')`),
		)
		got := s.find(t, "contact", "name == 'Anahit Petrosyan'")
		if len(got) != 1 || got[0]["driver_license"] != "AM-DL-4711" {
			t.Fatalf("stored contacts: %v", got)
		}
		contactID, _ = got[0]["id"].(string)
		screenshot(t, ctx, "en-record")
	})

	t.Run("a second session sees the contact appear live", func(t *testing.T) {
		if !live {
			t.Skip("this build has no /api/v1/ws (the websocket hub is on branch ws)")
		}
		run(t, other, "the new row appears without a reload",
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('Anahit Petrosyan'))`))
	})

	// A custom entity from the fixture, with a date to show in Jalali.
	var vehicle record
	s.mustAPI(t, "POST", "/api/v1/records/vehicle", map[string]any{
		"vin": "WVWZZZ1JZXW000001", "mileage": 42000, "status": "in_stock", "arrived": "2025-03-21",
		"price": map[string]string{"amount": "8500000", "currency": "AMD"}, "buyer": contactID,
	}, &vehicle)
	vehicleURL := s.URL + "/records/vehicle/" + vehicle["id"].(string)

	t.Run("a custom entity gets its list and form", func(t *testing.T) {
		run(t, ctx, "vehicle list",
			chromedp.Navigate(s.URL+"/records/vehicle"),
			waitJS(`document.querySelector('h1') && document.querySelector('h1').textContent.includes('Vehicle')`),
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('WVWZZZ1JZXW000001'))`),
			waitJS(`[...document.querySelectorAll('#sidebar a')].some(a => a.getAttribute('href') === '/records/vehicle')`),
		)
		screenshot(t, ctx, "en-list")
		run(t, ctx, "vehicle form",
			chromedp.Navigate(s.URL+"/records/vehicle/new"),
			waitJS(`['vin','mileage','status','buyer','price','arrived'].every(n => document.querySelector('#f-' + n))`),
			waitJS(`document.querySelector('#f-status').tagName === 'SELECT' && document.querySelector('#f-status').options.length === 4`),
		)
		run(t, ctx, "a missing required field is shown next to it",
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`document.querySelector('.field.has-error[data-field="vin"] .error')`),
		)
	})

	t.Run("a phone-sized screen shows a record without horizontal scroll", func(t *testing.T) {
		phone := session(t, b)
		signIn(t, phone, s)
		run(t, phone, "390x844",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(vehicleURL),
			waitJS(`document.querySelector('#f-vin') && document.querySelector('#f-vin').value === 'WVWZZZ1JZXW000001'`),
			waitJS(`document.documentElement.scrollWidth <= window.innerWidth && document.body.scrollWidth <= window.innerWidth`),
		)
		screenshot(t, phone, "en-phone-record")
		run(t, phone, "the list as cards, no horizontal scroll",
			chromedp.Navigate(s.URL+"/records/vehicle"),
			waitJS(`document.querySelector('table.records tbody tr')`),
			waitJS(`getComputedStyle(document.querySelector('table.records tbody tr')).display === 'block'`),
			waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		)
		screenshot(t, phone, "en-phone-list")
	})

	t.Run("Persian: right to left, sidebar on the right, Jalali dates", func(t *testing.T) {
		run(t, ctx, "switch to Persian and the Jalali calendar",
			chromedp.Navigate(vehicleURL),
			waitJS(`document.querySelector('#f-vin')`),
			openUserMenu(),
			setSelect(`#pref-language`, "fa"),
			waitJS(`document.documentElement.dir === 'rtl' && document.documentElement.lang === 'fa'`),
			openUserMenu(),
			setSelect(`#pref-calendar`, "jalali"),
			closeUserMenu(),
		)
		run(t, ctx, "the sidebar is on the right",
			waitJS(`(() => { const s = document.querySelector('#sidebar').getBoundingClientRect();
				const m = document.querySelector('main').getBoundingClientRect(); return s.left >= m.right - 1; })()`))
		// 2025-03-21 is 1 Farvardin 1404.
		run(t, ctx, "the date shows as Jalali, in Persian digits",
			waitJS(`document.querySelector('#f-arrived').value.includes('۱۴۰۴') && document.querySelector('#f-arrived').value.includes('۰۱')`))
		screenshot(t, ctx, "fa-record")
	})

	t.Run("a date typed in Persian digits is stored as the right Gregorian date", func(t *testing.T) {
		run(t, ctx, "type 1403/12/30",
			chromedp.Navigate(vehicleURL),
			waitJS(`document.querySelector('#f-arrived') && document.querySelector('#f-arrived').value.includes('۱۴۰۴')`),
			waitJS(`(() => { const i = document.querySelector('#f-arrived'); i.focus(); i.select(); return document.activeElement === i; })()`),
			chromedp.KeyEvent("\b"),
			chromedp.SendKeys(chromedp.CSS(`#f-arrived`), "۱۴۰۳/۱۲/۳۰"),
			waitJS(`!document.querySelector('#save-record').disabled`),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`document.querySelector('#save-record').disabled`),
		)
		// 1403/12/30 (the last day of a leap year) is 2025-03-20.
		id := vehicle["id"].(string)
		run(t, ctx, "stored", chromedp.Func(func(c context.Context, _ *chromedp.Target) error {
			for c.Err() == nil {
				var v record
				s.mustAPI(t, "GET", "/api/v1/records/vehicle/"+id, nil, &v)
				if v["arrived"] == "2025-03-20" {
					return nil
				}
				if err := waitCtx(c); err != nil {
					return fmt.Errorf("arrived = %v, want 2025-03-20: %w", v["arrived"], err)
				}
			}
			return c.Err()
		}))
	})

	t.Run("Persian screens", func(t *testing.T) {
		run(t, ctx, "list in Persian", chromedp.Navigate(s.URL+"/records/vehicle"),
			waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('table.records tbody tr')`))
		screenshot(t, ctx, "fa-list")
		run(t, ctx, "home in Persian", chromedp.Navigate(s.URL+"/"), waitJS(`document.querySelector('.tiles li')`))
		screenshot(t, ctx, "fa-home")
	})

	t.Run("PWA: manifest and service worker, no installability errors", func(t *testing.T) {
		// The browser's default (not incognito) context: an incognito
		// window can never install an app.
		ctx, cancel := chromedp.NewContext(b)
		defer cancel()
		signIn(t, ctx, s)
		run(t, ctx, "service worker active",
			chromedp.Navigate(s.URL+"/"),
			waitJS(`navigator.serviceWorker && navigator.serviceWorker.controller !== undefined`),
			chromedp.Evaluate[chromedp.Void](`navigator.serviceWorker.ready.then(() => { window.__swReady = true })`),
			waitJS(`window.__swReady === true`),
		)
		errs, err := chromedp.Run(ctx, chromedp.Action[[]*page.InstallabilityError](func(c context.Context, tg *chromedp.Target) ([]*page.InstallabilityError, error) {
			res, err := cdp.Call(c, tg, page.GetInstallabilityErrors, cdp.Empty{})
			return res.InstallabilityErrors, err
		}))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range errs {
			ids = append(ids, e.ErrorID)
		}
		if len(ids) > 0 {
			t.Errorf("installability errors: %s", strings.Join(ids, ", "))
		}
		// The shell cache holds the page and assets, never the API.
		cached, err := chromedp.Run(ctx, chromedp.Evaluate[string](`caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))
			.then(ls => ls.flat().map(r => new URL(r.url).pathname).join(' '))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(cached, "/api/") || !strings.Contains(cached, "/assets/") {
			t.Errorf("service worker cache holds %q; want the shell's assets and no /api/", cached)
		}
	})

	t.Run("sign out", func(t *testing.T) {
		run(t, ctx, "sign out", openUserMenu(), chromedp.Click(chromedp.CSS(`#sign-out`)),
			chromedp.WaitVisible(chromedp.CSS(`#signin-email`)))
		screenshot(t, ctx, "fa-signin")
	})
}
