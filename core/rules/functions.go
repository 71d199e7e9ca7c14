package rules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/calendar"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// The functions that rules add to expr's builtins (lower, upper, trim,
// len, ..., and the operators contains, startsWith, endsWith, matches):
//
//	now()                           the evaluation's time: time.Time
//	duration('72h'), duration('3d') a duration; d is a day of 24h
//	days(3)                         3 days: time.Duration
//	since(record.updated_at)        now() - t: time.Duration
//	days_until(record.due)          whole days from today to t's date (negative if past): int
//	is_anniversary(record.birthday) t's month and day are today's (29 February counts on 28 February when the year has none): bool
//	format_date(t, 'jalali', 'd MMMM yyyy')  t's date in the gregorian or jalali calendar, with month names in the locale's language: string
//	format_money(record.amount)     "1,500.00 AMD"
//	money(1500, 'AMD')              a money value, as money fields hold
//	related('contact')              the record that the ref field contact points at, or nil
//	count_related('activity', "kind == 'call'")  how many activities point at this record and match the filter: int
//
// Dates are seen in the locale's time zone; a value at exactly midnight
// UTC, which is what a date field holds, is taken as that calendar date.

// function is one function of the table, declared to expr with the Go
// signatures that the checker checks calls against. A function with state
// gets the evaluation as a hidden first argument, which the compiler adds
// to every call.
type function struct {
	name  string
	state bool
	fn    func(params ...any) (any, error)
	types []any
}

var functions = []function{
	{"now", true, fnNow, []any{new(func(*evalState) time.Time)}},
	{"duration", false, fnDuration, []any{new(func(string) time.Duration)}},
	{"days", false, fnDays, []any{new(func(int) time.Duration), new(func(float64) time.Duration)}},
	{"since", true, fnSince, []any{new(func(*evalState, time.Time) time.Duration)}},
	{"days_until", true, fnDaysUntil, []any{new(func(*evalState, time.Time) int)}},
	{"is_anniversary", true, fnIsAnniversary, []any{new(func(*evalState, time.Time) bool)}},
	{"format_date", true, fnFormatDate, []any{new(func(*evalState, time.Time, string, string) string)}},
	{"format_money", false, fnFormatMoney, []any{new(func(schema.ExprMoney) string), new(func(map[string]any) string)}},
	{"money", false, fnMoney, []any{new(func(float64, string) schema.ExprMoney), new(func(string, string) schema.ExprMoney)}},
	{countFunc, true, fnCount, []any{new(func(*evalState, int) int)}},
}

// countSteps is what a count_related call costs of the steps budget of
// package exprbudget: it reads the store, so one evaluation may make at
// most exprbudget.MaxSteps/countSteps of them.
const countSteps = 1000

// stepCosts are the functions whose calls cost more than one step.
var stepCosts = map[string]int64{countFunc: countSteps}

// Functions rewritten at compile time rather than called.
const (
	fnRelated      = "related"
	fnCountRelated = "count_related"
)

// stateful names the functions that take the hidden evaluation argument.
var stateful = map[string]bool{}

// functionOptions declares the functions to expr.
var functionOptions []expr.Option

// functionNames are the names of every function an expression may call,
// sorted, for "did you mean".
var functionNames []string

func init() {
	names := []string{fnRelated, fnCountRelated}
	for _, f := range functions {
		functionOptions = append(functionOptions, expr.Function(f.name, f.fn, f.types...))
		stateful[f.name] = f.state
		if !strings.HasPrefix(f.name, "__") {
			names = append(names, f.name)
		}
	}
	functionOptions = append(functionOptions, exprbudget.Options()...)
	functionNames = append(names, builtin.Names...)
	sort.Strings(functionNames)
	functionNames = slices.Compact(functionNames)
}

// state is the hidden first argument of a stateful function.
func state(params []any) (*evalState, error) {
	if len(params) > 0 {
		if st, ok := params[0].(*evalState); ok && st != nil {
			return st, nil
		}
	}
	return nil, errors.New("no evaluation state")
}

