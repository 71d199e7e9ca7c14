package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Rule tests (test blocks, see config.Test) give one rule a record and
// say what it must do. A test is turned into an Input as the engine would
// build it, the rule is evaluated with Rule.Evaluate, and the outcome is
// compared with the expect block. Nothing touches a store: related()
// reads the test's related blocks and count_related returns the test's
// count blocks (0 for an entity without one).

// testIDPrefix starts the ids a test gives records that have none.
const testIDPrefix = "test-"

// recordEventNames are the events of a record, which the engine passes
// to expressions without the entity.
var recordEventNames = []string{store.OpCreated, store.OpUpdated, store.OpDeleted, "stage_changed"}

// CheckTests checks every test of cfg against the schema and the compiled
// rules: the field values of given, old and related blocks (as the API
// would take them, so a wrong value is an error at its position), the
// event against the rule's triggers, related fields, counted entities,
// and the expected actions and arguments against the rule's. The
// configuration must have loaded and compiled without errors.
func CheckTests(cfg *config.Config, sch *schema.Schema, set *Set) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if cfg == nil || sch == nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "rules: no configuration or schema"}}
	}
	for _, t := range cfg.Tests {
		_, d := prepareTest(cfg, sch, set, t)
		diags = append(diags, d...)
	}
	return config.SortDiagnostics(diags)
}

// RunTests runs the tests of cfg whose names filter matches (every test
// when filter is nil), in configuration order, and prints a report to w
// in the manner of `go test -v`:
//
//	=== RUN   website_lead_gets_a_task
//	--- PASS: website_lead_gets_a_task (0.00s)
//	=== RUN   big_deal_notifies
//	--- FAIL: big_deal_notifies (0.00s)
//	    action 1 notify: message = "Deal Fleet won", want "Deal Fleet is won"
//	FAIL
//	1 passed, 1 failed
//
// A test whose block has a problem that CheckTests reports fails with it.
// Write errors are ignored.
func RunTests(ctx context.Context, cfg *config.Config, sch *schema.Schema, set *Set, w io.Writer, filter *regexp.Regexp) (passed, failed int) {
	if cfg == nil {
		fmt.Fprintln(w, "no configuration")
		fmt.Fprintln(w, "FAIL")
		return 0, 1
	}
	ran := 0
	for _, t := range cfg.Tests {
		if filter != nil && !filter.MatchString(t.Name) {
			continue
		}
		ran++
		fmt.Fprintf(w, "=== RUN   %s\n", t.Name)
		start := time.Now()
		problems := runTest(ctx, cfg, sch, set, t)
		took := time.Since(start).Seconds()
		if len(problems) == 0 {
			passed++
			fmt.Fprintf(w, "--- PASS: %s (%.2fs)\n", t.Name, took)
			continue
		}
		failed++
		fmt.Fprintf(w, "--- FAIL: %s (%.2fs)\n", t.Name, took)
		for _, p := range problems {
			fmt.Fprintf(w, "    %s\n", p)
		}
	}
	if ran == 0 {
		fmt.Fprintln(w, "no tests to run")
	}
	if failed > 0 {
		fmt.Fprintln(w, "FAIL")
	} else {
		fmt.Fprintln(w, "PASS")
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return passed, failed
}

// runTest runs one test and returns what differed from its expectation.
func runTest(ctx context.Context, cfg *config.Config, sch *schema.Schema, set *Set, t *config.Test) []string {
	tc, diags := prepareTest(cfg, sch, set, t)
	if diags.HasErrors() {
		var out []string
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				out = append(out, config.FormatDiagnostic(d))
			}
		}
		return out
	}
	tc.in.Ctx = ctx
	got, err := tc.rule.Evaluate(tc.in)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	return tc.compare(got)
}

// testCase is a test ready to run.
type testCase struct {
	test *config.Test
	rule *Rule
	in   *Input
	want []wantAction // the expected actions; args of field arguments in canonical form
	pr   printer
}

// wantAction is an expected action with its expected arguments.
type wantAction struct {
	kind string
	args []wantArg
}

type wantArg struct {
	name  string
	value any
}

// preparer builds one test case and collects its problems.
type preparer struct {
	cfg   *config.Config
	sch   *schema.Schema
	test  *config.Test
	rule  *Rule
	ent   *schema.Entity // the rule's entity; nil for a plugin event of no entity
	diags hcl.Diagnostics
}

