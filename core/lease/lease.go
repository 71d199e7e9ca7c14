// Package lease holds named leases in the store, so that work that must be
// done once is done by one crm node at a time when several nodes share one
// store: the change-feed consumers that have a stored position (the rules
// engine, each plugin's event deliveries) and what goes with them.
//
// A lease is a system document (kind "lease", key its name) naming its
// holder, a node id, and when it expires. A node acquires a lease that is
// free, expired or already its own; it renews it well before it expires
// (every TTL/3 by default); another node takes it over only after it
// expired, so a node that dies without releasing its leases holds up their
// work for at most one TTL. Every read-modify-write is one SysUpdate, which
// every backend runs as a serializable transaction, so two nodes never
// both acquire a lease. Nodes compare the stored expiry with their own
// clocks: keep them synchronised (NTP); a skew well under the renewal
// margin (TTL - Renew) is harmless.
//
// It uses only store.Store, so it works the same on every backend.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/crmkit/crm/core/store"
)

// Kind is the system-document kind of leases: lease/{name}.
const Kind = "lease"

// Defaults of Options.
const (
	DefaultTTL = 15 * time.Second
)

// ErrAbandoned, given as the cause of a Hold's context
// (context.WithCancelCause), stops the Hold without releasing its lease,
// as a node that died would: tests of a takeover use it.
var ErrAbandoned = errors.New("lease abandoned")

// Options tune Leases.
type Options struct {
	// Holder is this node's id; default NewHolder(), random per process.
	Holder string
	// TTL is how long a lease lasts from its last renewal; default 15 s.
	TTL time.Duration
	// Renew is how often a holder renews its leases, and how often a node
	// that does not hold one tries again to acquire it; default TTL/3.
	Renew time.Duration
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Lease is a lease as stored.
type Lease struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
	// Since is when the holder acquired it (renewals keep it).
	Since time.Time `json:"since"`
}

// Leases acquires, renews and releases the leases of one node (one
// holder id) in a store. It is safe for concurrent use; within the node
// one Hold at a time holds a given name.
type Leases struct {
	st   store.Store
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	local map[string]chan struct{} // names held by a Hold of this node -> closed when it ends
}

// New returns the leases of node opts.Holder in st.
func New(st store.Store, opts Options) *Leases {
	if opts.Holder == "" {
		opts.Holder = NewHolder()
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Renew <= 0 || opts.Renew >= opts.TTL {
		opts.Renew = opts.TTL / 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Leases{st: st, opts: opts, local: map[string]chan struct{}{},
		log: opts.Logger.With(slog.String("component", "lease"), slog.String("node", opts.Holder))}
}

// NewHolder is a node id unique to this process: the host name and a
// random suffix.
func NewHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return host + "-" + hex.EncodeToString(b)
}

// Holder is this node's id.
func (l *Leases) Holder() string { return l.opts.Holder }

// TTL is how long a lease lasts from its last renewal.
func (l *Leases) TTL() time.Duration { return l.opts.TTL }

// Acquire takes the lease name for this node when it is free, expired or
// already this node's, and reports whether this node holds it now (until
// TTL from now).
func (l *Leases) Acquire(ctx context.Context, name string) (bool, error) {
	return l.claim(ctx, name, false)
}

// Renew extends the lease name by TTL from now if this node holds it
// (even past its expiry, when no one took it over meanwhile); false when
// another node holds it or it is gone.
func (l *Leases) Renew(ctx context.Context, name string) (bool, error) {
	return l.claim(ctx, name, true)
}

func (l *Leases) claim(ctx context.Context, name string, renew bool) (bool, error) {
	var held bool
	err := l.st.SysUpdate(ctx, func(tx store.SysTx) error {
		held = false
		now := l.opts.Now()
		var cur Lease
		err := tx.Get(Kind, name, &cur)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if renew {
				return nil
			}
			cur = Lease{}
		case err != nil:
			return err
		}
		mine := cur.Holder == l.opts.Holder
		switch {
		case mine:
		case renew:
			return nil // someone else's now
		case cur.Holder != "" && now.Before(cur.Expires):
			return nil // held by another node
		}
		next := Lease{Holder: l.opts.Holder, Expires: now.Add(l.opts.TTL).UTC(), Since: cur.Since}
		if !mine {
			next.Since = now.UTC()
		}
		held = true
		return tx.Put(Kind, name, next)
	})
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return held, nil
}

