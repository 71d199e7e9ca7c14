package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/store"
)

// Run outcomes.
const (
	StatusOK       = "ok"       // every action done
	StatusRetrying = "retrying" // an action failed; it will be tried again
	StatusFailed   = "failed"   // out of tries, or cut: waits for an admin's retry
)

// Run is the record of one rule run: one rule on one event.
type Run struct {
	ID         string    `json:"id"`
	Rule       string    `json:"rule"`
	Seq        uint64    `json:"seq"`
	Event      string    `json:"event"`
	Entity     string    `json:"entity"`
	RecordID   string    `json:"record_id"`
	Version    int64     `json:"version,omitempty"` // the record version a scheduled run saw
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	Effects    []string  `json:"effects,omitempty"`
	Chain      string    `json:"chain,omitempty"`
	NextAt     time.Time `json:"next_at,omitzero"`
}

// Stats sums up a rule's runs.
type Stats struct {
	Rule      string    `json:"rule"`
	OK        int64     `json:"ok"`
	Failed    int64     `json:"failed"`
	Retrying  int64     `json:"retrying"`
	LastRun   time.Time `json:"last_run,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

func runKey(rule string, seq uint64) string { return fmt.Sprintf("%s/%020d", rule, seq) }

// runJob runs one rule on one event and records the outcome. A run that was
// already finished (the engine restarted before it saved its position) is
// not run again.
func (e *Engine) runJob(ctx context.Context, j *job) {
	key := runKey(j.rule.Name, j.event.Seq)
	var prev Run
	err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleRun, key, &prev) })
	if err == nil && prev.Status != "" {
		return // ok, retrying (the retry loop owns it) or failed: nothing to do here
	}
	run := &Run{ID: key, Rule: j.rule.Name, Seq: j.event.Seq, Event: j.event2, Entity: j.event.Entity, RecordID: j.event.ID, Chain: j.event.Cause}
	e.nameRun(run, j.rule, &j.event.Event) // events.go
	sub, err := e.eventSubject(ctx, j.rule, j.event, j.event2)
	e.attempt(ctx, j.rule, sub, err, run)
}

// attempt evaluates and acts once (unless the subject could not be read),
// then records the run.
func (e *Engine) attempt(ctx context.Context, rule *Rule, sub *subject, subErr error, run *Run) {
	start := e.now()
	run.Started = start
	run.Attempts++
	matched, effects, err := true, []string(nil), subErr
	if err == nil {
		matched, effects, err = e.execute(ctx, rule, sub)
	}
	run.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	run.Effects = append(run.Effects, effects...)
	var cut *loopError
	var perm *permanentError
	switch {
	case err == nil && !matched && run.Attempts == 1:
		e.metrics.runs.WithLabelValues("skipped").Inc()
		return // `when` was false: nothing happened, nothing to record
	case err == nil:
		run.Status, run.Error, run.NextAt = StatusOK, "", time.Time{}
	case errors.As(err, &cut), errors.As(err, &perm):
		run.Status, run.Error, run.NextAt = StatusFailed, err.Error(), time.Time{}
	case run.Attempts >= e.opts.MaxAttempts:
		run.Status, run.Error, run.NextAt = StatusFailed, err.Error(), time.Time{}
	default:
		run.Status, run.Error = StatusRetrying, err.Error()
		run.NextAt = e.now().Add(e.opts.RetryBase << (run.Attempts - 1))
	}
	e.metrics.runs.WithLabelValues(run.Status).Inc()
	if run.Status != StatusOK {
		e.log.Warn("rule run failed", slog.String("rule", rule.Name), slog.String("run", run.ID),
			slog.Int("attempt", run.Attempts), slog.String("status", run.Status), slog.String("err", run.Error))
	}
	if err := e.saveRun(ctx, run); err != nil {
		e.log.Error("record rule run", slog.String("run", run.ID), slog.Any("err", err))
	}
}

// saveRun stores a run, its place in the retry queue and its rule's stats,
// in one transaction.
func (e *Engine) saveRun(ctx context.Context, run *Run) error {
	return e.st.SysUpdate(ctx, func(tx store.SysTx) error {
		var old Run
		hadOld := tx.Get(store.KindRuleRun, run.ID, &old) == nil
		if err := tx.Put(store.KindRuleRun, run.ID, run); err != nil {
			return err
		}
		if run.Status == StatusRetrying {
			if err := tx.Put(store.KindRuleRetry, run.ID, run.NextAt); err != nil {
				return err
			}
		} else if err := tx.Delete(store.KindRuleRetry, run.ID); err != nil {
			return err
		}
		var st Stats
		if err := tx.Get(store.KindRuleStats, run.Rule, &st); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		st.Rule = run.Rule
		if hadOld {
			st.add(old.Status, -1)
		}
		st.add(run.Status, 1)
		st.LastRun = run.Started
		if run.Error != "" {
			st.LastError = run.Error
		}
		return tx.Put(store.KindRuleStats, run.Rule, &st)
	})
}

func (s *Stats) add(status string, n int64) {
	switch status {
	case StatusOK:
		s.OK += n
	case StatusFailed:
		s.Failed += n
	case StatusRetrying:
		s.Retrying += n
	}
}

// maintenance retries failed runs when they are due and drops runs older
// than the retention.
func (e *Engine) maintenance(ctx context.Context) {
	defer e.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !e.leading() {
			continue // the node that holds the rules lease retries and prunes
		}
		e.retryDue(ctx)
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if err := e.prune(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("prune rule runs", slog.Any("err", err))
			}
		}
	}
}

func (e *Engine) retryDue(ctx context.Context) {
	now := e.now()
	var due []string
	err := e.st.SysList(ctx, store.KindRuleRetry, "", func(key string, data []byte) error {
		var at time.Time
		if err := at.UnmarshalJSON(data); err == nil && !at.After(now) {
			due = append(due, key)
		}
		return nil
	})
	if err != nil {
		return
	}
	for _, key := range due {
		if ctx.Err() != nil {
			return
		}
		if err := e.retry(ctx, key, false); err != nil {
			e.log.Error("retry rule run", slog.String("run", key), slog.Any("err", err))
		}
	}
}

// ErrUnknownRun is returned for a run id that does not exist.
var ErrUnknownRun = errors.New("no such rule run")

// Retry runs a recorded run again now: the retry loop calls it for due
// runs, an admin for a failed one (manual resets its attempts).
func (e *Engine) Retry(ctx context.Context, runID string) (*Run, error) {
	if err := e.retry(ctx, runID, true); err != nil {
		return nil, err
	}
	var run Run
	err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleRun, runID, &run) })
	return &run, err
}

func (e *Engine) retry(ctx context.Context, runID string, manual bool) error {
	var run Run
	err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindRuleRun, runID, &run) })
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownRun
	}
	if err != nil {
		return err
	}
	rule := e.set.Load().Rule(run.Rule)
	if rule == nil {
		run.Status, run.Error, run.NextAt = StatusFailed, "the rule is no longer in the configuration", time.Time{}
		return e.saveRun(ctx, &run)
	}
	if manual {
		run.Attempts = 0
	}
	sub, err := e.runSubject(ctx, rule, &run)
	e.attempt(ctx, rule, sub, err, &run)
	return nil
}

// runSubject finds again what a recorded run was about: its event in the
// change feed, or for a scheduled run the record at the version it saw.
func (e *Engine) runSubject(ctx context.Context, rule *Rule, run *Run) (*subject, error) {
	if run.Seq == 0 {
		return e.scheduledSubject(ctx, rule, run.Entity, run.RecordID, run.Version)
	}
	evs, err := e.st.Events(ctx, run.Seq-1, 1)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 || evs[0].Seq != run.Seq {
		return nil, fmt.Errorf("event %d is gone from the change feed", run.Seq)
	}
	ev := feed.Decode(e.sch, evs[0])
	return e.eventSubject(ctx, rule, &ev, run.Event)
}

// prune drops finished runs older than the retention.
func (e *Engine) prune(ctx context.Context) error {
	cutoff := e.now().Add(-e.opts.Retention)
	var old []string
	err := e.st.SysList(ctx, store.KindRuleRun, "", func(key string, data []byte) error {
		var r Run
		if err := json.Unmarshal(data, &r); err == nil && r.Status == StatusOK && r.Started.Before(cutoff) {
			old = append(old, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for len(old) > 0 {
		n := min(len(old), 500)
		batch := old[:n]
		old = old[n:]
		if err := e.st.SysUpdate(ctx, func(tx store.SysTx) error {
			for _, k := range batch {
				if err := tx.Delete(store.KindRuleRun, k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// Runs lists a rule's recorded runs, newest first, at most limit.
func (e *Engine) Runs(ctx context.Context, rule string, limit int) ([]*Run, error) {
	var all []*Run
	err := e.st.SysList(ctx, store.KindRuleRun, rule+"/", func(key string, data []byte) error {
		var r Run
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("read run %s: %w", key, err)
		}
		all = append(all, &r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Run, 0, min(limit, len(all)))
	for i := len(all) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i])
	}
	return out, nil
}

// Stats returns every rule's run counts.
func (e *Engine) Stats(ctx context.Context) (map[string]*Stats, error) {
	out := map[string]*Stats{}
	err := e.st.SysList(ctx, store.KindRuleStats, "", func(key string, data []byte) error {
		var s Stats
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		out[key] = &s
		return nil
	})
	return out, err
}

// loopError is a rule chain cut at the depth limit.
type loopError struct{ chain []string }

func (e *loopError) Error() string {
	return fmt.Sprintf("rule chain cut at depth %d: %s", len(e.chain), strings.Join(e.chain, " > "))
}
