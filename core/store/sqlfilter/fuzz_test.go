package sqlfilter_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
)

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// FuzzWhere feeds random filter sources to Where: whatever compiles must
// translate without a panic, into a condition whose placeholders are
// exactly the parameters it added. (TestWhere runs the conditions on
// PostgreSQL and checks the rows.)
func FuzzWhere(f *testing.F) {
	for _, s := range append(append([]string{}, exactFilters...), inexactFilters...) {
		f.Add(s)
	}
	for _, s := range []string{"(", "s ==", "not not not b", "i in [1, nil, 'a', 2.5, true]", "s in ['a', 1]",
		"dt > date('2026-03-01', '2006-01-02')", "m.amount in []", "-i > 1", "i > -9223372036854775807"} {
		f.Add(s)
	}
	ent := thing(f)
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := store.CompileFilter(ent, src)
		if err != nil {
			return
		}
		var args sqlfilter.Args
		args.Add("entity") // a caller's parameter before the filter's
		cond, _ := sqlfilter.Where(flt, "r", &args)
		used := map[int]bool{}
		for _, p := range placeholder.FindAllString(cond, -1) {
			n, _ := strconv.Atoi(p[1:])
			if n < 2 || n > len(args.List) {
				t.Fatalf("%q: %s refers to %s of %d parameters", src, cond, p, len(args.List))
			}
			used[n] = true
		}
		if len(used) != len(args.List)-1 {
			t.Fatalf("%q: %s uses %d of the %d parameters it added", src, cond, len(used), len(args.List)-1)
		}
	})
}
