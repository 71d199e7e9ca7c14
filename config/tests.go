package config

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Rule tests are test blocks next to the rules; `crm rules test` runs them.
// This file decodes them and checks what needs no schema: the shape of
// each block, the rule it names, its event, time and user. The field
// values of given, old and related blocks are checked against the schema
// by the rules package, which also runs the tests.

// DefaultTestNow is the clock of a test that gives no now, so that tests
// are repeatable.
var DefaultTestNow = time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC)

// TestEvents are the events a test's event may name besides a plugin's
// event ("call.missed").
var TestEvents = []string{"created", "updated", "deleted", "stage_changed", "schedule"}

// TestUserKeys are the keys of a test's user object.
var TestUserKeys = []string{"id", "email", "name", "role"}

// Test is a test block: a record given to one rule, and what the rule is
// expected to do with it.
type Test struct {
	Name  string
	Rule  string      // the rule tested; it names a rule of the configuration
	Event string      // "" means the rule's first trigger's event ("schedule" for a scheduled rule)
	Now   time.Time   // the evaluation's clock; DefaultTestNow when not given
	Given *TestValues // the record; never nil after a load without errors (empty when only Payload is given)
	// Payload is a plugin event's payload, for a rule on an event whose
	// manifest declares it (the rules package checks its values against
	// that declaration); nil when absent.
	Payload *TestValues
	Old     *TestValues // the previous version's values that differ from Given; nil when absent
	User    *TestUser   // who made the change; nil when absent
	Related []*TestRelated
	Counts  []*TestCount
	Expect  *TestExpect // never nil after a load without errors
	Range   hcl.Range   // the block header

	attrs map[string]hcl.Range // the value range of each attribute present
}

// At is the range of the value of attribute attr of the test block (rule,
// event, now, given, payload, old, user), or the block header when it is
// absent.
func (t *Test) At(attr string) hcl.Range {
	if r, ok := t.attrs[attr]; ok {
		return r
	}
	return t.Range
}

// TestValues is an object of field values in a test: given, old, or the
// body of a related block. Values are plain Go values as a JSON decoder
// gives them (string, int64 or float64, bool, nil, []any, map[string]any),
// in the shapes the API takes: money as { amount = "1500.00", currency =
// "AMD" }, dates as "2026-03-21", date-times as RFC 3339.
type TestValues struct {
	Fields []*TestValue // in source order
	Range  hcl.Range    // the object, or the block's header
}

// TestValue is one field value of a TestValues, or one expected argument
// of an action.
type TestValue struct {
	Name      string
	Value     any
	NameRange hcl.Range // the key
	Range     hcl.Range // the value
}

// Get returns the value named name, or nil.
func (v *TestValues) Get(name string) *TestValue {
	if v == nil {
		return nil
	}
	for _, f := range v.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// TestUser is a test's user: who made the change, as `user` sees it.
type TestUser struct {
	ID, Email, Name, Role string
	Range                 hcl.Range            // the object
	Keys                  map[string]hcl.Range // the value range of each key given
}

// TestRelated is a related block: the record that the ref field Field of
// the given record points at, for related() in expressions.
type TestRelated struct {
	Field      string // the ref field, the block's label
	Values     *TestValues
	Range      hcl.Range // the block header
	LabelRange hcl.Range
}

// TestCount is a count block: what count_related(Entity, ...) returns in
// the test, whatever its filter. It is 0 for an entity with no count block.
type TestCount struct {
	Entity     string // the block's label
	Value      int
	Range      hcl.Range // the block header
	LabelRange hcl.Range
}

// TestExpect is a test's expect block.
type TestExpect struct {
	// Matched is whether the rule's when must hold: as given, or else true
	// when there are actions and false when there are none.
	Matched bool
	// Actions are the expected actions in order; empty means that the
	// actions are not compared.
	Actions []*TestAction
	Range   hcl.Range // the block header
}

// TestAction is an action block of an expect block: the action expected
// at its place, and the expected values of the arguments it lists, as
// literal HCL values in the shapes of TestValues.
type TestAction struct {
	Kind       string       // "create_task", "notify", ... or "PLUGIN.ACTION"
	Args       []*TestValue // in source order
	Range      hcl.Range    // the block header
	LabelRange hcl.Range
}

var testSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "rule", Required: true},
		{Name: "event"}, {Name: "now"}, {Name: "given"}, {Name: "payload"},
		{Name: "old"}, {Name: "user"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "related", LabelNames: []string{"field"}},
		{Type: "count", LabelNames: []string{"entity"}},
		{Type: "expect"},
	},
}

var countSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "value", Required: true}}}

var expectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "matched"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "action", LabelNames: []string{"kind"}}},
}