// Release gives up the lease name if this node holds it, so another node
// may take it at once.
func (l *Leases) Release(ctx context.Context, name string) error {
	err := l.st.SysUpdate(ctx, func(tx store.SysTx) error {
		var cur Lease
		if err := tx.Get(Kind, name, &cur); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		if cur.Holder != l.opts.Holder {
			return nil
		}
		return tx.Delete(Kind, name)
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// HeldIn reports, inside a SysUpdate, whether this node holds the lease
// name: a write that only its holder may make (a consumer's position)
// checks it in the same transaction, so a node that lost the lease
// without noticing yet cannot make it.
func (l *Leases) HeldIn(tx store.SysTx, name string) (bool, error) {
	var cur Lease
	err := tx.Get(Kind, name, &cur)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cur.Holder == l.opts.Holder, nil
}

// Get is the lease name as stored; nil when no node holds it.
func (l *Leases) Get(ctx context.Context, name string) (*Lease, error) {
	var cur Lease
	err := l.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(Kind, name, &cur) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lease %s: %w", name, err)
	}
	return &cur, nil
}

// Hold runs fn only while this node holds the lease name, until ctx is
// done. It waits until it acquires the lease (trying again every Renew),
// runs fn with a context that ends when the lease is lost, renews it every
// Renew meanwhile, and when a renewal finds another holder, or no renewal
// succeeded before the lease would expire, it cancels fn, waits for it to
// return and goes back to acquiring. When ctx is done it cancels fn, waits
// for it and releases the lease, unless ctx's cause is ErrAbandoned. An
// error fn returns while its context is live ends Hold with that error
// (after releasing); fn returning nil while its context is live ends Hold
// with nil.
func (l *Leases) Hold(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if err := l.lockLocal(ctx, name); err != nil {
		return nil
	}
	defer l.unlockLocal(name)
	log := l.log.With(slog.String("lease", name))
	for ctx.Err() == nil {
		start := l.opts.Now()
		ok, err := l.Acquire(ctx, name)
		if err != nil && ctx.Err() == nil {
			log.Warn("acquire lease", slog.Any("err", err))
		}
		if !ok {
			sleep(ctx, l.opts.Renew)
			continue
		}
		log.Info("lease acquired")
		done, err := l.run(ctx, name, start, fn, log)
		if done {
			if !errors.Is(context.Cause(ctx), ErrAbandoned) {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if rerr := l.Release(rctx, name); rerr != nil {
					log.Warn("release lease", slog.Any("err", rerr))
				}
				cancel()
			}
			return err
		}
		sleep(ctx, l.opts.Renew)
	}
	return nil
}

// run runs fn while the lease acquired at start is held; done says Hold is
// over (ctx ended or fn returned by itself), false that the lease was lost.
func (l *Leases) run(ctx context.Context, name string, start time.Time, fn func(ctx context.Context) error, log *slog.Logger) (done bool, err error) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- fn(fctx) }()
	// The lease is ours until the stored expiry; stop a little before it
	// when no renewal got through, so that no other node starts meanwhile.
	margin := l.opts.TTL / 10
	deadline := start.Add(l.opts.TTL - margin)
	renew := time.NewTicker(l.opts.Renew)
	defer renew.Stop()
	expiry := time.NewTimer(deadline.Sub(l.opts.Now()))
	defer expiry.Stop()
	for {
		select {
		case err := <-result:
			if ctx.Err() != nil {
				return true, nil
			}
			return true, err
		case <-ctx.Done():
			cancel()
			<-result
			return true, nil
		case <-expiry.C:
			log.Warn("lease not renewed in time; stopping its work")
			cancel()
			<-result
			return false, nil
		case <-renew.C:
			at := l.opts.Now()
			// A renewal that has not answered by the deadline is as
			// good as lost: the work must stop before the lease expires.
			rctx, rcancel := context.WithTimeout(ctx, deadline.Sub(at))
			ok, err := l.Renew(rctx, name)
			rcancel()
			switch {
			case err != nil:
				if ctx.Err() == nil {
					log.Warn("renew lease", slog.Any("err", err))
				}
			case !ok:
				log.Warn("lease lost to another node; stopping its work")
				cancel()
				<-result
				return false, nil
			default:
				deadline = at.Add(l.opts.TTL - margin)
				if !expiry.Stop() {
					select {
					case <-expiry.C:
					default:
					}
				}
				expiry.Reset(deadline.Sub(l.opts.Now()))
			}
		}
	}
}

// lockLocal waits until no other Hold of this node holds name.
func (l *Leases) lockLocal(ctx context.Context, name string) error {
	for {
		l.mu.Lock()
		busy, ok := l.local[name]
		if !ok {
			l.local[name] = make(chan struct{})
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-busy:
		}
	}
}

func (l *Leases) unlockLocal(name string) {
	l.mu.Lock()
	close(l.local[name])
	delete(l.local, name)
	l.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
