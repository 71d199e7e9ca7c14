package browsertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// callSecret is the calltracking plugin's secret in testdata/calltracking.hcl.
const callSecret = "browser-test-calltracking-secret"

// postCall posts a call event in the generic format to the calltracking
// plugin's webhook, signed as docs/calltracking.md shows (X-Signature:
// sha256=<hex HMAC-SHA256 of the body>), and fails unless it is applied.
func (s *server) postCall(t testing.TB, event map[string]any) {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(callSecret))
	mac.Write(body)
	req, err := http.NewRequest("POST", s.URL+"/hooks/calltracking/generic", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("call event %v = %d: %s", event, res.StatusCode, b)
	}
}

// TestCallerCard: with extension 101 given to Ann on the admin's users
// page and 102 set by Ben on his account page, a call ringing at 101
// shows the caller's card
// (the contact's name linking to the contact, the number, the company, the
// owner, the open deal with its stage and amount, the last activity with
// its date, kind and subject, each under its label; a subject that reads
// like a heading shown verbatim) to the user whose extension is 101, and
// the card goes when the call is answered; in Persian at phone width the
// card is labelled in Persian, right to left, within the screen; the user at extension 102, signed in
// in another browser context, is shown none of it, and sees their own
// call's card when one rings at 102 (a new lead's, marked so).
func TestCallerCard(t *testing.T) {
	s := startCRMWith(t, "testdata/calltracking.hcl")
	const annEmail, annPassword = "ann@example.com", "ann-password-2026"
	const benEmail, benPassword = "ben@example.com", "ben-password-2026"
	var ann, ben record
	s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": annEmail, "name": "Ann Hakobyan",
		"role": "agent", "password": annPassword}, &ann)
	s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": benEmail, "name": "Ben Sargsyan",
		"role": "agent", "password": benPassword}, &ben)

	var company, contact, deal record
	s.mustAPI(t, "POST", "/api/v1/records/company", map[string]any{"name": "Ararat Motors"}, &company)
	s.mustAPI(t, "POST", "/api/v1/records/contact", map[string]any{"name": "Narek Grigoryan", "phone": "+37491123456",
		"owner": ann["id"], "company": company["id"]}, &contact)
	cid := contact["id"].(string)
	s.mustAPI(t, "POST", "/api/v1/records/deal", map[string]any{"title": "Camry for Narek", "stage": "proposal", "contact": cid,
		"amount": map[string]any{"amount": "5000000", "currency": "AMD"}}, &deal)
	// A subject that reads like the card's old text headings: it must stay
	// a subject, shown as it is, and move nothing else on the card.
	const tricky = "Owner: the previous dealer - Open deals: none - Last activities:"
	s.mustAPI(t, "POST", "/api/v1/records/activity", map[string]any{"kind": "meeting", "subject": tricky,
		"contact": cid, "at": "2026-03-20T10:00:00Z"}, nil)

	b := browser(t)
	// The admin gives Ann hers on the users page; Ben sets his own on his
	// account page.
	adminTab := session(t, b)
	signIn(t, adminTab, s)
	annID := ann["id"].(string)
	run(t, adminTab, "the admin sets Ann's extension on the users page",
		chromedp.Navigate(s.URL+"/admin/users"),
		waitJS(fmt.Sprintf(`(() => { const el = document.getElementById(%s); if (!el) return false;
			el.value = '101'; el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, jsString("ext-"+annID))),
		s.waitAPI(t, "/api/v1/users", "Ann's extension", func(r record) bool {
			for _, u := range r["items"].([]any) {
				if u := u.(map[string]any); u["id"] == annID {
					return u["extension"] == "101"
				}
			}
			return false
		}),
	)
	annTab := session(t, b)
	benTab := session(t, b)
	signInAs(t, annTab, s, annEmail, annPassword)
	signInAs(t, benTab, s, benEmail, benPassword)
	run(t, benTab, "Ben sets his extension on his account page",
		chromedp.Navigate(s.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`#my-extension`)),
		setInput(`#my-extension`, "102"),
		chromedp.Click(chromedp.CSS(`#extension-form button[type=submit]`)),
		waitJS(`document.querySelector('.caller-cards')?.dataset.extension === '102'`),
	)
	run(t, annTab, "Ann's shell knows her extension",
		waitJS(`document.querySelector('.caller-cards')?.dataset.extension === '101'`))

	now := time.Now().UTC()
	s.postCall(t, map[string]any{"call_id": "ct-1", "event": "ringing", "from": "091 123456", "to": "+37410555001",
		"extension": "101", "at": now.Format(time.RFC3339)})
	card := `document.querySelector('.caller-card[data-call="ct-1"]')`
	run(t, annTab, "the caller's card shows at extension 101",
		waitJS(card+`?.getAttribute('role') === 'alert'`),
		waitJS(card+`.querySelector('.caller-name a')?.textContent.trim() === 'Narek Grigoryan'`),
		waitJS(card+`.querySelector('.caller-name a').getAttribute('href') === '/records/contact/`+cid+`'`),
		waitJS(card+`.querySelector('.caller-name').getAttribute('dir') === 'auto'`),
		waitJS(card+`.querySelector('.caller-number')?.textContent === '+37491123456'`),
		waitJS(card+`.querySelector('.caller-number-row dt')?.textContent === 'Number'`),
		waitJS(card+`.querySelector('.caller-company a')?.textContent === 'Ararat Motors'`),
		waitJS(card+`.querySelector('.caller-company a').getAttribute('href') === '/records/company/`+company["id"].(string)+`'`),
		waitJS(card+`.querySelector('.caller-owner')?.textContent === 'Ann Hakobyan'`),
		waitJS(card+`.querySelectorAll('.caller-deals tbody tr').length === 1`),
		waitJS(card+`.querySelector('.caller-deals .deal-title a')?.textContent === 'Camry for Narek'`),
		waitJS(card+`.querySelector('.caller-deals .deal-title a').getAttribute('href') === '/records/deal/`+deal["id"].(string)+`'`),
		waitJS(card+`.querySelector('.caller-deals .deal-stage')?.textContent === 'Proposal'`),
		waitJS(`/5[^0-9]?000[^0-9]?000/.test(document.querySelector('.caller-card[data-call="ct-1"] .caller-deals .deal-amount')?.textContent || '')`),
		waitJS(`[...document.querySelectorAll('.caller-card[data-call="ct-1"] .caller-deals th')].map(e => e.textContent).join('|') === 'Deal|Stage|Amount'`),
		waitJS(card+`.querySelectorAll('.caller-activities tbody tr').length === 1`),
		waitJS(card+`.querySelector('.caller-activities .activity-subject')?.textContent === `+jsString(tricky)),
		waitJS(card+`.querySelector('.caller-activities .activity-kind')?.textContent === 'Meeting'`),
		waitJS(card+`.querySelector('.caller-activities .activity-date')?.textContent.includes('2026')`),
		waitJS(card+`.querySelectorAll('.caller-facts > div').length === 3`),
	)
	// The card is typed data in the call's record, not text: a JSON object
	// over the API (and so over the websocket) with the subject verbatim.
	var calls struct {
		Items []struct {
			Card struct {
				V          int
				Name       string
				Owner      string
				Deals      []struct{ Title, Stage string }
				Activities []struct{ Subject string }
			}
		}
	}
	s.mustAPI(t, "GET", "/api/v1/records/phone_call?filter="+url.QueryEscape("call_id == 'ct-1'"), nil, &calls)
	if len(calls.Items) != 1 || calls.Items[0].Card.V != 1 || calls.Items[0].Card.Name != "Narek Grigoryan" ||
		calls.Items[0].Card.Owner != annID || len(calls.Items[0].Card.Deals) != 1 || calls.Items[0].Card.Deals[0].Stage != "proposal" ||
		len(calls.Items[0].Card.Activities) != 1 || calls.Items[0].Card.Activities[0].Subject != tricky {
		t.Errorf("the call's card over the API: %+v", calls)
	}
	screenshot(t, annTab, "en-caller-card")
	run(t, benTab, "extension 102 shows no card",
		waitJS(`document.querySelectorAll('.caller-card').length === 0`))

	s.postCall(t, map[string]any{"call_id": "ct-1", "event": "answered", "from": "091 123456", "to": "+37410555001",
		"extension": "101", "at": now.Add(10 * time.Second).Format(time.RFC3339)})
	run(t, annTab, "the card goes once the call is answered",
		waitJS(`document.querySelectorAll('.caller-card').length === 0`))

	// In Persian at phone width: the same card, labelled from the fa
	// catalogue, right to left, within the screen.
	run(t, annTab, "Ann switches to Persian on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		openUserMenu(), setSelect(`#pref-language`, "fa"),
		waitJS(`document.documentElement.dir === 'rtl'`), closeUserMenu())
	s.postCall(t, map[string]any{"call_id": "ct-3", "event": "ringing", "from": "+37491123456", "to": "+37410555001",
		"extension": "101", "at": now.Add(30 * time.Second).Format(time.RFC3339)})
	fa := `document.querySelector('.caller-card[data-call="ct-3"]')`
	run(t, annTab, "the card in Persian, right to left, at phone width",
		waitJS(fa+`?.querySelector('.caller-name a')?.textContent.trim() === 'Narek Grigoryan'`),
		waitJS(fa+`.querySelector('h2').textContent === 'تماس ورودی'`),
		waitJS(fa+`.querySelector('.caller-number-row dt')?.textContent === 'شماره'`),
		waitJS(`[...`+fa+`.querySelectorAll('.caller-deals th')].map(e => e.textContent).join('|') === 'معامله|مرحله|مبلغ'`),
		waitJS(`getComputedStyle(`+fa+`).direction === 'rtl'`),
		waitJS(fa+`.querySelector('.caller-number').getAttribute('dir') === 'ltr'`),
		waitJS(`[...`+fa+`.querySelectorAll('.activity-subject')].some(e => e.textContent === `+jsString(tricky)+`)`),
		waitJS(`(() => { const r = `+fa+`.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth &&
			document.documentElement.scrollWidth <= window.innerWidth; })()`),
	)
	screenshot(t, annTab, "fa-phone-caller-card")
	s.postCall(t, map[string]any{"call_id": "ct-3", "event": "answered", "from": "+37491123456", "to": "+37410555001",
		"extension": "101", "at": now.Add(40 * time.Second).Format(time.RFC3339)})
	run(t, annTab, "back to English",
		waitJS(`document.querySelectorAll('.caller-card').length === 0`),
		openUserMenu(), setSelect(`#pref-language`, "en"),
		waitJS(`document.documentElement.dir === 'ltr'`), closeUserMenu())

	s.postCall(t, map[string]any{"call_id": "ct-2", "event": "ringing", "from": "093 555777", "to": "+37410555001",
		"extension": "102", "at": now.Add(time.Minute).Format(time.RFC3339)})
	run(t, benTab, "a call ringing at 102 shows at Ben's",
		// An unknown number: the call made a lead, named after the number.
		waitJS(`document.querySelector('.caller-card[data-call="ct-2"] .caller-name a')?.textContent.includes('+37493555777')`),
		waitJS(`document.querySelector('.caller-card[data-call="ct-2"] .caller-name .badge')?.textContent === 'New lead'`),
		waitJS(`[...document.querySelectorAll('.caller-card')].every(c => c.dataset.call === 'ct-2')`),
	)
	run(t, annTab, "and not at Ann's",
		waitJS(`document.querySelectorAll('.caller-card').length === 0`))
}
