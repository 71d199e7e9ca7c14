package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/store"
)

const dryRunRules = `
rule "lead" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title    = "'Follow up ' + record.name"
    assignee = "record.owner"
  }
}

rule "high_mileage" {
  every    = "1h"
  for_each = "vehicle"
  filter   = "status == 'in_stock'"
  when     = "record.mileage > 100000"
  action "notify" {
    to      = "record.owner"
    message = "'Check ' + record.vin"
  }
}

rule "sold" {
  on   = ["vehicle.updated"]
  when = "record.status == 'sold'"
  action "notify" {
    to      = "record.owner"
    message = "'Sold to ' + related('buyer').name"
  }
  action "set" {
    price = "money(1000, 'AMD')"
  }
}

rule "missed" {
  on = ["call.missed"]
  action "notify" {
    to      = "'u1'"
    message = "'Missed call'"
  }
}
`

const dryRunOwner = "u-owner"

// ulid matches the ids the store makes.
var ulid = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)

func TestDryRun(t *testing.T) {
	cfg, sch := load(t, dryRunRules)
	set := mustCompileCfg(t, cfg, sch)
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.SysUpdate(ctx, func(tx store.SysTx) error {
		return tx.Put("user", dryRunOwner, map[string]string{"id": dryRunOwner})
	}); err != nil {
		t.Fatal(err)
	}
	create := func(entity string, values map[string]any) *store.Record {
		t.Helper()
		if err := sch.Entity(entity).CheckRecord(values); err != nil {
			t.Fatal(err)
		}
		rec, err := st.Create(ctx, store.CreateRequest{Entity: entity, Values: values, Owner: dryRunOwner, By: dryRunOwner})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	// More contacts than a page, so that the dry run follows cursors.
	var narek *store.Record
	for i := range 250 {
		source := "walk_in"
		if i%50 == 0 {
			source = "website"
		}
		c := create("contact", map[string]any{"name": fmt.Sprintf("C%d", i), "source": source})
		if i == 1 {
			narek = c
		}
	}
	create("vehicle", map[string]any{"vin": "V1", "status": "in_stock", "mileage": int64(150000)})
	create("vehicle", map[string]any{"vin": "V2", "status": "in_stock", "mileage": int64(5000)})
	create("vehicle", map[string]any{"vin": "V3", "status": "sold", "mileage": int64(200000)})
	create("vehicle", map[string]any{"vin": "V4", "status": "sold", "buyer": narek.ID})

	seq, counts := st.LastSeq(), st.Counts()
	events, err := st.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}

	var b bytes.Buffer
	if err := DryRun(ctx, st, sch, set, &b, 3); err != nil {
		t.Fatal(err)
	}
	got := ulid.ReplaceAllString(b.String(), "ID")
	want := `rule lead (as contact.created): 5 of 250 records match
  contact ID "C0": create_task title="Follow up C0" assignee="u-owner"
  contact ID "C50": create_task title="Follow up C50" assignee="u-owner"
  contact ID "C100": create_task title="Follow up C100" assignee="u-owner"
  ... and 2 more
rule high_mileage (every 1h over vehicle where status == 'in_stock'): 1 of 2 records match
  vehicle ID "V1": notify to="u-owner" message="Check V1"
rule sold (as vehicle.updated with old = nil): 1 of 4 records match, 1 failed
  vehicle ID "V3": error: rule sold: action 1 (notify): message: rules.hcl:27:16: cannot fetch name from <nil>
  vehicle ID "V4": notify to="u-owner" message="Sold to C1"; set price={ amount = "1000.00", currency = "AMD" }
rule missed (call.missed): skipped: its records come from plugin events, not from the store
`
	if got != want {
		t.Errorf("dry run:\n%s\nwant:\n%s", got, want)
	}

	// Nothing was written.
	if st.LastSeq() != seq {
		t.Errorf("LastSeq went from %d to %d", seq, st.LastSeq())
	}
	if !maps.Equal(st.Counts(), counts) {
		t.Errorf("counts went from %v to %v", counts, st.Counts())
	}
	after, err := st.Events(ctx, 0, 1000)
	if err != nil || len(after) != len(events) {
		t.Errorf("events: %d before, %d after (%v)", len(events), len(after), err)
	}

	// With no limit, only the headers.
	b.Reset()
	if err := DryRun(ctx, st, sch, set, &b, 0); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 4 {
		t.Errorf("limit 0 printed %d lines:\n%s", n, b.String())
	}
}

// failingStore is a store whose List fails.
type failingStore struct{ store.Store }

func (failingStore) List(context.Context, store.Query) (*store.Page, error) {
	return nil, errors.New("disk on fire")
}

func TestDryRunErrors(t *testing.T) {
	cfg, sch := load(t, dryRunRules)
	set := mustCompileCfg(t, cfg, sch)
	var b bytes.Buffer
	err := DryRun(context.Background(), failingStore{}, sch, set, &b, 10)
	if err == nil || err.Error() != "rules: dry run of lead: list contact: disk on fire" {
		t.Errorf("err = %v", err)
	}
	if err := DryRun(context.Background(), nil, sch, set, &b, 10); err == nil {
		t.Error("no store: no error")
	}
}
