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
			if err := e.maybeTick(ctx, r); err != nil && ctx.Err() == nil {
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

func (e *Engine) maybeTick(ctx context.Context, r *Rule) error {
	var st tickState
	err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleTick, r.Name, &st) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	now := e.now()
	if due := e.next(r, st.Last); due.After(now) {
		return nil
	}
	if err := e.Tick(ctx, r.Name); err != nil {
		return err
	}
	return e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindRuleTick, r.Name, tickState{Last: now}) })
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
