package auth

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// testRoles are the configured roles of the tests.
var testRoles = []*config.Role{
	{Name: "reader", Read: []string{"contact", "company"}},
	{Name: "sales", Read: []string{"contact", "company", "deal"}, Write: []string{"contact", "deal"}, OwnOnly: true},
	{Name: "manager", Read: []string{"*"}, Write: []string{"deal"}},
	{Name: "editor", Write: []string{"*"}},
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 21, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a service over a real Badger store, with a clock and a log.
type env struct {
	svc   *Service
	st    store.Store
	clock *clock
	log   *syncBuffer
}

// cheap are argon2id costs that keep tests fast.
func cheap(o Options) Options {
	if o.ArgonMemoryKiB == 0 {
		o.ArgonMemoryKiB = 64
		o.ArgonTime = 1
		o.ArgonThreads = 1
	}
	return o
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	sch, err := schema.New(&config.Config{Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// newEnv opens a store and a service with cheap hashing (unless opts sets
// a cost), the test clock and a captured log.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	e := &env{st: openStore(t), clock: newClock(), log: &syncBuffer{}}
	opts = cheap(opts)
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.svc = New(e.st, testRoles, opts)
	return e
}

const testPassword = "correct horse battery"

func (e *env) user(t testing.TB, email, role string) *User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, "", role, testPassword)
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func (e *env) login(t testing.TB, email string) string {
	t.Helper()
	secret, _, err := e.svc.Login(context.Background(), email, testPassword, "192.0.2.1:4000")
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return secret
}