// timeArg is the time argument i of function fn; ok is false for nil (a
// field without a value).
func timeArg(fn string, params []any, i int) (t time.Time, ok bool, err error) {
	if i >= len(params) || params[i] == nil {
		return time.Time{}, false, nil
	}
	t, ok = params[i].(time.Time)
	if !ok {
		return time.Time{}, false, fmt.Errorf("%s: expected a time, got %s", fn, goTypeName(params[i]))
	}
	return t, true, nil
}

// stringArg is the string argument i of function fn.
func stringArg(fn string, params []any, i int) (string, error) {
	if i < len(params) {
		if s, ok := params[i].(string); ok {
			return s, nil
		}
		return "", fmt.Errorf("%s: expected a string, got %s", fn, goTypeName(params[i]))
	}
	return "", fmt.Errorf("%s: missing argument", fn)
}

func fnNow(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	return st.now, nil
}

func fnDuration(params ...any) (any, error) {
	s, err := stringArg("duration", params, 0)
	if err != nil {
		return nil, err
	}
	return parseDuration(s)
}

// parseDuration is time.ParseDuration with one more unit, d for a day of
// 24 hours, which may come first: "3d", "1d12h", "-2d", "72h".
func parseDuration(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return d, nil
	}
	neg := strings.HasPrefix(days, "-")
	days = strings.TrimLeft(days, "+-")
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || days == "" || strings.ContainsAny(days, "eEnNiIxXpP_") || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	d, err := daysDuration(n)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r > math.MaxInt64-d {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d += r
	}
	if neg {
		d = -d
	}
	return d, nil
}

// daysDuration is n days, if that fits in a time.Duration.
func daysDuration(n float64) (time.Duration, error) {
	h := n * 24
	if math.IsNaN(h) || math.Abs(h) > float64(math.MaxInt64/int64(time.Hour)) {
		return 0, fmt.Errorf("%g days is out of range", n)
	}
	return time.Duration(h * float64(time.Hour)), nil
}

func fnDays(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, errors.New("days: expected one number")
	}
	n, ok := toFloat(params[0])
	if !ok {
		return nil, fmt.Errorf("days: expected a number, got %s", goTypeName(params[0]))
	}
	d, err := daysDuration(n)
	if err != nil {
		return nil, fmt.Errorf("days: %w", err)
	}
	return d, nil
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func fnSince(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	t, ok, err := timeArg("since", params, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("since: the time has no value")
	}
	return st.now.Sub(t), nil
}

