package doctemplates

import (
	"context"
	"fmt"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// Document numbers are allocated per series and year from a
// document_series record (key "Q/2026") by the SDK's gapless allocator
// (package series), so that numbering restarts at 1 every year (Gregorian
// or Jalali, as the template says) and has no gaps. A number is taken only
// once everything that can be checked is checked (template, converter,
// data); if filling, converting or storing the document still fails, the
// number is given back. A rule's call retried with its idempotency key
// takes the same number again. A number a crash of the plugin (kill -9)
// left between its take and its document is handed out again once no
// document has it two minutes later (series.Allocator.Exists): by the next
// take of its series, or by the sweep at Configure.
var numbers = series.Allocator{Entity: SeriesEntity, Exists: documentExists}

// documentExists says whether a document has number n of series in year
// (the document's number field is indexed).
func documentExists(ctx context.Context, ser string, year int, n int64) (bool, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: DocumentEntity, Filter: sdk.Eq("number", formatNumber(ser, year, n)), Limit: 1})
	if err != nil {
		return false, err
	}
	return len(page.Items) > 0, nil
}

// maxTakeAttempts bounds the retries of an upload that keeps losing a
// template revision to concurrent uploads.
const maxTakeAttempts = series.MaxAttempts

// backoff waits before another attempt of a write that lost to a
// concurrent one.
var backoff = series.Backoff

func intField(r sdk.Record, f string) int64 { return series.Int(r, f) }

// formatNumber is a document's number: "Q-2026-0007".
func formatNumber(series string, year int, n int64) string {
	return fmt.Sprintf("%s-%d-%04d", series, year, n)
}
