package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// MaxFilterLen is the longest filter expression accepted, in bytes.
const MaxFilterLen = 4096

// FilterError is a filter expression that does not compile, or that
// exceeded a budget when it ran (Budget names which), with the position
// (1-based line and column) of the problem in the source.
type FilterError struct {
	Message string
	Line    int
	Column  int
	Budget  string // "steps", "memory", "time" or "nesting" for an exceeded budget; "" otherwise

	err error
}

// Unwrap returns the *exprbudget.Error of an exceeded budget, or nil.
func (e *FilterError) Unwrap() error { return e.err }

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter:%d:%d: %s", e.Line, e.Column, e.Message)
}

// Filter is a compiled, type-checked filter over one entity's records. The
// expression sees each field by name (`stage == 'won'`,
// `amount.amount >= 1000`, `hasPrefix(name, 'Ani')`) and the system fields
// id, version, created_at, updated_at, created_by and owner. A field a
// record has no value for is nil; a comparison that fails at run time on a
// record (nil > 5) counts as no match.
type Filter struct {
	Source  string
	entity  *schema.Entity
	program *vm.Program
	plan    *access // the indexes the planner may use; nil for none

	// fast is the program without instrumentation, for a filter that
	// cannot exceed a budget (see scan.go); nil for any other.
	fast     *vm.Program
	needles  [][]byte // see needlesOf
	scan     *scanPlan
	scanners *sync.Pool

	tree *lazyTree // see Node
}

// lazyTree is the tree of Filter.Node, built on first use.
type lazyTree struct {
	once sync.Once
	node ast.Node
}

// systemTypes are the expr types of the system fields.
var systemTypes = map[string]any{
	"id": "", "version": int64(0), "created_at": time.Time{}, "updated_at": time.Time{},
	"created_by": "", "owner": "",
}

// CompileFilter compiles src against an entity's fields; an unknown field, a
// type mismatch or a non-boolean result is a *FilterError with its position.
// The program is instrumented by package exprbudget, so that each run is
// bounded in steps, memory and time. A Filter is immutable and safe for
// concurrent use, so the filters compiled lately are kept (per entity of
// a schema, and source) and given again: a list asked for page after page,
// or by many users, compiles its filter once.
func CompileFilter(ent *schema.Entity, src string) (*Filter, error) {
	if f := compiled.get(ent, src); f != nil {
		return f, nil
	}
	f, err := compileFilter(ent, src)
	if err == nil {
		compiled.put(ent, src, f)
	}
	return f, err
}

// filterCacheSize is how many compiled filters a generation of the cache
// holds; the cache keeps two generations, so between one and two times
// this many of the filters used last.
const filterCacheSize = 512

// filterKey names a compiled filter: an entity of one schema (a reloaded
// configuration has new entities) and the source.
type filterKey struct {
	ent *schema.Entity
	src string
}

// filterCache keeps the filters compiled lately in two generations: a
// filter found in the old one moves to the new one, and a full new
// generation becomes the old one, dropping the filters not used since.
type filterCache struct {
	mu       sync.Mutex
	cur, old map[filterKey]*Filter
}

var compiled = &filterCache{cur: map[filterKey]*Filter{}}

func (c *filterCache) get(ent *schema.Entity, src string) *Filter {
	k := filterKey{ent, src}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.cur[k]; f != nil {
		return f
	}
	if f := c.old[k]; f != nil {
		c.add(k, f)
		return f
	}
	return nil
}

func (c *filterCache) put(ent *schema.Entity, src string, f *Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(filterKey{ent, src}, f)
}

func (c *filterCache) add(k filterKey, f *Filter) {
	if len(c.cur) >= filterCacheSize {
		c.old, c.cur = c.cur, make(map[filterKey]*Filter, filterCacheSize)
	}
	c.cur[k] = f
}

func compileFilter(ent *schema.Entity, src string) (*Filter, error) {
	if len(src) > MaxFilterLen {
		return nil, &FilterError{Message: fmt.Sprintf("filter is %d bytes long; at most %d", len(src), MaxFilterLen), Line: 1, Column: 1}
	}
	tree, ec, err := checkFilter(ent, src)
	if err != nil {
		return nil, err
	}
	plan := analyse(ent, tree.Node)
	if err := optimizer.Optimize(&tree.Node, ec); err != nil {
		return nil, filterError(err)
	}
	f := &Filter{Source: src, entity: ent, plan: plan, scan: newScanPlan(ent, tree.Node), tree: &lazyTree{}}
	if budgetFree(tree.Node) {
		if f.fast, err = compiler.Compile(tree, ec); err != nil {
			return nil, filterError(err)
		}
		f.needles = needlesOf(ent, tree.Node)
	}
	exprbudget.Instrument(&tree.Node, nil)
	if f.program, err = compiler.Compile(tree, ec); err != nil {
		return nil, filterError(err)
	}
	f.scanners = scannerPool(f)
	return f, nil
}

