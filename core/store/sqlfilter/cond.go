package sqlfilter

import "strings"

// sqlx is a SQL condition under construction: TRUE, FALSE, a conjunction,
// a disjunction, or a leaf of SQL text with parameters. It holds exactly
// where it says when exact, else on a superset of those rows. Leaves are
// shared between conditions; each renders its parameters once.
type sqlx struct {
	kind  int
	parts []*sqlx // xAnd, xOr
	leaf  []any   // xLeaf: string pieces of SQL text and param values
	exact bool
	size  int // leaves, counted as often as they occur
	// col is the column a leaf tests, when the leaf holds only where the
	// column is not NULL.
	col string
}

const (
	xTrue = iota
	xFalse
	xAnd
	xOr
	xLeaf
)

// param is a value that goes into the query as a parameter.
type param struct{ v any }

var (
	exactTrue  = &sqlx{kind: xTrue, exact: true}
	exactFalse = &sqlx{kind: xFalse, exact: true}
	// wideTrue stands for what was not translated: TRUE, a superset.
	wideTrue = &sqlx{kind: xTrue}
)

// leafOf is an exact leaf of pieces: strings are SQL text, params values.
// The first piece is the column it tests; the leaf holds only where that
// is not NULL unless the second piece is " IS NULL".
func leafOf(pieces ...any) *sqlx {
	x := &sqlx{kind: xLeaf, leaf: pieces, exact: true, size: 1}
	if len(pieces) < 2 || pieces[1] != " IS NULL" {
		x.col, _ = pieces[0].(string)
	}
	return x
}

// notNull reports whether x holds only where every one of cols is not
// NULL.
func (x *sqlx) notNull(cols []string) bool {
	for _, c := range cols {
		if !x.rejects(c) {
			return false
		}
	}
	return true
}

// rejects reports whether x holds only where col is not NULL.
func (x *sqlx) rejects(col string) bool {
	switch x.kind {
	case xFalse:
		return true
	case xLeaf:
		return x.col == col
	case xAnd:
		for _, p := range x.parts {
			if p.rejects(col) {
				return true
			}
		}
		return false
	case xOr:
		for _, p := range x.parts {
			if !p.rejects(col) {
				return false
			}
		}
		return true
	}
	return false
}

// wide is x marked as a superset.
func wide(x *sqlx) *sqlx {
	if !x.exact {
		return x
	}
	c := *x
	c.exact = false
	return &c
}

// and is the conjunction of xs.
func and(xs ...*sqlx) *sqlx {
	return combine(xAnd, xs)
}

// or is the disjunction of xs.
func or(xs ...*sqlx) *sqlx {
	return combine(xOr, xs)
}

// combine builds a conjunction (kind xAnd) or disjunction (xOr) of xs,
// dropping the neutral constant, stopping at the absorbing one and
// flattening nested conditions of the same kind. A superset TRUE dropped
// from a conjunction makes it a superset; one in a disjunction makes it
// TRUE, a superset, unless an exact TRUE is there too.
func combine(kind int, xs []*sqlx) *sqlx {
	neutral, absorbing := xTrue, xFalse
	if kind == xOr {
		neutral, absorbing = xFalse, xTrue
	}
	var parts []*sqlx
	exact, wideAbsorb := true, false
	for _, x := range xs {
		switch {
		case x.kind == absorbing && x.exact:
			if absorbing == xTrue {
				return exactTrue
			}
			return exactFalse
		case x.kind == absorbing:
			wideAbsorb = true
		case x.kind == neutral:
			exact = exact && x.exact
		case x.kind == kind:
			parts = append(parts, x.parts...)
			exact = exact && x.exact
		default:
			parts = append(parts, x)
			exact = exact && x.exact
		}
	}
	if wideAbsorb {
		return wideTrue // only TRUE can be a superset
	}
	if len(parts) == 0 {
		if neutral == xTrue {
			if exact {
				return exactTrue
			}
			return wideTrue
		}
		return exactFalse
	}
	if len(parts) == 1 {
		if exact {
			return parts[0]
		}
		return wide(parts[0])
	}
	out := &sqlx{kind: kind, parts: parts, exact: exact}
	for _, p := range parts {
		out.exact = out.exact && p.exact
		out.size += p.size
	}
	return out
}

// render writes x as SQL, adding its parameters to args; done holds the
// leaves rendered so far, so that a shared leaf reuses its parameters.
func (x *sqlx) render(args *Args, done map[*sqlx]string) string {
	switch x.kind {
	case xTrue:
		return "TRUE"
	case xFalse:
		return "FALSE"
	case xLeaf:
		key := x
		if s, ok := done[key]; ok {
			return s
		}
		var b strings.Builder
		for _, p := range x.leaf {
			switch v := p.(type) {
			case string:
				b.WriteString(v)
			case param:
				b.WriteString(args.Add(v.v))
			}
		}
		done[key] = b.String()
		return b.String()
	}
	sep := " AND "
	if x.kind == xOr {
		sep = " OR "
	}
	parts := make([]string, len(x.parts))
	for i, p := range x.parts {
		parts[i] = p.render(args, done)
	}
	return "(" + strings.Join(parts, sep) + ")"
}
