package browsertest

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestSmoke(t *testing.T) {
	s := startCRM(t)
	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)
	run(t, ctx, "contact list", chromedp.Navigate(s.URL+"/records/contact"), waitJS(`document.querySelector('.empty, table.records')`))
}
