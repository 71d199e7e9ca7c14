package store_test

import (
	"errors"
	"testing"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/storetest"
)

// badgerKnown are the conformance subtests Badger fails today, each with
// the finding that names why; they are skipped, not hidden.
var badgerKnown = map[string]string{}

// TestConformance runs the store conformance suite against Badger.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, sch *schema.Schema) store.Store {
		if why, ok := badgerKnown[t.Name()]; ok {
			t.Skip(why)
		}
		st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
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
