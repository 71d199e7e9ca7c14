package exprbudget

import (
	"reflect"

	"github.com/expr-lang/expr/ast"
)

// Instrument rewrites a type-checked and optimised tree, just before it is
// compiled, so that running it charges the *Meter that Run puts in the
// environment (see the package comment). costs gives the functions, by
// name, whose call costs more than one step (a store read, say). The
// configuration it is compiled with must include Options.
func Instrument(root *ast.Node, costs map[string]int64) {
	in := instrumenter{costs: costs}
	in.walk(root)
}

type instrumenter struct {
	costs map[string]int64
}

// walk instruments the children of a node, then the node.
func (in *instrumenter) walk(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.UnaryNode:
		in.walk(&n.Node)
	case *ast.BinaryNode:
		in.walk(&n.Left)
		in.walk(&n.Right)
		if _, lit := n.Right.(*ast.StringNode); n.Operator == "matches" && !lit {
			call := &ast.CallNode{Callee: ident(matchFunc, n), Arguments: []ast.Node{n.Left, n.Right}}
			call.SetNature(*n.Nature())
			call.SetLocation(n.Location())
			*node = call
		}
		in.wrap(node, 1)
	case *ast.ChainNode:
		// The optional members of a chain jump to its end: the chain is
		// charged from outside, by its parent, never on its way.
		in.walk(&n.Node)
	case *ast.MemberNode:
		in.walk(&n.Node)
		in.walk(&n.Property)
	case *ast.SliceNode:
		in.walk(&n.Node)
		if n.From != nil {
			in.walk(&n.From)
		}
		if n.To != nil {
			in.walk(&n.To)
		}
	case *ast.CallNode:
		cost := int64(1)
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if c := in.costs[id.Value]; c > 1 {
				cost = c
			}
		} else {
			in.walk(&n.Callee)
		}
		for i := range n.Arguments {
			in.walk(&n.Arguments[i])
		}
		in.wrap(node, cost)
	case *ast.BuiltinNode:
		for i := range n.Arguments {
			in.walk(&n.Arguments[i])
		}
		if n.Map != nil {
			// The optimiser's map folded into a filter: a closure body.
			in.walk(&n.Map)
			in.wrap(&n.Map, 1)
		}
		in.wrap(node, 1)
	case *ast.PredicateNode:
		in.walk(&n.Node)
		in.wrap(&n.Node, 1)
	case *ast.VariableDeclaratorNode:
		in.walk(&n.Value)
		in.walk(&n.Expr)
	case *ast.SequenceNode:
		for i := range n.Nodes {
			in.walk(&n.Nodes[i])
		}
	case *ast.ConditionalNode:
		in.walk(&n.Cond)
		in.walk(&n.Exp1)
		in.walk(&n.Exp2)
	case *ast.ArrayNode:
		for i := range n.Nodes {
			in.walk(&n.Nodes[i])
		}
		in.wrap(node, 1)
	case *ast.MapNode:
		for i := range n.Pairs {
			in.walk(&n.Pairs[i])
		}
		in.wrap(node, 1)
	case *ast.PairNode:
		in.walk(&n.Key)
		in.walk(&n.Value)
	}
}

// wrap replaces a node by __charge(node, __budget[, cost]), which gives
// the node's value with the node's type.
func (in *instrumenter) wrap(node *ast.Node, cost int64) {
	inner := *node
	if isCharge(inner) {
		return
	}
	args := []ast.Node{inner, ident(Var, inner)}
	if cost > 1 {
		c := &ast.IntegerNode{Value: int(cost)}
		c.SetType(reflect.TypeOf(0))
		c.SetLocation(inner.Location())
		args = append(args, c)
	}
	call := &ast.CallNode{Callee: ident(chargeFunc, inner), Arguments: args}
	call.SetNature(*inner.Nature())
	call.SetLocation(inner.Location())
	*node = call
}

// isCharge reports whether a node is already a call of __charge.
func isCharge(n ast.Node) bool {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return false
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	return ok && id.Value == chargeFunc
}

// ident is a hidden identifier placed at n.
func ident(name string, at ast.Node) *ast.IdentifierNode {
	id := &ast.IdentifierNode{Value: name}
	id.SetLocation(at.Location())
	return id
}
