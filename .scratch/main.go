package main

import (
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

type v struct{}

func (v) Visit(n *ast.Node) {
	fmt.Printf("%T %v %q\n", *n, (*n).Location(), (*n).String())
}

func main() {
	for _, src := range []string{"related('contact').name + \"x\"", "count_related('activity', \"kind == 'call'\")", "a\n  + bé.c"} {
		t, err := parser.Parse(src)
		if err != nil {
			fmt.Println(err)
			continue
		}
		ast.Walk(&t.Node, v{})
	}
}
