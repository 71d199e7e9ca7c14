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
//     (a rule's call retried). With Exists, the pending number keeps a
//     hash of the key, and a repeat finds it there. Without, the take is
//     an Update with a key derived from it, and the host answers a
//     repeated keyed write with the record as it is now, whose "taken" is
//     the first take's number only while no other take came between.
//
// A crash of the plugin (kill -9) between taking a number and using it
// gives nothing back. An Allocator with Exists closes that hole too, with
// no write of its own in the normal case: the write that takes a number
// also records it as pending, with the time it was taken. A later take,
// which writes the record anyway, sweeps the pending numbers taken more
// than Grace ago: one whose document or invoice Exists is done with and
// dropped, one that does not is put on the free list, so that the next
// taker fills the hole. Recover sweeps every series at the plugin's start
// (the numbers of a series no one takes from again).
//
// The sweep rests on one assumption: a number's use (or its give-back)
// ends within Grace of its take. Grace is 2 minutes by default, twelve
// times the host's call deadline (10 s), past which the call's context is
// done and its writes through the Host fail (a give-back has 5 s more);
// a host with a call deadline near Grace needs a longer Grace. A keyed
// take repeated more than Grace/2 after the first one (a rule's retry
// long after a crash) does not reuse the first one's number, which a
// sweep may have handed on: it takes a new one, as does a repeat after
// the first call gave its number back.
package series

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// DefaultGrace is an Allocator's Grace when it sets none.
const DefaultGrace = 2 * time.Minute

// Fields are the fields of the entity a plugin declares for its series
// records: add them to a manifest entity (sdk.Entity{Name:
// "invoice_series", Fields: series.Fields()}) and grant the plugin write on
// it. Records written before a field was added keep working.
func Fields() []sdk.Field {
	return []sdk.Field{
		{Name: "key", Label: "Series and year", Type: sdk.TypeString, Required: true, Unique: true},
		{Name: "series", Label: "Series", Type: sdk.TypeString, Required: true},
		{Name: "year", Label: "Year", Type: sdk.TypeInt, Required: true},
		{Name: "last", Label: "Last number", Type: sdk.TypeInt},
		{Name: "free", Label: "Numbers given back", Type: sdk.TypeString},
		{Name: "taken", Label: "Number taken by the last write", Type: sdk.TypeInt},
		{Name: "pending", Label: "Numbers taken, not yet seen used", Type: sdk.TypeText},
	}
}

// Translations are the labels of Fields in the UI's languages other than
// English, for the series entity named entity (sdk.Localize).
func Translations(entity string) sdk.Translations {
	return sdk.Translations{
		entity + ".key":     {"hy": "Սերիա և տարի", "lt": "Serija ir metai", "az": "Seriya və il", "fa": "سری و سال", "ru": "Серия и год"},
		entity + ".series":  {"hy": "Սերիա", "lt": "Serija", "az": "Seriya", "fa": "سری", "ru": "Серия"},
		entity + ".year":    {"hy": "Տարի", "lt": "Metai", "az": "İl", "fa": "سال", "ru": "Год"},
		entity + ".last":    {"hy": "Վերջին համար", "lt": "Paskutinis numeris", "az": "Son nömrə", "fa": "آخرین شماره", "ru": "Последний номер"},
		entity + ".free":    {"hy": "Վերադարձված համարներ", "lt": "Grąžinti numeriai", "az": "Qaytarılmış nömrələr", "fa": "شماره‌های برگشتی", "ru": "Возвращённые номера"},
		entity + ".taken":   {"hy": "Վերջին գրառման համարը", "lt": "Paskutinio įrašo numeris", "az": "Son yazının nömrəsi", "fa": "شمارهٔ آخرین ثبت", "ru": "Номер последней записи"},
		entity + ".pending": {"hy": "Վերցված, դեռ չօգտագործված համարներ", "lt": "Paimti, dar nepanaudoti numeriai", "az": "Götürülmüş, hələ istifadə olunmamış nömrələr", "fa": "شماره‌های برداشته‌شده، هنوز به‌کارنرفته", "ru": "Выданные, ещё не использованные номера"},
	}
}

