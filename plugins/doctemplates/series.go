package doctemplates

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Document numbers are allocated per series and year from a
// document_series record (key "Q/2026"), so that numbering restarts at 1
// every year (Gregorian or Jalali, as the template says) and has no gaps:
//
//   - Taking a number is a read-modify-write of that record with
//     sdk.IfVersion: of concurrent takers exactly one wins each version and
//     the others read again and retry, so no two documents share a number
//     and none is skipped.
//   - A number is taken only once everything that can be checked is
//     checked (template, converter, data); if filling, converting or
//     storing the document still fails, the number is given back: the
//     series' last number goes down when it was the last one taken, and
//     otherwise it joins the record's free list, which the next taker
//     empties first (smallest first). Numbers in the year thus stay
//     1..last without a hole, though a given-back one may go to a later
//     document.
//   - A rule's call retried with its idempotency key takes the same
//     number again: the take is an Update with a key derived from it, and
//     the host answers a repeated keyed write with what the first one
//     wrote ("taken").
//
// Only a crash of the plugin between taking a number and storing the
// document (or giving the number back) can leave a hole; a retry with the
// same key fills it.

// maxTakeAttempts bounds the retries of a take or give-back that keeps
// losing to concurrent writers.
const maxTakeAttempts = 200

// seriesKey is the document_series key of a series' year.
func seriesKey(series string, year int) string { return series + "/" + strconv.Itoa(year) }

// takeNumber takes the next number of series in year. key, when not empty,
// makes a repeat of the same call take the same number.
func takeNumber(ctx context.Context, series string, year int, key string) (int64, error) {
	host := sdk.HostFrom(ctx)
	skey := seriesKey(series, year)
	rec, _, err := host.CreateUnless(ctx, SeriesEntity, sdk.Eq("key", skey),
		map[string]any{"key": skey, "series": series, "year": year, "last": 0})
	if err != nil {
		return 0, fmt.Errorf("series %s: %w", skey, err)
	}
	for attempt := 0; attempt < maxTakeAttempts; attempt++ {
		if attempt > 0 {
			if rec, err = host.Get(ctx, SeriesEntity, rec.ID()); err != nil {
				return 0, fmt.Errorf("series %s: %w", skey, err)
			}
		}
		last := intField(rec, "last")
		free := parseFree(rec.String("free"))
		var n int64
		if len(free) > 0 {
			n, free = free[0], free[1:]
		} else {
			n = last + 1
			last = n
		}
		opts := []sdk.Option{sdk.IfVersion(rec.Version())}
		if key != "" {
			opts = append(opts, sdk.IdempotencyKey(key+":number"))
		}
		out, err := host.Update(ctx, SeriesEntity, rec.ID(),
			map[string]any{"last": last, "free": formatFree(free), "taken": n}, opts...)
		if errors.Is(err, sdk.ErrConflict) {
			backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("series %s: take a number: %w", skey, err)
		}
		return intField(out, "taken"), nil
	}
	return 0, fmt.Errorf("series %s: no number after %d attempts: too many documents at once", skey, maxTakeAttempts)
}

// giveBack returns a number a failed document took, so the series keeps no
// hole. It is best effort on a context of its own: the call's may be over.
func giveBack(ctx context.Context, series string, year int, n int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	host := sdk.HostFrom(ctx)
	skey := seriesKey(series, year)
	for attempt := 0; attempt < maxTakeAttempts; attempt++ {
		page, err := host.List(ctx, sdk.Query{Entity: SeriesEntity, Filter: sdk.Eq("key", skey), Limit: 1})
		if err != nil || len(page.Items) == 0 {
			return fmt.Errorf("series %s: give back %d: %v", skey, n, err)
		}
		rec := page.Items[0]
		last := intField(rec, "last")
		free := parseFree(rec.String("free"))
		if n > last || slices.Contains(free, n) {
			return nil // given back already
		}
		if n == last {
			last--
			for len(free) > 0 && free[len(free)-1] == last {
				free, last = free[:len(free)-1], last-1
			}
		} else {
			free = append(free, n)
			slices.Sort(free)
		}
		_, err = host.Update(ctx, SeriesEntity, rec.ID(), map[string]any{"last": last, "free": formatFree(free)}, sdk.IfVersion(rec.Version()))
		if errors.Is(err, sdk.ErrConflict) {
			backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return fmt.Errorf("series %s: give back %d: %w", skey, n, err)
		}
		return nil
	}
	return fmt.Errorf("series %s: give back %d: too many writers", skey, n)
}

// backoff waits a little, more after each lost attempt, with jitter so
// that the losers do not collide again.
func backoff(ctx context.Context, attempt int) {
	d := time.Duration(1+rand.IntN(1+min(attempt, 20)*2)) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func intField(r sdk.Record, f string) int64 {
	switch v := r[f].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}

// parseFree reads a free list, "3,7", sorted.
func parseFree(s string) []int64 {
	var out []int64
	for part := range strings.SplitSeq(s, ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func formatFree(free []int64) any {
	if len(free) == 0 {
		return nil
	}
	parts := make([]string, len(free))
	for i, n := range free {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, ",")
}

// formatNumber is a document's number: "Q-2026-0007".
func formatNumber(series string, year int, n int64) string {
	return fmt.Sprintf("%s-%d-%04d", series, year, n)
}