// isDate reports whether t is what a date field holds: midnight UTC.
func isDate(t time.Time) bool {
	h, m, s := t.Clock()
	return t.Location() == time.UTC && h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// localDate is t's calendar date for the business: a date field's value is
// that date; any other time is seen in loc.
func localDate(t time.Time, loc *time.Location) time.Time {
	if !isDate(t) {
		y, m, d := t.In(loc).Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func fnDaysUntil(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	t, ok, err := timeArg("days_until", params, 1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("days_until: the date has no value")
	}
	y, m, d := st.now.In(st.loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return int((localDate(t, st.loc).Unix() - today.Unix()) / 86400), nil
}

func fnIsAnniversary(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	t, ok, err := timeArg("is_anniversary", params, 1)
	if err != nil || !ok {
		return false, err
	}
	_, m, d := localDate(t, st.loc).Date()
	y, tm, td := st.now.In(st.loc).Date()
	if m == tm && d == td {
		return true, nil
	}
	leap := time.Date(y, time.February, 29, 0, 0, 0, 0, time.UTC).Month() == time.February
	return m == time.February && d == 29 && !leap && tm == time.February && td == 28, nil
}

func fnFormatDate(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	t, ok, err := timeArg("format_date", params, 1)
	if err != nil || !ok {
		return "", err
	}
	cal, err := stringArg("format_date", params, 2)
	if err != nil {
		return nil, err
	}
	layout, err := stringArg("format_date", params, 3)
	if err != nil {
		return nil, err
	}
	if isDate(t) {
		y, m, d := t.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, st.loc)
	}
	s, err := calendar.Format(t.In(st.loc), cal, layout, st.p.scope.lang)
	if err != nil {
		return nil, fmt.Errorf("format_date: %w", err)
	}
	return s, nil
}

func fnMoney(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, errors.New("money: expected an amount and a currency")
	}
	cur, err := stringArg("money", params, 1)
	if err != nil {
		return nil, err
	}
	m, err := toMoney(params[0], cur)
	if err != nil {
		return nil, fmt.Errorf("money: %w", err)
	}
	return m, nil
}

// toMoney makes a money value of an amount (a number or a decimal string)
// in a currency; a number is rounded to the currency's minor units.
func toMoney(amount any, currency string) (schema.ExprMoney, error) {
	digits, code, err := schema.CurrencyDigits(currency)
	if err != nil {
		return schema.ExprMoney{}, err
	}
	s, ok := amount.(string)
	if !ok {
		f, isNum := toFloat(amount)
		if !isNum || math.IsNaN(f) || math.IsInf(f, 0) {
			return schema.ExprMoney{}, fmt.Errorf("expected an amount, got %s", goTypeName(amount))
		}
		s = strconv.FormatFloat(f, 'f', digits, 64)
	}
	m, err := schema.ParseMoney(s, code)
	if err != nil {
		return schema.ExprMoney{}, err
	}
	return schema.ExprMoney{Amount: m.Float64(), Currency: m.Currency, Minor: m.Minor}, nil
}

func fnFormatMoney(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, errors.New("format_money: expected one money value")
	}
	var m schema.ExprMoney
	switch x := params[0].(type) {
	case nil:
		return "", nil
	case schema.ExprMoney:
		m = x
	case map[string]any:
		cur, _ := x["currency"].(string)
		var err error
		if m, err = toMoney(x["amount"], cur); err != nil {
			return nil, fmt.Errorf("format_money: %w", err)
		}
	default:
		return nil, fmt.Errorf("format_money: expected money, got %s", goTypeName(x))
	}
	return formatMoney(m), nil
}

// formatMoney writes an amount with its currency's minor digits, commas
// between thousands and the currency code: "1,500.00 AMD".
func formatMoney(m schema.ExprMoney) string {
	s := schema.FormatMoney(schema.Money{Minor: m.Minor, Currency: m.Currency})
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String() + " " + m.Currency
}

func fnCount(params ...any) (any, error) {
	st, err := state(params)
	if err != nil {
		return nil, err
	}
	if len(params) != 2 {
		return nil, errors.New("count_related: bad call")
	}
	i, ok := params[1].(int)
	if !ok || i < 0 || i >= len(st.p.counts) {
		return nil, errors.New("count_related: bad call")
	}
	c := st.p.counts[i]
	if st.in.Record == nil {
		return 0, nil
	}
	if st.in.Lookup == nil {
		return nil, fmt.Errorf("count_related(%q): no store to read from", c.entity)
	}
	var match func(*store.Record) (bool, error)
	if c.filter != nil {
		match = c.filter.Eval // a budget exceeded fails the evaluation, not "no match"
	}
	n, err := st.in.Lookup.CountRefs(st.ctx, c.entity, c.field, st.in.Record.ID, match)
	if err != nil {
		return nil, fmt.Errorf("count_related(%q): %w", c.entity, err)
	}
	return n, nil
}

// goTypeName names the type of a run-time value as messages do.
func goTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case float32, float64:
		return "float"
	case time.Time:
		return "time"
	case time.Duration:
		return "duration"
	case schema.ExprMoney:
		return "money"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

// patcher rewrites the calls of one expression before it is type-checked:
// related('f') becomes a member of the hidden related map, count_related
// a call of the hidden count function with the index of its compiled
// filter, and each stateful call gets the hidden state argument. It also
// checks the literal arguments it can check at load time, and remembers
// the names called as functions for "unknown function" messages.
type patcher struct {
	sc     *scope
	refs   []*refUse
	counts []*countUse
	calls  map[string]bool
	errs   []exprError
}

func newPatcher(sc *scope) *patcher {
	return &patcher{sc: sc, calls: map[string]bool{}}
}

// Visit implements ast.Visitor. Walk visits children first, so the nodes
// it puts in are never visited.
func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if strings.HasPrefix(n.Value, "__") {
			p.fail(n, fmt.Sprintf("unknown name %q", n.Value), "")
		}
		if n.Value == "$env" {
			p.fail(n, "$env is not available in rules", "name record, old, user or event instead, so that the names are checked")
		}
	case *ast.CallNode:
		p.call(node, n)
	}
}