// Allocator takes and gives back numbers of series kept in records of
// Entity, an entity with Fields.
type Allocator struct {
	// Entity is the entity of the series records ("document_series").
	Entity string
	// Exists says whether the work a number was taken for exists (a
	// document, an invoice with that number): an indexed lookup through
	// the Host. With it, numbers taken by a plugin that crashed before it
	// used them are found and handed out again (see the package doc);
	// nil keeps no pending numbers. It must see every use of the
	// allocator's numbers: a use it does not see is handed out again.
	Exists func(ctx context.Context, series string, year int, n int64) (bool, error)
	// Grace is how long after its take a pending number is left to its
	// work before a sweep asks Exists about it: longer than any use of a
	// number lasts. DefaultGrace when 0.
	Grace time.Duration
}

// Key is the key of a series' year: "Q/2026".
func Key(series string, year int) string { return series + "/" + strconv.Itoa(year) }

func (a Allocator) grace() time.Duration {
	if a.Grace > 0 {
		return a.Grace
	}
	return DefaultGrace
}

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
	known := map[int64]bool{} // Exists' answers, across attempts
	kh := keyHash(key)
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		if attempt > 0 {
			if rec, err = host.Get(ctx, a.Entity, rec.ID()); err != nil {
				return 0, fmt.Errorf("series %s: %w", skey, err)
			}
		}
		st := readState(rec)
		now := time.Now()
		if a.Exists != nil && key != "" {
			// A repeated keyed take: the number the first one took, while
			// it is pending still (not given back, not swept) and young
			// enough not to be swept during this call's use of it.
			if p, ok := st.pendingFor(kh); ok && now.Sub(time.UnixMilli(p.at)) < a.grace()/2 {
				return p.n, nil
			}
		}
		a.sweep(ctx, series, year, &st, now, known)
		var n int64
		if len(st.free) > 0 {
			n, st.free = st.free[0], st.free[1:]
		} else {
			st.last++
			n = st.last
		}
		opts := []sdk.Option{sdk.IfVersion(rec.Version())}
		if a.Exists != nil {
			st.pending = append(st.pending, pendingNumber{n: n, at: now.UnixMilli(), key: kh})
		} else if key != "" {
			opts = append(opts, sdk.IdempotencyKey(key+":number"))
		}
		values := st.values()
		values["taken"] = n
		out, err := host.Update(ctx, a.Entity, rec.ID(), values, opts...)
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
		st := readState(rec)
		if a.Exists != nil && !st.dropPending(n) {
			return nil // swept already
		}
		if !st.release(n) {
			return nil // given back already
		}
		_, err = host.Update(ctx, a.Entity, rec.ID(), st.values(), sdk.IfVersion(rec.Version()))
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

