package accounting

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/crmkit/crm/plugins/sdk"
)

// numberedEntities are the entities whose records carry the numbers the
// allocator hands out, in their unique number field. Every entity that
// takes numbers from it must be here: a number used by a record of an
// entity not listed would be handed out again (series.Allocator.Exists).
var numberedEntities = []string{InvoiceEntity}

// numberExists says whether a record has number n of ser in year: a
// number a crash of the plugin (kill -9) left between its take and its
// invoice does not, and is handed out again.
func numberExists(ctx context.Context, ser string, year int, n int64) (bool, error) {
	number := fmt.Sprintf("%s-%d-%04d", ser, year, n)
	for _, ent := range numberedEntities {
		rec, err := firstWhere(ctx, ent, sdk.Eq("number", number))
		if err != nil || rec != nil {
			return rec != nil, err
		}
	}
	return false, nil
}

// recoverNumbers sweeps the invoice series for numbers a crash left
// unused (series.Allocator.Recover), at Configure.
func recoverNumbers(ctx context.Context) {
	if err := numbers.Recover(ctx); err != nil {
		sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "the invoice numbers a crash left unused were not all swept; the next takes sweep them",
			slog.String("err", err.Error()))
	}
}
