package sqlfilter

import (
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
)

// What a filter does on a record, as the SQL must say it (expr v1.17's
// compiler and VM, on the tree of store.Filter.Node):
//
//   - A missing field is nil. Loading it never fails; using it mostly
//     does: nil < 5, a member of nil (m.amount), hasPrefix(nil, 'a'), !nil,
//     nil && x, and == between two strings (the compiler's OpEqualString
//     asserts both are strings, so s == 'a' and s != 'a' fail on a missing
//     s). Any failure ends the run: the filter does not match.
//   - == on other types (runtime.Equal) never fails: nil == 5 is false,
//     i != 5 is true for a missing i. startsWith, endsWith and contains
//     are false on nil. `in` a list compares with runtime.Equal; a list of
//     string literals is optimised to a set, where nil finds ''.
//   - && and || evaluate left to right and stop early, so a failure on
//     the right is no failure when the left decides.
//
// Each node becomes two conditions, t (TRUE exactly where it evaluates to
// true) and f (TRUE exactly where it evaluates to false); where neither is
// TRUE (FALSE or NULL) it fails. Only AND and OR combine them, so a NULL
// never becomes TRUE:
//
//	t(a && b) = t(a) AND t(b)    f(a && b) = f(a) OR (t(a) AND f(b))
//	t(a || b) = t(a) OR (f(a) AND t(b))    f(a || b) = f(a) AND f(b)
//	t(!a) = f(a)                 f(!a) = t(a)
//
// (where a cannot fail, the f(a) AND and t(a) AND go: a fails only where
// a column is NULL that t(b), or f(b), says is not). A node
// not translated is TRUE in both: as the final condition is monotone in
// its leaves, it can only grow, and is then not exact.

// tf is a node's two conditions.
type tf struct {
	t, f *sqlx
	// The node fails only where one of these columns is NULL (neither
	// when none), unless failsElse: it may fail otherwise too.
	nulls     []string
	failsElse bool
}

// failsOnNull is a node that fails where col is NULL.
func failsOnNull(t, f *sqlx, col string) tf { return tf{t: t, f: f, nulls: []string{col}} }

// failures is what fails a node of children a and b.
func failures(a, b tf) ([]string, bool) {
	nulls := slices.Clone(a.nulls)
	for _, c := range b.nulls {
		if !slices.Contains(nulls, c) {
			nulls = append(nulls, c)
		}
	}
	return nulls, a.failsElse || b.failsElse
}

var untranslated = tf{t: wideTrue, f: wideTrue, failsElse: true}

// alwaysFails is a node that fails on every record.
var alwaysFails = tf{t: exactFalse, f: exactFalse, failsElse: true}

// maxSize bounds the leaves of a node's two conditions (a shared leaf
// counted as often as it occurs): past it the node is not translated, so
// that deep nests of || and && do not grow the SQL without bound.
const maxSize = 256

// translator translates the nodes of one filter.
type translator struct {
	ent   *schema.Entity
	alias string
}

// node translates n.
func (tr *translator) node(n ast.Node) tf {
	out := tr.node1(n)
	if out.t.size+out.f.size > maxSize {
		return untranslated
	}
	return out
}

