package browsertest

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAttributionReport runs the calltracking plugin's attribution report
// from the campaigns' list: two unknown callers ring spring_ads' number
// (two leads, one call missed), a won deal of 7,000,000 AMD has the
// campaign as its source and the campaign cost 700,000 AMD, so the
// report's table has spring_ads at 350,000.00 AMD per lead and a return
// on ad spend of 10.00, labelled and formatted in English, then in
// Persian, right to left, within a phone's 390 px. The SLA report shows
// its SLA and counts as figures above its table.
func TestAttributionReport(t *testing.T) {
	s := startCRMWith(t, "testdata/calltracking.hcl")
	amd := func(a string) map[string]any { return map[string]any{"amount": a, "currency": "AMD"} }
	s.mustAPI(t, "POST", "/api/v1/records/ad_campaign", map[string]any{"name": "spring_ads", "cost": amd("700000")}, nil)
	at := time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC)
	s.postCall(t, map[string]any{"call_id": "r-1", "event": "ringing", "from": "091 123456", "to": "+37410555001", "at": at.Format(time.RFC3339)})
	s.postCall(t, map[string]any{"call_id": "r-1", "event": "answered", "from": "091 123456", "to": "+37410555001", "at": at.Add(5 * time.Second).Format(time.RFC3339)})
	s.postCall(t, map[string]any{"call_id": "r-1", "event": "ended", "from": "091 123456", "to": "+37410555001", "at": at.Add(time.Minute).Format(time.RFC3339)})
	s.postCall(t, map[string]any{"call_id": "r-2", "event": "ringing", "from": "093 555777", "to": "+37410555001", "at": at.Add(time.Hour).Format(time.RFC3339)})
	s.postCall(t, map[string]any{"call_id": "r-2", "event": "missed", "from": "093 555777", "to": "+37410555001", "at": at.Add(time.Hour + 30*time.Second).Format(time.RFC3339)})
	s.mustAPI(t, "POST", "/api/v1/records/deal", map[string]any{"title": "Camry", "source": "spring_ads", "stage": "won", "amount": amd("7000000")}, nil)

	ctx := session(t, browser(t))
	signIn(t, ctx, s)
	button := `.list-actions button[data-action="calltracking.attribution_report"]`
	table := `.modal .result-table table.report`
	heads := `[...document.querySelectorAll('` + table + ` thead th')].map(th => th.textContent.trim()).join('|')`
	cell := func(col string) string {
		return `document.querySelector('` + table + ` tbody tr td[data-col="` + col + `"]')`
	}
	run(t, ctx, "run the report from the campaigns' list",
		// The plugin marks the calls as leads as it processes them; the
		// report counts them once both are.
		s.waitAPI(t, "/api/v1/records/phone_call?filter="+url.QueryEscape("lead == true"), "two leads", func(r record) bool {
			items, _ := r["items"].([]any)
			return len(items) == 2
		}),
		chromedp.Navigate(s.URL+"/records/ad_campaign"),
		waitJS(`!!document.querySelector(`+jsString(button)+`)`),
		waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'Attribution report'`),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.CSS(`.modal button[type=submit]`)),
		chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
		waitJS(`!!document.querySelector(`+jsString(table)+`)`),
	)
	run(t, ctx, "the campaigns' table: labelled columns, cost per lead as money, ROAS as a number",
		waitJS(`document.querySelector('`+table+` caption').textContent.trim() === 'Attribution by campaign'`),
		waitJS(heads+` === 'Campaign|Calls|Missed|Leads|Deals|Won|Revenue|Ad cost|Cost per lead|Return on ad spend'`),
		waitJS(cell("campaign")+`.textContent.trim() === 'spring_ads'`),
		waitJS(cell("calls")+`.textContent.trim() === '2'`),
		waitJS(cell("leads")+`.textContent.trim() === '2'`),
		waitJS(cell("cost_per_lead")+`.textContent.includes('350,000.00')`),
		waitJS(cell("cost_per_lead")+`.textContent.includes('AMD') || `+cell("cost_per_lead")+`.textContent.includes('֏')`),
		waitJS(cell("cost_per_lead")+`.classList.contains('num')`),
		waitJS(cell("revenue")+`.textContent.includes('7,000,000.00')`),
		waitJS(cell("roas")+`.textContent.trim() === '10'`),
		waitJS(cell("roas")+`.classList.contains('num')`),
	)
	screenshot(t, ctx, "en-attribution-report")

	sla := `.list-actions button[data-action="calltracking.sla_report"]`
	figure := func(name string) string {
		return `document.querySelector('.modal .result-figures [data-figure="` + name + `"]')`
	}
	run(t, ctx, "the SLA report from the calls' list: its figures above the table of the call not returned",
		chromedp.KeyEvent("\x1b"),
		waitJS(`!document.querySelector('.modal')`),
		chromedp.Navigate(s.URL+"/records/phone_call"),
		waitJS(`!!document.querySelector(`+jsString(sla)+`)`),
		chromedp.Click(chromedp.CSS(sla)),
		chromedp.WaitVisible(chromedp.CSS(`.modal button[type=submit]`)),
		chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
		waitJS(`!!document.querySelector(`+jsString(table)+`)`),
		waitJS(figure("sla")+`.querySelector('dt').textContent.trim() === 'SLA'`),
		waitJS(figure("sla")+`.querySelector('dd').textContent.trim() === '2h0m0s'`),
		waitJS(figure("missed")+`.querySelector('dt').textContent.trim() === 'Missed'`),
		waitJS(figure("missed")+`.querySelector('dd').textContent.trim() === '1'`),
		waitJS(figure("returned")+`.querySelector('dd').textContent.trim() === '0'`),
		waitJS(`document.querySelectorAll('`+table+` tbody tr').length === 1`),
		waitJS(cell("number")+`.textContent.includes('93')`),
	)
	screenshot(t, ctx, "en-sla-report")

	run(t, ctx, "in Persian on a phone",
		chromedp.KeyEvent("\x1b"),
		waitJS(`!document.querySelector('.modal')`),
		chromedp.Navigate(s.URL+"/records/ad_campaign"),
		waitJS(`!!document.querySelector(`+jsString(button)+`)`),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		openUserMenu(), setSelect(`#pref-language`, "fa"),
		waitJS(`document.documentElement.dir === 'rtl'`), closeUserMenu(),
		waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'گزارش انتساب'`),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitVisible(chromedp.CSS(`.modal button[type=submit]`)),
		chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
		waitJS(`!!document.querySelector(`+jsString(table)+`)`),
	)
	run(t, ctx, "the table labelled in Persian, Persian digits, right to left, scrolling in its box",
		waitJS(`document.querySelector('`+table+` caption').textContent.trim() === 'انتساب بر اساس کمپین'`),
		waitJS(heads+`.startsWith('کمپین|تماس‌ها|بی‌پاسخ|سرنخ‌ها|')`),
		waitJS(heads+`.endsWith('|هزینه به ازای هر سرنخ|بازگشت هزینهٔ تبلیغ')`),
		waitJS(cell("cost_per_lead")+`.textContent.includes('۳۵۰٬۰۰۰')`),
		waitJS(`!/[0-9]/.test(`+cell("cost_per_lead")+`.textContent)`),
		waitJS(cell("roas")+`.textContent.trim() === '۱۰'`),
		waitJS(`getComputedStyle(document.querySelector('.modal .result-table')).direction === 'rtl'`),
		waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
		waitJS(`(() => { const r = document.querySelector('.modal .result-table').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth; })()`),
	)
	screenshot(t, ctx, "fa-phone-attribution-report")
}
