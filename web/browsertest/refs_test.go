package browsertest

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// goTo moves the app to path without a reload
// (as a link does), so what the page cached stays.
func goTo(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`history.pushState(null, '', %s); dispatchEvent(new PopStateEvent('popstate'))`, jsString(path)))
}

// TestRefTitlesBatched: a list of 20 deals referring to 20 contacts asks
// for the contacts' titles in one request (GET /records/contact with
// filter id in [...]), counted from the browser's network events, and
// asks again for none when the list is shown again.
func TestRefTitlesBatched(t *testing.T) {
	s := startCRMWith(t, "testdata/pipeline.hcl")
	for i := range 20 {
		var c struct{ ID string }
		s.mustAPI(t, "POST", "/api/v1/records/contact", map[string]any{"name": fmt.Sprintf("Buyer %02d", i)}, &c)
		s.mustAPI(t, "POST", "/api/v1/records/deal", map[string]any{"title": fmt.Sprintf("Deal %02d", i), "stage": "new", "contact": c.ID}, nil)
	}
	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)

	var (
		mu       sync.Mutex
		contacts []string // the URLs of requests for contacts' titles
	)
	// A request for titles reads one contact (the old way) or filters by id;
	// the home page's count of contacts, still in flight after the sign-in,
	// is neither.
	forTitles := func(raw string) bool {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		return strings.HasPrefix(u.Path, "/api/v1/records/contact/") ||
			u.Path == "/api/v1/records/contact" && strings.Contains(u.Query().Get("filter"), "id")
	}
	events := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if u := ev.Request.URL; forTitles(u) {
				mu.Lock()
				contacts = append(contacts, u)
				mu.Unlock()
			}
		}
	}()
	count := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), contacts...)
	}
	allNames := `(() => { const rows = [...document.querySelectorAll('table.records tbody tr')];
		return rows.length === 20 && rows.every(r => /Buyer \d\d/.test(r.textContent)); })()`
	run(t, ctx, "the deals list shows every buyer's name", goTo("/records/deal"), waitJS(allNames))
	got := count()
	if len(got) != 1 {
		t.Fatalf("%d requests for the contacts' titles, want 1:\n%s", len(got), strings.Join(got, "\n"))
	}
	u, err := url.Parse(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if f := u.Query().Get("filter"); !strings.HasPrefix(f, "id in [") || strings.Count(f, ",") != 19 {
		t.Errorf("the request's filter is %q, want id in [20 ids]", f)
	}
	run(t, ctx, "away and back", goTo("/tasks"), waitJS(`!document.querySelector('table.records')`),
		goTo("/records/deal"), waitJS(allNames))
	if got := count(); len(got) != 1 {
		t.Errorf("showing the list again asked for titles again:\n%s", strings.Join(got, "\n"))
	}
}