func (tr *translator) node1(n ast.Node) tf {
	switch x := n.(type) {
	case *ast.BoolNode:
		if x.Value {
			return tf{t: exactTrue, f: exactFalse}
		}
		return tf{t: exactFalse, f: exactTrue}
	case *ast.UnaryNode:
		if x.Operator == "!" || x.Operator == "not" {
			a := tr.node(x.Node)
			return tf{t: a.f, f: a.t, nulls: a.nulls, failsElse: a.failsElse}
		}
	case *ast.IdentifierNode:
		if c, ok := tr.column(x); ok && c.kind == kBool {
			// nil where a bool is wanted fails.
			return failsOnNull(leafOf(c.sql), leafOf(c.sql, " = FALSE"), c.sql)
		}
	case *ast.BinaryNode:
		switch x.Operator {
		case "&&", "and":
			a, b := tr.node(x.Left), tr.node(x.Right)
			out := tf{t: and(a.t, b.t)}
			out.nulls, out.failsElse = failures(a, b)
			if !a.failsElse && b.f.notNull(a.nulls) {
				out.f = or(a.f, b.f)
			} else {
				out.f = or(a.f, and(a.t, b.f))
			}
			return out
		case "||", "or":
			a, b := tr.node(x.Left), tr.node(x.Right)
			out := tf{f: and(a.f, b.f)}
			out.nulls, out.failsElse = failures(a, b)
			if !a.failsElse && b.t.notNull(a.nulls) {
				out.t = or(a.t, b.t)
			} else {
				out.t = or(a.t, and(a.f, b.t))
			}
			return out
		case "==", "!=":
			out, ok := tr.equality(x)
			if !ok {
				return untranslated
			}
			if x.Operator == "!=" {
				out.t, out.f = out.f, out.t
			}
			return out
		case "<", "<=", ">", ">=":
			if out, ok := tr.order(x); ok {
				return out
			}
		case "in":
			if out, ok := tr.in(x); ok {
				return out
			}
		case "startsWith", "endsWith", "contains":
			// false on nil, never fails but on a member of nil.
			if c, ok := tr.column(x.Left); ok && c.kind == kString {
				if s, ok := x.Right.(*ast.StringNode); ok && sendable(s.Value) {
					return c.like(x.Operator, s.Value, c.member)
				}
			}
		}
	case *ast.BuiltinNode:
		if (x.Name == "hasPrefix" || x.Name == "hasSuffix") && len(x.Arguments) == 2 {
			// Fails on nil (the builtin asserts a string).
			if c, ok := tr.column(x.Arguments[0]); ok && c.kind == kString {
				if s, ok := x.Arguments[1].(*ast.StringNode); ok && sendable(s.Value) {
					op := "startsWith"
					if x.Name == "hasSuffix" {
						op = "endsWith"
					}
					return c.like(op, s.Value, true)
				}
			}
		}
	}
	return untranslated
}

// Kinds of values, as a filter sees them.
const (
	kString = iota + 1
	kInt
	kFloat
	kBool
	kDate  // a date field: midnight UTC
	kTime  // a datetime field, created_at, updated_at
	kMoney // a money field itself (only compared with nil)
)

// column is an operand read from the record.
type column struct {
	sql     string
	kind    int
	notNull bool // a system field: never nil
	member  bool // a member of a money value: fails where the money is nil
}

// failing is what fails a strict use of c (one that fails on nil): c
// NULL, unless c is never nil.
func (c *column) failing() []string {
	if c.notNull && !c.member {
		return nil
	}
	return []string{c.sql}
}

// column recognises a field, a system field or a member (amount,
// currency) of a money field.
func (tr *translator) column(n ast.Node) (*column, bool) {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		name := x.Value
		c := &column{notNull: true}
		switch name {
		case "id", "created_by", "owner":
			c.kind = kString
		case "version":
			c.kind = kInt
		case "created_at", "updated_at":
			c.kind = kTime
		default:
			f := tr.ent.Field(name)
			if f == nil {
				return nil, false
			}
			c.notNull = false
			switch f.Type {
			case config.TypeInt:
				c.kind = kInt
			case config.TypeDecimal:
				c.kind = kFloat
			case config.TypeBool:
				c.kind = kBool
			case config.TypeDate:
				c.kind = kDate
			case config.TypeDateTime:
				c.kind = kTime
			case config.TypeMoney:
				c.kind = kMoney
			case config.TypeString, config.TypeText, config.TypeEmail, config.TypePhone, config.TypeURL,
				config.TypeEnum, config.TypeRef, config.TypeUser, config.TypeFile:
				c.kind = kString
			default:
				return nil, false
			}
		}
		sql, err := FieldExpr(tr.ent, name, tr.alias)
		if err != nil {
			return nil, false
		}
		c.sql = sql
		return c, true
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		prop, ok2 := x.Property.(*ast.StringNode)
		if !ok || !ok2 || x.Optional {
			return nil, false
		}
		if f := tr.ent.Field(id.Value); f == nil || f.Type != config.TypeMoney {
			return nil, false
		}
		c := &column{member: true}
		name := id.Value
		switch prop.Value {
		case "amount":
			c.kind = kFloat
		case "currency":
			c.kind, name = kString, name+".currency"
		default:
			return nil, false
		}
		sql, err := FieldExpr(tr.ent, name, tr.alias)
		if err != nil {
			return nil, false
		}
		c.sql = sql
		return c, true
	}
	return nil, false
}

