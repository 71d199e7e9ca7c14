// Package feed is the one consumer of the store's change feed. A Consumer
// owns the loop every reader of the feed needs: its position (stored under
// a consumer name, or kept in memory only), waking up on commit, reading a
// batch, decoding each event once (record versions after and before, and
// the trigger names it answers: an update that changes `stage` is also
// `stage_changed`), handing the batch to its handler, retrying a failed
// batch with backoff, and saving the position only after the handler
// succeeded, so every event is handled at least once, in feed order.
//
// It must not know what its users do with events (run rules, deliver to
// plugins, push to websockets), filter them, or write anything but its own
// position.
package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Event is one change-feed event, decoded once for every handler.
type Event struct {
	store.Event
	// After is the record as the write left it (for a delete, its last
	// version; for an emitted event, its payload as values); Before is the
	// version it replaced (updates only). Both are nil when DecodeErr is set.
	After, Before *store.Record
	// DecodeErr is why the record versions could not be read; the handler
	// decides what that means for the event.
	DecodeErr error
	// Names are the trigger events it answers, the most specific first: an
	// update that changes `stage` is ["stage_changed", "updated"]; any
	// other event just its Op.
	Names []string
}

// StageChanged is the trigger name of an update that changed `stage`.
const StageChanged = "stage_changed"

// Handler handles one batch of events, in feed order. An error (unless the
// context is done) makes the consumer wait and hand it the same batch
// again; nil moves the position past the batch.
type Handler func(ctx context.Context, batch []Event) error

// Options tune a Consumer.
type Options struct {
	// Name is the consumer's stored position (system document kind
	// "consumer"); "" keeps the position in memory only, starting after
	// From (a websocket client that starts "now" or at its own `after`).
	Name string
	// From is the position to start after when none is stored (or Name is
	// ""); 0 is the start of the feed.
	From uint64
	// Batch is the most events handed to the handler at once; default 256.
	Batch int
	// RetryBase is the first wait after a failed batch or feed read,
	// doubled up to RetryMax; defaults 1 s and 1 min.
	RetryBase, RetryMax time.Duration
	Logger              *slog.Logger
	// Lease, when set and Name is not "", makes Run consume the feed only
	// while this node holds the lease "consumer:NAME": with several nodes
	// on one store, one of them hands each batch to its handler at a time.
	// A node that loses the lease stops handing batches and tries again to
	// acquire it; the node that takes over resumes from the stored
	// position, so a batch whose position was not saved is handled again
	// (at least once: handlers key their effects). A consumer without a
	// Name (a websocket's) runs on every node.
	Lease *lease.Leases
}

// Consumer reads the change feed and hands it, batch by batch, to its
// handler. Run it once at a time.
type Consumer struct {
	st   store.Store
	sch  *schema.Schema
	h    Handler
	opts Options
	log  *slog.Logger
	pos  atomic.Uint64
	// active is true while Run hands batches: always without a lease,
	// while this node holds it with one.
	active atomic.Bool
}

// New makes a consumer of st's change feed; sch decodes the events.
func New(st store.Store, sch *schema.Schema, h Handler, opts Options) *Consumer {
	if opts.Batch <= 0 {
		opts.Batch = 256
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = time.Minute
	}
	if opts.RetryMax < opts.RetryBase {
		opts.RetryMax = opts.RetryBase
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	c := &Consumer{st: st, sch: sch, h: h, opts: opts, log: opts.Logger}
	c.pos.Store(opts.From)
	return c
}

// Position is how far the consumer has handled the feed in this process:
// the last event of the last batch its handler accepted.
func (c *Consumer) Position() uint64 { return c.pos.Load() }

// LeaseName is the lease a consumer with a stored position holds while it
// runs (see Options.Lease).
func LeaseName(consumer string) string { return "consumer:" + consumer }

// Active reports whether Run is handing batches now: with a lease, whether
// this node holds it. Work that goes with the consumer's (retrying its
// failed runs) is done where it is active.
func (c *Consumer) Active() bool { return c.active.Load() }

// Run consumes the feed until ctx is done, then returns nil; a batch being
// handled when ctx ends is not marked handled. A context done while the
// consumer is still starting is a clean stop too. The only error is a
// stored position that cannot be read. With a lease (Options.Lease) it
// consumes only while this node holds it.
func (c *Consumer) Run(ctx context.Context) error {
	if c.leased() {
		return c.opts.Lease.Hold(ctx, LeaseName(c.opts.Name), c.run)
	}
	return c.run(ctx)
}

// leased reports whether the consumer runs under a lease.
func (c *Consumer) leased() bool { return c.opts.Lease != nil && c.opts.Name != "" }

// errLeaseLost is a position not saved because another node holds the
// consumer's lease now: that node handles the feed from the stored
// position, and this one is about to stop.
var errLeaseLost = errors.New("the consumer's lease is held by another node")

func (c *Consumer) run(ctx context.Context) error {
	c.active.Store(true)
	defer c.active.Store(false)
	pos, err := c.start(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	wait := c.opts.RetryBase
	backoff := func() {
		sleep(ctx, wait)
		wait = min(wait*2, c.opts.RetryMax)
	}
	for ctx.Err() == nil {
		wake := c.st.Committed()
		raw, err := c.st.Events(ctx, pos, c.opts.Batch)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("read change feed", slog.String("consumer", c.opts.Name), slog.Uint64("after", pos),
					slog.Duration("wait", wait), slog.Any("err", err))
				backoff()
			}
			continue
		}
		if len(raw) == 0 {
			select {
			case <-ctx.Done():
			case <-wake:
			}
			continue
		}
		if err := c.h(ctx, c.decode(raw)); err != nil {
			if ctx.Err() == nil {
				c.log.Warn("change-feed batch failed; it will be handled again", slog.String("consumer", c.opts.Name),
					slog.Uint64("from", raw[0].Seq), slog.Int("events", len(raw)), slog.Duration("wait", wait), slog.Any("err", err))
				backoff()
			}
			continue
		}
		wait = c.opts.RetryBase
		pos = raw[len(raw)-1].Seq
		if c.advance(ctx, pos) != nil {
			// Lost the lease: hand nothing more; the lease's holder
			// (lease.Leases.Hold) ends ctx at its next renewal.
			c.active.Store(false)
			<-ctx.Done()
			return nil
		}
	}
	return nil
}

