package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// TestRefLookupsCanUseTheirIndex: the query that finds the records
// referencing one (a delete's check) matches the per-entity index of the
// ref field, also once the statement is prepared and planned generically.
func TestRefLookupsCanUseTheirIndex(t *testing.T) {
	sch := mustSchema(t, `locale { currency = "AMD" }`)
	ctx := context.Background()
	st, err := Open(ctx, pgtest.DB(t), sch, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	expr, err := fieldExpr(sch.Entity("deal"), "contact")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN SELECT id FROM crm_records r WHERE entity = `+literal("deal")+` AND `+expr+` = $1 ORDER BY id`, "x")
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	ix, _ := sqlfilter.FieldExpr(sch.Entity("deal"), "contact", "")
	if p := strings.Join(plan, "\n"); !strings.Contains(p, indexName("deal", "contact", ix)) {
		t.Fatalf("plan does not use the index %s:\n%s", indexName("deal", "contact", ix), p)
	}
}

func mustSchema(t *testing.T, hcl string) *schema.Schema {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(hcl)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestIndexesFollowTheSchema: a field whose type changes gets an index
// over its new expression, and the old one, which would refuse the new
// values, is dropped.
func TestIndexesFollowTheSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	hcl := `
entity "vehicle" {
  field "mileage" {
    type = "%s"
    index = true
  }
}
locale { currency = "AMD" }
`
	st, err := Open(ctx, url, mustSchema(t, fmt.Sprintf(hcl, "int")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"mileage": int64(5)}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, url, mustSchema(t, fmt.Sprintf(hcl, "string")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"mileage": "a lot"}}); err != nil {
		t.Fatalf("a value of the field's new type: %v", err)
	}
	var have []string
	rows, err := st.pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'crm_records' AND indexname LIKE 'crm\_x\_vehicle\_mileage%' ORDER BY indexname`)
	if err == nil {
		have, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	// The string field's filter index and its sort index (sortExpr).
	var want []string
	for _, ix := range st.fieldIndexes() {
		if strings.HasPrefix(ix.name, "crm_x_vehicle_mileage") {
			want = append(want, ix.name)
		}
	}
	slices.Sort(want)
	if len(want) != 2 || !slices.Equal(have, want) {
		t.Fatalf("mileage indexes %v, want %v (two)", have, want)
	}
}

// TestSortsCanUseTheirIndex: a list sorted by an indexed string field
// (sorted by sortExpr, empty strings as missing) can walk the field's
// sort index rather than sort the entity's rows.
func TestSortsCanUseTheirIndex(t *testing.T) {
	sch := mustSchema(t, `
entity "item" {
  field "name" {
    type  = "string"
    index = true
  }
}
locale { currency = "AMD" }
`)
	ctx := context.Background()
	st, err := Open(ctx, pgtest.DB(t), sch, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off`); err != nil {
		t.Fatal(err)
	}
	ent := sch.Entity("item")
	sk, err := sortKeyOf(ent, store.SortKey{Field: "name"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := sortKeyOf(ent, store.SortKey{Field: "id"})
	rows, err := tx.Query(ctx, `EXPLAIN SELECT r.id FROM crm_records r WHERE r.entity = `+literal("item")+
		` ORDER BY `+sk.expr+` ASC NULLS LAST, `+id.expr+` ASC LIMIT 10`)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	sx, _ := sortExpr(ent, "name", "")
	if p := strings.Join(plan, "\n"); !strings.Contains(p, indexName("item", "name", sx)) || strings.Contains(p, "Sort Key") {
		t.Fatalf("plan does not walk the index %s:\n%s", indexName("item", "name", sx), p)
	}
}