// constant recognises a literal (a negated number, date(...) of string
// literals, evaluated as the filter would): its value, or isNil for nil;
// fails reports a date(...) that fails when the filter runs.
func constant(n ast.Node) (v any, isNil, fails, ok bool) {
	switch x := n.(type) {
	case *ast.NilNode:
		return nil, true, false, true
	case *ast.IntegerNode:
		return int64(x.Value), false, false, true
	case *ast.FloatNode:
		return x.Value, false, false, true
	case *ast.StringNode:
		return x.Value, false, false, sendable(x.Value)
	case *ast.BoolNode:
		return x.Value, false, false, true
	case *ast.UnaryNode:
		if x.Operator == "-" {
			switch y := x.Node.(type) {
			case *ast.IntegerNode:
				return -int64(y.Value), false, false, true
			case *ast.FloatNode:
				return -y.Value, false, false, true
			}
		}
	case *ast.BuiltinNode:
		if x.Name != "date" || len(x.Arguments) < 1 || len(x.Arguments) > 3 {
			return nil, false, false, false
		}
		args := make([]any, len(x.Arguments))
		for i, a := range x.Arguments {
			s, ok := a.(*ast.StringNode)
			if !ok {
				return nil, false, false, false
			}
			args[i] = s.Value
		}
		out, err := builtin.Builtins[builtin.Index["date"]].Func(args...)
		if err != nil {
			return nil, false, true, true
		}
		t, ok := out.(time.Time)
		return t, false, false, ok
	}
	return nil, false, false, false
}

// sendable reports whether PostgreSQL accepts s as text: valid UTF-8
// without NUL.
func sendable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// flip is the operator that compares the other way round.
var flip = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// operands splits a comparison into its column and its constant, the
// operator turned so that the column is on the left.
func (tr *translator) operands(b *ast.BinaryNode) (c *column, k ast.Node, op string, ok bool) {
	if c, ok := tr.column(b.Left); ok {
		return c, b.Right, b.Operator, true
	}
	if c, ok := tr.column(b.Right); ok {
		return c, b.Left, flip[b.Operator], true
	}
	return nil, nil, "", false
}

// strictEqual reports whether the compiler makes == of these operands
// OpEqualString or OpEqualInt, which fail on nil (compiler.equalBinaryNode).
func strictEqual(b *ast.BinaryNode) bool {
	l, r := b.Left.Type(), b.Right.Type()
	if l == nil || r == nil || l.Kind() != r.Kind() || l.PkgPath() != "" || r.PkgPath() != "" {
		return false
	}
	return l.Kind() == reflect.String || l.Kind() == reflect.Int
}

// equality translates == (the caller swaps t and f for !=).
func (tr *translator) equality(b *ast.BinaryNode) (tf, bool) {
	c, kn, _, ok := tr.operands(b)
	if !ok {
		return tf{}, false
	}
	v, isNil, fails, ok := constant(kn)
	if !ok {
		return tf{}, false
	}
	if fails {
		return alwaysFails, true
	}
	strict := c.member || strictEqual(b)
	if isNil {
		return c.isNil(strict), true
	}
	return c.equals(v, strict)
}

// isNil is `c == nil`; strict: a nil c fails.
func (c *column) isNil(strict bool) tf {
	switch {
	case c.notNull:
		return tf{t: exactFalse, f: exactTrue}
	case strict:
		return failsOnNull(exactFalse, leafOf(c.sql, " IS NOT NULL"), c.sql)
	}
	return tf{t: leafOf(c.sql, " IS NULL"), f: leafOf(c.sql, " IS NOT NULL")}
}