func (p *preparer) report(r hcl.Range, summary, detail string) {
	p.diags = append(p.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()})
}

// prepareTest turns a test block into an input for its rule and the
// expected outcome.
func prepareTest(cfg *config.Config, sch *schema.Schema, set *Set, t *config.Test) (*testCase, hcl.Diagnostics) {
	p := &preparer{cfg: cfg, sch: sch, test: t}
	p.rule = set.Rule(t.Rule)
	if p.rule == nil {
		p.report(t.At("rule"), fmt.Sprintf("test %q is of unknown rule %q", t.Name, t.Rule), "")
		return nil, p.diags
	}
	if p.rule.Entity != "" {
		p.ent = sch.Entity(p.rule.Entity)
	}
	loc := time.UTC
	if l, err := time.LoadLocation(cfg.Locale.Timezone); err == nil && cfg.Locale.Timezone != "" {
		loc = l
	}
	now := t.Now
	if now.IsZero() {
		now = config.DefaultTestNow
	}
	tc := &testCase{test: t, rule: p.rule, pr: printer{loc: loc}}
	event := p.event()
	lookup := &testLookup{records: map[string]*store.Record{}, counts: map[string]int{}}
	tc.in = &Input{Event: event, Now: now, Location: loc, Lookup: lookup}
	if u := t.User; u != nil {
		tc.in.User = &UserInfo{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
	}
	tc.in.Record = p.record(tc.in)
	tc.in.Old = p.old(tc.in)
	tc.in.Payload = p.payload()
	p.related(tc.in, lookup)
	p.counts(lookup)
	tc.want = p.expect()
	return tc, p.diags
}

// event is the test's event, checked against the rule's triggers, or the
// rule's first trigger's event.
func (p *preparer) event() string {
	var events []string
	if p.rule.Scheduled() {
		events = []string{"schedule"}
	}
	for _, t := range p.rule.On {
		ev := t.String()
		if p.sch.Entity(t.Entity) != nil && slices.Contains(recordEventNames, t.Event) {
			ev = t.Event
		}
		if !slices.Contains(events, ev) {
			events = append(events, ev)
		}
	}
	if p.test.Event == "" {
		if len(events) == 0 {
			return ""
		}
		return events[0]
	}
	if !slices.Contains(events, p.test.Event) {
		detail := "its events: " + strings.Join(events, ", ")
		if p.rule.Scheduled() {
			detail = `it runs on a schedule, with event "schedule"`
		}
		p.report(p.test.At("event"), fmt.Sprintf("rule %q is not triggered by %q", p.rule.Name, p.test.Event), detail)
	}
	return p.test.Event
}

// entityName is the entity of the rule's records: its entity, or the
// prefix of its plugin event.
func (p *preparer) entityName() string {
	if p.rule.Entity != "" {
		return p.rule.Entity
	}
	if p.rule.ForEach != "" {
		return p.rule.ForEach
	}
	if len(p.rule.On) > 0 {
		return p.rule.On[0].Entity
	}
	return "record"
}

// record builds the given record.
func (p *preparer) record(in *Input) *store.Record {
	userID := ""
	if in.User != nil {
		userID = in.User.ID
	}
	entity := p.entityName()
	rec := &store.Record{
		ID: testIDPrefix + entity, Entity: entity, Version: 1,
		CreatedAt: in.Now.UTC(), UpdatedAt: in.Now.UTC(), CreatedBy: userID, Owner: userID,
		Values: map[string]any{},
	}
	if isUpdate(in.Event) {
		rec.Version = 2
	}
	p.apply(rec, p.ent, p.test.Given, "given")
	p.pipelineDefaults(rec, p.ent, p.test.Given, "given")
	return rec
}

// isUpdate reports whether an event has a previous version.
func isUpdate(event string) bool {
	return event == store.OpUpdated || event == "stage_changed"
}

// old builds the previous version for an update: the given record with
// the values of old over it.
func (p *preparer) old(in *Input) *store.Record {
	t := p.test
	if !isUpdate(in.Event) {
		if t.Old != nil {
			p.report(t.At("old"), fmt.Sprintf("old is only for updated and stage_changed events, and this test's event is %q", in.Event), "")
		}
		return nil
	}
	rec := *in.Record
	rec.Version = max(in.Record.Version-1, 1)
	rec.UpdatedAt = in.Record.CreatedAt
	rec.Values = maps.Clone(in.Record.Values)
	if id := t.Old.Get(schema.FieldID); id != nil {
		p.report(id.NameRange, "old cannot change id", "old is the previous version of the given record")
	}
	p.apply(&rec, p.ent, t.Old, "old")
	p.pipelineDefaults(&rec, p.ent, t.Old, "old")
	return &rec
}

// apply normalises the values of vs with the fields of ent, as the API
// would take them, into rec. A null value removes the field's value.
func (p *preparer) apply(rec *store.Record, ent *schema.Entity, vs *config.TestValues, in string) {
	if vs == nil {
		return
	}
	for _, tv := range vs.Fields {
		if schema.IsSystemField(tv.Name) {
			p.system(rec, tv, in)
			continue
		}
		var f *schema.Field
		if ent != nil {
			if f = ent.Field(tv.Name); f == nil {
				p.report(tv.NameRange, fmt.Sprintf("unknown field %q of %s in %s", tv.Name, ent.Name, in), hint(tv.Name, append(ent.FieldNames(), schema.FieldID, schema.FieldOwner), "fields"))
				continue
			}
		}
		v, ok := p.normalize(f, tv, in)
		if !ok {
			continue
		}
		if v == nil {
			delete(rec.Values, tv.Name)
			continue
		}
		rec.Values[tv.Name] = v
	}
}

// normalize is a test value in the canonical form of field f (the value
// as given when f is nil: a record of no known entity).
func (p *preparer) normalize(f *schema.Field, tv *config.TestValue, in string) (any, bool) {
	if f == nil || tv.Value == nil {
		return tv.Value, true
	}
	raw, err := json.Marshal(tv.Value)
	if err != nil {
		p.report(tv.Range, fmt.Sprintf("invalid value of %s in %s", tv.Name, in), err.Error())
		return nil, false
	}
	v, err := f.Normalize(raw)
	if err != nil {
		p.report(tv.Range, fmt.Sprintf("invalid value of %s in %s", tv.Name, in), fieldMessage(err))
		return nil, false
	}
	return v, true
}

// fieldMessage is an error of package schema without the field's name.
func fieldMessage(err error) string {
	var fe *schema.FieldError
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}

// testSystemFields are the system fields a test may give.
var testSystemFields = []string{schema.FieldID, schema.FieldOwner, schema.FieldCreatedBy, schema.FieldCreatedAt, schema.FieldUpdatedAt, schema.FieldVersion}

// system sets a system field of rec.
func (p *preparer) system(rec *store.Record, tv *config.TestValue, in string) {
	if !slices.Contains(testSystemFields, tv.Name) {
		p.report(tv.NameRange, fmt.Sprintf("%s cannot be given in a test", tv.Name), "of the system fields, a test may give "+strings.Join(testSystemFields, ", "))
		return
	}
	f := (&schema.Entity{}).Lookup(tv.Name)
	if tv.Name == schema.FieldID {
		f = &schema.Field{Name: schema.FieldID, Type: config.TypeRef, System: true}
	}
	if tv.Value == nil {
		p.report(tv.Range, fmt.Sprintf("%s in %s cannot be null", tv.Name, in), "every record has it")
		return
	}
	v, ok := p.normalize(f, tv, in)
	if !ok {
		return
	}
	switch x := v.(type) {
	case string:
		switch tv.Name {
		case schema.FieldID:
			rec.ID = x
		case schema.FieldOwner:
			rec.Owner = x
		case schema.FieldCreatedBy:
			rec.CreatedBy = x
		}
	case time.Time:
		if tv.Name == schema.FieldCreatedAt {
			rec.CreatedAt = x
		} else {
			rec.UpdatedAt = x
		}
	case int64:
		rec.Version = x
	}
}

// pipelineDefaults fills in and checks the pipeline and stage of a record
// of an entity with pipelines, as the store does on a write: an empty
// pipeline is the first, an empty stage the pipeline's first stage.
func (p *preparer) pipelineDefaults(rec *store.Record, ent *schema.Entity, vs *config.TestValues, in string) {
	if ent == nil || len(ent.Pipelines()) == 0 {
		return
	}
	pipes := ent.Pipelines()
	name, _ := rec.Values[schema.FieldPipeline].(string)
	if name == "" {
		name = pipes[0].Name
		rec.Values[schema.FieldPipeline] = name
	}
	var pipe *config.Pipeline
	names := make([]string, len(pipes))
	for i, pl := range pipes {
		names[i] = pl.Name
		if pl.Name == name {
			pipe = pl
		}
	}
	if pipe == nil {
		p.reportValue(vs, in, schema.FieldPipeline, fmt.Sprintf("%q is not a pipeline of %s", name, ent.Name), hint(name, names, "pipelines"))
		return
	}
	stage, _ := rec.Values[schema.FieldStage].(string)
	if stage == "" {
		rec.Values[schema.FieldStage] = pipe.Stages[0]
		return
	}
	if !slices.Contains(pipe.Stages, stage) {
		p.reportValue(vs, in, schema.FieldStage, fmt.Sprintf("%q is not a stage of pipeline %q", stage, pipe.Name), hint(stage, pipe.Stages, "stages"))
	}
}

// reportValue reports a wrong value of field in vs; a value that vs does
// not give came from given, where it has been reported.
func (p *preparer) reportValue(vs *config.TestValues, in, field, summary, detail string) {
	switch tv := vs.Get(field); {
	case tv != nil:
		p.report(tv.Range, fmt.Sprintf("invalid value of %s in %s: %s", field, in, summary), detail)
	case vs != nil && in == "given":
		p.report(vs.Range, fmt.Sprintf("invalid value of %s in %s: %s", field, in, summary), detail)
	}
}

// related adds the records of the related blocks to the lookup, and their
// ids to the given record's ref fields that have none.
func (p *preparer) related(in *Input, lookup *testLookup) {
	for _, r := range p.test.Related {
		if p.ent == nil {
			p.report(r.LabelRange, "related needs a rule about the records of an entity", "")
			return
		}
		f := p.ent.Field(r.Field)
		target := (*schema.Entity)(nil)
		if f != nil && f.Type == config.TypeRef {
			target = p.sch.Entity(f.To)
		}
		if target == nil {
			var refs []string
			for _, f := range p.ent.Fields {
				if f.Type == config.TypeRef {
					refs = append(refs, f.Name)
				}
			}
			p.report(r.LabelRange, fmt.Sprintf("unknown ref field %q of %s", r.Field, p.ent.Name), hint(r.Field, refs, "ref fields"))
			continue
		}
		rec := &store.Record{
			ID: testIDPrefix + r.Field, Entity: target.Name, Version: 1,
			CreatedAt: in.Now.UTC(), UpdatedAt: in.Now.UTC(), Owner: in.Record.Owner, CreatedBy: in.Record.CreatedBy,
			Values: map[string]any{},
		}
		given, _ := in.Record.Values[r.Field].(string)
		if given != "" {
			rec.ID = given
		}
		p.apply(rec, target, r.Values, fmt.Sprintf("related %q", r.Field))
		p.pipelineDefaults(rec, target, r.Values, fmt.Sprintf("related %q", r.Field))
		if given != "" && rec.ID != given {
			p.report(r.Values.Get(schema.FieldID).Range, fmt.Sprintf("related %q has id %q, but given.%s is %q", r.Field, rec.ID, r.Field, given), "leave out one of them")
			continue
		}
		in.Record.Values[r.Field] = rec.ID
		if in.Old != nil {
			if _, ok := in.Old.Values[r.Field]; !ok && p.test.Old.Get(r.Field) == nil {
				in.Old.Values[r.Field] = rec.ID
			}
		}
		lookup.records[target.Name+"/"+rec.ID] = rec
	}
}

// counts fills in what count_related returns.
func (p *preparer) counts(lookup *testLookup) {
	for _, c := range p.test.Counts {
		if p.sch.Entity(c.Entity) == nil {
			p.report(c.LabelRange, fmt.Sprintf("unknown entity %q", c.Entity), hint(c.Entity, p.sch.EntityNames(), "entities"))
			continue
		}
		lookup.counts[c.Entity] = c.Value
	}
}

// expect checks the expected actions against the rule's and returns them
// with the values of field arguments in canonical form.
func (p *preparer) expect() []wantAction {
	e := p.test.Expect
	if e == nil {
		return nil
	}
	var kinds []string
	for _, a := range p.rule.Actions {
		if !slices.Contains(kinds, a.Name()) {
			kinds = append(kinds, a.Name())
		}
	}
	out := make([]wantAction, 0, len(e.Actions))
	for i, ea := range e.Actions {
		wa := wantAction{kind: ea.Kind}
		act := p.actionFor(i, ea.Kind)
		if act == nil {
			p.report(ea.LabelRange, fmt.Sprintf("rule %q has no action %q", p.rule.Name, ea.Kind), hint(ea.Kind, kinds, "its actions"))
		}
		for _, tv := range ea.Args {
			if act == nil {
				wa.args = append(wa.args, wantArg{tv.Name, tv.Value})
				continue
			}
			if act.Args[tv.Name] == nil {
				p.report(tv.NameRange, fmt.Sprintf("action %s of rule %q has no argument %q", ea.Kind, p.rule.Name, tv.Name), hint(tv.Name, sortedKeys(act.Args), "its arguments"))
				continue
			}
			v := tv.Value
			if f := fieldOf(act.fieldEntity(), act.Kind, tv.Name); f != nil {
				var ok bool
				if v, ok = p.normalize(f, tv, "expected "+ea.Kind); !ok {
					continue
				}
			}
			wa.args = append(wa.args, wantArg{tv.Name, v})
		}
		out = append(out, wa)
	}
	return out
}

// actionFor is the rule's action that an expected action of kind at
// index i is compared with: the action at i if it is of that kind, else
// the first of that kind; nil if the rule has none.
func (p *preparer) actionFor(i int, kind string) *Action {
	if i < len(p.rule.Actions) && p.rule.Actions[i].Name() == kind {
		return p.rule.Actions[i]
	}
	for _, a := range p.rule.Actions {
		if a.Name() == kind {
			return a
		}
	}
	return nil
}

// compare lists what differs between an outcome and the expectation.
func (tc *testCase) compare(got *Outcome) []string {
	e := tc.test.Expect
	if e == nil {
		return []string{"the test has no expect block"}
	}
	if got.Matched != e.Matched {
		return []string{fmt.Sprintf("matched = %t, want %t", got.Matched, e.Matched)}
	}
	if !got.Matched || len(tc.want) == 0 {
		return nil
	}
	if len(got.Actions) != len(tc.want) {
		kinds := make([]string, len(got.Actions))
		for i, a := range got.Actions {
			kinds[i] = a.Kind
		}
		return []string{fmt.Sprintf("got %d %s, want %d: %s", len(got.Actions), plural(len(got.Actions), "action"), len(tc.want), strings.Join(kinds, ", "))}
	}
	var out []string
	for i, w := range tc.want {
		g := got.Actions[i]
		if g.Kind != w.kind {
			out = append(out, fmt.Sprintf("action %d: got %s, want %s", i+1, g.Kind, w.kind))
			continue
		}
		for _, arg := range w.args {
			gv := g.Args[arg.name]
			if !sameValue(gv, arg.value, tc.pr.loc) {
				out = append(out, fmt.Sprintf("action %d %s: %s = %s, want %s", i+1, g.Kind, arg.name, tc.pr.show(gv), tc.pr.show(arg.value)))
			}
		}
	}
	return out
}

// testLookup is the store of a test: the records of its related blocks,
// and its count blocks.
type testLookup struct {
	records map[string]*store.Record // by entity/id
	counts  map[string]int           // by entity
}

// Get returns a related record of the test, or store.ErrNotFound.
func (l *testLookup) Get(_ context.Context, entity, id string) (*store.Record, error) {
	if r, ok := l.records[entity+"/"+id]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("%s %s: %w", entity, id, store.ErrNotFound)
}

// CountRefs returns the test's count for entity, whatever the filter.
func (l *testLookup) CountRefs(_ context.Context, entity, _, _ string, _ func(*store.Record) (bool, error)) (int, error) {
	return l.counts[entity], nil
}

// sameValue reports whether an evaluated value equals an expected one:
// times as instants (an expected time is an RFC 3339 string, or a date
// "2006-01-02" for a date), durations as durations (an expected one is a
// string such as "2h"), money by amount and currency, numbers by value,
// lists and maps element by element.
func sameValue(got, want any, loc *time.Location) bool {
	switch g := got.(type) {
	case nil:
		return want == nil
	case time.Time:
		return sameTime(g, want, loc)
	case time.Duration:
		switch w := want.(type) {
		case time.Duration:
			return g == w
		case string:
			d, err := parseDuration(w)
			return err == nil && d == g
		}
		return false
	case schema.ExprMoney:
		return sameValue(schema.Money{Minor: g.Minor, Currency: g.Currency}, want, loc)
	case schema.Money:
		w, ok := expectedMoney(want)
		return ok && w == g
	case schema.Decimal:
		return sameNumber(string(g), want)
	case string:
		w, ok := want.(string)
		return ok && w == g
	case bool:
		w, ok := want.(bool)
		return ok && w == g
	case []string:
		l := make([]any, len(g))
		for i, s := range g {
			l[i] = s
		}
		return sameValue(l, want, loc)
	case []any:
		w, ok := want.([]any)
		if !ok || len(w) != len(g) {
			return false
		}
		for i := range g {
			if !sameValue(g[i], w[i], loc) {
				return false
			}
		}
		return true
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok || len(w) != len(g) {
			return false
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok || !sameValue(gv, wv, loc) {
				return false
			}
		}
		return true
	}
	if f, ok := toFloat(got); ok {
		if _, isNum := toFloat(want); !isNum {
			return false
		}
		return sameNumber(fmt.Sprint(got), want) || sameNumber(strconv.FormatFloat(f, 'f', -1, 64), want)
	}
	return reflect.DeepEqual(got, want)
}

// sameTime compares a time with an expected time.
func sameTime(g time.Time, want any, loc *time.Location) bool {
	switch w := want.(type) {
	case time.Time:
		return g.Equal(w)
	case string:
		if t, err := time.Parse(time.RFC3339Nano, w); err == nil {
			return g.Equal(t)
		}
		d, err := time.Parse("2006-01-02", w)
		return err == nil && localDate(g, loc).Equal(d)
	}
	return false
}

// expectedMoney reads an expected money value: { amount, currency }.
func expectedMoney(want any) (schema.Money, bool) {
	switch w := want.(type) {
	case schema.Money:
		return w, true
	case map[string]any:
		cur, _ := w["currency"].(string)
		if len(w) != 2 || cur == "" {
			return schema.Money{}, false
		}
		m, err := toMoney(w["amount"], cur)
		if err != nil {
			return schema.Money{}, false
		}
		return schema.Money{Minor: m.Minor, Currency: m.Currency}, true
	}
	return schema.Money{}, false
}

// sameNumber compares a number's text with an expected number or decimal
// string, exactly.
func sameNumber(g string, want any) bool {
	var ws string
	switch w := want.(type) {
	case string:
		ws = w
	case schema.Decimal:
		ws = string(w)
	case int64, int, float64:
		ws = fmt.Sprint(w)
	default:
		return false
	}
	a, ok1 := new(big.Rat).SetString(g)
	b, ok2 := new(big.Rat).SetString(ws)
	return ok1 && ok2 && a.Cmp(b) == 0
}

// printer shows values the way a test writes them.
type printer struct {
	loc *time.Location // the time zone times are shown in
}

// show writes a value as HCL would: strings quoted, times as quoted RFC
// 3339 in the locale's time zone (a date as "2006-01-02"), durations as
// quoted Go durations, money as { amount = "1500.00", currency = "AMD" }.
func (pr printer) show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case time.Time:
		if isDate(x) {
			return strconv.Quote(x.Format("2006-01-02"))
		}
		loc := pr.loc
		if loc == nil {
			loc = time.UTC
		}
		return strconv.Quote(x.In(loc).Format(time.RFC3339Nano))
	case time.Duration:
		return strconv.Quote(x.String())
	case schema.ExprMoney:
		return pr.show(schema.Money{Minor: x.Minor, Currency: x.Currency})
	case schema.Money:
		return fmt.Sprintf("{ amount = %q, currency = %q }", schema.FormatMoney(x), x.Currency)
	case schema.Decimal:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pr.show(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " = " + pr.show(x[k])
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return fmt.Sprint(v)
}