// fail records an error at a node.
func (p *patcher) fail(n ast.Node, summary, detail string) {
	loc := span(n)
	p.errs = append(p.errs, exprError{from: loc.From, to: loc.To, summary: summary, detail: detail})
}

// span is the extent of the tokens of a node and its children: a node's
// own location is only its main token's (the property of a member access).
func span(n ast.Node) file.Location {
	loc := n.Location()
	ast.Walk(&n, visitor(func(c *ast.Node) {
		l := (*c).Location()
		if l.From < loc.From {
			loc.From = l.From
		}
		loc.To = max(loc.To, l.To)
	}))
	return loc
}

func (p *patcher) call(node *ast.Node, n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	p.calls[id.Value] = true
	switch id.Value {
	case fnRelated:
		p.related(node, n)
		return
	case fnCountRelated:
		p.countRelated(node, n)
		return
	case "duration":
		p.durationLiteral(n)
	case "format_date":
		p.calendarLiteral(n)
	}
	if stateful[id.Value] {
		n.Arguments = append([]ast.Node{hidden(stateVar, n)}, n.Arguments...)
	}
}

// hidden is an identifier of the hidden environment, placed at n.
func hidden(name string, at ast.Node) ast.Node {
	id := &ast.IdentifierNode{Value: name}
	id.SetLocation(at.Location())
	return id
}

// literals returns the arguments of a call if each is a string literal.
func (p *patcher) literals(n *ast.CallNode, usage string) ([]string, bool) {
	out := make([]string, 0, len(n.Arguments))
	for _, a := range n.Arguments {
		s, ok := a.(*ast.StringNode)
		if !ok {
			p.fail(a, fmt.Sprintf("%s takes names in quotes", n.Callee.String()), "e.g. "+usage)
			return nil, false
		}
		out = append(out, s.Value)
	}
	return out, true
}

// related checks related('field') and rewrites it to __related.field.
func (p *patcher) related(node *ast.Node, n *ast.CallNode) {
	const usage = "related('contact')"
	if p.sc.entity == nil {
		p.fail(n, "related needs a rule about the records of an entity", "")
		return
	}
	if len(n.Arguments) != 1 {
		p.fail(n, "related takes one ref field", "e.g. "+usage)
		return
	}
	args, ok := p.literals(n, usage)
	if !ok {
		return
	}
	target := p.sc.refTarget(args[0])
	if target == nil {
		p.fail(n.Arguments[0], fmt.Sprintf("unknown ref field %q of %s", args[0], p.sc.entity.Name), hint(args[0], p.sc.refNames(), "ref fields"))
		return
	}
	if !slices.ContainsFunc(p.refs, func(r *refUse) bool { return r.field == args[0] }) {
		p.refs = append(p.refs, &refUse{field: args[0], target: target})
	}
	prop := &ast.StringNode{Value: args[0]}
	prop.SetLocation(n.Location())
	ast.Patch(node, &ast.MemberNode{Node: hidden(relatedVar, n), Property: prop})
}

