// Package storetest is the conformance suite of the store.Store interface:
// Run checks, through the interface alone, the contracts that package store
// documents, against any backend. It is imported only by tests (as
// core/testkit is): each backend's package runs it with a function that
// opens a fresh, empty store of that backend.
//
// The suite asserts what callers rely on, never how a backend does it:
// no query plans (Page.Plan), no timings, no key layout. Where the
// interface leaves a choice open, the suite pins what Badger, the first
// backend, does and the rest of the core relies on: strings sort by
// their bytes; a missing value sorts after every present one in either
// direction; ties go by id in the direction of the last sort key; money
// sorts by its amount in minor units; search ranks newer records (larger
// ids) first among equal matches; SysList calls back in key order (the
// rules take the last of a rule's runs as the newest); Totals come in
// group order (no value first), then currency, as the API answers them;
// bad list, totals and search parameters are *store.QueryError naming the
// parameter.
//
// A backend wires it in a test of its own package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB, sch *schema.Schema) store.Store {
//			st := open a fresh, empty store over sch
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// open gets each subtest's t, so a backend can skip a subtest it fails
// for a known reason by its name (t.Name()), saying why.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Open opens a fresh, empty store over sch for one test (closed by the
// test's cleanup). A second Close (the suite closes stores itself to test
// ErrClosed) must return nil or store.ErrClosed.
type Open func(t testing.TB, sch *schema.Schema) store.Store

// Users of the suite's records: they exist (as system documents of kind
// store.KindUser) in every store the suite opens.
const (
	UserA = "01JSTORETESTUSER00000000AA"
	UserB = "01JSTORETESTUSER00000000BB"
)

// HCL is the configuration of the suite's schema: the built-in entities,
// and "item", which has a field of every type (some indexed, some not, so
// that a backend's index and scan paths both answer).
const HCL = `
locale { currency = "AMD" }

entity "item" {
  field "name" {
    type     = "string"
    required = true
    index    = true
    search   = true
  }
  field "code" {
    type   = "string"
    unique = true
  }
  field "note" { type = "text" }
  field "qty" {
    type  = "int"
    index = true
  }
  field "score" { type = "int" }
  field "ratio" { type = "decimal" }
  field "price" { type = "money" }
  field "active" { type = "bool" }
  field "due" { type = "date" }
  field "at" {
    type  = "datetime"
    index = true
  }
  field "kind" {
    type   = "enum"
    values = ["a", "b", "c"]
    index  = true
  }
  field "email" { type = "email" }
  field "phone" { type = "phone" }
  field "site" { type = "url" }
  field "contact" {
    type = "ref"
    to   = "contact"
  }
  field "other" {
    type = "ref"
    to   = "contact"
  }
  field "parent" {
    type = "ref"
    to   = "item"
  }
  field "assignee" { type = "user" }
  field "doc" { type = "file" }
}
`

// Schema builds the suite's schema from HCL with the loader the server
// uses.
func Schema(t testing.TB) *schema.Schema {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"storetest.hcl": []byte(HCL)})
	if diags.HasErrors() {
		t.Fatalf("storetest schema: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatalf("storetest schema: %v", err)
	}
	return sch
}

// Run runs the conformance suite against the backend that open opens.
func Run(t *testing.T, open Open) {
	sch := Schema(t)
	for _, c := range []struct {
		name string
		fn   func(*env)
	}{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"UpdateVersions", testUpdateVersions},
		{"DeleteVersions", testDelete},
		{"IfVersion", testIfVersion},
		{"Checks", testChecks},
		{"UnknownEntityAndMissingRecords", testMissing},
		{"Unique", testUnique},
		{"UniqueConcurrentWriters", testUniqueConcurrent},
		{"UniqueSwaps", testUniqueSwaps},
		{"RefsMissingTargets", testRefsMissing},
		{"RefsDeleteRefused", testRefsDeleteRefused},
		{"RefsForceClears", testRefsForce},
		{"RefsToItsOwnEntity", testRefsSelf},
		{"RefsConcurrentForceDelete", testRefsConcurrent},
		{"IdempotencyKey", testIdempotency},
		{"Unless", testUnless},
		{"History", testHistory},
		{"HistoryBefore", testHistoryBefore},
		{"FeedEveryWriteOneEvent", testFeedEvents},
		{"FeedPaging", testFeedPaging},
		{"FeedConcurrentTail", testFeedConcurrentTail},
		{"Emit", testEmit},
		{"Committed", testCommitted},
		{"DecodeEvent", testDecodeEvent},
		{"ListFilters", testListFilters},
		{"ListSortCursors", testListSort},
		{"ListSortCursorsWithInserts", testListSortInserts},
		{"ListStored", testListStored},
		{"ExtremeValues", testExtremes},
		{"ExtremeDates", testExtremeDates},
		{"ListLimitsAndBadQueries", testListLimits},
		{"PageSeq", testPageSeq},
		{"Counts", testCounts},
		{"CountExact", testCount},
		{"Totals", testTotals},
		{"SearchRanking", testSearchRanking},
		{"SearchFollowsWritesAndOwners", testSearchWrites},
		{"SysDocuments", testSys},
		{"SysList", testSysList},
		{"SysUpdateConcurrent", testSysUpdateConcurrent},
		{"Files", testFiles},
		{"CancelledContext", testCancelled},
		{"Closed", testClosed},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.fn(newEnv(t, open, sch))
		})
	}
}

