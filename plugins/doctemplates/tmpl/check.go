package tmpl

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// maxTypeDepth is how deep a Schema's objects are followed (a schema may
// refer to itself: a deal's contact's company's deals ...).
const maxTypeDepth = 6

// Hidden names of the compiled programs.
const (
	funcsVar   = "__funcs"
	helperFunc = "__helper"
)

// program is a template's expressions compiled: against a Schema by
// Check, or without one by a Render of an unchecked template.
type program struct {
	schema *Schema
	progs  map[*tag]*vm.Program
}

// scopeVar is what a name stands for: a Type of the schema, or only an
// expr type (a loop over a computed list).
type scopeVar struct {
	t *Type
	x types.Type
}

// Check compiles every expression of the template against the schema and
// the helpers: unknown variables, fields and helpers, wrong types and
// helper arguments are an *Error listing every problem. A template that
// passes is kept compiled for Render.
func (t *Template) Check(s Schema, funcs Funcs) error {
	p, err := t.compile(&s, funcs)
	if err != nil {
		t.checked = nil
		return err
	}
	t.checked = p
	return nil
}

// compile compiles the template's expressions, against s if it is not nil.
func (t *Template) compile(s *Schema, funcs Funcs) (*program, error) {
	var ps problems
	names := make([]string, 0, len(funcs))
	for name, f := range funcs {
		names = append(names, name)
		switch {
		case strings.HasPrefix(name, "__") || !identRe.MatchString(name):
			ps.add("helpers", "", "a helper may not be called %q", name)
		case f == nil || reflect.TypeOf(f).Kind() != reflect.Func:
			ps.add("helpers", "", "helper %s is %T, not a function", name, f)
		default:
			ft := reflect.TypeOf(f)
			if ft.NumOut() == 0 || ft.NumOut() > 2 || (ft.NumOut() == 2 && ft.Out(1) != reflect.TypeFor[error]()) {
				ps.add("helpers", "", "helper %s must return a value, or a value and an error", name)
			}
		}
	}
	if len(ps) > 0 {
		return nil, ps.err()
	}
	sort.Strings(names)
	p := &program{schema: s, progs: make(map[*tag]*vm.Program, len(t.tags))}
	scopes := scope{{}}
	if s != nil {
		for name, v := range s.Vars {
			scopes[0][name] = scopeVar{t: v, x: exprType(v, 0)}
		}
	}
	lookup := scopes.lookup
	for _, g := range t.tags {
		switch g.kind {
		case tagEnd:
			if g.open.kind == tagFor {
				scopes = scopes[:len(scopes)-1]
			}
			continue
		case tagElse:
			continue
		}
		var (
			prog *vm.Program
			nat  nature.Nature
			msg  string
		)
		for _, h := range g.helpers {
			if _, ok := funcs[h]; !ok && !isBuiltin(h) && msg == "" {
				msg = fmt.Sprintf("unknown helper %s (the helpers are %s)", h, strings.Join(names, ", "))
			}
		}
		lookup = scopes.lookup
		if msg == "" {
			prog, nat, msg = compileExpr(g.src, s != nil, scopes, funcs)
		}
		if msg != "" {
			if name, ok := strings.CutPrefix(msg, "unknown name "); ok && s != nil {
				if near := nearest(name, scopes.types()); near != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", near)
				}
			}
			ps.add(g.where, g.raw, "%s", msg)
		}
		p.progs[g] = prog
		switch g.kind {
		case tagValue:
			if msg == "" && nat.IsArray() {
				ps.add(g.where, g.raw, "%s is a list, not text: repeat what shows each element with {{ for item in %s }} ... {{ end }}", g.src, g.src)
			}
		case tagFor:
			item := scopeVar{x: types.Any}
			if msg == "" {
				switch {
				case schemaType(g.src, lookup) != nil && schemaType(g.src, lookup).Elem != nil:
					e := schemaType(g.src, lookup).Elem
					item = scopeVar{t: e, x: exprType(e, 0)}
				case nat.IsArray():
					item.x = natType{nat.Elem(nil)}
				case s != nil && !nat.IsUnknown(nil) && nat.Kind != reflect.Interface:
					ps.add(g.where, g.raw, "a loop goes over a list; %s is %s", g.src, kindName(nat))
				}
			}
			scope := map[string]scopeVar{g.item: item}
			if g.index != "" {
				scope[g.index] = scopeVar{x: types.Int}
			}
			scopes = append(scopes, scope)
		}
	}
	if len(ps) > 0 {
		return nil, ps.err()
	}
	return p, nil
}

