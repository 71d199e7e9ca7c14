package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// phoneProblemsJS lists what is wrong with the screen at a phone's width:
// a page wider than the viewport, a visible element past its edges
// (outside a container that scrolls sideways, as the kanban does), and a
// control smaller than 44x44 CSS pixels (a checkbox counts with the label
// around it). Visually hidden elements (clip-path inset(50%)) are skipped.
const phoneProblemsJS = `(() => {
  const W = window.innerWidth, out = [];
  const clipped = (el) => { for (let p = el; p; p = p.parentElement) if (getComputedStyle(p).clipPath.startsWith('inset(50%')) return true; return false; };
  const visible = (el) => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden' && !clipped(el); };
  const scrolls = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
    ' "' + (el.textContent || el.value || '').trim().slice(0, 24) + '"';
  if (document.documentElement.scrollWidth > W) out.push('the page is ' + document.documentElement.scrollWidth + 'px wide');
  for (const el of document.querySelectorAll('main *')) {
    if (!visible(el) || scrolls(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1) out.push('past the edge: ' + name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [tabindex="0"]')) {
    if (!visible(el)) continue;
    let r = el.getBoundingClientRect();
    const lab = el.closest('label');
    if (lab) { const q = lab.getBoundingClientRect(); if (q.width * q.height > r.width * r.height) r = q; }
    if (r.width < 43.5 || r.height < 43.5) out.push('target ' + Math.round(r.width) + 'x' + Math.round(r.height) + ': ' + name(el));
  }
  return out;
})()`

// TestPhoneScreens: at 390x844, in English and in Persian, the record,
// list, kanban and tasks screens scroll only up and down, and every
// control is a 44 px touch target; the list, whose headings are hidden on
// a phone, sorts with a select.
func TestPhoneScreens(t *testing.T) {
	s := startCRMWith(t, "testdata/pipeline.hcl")
	deal := s.newDeal(t, "Camry for Narek Hakobyan, white, 2024, with the winter tyres", "new", "1500000")
	s.newDeal(t, "Niva", "qualified", "900000")
	var me struct{ User record }
	s.mustAPI(t, "GET", "/api/v1/auth/me", nil, &me)
	var c record
	s.mustAPI(t, "POST", "/api/v1/records/contact", map[string]any{"name": "Narek Hakobyan"}, &c)
	s.mustAPI(t, "PATCH", "/api/v1/records/deal/"+deal, map[string]any{"contact": c["id"]}, nil)
	s.mustAPI(t, "POST", "/api/v1/records/task", map[string]any{"title": "Call Narek", "assignee": me.User["id"], "deal": deal,
		"contact": c["id"], "due": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, nil)

	b := browser(t)
	phone := session(t, b)
	signIn(t, phone, s)
	run(t, phone, "390x844", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	screens := []struct{ name, path, ready string }{
		{"record", "/records/deal/" + deal, `document.querySelector('#f-title') && document.querySelector('.timeline')`},
		{"list", "/records/deal", `document.querySelectorAll('table.records tbody tr').length === 2`},
		{"pipeline", "/pipeline", `document.querySelectorAll('.kcard').length === 2`},
		{"tasks", "/tasks", `!!document.querySelector('.task .task-title')`},
	}
	for _, lang := range []string{"en", "fa"} {
		if lang == "fa" {
			run(t, phone, "Persian", openUserMenu(), setSelect(`#pref-language`, "fa"),
				waitJS(`document.documentElement.dir === 'rtl'`), closeUserMenu())
		}
		for _, sc := range screens {
			t.Run(lang+"/"+sc.name, func(t *testing.T) {
				run(t, phone, "open", chromedp.Navigate(s.URL+sc.path), waitJS(sc.ready))
				problems, err := chromedp.Run(phone, chromedp.Evaluate[[]string](phoneProblemsJS))
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range problems {
					t.Error(p)
				}
				if dir := os.Getenv("CRM_PHONE_SHOTS"); dir != "" {
					png, err := chromedp.Run(phone, chromedp.CaptureScreenshot())
					if err == nil {
						os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s.png", lang, sc.name)), png, 0o644)
					}
				}
			})
		}
	}

	t.Run("the list sorts with a select on a phone", func(t *testing.T) {
		run(t, phone, "sort by title",
			chromedp.Navigate(s.URL+"/records/deal"),
			waitJS(`(() => { const s = document.querySelector('#sort-select'); return !!s && getComputedStyle(s).display !== 'none'; })()`),
			setSelect(`#sort-select`, "title"),
			waitJS(`new URLSearchParams(location.search).get('sort') === 'title'`),
			waitJS(`(() => { const r = [...document.querySelectorAll('table.records tbody tr .row-link')].map(a => a.textContent);
				return r.length === 2 && r[0].startsWith('Camry') && r[1] === 'Niva'; })()`),
			setSelect(`#sort-select`, "-title"),
			waitJS(`(() => { const r = [...document.querySelectorAll('table.records tbody tr .row-link')].map(a => a.textContent);
				return r.length === 2 && r[0] === 'Niva'; })()`),
		)
	})
}
