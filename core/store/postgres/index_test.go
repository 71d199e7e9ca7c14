package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// TestRefLookupsCanUseTheirIndex: the query that finds the records
// referencing one (a delete's check) matches the per-entity index of the
// ref field, also once the statement is prepared and planned generically.
func TestRefLookupsCanUseTheirIndex(t *testing.T) {
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(`locale { currency = "AMD" }`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	if p := strings.Join(plan, "\n"); !strings.Contains(p, indexName("deal", "contact")) {
		t.Fatalf("plan does not use the index %s:\n%s", indexName("deal", "contact"), p)
	}
}
