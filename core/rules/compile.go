// Package rules compiles workflow rules from the HCL configuration, matches
// events to them and runs their actions.
//
// This file and its neighbours hold the compile layer: Compile turns each
// rule of a *config.Config into a *Rule whose `when`, filter and action
// arguments are expr programs, compiled once and type-checked against the
// schema of the entity the rule is about, so that an unknown field, a
// wrong type or an unknown function is a load error at its line and column
// inside the HCL file. Evaluating a Program never compiles anything.
//
// An expression sees:
//
//	record  the record the rule is about, with its fields and the system fields
//	        (id, owner, created_at, updated_at, version, created_by)
//	old     the previous version of the record on updates; nil otherwise
//	user    who made the change: {id, email, name, role}; nil for the system
//	event   the event's name: "created", "updated", "deleted", "stage_changed",
//	        "schedule", or a plugin's event such as "call.missed"; for a plugin
//	        event whose manifest types its payload, the payload: event.mileage
//
// A rule on a typed plugin event sees as record the event's subject record
// (typed as its entity), or no record when the event declares no subject;
// see events.go.
//
// and the functions listed in functions.go besides expr's own builtins. A
// field without a value is nil: == and != compare it as such, `??` gives a
// default, and other operations on it fail the run.
//
// Expressions only read the store, through a Lookup; the Engine applies
// the actions. Diagnostics follow package config: the Summary says what
// is wrong, the Detail gives the hint, the Subject is the exact place.
//
// It owns rules from compile to run: matching, runs and their retries,
// schedules, and the outside effects of actions (webhooks, e-mail). It must
// not import core/api, core/app, core/auth or core/plugins: users and
// plugin actions reach it through the functions of Options, and it writes
// records only through the store, as the actor rule:NAME.
package rules

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	exprpatcher "github.com/expr-lang/expr/patcher"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"github.com/hashicorp/hcl/v2"
	"github.com/robfig/cron/v3"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// Rule is a compiled rule.
type Rule struct {
	Name    string
	Entity  string        // the entity the rule is about; "" for plugin events of no entity of the schema
	On      []Trigger     // record and plugin event triggers; empty for scheduled rules
	Every   time.Duration // scheduled: every
	Cron    cron.Schedule // scheduled: cron, in the locale's time zone
	ForEach string        // scheduled: the entity whose records the rule runs for
	Filter  *Program      // scheduled: the list filter that picks the records; nil if absent
	When    *Program      // nil means always
	Actions []*Action
	Config  *config.Rule
	// Event is the plugin event the rule is on, when its manifest (or the
	// first-party table) declares it; nil otherwise.
	Event *config.PluginEvent
}

// Scheduled reports whether the rule runs on a schedule rather than on events.
func (r *Rule) Scheduled() bool { return r.Every > 0 || r.Cron != nil }

// Trigger is one event of a rule's on: {"deal", "stage_changed"}, or for a
// plugin event "call.missed", {"call", "missed"}.
type Trigger struct {
	Entity, Event string
}

// Matches reports whether an event of a record of entity triggers t.
func (t Trigger) Matches(entity, event string) bool {
	return t.Entity == entity && t.Event == event
}

// String is the event as the configuration writes it: "deal.created".
func (t Trigger) String() string { return t.Entity + "." + t.Event }

// Action kinds.
const (
	KindSet          = "set"
	KindCreateRecord = "create_record"
	KindCreateTask   = "create_task"
	KindNotify       = "notify"
	KindWebhook      = "webhook"
	KindPlugin       = "plugin"
)

// Action is a compiled action: its kind, its index in the rule (for
// idempotency keys), and each argument compiled.
type Action struct {
	Kind         string // set | create_record | create_task | notify | webhook | plugin
	Plugin       string // for kind plugin: the plugin, e.g. "doctemplates"
	PluginAction string // for kind plugin: its action, e.g. "generate_document"
	Index        int
	Target       string // create_record: the entity created; set: the rule's entity
	Args         map[string]*Program
	Range        hcl.Range
	target       *schema.Entity
}