// kindName is how a message names the type of a value.
func kindName(n nature.Nature) string {
	switch {
	case n.IsString():
		return "text"
	case n.IsNumber():
		return "a number"
	case n.IsBool():
		return "true or false"
	case n.IsMap():
		return "an object"
	}
	return n.String()
}

// compileExpr compiles one expression in a scope (typed when typed is
// true), with the helpers, under the budget of package exprbudget. It
// returns the program and the type of its value, or a message.
func compileExpr(src string, typed bool, sc scope, funcs Funcs) (prog *vm.Program, nat nature.Nature, msg string) {
	defer func() {
		// expr's checker and compiler have crashed on types they did not
		// expect: a problem of the template, not of the process.
		if p := recover(); p != nil {
			prog, nat, msg = nil, nature.Nature{}, fmt.Sprintf("the expression cannot be compiled: %v", p)
		}
	}()
	if typed {
		if msg := unknownField(src, sc.lookup); msg != "" {
			return nil, nature.Nature{}, msg
		}
	}
	cfg := conf.CreateNew()
	var opts []expr.Option
	if typed {
		// Every name in scope, the innermost winning. The hidden names
		// (__budget, __funcs) are not: the checker refuses them, and the
		// instrumented program loads them from the map all the same.
		env := types.Map{}
		for _, vars := range sc {
			for name, v := range vars {
				env[name] = v.x
			}
		}
		opts = append(opts, expr.Env(env))
	}
	for name, f := range funcs {
		opts = append(opts, expr.Function(name, callHelper, f))
	}
	opts = append(opts, expr.Function(helperFunc, callHelper))
	opts = append(opts, exprbudget.Options()...)
	for _, op := range opts {
		op(cfg)
	}
	cfg.Check()
	tree, err := checker.ParseCheck(src, cfg)
	if err != nil {
		return nil, nature.Nature{}, exprMessage(err)
	}
	nat = *tree.Node.Nature()
	if err := optimizer.Optimize(&tree.Node, cfg); err != nil {
		return nil, nature.Nature{}, exprMessage(err)
	}
	rewriteHelpers(&tree.Node, funcs)
	exprbudget.Instrument(&tree.Node, nil)
	prog, err = compiler.Compile(tree, cfg)
	if err != nil {
		return nil, nature.Nature{}, exprMessage(err)
	}
	return prog, nat, ""
}

// scope is the names an expression sees: the schema's variables, then
// those of each loop it is in.
type scope []map[string]scopeVar

// types are the names in scope (for nearest).
func (sc scope) types() map[string]*Type {
	out := map[string]*Type{}
	for _, vars := range sc {
		for name, v := range vars {
			out[name] = v.t
		}
	}
	return out
}

// lookup is what name stands for, the innermost loop's variable first.
func (sc scope) lookup(name string) (scopeVar, bool) {
	for i := len(sc) - 1; i >= 0; i-- {
		if v, ok := sc[i][name]; ok {
			return v, true
		}
	}
	return scopeVar{}, false
}

// rewriteHelpers makes each call of a helper h(args) a call
// __helper("h", __funcs, args...), which calls the helper of the Render
// at hand: the program is compiled once, the helpers (with the document's
// locale) differ from one Render to the next.
func rewriteHelpers(node *ast.Node, funcs Funcs) {
	ast.Walk(node, &helperRewriter{funcs: funcs})
}

type helperRewriter struct{ funcs Funcs }

