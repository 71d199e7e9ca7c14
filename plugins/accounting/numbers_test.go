package accounting_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/accounting"
)

// A crash of the plugin (kill -9) between taking an invoice number and
// storing its invoice leaves the number pending in its series record, as
// written here: once no invoice has it two minutes after its take, the
// next invoice has it; and a crashed number at the end of a series is
// swept when the plugin starts (Configure).
func TestCrashedNumberIsReused(t *testing.T) {
	e := start(t, nil)
	issue := func(want string) {
		t.Helper()
		inv, err := e.issue(e.wonDeal("Deal "+want, amd("1000")), map[string]any{"issue_date": "2026-05-01"})
		if err != nil {
			t.Fatal(err)
		}
		if inv.String("number") != want {
			t.Fatalf("invoice %s, want %s", inv.String("number"), want)
		}
	}
	crash := func(n int) { // the record a take of n leaves, 10 minutes ago
		t.Helper()
		rec := e.List(accounting.SeriesEntity, "")[0]
		pending := rec.String("pending")
		if pending != "" {
			pending += ","
		}
		at := time.Now().Add(-10 * time.Minute).UnixMilli()
		e.Update(accounting.SeriesEntity, rec.ID(), map[string]any{"last": n, "pending": fmt.Sprintf("%s%d@%d", pending, n, at)})
	}
	issue("INV-2026-0001")
	crash(2)
	issue("INV-2026-0002") // the hole filled
	issue("INV-2026-0003")
	crash(4)
	e.Restart()
	if rec := e.List(accounting.SeriesEntity, "")[0]; rec["last"] != float64(3) {
		t.Fatalf("after the restart, the series record: %v", rec)
	}
	issue("INV-2026-0004")
	if got := len(e.List("invoice", "")); got != 4 {
		t.Errorf("%d invoices, want 4", got)
	}
}