// Set is every compiled rule of a configuration. It is immutable.
type Set struct {
	Rules   []*Rule
	byName  map[string]*Rule
	byEvent map[Trigger][]*Rule
}

// Rule returns the rule with the given name, or nil.
func (s *Set) Rule(name string) *Rule {
	if s == nil {
		return nil
	}
	if s.byName != nil {
		return s.byName[name]
	}
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Matching returns the rules that an event triggers, in configuration
// order: a record event (entity "deal", event created, updated, deleted or
// stage_changed) or a plugin event (entity "call", event "missed"; or
// entity "" and event "call.missed"). The slice is shared: do not change it.
func (s *Set) Matching(entity, event string) []*Rule {
	if s == nil {
		return nil
	}
	if entity == "" {
		entity, event, _ = strings.Cut(event, ".")
	}
	t := Trigger{Entity: entity, Event: event}
	if s.byEvent != nil {
		return s.byEvent[t]
	}
	var out []*Rule
	for _, r := range s.Rules {
		if slices.Contains(r.On, t) {
			out = append(out, r)
		}
	}
	return out
}

// add indexes a rule.
func (s *Set) add(r *Rule) {
	s.Rules = append(s.Rules, r)
	s.byName[r.Name] = r
	seen := map[Trigger]bool{}
	for _, t := range r.On {
		if !seen[t] {
			seen[t] = true
			s.byEvent[t] = append(s.byEvent[t], r)
		}
	}
}

// compiler holds the state of one Compile.
type compiler struct {
	cfg    *config.Config
	sch    *schema.Schema
	loc    *time.Location
	tz     string
	lang   string
	scopes map[string]*scope
	diags  hcl.Diagnostics
}

// scope is what the expressions of rules about one entity see.
type scope struct {
	sch    *schema.Schema
	entity *schema.Entity // nil when the record's shape is not known
	// event is the typed plugin event of rules on one, and payload its
	// payload's fields as an entity (nil when the declaration is wrong).
	event   *config.PluginEvent
	payload *schema.Entity
	loc     *time.Location
	lang    string
	opts    []expr.Option
}

// Compile compiles every rule of cfg against the schema: its triggers and
// schedule, its filter, its when and every argument of its actions. It
// collects every problem as a diagnostic rather than stopping at the
// first; the Set is never nil, but a caller must treat diags.HasErrors()
// as failure.
func Compile(cfg *config.Config, sch *schema.Schema) (*Set, hcl.Diagnostics) {
	set := &Set{byName: map[string]*Rule{}, byEvent: map[Trigger][]*Rule{}}
	if cfg == nil || sch == nil {
		return set, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "rules: no configuration or schema"}}
	}
	c := newCompiler(cfg, sch)
	for _, cr := range cfg.Rules {
		if cr != nil && set.byName[cr.Name] == nil {
			set.add(c.rule(cr))
		}
	}
	return set, config.SortDiagnostics(c.diags)
}

func newCompiler(cfg *config.Config, sch *schema.Schema) *compiler {
	c := &compiler{cfg: cfg, sch: sch, loc: time.UTC, tz: "UTC", lang: cfg.Locale.Default, scopes: map[string]*scope{}}
	if loc, err := time.LoadLocation(cfg.Locale.Timezone); err == nil && cfg.Locale.Timezone != "" {
		c.loc, c.tz = loc, cfg.Locale.Timezone
	}
	return c
}

// rule compiles one rule.
func (c *compiler) rule(cr *config.Rule) *Rule {
	r := &Rule{Name: cr.Name, Config: cr}
	c.triggers(r, cr)
	c.schedule(r, cr)
	sc := c.scope(r.Entity)
	if r.Event != nil && r.Event.Typed {
		sc = c.eventScope(r.Event, cr)
	}
	if cr.Filter != nil {
		r.Filter = c.filter(sc, cr.Filter)
	}
	if cr.When != nil {
		r.When = c.when(sc, cr.When)
	}
	for i, a := range cr.Actions {
		if a != nil {
			r.Actions = append(r.Actions, c.action(sc, a, i))
		}
	}
	return r
}

