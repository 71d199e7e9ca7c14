package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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
	b := browser(t) // first: without Chromium, fail (or skip) before building anything
	s := startCRM(t)
	ctx := session(t, b)
	if os.Getenv("CRM_SCREENSHOTS") == "1" {
		run(t, ctx, "sign-in screen", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#signin-email`)))
		screenshot(t, ctx, "en-signin")
	}
	signIn(t, ctx, s)
	screenshot(t, ctx, "en-home")

	// A second user session, watching the contact list.
	other := session(t, b)
	signIn(t, other, s)
	run(t, other, "second session opens the contacts", chromedp.Navigate(s.URL+"/records/contact"),
		waitJS(`document.querySelector('.empty, table.records')`))
	live := s.hasWebsocket(t)
	if live {
		run(t, other, "second session is live", waitJS(`document.querySelector('.list-page[data-live]')`))
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
	})

	t.Run("a second session sees the contact appear live", func(t *testing.T) {
		if !live {
			t.Skip("this build has no /api/v1/ws (the websocket hub is on branch ws)")
		}
		run(t, other, "the new row appears without a reload",
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('Anahit Petrosyan'))`))
	})

	t.Run("after the server restarts, the list reconnects and stays live", func(t *testing.T) {
		if !live {
			t.Skip("this build has no /api/v1/ws (the websocket hub is on branch ws)")
		}
		s.restart(t)
		run(t, other, "the socket comes back", waitJS(`document.querySelector('.live-dot.on')`))
		s.mustAPI(t, "POST", "/api/v1/records/contact", map[string]any{"name": "Davit Sargsyan"}, nil)
		run(t, other, "a contact created after the restart appears without a reload",
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('Davit Sargsyan'))`))
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

	t.Run("a bad value is refused next to its field and rolled back", func(t *testing.T) {
		run(t, ctx, "type an invalid e-mail and save",
			chromedp.Navigate(s.URL+"/records/contact/"+contactID),
			waitJS(`document.querySelector('#f-name') && document.querySelector('#f-name').value === 'Anahit Petrosyan'`),
			chromedp.SendKeys(chromedp.CSS(`#f-email`), "not-an-e-mail"),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`document.querySelector('.field.has-error[data-field="email"] .error')`),
		)
		if got := s.find(t, "contact", "name == 'Anahit Petrosyan'"); len(got) != 1 || got[0]["email"] != nil {
			t.Fatalf("the refused e-mail was stored: %v", got)
		}
	})

	t.Run("a stale edit is refused with 409 and the edit kept for a retry", func(t *testing.T) {
		id := vehicle["id"].(string)
		run(t, ctx, "start editing",
			chromedp.Navigate(vehicleURL),
			waitJS(`document.querySelector('#f-mileage') && document.querySelector('#f-mileage').value === '42000'`),
			waitJS(fmt.Sprintf(`!%t || document.querySelector('.record-page[data-live]')`, live)),
			waitJS(`(() => { const i = document.querySelector('#f-mileage'); i.focus(); i.select(); return true; })()`),
			chromedp.KeyEvent("\b"),
			chromedp.SendKeys(chromedp.CSS(`#f-mileage`), "43000"),
		)
		// Meanwhile a colleague changes the record.
		s.mustAPI(t, "PATCH", "/api/v1/records/vehicle/"+id, map[string]any{"status": "service"}, nil)
		if live {
			run(t, ctx, "the page says the record changed meanwhile", waitJS(`document.querySelector('.record-form .note')`))
		}
		run(t, ctx, "save is refused",
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`document.querySelector('.record-form .alert') && document.querySelector('#f-mileage').value === '43000'`),
		)
		var v record
		s.mustAPI(t, "GET", "/api/v1/records/vehicle/"+id, nil, &v)
		if v["mileage"] != float64(42000) || v["status"] != "service" {
			t.Fatalf("after the refused save: mileage %v status %v, want 42000 and service", v["mileage"], v["status"])
		}
		run(t, ctx, "load the latest version and save again",
			chromedp.Click(chromedp.CSS(`.record-form .alert button`)),
			waitJS(`!document.querySelector('.record-form .alert') && document.querySelector('#f-status').value === 'service'`),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`document.querySelector('#save-record').disabled && !document.querySelector('.record-form .alert')`),
			// The button is disabled while the save is in flight too, so the
			// stored record is awaited rather than read once.
			s.waitAPI(t, "/api/v1/records/vehicle/"+id, "after the retry: mileage 43000 and status service",
				func(v record) bool { return v["mileage"] == float64(43000) && v["status"] == "service" }),
		)
	})

	t.Run("list tools: filter builder, expr errors, sort, bulk edit, saved view, export", func(t *testing.T) {
		for i, st := range []string{"sold", "service", "sold"} {
			s.mustAPI(t, "POST", "/api/v1/records/vehicle", map[string]any{
				"vin": fmt.Sprintf("XTA2107000000%04d", i), "mileage": 1000 * (i + 1), "status": st}, nil)
		}
		rows := `document.querySelectorAll('table.records tbody tr').length`
		run(t, ctx, "filter with the builder",
			chromedp.Navigate(s.URL+"/records/vehicle"),
			waitJS(rows+` === 4`),
			chromedp.Click(chromedp.CSS(`#filter-toggle`)),
			chromedp.Click(chromedp.CSS(`#filter-add`)),
			setSelect(`.filter-row select`, "status"),
			setSelect(`.filter-row select:nth-of-type(3)`, "sold"),
			waitJS(`document.querySelector('#filter-expr').value === "status == 'sold'"`),
			chromedp.Click(chromedp.CSS(`#filter-apply`)),
			waitJS(`new URLSearchParams(location.search).get('filter') === "status == 'sold'" && `+rows+` === 2`),
		)
		run(t, ctx, "a wrong expression shows its position",
			waitJS(`(() => { const e = document.querySelector('#filter-expr'); e.value = "status == 'sold' && mileage >"; e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`),
			chromedp.Click(chromedp.CSS(`#filter-apply`)),
			waitJS(`document.querySelector('#filter-error') && document.querySelector('#filter-error .caret')`),
		)
		run(t, ctx, "clear the filter and sort by mileage",
			chromedp.Navigate(s.URL+"/records/vehicle?sort=mileage"),
			waitJS(rows+` === 4`),
			waitJS(`document.querySelector('table.records tbody tr').textContent.includes('XTA21070000000000')`),
		)
		run(t, ctx, "bulk edit the selected rows",
			chromedp.Click(chromedp.CSS(`th.select input`)),
			chromedp.Click(chromedp.CSS(`#bulk-button`)),
			setSelect(`#bulk-field`, "status"),
			setSelect(`#bulk-value`, "in_stock"),
			chromedp.Click(chromedp.CSS(`#bulk-apply`)),
			waitJS(`!document.querySelector('.modal')`),
		)
		if n := len(s.find(t, "vehicle", "status == 'in_stock'")); n != 4 {
			t.Errorf("after the bulk edit %d vehicles are in stock, want 4", n)
		}
		run(t, ctx, "save the view",
			chromedp.Click(chromedp.CSS(`#save-view`)),
			chromedp.SendKeys(chromedp.CSS(`#view-name`), "By mileage"),
			chromedp.Click(chromedp.CSS(`.inline-form button[type=submit]`)),
			waitJS(`[...document.querySelectorAll('#view-select option')].some(o => o.textContent.includes('By mileage'))`),
		)
		run(t, ctx, "export the view as CSV",
			chromedp.Evaluate[chromedp.Void](`fetch(document.querySelector('#export-link').href).then(r => r.text()).then(t => { window.__csv = t })`),
			waitJS(`typeof window.__csv === 'string' && window.__csv.split('\n')[0].includes('vin') && window.__csv.includes('XTA21070000000002')`),
		)
		screenshot(t, ctx, "en-list")
	})

	t.Run("a reference picked by search and a file uploaded", func(t *testing.T) {
		photo := filepath.Join(t.TempDir(), "front.txt")
		if err := os.WriteFile(photo, []byte("a photo, in words"), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "fill the vehicle form",
			chromedp.Navigate(s.URL+"/records/vehicle/new"),
			chromedp.WaitVisible(chromedp.CSS(`#f-vin`)),
			chromedp.SendKeys(chromedp.CSS(`#f-vin`), "JTDKB20U000000777"),
			chromedp.SendKeys(chromedp.CSS(`#f-buyer`), "Anahit"),
			waitJS(`[...document.querySelectorAll('.results li')].some(li => li.textContent.includes('Anahit Petrosyan'))`),
			chromedp.Click(chromedp.CSS(`.results li`)),
			waitJS(`document.querySelector('.picker .chip') && document.querySelector('.picker .chip').textContent.includes('Anahit Petrosyan')`),
			chromedp.SetUploadFiles(chromedp.CSS(`#f-photo`), []string{photo}),
			waitJS(`document.querySelector('[data-field="photo"] a[download]') && document.querySelector('[data-field="photo"] a[download]').textContent.includes('front.txt')`),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			waitJS(`/^\/records\/vehicle\/[^/]+$/.test(location.pathname) && !location.pathname.endsWith('/new')`),
		)
		got := s.find(t, "vehicle", "vin == 'JTDKB20U000000777'")
		if len(got) != 1 || got[0]["buyer"] != contactID {
			t.Fatalf("stored vehicle: %v (want buyer %s)", got, contactID)
		}
		f, _ := got[0]["photo"].(map[string]any)
		if f["name"] != "front.txt" {
			t.Fatalf("stored photo: %v", got[0]["photo"])
		}
		run(t, ctx, "the file downloads from the record page",
			waitJS(`document.querySelector('[data-field="photo"] a[download]')`),
			chromedp.Evaluate[chromedp.Void](`fetch(document.querySelector('[data-field="photo"] a[download]').href).then(r => r.text()).then(t => { window.__file = t })`),
			waitJS(`window.__file === 'a photo, in words'`),
		)
	})

	t.Run("a plugin's record action is a button that shows the answer or the refusal", func(t *testing.T) {
		s.mustAPI(t, "POST", "/api/v1/records/loyalty_account", map[string]any{"contact": contactID, "points": 100}, nil)
		run(t, ctx, "redeem 30 points",
			chromedp.Navigate(s.URL+"/records/contact/"+contactID),
			waitJS(`[...document.querySelectorAll('.plugin-actions button')].some(b => b.textContent === 'Redeem points')`),
			chromedp.Click(chromedp.CSS(`.plugin-actions button`)),
			chromedp.WaitVisible(chromedp.CSS(`#arg-points`)),
			chromedp.SendKeys(chromedp.CSS(`#arg-points`), "30"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`document.querySelector('.modal .result pre') && document.querySelector('.modal .result pre').textContent.includes('70')`),
		)
		if got := s.find(t, "loyalty_account", "points == 70"); len(got) != 1 {
			t.Fatalf("after redeeming 30 of 100 points: %v", got)
		}
		run(t, ctx, "redeeming more than the balance is refused, next to the argument",
			waitJS(`(() => { const i = document.querySelector('#arg-points'); i.focus(); i.select(); return true; })()`),
			chromedp.KeyEvent("\b"),
			chromedp.SendKeys(chromedp.CSS(`#arg-points`), "1000"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`document.querySelector('.modal .error') && document.querySelector('.modal .error').textContent.includes('70 points')`),
		)
		screenshot(t, ctx, "en-plugin-action")
		run(t, ctx, "close", chromedp.KeyEvent("\x1b"), waitJS(`!document.querySelector('.modal')`))
	})

	t.Run("a record's timeline shows its changes and the records that reference it", func(t *testing.T) {
		run(t, ctx, "contact timeline",
			chromedp.Navigate(s.URL+"/records/contact/"+contactID),
			waitJS(`document.querySelector('.timeline .tl-change')`),
			waitJS(`[...document.querySelectorAll('.timeline .tl-record')].some(li => li.textContent.includes('WVWZZZ1JZXW000001'))`),
			waitJS(`[...document.querySelectorAll('.timeline .tl-record a')].some(a => a.getAttribute('href').startsWith('/records/loyalty_account/'))`),
		)
		screenshot(t, ctx, "en-record")
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

	t.Run("Persian on a phone: no horizontal scroll, the menu slides from the right", func(t *testing.T) {
		phone := session(t, b)
		signIn(t, phone, s) // the admin chose Persian: the server keeps it
		run(t, phone, "390x844 in Persian",
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(vehicleURL),
			waitJS(`document.documentElement.dir === 'rtl' && document.querySelector('#f-vin')`),
			waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		)
		screenshot(t, phone, "fa-phone-record")
		run(t, phone, "open the menu",
			chromedp.Click(chromedp.CSS(`.menu-toggle`)),
			waitJS(`(() => { const r = document.querySelector('#sidebar').getBoundingClientRect();
				return document.querySelector('#sidebar').classList.contains('open') && Math.abs(r.right - window.innerWidth) < 2; })()`),
			waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		)
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

	newPassword := "a-new-browser-password-2"
	t.Run("change the password", func(t *testing.T) {
		run(t, ctx, "a wrong current password is refused next to it",
			chromedp.Navigate(s.URL+"/account"),
			chromedp.WaitVisible(chromedp.CSS(`#pw-current`)),
			chromedp.SendKeys(chromedp.CSS(`#pw-current`), "not-the-password"),
			chromedp.SendKeys(chromedp.CSS(`#pw-new`), newPassword),
			chromedp.SendKeys(chromedp.CSS(`#pw-again`), newPassword),
			chromedp.Click(chromedp.CSS(`form.card button[type=submit]`)),
			waitJS(`document.querySelector('#err-current')`),
		)
		run(t, ctx, "the right one changes it",
			waitJS(`(() => { const i = document.querySelector('#pw-current'); i.focus(); i.select(); return true; })()`),
			chromedp.KeyEvent("\b"),
			chromedp.SendKeys(chromedp.CSS(`#pw-current`), adminPassword),
			chromedp.Click(chromedp.CSS(`form.card button[type=submit]`)),
			waitJS(`document.querySelector('#pw-current').value === '' && !document.querySelector('#err-current')`),
		)
	})

	t.Run("sign out, and in with the new password", func(t *testing.T) {
		run(t, ctx, "sign out", openUserMenu(), chromedp.Click(chromedp.CSS(`#sign-out`)),
			chromedp.WaitVisible(chromedp.CSS(`#signin-email`)))
		screenshot(t, ctx, "fa-signin")
		run(t, ctx, "sign in with the new password",
			chromedp.SendKeys(chromedp.CSS(`#signin-email`), adminEmail),
			chromedp.SendKeys(chromedp.CSS(`#signin-password`), newPassword),
			chromedp.Click(chromedp.CSS(`form.signin-card button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#sidebar`)),
		)
	})
}
