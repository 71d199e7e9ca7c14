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
func Where(f *store.Filter, alias string, args *Args) (cond string, exact bool) {
	if f == nil {
		return "TRUE", true
	}
	// Not translated yet: every row is a candidate.
	return "TRUE", false
}