// triggers reads on. Every event of a rule must be about the same entity,
// because its expressions are checked against that entity's fields.
func (c *compiler) triggers(r *Rule, cr *config.Rule) {
	first := ""
	for i, ev := range cr.On {
		ent, what, ok := strings.Cut(ev, ".")
		if !ok || ent == "" || what == "" {
			c.report(c.elemRange(cr.Range, "on", i), fmt.Sprintf("invalid event %q", ev), `an event is ENTITY.EVENT, e.g. "deal.created", or a plugin event, e.g. "call.missed"`)
			continue
		}
		r.On = append(r.On, Trigger{Entity: ent, Event: what})
		name, about := "", fmt.Sprintf("plugin event %q", ev)
		pe := c.cfg.Event(ev)
		if pe == nil && c.sch.Entity(ent) == nil && c.cfg.PluginEventsKnown {
			c.report(c.elemRange(cr.Range, "on", i), fmt.Sprintf("unknown event %q", ev), c.eventHint(ev))
		}
		switch {
		case pe != nil && pe.Typed: // a plugin's event, maybe about its own entity: invoice.overdue
			name = pe.Subject
		case pe != nil:
		case c.sch.Entity(ent) != nil:
			name, about = ent, ent
		}
		if len(r.On) == 1 {
			r.Entity, first, r.Event = name, about, pe
			continue
		}
		if (pe != nil && pe.Typed) || (r.Event != nil && r.Event.Typed) {
			c.report(c.elemRange(cr.Range, "on", i), fmt.Sprintf("rule %q is on typed plugin event %q and on %q", r.Name, r.On[0].String(), ev),
				"a rule on a plugin event whose payload is declared is on that event alone, whose payload its expressions use; write one rule per event")
			continue
		}
		if name != r.Entity {
			c.report(c.elemRange(cr.Range, "on", i), fmt.Sprintf("rule %q has events of %s and of %s", r.Name, first, about),
				"a rule is about the records of one entity, whose fields its expressions use; write one rule per entity")
		}
	}
}

// schedule reads every, cron and for_each.
func (c *compiler) schedule(r *Rule, cr *config.Rule) {
	if cr.Every != "" {
		d, err := time.ParseDuration(cr.Every)
		if err != nil || d <= 0 {
			c.report(c.attrRange(cr.Range, "every"), fmt.Sprintf("invalid duration %q", cr.Every), `every takes a duration such as "30m", "1h" or "24h"`)
		}
		r.Every = max(d, 0)
	}
	if cr.Cron != "" {
		spec := cr.Cron
		if !strings.HasPrefix(spec, "TZ=") && !strings.HasPrefix(spec, "CRON_TZ=") {
			spec = "CRON_TZ=" + c.tz + " " + spec
		}
		s, err := cron.ParseStandard(spec)
		if err != nil {
			c.report(c.attrRange(cr.Range, "cron"), fmt.Sprintf("invalid cron spec %q", cr.Cron), err.Error())
		}
		r.Cron = s
	}
	if cr.ForEach != "" && len(r.On) == 0 {
		r.ForEach, r.Entity = cr.ForEach, cr.ForEach
	}
}

// scope returns the scope of rules about entity, built once per entity.
func (c *compiler) scope(entity string) *scope {
	if sc := c.scopes[entity]; sc != nil {
		return sc
	}
	sc := &scope{sch: c.sch, entity: c.sch.Entity(entity), loc: c.loc, lang: c.lang}
	sc.opts = append([]expr.Option{expr.Env(sc.envType()), expr.Patch(exprpatcher.WithTimezone{Location: c.loc})}, functionOptions...)
	c.scopes[entity] = sc
	return sc
}

