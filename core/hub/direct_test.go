package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/hub"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/store"
)

// The hub without the websocket: a real store, and the client's queue read
// directly.

func openHub(t *testing.T, opts hub.Options) (*hub.Hub, *records.Service, *auth.Principal, func() error) {
	t.Helper()
	_, sch, _, diags := app.CheckSources(map[string][]byte{"crm.hcl": []byte(testConfig)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	recs := records.New(st, sch)
	opts.Logger = log
	h := hub.New(recs, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { _ = stop() })
	admin := auth.New(st, nil, auth.Options{Logger: log}).Principal(&auth.User{ID: "01JADMIN000000000000000000", Role: auth.AdminRole})
	return h, recs, admin, stop
}

// next reads the client's next queued message.
func next(t *testing.T, c *hub.Client) map[string]any {
	t.Helper()
	select {
	case b := <-c.Out():
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("not JSON: %s", b)
		}
		return m
	case <-c.Done():
		t.Fatalf("dropped: %v", c.Err())
	case <-time.After(30 * time.Second):
		t.Fatal("no message")
	}
	return nil
}

func TestResyncWhenAfterIsTooOld(t *testing.T) {
	h, recs, admin, _ := openHub(t, hub.Options{MaxReplay: 3})
	ctx := context.Background()
	for i := range 5 {
		if _, err := recs.Create(ctx, records.SystemActor(), records.CreateRequest{Entity: "contact",
			Values: records.Values{Set: map[string]any{"name": fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	c := mustConnect(t, h, admin)
	defer c.Close()
	if m := next(t, c); m["type"] != "hello" {
		t.Fatalf("hello: %v", m)
	}
	zero, two := uint64(0), uint64(2)
	c.Handle(ctx, hub.Request{Type: "subscribe", Sub: "old", Entity: "contact", After: &zero})
	m := next(t, c)
	if m["type"] != "error" || m["sub"] != "old" || m["error"].(map[string]any)["code"] != hub.CodeResync {
		t.Fatalf("want resync, got %v", m)
	}
	c.Handle(ctx, hub.Request{Type: "subscribe", Sub: "recent", Entity: "contact", After: &two})
	for want := 3; want <= 5; want++ {
		m := next(t, c)
		if m["type"] != "change" || m["position"].(float64) != float64(want) {
			t.Fatalf("want the change at %d, got %v", want, m)
		}
	}
}

func TestShutdownDropsClients(t *testing.T) {
	h, _, admin, stop := openHub(t, hub.Options{})
	c := mustConnect(t, h, admin)
	next(t, c)
	c.Handle(context.Background(), hub.Request{Type: "subscribe", Sub: "c", Entity: "contact"})
	if m := next(t, c); m["type"] != "snapshot" {
		t.Fatalf("snapshot: %v", m)
	}
	if h.Clients() != 1 {
		t.Fatalf("%d clients", h.Clients())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the client was not dropped")
	}
	if !errors.Is(c.Err(), hub.ErrShutdown) {
		t.Fatalf("dropped for %v", c.Err())
	}
	c.Close()
	if h.Clients() != 0 {
		t.Fatalf("%d clients after close", h.Clients())
	}
	// A client that comes after the stop is dropped at once.
	late := mustConnect(t, h, admin)
	<-late.Done()
	if !strings.Contains(late.Err().Error(), "shutting down") {
		t.Fatalf("late client: %v", late.Err())
	}
}

func TestTooManySubscriptions(t *testing.T) {
	h, _, admin, _ := openHub(t, hub.Options{MaxSubscriptions: 2})
	c := mustConnect(t, h, admin)
	defer c.Close()
	next(t, c)
	ctx := context.Background()
	for i := range 3 {
		c.Handle(ctx, hub.Request{Type: "subscribe", Sub: fmt.Sprint(i), Entity: "contact"})
	}
	next(t, c)
	next(t, c)
	if m := next(t, c); m["error"].(map[string]any)["code"] != "too_many_subscriptions" {
		t.Fatalf("third subscription: %v", m)
	}
}

func mustConnect(t *testing.T, h *hub.Hub, p *auth.Principal) *hub.Client {
	t.Helper()
	c, err := h.Connect(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConnectionsPerUserAreCapped: a user's connection past the cap is
// refused (the older ones stay), a closed one frees its place, and another
// user is not counted with them.
func TestConnectionsPerUserAreCapped(t *testing.T) {
	h, _, admin, _ := openHub(t, hub.Options{MaxPerUser: 2})
	first, second := mustConnect(t, h, admin), mustConnect(t, h, admin)
	_, err := h.Connect(admin)
	var many *hub.TooManyError
	if !errors.As(err, &many) || many.Max != 2 || !strings.Contains(err.Error(), "2 live connections") {
		t.Fatalf("a third connection: %v; want TooManyError", err)
	}
	if first.Err() != nil || second.Err() != nil || h.Clients() != 2 {
		t.Fatalf("the older connections: %v, %v, %d clients", first.Err(), second.Err(), h.Clients())
	}
	other := *admin
	other.User = &auth.User{ID: "01JOTHER000000000000000000", Role: auth.AdminRole}
	mustConnect(t, h, &other).Close()
	first.Close()
	mustConnect(t, h, admin).Close()
	second.Close()
}