// equals is `c == v` for a constant v (runtime.Equal); strict: a nil c
// fails. It refuses what it does not translate.
func (c *column) equals(v any, strict bool) (tf, bool) {
	var t, ne *sqlx
	exact := true
	switch c.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return tf{}, false
		}
		t, ne = leafOf(c.sql, " = ", param{s}), leafOf(c.sql, " <> ", param{s})
	case kInt:
		switch n := v.(type) {
		case int64:
			t, ne = leafOf(c.sql, " = ", param{n}), leafOf(c.sql, " <> ", param{n})
		case float64:
			t, ne = leafOf(c.sql, "::float8 = ", param{n}), leafOf(c.sql, "::float8 <> ", param{n})
		default:
			return tf{}, false
		}
	case kFloat:
		n, ok := toFloat(v)
		if !ok {
			return tf{}, false
		}
		t, ne = leafOf(c.sql, " = ", param{n}), leafOf(c.sql, " <> ", param{n})
	case kBool:
		bv, ok := v.(bool)
		if !ok {
			return tf{}, false
		}
		t, ne = leafOf(c.sql, " = ", param{bv}), leafOf(c.sql, " <> ", param{bv})
	case kDate:
		tv, ok := v.(time.Time)
		if !ok {
			return tf{}, false
		}
		day, midnight, ok := dayOf(tv)
		if !ok {
			return tf{}, false
		}
		if !midnight {
			// A date is midnight UTC: never equal.
			t, ne = exactFalse, exactTrue
			break
		}
		t, ne = leafOf(c.sql, " = ", param{day}, "::date"), leafOf(c.sql, " <> ", param{day}, "::date")
	case kTime:
		tv, ok := v.(time.Time)
		if !ok {
			return tf{}, false
		}
		lo, hi, ok := microWindow(tv)
		if !ok {
			return tf{}, false
		}
		// Stored to the microsecond: within the microsecond around v.
		t, ne, exact = and(leafOf(c.sql, " >= ", param{lo}), leafOf(c.sql, " <= ", param{hi})), wideTrue, false
	default:
		return tf{}, false
	}
	if !exact {
		t = wide(t)
	}
	out := tf{t: t}
	switch {
	case strict:
		out.f, out.nulls = ne, c.failing()
	case c.notNull:
		out.f = ne
	default:
		out.f = or(leafOf(c.sql, " IS NULL"), ne)
	}
	return out, true
}

// toFloat is a number as float64, as runtime.Equal and Less convert.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// dayOf is the UTC day of t as "YYYY-MM-DD", and whether t is its
// midnight; false for a year PostgreSQL's date and Go disagree on.
func dayOf(t time.Time) (string, bool, bool) {
	u := t.UTC()
	d := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	if d.Year() < 1 || d.Year() > 9998 {
		return "", false, false
	}
	return d.Format("2006-01-02"), u.Equal(d), true
}

// microWindow is the microsecond that holds t: a stored datetime v
// (truncated or rounded to the microsecond) equal to t lies in [lo, hi].
func microWindow(t time.Time) (lo, hi time.Time, ok bool) {
	u := t.UTC()
	if u.Year() < 1 || u.Year() > 9998 {
		return time.Time{}, time.Time{}, false
	}
	lo = u.Truncate(time.Microsecond)
	return lo, lo.Add(time.Microsecond), true
}

// negate is the comparison that holds where op does not (both on a
// value).
var negate = map[string]string{"<": ">=", "<=": ">", ">": "<=", ">=": "<"}

// order translates <, <=, > and >= (runtime.Less and friends: nil fails).
func (tr *translator) order(b *ast.BinaryNode) (tf, bool) {
	c, kn, op, ok := tr.operands(b)
	if !ok {
		return tf{}, false
	}
	v, isNil, fails, ok := constant(kn)
	if !ok || isNil {
		return tf{}, false
	}
	if fails {
		return alwaysFails, true
	}
	nulls := c.failing()
	cmp := func(op string, cast string, p any) *sqlx {
		return leafOf(c.sql, cast+" "+op+" ", param{p})
	}
	switch c.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return tf{}, false
		}
		return tf{t: cmp(op, "", s), f: cmp(negate[op], "", s), nulls: nulls}, true
	case kInt:
		switch n := v.(type) {
		case int64:
			return tf{t: cmp(op, "", n), f: cmp(negate[op], "", n), nulls: nulls}, true
		case float64:
			return tf{t: cmp(op, "::float8", n), f: cmp(negate[op], "::float8", n), nulls: nulls}, true
		}
	case kFloat:
		if n, ok := toFloat(v); ok {
			return tf{t: cmp(op, "", n), f: cmp(negate[op], "", n), nulls: nulls}, true
		}
	case kDate:
		tv, ok := v.(time.Time)
		if !ok {
			return tf{}, false
		}
		floor, midnight, ok := dayOf(tv)
		if !ok {
			return tf{}, false
		}
		ceil := floor
		if !midnight {
			ceil = tv.UTC().AddDate(0, 0, 1).Format("2006-01-02")
		}
		// A date d is midnight: d < t ⟺ d < ceil(t), d <= t ⟺ d <= floor(t),
		// d > t ⟺ d > floor(t), d >= t ⟺ d >= ceil(t).
		bound := floor
		if op == "<" || op == ">=" {
			bound = ceil
		}
		day := func(op string) *sqlx { return leafOf(c.sql, " "+op+" ", param{bound}, "::date") }
		return tf{t: day(op), f: day(negate[op]), nulls: nulls}, true
	case kTime:
		tv, ok := v.(time.Time)
		if !ok {
			return tf{}, false
		}
		lo, hi, ok := microWindow(tv)
		if !ok {
			return tf{}, false
		}
		// Stored to the microsecond: v < t gives stored <= hi, v > t
		// stored >= lo; a superset either way.
		below, above := wide(leafOf(c.sql, " <= ", param{hi})), wide(leafOf(c.sql, " >= ", param{lo}))
		if op == "<" || op == "<=" {
			return tf{t: below, f: above, nulls: nulls}, true
		}
		return tf{t: above, f: below, nulls: nulls}, true
	}
	return tf{}, false
}

