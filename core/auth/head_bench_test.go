package auth

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// BenchmarkAuthenticateCachedPostgres measures what reading the committed
// feed head (store.FeedHead, one query) adds to an authenticated request
// served from the credential cache on PostgreSQL: "head" is a node that
// follows revocations (a server), "no-head" the same cache trusted
// without a follower (one node, no query). Compare ns/op.
func BenchmarkAuthenticateCachedPostgres(b *testing.B) {
	sch, err := schema.New(&config.Config{Roles: testRoles})
	if err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(context.Background(), pgtest.DB(b), sch, postgres.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	clock := newClock()
	svc := New(st, testRoles, cheap(Options{Now: clock.Now, Logger: slog.New(slog.DiscardHandler)}))
	e := &env{st: st, clock: clock, log: &syncBuffer{}, svc: svc}
	e.user(b, "ann@example.com", "editor")
	secret := e.login(b, "ann@example.com")
	ctx := context.Background()
	run := func(b *testing.B) {
		if _, err := svc.Authenticate(ctx, secret); err != nil { // fills the cache
			b.Fatal(err)
		}
		b.ResetTimer()
		for b.Loop() {
			if _, err := svc.Authenticate(ctx, secret); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no-head", run)
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = svc.FollowRevocations(fctx, sch) })
	defer func() { cancel(); wg.Wait() }()
	for svc.follow.Load() == nil || !svc.cacheCurrent(ctx) {
		time.Sleep(time.Millisecond)
	}
	b.Run("head", run)
}
