package browsertest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// pick chooses the record titled title in the ref picker of input sel:
// it types the title and picks the search hit that is exactly it.
func pick(sel, title string) chromedp.Action[chromedp.Void] {
	hit := fmt.Sprintf(`[...document.querySelectorAll('.modal .picker .results li')].find(li => li.textContent.trim() === %s)`, jsString(title))
	return chromedp.Steps(
		chromedp.SendKeys(chromedp.CSS(sel), title),
		waitJS(`!!`+hit),
		waitJS(`(() => { const li = `+hit+`; if (!li) return false; li.dispatchEvent(new MouseEvent('mousedown', {bubbles: true})); return true; })()`),
		waitJS(fmt.Sprintf(`(() => { const c = document.querySelector(%s).closest('.picker').querySelector('.chip'); return !!c && c.textContent.includes(%s); })()`, jsString(sel), jsString(title))),
	)
}

// TestAccounting drives the accounting plugin from the browser: one
// payment of a company allocated to two of its invoices, a line added to
// a draft invoice (its totals follow), and the revenue-by-month report
// shown as a table, also on a phone's 390 px.
func TestAccounting(t *testing.T) {
	s := startCRMWith(t, "testdata/accounting.hcl")
	var co record
	s.mustAPI(t, "POST", "/api/v1/records/company", map[string]any{"name": "Ararat Motors"}, &co)
	issue := func(title, amount string) record {
		var deal record
		s.mustAPI(t, "POST", "/api/v1/records/deal", map[string]any{"title": title, "stage": "won", "company": co["id"],
			"amount": map[string]string{"amount": amount, "currency": "AMD"}}, &deal)
		var res struct{ Result record }
		s.mustAPI(t, "POST", "/api/v1/plugins/accounting/actions/issue_invoice",
			map[string]any{"entity": "deal", "id": deal["id"], "args": map[string]any{"issue_date": "2026-03-05"}}, &res)
		return res.Result
	}
	a, b := issue("Oil change", "100"), issue("Camry service", "1000.01") // gross 120.00 and 1200.01
	if a["number"] != "INV-2026-0001" || b["number"] != "INV-2026-0002" {
		t.Fatalf("invoices %v and %v", a["number"], b["number"])
	}
	var draft record
	s.mustAPI(t, "POST", "/api/v1/records/invoice", map[string]any{"status": "draft", "currency": "AMD", "company": co["id"]}, &draft)

	ctx := session(t, browser(t))
	signIn(t, ctx, s)

	t.Run("one payment over two invoices, from the company's page", func(t *testing.T) {
		button := `.record-actions button[data-action="accounting.record_payment"]`
		run(t, ctx, "open the payment dialog",
			chromedp.Navigate(s.URL+"/records/company/"+co["id"].(string)),
			waitJS(`!!document.querySelector(`+jsString(button)+`)`),
			waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'Record payment'`),
			chromedp.Click(chromedp.CSS(button)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-amount`)),
			// The arguments are labelled; the invoices paid are rows.
			waitJS(`document.querySelector('label[for="arg-amount"]').textContent.includes('Amount paid')`),
			waitJS(`document.querySelector('[data-arg="allocations"] .label').textContent.includes('Invoices paid')`),
			waitJS(`document.querySelectorAll('.modal .item-row').length === 1`),
			waitJS(`document.querySelector('label[for="arg-allocations-0-amount"]').textContent.includes('Part of the payment')`),
		)
		run(t, ctx, "fill in the payment and its two parts",
			chromedp.SendKeys(chromedp.CSS(`#arg-amount`), "1000.00"),
			pick(`#arg-allocations-0-invoice`, "INV-2026-0001"),
			chromedp.SendKeys(chromedp.CSS(`#arg-allocations-0-amount`), "120.00"),
			chromedp.Click(chromedp.CSS(`.modal .add-row`)),
			waitJS(`document.querySelectorAll('.modal .item-row').length === 2`),
			pick(`#arg-allocations-1-invoice`, "INV-2026-0002"),
			chromedp.SendKeys(chromedp.CSS(`#arg-allocations-1-amount`), "880.00"),
		)
		run(t, ctx, "a part larger than its invoice's balance is refused at that row",
			setInput(`#arg-amount`, "1420.00"),
			setInput(`#arg-allocations-1-amount`, "1300.00"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`(() => { const e = document.querySelector('.modal .item-row[data-row="1"] [data-item="amount"] .error');
				return !!e && e.textContent.includes('more than the balance of invoice INV-2026-0002'); })()`),
			setInput(`#arg-amount`, "1000.00"),
			setInput(`#arg-allocations-1-amount`, "880.00"),
		)
		if pm := s.find(t, "payment", ""); len(pm) != 0 {
			t.Fatalf("a refused payment was stored: %v", pm)
		}
		screenshot(t, ctx, "en-payment-two-invoices")
		run(t, ctx, "record it",
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`!!document.querySelector('.modal .result')`),
			// The answer links to the payment and the invoices it paid.
			waitJS(`document.querySelectorAll('.modal .result-records a[href^="/records/invoice/"]').length === 2`),
			chromedp.KeyEvent("\x1b"),
			waitJS(`!document.querySelector('.modal')`),
		)
		for _, c := range []struct {
			inv                   record
			status, paid, balance string
		}{{a, "paid", "120.00", "0.00"}, {b, "partly_paid", "880.00", "320.01"}} {
			var got record
			s.mustAPI(t, "GET", "/api/v1/records/invoice/"+c.inv["id"].(string), nil, &got)
			paid, _ := got["paid"].(map[string]any)
			bal, _ := got["balance"].(map[string]any)
			if got["status"] != c.status || paid["amount"] != c.paid || bal["amount"] != c.balance {
				t.Errorf("invoice %v: %v paid %v balance %v; want %s %s %s", got["number"], got["status"], paid, bal, c.status, c.paid, c.balance)
			}
		}
		if pm := s.find(t, "payment", "status == 'recorded'"); len(pm) != 1 {
			t.Errorf("payments: %v", pm)
		}
	})

	t.Run("a line added to a draft invoice", func(t *testing.T) {
		button := `.record-actions button[data-action="accounting.add_invoice_line"]`
		run(t, ctx, "open the line dialog on the draft's page",
			chromedp.Navigate(s.URL+"/records/invoice/"+draft["id"].(string)),
			waitJS(`!!document.querySelector(`+jsString(button)+`)`),
			waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'Add line'`),
			chromedp.Click(chromedp.CSS(button)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-quantity`)),
			waitJS(`document.querySelector('label[for="arg-quantity"]').textContent.includes('Quantity')`),
		)
		run(t, ctx, "a quantity of -1 is refused next to it",
			chromedp.Click(chromedp.CSS(`.modal .more-args summary`)),
			chromedp.SendKeys(chromedp.CSS(`#arg-description`), "Wipers"),
			chromedp.SendKeys(chromedp.CSS(`#arg-quantity`), "-1"),
			chromedp.SendKeys(chromedp.CSS(`#arg-unit_price`), "333.33"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`(() => { const e = document.querySelector('.modal [data-arg="quantity"] .error'); return !!e && e.textContent.includes('more than 0'); })()`),
		)
		run(t, ctx, "3 at 333.33 less 10 %",
			setInput(`#arg-quantity`, "3"),
			chromedp.SendKeys(chromedp.CSS(`#arg-discount`), "10"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`document.querySelectorAll('.modal .result-records a[href^="/records/invoice_line/"]').length === 1`),
			chromedp.KeyEvent("\x1b"),
			waitJS(`!document.querySelector('.modal')`),
			// The draft's totals follow on its page: 899.99 + 180.00 VAT.
			waitJS(`[...document.querySelectorAll('.record-form input')].some(i => i.value === '1079.99')`),
		)
		lines := s.find(t, "invoice_line", "invoice == '"+draft["id"].(string)+"'")
		if len(lines) != 1 || lines[0]["description"] != "Wipers" || lines[0]["gross"].(map[string]any)["amount"] != "1079.99" {
			t.Errorf("the draft's lines: %v", lines)
		}
	})

	t.Run("revenue by month is a table", func(t *testing.T) {
		button := `.list-actions button[data-action="accounting.revenue"]`
		table := `.modal .result-table table.report`
		run(t, ctx, "run the report from the invoices list",
			chromedp.Navigate(s.URL+"/records/invoice"),
			waitJS(`!!document.querySelector(`+jsString(button)+`)`),
			chromedp.Click(chromedp.CSS(button)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-by`)),
			waitJS(`document.querySelector('label[for="arg-by"]').textContent.includes('Group by')`),
			setSelect(`#arg-by`, "month"),
			setInput(`#arg-from`, "2026-01-01"),
			setInput(`#arg-to`, "2026-12-31"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`!!document.querySelector(`+jsString(table)+`)`),
		)
		heads := `[...document.querySelectorAll('` + table + ` thead th')].map(th => th.textContent.trim()).join('|')`
		run(t, ctx, "labelled columns, a row per month, money in the locale, the totals",
			waitJS(heads+` === 'Month|Currency|Invoices|Net|Total'`),
			waitJS(`document.querySelector('`+table+` tbody tr td[data-col="group"]').textContent.trim() === '2026-03'`),
			waitJS(`document.querySelector('`+table+` tbody td[data-col="gross"]').textContent.includes('1,320.01')`),
			waitJS(`document.querySelector('`+table+` tbody td[data-col="gross"]').classList.contains('num')`),
			waitJS(`document.querySelector('`+table+` tfoot td[data-col="group"]').textContent.trim() === 'Total'`),
			waitJS(`document.querySelector('`+table+` tfoot td[data-col="net"]').textContent.includes('1,100.01')`),
		)
		screenshot(t, ctx, "en-revenue-by-month")
		run(t, ctx, "in Russian: the button, the arguments and the columns",
			chromedp.KeyEvent("\x1b"),
			waitJS(`!document.querySelector('.modal')`),
			openUserMenu(),
			setSelect(`#pref-language`, "ru"),
			closeUserMenu(),
			waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'Выручка'`),
			chromedp.Click(chromedp.CSS(button)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-by`)),
			waitJS(`document.querySelector('label[for="arg-by"]').textContent.includes('Группировать по')`),
			setSelect(`#arg-by`, "month"),
			setInput(`#arg-from`, "2026-01-01"),
			setInput(`#arg-to`, "2026-12-31"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(heads+` === 'Месяц|Валюта|Счета|Без НДС|Итого'`),
			waitJS(`document.querySelector('`+table+` tfoot td[data-col="group"]').textContent.trim() === 'Итого'`),
		)
		run(t, ctx, "back to English", chromedp.KeyEvent("\x1b"), waitJS(`!document.querySelector('.modal')`),
			openUserMenu(), setSelect(`#pref-language`, "en"), closeUserMenu(),
			waitJS(`document.querySelector(`+jsString(button)+`).textContent.trim() === 'Revenue'`),
			chromedp.Click(chromedp.CSS(button)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-by`)),
			setSelect(`#arg-by`, "month"),
			setInput(`#arg-from`, "2026-01-01"),
			setInput(`#arg-to`, "2026-12-31"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`!!document.querySelector(`+jsString(table)+`)`),
		)
		run(t, ctx, "a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		run(t, ctx, "on a phone the table scrolls in its box, the page does not",
			waitJS(`document.documentElement.scrollWidth <= window.innerWidth`),
			waitJS(`document.querySelector('.modal .result-table').getBoundingClientRect().right <= window.innerWidth`),
			waitJS(`document.querySelector('`+table+` tfoot td[data-col="gross"]').textContent.includes('1,320.01')`),
		)
		screenshot(t, ctx, "phone-revenue-by-month")
	})
}
