package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/crmkit/crm/core/store"
)

// BenchmarkCreate measures creates from 8 writers per CPU on one store
// (each a transaction with its history entry, event and feed position).
func BenchmarkCreate(b *testing.B) {
	st, _ := openStore(b)
	ctx := context.Background()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint("c", i)}, By: testUser}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkListPage measures a page of 50 contacts by a filter evaluated
// in Go, out of 2000.
func BenchmarkListPage(b *testing.B) {
	st, sch := openStore(b)
	ctx := context.Background()
	for i := range 2000 {
		create(b, st, "contact", map[string]any{"name": fmt.Sprint("c", i%10)})
	}
	f, err := store.CompileFilter(sch.Entity("contact"), "name == 'c3'")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := st.List(ctx, store.Query{Entity: "contact", Filter: f, Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}
