package feed_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/lease"
)

// TestLeasedConsumerTakenOverWhenItsNodeDies: two nodes run the same named
// consumer over one store, each with its own lease holder. Only the
// lease's holder hands batches; when it dies in the middle of a batch
// (its context ends without a release), the other takes over once the
// lease expired and resumes from the stored position: every event is
// handled, the unfinished batch again, and never by both nodes at once.
func TestLeasedConsumerTakenOverWhenItsNodeDies(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	const events = 300
	createContacts(t, st, events)
	last := st.LastSeq()

	var mu sync.Mutex
	handled := map[uint64]int{} // seq -> times handled
	var busy atomic.Int32
	var overlap atomic.Bool
	aDied := make(chan struct{})
	var aBatches atomic.Int32
	handler := func(node string, die func()) feed.Handler {
		return func(ctx context.Context, batch []feed.Event) error {
			if busy.Add(1) > 1 {
				overlap.Store(true)
			}
			defer busy.Add(-1)
			if node == "a" && aBatches.Add(1) == 3 {
				die() // in the middle of its third batch
				<-ctx.Done()
				return ctx.Err()
			}
			mu.Lock()
			for _, ev := range batch {
				handled[ev.Seq]++
			}
			mu.Unlock()
			return nil
		}
	}
	opts := func(holder string) feed.Options {
		return feed.Options{Name: "deliveries", Batch: 50, Logger: quiet,
			Lease: lease.New(st, lease.Options{Holder: holder, TTL: 300 * time.Millisecond, Renew: 50 * time.Millisecond, Logger: quiet})}
	}
	actx, killA := context.WithCancelCause(context.Background())
	aDone := make(chan error, 1)
	a := feed.New(st, sch, handler("a", func() { killA(lease.ErrAbandoned); close(aDied) }), opts("a"))
	go func() { aDone <- a.Run(actx) }()
	<-aDied
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	stored, err := feed.Stored(context.Background(), st, "deliveries")
	if err != nil || stored == 0 || stored >= last {
		t.Fatalf("node a stored %d (%v); want part of the feed", stored, err)
	}

	bctx, stopB := context.WithCancel(context.Background())
	defer stopB()
	b := feed.New(st, sch, handler("b", nil), opts("b"))
	bDone := make(chan error, 1)
	go func() { bDone <- b.Run(bctx) }()
	for {
		if pos, err := feed.Stored(context.Background(), st, "deliveries"); err == nil && pos >= last {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopB()
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	if overlap.Load() {
		t.Fatal("both nodes handled batches at once")
	}
	mu.Lock()
	defer mu.Unlock()
	for seq := last - events + 1; seq <= last; seq++ {
		if handled[seq] != 1 {
			t.Fatalf("event %d handled %d times, want once (node a died before it handled its third batch)", seq, handled[seq])
		}
	}
}

// TestConsumerThatLostItsLeaseSavesNothing: node a is in the middle of a
// batch when node b takes its lease (b's clock runs an hour ahead, so a's
// lease looks expired to it). When a's handler returns, a does not save
// the position (b owns it now) and hands no further batch.
func TestConsumerThatLostItsLeaseSavesNothing(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	createContacts(t, st, 100)
	inBatch, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h := func(ctx context.Context, batch []feed.Event) error {
		if calls.Add(1) == 1 {
			close(inBatch)
			<-release
		}
		return nil
	}
	la := lease.New(st, lease.Options{Holder: "a", TTL: 3 * time.Second, Logger: quiet})
	c := feed.New(st, sch, h, feed.Options{Name: "plugin:x", Batch: 10, Logger: quiet, Lease: la})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-inBatch
	lb := lease.New(st, lease.Options{Holder: "b", Logger: quiet, Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if ok, err := lb.Acquire(context.Background(), feed.LeaseName("plugin:x")); !ok || err != nil {
		t.Fatalf("b takes the lease: %v, %v", ok, err)
	}
	close(release)
	// a notices at its next renewal, and stops handing batches.
	for c.Active() {
		time.Sleep(5 * time.Millisecond)
	}
	if pos, err := feed.Stored(context.Background(), st, "plugin:x"); pos != 0 || err != nil {
		t.Fatalf("stored position %d (%v): a saved after it lost the lease", pos, err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("a handed %d batches, want 1", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