// checkFilter parses and type-checks src against an entity's fields, and
// returns the checked tree (not optimised) with its configuration.
func checkFilter(ent *schema.Entity, src string) (*parser.Tree, *conf.Config, error) {
	env := make(map[string]any, len(ent.Fields)+len(systemTypes))
	for k, v := range systemTypes {
		env[k] = v
	}
	for _, f := range ent.Fields {
		env[f.Name] = f.ExprZero()
	}
	ec := filterConfig(env)
	// Parsed without the fields, so that a call of a function is the
	// function's also where a field has its name: on an entity with a
	// field "date", `date >= date('2026-03-01')` compares the field with
	// the date (a field is never called, so nothing is lost). Checked and
	// compiled with them.
	tree, err := parser.ParseWithConfig(src, filterConfig(map[string]any{}))
	if err != nil {
		return nil, nil, filterError(err)
	}
	if _, err := new(checker.Checker).PatchAndCheck(tree, ec); err != nil {
		return nil, nil, filterError(err)
	}
	if err := hiddenName(tree); err != nil {
		return nil, nil, err
	}
	return tree, ec, nil
}

// Entity is the entity whose records the filter reads.
func (f *Filter) Entity() *schema.Entity { return f.entity }

// Node is the tree whose program Eval runs, for translators such as
// package sqlfilter: the checked AST (each node has its type) after expr's
// optimiser (which folds constants, turns a list of string literals after
// `in` into a set, and `x || true` into true), before the budget's
// instrumentation. It is built again on first use (compiling rewrites the
// tree in place) and shared afterwards: callers must not change it.
func (f *Filter) Node() ast.Node {
	if f == nil || f.tree == nil {
		return nil
	}
	f.tree.once.Do(func() {
		tree, ec, err := checkFilter(f.entity, f.Source)
		if err == nil && optimizer.Optimize(&tree.Node, ec) == nil {
			f.tree.node = tree.Node
		}
	})
	return f.tree.node
}

// filterConfig is the expr configuration of a filter over env: a boolean,
// under the budget of package exprbudget.
func filterConfig(env map[string]any) *conf.Config {
	ec := conf.CreateNew()
	for _, op := range append([]expr.Option{expr.Env(env), expr.AsBool()}, exprbudget.Options()...) {
		op(ec)
	}
	ec.Check()
	return ec
}

// hiddenName refuses the names that only the instrumented program uses.
func hiddenName(tree *parser.Tree) error {
	var bad *ast.IdentifierNode
	ast.Find(tree.Node, func(n ast.Node) bool {
		if id, ok := n.(*ast.IdentifierNode); ok && strings.HasPrefix(id.Value, "__") {
			bad = id
			return true
		}
		return false
	})
	if bad == nil {
		return nil
	}
	fe := &file.Error{Location: bad.Location(), Message: fmt.Sprintf("unknown name %s", bad.Value)}
	return filterError(fe.Bind(tree.Source))
}

func filterError(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return &FilterError{Message: fe.Message, Line: max(fe.Line, 1), Column: fe.Column + 1}
	}
	return &FilterError{Message: err.Error(), Line: 1, Column: 1}
}

// Eval reports whether a record satisfies the filter. A comparison that
// fails at run time on the record (nil > 5) is no match and no error; a
// filter that exceeds a budget of package exprbudget (steps, memory, time)
// is a *FilterError that says which, wrapping the *exprbudget.Error.
func (f *Filter) Eval(r *Record) (bool, error) {
	return f.eval(r, exprbudget.NewMeter(exprbudget.Default))
}

// EvalWithin is Eval with a time budget of d at most, which msg names when
// it runs out: a filter evaluated on every change (a live view's) must be
// cheaper than one that runs once.
func (f *Filter) EvalWithin(r *Record, d time.Duration, msg string) (bool, error) {
	return f.eval(r, exprbudget.NewMeter(exprbudget.Default).WithDeadline(time.Now().Add(d), msg))
}

func (f *Filter) eval(r *Record, m *exprbudget.Meter) (bool, error) {
	if f == nil {
		return true, nil
	}
	env := make(map[string]any, len(r.Values)+len(systemTypes)+1)
	fillEnv(env, f.entity, r)
	return f.run(env, m)
}

// fillEnv puts what a filter sees of a record in env: every system field
// and every declared field that has a value.
func fillEnv(env map[string]any, ent *schema.Entity, r *Record) {
	env["id"], env["version"], env["owner"], env["created_by"] = r.ID, r.Version, r.Owner, r.CreatedBy
	env["created_at"], env["updated_at"] = r.CreatedAt, r.UpdatedAt
	for name, v := range r.Values {
		if fd := ent.Field(name); fd != nil {
			env[name] = fd.ExprValue(v)
		}
	}
}

// run runs the instrumented program on env under m: a failure on the
// record is no match, an exceeded budget a *FilterError.
func (f *Filter) run(env map[string]any, m *exprbudget.Meter) (bool, error) {
	out, err := exprbudget.Run(f.program, env, m)
	if err != nil {
		var be *exprbudget.Error
		if errors.As(err, &be) {
			fe := &FilterError{Message: be.Error(), Line: 1, Column: 1, Budget: be.Budget, err: be}
			var pos *file.Error
			if errors.As(err, &pos) {
				fe.Line, fe.Column = max(pos.Line, 1), pos.Column+1
			}
			return false, fe
		}
		return false, nil
	}
	ok, _ := out.(bool)
	return ok, nil
}

