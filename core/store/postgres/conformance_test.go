package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/store/storetest"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// pgKnown are the conformance subtests PostgreSQL cannot pass, each with
// the reason; they are skipped, not hidden.
var pgKnown = map[string]string{}

// TestConformance runs the store conformance suite against PostgreSQL,
// each subtest on a database of its own. That costs one CREATE DATABASE
// and one migration (tables, functions, the suite schema's indexes) per
// subtest, about 1 s of the roughly 2 s each takes on a loaded 2-core
// machine: the suite takes about two minutes, Badger's about 12 s. It buys
// independent subtests (counts, feed positions and sys documents start
// empty), which the suite assumes.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, sch *schema.Schema) store.Store {
		if why, ok := pgKnown[t.Name()]; ok {
			t.Skip(why)
		}
		st, err := postgres.Open(context.Background(), pgtest.DB(t), sch, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
				t.Error(err)
			}
		})
		<-st.SearchReady()
		return st
	})
}
