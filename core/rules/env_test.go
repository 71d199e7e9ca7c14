package rules

import (
	"context"
	"errors"
	"testing"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const navigationRules = `
rule "deal" {
  on   = ["deal.updated"]
  when = "related('contact')?.name startsWith 'Ana' && related('company') == nil"
  action "create_task" {
    title = "'Call ' + (related('contact')?.name ?? 'nobody') + ' of ' + (related('company')?.name ?? 'no company')"
  }
}

rule "contact" {
  on   = ["contact.updated"]
  when = "count_related('deal', \"stage == 'won'\") >= 1"
  action "webhook" {
    url  = "'http://localhost/hook'"
    body = "[count_related('deal'), count_related('deal', \"stage == 'won' && amount.amount > 100\"), count_related('activity', '', 'contact')]"
  }
}
`

func create(t *testing.T, st store.Store, entity string, values map[string]any) *store.Record {
	t.Helper()
	rec, err := st.Create(context.Background(), store.CreateRequest{Entity: entity, Values: values})
	if err != nil {
		t.Fatalf("create %s: %v", entity, err)
	}
	return rec
}

func TestRelatedAndCountRelated(t *testing.T) {
	cfg, sch := load(t, navigationRules)
	set, diags := Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatal(formatDiags(diags))
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ani := create(t, st, "contact", map[string]any{"name": "Anahit"})
	other := create(t, st, "contact", map[string]any{"name": "Other"})
	amd := func(minor int64) schema.Money { return schema.Money{Minor: minor, Currency: "AMD"} }
	deal := create(t, st, "deal", map[string]any{"title": "Roof", "stage": "won", "contact": ani.ID, "amount": amd(50000)})
	create(t, st, "deal", map[string]any{"title": "Door", "stage": "new", "contact": ani.ID})
	create(t, st, "deal", map[string]any{"title": "Wall", "stage": "won", "contact": other.ID})
	for range 7 {
		create(t, st, "activity", map[string]any{"kind": "call", "contact": ani.ID})
	}

	lookup := StoreLookup{Store: st, Schema: sch, pageSize: 3}
	in := &Input{Record: deal, Event: "updated", Lookup: lookup}
	r := set.Rule("deal")
	if ok, err := r.When.EvalBool(in); !ok || err != nil {
		t.Errorf("deal when = %v, %v", ok, err)
	}
	args, err := r.Actions[0].Eval(in)
	if err != nil || args["title"] != "Call Anahit of no company" {
		t.Errorf("title = %v, %v", args["title"], err)
	}
	// A ref to a record that is gone is nil.
	gone := &store.Record{ID: "x", Values: map[string]any{"contact": "01JNOSUCHCONTACT0000000000"}}
	args, err = r.Actions[0].Eval(&Input{Record: gone, Lookup: lookup})
	if err != nil || args["title"] != "Call nobody of no company" {
		t.Errorf("title = %v, %v", args["title"], err)
	}

	c := set.Rule("contact")
	in = &Input{Record: ani, Event: "updated", Lookup: lookup}
	if ok, err := c.When.EvalBool(in); !ok || err != nil {
		t.Errorf("contact when = %v, %v", ok, err)
	}
	body, err := c.Actions[0].Args["body"].Eval(in)
	if want := []any{2, 1, 7}; err != nil || !equalAny(body, want) {
		t.Errorf("counts = %v, %v; want %v", body, err, want)
	}
	if ok, _ := c.When.EvalBool(&Input{Record: other, Lookup: StoreLookup{Store: st}}); !ok {
		t.Error("other's won deal not counted")
	}
}

func equalAny(got any, want []any) bool {
	g, ok := got.([]any)
	if !ok || len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}

// failingLookup fails every read.
type failingLookup struct{}

var errDown = errors.New("store down")

func (failingLookup) Get(context.Context, string, string) (*store.Record, error) { return nil, errDown }
func (failingLookup) CountRefs(context.Context, string, string, string, func(*store.Record) (bool, error)) (int, error) {
	return 0, errDown
}

func TestLookupErrors(t *testing.T) {
	set := mustCompile(t, navigationRules)
	deal := &store.Record{ID: "d1", Values: map[string]any{"contact": "c1"}}
	if _, err := set.Rule("deal").When.Eval(&Input{Record: deal, Lookup: failingLookup{}}); !errors.Is(err, errDown) {
		t.Errorf("related with a failing store: %v", err)
	}
	if _, err := set.Rule("deal").When.Eval(&Input{Record: deal}); err == nil {
		t.Error("related without a store: no error")
	}
	// Without a ref, related needs no store.
	if ok, err := set.Rule("deal").When.EvalBool(&Input{Record: &store.Record{}}); ok || err != nil {
		t.Errorf("related without a ref = %v, %v", ok, err)
	}
	c := set.Rule("contact")
	if _, err := c.When.Eval(&Input{Record: &store.Record{ID: "c1"}, Lookup: failingLookup{}}); !errors.Is(err, errDown) {
		t.Errorf("count_related with a failing store: %v", err)
	}
	if _, err := c.When.Eval(&Input{Record: &store.Record{ID: "c1"}}); err == nil {
		t.Error("count_related without a store: no error")
	}
	var none *Program
	if _, err := none.Eval(nil); err == nil {
		t.Error("nil program: no error")
	}
}

// countingLookup counts reads.
type countingLookup struct {
	fakeLookup
	gets int
}

func (l *countingLookup) Get(ctx context.Context, entity, id string) (*store.Record, error) {
	l.gets++
	return l.fakeLookup.Get(ctx, entity, id)
}

func TestRelatedIsReadOncePerInput(t *testing.T) {
	set := mustCompile(t, navigationRules)
	r := set.Rule("deal")
	l := &countingLookup{}
	in := &Input{Record: &store.Record{ID: "d1", Values: map[string]any{"contact": "c1"}}, Lookup: l}
	if _, err := r.When.EvalBool(in); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Actions[0].Eval(in); err != nil {
		t.Fatal(err)
	}
	if l.gets != 1 {
		t.Errorf("%d reads of the contact, want 1", l.gets)
	}
	// A new record is read afresh.
	in.Record = &store.Record{ID: "d2", Values: map[string]any{"contact": "c2"}}
	if _, err := r.When.Eval(in); err != nil || l.gets != 2 {
		t.Errorf("reads = %d, %v", l.gets, err)
	}
}
