// Package series hands out numbers without gaps: per series and year
// ("Q/2026", "INV/2026"), each number once, 1, 2, 3 ..., also when many
// calls take numbers at once. It keeps its state in records of an entity
// the plugin declares in its manifest with Fields (one record per series
// and year) and works through the Host alone, so any plugin may use it
// (doctemplates numbers documents with it, accounting invoices).
//
//   - Taking a number is a read-modify-write of the series' record with
//     sdk.IfVersion: of concurrent takers exactly one wins each version and
//     the others read again and retry, so no two takers share a number and
//     none is skipped.
//   - A number taken for work that then fails is given back (GiveBack):
//     the series' last number goes down when it was the last one taken,
//     and otherwise it joins the record's free list, which the next taker
//     empties first (smallest first). Numbers in the year thus stay
//     1..last without a hole, though a given-back one may go to later work.
//   - A take with an idempotency key takes the same number when repeated
//     (a rule's call retried): the take is an Update with a key derived
//     from it, and the host answers a repeated keyed write with what the
//     first one wrote (the record's "taken").
//
// Only a crash of the plugin between taking a number and using it (or
// giving it back) can leave a hole; a retry with the same key fills it.
package series

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

// MaxAttempts bounds the retries of a take or give-back that keeps losing
// to concurrent writers.
const MaxAttempts = 200

// Fields are the fields of the entity a plugin declares for its series
// records: add them to a manifest entity (sdk.Entity{Name:
// "invoice_series", Fields: series.Fields()}) and grant the plugin write on
// it.
func Fields() []sdk.Field {
	return []sdk.Field{
		{Name: "key", Label: "Series and year", Type: sdk.TypeString, Required: true, Unique: true},
		{Name: "series", Label: "Series", Type: sdk.TypeString, Required: true},
		{Name: "year", Label: "Year", Type: sdk.TypeInt, Required: true},
		{Name: "last", Label: "Last number", Type: sdk.TypeInt},
		{Name: "free", Label: "Numbers given back", Type: sdk.TypeString},
		{Name: "taken", Label: "Number taken by the last write", Type: sdk.TypeInt},
	}
}

// Translations are the labels of Fields in the UI's languages other than
// English, for the series entity named entity (sdk.Localize).
func Translations(entity string) sdk.Translations {
	return sdk.Translations{
		entity + ".key":    {"hy": "Սերիա և տարի", "lt": "Serija ir metai", "az": "Seriya və il", "fa": "سری و سال", "ru": "Серия и год"},
		entity + ".series": {"hy": "Սերիա", "lt": "Serija", "az": "Seriya", "fa": "سری", "ru": "Серия"},
		entity + ".year":   {"hy": "Տարի", "lt": "Metai", "az": "İl", "fa": "سال", "ru": "Год"},
		entity + ".last":   {"hy": "Վերջին համար", "lt": "Paskutinis numeris", "az": "Son nömrə", "fa": "آخرین شماره", "ru": "Последний номер"},
		entity + ".free":   {"hy": "Վերադարձված համարներ", "lt": "Grąžinti numeriai", "az": "Qaytarılmış nömrələr", "fa": "شماره‌های برگشتی", "ru": "Возвращённые номера"},
		entity + ".taken":  {"hy": "Վերջին գրառման համարը", "lt": "Paskutinio įrašo numeris", "az": "Son yazının nömrəsi", "fa": "شمارهٔ آخرین ثبت", "ru": "Номер последней записи"},
	}
}

// Allocator takes and gives back numbers of series kept in records of
// Entity, an entity with Fields.
type Allocator struct {
	// Entity is the entity of the series records ("document_series").
	Entity string
}

// Key is the key of a series' year: "Q/2026".
func Key(series string, year int) string { return series + "/" + strconv.Itoa(year) }

// Take takes the next number of series in year. key, when not empty,
// makes a repeat of the same call take the same number.
func (a Allocator) Take(ctx context.Context, series string, year int, key string) (int64, error) {
	host := sdk.HostFrom(ctx)
	skey := Key(series, year)
	rec, _, err := host.CreateUnless(ctx, a.Entity, sdk.Eq("key", skey),
		map[string]any{"key": skey, "series": series, "year": year, "last": 0})
	if err != nil {
		return 0, fmt.Errorf("series %s: %w", skey, err)
	}
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		if attempt > 0 {
			if rec, err = host.Get(ctx, a.Entity, rec.ID()); err != nil {
				return 0, fmt.Errorf("series %s: %w", skey, err)
			}
		}
		last := Int(rec, "last")
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
		out, err := host.Update(ctx, a.Entity, rec.ID(),
			map[string]any{"last": last, "free": formatFree(free), "taken": n}, opts...)
		if errors.Is(err, sdk.ErrConflict) {
			Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("series %s: take a number: %w", skey, err)
		}
		return Int(out, "taken"), nil
	}
	return 0, fmt.Errorf("series %s: no number after %d attempts: too many takers at once", skey, MaxAttempts)
}

// GiveBack returns a number that failed work took, so the series keeps no
// hole. It is best effort on a context of its own: the call's may be over.
func (a Allocator) GiveBack(ctx context.Context, series string, year int, n int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	host := sdk.HostFrom(ctx)
	skey := Key(series, year)
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		page, err := host.List(ctx, sdk.Query{Entity: a.Entity, Filter: sdk.Eq("key", skey), Limit: 1})
		if err != nil || len(page.Items) == 0 {
			return fmt.Errorf("series %s: give back %d: %v", skey, n, err)
		}
		rec := page.Items[0]
		last := Int(rec, "last")
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
		_, err = host.Update(ctx, a.Entity, rec.ID(), map[string]any{"last": last, "free": formatFree(free)}, sdk.IfVersion(rec.Version()))
		if errors.Is(err, sdk.ErrConflict) {
			Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return fmt.Errorf("series %s: give back %d: %w", skey, n, err)
		}
		return nil
	}
	return fmt.Errorf("series %s: give back %d: too many writers", skey, n)
}

// Backoff waits a little before another attempt of a write that lost to a
// concurrent one, more after each lost attempt, with jitter so that the
// losers do not collide again.
func Backoff(ctx context.Context, attempt int) {
	d := time.Duration(1+rand.IntN(1+min(attempt, 20)*2)) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Int is a record's int field (a JSON number), 0 when unset.
func Int(r sdk.Record, f string) int64 {
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
