package sqlfilter

import (
	"strconv"

	"github.com/crmkit/crm/core/store"
)

// Args collects a query's parameters; Add returns the placeholder of one.
type Args struct {
	List []any
}

// Add appends v and returns its placeholder ($1, $2, ...).
func (a *Args) Add(v any) string {
	a.List = append(a.List, v)
	return "$" + strconv.Itoa(len(a.List))
}

// Where is the SQL condition over the records table under alias that
// holds every record f matches. exact reports that it holds only those,
// so the caller need not evaluate f on the rows; when it is false, the
// caller evaluates f in Go on each row the condition returns. A nil f is
// "TRUE", exact.
//
// Parameters are added to args. The condition does not restrict the
// entity: the caller does.
//
// How it translates (see translate.go): the filter's tree as Eval runs it
// (store.Filter.Node) is read node by node into two SQL conditions, one
// true exactly where the node evaluates to true and one exactly where it
// evaluates to false; where neither holds the node fails on the record
// (nil > 5, a member of a missing money value), and a failure anywhere
// makes the whole filter no match, which the two conditions carry up
// through &&, || and ! without SQL's NOT, so that SQL's NULL never turns
// into a match. A node that is not translated stands as TRUE in both,
// which can only widen the result: the condition is then a superset and
// not exact.
func Where(f *store.Filter, alias string, args *Args) (cond string, exact bool) {
	if f == nil {
		return "TRUE", true
	}
	root := f.Node()
	if root == nil {
		return "TRUE", false
	}
	tr := &translator{ent: f.Entity(), alias: alias}
	t := tr.node(root).t
	return t.render(args, map[*sqlx]string{}), t.exact
}
