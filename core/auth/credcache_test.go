package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// TestCachedCredentialsEndAtOnce authenticates a credential (so that it is
// cached), changes something that ends or narrows it, and checks that the
// very next Authenticate sees the change, with the clock standing still
// (no cache entry ages out).
func TestCachedCredentialsEndAtOnce(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts Options
		// change ends or narrows the credential secret of user u, an
		// editor, made with token id tokID.
		change func(t *testing.T, e *env, u *User, secret, tokID string)
		// check is what the next Authenticate must give.
		check func(t *testing.T, p *Principal, err error)
	}{
		{"logout", Options{}, func(t *testing.T, e *env, u *User, secret, _ string) {
			if err := e.svc.Logout(ctx, secret); err != nil {
				t.Fatal(err)
			}
		}, unauthenticated},
		{"token revoked", Options{}, func(t *testing.T, e *env, u *User, _, tokID string) {
			if err := e.svc.RevokeToken(ctx, tokID); err != nil {
				t.Fatal(err)
			}
		}, unauthenticated},
		{"user's sessions revoked", Options{}, func(t *testing.T, e *env, u *User, _, _ string) {
			if err := e.svc.RevokeUserSessions(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}, unauthenticated},
		{"user disabled", Options{}, func(t *testing.T, e *env, u *User, _, _ string) {
			if err := e.svc.SetDisabled(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}, unauthenticated},
		{"role changed", Options{}, func(t *testing.T, e *env, u *User, _, _ string) {
			if err := e.svc.SetRole(ctx, u.ID, "reader"); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, p *Principal, err error) {
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			if p.User.Role != "reader" || p.CanWrite("contact") || !p.CanRead("contact") {
				t.Fatalf("after the role change: role %q, may write contacts %v", p.User.Role, p.CanWrite("contact"))
			}
		}},
		{"role redefined", Options{}, func(t *testing.T, e *env, u *User, _, _ string) {
			roles := append([]*config.Role{{Name: "editor", Read: []string{"deal"}}}, testRoles[:3]...)
			e.svc.SetRoles(roles)
		}, func(t *testing.T, p *Principal, err error) {
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			if p.CanWrite("contact") || p.CanRead("contact") || !p.CanRead("deal") {
				t.Fatal("the redefined role is not in force")
			}
		}},
		{"session past its lifetime", Options{SessionTTL: credCacheTTL / 2}, func(t *testing.T, e *env, u *User, _, _ string) {
			e.clock.Advance(credCacheTTL / 2) // the cached entry is still young
		}, unauthenticated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.opts)
			u := e.user(t, "ed@example.com", "editor")
			secret := e.login(t, "ed@example.com")
			for range 3 { // the first fills the cache, the others use it
				p, err := e.svc.Authenticate(ctx, secret)
				if err != nil || !p.CanWrite("contact") {
					t.Fatalf("authenticate: %v", err)
				}
			}
			if c.name == "token revoked" {
				// an API token, revoked by id
				var tokID string
				secret, tok, err := e.svc.CreateToken(ctx, u.ID, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				tokID = tok.ID
				if _, err := e.svc.Authenticate(ctx, secret); err != nil {
					t.Fatal(err)
				}
				c.change(t, e, u, secret, tokID)
				p, err := e.svc.Authenticate(ctx, secret)
				c.check(t, p, err)
				return
			}
			c.change(t, e, u, secret, "")
			p, err := e.svc.Authenticate(ctx, secret)
			c.check(t, p, err)
		})
	}
}

func unauthenticated(t *testing.T, p *Principal, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("authenticate after the change: %v, %v; want ErrUnauthenticated", p, err)
	}
}

// TestCachedCredentialsRevokedUnderLoad revokes a token while readers
// authenticate it without pause: once RevokeToken has returned, no
// Authenticate that starts afterwards may succeed.
func TestCachedCredentialsRevokedUnderLoad(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		e := newEnv(t, Options{})
		u := e.user(t, "ed@example.com", "editor")
		secret, tok, err := e.svc.CreateToken(ctx, u.ID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			revoked bool
			late    int
		)
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					after := revoked
					mu.Unlock()
					if _, err := e.svc.Authenticate(ctx, secret); err == nil && after {
						mu.Lock()
						late++
						mu.Unlock()
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		if err := e.svc.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		revoked = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
		if late > 0 {
			t.Fatalf("round %d: %d authentications started after the revocation succeeded", round, late)
		}
	}
}

// TestCredentialCacheAgesOut checks that an entry is read again from the
// store after credCacheTTL.
func TestCredentialCacheAgesOut(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	e.user(t, "ed@example.com", "editor")
	secret := e.login(t, "ed@example.com")
	if _, err := e.svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hash := hashSecret(secret)
	if e.svc.creds.get(hash, e.clock.Now()) == nil {
		t.Fatal("an authenticated credential is not cached")
	}
	e.clock.Advance(credCacheTTL)
	if e.svc.creds.get(hash, e.clock.Now()) != nil {
		t.Fatal("a cached credential outlived credCacheTTL")
	}
	if _, err := e.svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
}

// TestRevocationOnOneNodeEndsTheCacheOfAnother: two nodes' services share
// one store, each follows the change feed as a server does. A session
// used on node B (so that B caches it) and logged out on node A is
// refused by B at once, the clock standing still; so are a revoked API
// token and a disabled user's session.
func TestRevocationOnOneNodeEndsTheCacheOfAnother(t *testing.T) {
	a := newEnv(t, Options{})
	b := &env{st: a.st, clock: a.clock, log: &syncBuffer{}}
	b.svc = New(a.st, testRoles, cheap(Options{Now: a.clock.Now, Logger: a.svc.log}))
	sch, err := schema.New(&config.Config{Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.FollowRevocations(ctx, sch); err != nil {
				t.Error(err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	// Wait until both follow and have caught up, as a server's would
	// have long before its first request.
	for !(a.svc.follow.Load() != nil && b.svc.follow.Load() != nil && a.svc.cacheCurrent(t.Context()) && b.svc.cacheCurrent(t.Context())) {
		time.Sleep(time.Millisecond)
	}

	u := a.user(t, "ann@example.com", "editor")
	other := a.user(t, "bob@example.com", "editor")
	cached := func(secret string) {
		t.Helper()
		for range 2 { // the second is served from B's cache once its follower caught up
			for !b.svc.cacheCurrent(t.Context()) {
				time.Sleep(time.Millisecond)
			}
			if _, err := b.svc.Authenticate(ctx, secret); err != nil {
				t.Fatalf("node b authenticates: %v", err)
			}
		}
		if b.svc.creds.get(hashSecret(secret), a.clock.Now()) == nil {
			t.Fatal("node b did not cache the credential")
		}
	}

	session := a.login(t, u.Email)
	cached(session)
	if err := a.svc.Logout(ctx, session); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Authenticate(ctx, session); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("node b after the logout on node a: %v; want unauthenticated", err)
	}

	tokSecret, tok, err := a.svc.CreateToken(ctx, u.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	cached(tokSecret)
	if err := a.svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Authenticate(ctx, tokSecret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("node b after the token's revocation on node a: %v; want unauthenticated", err)
	}

	bob := a.login(t, other.Email)
	cached(bob)
	if err := a.svc.SetDisabled(ctx, other.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Authenticate(ctx, bob); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("node b after disabling the user on node a: %v; want unauthenticated", err)
	}
}
