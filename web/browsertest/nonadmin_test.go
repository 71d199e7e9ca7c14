package browsertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// setInput sets a text input's value as typing would (an input event).
func setInput(sel, value string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false;
		el.value = %s; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, jsString(sel), jsString(value)))
}

// TestSalesUser drives the UI as a user of the fixture's "sales" role
// (own_only): the deals list shows their deal, they edit it, they see no
// admin entry, they give their task to a colleague chosen from the user
// directory, and a colleague's deal is not shown: the page says in a
// sentence that it does not exist or the role may not see it.
func TestSalesUser(t *testing.T) {
	s := startCRMWith(t, "testdata/pipeline.hcl")
	const samEmail, samPassword = "sam@example.com", "sam-password-2026"
	var sam, nora record
	s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": samEmail, "name": "Sam Petrosyan",
		"role": "sales", "password": samPassword}, &sam)
	s.mustAPI(t, "POST", "/api/v1/users", map[string]string{"email": "nora@example.com", "name": "Nora Avetisyan",
		"role": "sales", "password": "nora-password-2026"}, &nora)
	var login struct{ Token string }
	s.mustAPI(t, "POST", "/api/v1/auth/login", map[string]string{"email": samEmail, "password": samPassword}, &login)
	asSam := func(method, path string, body, out any) {
		t.Helper()
		if st := s.apiAs(t, login.Token, method, path, body, out); st >= 300 {
			t.Fatalf("as Sam: %s %s = %d", method, path, st)
		}
	}
	var samDeal, samTask, adminDeal record
	asSam("POST", "/api/v1/records/deal", map[string]any{"title": "Camry for Narek", "stage": "new"}, &samDeal)
	asSam("POST", "/api/v1/records/task", map[string]any{"title": "Call Narek back", "assignee": sam["id"],
		"due": time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)}, &samTask)
	s.mustAPI(t, "POST", "/api/v1/records/deal", map[string]any{"title": "Lexus for Aram", "stage": "new"}, &adminDeal)
	samDealID, taskID, adminDealID := samDeal["id"].(string), samTask["id"].(string), adminDeal["id"].(string)

	b := browser(t)
	ctx := session(t, b)
	signInAs(t, ctx, s, samEmail, samPassword)

	t.Run("no admin entries", func(t *testing.T) {
		run(t, ctx, "the sidebar and the user menu",
			waitJS(`[...document.querySelectorAll('#sidebar a')].some(a => a.getAttribute('href') === '/tasks')`),
			openUserMenu(),
			waitJS(`![...document.querySelectorAll('a[href]')].some(a => a.getAttribute('href').startsWith('/admin'))`),
			closeUserMenu(),
		)
	})

	t.Run("the deals list and an edit of their own deal", func(t *testing.T) {
		run(t, ctx, "the list shows Sam's deal",
			chromedp.Navigate(s.URL+"/records/deal"),
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('Camry for Narek'))`),
		)
		others, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('Lexus for Aram'))`))
		if err != nil {
			t.Fatal(err)
		}
		if others {
			t.Error("the own_only user's deals list shows the admin's deal")
		}
		run(t, ctx, "open it, change the title, save",
			chromedp.Navigate(s.URL+"/records/deal/"+samDealID),
			waitJS(`document.querySelector('#f-title') && document.querySelector('#f-title').value === 'Camry for Narek'`),
			setInput(`#f-title`, "Camry XV70 for Narek"),
			waitJS(`!document.querySelector('#save-record').disabled`),
			chromedp.Click(chromedp.CSS(`#save-record`)),
			s.waitAPI(t, "/api/v1/records/deal/"+samDealID, "the new title is stored", func(v record) bool { return v["title"] == "Camry XV70 for Narek" }),
			waitJS(`!document.querySelector('.record-form .alert')`),
		)
	})

	t.Run("reassign their task through the user directory", func(t *testing.T) {
		noraID := nora["id"].(string)
		run(t, ctx, "give the task to Nora",
			chromedp.Navigate(s.URL+"/tasks"),
			waitJS(`!!document.querySelector('.task[data-id=`+jsString(taskID)+`]')`),
			// The directory gives a non-admin the colleagues' names.
			waitJS(`[...document.querySelectorAll('#assign-`+taskID+` option')].some(o => o.value === `+jsString(noraID)+` && o.textContent.includes('Nora Avetisyan'))`),
			setSelect(`#assign-`+taskID, noraID),
			waitJS(`!document.querySelector('.task[data-id=`+jsString(taskID)+`]')`),
			s.waitAPI(t, "/api/v1/records/task/"+taskID, "the task is Nora's", func(v record) bool { return v["assignee"] == noraID }),
		)
	})

	t.Run("a colleague's deal is not shown, and the page says why", func(t *testing.T) {
		// own_only binds the role to its own records of the entities it
		// writes, for reading too: the colleague's deal answers 404.
		run(t, ctx, "open the admin's deal",
			chromedp.Navigate(s.URL+"/records/deal/"+adminDealID),
			waitJS(`!!(document.querySelector('main .alert') || document.querySelector('#f-title'))`),
		)
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#f-title')`))
		if err != nil {
			t.Fatal(err)
		}
		if shown {
			t.Fatal("an own_only user was shown a colleague's deal")
		}
		msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main .alert[role=alert]').textContent.trim()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) < 10 || strings.HasPrefix(msg, "{") || strings.HasPrefix(msg, "HTTP") {
			t.Errorf("the error shown is %q, want a sentence", msg)
		}
		t.Logf("shown: %s", msg)
		var v record
		s.mustAPI(t, "GET", "/api/v1/records/deal/"+adminDealID, nil, &v)
		if v["title"] != "Lexus for Aram" {
			t.Errorf("the admin's deal was changed: %v", v["title"])
		}
	})
}
