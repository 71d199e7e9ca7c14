package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ann := e.user(t, "ann@example.com", "sales")
	off := e.user(t, "off@example.com", "reader")
	e.user(t, "admin@example.com", "admin")
	if err := e.svc.SetDisabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, email, password string
		ok                    bool
		reason                string // logged for a failure
	}{
		{"success", "ann@example.com", testPassword, true, ""},
		{"e-mail case and spaces", "  ANN@Example.com ", testPassword, true, ""},
		{"wrong password", "ann@example.com", testPassword + "!", false, "wrong password"},
		{"empty password", "ann@example.com", "", false, "wrong password"},
		{"unknown e-mail", "nobody@example.com", testPassword, false, "unknown e-mail"},
		{"malformed e-mail", "not an e-mail", testPassword, false, "unknown e-mail"},
		{"disabled user", "off@example.com", testPassword, false, "user disabled"},
		{"password too long", "ann@example.com", strings.Repeat("p", MaxPasswordLen+1), false, "password too long"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := fmt.Sprintf("198.51.100.%d:5000", i+1)
			secret, u, err := e.svc.Login(ctx, c.email, c.password, addr)
			if !c.ok {
				if err != ErrBadCredentials || secret != "" || u != nil {
					t.Fatalf("Login = %q, %v, %v; want ErrBadCredentials", secret, u, err)
				}
				if !strings.Contains(e.log.String(), fmt.Sprintf("reason=%q", c.reason)) {
					t.Errorf("log lacks reason %q:\n%s", c.reason, e.log)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != ann.ID || !strings.HasPrefix(secret, SessionPrefix) || len(secret) != len(SessionPrefix)+43 {
				t.Fatalf("Login = %q, %+v", secret, u)
			}
			p, err := e.svc.Authenticate(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			if p.User.ID != ann.ID || p.Token.Kind != KindSession || p.Token.UserID != ann.ID {
				t.Fatalf("principal %+v %+v", p.User, p.Token)
			}
			if want := e.clock.Now().Add(DefaultSessionTTL); !p.Token.ExpiresAt.Equal(want) {
				t.Errorf("session expires at %v, want %v", p.Token.ExpiresAt, want)
			}
			if !strings.Contains(p.Token.Name, "198.51.100.") {
				t.Errorf("session name %q does not say where from", p.Token.Name)
			}
		})
	}
	logs := e.log.String()
	for _, want := range []string{"login succeeded", "login failed", "remote_addr=198.51.100.3", "email=ann@example.com"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs, testPassword) || strings.Contains(logs, SessionPrefix) {
		t.Errorf("log holds a password or a secret:\n%s", logs)
	}
}

func rateLimited(t *testing.T, err error) *RateLimitError {
	t.Helper()
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want a RateLimitError", err)
	}
	return rl
}