// decodeTest decodes a test block.
func (l *loader) decodeTest(hb *hcl.Block) {
	b, blocks := l.open(hb, testSchema)
	t := &Test{Name: hb.Labels[0], Now: DefaultTestNow, Range: hb.DefRange, attrs: b.src.attrs}
	b.str("rule", &t.Rule)
	b.str("event", &t.Event)
	var now string
	b.str("now", &now)
	if b.src.ok("now") {
		at, err := time.Parse(time.RFC3339, now)
		if err != nil {
			b.fail("now", fmt.Sprintf("invalid now %q", now), `now is an RFC 3339 time, e.g. "2026-03-21T09:00:00+04:00"`)
		} else {
			t.Now = at
		}
	}
	t.Given = l.testValues(b, "given")
	t.Payload = l.testValues(b, "payload")
	switch {
	case t.Given == nil && t.Payload != nil: // a plugin event without a subject record
		t.Given = &TestValues{Range: hb.DefRange}
	case !b.src.has("given") && !b.src.has("payload"):
		l.report(b.src.name, fmt.Sprintf("test %q gives no record", t.Name),
			`give the record the rule gets, e.g. given = { name = "Ani" }, or, for a rule on a plugin event, its payload = { ... }`)
	}
	t.Old = l.testValues(b, "old")
	t.User = l.testUser(b)
	var expect *hcl.Block
	for _, sb := range blocks {
		switch sb.Type {
		case "related":
			t.Related = append(t.Related, l.decodeRelated(sb))
		case "count":
			t.Counts = append(t.Counts, l.decodeCount(sb))
		case "expect":
			if expect != nil {
				l.report(sb.DefRange, "duplicate expect block", "first defined at "+where(expect.DefRange))
				continue
			}
			expect = sb
			t.Expect = l.decodeExpect(sb)
		}
	}
	if expect == nil {
		l.report(b.src.name, fmt.Sprintf("test %q has no expect block", t.Name),
			`say what the rule must do, e.g. expect { action "notify" { message = "..." } }, or expect { matched = false }`)
	}
	l.src[t] = b.src
	l.cfg.Tests = append(l.cfg.Tests, t)
}

// testValues decodes an object attribute of field values: given, payload
// or old.
func (l *loader) testValues(b *block, attr string) *TestValues {
	a, present := b.attrs[attr]
	if !present {
		return nil
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		b.fail(attr, fmt.Sprintf("%s must be an object of field values", attr), fmt.Sprintf(`write it in braces, e.g. %s = { name = "Ani" }`, attr))
		return nil
	}
	vs := &TestValues{Range: a.Expr.Range()}
	for _, p := range pairs {
		tv, ok := l.testPair(p, attr)
		if !ok {
			b.src.failed[attr] = true
			continue
		}
		if prev := vs.Get(tv.Name); prev != nil {
			l.report(tv.NameRange, fmt.Sprintf("duplicate field %q in %s", tv.Name, attr), "first given at "+where(prev.NameRange))
			continue
		}
		vs.Fields = append(vs.Fields, tv)
	}
	return vs
}

// testPair decodes one key = value of an object.
func (l *loader) testPair(p hcl.KeyValuePair, in string) (*TestValue, bool) {
	k, diags := p.Key.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	if k.IsNull() || !k.IsWhollyKnown() || k.Type() != cty.String {
		l.report(p.Key.Range(), fmt.Sprintf("the keys of %s must be names", in), "")
		return nil, false
	}
	v, ok := l.literalValue(p.Value)
	if !ok {
		return nil, false
	}
	return &TestValue{Name: k.AsString(), Value: v, NameRange: p.Key.Range(), Range: p.Value.Range()}, true
}

// literalValue evaluates a value without variables or functions into
// plain Go (null is nil).
func (l *loader) literalValue(e hcl.Expression) (any, bool) {
	v, diags := e.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return nil, false
	}
	if !v.IsWhollyKnown() {
		l.report(e.Range(), "a value in a test must be a literal", "")
		return nil, false
	}
	return goValue(v), true
}

