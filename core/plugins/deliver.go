package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Event deliveries: every plugin that subscribes to events is a consumer
// of the change feed with a position of its own (stored, so a restart
// resumes where it stopped). Events go in batches, at least once: a batch
// the plugin did not acknowledge is sent again, with the same idempotency
// keys (plugin:NAME:SEQ), so the plugin can tell a repeat. A plugin gets
// only the events of entities its HCL block lets it read, and emitted
// events (call.missed) it subscribes to.

const deliveryBatch = 100

// DeliverOptions tune RunDeliveries.
type DeliverOptions struct {
	RetryBase time.Duration // first wait after a failed batch, doubled up to RetryMax; default 1 s
	RetryMax  time.Duration // default 1 min
	// Lease, when set, makes each plugin's deliveries run only on the node
	// that holds the lease of its consumer (feed.LeaseName("plugin:NAME")),
	// so that with several nodes on one store each batch goes out from one
	// node, and another takes over when that node dies.
	Lease *lease.Leases
}

// RunDeliveries delivers the change feed to the subscribed plugins of cfgs
// until ctx is done.
func (h *Host) RunDeliveries(ctx context.Context, st store.Store, sch *schema.Schema, cfgs []*config.Plugin, opts DeliverOptions) {
	var wg sync.WaitGroup
	for _, c := range cfgs {
		fc := h.deliveries(st, sch, c, opts)
		if fc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fc.Run(ctx); err != nil {
				h.log.Error("event deliveries stopped", slog.String("plugin", c.Name), slog.Any("err", err))
			}
		}()
	}
	wg.Wait()
}

// DeliverPending delivers to one plugin, once and now, the events of the
// change feed it has not had yet, through the same consumer and batches as
// RunDeliveries; a failed batch is returned, not retried. The SDK's test
// kit delivers real writes with it.
func (h *Host) DeliverPending(ctx context.Context, st store.Store, sch *schema.Schema, c *config.Plugin) error {
	fc := h.deliveries(st, sch, c, DeliverOptions{})
	if fc == nil {
		return nil
	}
	return fc.Drain(ctx)
}

// deliveries is the change-feed consumer that delivers to plugin c; nil
// when it subscribes to nothing.
func (h *Host) deliveries(st store.Store, sch *schema.Schema, c *config.Plugin, opts DeliverOptions) *feed.Consumer {
	m, ok := h.Manifest(c.Name)
	if !ok || len(m.Subscriptions) == 0 {
		return nil
	}
	d := &delivery{h: h, st: st, sch: sch, cfg: c, subs: m.Subscriptions,
		log: h.log.With(slog.String("plugin", c.Name))}
	return feed.New(st, sch, d.handle, feed.Options{Name: consumer(c.Name), Batch: deliveryBatch,
		RetryBase: opts.RetryBase, RetryMax: opts.RetryMax, Logger: d.log, Lease: opts.Lease})
}

type delivery struct {
	h    *Host
	st   store.Store
	sch  *schema.Schema
	cfg  *config.Plugin
	subs []string
	log  *slog.Logger
}

// consumer is the delivery's change-feed position.
func consumer(plugin string) string { return "plugin:" + plugin }

// handle sends a batch of the feed to the plugin. An error that is not the
// plugin's refusal makes the feed consumer send the batch again after a
// wait; a refusal is logged and the batch counts as delivered.
func (d *delivery) handle(ctx context.Context, events []feed.Event) error {
	batch := d.batch(ctx, events)
	if len(batch) == 0 {
		return nil
	}
	err := d.h.HandleEvents(ctx, d.cfg.Name, batch)
	var refusal *Refusal
	if errors.As(err, &refusal) {
		d.log.Warn("plugin declined events", slog.String("err", refusal.Error()))
		return nil
	}
	if err != nil {
		return fmt.Errorf("deliver %d events from %d to plugin %s: %w", len(batch), batch[0].Seq, d.cfg.Name, err)
	}
	return nil
}

// batch picks the events the plugin subscribes to and may see, in its
// wire form.
func (d *delivery) batch(ctx context.Context, events []feed.Event) []Event {
	var out []Event
	for i := range events {
		ev := &events[i]
		name := d.match(ev)
		if name == "" {
			continue
		}
		rec, err := d.recordJSON(ctx, ev)
		if err != nil {
			d.log.Error("encode event for a plugin", slog.Uint64("seq", ev.Seq), slog.Any("err", err))
			continue
		}
		changes, _ := json.Marshal(ev.Changes)
		out = append(out, Event{
			Seq: ev.Seq, Name: name, Entity: ev.Entity, ID: ev.ID, At: ev.At, By: ev.By,
			Record: rec, Changes: changes, Cause: ev.Cause,
			IdempotencyKey: fmt.Sprintf("plugin:%s:%d", d.cfg.Name, ev.Seq),
		})
	}
	return out
}

// match is the subscription an event answers, the most specific first
// ("deal.stage_changed" before "deal.updated"), or "" when the plugin does
// not get it.
func (d *delivery) match(ev *feed.Event) string {
	if ev.RecordEntity(d.sch) != nil && !d.mayRead(ev.Entity) {
		return ""
	}
	for _, n := range ev.Names {
		if name := ev.Entity + "." + n; slices.Contains(d.subs, name) {
			return name
		}
	}
	return ""
}

func (d *delivery) mayRead(entity string) bool {
	return slices.Contains(d.cfg.Read, entity) || slices.Contains(d.cfg.Read, "*") ||
		slices.Contains(d.cfg.Write, entity) || slices.Contains(d.cfg.Write, "*")
}

// recordJSON is the event's record in API form (for an emitted event, its
// payload).
func (d *delivery) recordJSON(ctx context.Context, ev *feed.Event) (json.RawMessage, error) {
	ent := ev.RecordEntity(d.sch)
	if ent == nil {
		return ev.Event.After, nil
	}
	if ev.DecodeErr != nil || ev.After == nil {
		return nil, ev.DecodeErr
	}
	return json.Marshal(store.APIForm(ctx, d.st, ent, ev.After))
}