func TestLoginRateLimitAccountAndAddress(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	attempt := func(port int, password string) error {
		// One address, any port: the account-and-address limit applies.
		_, _, err := e.svc.Login(ctx, "Ann@example.com", password, fmt.Sprintf("203.0.113.7:%d", port))
		return err
	}
	for i := range pairBurst {
		if err := attempt(i, "wrong password"); err != ErrBadCredentials {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Limited now, even with the right password, which is not checked.
	rl := rateLimited(t, attempt(10, testPassword))
	if rl.RetryAfter <= 29*time.Second || rl.RetryAfter > 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", rl.RetryAfter)
	}
	if got := rl.Error(); got != "too many login attempts; retry in 30s" {
		t.Errorf("Error() = %q", got)
	}
	if !strings.Contains(e.log.String(), "login rate limited") || !strings.Contains(e.log.String(), `limit="account and address"`) {
		t.Errorf("the limit is not logged:\n%s", e.log)
	}
	// Another account from the same address is not limited.
	e.user(t, "bob@example.com", "sales")
	if _, _, err := e.svc.Login(ctx, "bob@example.com", testPassword, "203.0.113.7:1"); err != nil {
		t.Fatalf("another account: %v", err)
	}

	e.clock.Advance(10 * time.Second)
	rl = rateLimited(t, attempt(11, testPassword))
	if rl.RetryAfter <= 19*time.Second || rl.RetryAfter > 20*time.Second {
		t.Errorf("RetryAfter = %v, want 20s", rl.RetryAfter)
	}
	// One attempt refills every 30 s.
	e.clock.Advance(20 * time.Second)
	if err := attempt(12, "wrong again"); err != ErrBadCredentials {
		t.Fatalf("after 30 s: %v", err)
	}
	rateLimited(t, attempt(13, testPassword))
	e.clock.Advance(30 * time.Second)
	if err := attempt(14, testPassword); err != nil {
		t.Fatalf("right password after 30 s: %v", err)
	}
	// A success resets the account for the address: a full burst of failures again.
	for i := range pairBurst {
		if err := attempt(20+i, "wrong password"); err != ErrBadCredentials {
			t.Fatalf("failure %d after the reset: %v", i+1, err)
		}
	}
	rateLimited(t, attempt(30, testPassword))
}

// TestHammeringDoesNotLockTheOwnerOut: an attacker who hammers an account
// from one address is limited, and the owner, from another address, with
// the right password, gets in at once.
func TestHammeringDoesNotLockTheOwnerOut(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	const attacker, owner = "198.51.100.66:4000", "192.0.2.10:5000"
	limited := 0
	for i := range 200 {
		_, _, err := e.svc.Login(ctx, "ann@example.com", fmt.Sprintf("guess %d", i), attacker)
		var rl *RateLimitError
		switch {
		case errors.As(err, &rl):
			limited++
		case err != ErrBadCredentials:
			t.Fatalf("attempt %d: %v", i, err)
		}
		e.clock.Advance(100 * time.Millisecond)
	}
	if checked := 200 - limited; checked > pairBurst+1 {
		t.Errorf("%d of the attacker's 200 guesses in 20 s were checked, want at most %d", checked, pairBurst+1)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, owner); err != nil {
		t.Fatalf("the owner from another address: %v", err)
	}
	_, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, attacker)
	rateLimited(t, err)
}

// TestGuessingFromManyAddressesIsLimited: failures spread over many
// addresses exhaust the account's own limit, which then refuses any
// address the owner has not logged in from lately, but not one the owner
// has.
func TestGuessingFromManyAddressesIsLimited(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	const home = "192.0.2.10:5000"
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, home); err != nil {
		t.Fatal(err)
	}
	// The owner's first login from home took one attempt of the account's.
	for i := range accountBurst - 1 {
		if _, _, err := e.svc.Login(ctx, "ann@example.com", "guess", fmt.Sprintf("10.1.%d.%d:1", i/200, i%200)); err != ErrBadCredentials {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "10.2.0.1:1")
	if rl := rateLimited(t, err); rl.RetryAfter > accountEvery {
		t.Errorf("RetryAfter = %v, want at most %v", rl.RetryAfter, accountEvery)
	}
	if !strings.Contains(e.log.String(), `limit=account `) {
		t.Errorf("the account limit is not logged:\n%s", e.log)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "192.0.2.10:6000"); err != nil {
		t.Fatalf("the owner from home: %v", err)
	}
	// The account's limit refills: one more address may try after accountEvery.
	e.clock.Advance(accountEvery)
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "10.2.0.1:1"); err != nil {
		t.Fatalf("after %v: %v", accountEvery, err)
	}
}

func TestLoginRateLimitAddress(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	from := func(host string, port int) string { return fmt.Sprintf("%s:%d", host, port) }
	// Successes count against the address too (and ports do not matter).
	for i := range addrBurst {
		if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, from("192.0.2.7", 1000+i)); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	rl := rateLimited(t, func() error {
		_, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, from("192.0.2.7", 9999))
		return err
	}())
	if rl.RetryAfter <= 2*time.Second || rl.RetryAfter > 3*time.Second {
		t.Errorf("RetryAfter = %v, want 3s", rl.RetryAfter)
	}
	// Failures for unknown e-mails count too; they do not get past the limit.
	_, _, err := e.svc.Login(ctx, "nobody@example.com", "x", from("192.0.2.7", 1))
	rateLimited(t, err)
	// Another address is fine; so is IPv6 with a port.
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "192.0.2.8:1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "[2001:db8::1]:443"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, from("192.0.2.7", 2)); err != nil {
		t.Fatalf("after 3 s: %v", err)
	}
	_, _, err = e.svc.Login(ctx, "ann@example.com", testPassword, from("192.0.2.7", 3))
	rateLimited(t, err)
}