// env is one subtest's store and what it needs around it.
type env struct {
	t   *testing.T
	st  store.Store
	sch *schema.Schema
	ctx context.Context
}

func newEnv(t *testing.T, open Open, sch *schema.Schema) *env {
	st := open(t, sch)
	e := &env{t: t, st: st, sch: sch, ctx: context.Background()}
	err := st.SysUpdate(e.ctx, func(tx store.SysTx) error {
		for _, u := range []string{UserA, UserB} {
			if err := tx.Put(store.KindUser, u, map[string]string{"id": u}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed users: %v", err)
	}
	return e
}

// ent is an entity of the suite's schema.
func (e *env) ent(name string) *schema.Entity {
	ent := e.sch.Entity(name)
	if ent == nil {
		e.t.Fatalf("no entity %q in the suite's schema", name)
	}
	return ent
}

// canon normalises values (API-like or canonical Go values) as package
// schema does for client input, so that the store gets what it always gets.
func (e *env) canon(entity string, vals map[string]any) map[string]any {
	e.t.Helper()
	ent := e.ent(entity)
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		f := ent.Field(k)
		if f == nil {
			e.t.Fatalf("%s has no field %q", entity, k)
		}
		c, err := f.NormalizeValue(v)
		if err != nil {
			e.t.Fatalf("normalise %s.%s = %v: %v", entity, k, v, err)
		}
		if c != nil {
			out[k] = c
		}
	}
	return out
}

// create creates a record owned by (and written by) UserA.
func (e *env) create(entity string, vals map[string]any) *store.Record {
	e.t.Helper()
	return e.createReq(store.CreateRequest{Entity: entity, Values: vals, By: UserA})
}

func (e *env) createReq(req store.CreateRequest) *store.Record {
	e.t.Helper()
	req.Values = e.canon(req.Entity, req.Values)
	rec, err := e.st.Create(e.ctx, req)
	if err != nil {
		e.t.Fatalf("create %s %v: %v", req.Entity, req.Values, err)
	}
	return rec
}

func (e *env) update(req store.UpdateRequest) *store.Record {
	e.t.Helper()
	req.Set = e.canon(req.Entity, req.Set)
	rec, err := e.st.Update(e.ctx, req)
	if err != nil {
		e.t.Fatalf("update %s %s: %v", req.Entity, req.ID, err)
	}
	return rec
}

func (e *env) get(entity, id string) *store.Record {
	e.t.Helper()
	rec, err := e.st.Get(e.ctx, entity, id)
	if err != nil {
		e.t.Fatalf("get %s %s: %v", entity, id, err)
	}
	return rec
}

func (e *env) events(after uint64) []store.Event {
	e.t.Helper()
	var out []store.Event
	for {
		evs, err := e.st.Events(e.ctx, after, 500)
		if err != nil {
			e.t.Fatalf("events after %d: %v", after, err)
		}
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		after = evs[len(evs)-1].Seq
	}
}

// listAll pages through a list with the given page size.
func (e *env) listAll(q store.Query) []*store.Record {
	e.t.Helper()
	var out []*store.Record
	for pages := 0; ; pages++ {
		if pages > 10000 {
			e.t.Fatalf("list %s: no end after %d pages", q.Entity, pages)
		}
		p, err := e.st.List(e.ctx, q)
		if err != nil {
			e.t.Fatalf("list %s (filter %v, sort %v, cursor %q): %v", q.Entity, filterSrc(q.Filter), q.Sort, q.Cursor, err)
		}
		if q.Limit > 0 && len(p.Items) > q.Limit {
			e.t.Fatalf("list %s: %d items on a page of limit %d", q.Entity, len(p.Items), q.Limit)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		q.Cursor = p.NextCursor
	}
}

func (e *env) filter(entity, src string) *store.Filter {
	e.t.Helper()
	f, err := store.CompileFilter(e.ent(entity), src)
	if err != nil {
		e.t.Fatalf("compile %q: %v", src, err)
	}
	return f
}

func filterSrc(f *store.Filter) string {
	if f == nil {
		return ""
	}
	return f.Source
}

// sameValues reports whether two records' values are equal, times as
// instants.
func sameValues(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			return false
		}
		if at, ok := av.(time.Time); ok {
			bt, ok := bv.(time.Time)
			if !ok || !at.Equal(bt) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(av, bv) {
			return false
		}
	}
	return true
}

func recordIDs(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// sorted returns a sorted copy.
func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func asConflict(err error, code string) (*store.ConflictError, bool) {
	var ce *store.ConflictError
	if errors.As(err, &ce) && ce.Code == code {
		return ce, true
	}
	return nil, false
}

func asInvalid(err error, field string) bool {
	var ie *store.InvalidError
	return errors.As(err, &ie) && ie.Field == field
}

func asQueryError(err error, param string) bool {
	var qe *store.QueryError
	return errors.As(err, &qe) && qe.Param == param
}

// short cuts a list of ids for a message.
func short(ids []string) string {
	if len(ids) > 12 {
		return fmt.Sprintf("%s ... (%d)", strings.Join(ids[:12], " "), len(ids))
	}
	return strings.Join(ids, " ")
}