// eventScope returns the scope of rules on the typed plugin event ev,
// built once per event: its payload is `event`, its subject `record`.
func (c *compiler) eventScope(ev *config.PluginEvent, cr *config.Rule) *scope {
	key := "event:" + ev.Name
	if sc := c.scopes[key]; sc != nil {
		return sc
	}
	sc := &scope{sch: c.sch, entity: c.sch.Entity(ev.Subject), loc: c.loc, lang: c.lang, event: ev}
	payload, err := payloadEntity(c.cfg, c.sch, ev)
	if err != nil {
		c.report(c.elemRange(cr.Range, "on", 0), err.Error(), fmt.Sprintf("the manifest of plugin %q declares it", ev.Plugin))
		payload = nil
	}
	if ev.Subject != "" && sc.entity == nil {
		c.report(c.elemRange(cr.Range, "on", 0), fmt.Sprintf("plugin event %q is about %q, which is not an entity", ev.Name, ev.Subject),
			fmt.Sprintf("the manifest of plugin %q declares it", ev.Plugin))
	}
	sc.payload = payload
	sc.opts = append([]expr.Option{expr.Env(sc.envType()), expr.Patch(exprpatcher.WithTimezone{Location: c.loc})}, functionOptions...)
	c.scopes[key] = sc
	return sc
}

// envType is the static type of the environment, for the checker.
func (sc *scope) envType() types.Map {
	if sc.event != nil {
		return sc.eventEnvType()
	}
	record, related := sc.recordTypes(types.Any)
	return types.Map{
		"record":   record,
		"old":      record,
		"user":     userType(),
		"event":    types.String,
		stateVar:   types.TypeOf(&evalState{}),
		relatedVar: related,
	}
}

// recordTypes are the static types of `record` (none when the scope has
// no entity) and of the records its ref fields lead to, for related().
func (sc *scope) recordTypes(none types.Type) (types.Type, types.Map) {
	related := types.Map{}
	if sc.entity == nil {
		return none, related
	}
	for _, f := range sc.entity.Fields {
		if t := sc.refTarget(f.Name); t != nil {
			related[f.Name] = t.ExprType()
		}
	}
	return sc.entity.ExprType(), related
}

// userType is the static type of `user`.
func userType() types.Map {
	user := types.Map{}
	for _, f := range userFields {
		user[f] = types.String
	}
	return user
}

// eventEnvType is the environment of rules on a typed plugin event: the
// payload as event, the subject record (or none: a map without fields) as
// record, and no old version.
func (sc *scope) eventEnvType() types.Map {
	record, related := sc.recordTypes(types.Map{})
	var event types.Type = types.Map{}
	if sc.payload != nil {
		event = payloadType(sc.payload)
	}
	return types.Map{
		"record":   record,
		"old":      types.Nil,
		"user":     userType(),
		"event":    event,
		stateVar:   types.TypeOf(&evalState{}),
		relatedVar: related,
	}
}

// refTarget is the entity that the ref field name of the scope's entity
// points at, or nil.
func (sc *scope) refTarget(name string) *schema.Entity {
	if sc.entity == nil {
		return nil
	}
	f := sc.entity.Field(name)
	if f == nil || f.Type != config.TypeRef {
		return nil
	}
	return sc.sch.Entity(f.To)
}

// refNames are the ref fields of the scope's entity.
func (sc *scope) refNames() []string {
	var names []string
	for _, f := range sc.entity.Fields {
		if f.Type == config.TypeRef {
			names = append(names, f.Name)
		}
	}
	return names
}

// compiled is an expression compiled in a scope, with what its checks need.
type compiled struct {
	prog *Program
	nt   nature.Nature // the static type of its result
	node ast.Node      // its optimised tree
}

