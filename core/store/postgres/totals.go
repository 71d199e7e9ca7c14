package postgres

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
)

// Totals returns, per group value of groupBy ("" for one group of all)
// and per currency, the count and exact sum of the money field sumField
// over the records that match f; with sumField "", only the count per
// group. The database groups and sums (numeric, so exactly) what
// sqlfilter translates exactly; for any other filter the matching records
// are read and summed in Go. The groups and money fields allowed, and the
// errors, are the Badger store's (store.CheckTotals).
func (s *Store) Totals(ctx context.Context, entity, groupBy, sumField string, f *store.Filter) ([]store.Total, error) {
	ent, err := s.entity(entity)
	if err != nil {
		return nil, err
	}
	if err := store.CheckTotals(ent, groupBy, sumField); err != nil {
		return nil, err
	}
	var out []store.Total
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		args := &sqlfilter.Args{}
		pe := literal(ent.Name)
		cond, exact := sqlfilter.Where(f, "r", args)
		if exact {
			out, err = totalsSQL(ctx, tx, ent, groupBy, sumField, pe, cond, args)
		} else {
			out, err = totalsGo(ctx, tx, ent, groupBy, sumField, f)
		}
		return err
	})
	if err != nil {
		return nil, wrapRead(err, "totals of %s", ent.Name)
	}
	return store.FinishTotals(out, sumField != ""), nil
}

// groupExpr is the SQL of a group field's value, NULL for none.
func groupExpr(ent *schema.Entity, groupBy string) string {
	if groupBy == "owner" {
		return `NULLIF(r.owner, '')`
	}
	if f := ent.Field(groupBy); f != nil && f.Type == config.TypeBool {
		return "(r.data->>" + literal(groupBy) + ")::boolean::text"
	}
	return "NULLIF(r.data->>" + literal(groupBy) + ", '')"
}

func totalsSQL(ctx context.Context, tx pgx.Tx, ent *schema.Entity, groupBy, sumField, pe, cond string, args *sqlfilter.Args) ([]store.Total, error) {
	cols := []string{"NULL::text"}
	if groupBy != "" {
		cols[0] = groupExpr(ent, groupBy)
	}
	where := "r.entity = " + pe + " AND (" + cond + ")"
	if sumField != "" {
		m := "r.data->" + literal(sumField)
		cols = append(cols, "("+m+"->>'currency')", "sum(("+m+"->>'amount')::numeric)::text")
		where += " AND " + m + " IS NOT NULL"
	} else {
		cols = append(cols, "''", "'0'")
	}
	query := "SELECT " + strings.Join(cols, ", ") + ", count(*) FROM crm_records r WHERE " + where + " GROUP BY 1, 2"
	rows, err := tx.Query(ctx, query, args.List...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Total
	for rows.Next() {
		var g *string
		var currency, sum string
		var n int64
		if err := rows.Scan(&g, &currency, &sum, &n); err != nil {
			return nil, err
		}
		minor, err := minorUnits(sum, currency)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Total{Group: groupValue(ent, groupBy, g), Currency: currency, Minor: minor, Count: n})
	}
	return out, rows.Err()
}

// groupValue is a group's value as the Badger store gives it: a string,
// a bool for a bool field, nil for none.
func groupValue(ent *schema.Entity, groupBy string, g *string) any {
	if g == nil || *g == "" {
		return nil
	}
	if f := ent.Field(groupBy); f != nil && f.Type == config.TypeBool {
		return *g == "true"
	}
	return *g
}

// minorUnits reads a sum of amounts in major units as minor units of the
// currency (its digits, 2 for a code not known, as schema formats them).
func minorUnits(sum, currency string) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(sum)
	if !ok {
		return nil, fmt.Errorf("sum %q of %s: not a number", sum, currency)
	}
	digits, _, err := schema.CurrencyDigits(currency)
	if err != nil {
		digits = 2
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("sum %s %s is not a whole number of minor units", sum, currency)
	}
	return new(big.Int).Set(r.Num()), nil
}

func totalsGo(ctx context.Context, tx pgx.Tx, ent *schema.Entity, groupBy, sumField string, f *store.Filter) ([]store.Total, error) {
	type gk struct {
		group    any
		currency string
	}
	acc := map[gk]*store.Total{}
	var order []gk
	err := scanMatches(ctx, tx, ent, f, func(r *store.Record) (bool, error) {
		var gv any
		if groupBy != "" {
			if gv = store.FieldValue(r, groupBy); isZero(gv) {
				gv = nil
			}
		}
		currency := ""
		var minor int64
		if sumField != "" {
			m, ok := r.Values[sumField].(schema.Money)
			if !ok {
				return true, nil
			}
			currency, minor = m.Currency, m.Minor
		}
		k := gk{gv, currency}
		t := acc[k]
		if t == nil {
			t = &store.Total{Group: gv, Currency: currency, Minor: new(big.Int)}
			acc[k] = t
			order = append(order, k)
		}
		t.Count++
		t.Minor.Add(t.Minor, big.NewInt(minor))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]store.Total, 0, len(order))
	for _, k := range order {
		out = append(out, *acc[k])
	}
	return out, nil
}