// likeEscape escapes LIKE's wildcards and escape character.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// like is startsWith, endsWith or contains s; strict: a nil c fails
// (the builtins hasPrefix and hasSuffix), else it is false.
func (c *column) like(op, s string, strict bool) tf {
	p := likeEscape.Replace(s)
	switch op {
	case "startsWith":
		p += "%"
	case "endsWith":
		p = "%" + p
	default:
		p = "%" + p + "%"
	}
	t := leafOf(c.sql, " LIKE ", param{p})
	nt := leafOf(c.sql, " NOT LIKE ", param{p})
	switch {
	case strict || c.member:
		return tf{t: t, f: nt, nulls: c.failing()}
	case c.notNull:
		return tf{t: t, f: nt}
	}
	return tf{t: t, f: or(leafOf(c.sql, " IS NULL"), nt)}
}

// in translates `c in list` for a list of literals: a set of strings
// (what the optimiser makes of a list of string literals), a folded
// constant list or a list node.
func (tr *translator) in(b *ast.BinaryNode) (tf, bool) {
	c, ok := tr.column(b.Left)
	if !ok {
		return tf{}, false
	}
	var elems []any // values; nil for nil
	switch r := b.Right.(type) {
	case *ast.ConstantNode:
		switch list := r.Value.(type) {
		case map[string]struct{}:
			if c.kind != kString {
				return tf{}, false
			}
			return c.inSet(list)
		case []any:
			elems = list
		default:
			return tf{}, false
		}
	case *ast.ArrayNode:
		for _, n := range r.Nodes {
			v, isNil, fails, ok := constant(n)
			if !ok || fails {
				return tf{}, false
			}
			if isNil {
				v = nil
			}
			elems = append(elems, v)
		}
	default:
		return tf{}, false
	}
	// runtime.In: runtime.Equal with each element; never fails but on a
	// member of nil.
	strict := c.member
	var ts, fs []*sqlx
	for _, e := range elems {
		if i, ok := e.(int); ok {
			e = int64(i)
		}
		if s, ok := e.(string); ok && !sendable(s) {
			return tf{}, false
		}
		var one tf
		if e == nil {
			one = c.isNil(strict)
		} else {
			var ok bool
			if one, ok = c.equals(e, strict); !ok {
				return tf{}, false
			}
		}
		ts, fs = append(ts, one.t), append(fs, one.f)
	}
	out := tf{t: or(ts...), f: and(fs...)}
	if strict {
		// Fails where the money is nil, even on an empty list.
		present := leafOf(c.sql, " IS NOT NULL")
		out.t, out.f, out.nulls = and(present, out.t), and(present, out.f), []string{c.sql}
	}
	return out, true
}

// inSet is `c in set` for a string column: a nil c finds "".
func (c *column) inSet(set map[string]struct{}) (tf, bool) {
	keys := make([]string, 0, len(set))
	for k := range set {
		if !sendable(k) {
			return tf{}, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t := []any{c.sql, " IN ("}
	nt := []any{c.sql, " NOT IN ("}
	for i, k := range keys {
		if i > 0 {
			t, nt = append(t, ", "), append(nt, ", ")
		}
		t, nt = append(t, param{k}), append(nt, param{k})
	}
	out := tf{t: leafOf(append(t, ")")...), f: leafOf(append(nt, ")")...)}
	if c.member {
		out.nulls = []string{c.sql} // a member of nil fails
	}
	if c.member || c.notNull {
		return out, true
	}
	isNull := leafOf(c.sql, " IS NULL")
	if _, empty := set[""]; empty {
		out.t = or(isNull, out.t)
	} else {
		out.f = or(isNull, out.f)
	}
	return out, true
}