// Drain hands the handler every event committed so far, batch by batch,
// and returns: the way a test delivers real writes at a point of its
// choosing. The handler's first error is returned as it is, without a
// retry, and its batch stays unhandled.
func (c *Consumer) Drain(ctx context.Context) error {
	pos, err := c.start(ctx)
	if err != nil {
		return err
	}
	last := c.st.LastSeq()
	for pos < last {
		raw, err := c.st.Events(ctx, pos, c.opts.Batch)
		if err != nil {
			return fmt.Errorf("read change feed after %d: %w", pos, err)
		}
		if len(raw) == 0 {
			return nil
		}
		if err := c.h(ctx, c.decode(raw)); err != nil {
			return err
		}
		pos = raw[len(raw)-1].Seq
		if err := c.advance(ctx, pos); err != nil {
			return err
		}
	}
	return nil
}

// start is the position to start after: the stored one, or From.
func (c *Consumer) start(ctx context.Context) (uint64, error) {
	pos := c.opts.From
	if c.opts.Name != "" {
		p, ok, err := stored(ctx, c.st, c.opts.Name)
		if err != nil {
			return 0, err
		}
		if ok {
			pos = p
		}
	}
	c.pos.Store(pos)
	return pos, nil
}

// advance records that the events up to pos are handled. It returns
// errLeaseLost, without saving, when another node holds the consumer's
// lease now.
func (c *Consumer) advance(ctx context.Context, pos uint64) error {
	if c.opts.Name != "" {
		err := c.save(ctx, pos)
		if errors.Is(err, errLeaseLost) {
			c.log.Warn("change-feed position not saved: another node holds the consumer's lease now", slog.String("consumer", c.opts.Name), slog.Uint64("seq", pos))
			return err
		}
		if err != nil {
			c.log.Error("save change-feed position", slog.String("consumer", c.opts.Name), slog.Uint64("seq", pos), slog.Any("err", err))
		}
	}
	c.pos.Store(pos)
	return nil
}

// decode reads every event's record versions and trigger names, once.
func (c *Consumer) decode(raw []store.Event) []Event {
	out := make([]Event, len(raw))
	for i := range raw {
		out[i] = Decode(c.sch, raw[i])
	}
	return out
}

// Decode reads one raw event's record versions and trigger names, as a
// consumer hands them to its handler: for a reader that finds an event
// again outside a batch (a rule run retried later).
func Decode(sch *schema.Schema, raw store.Event) Event {
	ev := Event{Event: raw}
	ev.After, ev.Before, ev.DecodeErr = store.DecodeEvent(sch, &ev.Event)
	ev.Names = Names(&ev.Event)
	return ev
}

// Names are the trigger events a feed event answers, the most specific
// first: an update that changes `stage` is also stage_changed.
func Names(ev *store.Event) []string {
	if ev.Op == store.OpUpdated {
		if _, ok := ev.Changes["stage"]; ok {
			return []string{StageChanged, ev.Op}
		}
	}
	return []string{ev.Op}
}

// save stores the position. The batch before it was handled, so a stop
// that comes now does not cancel the save: that would only make the next
// start hand the batch again.
func (c *Consumer) save(ctx context.Context, seq uint64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := c.st.SysUpdate(ctx, func(tx store.SysTx) error {
		if c.leased() && c.active.Load() { // Run's, not Drain's
			held, err := c.opts.Lease.HeldIn(tx, LeaseName(c.opts.Name))
			if err != nil {
				return err
			}
			if !held {
				return errLeaseLost
			}
		}
		return tx.Put(consumerKind, c.opts.Name, position{Seq: seq})
	})
	if err != nil && !errors.Is(err, errLeaseLost) {
		return fmt.Errorf("save feed position of %s: %w", c.opts.Name, err)
	}
	return err
}

const consumerKind = store.KindConsumer

// position is the stored form of a consumer's position.
type position struct {
	Seq uint64 `json:"seq"`
}

// Stored is the position stored under a consumer name; 0 when none is.
func Stored(ctx context.Context, st store.Store, name string) (uint64, error) {
	p, _, err := stored(ctx, st, name)
	return p, err
}

func stored(ctx context.Context, st store.Store, name string) (uint64, bool, error) {
	var p position
	err := st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(consumerKind, name, &p) })
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read feed position of %s: %w", name, err)
	}
	return p.Seq, true, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