func (h *helperRewriter) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if _, ok := h.funcs[id.Value]; !ok {
		return
	}
	name := &ast.StringNode{Value: id.Value}
	name.SetType(reflect.TypeOf(""))
	name.SetLocation(call.Location())
	fv := &ast.IdentifierNode{Value: funcsVar}
	fv.SetLocation(call.Location())
	callee := &ast.IdentifierNode{Value: helperFunc}
	callee.SetLocation(call.Location())
	out := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{name, fv}, call.Arguments...)}
	out.SetNature(*call.Nature())
	out.SetLocation(call.Location())
	*node = out
}

// unknownField finds a member of an object of the schema that it does
// not have, and says so naming the object: "unknown field amountt on deal".
func unknownField(src string, lookup func(string) (scopeVar, bool)) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return exprMessage(err)
	}
	var msg string
	ast.Find(tree.Node, func(n ast.Node) bool {
		m, ok := n.(*ast.MemberNode)
		if !ok {
			return false
		}
		prop, ok := m.Property.(*ast.StringNode)
		if !ok {
			return false
		}
		base := resolve(m.Node, lookup)
		if base == nil || base.Fields == nil {
			return false
		}
		if _, ok := base.Fields[prop.Value]; ok {
			return false
		}
		msg = fmt.Sprintf("unknown field %s on %s", prop.Value, chain(m.Node))
		if near := nearest(prop.Value, base.Fields); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		return true
	})
	return msg
}

// schemaType is the schema's Type of an expression that is a name or a
// chain of fields, or nil.
func schemaType(src string, lookup func(string) (scopeVar, bool)) *Type {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	return resolve(tree.Node, lookup)
}

// resolve is the schema's Type of a name, a field of an object or an
// element of a list, or nil.
func resolve(n ast.Node, lookup func(string) (scopeVar, bool)) *Type {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		v, _ := lookup(x.Value)
		return v.t
	case *ast.ChainNode:
		return resolve(x.Node, lookup)
	case *ast.MemberNode:
		base := resolve(x.Node, lookup)
		if base == nil {
			return nil
		}
		if s, ok := x.Property.(*ast.StringNode); ok && base.Fields != nil {
			return base.Fields[s.Value]
		}
		if _, ok := x.Property.(*ast.IntegerNode); ok {
			return base.Elem
		}
	}
	return nil
}

// chain is a chain of names as written: "deal.contact".
func chain(n ast.Node) string {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		return x.Value
	case *ast.ChainNode:
		return chain(x.Node)
	case *ast.MemberNode:
		if s, ok := x.Property.(*ast.StringNode); ok {
			return chain(x.Node) + "." + s.Value
		}
		return chain(x.Node) + "[...]"
	}
	return n.String()
}

// nearest is the field whose name is closest to name, if it is close.
func nearest(name string, fields map[string]*Type) string {
	best, bestD := "", 3
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if d := distance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// exprType is the expr type of values of a Type.
func exprType(t *Type, depth int) types.Type {
	if t == nil || depth > maxTypeDepth {
		return types.Any
	}
	switch {
	case t.Fields != nil:
		m := make(types.Map, len(t.Fields))
		for k, f := range t.Fields {
			m[k] = exprType(f, depth+1)
		}
		return m
	case t.Elem != nil:
		return types.Array(exprType(t.Elem, depth+1))
	}
	switch t.Kind {
	case "int":
		return types.Int64
	case "bool":
		return types.Bool
	case "money":
		return types.Map{"amount": types.String, "currency": types.String}
	case "file":
		return types.Map{"id": types.String, "name": types.String, "size": types.Int64, "content_type": types.String, "sha256": types.String}
	case "string", "text", "enum", "email", "phone", "url", "ref", "user", "date", "datetime", "decimal":
		return types.String
	case "list":
		return types.Array(types.Any)
	}
	return types.Any
}

// natType is an expr type known only by its nature: the element of a
// list an expression computes.
type natType struct{ n nature.Nature }

func (t natType) Nature() nature.Nature { return t.n }

func (t natType) Equal(o types.Type) bool { return o == types.Any || o.String() == t.String() }

func (t natType) String() string { n := t.n; return n.String() }