// Recover sweeps the pending numbers of every series record, as a take
// does its own series': call it when the plugin starts, so that the
// numbers a crash left behind in a series no one takes from again are
// handed out again too. Numbers taken less than Grace ago stay pending
// (the next take of their series, or the next Recover, sweeps them).
// Without Exists it does nothing.
func (a Allocator) Recover(ctx context.Context) error {
	if a.Exists == nil {
		return nil
	}
	var errs []error
	err := sdk.Each(ctx, sdk.Query{Entity: a.Entity, Limit: 100}, func(rec sdk.Record) error {
		if rec.String("pending") != "" {
			if err := a.recover(ctx, rec); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("series: recover: %w", err)
	}
	return errors.Join(errs...)
}

// recover sweeps one series record, writing it only when the sweep
// changed something.
func (a Allocator) recover(ctx context.Context, rec sdk.Record) error {
	host := sdk.HostFrom(ctx)
	series, year := rec.String("series"), int(Int(rec, "year"))
	known := map[int64]bool{}
	for attempt := 0; attempt < MaxAttempts; attempt++ {
		if attempt > 0 {
			var err error
			if rec, err = host.Get(ctx, a.Entity, rec.ID()); err != nil {
				return fmt.Errorf("series %s: recover: %w", Key(series, year), err)
			}
		}
		st := readState(rec)
		if !a.sweep(ctx, series, year, &st, time.Now(), known) {
			return nil
		}
		_, err := host.Update(ctx, a.Entity, rec.ID(), st.values(), sdk.IfVersion(rec.Version()))
		if errors.Is(err, sdk.ErrConflict) {
			Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return fmt.Errorf("series %s: recover: %w", Key(series, year), err)
		}
		return nil
	}
	return fmt.Errorf("series %s: recover: too many writers", Key(series, year))
}

// sweep settles the pending numbers of st taken more than Grace before
// now: dropped when their work exists, released (handed out again) when
// not. known keeps Exists' answers for another attempt of the same write;
// a number Exists cannot answer for stays pending. It reports whether st
// changed.
func (a Allocator) sweep(ctx context.Context, series string, year int, st *state, now time.Time, known map[int64]bool) bool {
	if a.Exists == nil || len(st.pending) == 0 {
		return false
	}
	changed := false
	keep := st.pending[:0:0]
	for _, p := range st.pending {
		if now.Sub(time.UnixMilli(p.at)) < a.grace() {
			keep = append(keep, p)
			continue
		}
		used, ok := known[p.n]
		if !ok {
			var err error
			if used, err = a.Exists(ctx, series, year, p.n); err != nil {
				keep = append(keep, p)
				continue
			}
			known[p.n] = used
		}
		changed = true
		if !used {
			st.release(p.n)
		}
	}
	st.pending = keep
	return changed
}

// state is a series record's numbers.
type state struct {
	last    int64
	free    []int64 // sorted
	pending []pendingNumber
}

// pendingNumber is a number taken at (Unix milliseconds) whose use has
// not been seen yet; key is the keyHash of its take's key ("" for none).
type pendingNumber struct {
	n, at int64
	key   string
}

// keyHash is a take's key as its pending number keeps it: short, and
// without the list's separators. "" for no key.
func keyHash(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// pendingFor is the latest pending number a take with key hash kh took.
func (st state) pendingFor(kh string) (pendingNumber, bool) {
	var out pendingNumber
	found := false
	for _, p := range st.pending {
		if kh != "" && p.key == kh && (!found || p.at >= out.at) {
			out, found = p, true
		}
	}
	return out, found
}

func readState(rec sdk.Record) state {
	return state{last: Int(rec, "last"), free: parseFree(rec.String("free")), pending: parsePending(rec.String("pending"))}
}

// values are the record's fields that hold st.
func (st state) values() map[string]any {
	return map[string]any{"last": st.last, "free": formatFree(st.free), "pending": formatPending(st.pending)}
}

// release puts n back: last goes down when n is the last number (and
// past the free numbers then at the end), else n joins the free list. It
// reports false when n was not out.
func (st *state) release(n int64) bool {
	if n < 1 || n > st.last || slices.Contains(st.free, n) {
		return false
	}
	if n == st.last {
		st.last--
		for len(st.free) > 0 && st.free[len(st.free)-1] == st.last {
			st.free, st.last = st.free[:len(st.free)-1], st.last-1
		}
	} else {
		st.free = append(st.free, n)
		slices.Sort(st.free)
	}
	return true
}

// dropPending takes n off the pending numbers; false when it was not
// pending.
func (st *state) dropPending(n int64) bool {
	for i, p := range st.pending {
		if p.n == n {
			st.pending = slices.Delete(st.pending, i, i+1)
			return true
		}
	}
	return false
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

// parsePending reads pending numbers,
// "5@1767225600000,7@1767225601234@9f86d081884c7d65" (number@Unix
// milliseconds of its take, and @the hash of its key when it had one).
func parsePending(s string) []pendingNumber {
	var out []pendingNumber
	for part := range strings.SplitSeq(s, ",") {
		num, rest, ok := strings.Cut(strings.TrimSpace(part), "@")
		if !ok {
			continue
		}
		at, kh, _ := strings.Cut(rest, "@")
		n, err1 := strconv.ParseInt(num, 10, 64)
		t, err2 := strconv.ParseInt(at, 10, 64)
		if err1 == nil && err2 == nil {
			out = append(out, pendingNumber{n: n, at: t, key: kh})
		}
	}
	return out
}

func formatPending(pending []pendingNumber) any {
	if len(pending) == 0 {
		return nil
	}
	parts := make([]string, len(pending))
	for i, p := range pending {
		parts[i] = strconv.FormatInt(p.n, 10) + "@" + strconv.FormatInt(p.at, 10)
		if p.key != "" {
			parts[i] += "@" + p.key
		}
	}
	return strings.Join(parts, ",")
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