// compile parses, patches, type-checks, optimises and compiles one
// expression, reporting its first problem; nil when there is one.
func (c *compiler) compile(sc *scope, x *config.Expr) *compiled {
	ec := conf.CreateNew()
	for _, op := range sc.opts {
		op(ec)
	}
	ec.Check()
	tree, err := parser.ParseWithConfig(x.Source, ec)
	if err != nil {
		c.reportIn(x, fromError(x.Source, err))
		return nil
	}
	pt := newPatcher(sc)
	ast.Walk(&tree.Node, pt)
	if len(pt.errs) > 0 {
		for _, e := range pt.errs {
			c.reportIn(x, e)
		}
		return nil
	}
	if _, err := new(checker.Checker).PatchAndCheck(tree, ec); err != nil {
		c.reportIn(x, sc.explain(fromError(x.Source, err), tree.Node, pt.calls))
		return nil
	}
	nt := *tree.Node.Nature()
	prog, err := optimiseAndCompile(tree, ec)
	if err != nil {
		c.reportIn(x, fromError(x.Source, err))
		return nil
	}
	p := &Program{Source: x.Source, Range: x.Range, prog: prog, out: typeName(nt), scope: sc, refs: pt.refs, counts: pt.counts}
	return &compiled{prog: p, nt: nt, node: tree.Node}
}

// optimiseAndCompile is the end of expr.Compile, for a checked tree.
func optimiseAndCompile(tree *parser.Tree, ec *conf.Config) (*vm.Program, error) {
	if err := optimizer.Optimize(&tree.Node, ec); err != nil {
		if fe, ok := err.(*file.Error); ok {
			return nil, fe.Bind(tree.Source)
		}
		return nil, err
	}
	ast.Walk(&tree.Node, visitor(untypeEquality))
	exprbudget.Instrument(&tree.Node, stepCosts)
	return exprcompiler.Compile(tree, ec)
}

// anyType is the type of a value only the run can tell.
var anyType = reflect.TypeOf((*any)(nil)).Elem()

// untypeEquality makes == and != between two strings or two ints compare
// in the general way. expr compiles them to operations that assert both
// sides' types, which fail at run time on a field that has no value (nil),
// where `record.stage == 'won'` must simply be false.
func untypeEquality(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok || (b.Operator != "==" && b.Operator != "!=") || b.Right == nil {
		return
	}
	if k := b.Right.Type().Kind(); k == reflect.String || k == reflect.Int {
		b.Right.SetType(anyType)
	}
}

// when compiles a rule's condition, which must be boolean.
func (c *compiler) when(sc *scope, x *config.Expr) *Program {
	cp := c.compile(sc, x)
	if cp == nil {
		return nil
	}
	if cp.nt.Kind != reflect.Bool && !unknown(cp.nt) {
		c.report(x.Range, "when must be a boolean expression, got "+typeName(cp.nt), "")
		return nil
	}
	return cp.prog
}

// filter compiles a scheduled rule's list filter against its entity.
func (c *compiler) filter(sc *scope, x *config.Expr) *Program {
	if sc.entity == nil {
		c.report(x.Range, "filter needs for_each to name an entity of the schema", "")
		return nil
	}
	f, err := store.CompileFilter(sc.entity, x.Source)
	if err != nil {
		c.reportIn(x, explainFilter(sc.entity, filterError(x.Source, 0, err), "filter"))
		return nil
	}
	return &Program{Source: x.Source, Range: x.Range, filter: f, out: "bool", scope: sc}
}

// argSpec is what one argument of a built-in action takes.
type argSpec struct {
	want     want
	required bool
}

// actionArgs are the arguments of the built-in actions whose arguments
// are not fields.
var actionArgs = map[string]map[string]argSpec{
	KindCreateTask: {
		"title": {wantString, true}, "assignee": {wantString, false}, "due": {wantTime, false},
		"notes": {wantString, false}, "contact": {wantString, false}, "deal": {wantString, false},
	},
	KindNotify: {
		"to": {wantRecipients, true}, "message": {wantString, true}, "title": {wantString, false},
		"channel": {wantString, false},
	},
	KindWebhook: {
		"url": {wantString, true}, "body": {wantAny, false}, "secret": {wantString, false},
		"timeout": {wantDuration, false}, "headers": {wantMap, false},
	},
}