// countRelated checks count_related('entity'[, "filter"[, 'field']]),
// compiles its filter and rewrites it to __count(__rt, index).
func (p *patcher) countRelated(node *ast.Node, n *ast.CallNode) {
	const usage = `count_related('activity', "kind == 'call'")`
	if p.sc.entity == nil {
		p.fail(n, "count_related needs a rule about the records of an entity", "")
		return
	}
	if len(n.Arguments) < 1 || len(n.Arguments) > 3 {
		p.fail(n, "count_related takes an entity, an optional filter and an optional ref field", "e.g. "+usage)
		return
	}
	args, ok := p.literals(n, usage)
	if !ok {
		return
	}
	ent := p.sc.sch.Entity(args[0])
	if ent == nil {
		p.fail(n.Arguments[0], fmt.Sprintf("unknown entity %q", args[0]), hint(args[0], p.sc.sch.EntityNames(), "entities"))
		return
	}
	use := &countUse{entity: ent.Name}
	if use.field, ok = p.countField(n, ent, args); !ok {
		return
	}
	if len(args) > 1 && strings.TrimSpace(args[1]) != "" {
		f, err := store.CompileFilter(ent, args[1])
		if err != nil {
			e := filterError(args[1], n.Arguments[1].Location().From+1, err)
			p.errs = append(p.errs, explainFilter(ent, e, "the filter"))
			return
		}
		use.filter = f
	}
	idx := &ast.IntegerNode{Value: len(p.counts)}
	idx.SetLocation(n.Location())
	p.counts = append(p.counts, use)
	call := &ast.CallNode{Callee: hidden(countFunc, n), Arguments: []ast.Node{hidden(stateVar, n), idx}}
	ast.Patch(node, call)
}

// countField picks the ref field of ent that points at the rule's entity:
// the only one, or the one the third argument names.
func (p *patcher) countField(n *ast.CallNode, ent *schema.Entity, args []string) (string, bool) {
	var refs []string
	for _, f := range ent.Fields {
		if f.Type == config.TypeRef && f.To == p.sc.entity.Name {
			refs = append(refs, f.Name)
		}
	}
	if len(args) == 3 {
		if !slices.Contains(refs, args[2]) {
			p.fail(n.Arguments[2], fmt.Sprintf("%s has no ref field %q to %s", ent.Name, args[2], p.sc.entity.Name), hint(args[2], refs, "ref fields"))
			return "", false
		}
		return args[2], true
	}
	switch len(refs) {
	case 0:
		p.fail(n.Arguments[0], fmt.Sprintf("%s has no ref field to %s", ent.Name, p.sc.entity.Name), "count_related counts the records that point at this one")
		return "", false
	case 1:
		return refs[0], true
	}
	p.fail(n.Arguments[0], fmt.Sprintf("%s has several ref fields to %s: %s", ent.Name, p.sc.entity.Name, strings.Join(refs, ", ")),
		fmt.Sprintf(`name one as the third argument, e.g. count_related('%s', "", '%s')`, ent.Name, refs[0]))
	return "", false
}

// durationLiteral checks duration('...') with a literal at load time.
func (p *patcher) durationLiteral(n *ast.CallNode) {
	if len(n.Arguments) != 1 {
		return
	}
	if s, ok := n.Arguments[0].(*ast.StringNode); ok {
		if _, err := parseDuration(s.Value); err != nil {
			p.fail(s, err.Error(), `a duration is numbers with units, e.g. "72h", "30m", "3d" or "1d12h"`)
		}
	}
}

// calendarLiteral checks the calendar of format_date(t, 'jalali', layout).
func (p *patcher) calendarLiteral(n *ast.CallNode) {
	if len(n.Arguments) < 2 {
		return
	}
	if s, ok := n.Arguments[1].(*ast.StringNode); ok && !slices.Contains(calendar.Names, s.Value) {
		p.fail(s, fmt.Sprintf("unknown calendar %q", s.Value), hint(s.Value, calendar.Names, "calendars"))
	}
}
