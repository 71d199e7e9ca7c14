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
// each subtest on a database of its own (one CREATE DATABASE and one
// migration per subtest).
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
