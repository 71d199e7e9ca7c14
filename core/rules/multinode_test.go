package rules_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// node is one crm node's rules engine over a store shared with others.
type node struct {
	eng  *rules.Engine
	stop context.CancelCauseFunc
	done chan error
}

func startNode(t *testing.T, st store.Store, sch *schema.Schema, set *rules.Set, holder string) *node {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := lease.New(st, lease.Options{Holder: holder, TTL: 400 * time.Millisecond, Renew: 100 * time.Millisecond, Logger: log})
	eng := rules.NewEngine(st, sch, set, rules.Options{RetryBase: 50 * time.Millisecond, MaxAttempts: 4, Logger: log, Lease: l})
	ctx, cancel := context.WithCancelCause(context.Background())
	n := &node{eng: eng, stop: cancel, done: make(chan error, 1)}
	go func() { n.done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel(nil)
		if err := <-n.done; err != nil {
			t.Error(err)
		}
	})
	return n
}

// waitFor polls cond until it holds; it fails the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTwoNodesOneEffectPerEventWhenOneDies: two nodes' engines share one
// store; node A handles the first part of 1,000 events and dies (its
// context ends without releasing its lease, as a killed process would,
// in the middle of a batch); node B takes over once the lease expired,
// handles the rest from the stored position, and the batch A did not
// finish again. Every event gets its task exactly once.
func TestTwoNodesOneEffectPerEventWhenOneDies(t *testing.T) {
	const events = 1000
	var mu sync.Mutex
	hooks := map[string]int{} // idempotency key -> deliveries
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hooks[r.Header.Get("X-CRM-Idempotency-Key")]++
		mu.Unlock()
	}))
	defer srv.Close()
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(`
rule "follow_up" {
  on = ["contact.created"]
  action "create_task" {
    title = "'Follow up ' + record.name"
  }
  action "webhook" {
    url = "'` + srv.URL + `'"
  }
}`)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("rules: %v", diags)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.SysUpdate(ctx, func(tx store.SysTx) error {
		return tx.Put("user", admin, map[string]string{"id": admin})
	}); err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprintf("c%04d", i)}, By: admin}); err != nil {
			t.Fatal(err)
		}
	}
	// The feed holds the contacts' events, in order, before any task's.
	half := st.LastSeq() - events/2

	a := startNode(t, st, sch, set, "node-a")
	waitFor(t, "node A to handle half the events", func() bool {
		pos, err := a.eng.Position(ctx)
		return err == nil && pos >= half
	})
	b := startNode(t, st, sch, set, "node-b")
	a.stop(lease.ErrAbandoned) // A dies: its lease stays until it expires
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
	a.done <- nil // for the cleanup
	posA, _ := a.eng.Position(ctx)
	if posA >= st.LastSeq() {
		t.Fatalf("node A handled the whole feed (%d) before it died; the test needs it to stop halfway", posA)
	}

	waitFor(t, "node B to finish the feed", func() bool {
		pos, err := b.eng.Position(ctx)
		return err == nil && pos >= st.LastSeq() && st.Counts()["task"] >= events
	})
	if n := st.Counts()["task"]; n != events {
		t.Fatalf("%d tasks for %d events", n, events)
	}
	stats, err := b.eng.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := stats["follow_up"]; s == nil || s.OK != events || s.Failed != 0 || s.Retrying != 0 {
		t.Fatalf("stats = %+v", s)
	}
	l, err := lease.New(st, lease.Options{}).Get(ctx, "consumer:rules")
	if err != nil || l == nil || l.Holder != "node-b" {
		t.Fatalf("lease = %+v, %v; want node-b's", l, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != events {
		t.Fatalf("webhooks with %d distinct keys for %d events", len(hooks), events)
	}
	for key, n := range hooks {
		if n != 1 {
			t.Fatalf("webhook %s delivered %d times", key, n)
		}
	}
	t.Logf("node A stopped at position %d of %d; node B handled the rest", posA, st.LastSeq())
}
