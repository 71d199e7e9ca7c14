package exprbudget_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"

	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

func env() map[string]any {
	return map[string]any{
		"name": "Ani", "n": 7, "tags": []any{"a", "b", "c"}, "m": map[string]any{"k": "v", "deep": map[string]any{"x": 1}},
		"none": nil,
	}
}

// compile compiles src the way store and rules do: checked, optimised,
// instrumented.
func compile(t *testing.T, src string) *vm.Program {
	t.Helper()
	ec := conf.CreateNew()
	for _, op := range append([]expr.Option{expr.Env(env())}, exprbudget.Options()...) {
		op(ec)
	}
	ec.Check()
	tree, err := checker.ParseCheck(src, ec)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := optimizer.Optimize(&tree.Node, ec); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	exprbudget.Instrument(&tree.Node, nil)
	prog, err := compiler.Compile(tree, ec)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return prog
}

// TestInstrumentedProgramsGiveTheSameValues compares instrumented programs
// with expr's own on the shapes the instrumenter touches: optional chains,
// ??, closures, let, ranges, the guarded builtins and dynamic matches.
func TestInstrumentedProgramsGiveTheSameValues(t *testing.T) {
	for _, src := range []string{
		`name + "!"`, `n * 2 + 1 > 10 && name startsWith "A"`, `m?.deep?.x ?? 5`, `m?.missing?.b ?? "d"`, `m.k ?? "z"`,
		`m?.missing?.a`, `m["deep"].x`, `map(tags, {# + "x"})`, `filter(tags, {# != "b"}) | map({upper(#)})`,
		`reduce(1..10, #acc + #, 0)`, `let x = [1, 2, 3]; sum(x) + len(x)`, `{"a": n, "b": [name]}`,
		`count(1..100, {# % 3 == 0})`, `sortBy(tags, {#}, "desc")`, `groupBy(1..6, {# % 2})[0]`, `repeat(name, 3)`,
		`replace(name, "n", "nn")`, `join(tags, "-")`, `split("a,b,c", ",")`, `toJSON(m)`, `fromJSON("[1,2]")`,
		`string(tags)`, `name matches lower("^A")`, `name matches "^A"`, `n in 1..10`, `tags[1:]`, `name[1:2]`,
		`first(tags)`, `any(tags, {# == "c"}) ? "yes" : "no"`, `none == nil`, `-n`, `!(n > 3)`, `1..3 == [1, 2, 3]`,
		`flatten([[1], [2, [3]]])`, `len(splitAfter("a,b", ","))`, `repeat("ab", 0)`,
	} {
		want, err := expr.Eval(src, env())
		if err != nil {
			t.Fatalf("%s: plain: %v", src, err)
		}
		got, err := exprbudget.Run(compile(t, src), env(), exprbudget.NewMeter(exprbudget.Default))
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v; want %#v", src, got, want)
		}
	}
}

func TestBudgetsAreNamed(t *testing.T) {
	for src, budget := range map[string]string{
		`len(repeat(repeat("a", 100000), 1000000))`: "memory",
		`all(1..999990, {# > 0})`:                   "steps",
		`len(1..2000000)`:                           "memory",
		`len(reduce(1..100, [#acc], []))`:           "nesting",
		`name matches repeat("a", 5000)`:            "memory",
	} {
		_, err := exprbudget.Run(compile(t, src), env(), exprbudget.NewMeter(exprbudget.Default))
		var be *exprbudget.Error
		if !errors.As(err, &be) || be.Budget != budget || !strings.Contains(err.Error(), budget+" budget exceeded") {
			t.Errorf("%s: err = %v; want the %s budget", src, err, budget)
		}
	}
}

func TestRunWithoutMeterFails(t *testing.T) {
	_, err := vm.Run(compile(t, `name + "x"`), env())
	if err == nil || !strings.Contains(err.Error(), "without a budget") {
		t.Fatalf("err = %v", err)
	}
}
