package sdktest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// finder lists records with filters it builds from values with the SDK.
type finder struct{ sdk.Base }

func (*finder) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "finder", Version: "1.0.0", Actions: []sdk.Action{
		{Name: "eq", Args: []sdk.Arg{
			{Name: "entity", Type: sdk.TypeString, Required: true},
			{Name: "field", Type: sdk.TypeString, Required: true},
			{Name: "value", Type: sdk.TypeText, Required: true}}},
		{Name: "where", Args: []sdk.Arg{
			{Name: "entity", Type: sdk.TypeString, Required: true},
			{Name: "filter", Type: sdk.TypeString, Required: true}}},
	}}
}

// Invoke answers the ids of the records that match: "eq" builds
// sdk.Eq(field, value) from its arguments, "where" takes a whole filter.
func (*finder) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		Entity, Field, Filter string
		Value                 any
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, err
	}
	filter := a.Filter
	if call.Action == "eq" {
		filter = sdk.Eq(a.Field, a.Value)
	}
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: a.Entity, Filter: filter, Limit: 1000})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, r := range page.Items {
		ids = append(ids, r.ID())
	}
	slices.Sort(ids)
	return ids, nil
}

// hostile are names that break out of a filter built by hand, in several
// scripts, with quotes, escapes and controls.
var hostile = []string{
	`x" || true || "`, `x' || true || '`, `\" || true || \"`, `\' || true || \'`,
	`trailing backslash \`, `\\`, `"`, `'`, "`", "a`) || true || (`b", `") || (true`,
	"Անի \" || name != \"", "Ани' || true || 'а", "علی\" || true || \"", "张伟\\\" || true || \\\"",
	"line\nbreak", "tab\there", "cr\r\nlf", "sep\u2028ara\u2029tor", "\u202eright-to-left\u202c",
	"emoji 🚗\" || true || \"🚙", `${name}`, `%v %s %%`, `\u0022 || true || \u0022`, `\x22`, `\042`,
	`""`, "a  b",
}

// TestFiltersFromValuesAgainstTheRealCompiler: every hostile string,
// rendered by the SDK and compiled by the real host's filter compiler,
// matches exactly the record that holds it, alone and combined; numbers,
// dates, money amounts and lists compare as the filter language expects.
func TestFiltersFromValuesAgainstTheRealCompiler(t *testing.T) {
	h := sdktest.Start(t, &finder{}, sdktest.Options{
		Read: []string{"contact", "vehicle"},
		Config: `
entity "vehicle" {
  field "vin"     { type = "string" }
  field "mileage" { type = "int" }
  field "price"   { type = "money" }
  field "expires" { type = "date" }
  field "sold"    { type = "bool" }
}
`,
	})
	find := func(action string, args map[string]any) []string {
		t.Helper()
		var ids []string
		if err := h.InvokeInto(sdk.Call{Action: action, Args: args}, &ids); err != nil {
			t.Fatalf("%s %v: %v", action, args, err)
		}
		return ids
	}
	where := func(entity, filter string) []string {
		t.Helper()
		return find("where", map[string]any{"entity": entity, "filter": filter})
	}

	ids := map[string]string{}
	for _, name := range hostile {
		values := map[string]any{"name": "holder", "notes": name}
		if singleLine(name) {
			values["source"] = name
		}
		c := h.Create("contact", values)
		ids[name] = c.ID()
	}
	decoy := h.Create("contact", map[string]any{"name": "decoy", "source": "x", "notes": "x"}).ID()

	for _, name := range hostile {
		want := []string{ids[name]}
		for _, field := range []string{"source", "notes"} { // indexed, scanned
			if field == "source" && !singleLine(name) {
				continue
			}
			if got := find("eq", map[string]any{"entity": "contact", "field": field, "value": name}); !slices.Equal(got, want) {
				t.Errorf("Eq(%s, %q) in the plugin: %v, want %v", field, name, got, want)
			}
		}
		if got := where("contact", sdk.And(sdk.Eq("notes", name), sdk.Eq("name", "holder"))); !slices.Equal(got, want) {
			t.Errorf("And(Eq(notes, %q), ...): %v, want %v", name, got, want)
		}
		if got := where("contact", sdk.Filterf("notes == %v && name != %v", name, "decoy")); !slices.Equal(got, want) {
			t.Errorf("Filterf with %q: %v, want %v", name, got, want)
		}
		if got := where("contact", sdk.Ne("notes", name)); len(got) != len(hostile) || slices.Contains(got, ids[name]) {
			t.Errorf("Ne(notes, %q): %d records, want all %d others", name, len(got), len(hostile))
		}
	}
	in := where("contact", sdk.In("source", hostile[0], hostile[14], "nobody"))
	if want := sortedOf(ids[hostile[0]], ids[hostile[14]]); !slices.Equal(in, want) {
		t.Errorf("In: %v, want %v", in, want)
	}
	if got := where("contact", sdk.Filterf("source in %v", []string{"x", hostile[1]})); !slices.Equal(got, sortedOf(decoy, ids[hostile[1]])) {
		t.Errorf("Filterf in a slice: %v", got)
	}
	if got := where("contact", sdk.In("source")); len(got) != 0 {
		t.Errorf("In with no values: %v", got)
	}
	if got := where("contact", sdk.Or(sdk.Eq("source", "x"), sdk.Not(sdk.Ne("source", hostile[2])))); !slices.Equal(got, sortedOf(decoy, ids[hostile[2]])) {
		t.Errorf("Or(..., Not(...)): %v", got)
	}

	old := h.Create("vehicle", map[string]any{"vin": "OLD", "mileage": 180000, "sold": true,
		"price": map[string]any{"amount": "4500.50", "currency": "USD"}, "expires": "2024-06-30"}).ID()
	fresh := h.Create("vehicle", map[string]any{"vin": "NEW", "mileage": 12, "sold": false,
		"price": map[string]any{"amount": "31000", "currency": "USD"}, "expires": "2031-01-15"}).ID()
	june := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{sdk.Gt("mileage", 100000), []string{old}},
		{sdk.Le("mileage", int64(12)), []string{fresh}},
		{sdk.Gt("mileage", -1), sortedOf(old, fresh)},
		{sdk.Lt("mileage", uint64(1<<63)), sortedOf(old, fresh)},
		{sdk.Ge("price.amount", 4500.5), sortedOf(old, fresh)},
		{sdk.Gt("price.amount", 4500.5), []string{fresh}},
		{sdk.Eq("sold", true), []string{old}},
		{sdk.Eq("expires", june), []string{old}},
		{sdk.Gt("expires", june), []string{fresh}},
		{sdk.Lt("expires", june.Add(time.Nanosecond)), []string{old}},
		{sdk.Gt("created_at", time.Now().Add(-time.Hour)), sortedOf(old, fresh)},
		{sdk.Gt("created_at", time.Now().Add(time.Hour)), nil},
		{sdk.Filterf("mileage %% 2 == %v && vin in %v", 0, [2]string{"OLD", "NEW"}), sortedOf(old, fresh)},
		{sdk.And(sdk.Eq("sold", false), sdk.Ge("expires", june), sdk.Ne("vin", nil)), []string{fresh}},
	} {
		if got := where("vehicle", c.filter); !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}

// singleLine reports whether a string field (not text) takes s.
func singleLine(s string) bool {
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func sortedOf(ids ...string) []string {
	slices.Sort(ids)
	return ids
}
