package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmkit/crm/core/store"
)

// Scheduled rules run over the records of their for_each entity at every
// tick (every = "1h" or a cron spec in the locale's time zone). A record
// gets a rule's actions at most once per version: the run's key is
// rule/record/version, so an idle deal is reminded once, not at every tick,
// and again only after it changed. Each rule's last tick is stored; a tick
// missed while the server was down runs once at start.

// scheduled runs the ticks of the scheduled rules until ctx is done.
func (e *Engine) scheduled(ctx context.Context) {
	defer e.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, r := range e.set.Load().Rules {
			if r.Every == 0 && r.Cron == nil {
				continue
			}
			if !e.leading() {
				break // another node runs the ticks (they go with the rules lease)
			}
			if _, err := e.maybeTick(ctx, r); err != nil && ctx.Err() == nil {
				e.log.Error("scheduled rule", slog.String("rule", r.Name), slog.Any("err", err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type tickState struct {
	Last time.Time `json:"last"`
}

// leading reports whether this node does the engine's work that is done
// once: with a lease (Options.Lease), while it holds the rules consumer's
// lease; without one, always.
func (e *Engine) leading() bool {
	return e.opts.Lease == nil || e.feed.Active()
}

// next is when a scheduled rule is due after its last tick.
func (e *Engine) next(r *Rule, last time.Time) time.Time {
	if last.IsZero() {
		return time.Time{} // never ran: due now
	}
	if r.Every > 0 {
		return last.Add(r.Every)
	}
	return r.Cron.Next(last.In(e.opts.Location))
}

// maybeTick runs a scheduled rule's tick when it is due, and reports
// whether it did. With several nodes on one store the tick is claimed
// first, in one SysUpdate that moves the rule's last tick to now only if
// it is still due (a compare-and-set), so one node runs each tick; a tick
// that fails gives its claim back, so that the next pass tries again. A
// node that dies during a tick leaves it done in part until the next one;
// runs are per record version, so nothing is repeated.
func (e *Engine) maybeTick(ctx context.Context, r *Rule) (bool, error) {
	var st tickState
	err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleTick, r.Name, &st) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	now := e.now()
	if due := e.next(r, st.Last); due.After(now) {
		return false, nil // the common case, read only
	}
	claimed, err := e.claimTick(ctx, r, st.Last, now)
	if err != nil || !claimed {
		return false, err
	}
	if err := e.Tick(ctx, r.Name); err != nil {
		if uerr := e.setTick(ctx, r, now, st.Last); uerr != nil {
			e.log.Error("give back a failed tick", slog.String("rule", r.Name), slog.Any("err", uerr))
		}
		return true, err
	}
	return true, nil
}

// claimTick moves the rule's last tick from last to now, if no one did
// since.
func (e *Engine) claimTick(ctx context.Context, r *Rule, last, now time.Time) (bool, error) {
	err := e.setTick(ctx, r, last, now)
	if errors.Is(err, errTickTaken) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim the tick of %s: %w", r.Name, err)
	}
	return true, nil
}

// errTickTaken is a tick another node (or pass) claimed first.
var errTickTaken = errors.New("tick taken")

// setTick sets the rule's last tick from old to new, or fails with
// errTickTaken when it is no longer old.
func (e *Engine) setTick(ctx context.Context, r *Rule, old, new time.Time) error {
	return e.st.SysUpdate(ctx, func(tx store.SysTx) error {
		var st tickState
		if err := tx.Get(store.KindRuleTick, r.Name, &st); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !st.Last.Equal(old) {
			return errTickTaken
		}
		return tx.Put(store.KindRuleTick, r.Name, tickState{Last: new})
	})
}

// Tick runs a scheduled rule once over its records now, a page at a time.
func (e *Engine) Tick(ctx context.Context, name string) error {
	r := e.set.Load().Rule(name)
	if r == nil || r.ForEach == "" {
		return fmt.Errorf("no scheduled rule %q", name)
	}
	e.tickMu.Lock() // one tick at a time: the timer's and an admin's never overlap
	defer e.tickMu.Unlock()
	q := store.Query{Entity: r.ForEach, Limit: 500}
	if r.Filter != nil {
		q.Filter = r.Filter.StoreFilter()
	}
	for {
		page, err := e.st.List(ctx, q)
		if err != nil {
			return fmt.Errorf("list %s: %w", r.ForEach, err)
		}
		for _, rec := range page.Items {
			e.runScheduled(ctx, r, rec)
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

func (e *Engine) runScheduled(ctx context.Context, r *Rule, rec *store.Record) {
	key := fmt.Sprintf("%s/s-%s-%d", r.Name, rec.ID, rec.Version)
	var prev Run
	if e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleRun, key, &prev) }) == nil {
		return // this version already had its run
	}
	run := &Run{ID: key, Rule: r.Name, Event: "schedule", Entity: rec.Entity, RecordID: rec.ID, Version: rec.Version}
	e.attempt(ctx, r, e.recordSubject(r, rec), nil, run)
}

func (e *Engine) recordSubject(r *Rule, rec *store.Record) *subject {
	return &subject{after: rec, event: "schedule", keyBase: fmt.Sprintf("%s:%s:%d", r.Name, rec.ID, rec.Version), at: rec.UpdatedAt}
}

// scheduledSubject reads a scheduled run's record again for a retry; if
// the record changed since, the run is about a version that is gone.
func (e *Engine) scheduledSubject(ctx context.Context, r *Rule, entity, id string, version int64) (*subject, error) {
	rec, err := e.st.Get(ctx, entity, id)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", entity, id, err)
	}
	if rec.Version != version {
		return nil, fmt.Errorf("%s %s changed since (version %d, now %d); the next tick sees the new version", entity, id, version, rec.Version)
	}
	return e.recordSubject(r, rec), nil
}