// TestLoginLimitersEvicted: stored limits that have refilled are dropped,
// so the store keeps only the busy ones.
func TestLoginLimitersEvicted(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	for i := range 200 {
		_, _, _ = e.svc.Login(ctx, fmt.Sprintf("u%d@example.com", i), "x", fmt.Sprintf("10.0.%d.%d:1", i/100, i%100))
	}
	count := func() map[string]int {
		n := map[string]int{}
		if err := e.st.SysList(ctx, kindLoginLimit, "", func(key string, _ []byte) error {
			prefix, _, _ := strings.Cut(key, "/")
			n[prefix]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n["account"] != 200 || n["addr"] != 200 || n["pair"] != 200 {
		t.Fatalf("stored limits %v, want 200 each", n)
	}
	e.clock.Advance(pairBurst*pairEvery + sweepEvery) // every limit has refilled
	_, _, _ = e.svc.Login(ctx, "last@example.com", "x", "10.9.9.9:1")
	if n := count(); n["account"] != 1 || n["addr"] != 1 || n["pair"] != 1 {
		t.Fatalf("after the sweep: stored limits %v, want 1 each", n)
	}
}

// TestLoginLimitsSharedByNodes: two nodes' services over one store count
// the same attempts: an address that used up its tries on one node is
// refused on the other, and an owner's success on one starts the pair
// afresh on both.
func TestLoginLimitsSharedByNodes(t *testing.T) {
	a := newEnv(t, Options{})
	b := &env{st: a.st, clock: a.clock, log: &syncBuffer{}}
	b.svc = New(a.st, testRoles, cheap(Options{Now: a.clock.Now, Logger: slog.New(slog.NewTextHandler(b.log, nil))}))
	ctx := context.Background()
	a.user(t, "ann@example.com", "sales")
	const from = "203.0.113.9:1"
	for i := range pairBurst {
		node := []*env{a, b}[i%2]
		if _, _, err := node.svc.Login(ctx, "ann@example.com", "wrong password!", from); err != ErrBadCredentials {
			t.Fatalf("attempt %d on node %d: %v", i, i%2, err)
		}
	}
	_, _, err := b.svc.Login(ctx, "ann@example.com", testPassword, from)
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("attempt past the pair limit on node b: %v; want rate limited", err)
	}
	if _, _, err := a.svc.Login(ctx, "ann@example.com", "wrong password!", from); !errors.As(err, &rl) {
		t.Fatalf("on node a too: %v", err)
	}
	a.clock.Advance(pairEvery)
	if _, _, err := a.svc.Login(ctx, "ann@example.com", testPassword, from); err != nil {
		t.Fatalf("after %s on node a: %v", pairEvery, err)
	}
	// The success started the pair afresh for node b as well.
	for i := range pairBurst {
		if _, _, err := b.svc.Login(ctx, "ann@example.com", "wrong password!", from); err != ErrBadCredentials {
			t.Fatalf("attempt %d on node b after the success: %v", i, err)
		}
	}
}

func TestRateLimitErrorMessage(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "1s"}, {300 * time.Millisecond, "1s"}, {2500 * time.Millisecond, "3s"}, {30 * time.Second, "30s"}} {
		if got := (&RateLimitError{RetryAfter: c.d}).Error(); got != "too many login attempts; retry in "+c.want {
			t.Errorf("%v: %q", c.d, got)
		}
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:1234":    "192.0.2.1",
		"[2001:db8::1]:443": "2001:db8::1",
		"192.0.2.1":         "192.0.2.1",
		"":                  "",
		" unix ":            "unix",
	} {
		if got := addrKey(in); got != want {
			t.Errorf("addrKey(%q) = %q, want %q", in, got, want)
		}
	}
}
