package lease_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	sch, err := schema.New(&config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a manual clock shared by the nodes of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestAcquireRenewReleaseAndTakeOverAfterExpiry(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a := lease.New(st, lease.Options{Holder: "a", TTL: 10 * time.Second, Now: clk.now, Logger: quiet})
	b := lease.New(st, lease.Options{Holder: "b", TTL: 10 * time.Second, Now: clk.now, Logger: quiet})

	must := func(ok bool, err error, want bool, what string) {
		t.Helper()
		if err != nil || ok != want {
			t.Fatalf("%s = %v, %v; want %v", what, ok, err, want)
		}
	}
	ok, err := a.Acquire(ctx, "rules")
	must(ok, err, true, "a acquires a free lease")
	ok, err = b.Acquire(ctx, "rules")
	must(ok, err, false, "b acquires a's live lease")
	ok, err = a.Acquire(ctx, "rules")
	must(ok, err, true, "a acquires its own lease again")
	ok, err = b.Renew(ctx, "rules")
	must(ok, err, false, "b renews a's lease")

	clk.add(9 * time.Second)
	ok, err = a.Renew(ctx, "rules")
	must(ok, err, true, "a renews")
	clk.add(9 * time.Second) // 18 s after the acquire, 9 s after the renewal
	ok, err = b.Acquire(ctx, "rules")
	must(ok, err, false, "b acquires the renewed lease")

	clk.add(time.Second) // the renewal has expired: a died
	ok, err = b.Acquire(ctx, "rules")
	must(ok, err, true, "b takes over the expired lease")
	ok, err = a.Renew(ctx, "rules")
	must(ok, err, false, "a renews a lease b took over")
	if l, err := a.Get(ctx, "rules"); err != nil || l == nil || l.Holder != "b" || !l.Since.Equal(clk.now()) {
		t.Fatalf("stored lease = %+v, %v", l, err)
	}

	if err := a.Release(ctx, "rules"); err != nil {
		t.Fatal(err)
	}
	ok, err = a.Acquire(ctx, "rules")
	must(ok, err, false, "a's release of b's lease left it to b; a acquires")
	if err := b.Release(ctx, "rules"); err != nil {
		t.Fatal(err)
	}
	ok, err = a.Acquire(ctx, "rules")
	must(ok, err, true, "a acquires the released lease at once")
}

// TestConcurrentAcquireHasOneWinner races many nodes for one free lease.
func TestConcurrentAcquireHasOneWinner(t *testing.T) {
	st := openStore(t)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		l := lease.New(st, lease.Options{Holder: string(rune('a' + i)), Logger: quiet})
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := l.Acquire(context.Background(), "race")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d nodes acquired the lease, want 1", n)
	}
}

// TestHoldHandsOverWhenTheHolderDies: a's work runs while it holds the
// lease; a dies (abandons it); b's work starts only after a's has stopped,
// once the lease expired; a clean stop of b releases it.
func TestHoldHandsOverWhenTheHolderDies(t *testing.T) {
	st := openStore(t)
	opts := lease.Options{TTL: 300 * time.Millisecond, Renew: 50 * time.Millisecond, Logger: quiet}
	opts.Holder = "a"
	a := lease.New(st, opts)
	opts.Holder = "b"
	b := lease.New(st, opts)

	var running atomic.Int32 // works running now
	var overlap atomic.Bool
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	work := func(started chan struct{}) func(ctx context.Context) error {
		var once sync.Once
		return func(ctx context.Context) error {
			if running.Add(1) > 1 {
				overlap.Store(true)
			}
			once.Do(func() { close(started) })
			<-ctx.Done()
			running.Add(-1)
			return nil
		}
	}
	actx, killA := context.WithCancelCause(context.Background())
	aDone := make(chan error, 1)
	go func() { aDone <- a.Hold(actx, "job", work(aStarted)) }()
	<-aStarted

	bctx, stopB := context.WithCancel(context.Background())
	bDone := make(chan error, 1)
	go func() { bDone <- b.Hold(bctx, "job", work(bStarted)) }()

	killA(lease.ErrAbandoned)
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if l, _ := a.Get(context.Background(), "job"); l == nil || l.Holder != "a" {
		t.Fatalf("a dead: lease = %+v, want still a's", l)
	}
	<-bStarted
	if overlap.Load() {
		t.Fatal("b's work ran while a's did")
	}
	stopB()
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if l, err := b.Get(context.Background(), "job"); l != nil || err != nil {
		t.Fatalf("after b's clean stop: lease = %+v, %v; want released", l, err)
	}
}