// MaxFilterTime is how long a filter may run in total over the records of
// one list query; each record has the budgets of package exprbudget.
const MaxFilterTime = 2 * time.Second

// matcher evaluates a filter on the records of one query, within
// MaxFilterTime in total. It is for one goroutine.
type matcher struct {
	f      *Filter
	spent  time.Duration
	sc     *scanner // for matchRaw, made on first use
	passed *Record  // the record item last read because it matched
}

// Matcher evaluates a filter on the records of one list query within
// MaxFilterTime in total, as Badger.List does, for other backends. It is
// for one goroutine.
type Matcher struct{ m *matcher }

// NewMatcher starts the evaluations of one query; a nil f matches every
// record.
func (f *Filter) NewMatcher() *Matcher { return &Matcher{m: f.matcher()} }

// Match is Eval within the query's budget: past MaxFilterTime in total,
// a *FilterError with Budget "time".
func (m *Matcher) Match(r *Record) (bool, error) { return m.m.match(r) }

// matcher starts the evaluations of one query.
func (f *Filter) matcher() *matcher { return &matcher{f: f} }

// match is Eval within the query's budget.
func (q *matcher) match(r *Record) (bool, error) {
	if q.f == nil {
		return true, nil
	}
	if r == nil {
		return false, nil // item read no record: it does not match
	}
	if r == q.passed {
		return true, nil
	}
	start := time.Now()
	ok, err := q.f.eval(r, q.meter(start))
	return q.account(start, ok, err)
}

// meter is the budget of one record of the query, evaluated from start.
func (q *matcher) meter(start time.Time) *exprbudget.Meter {
	return exprbudget.NewMeter(exprbudget.Default).WithDeadline(start.Add(MaxFilterTime-q.spent), queryTimeMsg)
}

var queryTimeMsg = fmt.Sprintf("the filter ran longer than %s in total over the records of the query", MaxFilterTime)

// account adds the time of an evaluation that began at start to the
// query's, and fails the query past MaxFilterTime.
func (q *matcher) account(start time.Time, ok bool, err error) (bool, error) {
	q.spent += time.Since(start)
	if err == nil && q.spent > MaxFilterTime {
		err = &FilterError{Message: fmt.Sprintf("time budget exceeded: the filter ran longer than %s in total over the records of the query", MaxFilterTime),
			Line: 1, Column: 1, Budget: "time"}
	}
	return ok, err
}

// comparison recognises `field OP constant` (or `constant OP field`) where
// the field keeps an index and the constant has the field's type; it
// returns the constant as the field's canonical value.
func comparison(ent *schema.Entity, b *ast.BinaryNode) (string, any, string, bool) {
	op := b.Operator
	left, right := b.Left, b.Right
	if _, ok := left.(*ast.IdentifierNode); !ok {
		flip := map[string]string{"==": "==", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
		if flip[op] == "" {
			return "", nil, "", false
		}
		left, right, op = right, left, flip[op]
	}
	id, ok := left.(*ast.IdentifierNode)
	if !ok {
		return "", nil, "", false
	}
	typ := ""
	if id.Value == "owner" {
		typ = config.TypeUser
	} else if f := ent.Field(id.Value); f != nil && indexed(f) {
		typ = f.Type
	}
	if typ == "" {
		return "", nil, "", false
	}
	val, ok := constantFor(typ, right)
	if !ok {
		return "", nil, "", false
	}
	switch op {
	case "==", "<", "<=", ">", ">=", "startsWith":
		return id.Value, val, op, true
	}
	return "", nil, "", false
}

// constantFor converts a literal to the canonical value of a field type, if
// it is a literal of that type.
func constantFor(typ string, n ast.Node) (any, bool) {
	neg := false
	if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "-" {
		neg, n = true, u.Node
	}
	switch typ {
	case config.TypeInt:
		if i, ok := n.(*ast.IntegerNode); ok {
			v := int64(i.Value)
			if neg {
				v = -v
			}
			return v, true
		}
	case config.TypeDecimal:
		var v float64
		switch x := n.(type) {
		case *ast.IntegerNode:
			v = float64(x.Value)
		case *ast.FloatNode:
			v = x.Value
		default:
			return nil, false
		}
		if neg {
			v = -v
		}
		return v, true
	case config.TypeBool:
		if b, ok := n.(*ast.BoolNode); ok && !neg {
			return b.Value, true
		}
	case config.TypeString, config.TypeText, config.TypeEmail, config.TypePhone, config.TypeURL,
		config.TypeEnum, config.TypeRef, config.TypeUser, config.TypeFile:
		if s, ok := n.(*ast.StringNode); ok && !neg {
			return s.Value, true
		}
	}
	return nil, false
}
