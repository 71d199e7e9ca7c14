package plugins_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
	"github.com/crmkit/crm/core/store"
)

// TestDeliveriesTakenOverWhenANodeDies: two nodes, each with its own plugin
// host and its own process of the same plugin, share one store. Node A
// delivers part of the feed and dies (its deliveries end without
// releasing their lease); node B takes over once the lease expired and
// delivers the rest from the stored position. Every event reaches the
// plugin, at least once, with the same idempotency key wherever it went
// out from; only a batch A had not finished may come twice.
func TestDeliveriesTakenOverWhenANodeDies(t *testing.T) {
	const events = 400
	a := newEnv(t, plugins.Options{})
	cfg := thirdParty(t, "tp", testplugin.ModeOK)
	if err := a.host.Start(background(), []*config.Plugin{cfg}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hostB := plugins.New(plugins.Options{Store: a.store, Schema: a.sch, Logger: quiet})
	t.Cleanup(func() { hostB.Close() })
	if err := hostB.Start(background(), []*config.Plugin{cfg}); err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if _, err := a.store.Create(background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprintf("c%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	last := a.store.LastSeq()
	stored := func() uint64 {
		pos, err := feed.Stored(background(), a.store, "plugin:tp")
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	leases := func(holder string) plugins.DeliverOptions {
		return plugins.DeliverOptions{Lease: lease.New(a.store, lease.Options{Holder: holder, TTL: 300 * time.Millisecond, Renew: 50 * time.Millisecond, Logger: quiet})}
	}

	actx, killA := context.WithCancelCause(context.Background())
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		a.host.RunDeliveries(actx, a.store, a.sch, []*config.Plugin{cfg}, leases("node-a"))
	}()
	for stored() < last-events/2 {
		time.Sleep(time.Millisecond)
	}
	killA(lease.ErrAbandoned)
	<-aDone
	if pos := stored(); pos >= last {
		t.Fatalf("node a delivered the whole feed (%d) before it died; the test needs it to stop halfway", pos)
	}

	bctx, stopB := context.WithCancel(context.Background())
	bDone := make(chan struct{})
	go func() {
		defer close(bDone)
		hostB.RunDeliveries(bctx, a.store, a.sch, []*config.Plugin{cfg}, leases("node-b"))
	}()
	for stored() < last {
		time.Sleep(5 * time.Millisecond)
	}
	stopB()
	<-bDone

	seen := func(h *plugins.Host) []string {
		raw, err := h.Invoke(background(), "tp", plugins.Call{Action: "seen"})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatal(err)
		}
		return keys
	}
	fromA, fromB := seen(a.host), seen(hostB)
	if len(fromA) == 0 || len(fromB) == 0 {
		t.Fatalf("node a delivered %d events, node b %d; want both some", len(fromA), len(fromB))
	}
	times := map[string]int{}
	for _, k := range append(fromA, fromB...) {
		times[k]++
	}
	twice := 0
	for seq := last - events + 1; seq <= last; seq++ {
		k := fmt.Sprintf("contact.created:plugin:tp:%d", seq)
		switch times[k] {
		case 0:
			t.Fatalf("event %d never delivered", seq)
		case 1:
		default:
			twice++
		}
	}
	if twice > 100 { // a delivery batch
		t.Fatalf("%d events delivered more than once; want at most the batch node a had not finished", twice)
	}
	t.Logf("node a delivered %d, node b %d; %d twice", len(fromA), len(fromB), twice)
}
