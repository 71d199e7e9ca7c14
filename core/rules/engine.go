package rules

import (
	"context"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Options tune the engine.
type Options struct {
	Workers     int           // parallel rule runs; default 8
	QueueSize   int           // runs queued per worker before the feed reader waits; default 256
	MaxAttempts int           // tries before a run stays failed; default 5
	RetryBase   time.Duration // first retry delay, doubled each time; default 2 s
	MaxDepth    int           // longest rule chain (a rule's write triggering another rule...); default 5
	Retention   time.Duration // how long finished runs are kept; default 30 days
	Location    *time.Location
	HTTPClient  *http.Client // for webhooks; default a client with no global timeout (each call has its own)
	Now         func() time.Time
	Logger      *slog.Logger
	// Users returns the ids of the users a notify target names: a user id,
	// or "role:NAME" for everyone with that role.
	Users func(ctx context.Context, target string) ([]string, error)
	// UserInfo describes the user who made a change, for `user` in
	// expressions, and gives notify's e-mail channel each user's address.
	UserInfo func(ctx context.Context, id string) *UserInfo
	// Mailer sends notify's e-mail channel; nil when the configuration has
	// no smtp block (then such a notify fails its run).
	Mailer *Mailer
	// Plugins calls a plugin action for the `PLUGIN.ACTION` action kind; nil
	// when no plugin runs.
	Plugins PluginInvoker
	// Lease, when set, makes the engine do its work only while this node
	// holds the lease of its change-feed consumer (feed.LeaseName("rules")):
	// with several nodes on one store, one runs the rules of each event,
	// retries failed runs and runs the scheduled ticks, and another takes
	// over when it dies. Nil runs everything here (one node).
	Lease *lease.Leases
}

// PluginInvoker calls a plugin's action on a record; key is the effect's
// idempotency key (the same on a retry), cause the rule chain.
type PluginInvoker func(ctx context.Context, plugin, action string, args map[string]any, entity, id, key, cause string) (any, error)

// Permanent marks an error that a retry cannot mend (a plugin refused the
// call): the run fails at once instead of backing off.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// consumerName is the change-feed position this engine keeps.
const consumerName = "rules"

// Engine consumes the store's change feed and runs the rules each event
// triggers, on a pool of workers. Its feed position advances only after
// every run of an event has been recorded, so an event is never missed,
// even across a crash; a retried run repeats no effect, because every
// effect carries an idempotency key (rule, event, action).
type Engine struct {
	st    store.Store
	sch   *schema.Schema
	opts  Options
	log   *slog.Logger
	set   atomic.Pointer[Set]
	clock atomic.Pointer[func() time.Time]

	tickMu  sync.Mutex
	queues  []chan *job
	wg      sync.WaitGroup
	queued  atomic.Int64
	feed    *feed.Consumer // the change feed, at the position processed
	metrics *engineMetrics
}

// job is one rule to run on one event.
type job struct {
	rule   *Rule
	event  *feed.Event
	event2 string // the trigger event name it matched: created, updated, stage_changed, deleted
	done   func()
	// batch ends when the engine stops handing batches (a stop, or the
	// lease lost to another node): a job that has not started by then is
	// dropped, and handled again with its batch, which is not marked
	// handled, wherever the feed is consumed next.
	batch context.Context
}

// NewEngine makes an engine for a compiled rule set.
func NewEngine(st store.Store, sch *schema.Schema, set *Set, opts Options) *Engine {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 256
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = 2 * time.Second
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = 5
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{st: st, sch: sch, opts: opts, log: opts.Logger.With(slog.String("component", "rules"))}
	e.set.Store(set)
	e.clock.Store(&opts.Now)
	e.feed = feed.New(st, sch, e.process, feed.Options{Name: consumerName, Batch: 256, Logger: e.log, Lease: opts.Lease})
	e.metrics = newEngineMetrics(e)
	return e
}

// SetRules swaps in a new rule set (hot reload): events not yet processed
// are matched against it; runs in flight finish with the old one.
func (e *Engine) SetRules(set *Set) { e.set.Store(set) }

// SetClock replaces the engine's clock (tests of time-based rules).
func (e *Engine) SetClock(now func() time.Time) { e.clock.Store(&now) }

func (e *Engine) now() time.Time { return (*e.clock.Load())() }

// Rules is the rule set in force.
func (e *Engine) Rules() *Set { return e.set.Load() }

// Run consumes the change feed until ctx is done; then it lets the runs in
// flight finish and returns nil. A stop while it is still starting is a
// clean stop too; the only error is a feed position that cannot be read.
func (e *Engine) Run(ctx context.Context) error {
	e.queues = make([]chan *job, e.opts.Workers)
	for i := range e.queues {
		e.queues[i] = make(chan *job, e.opts.QueueSize)
		e.wg.Add(1)
		go e.worker(e.queues[i])
	}
	defer func() {
		for _, q := range e.queues {
			close(q)
		}
		e.wg.Wait()
	}()
	e.wg.Add(2)
	go e.maintenance(ctx)
	go e.scheduled(ctx)
	return e.feed.Run(ctx)
}

// process dispatches the runs of a batch of events and waits until every
// one of them is recorded.
func (e *Engine) process(ctx context.Context, events []feed.Event) error {
	set := e.set.Load()
	var wg sync.WaitGroup
	for i := range events {
		ev := &events[i]
		for _, m := range matches(set, ev) {
			wg.Add(1)
			j := &job{rule: m.rule, event: ev, event2: m.event, done: wg.Done, batch: ctx}
			q := e.queues[shard(ev.Entity+"/"+ev.ID, len(e.queues))]
			e.queued.Add(1)
			select {
			case q <- j:
			case <-ctx.Done():
				e.queued.Add(-1)
				wg.Done()
				wg.Wait()
				return ctx.Err()
			}
		}
	}
	wg.Wait()
	return ctx.Err()
}

type match struct {
	rule  *Rule
	event string
}

// matches lists the rules an event triggers, each once, as the most
// specific trigger it answers (an update that changes the stage is a
// stage_changed event first).
func matches(set *Set, ev *feed.Event) []match {
	if set == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []match
	for _, name := range ev.Names {
		for _, r := range set.Matching(ev.Entity, name) {
			if !seen[r.Name] {
				seen[r.Name] = true
				out = append(out, match{r, name})
			}
		}
	}
	return out
}

// shard keeps the runs of one record on one worker, in feed order.
func shard(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

func (e *Engine) worker(q chan *job) {
	defer e.wg.Done()
	for j := range q {
		e.queued.Add(-1)
		if j.batch.Err() == nil {
			e.runJob(context.Background(), j)
		}
		j.done()
	}
}

// Position is how far the engine has processed the change feed, as stored.
func (e *Engine) Position(ctx context.Context) (uint64, error) {
	return feed.Stored(ctx, e.st, consumerName)
}

// chainOf is the rule chain that led to an event, as a list.
func chainOf(cause string) []string {
	if cause == "" {
		return nil
	}
	return strings.Split(cause, ">")
}