// notifyChannels are the values of notify's channel.
var notifyChannels = []string{"app", "email"}

// action compiles one action block.
func (c *compiler) action(sc *scope, a *config.Action, i int) *Action {
	act := &Action{Kind: a.Kind, Index: i, Args: map[string]*Program{}, Range: a.Range}
	switch a.Kind {
	case KindSet:
		c.setAction(sc, act, a)
	case KindCreateRecord:
		c.createRecord(sc, act, a)
	case KindCreateTask, KindNotify, KindWebhook:
		c.builtinAction(sc, act, a)
	default:
		c.pluginAction(sc, act, a)
	}
	return act
}

// argNames are the names of an action's arguments, sorted, so that
// diagnostics come in a stable order.
func argNames(a *config.Action) []string {
	names := make([]string, 0, len(a.Args))
	for name, x := range a.Args {
		if x != nil {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// arg compiles one argument and checks its type against w.
func (c *compiler) arg(sc *scope, name string, x *config.Expr, w want, nilOK bool) *compiled {
	cp := c.compile(sc, x)
	if cp == nil {
		return nil
	}
	if !w.accepts(cp.nt, nilOK) {
		c.report(x.Range, fmt.Sprintf("%s: expected %s, got %s", name, w, typeName(cp.nt)), "")
		return nil
	}
	return cp
}

// builtinAction compiles create_task, notify and webhook.
func (c *compiler) builtinAction(sc *scope, act *Action, a *config.Action) {
	specs := actionArgs[a.Kind]
	for _, name := range argNames(a) {
		x := a.Args[name]
		spec, ok := specs[name]
		if !ok {
			c.report(c.nameRange(x), fmt.Sprintf("unknown argument %q of %s", name, a.Kind), hint(name, sortedKeys(specs), "arguments"))
			continue
		}
		if cp := c.arg(sc, name, x, spec.want, false); cp != nil {
			act.Args[name] = cp.prog
			if a.Kind == KindNotify && name == "channel" {
				c.checkLiteral(x, cp.node, name, notifyChannels, "channels")
			}
		}
	}
	c.requireArgs(a, specs)
}

// requireArgs reports the required arguments an action lacks.
func (c *compiler) requireArgs(a *config.Action, specs map[string]argSpec) {
	for _, name := range sortedKeys(specs) {
		if specs[name].required && a.Args[name] == nil {
			c.report(a.Range, fmt.Sprintf("missing argument %q of %s", name, a.Kind), "")
		}
	}
}

// checkLiteral reports a string literal that is not one of values.
func (c *compiler) checkLiteral(x *config.Expr, node ast.Node, name string, values []string, kind string) {
	if s, ok := literal(node); ok && !slices.Contains(values, s) {
		c.report(x.Range, fmt.Sprintf("%s: %q is not one of the %s", name, s, kind), hint(s, values, kind))
	}
}

// literal returns the value of a string constant.
func literal(node ast.Node) (string, bool) {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.ConstantNode:
		s, ok := n.Value.(string)
		return s, ok
	}
	return "", false
}

// sortedKeys are a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// setAction compiles set: each argument a field of the rule's record.
func (c *compiler) setAction(sc *scope, act *Action, a *config.Action) {
	if sc.entity == nil {
		c.report(a.Range, "set needs a rule about the records of an entity", "set changes fields of the rule's record")
		return
	}
	act.Target, act.target = sc.entity.Name, sc.entity
	for _, name := range argNames(a) {
		c.fieldArg(sc, act, sc.entity, name, a.Args[name])
	}
}

// createRecord compiles create_record: entity names the entity as a
// literal; the other arguments are its fields, the required ones given.
func (c *compiler) createRecord(sc *scope, act *Action, a *config.Action) {
	x := a.Args["entity"]
	if x == nil {
		c.report(a.Range, `missing argument "entity" of create_record`, `name the entity to create in quotes, e.g. entity = "'task'"`)
		return
	}
	cp := c.arg(sc, "entity", x, wantString, false)
	if cp == nil {
		return
	}
	name, ok := literal(cp.node)
	if !ok {
		c.report(x.Range, "entity must name an entity in quotes", `e.g. entity = "'task'"`)
		return
	}
	ent := c.sch.Entity(name)
	if ent == nil {
		c.report(x.Range, fmt.Sprintf("unknown entity %q", name), hint(name, c.sch.EntityNames(), "entities"))
		return
	}
	act.Target, act.target = ent.Name, ent
	act.Args["entity"] = cp.prog
	var missing []string
	for _, f := range ent.Fields {
		if f.Required && a.Args[f.Name] == nil {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		c.report(a.Range, fmt.Sprintf("create_record of %s lacks required %s: %s", ent.Name, plural(len(missing), "field"), strings.Join(missing, ", ")), "")
	}
	for _, n := range argNames(a) {
		if n != "entity" {
			c.fieldArg(sc, act, ent, n, a.Args[n])
		}
	}
}

// plural is "field" or "fields".
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// fieldArg compiles an argument that sets field name of ent.
func (c *compiler) fieldArg(sc *scope, act *Action, ent *schema.Entity, name string, x *config.Expr) {
	f := ent.Lookup(name)
	if f == nil {
		c.report(c.nameRange(x), fmt.Sprintf("unknown field %q of %s", name, ent.Name), hint(name, append(ent.FieldNames(), schema.FieldOwner), "fields"))
		return
	}
	if f.System && f.Name != schema.FieldOwner {
		c.report(c.nameRange(x), fmt.Sprintf("field %q of %s cannot be set", name, ent.Name), "of the system fields, only owner may be set")
		return
	}
	cp := c.arg(sc, name, x, fieldWant(f), true)
	if cp == nil {
		return
	}
	act.Args[name] = cp.prog
	if values, kind := allowedValues(ent, f); values != nil {
		c.checkLiteral(x, cp.node, name, values, kind)
	}
}

// allowedValues are the values a string field may take, when there is a
// fixed list: an enum's values, or the stages or pipelines of an entity
// with pipelines.
func allowedValues(ent *schema.Entity, f *schema.Field) ([]string, string) {
	if f.Type == config.TypeEnum {
		return f.Values, "values of " + ent.Name + "." + f.Name
	}
	var out []string
	for _, p := range ent.Pipelines() {
		switch f.Name {
		case schema.FieldStage:
			out = append(out, p.Stages...)
		case schema.FieldPipeline:
			out = append(out, p.Name)
		}
	}
	if out == nil {
		return nil, ""
	}
	return out, f.Name + "s of " + ent.Name
}

// pluginAction compiles PLUGIN.ACTION: the plugin must be declared; its
// arguments may have any type until plugin manifests are checked.
func (c *compiler) pluginAction(sc *scope, act *Action, a *config.Action) {
	plugin, name, ok := strings.Cut(a.Kind, ".")
	if !ok || plugin == "" || name == "" {
		c.report(a.Range, fmt.Sprintf("unknown action %q", a.Kind), hint(a.Kind, []string{KindSet, KindCreateRecord, KindCreateTask, KindNotify, KindWebhook}, "actions"))
		return
	}
	act.Kind, act.Plugin, act.PluginAction = KindPlugin, plugin, name
	if c.cfg.Plugin(plugin) == nil {
		c.report(a.Range, fmt.Sprintf("unknown plugin %q in action %q", plugin, a.Kind), fmt.Sprintf("no plugin block declares %q", plugin))
		return
	}
	for _, n := range argNames(a) {
		if cp := c.arg(sc, n, a.Args[n], wantAny, true); cp != nil {
			act.Args[n] = cp.prog
		}
	}
}
