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
}

// RunDeliveries delivers the change feed to the subscribed plugins of cfgs
// until ctx is done.
func (h *Host) RunDeliveries(ctx context.Context, st store.Store, sch *schema.Schema, cfgs []*config.Plugin, opts DeliverOptions) {
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Minute
	}
	var wg sync.WaitGroup
	for _, c := range cfgs {
		m, ok := h.Manifest(c.Name)
		if !ok || len(m.Subscriptions) == 0 {
			continue
		}
		d := &delivery{h: h, st: st, sch: sch, cfg: c, subs: m.Subscriptions, opts: opts,
			log: h.log.With(slog.String("plugin", c.Name))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.run(ctx)
		}()
	}
	wg.Wait()
}

type delivery struct {
	h    *Host
	st   store.Store
	sch  *schema.Schema
	cfg  *config.Plugin
	subs []string
	opts DeliverOptions
	log  *slog.Logger
}

type feedPosition struct {
	Seq uint64 `json:"seq"`
}

func (d *delivery) consumer() string { return "plugin:" + d.cfg.Name }

func (d *delivery) run(ctx context.Context) {
	var pos feedPosition
	err := d.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindConsumer, d.consumer(), &pos) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		d.log.Error("read delivery position", slog.Any("err", err))
		return
	}
	wait := d.opts.RetryBase
	for ctx.Err() == nil {
		wake := d.st.Committed()
		events, err := d.st.Events(ctx, pos.Seq, deliveryBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("read change feed", slog.Any("err", err))
				sleep(ctx, wait)
			}
			continue
		}
		if len(events) == 0 {
			select {
			case <-ctx.Done():
			case <-wake:
			}
			continue
		}
		batch := d.batch(ctx, events)
		if len(batch) > 0 {
			err := d.h.HandleEvents(ctx, d.cfg.Name, batch)
			var refusal *Refusal
			if err != nil && !errors.As(err, &refusal) {
				d.log.Warn("event delivery failed; will send the batch again", slog.Any("err", err),
					slog.Uint64("from", batch[0].Seq), slog.Int("events", len(batch)), slog.Duration("wait", wait))
				sleep(ctx, wait)
				wait = min(wait*2, d.opts.RetryMax)
				continue
			}
			if refusal != nil {
				d.log.Warn("plugin declined events", slog.String("err", refusal.Error()))
			}
		}
		wait = d.opts.RetryBase
		pos.Seq = events[len(events)-1].Seq
		if err := d.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindConsumer, d.consumer(), pos) }); err != nil && ctx.Err() == nil {
			d.log.Error("save delivery position", slog.Any("err", err))
		}
	}
}

// batch picks the events the plugin subscribes to and may see, in its
// wire form.
func (d *delivery) batch(ctx context.Context, events []store.Event) []Event {
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

// match is the subscription an event answers ("deal.stage_changed" before
// "deal.updated"), or "" when the plugin does not get it.
func (d *delivery) match(ev *store.Event) string {
	if d.sch.Entity(ev.Entity) != nil && !d.mayRead(ev.Entity) {
		return ""
	}
	names := []string{ev.Entity + "." + ev.Op}
	if ev.Op == store.OpUpdated {
		if _, ok := ev.Changes["stage"]; ok {
			names = []string{ev.Entity + ".stage_changed", names[0]}
		}
	}
	for _, n := range names {
		if slices.Contains(d.subs, n) {
			return n
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
func (d *delivery) recordJSON(ctx context.Context, ev *store.Event) (json.RawMessage, error) {
	ent := d.sch.Entity(ev.Entity)
	if ent == nil {
		return ev.After, nil
	}
	after, _, err := store.DecodeEvent(d.sch, ev)
	if err != nil || after == nil {
		return nil, err
	}
	return json.Marshal(store.APIForm(ctx, d.st, ent, after))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