// attrValues decodes the attributes of a block body (a related block, an
// expected action) into values, in source order.
func (l *loader) attrValues(hb *hcl.Block) []*TestValue {
	attrs, diags := hb.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	out := make([]*TestValue, 0, len(attrs))
	for name, a := range attrs {
		v, ok := l.literalValue(a.Expr)
		if !ok {
			continue
		}
		out = append(out, &TestValue{Name: name, Value: v, NameRange: a.NameRange, Range: a.Expr.Range()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NameRange.Start.Byte < out[j].NameRange.Start.Byte })
	return out
}

// testUser decodes user = { id, email, name, role }.
func (l *loader) testUser(b *block) *TestUser {
	a, present := b.attrs["user"]
	if !present {
		return nil
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		b.fail("user", "user must be an object", `write it in braces, e.g. user = { id = "u1", role = "sales" }`)
		return nil
	}
	u := &TestUser{Range: a.Expr.Range(), Keys: map[string]hcl.Range{}}
	for _, p := range pairs {
		tv, ok := l.testPair(p, "user")
		if !ok {
			continue
		}
		if !slices.Contains(TestUserKeys, tv.Name) {
			l.report(tv.NameRange, fmt.Sprintf("unknown key %q in user", tv.Name), hint(tv.Name, TestUserKeys, "keys"))
			continue
		}
		if _, dup := u.Keys[tv.Name]; dup {
			l.report(tv.NameRange, fmt.Sprintf("duplicate key %q in user", tv.Name), "first given at "+where(u.Keys[tv.Name]))
			continue
		}
		s, ok := tv.Value.(string)
		if !ok {
			l.report(tv.Range, fmt.Sprintf("user %s must be a string", tv.Name), "")
			continue
		}
		u.Keys[tv.Name] = tv.Range
		switch tv.Name {
		case "id":
			u.ID = s
		case "email":
			u.Email = s
		case "name":
			u.Name = s
		case "role":
			u.Role = s
		}
	}
	return u
}

func (l *loader) decodeRelated(hb *hcl.Block) *TestRelated {
	r := &TestRelated{Field: hb.Labels[0], Range: hb.DefRange, LabelRange: hb.LabelRanges[0]}
	r.Values = &TestValues{Fields: l.attrValues(hb), Range: hb.DefRange}
	return r
}

func (l *loader) decodeCount(hb *hcl.Block) *TestCount {
	b, _ := l.open(hb, countSchema)
	c := &TestCount{Entity: hb.Labels[0], Range: hb.DefRange, LabelRange: hb.LabelRanges[0]}
	if v, ok := b.value("value"); ok {
		n, whole := int64(-1), false
		if v.Type() == cty.Number {
			bf := v.AsBigFloat()
			var acc big.Accuracy
			n, acc = bf.Int64()
			whole = bf.IsInt() && acc == big.Exact
		}
		if !whole || n < 0 || n > 1<<31-1 {
			b.fail("value", "value must be a whole number of at least 0", `it is what count_related returns, e.g. value = 2`)
		} else {
			c.Value = int(n)
		}
	}
	return c
}

func (l *loader) decodeExpect(hb *hcl.Block) *TestExpect {
	b, blocks := l.open(hb, expectSchema)
	e := &TestExpect{Range: hb.DefRange}
	for _, ab := range blocks {
		e.Actions = append(e.Actions, &TestAction{Kind: ab.Labels[0], Args: l.attrValues(ab), Range: ab.DefRange, LabelRange: ab.LabelRanges[0]})
	}
	e.Matched = len(e.Actions) > 0
	b.boolean("matched", &e.Matched)
	if b.src.ok("matched") && !e.Matched && len(e.Actions) > 0 {
		l.report(b.src.at("matched"), "matched = false, but expect lists actions",
			"a rule that does not match does nothing; remove the action blocks or the matched line")
	}
	return e
}

// checkTests checks what a test refers to: its rule, its event and its
// user's role, and that each related field and counted entity is given
// once. The field values are checked against the schema by the rules
// package.
func (l *loader) checkTests() {
	l.cfg.Tests = dedupe(l, "test", "", l.cfg.Tests, func(t *Test) string { return t.Name })
	ruleNames := make([]string, 0, len(l.cfg.Rules))
	for _, r := range l.cfg.Rules {
		ruleNames = append(ruleNames, r.Name)
	}
	for _, t := range l.cfg.Tests {
		s := l.src[t]
		if t.Name == "" {
			l.report(s.name, "a test needs a name", `e.g. test "website_lead_gets_a_task" { ... }`)
		}
		if s.ok("rule") && !slices.Contains(ruleNames, t.Rule) {
			l.report(s.at("rule"), fmt.Sprintf("test %q is of unknown rule %q", t.Name, t.Rule), hint(t.Rule, ruleNames, "rules"))
		}
		if s.ok("event") && !slices.Contains(TestEvents, t.Event) && !isPluginEvent(t.Event) {
			d := fmt.Sprintf(`events: %s, or a plugin's event such as "call.missed"`, strings.Join(TestEvents, ", "))
			if near := Suggest(t.Event, TestEvents); near != "" {
				d = fmt.Sprintf("did you mean %q?", near)
			}
			l.report(s.at("event"), fmt.Sprintf("unknown event %q", t.Event), d)
		}
		if t.User != nil && t.User.Role != "" && t.User.Role != "admin" && l.cfg.Role(t.User.Role) == nil {
			names := []string{"admin"}
			for _, r := range l.cfg.Roles {
				names = append(names, r.Name)
			}
			l.report(t.User.Keys["role"], fmt.Sprintf("unknown role %q", t.User.Role), hint(t.User.Role, names, "roles"))
		}
		seen := map[string]hcl.Range{}
		for _, r := range t.Related {
			if prev, dup := seen[r.Field]; dup {
				l.report(r.LabelRange, fmt.Sprintf("duplicate related %q in test %q", r.Field, t.Name), "first defined at "+where(prev))
				continue
			}
			seen[r.Field] = r.Range
		}
		clear(seen)
		for _, c := range t.Counts {
			if prev, dup := seen[c.Entity]; dup {
				l.report(c.LabelRange, fmt.Sprintf("duplicate count %q in test %q", c.Entity, t.Name), "first defined at "+where(prev))
				continue
			}
			seen[c.Entity] = c.Range
		}
	}
}

// isPluginEvent reports whether ev has the shape of a plugin's event:
// PREFIX.EVENT.
func isPluginEvent(ev string) bool {
	prefix, what, ok := strings.Cut(ev, ".")
	return ok && nameRe.MatchString(prefix) && nameRe.MatchString(what)
}
