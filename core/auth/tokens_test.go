package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
)

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, Options{SessionTTL: time.Hour})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	secret := e.login(t, "ann@example.com")
	for _, c := range []struct {
		advance time.Duration
		ok      bool
	}{
		{0, true},
		{59 * time.Minute, true},
		{59*time.Second + 999*time.Millisecond, true},
		{time.Millisecond, false}, // exactly SessionTTL after the login
		{time.Hour, false},
	} {
		e.clock.Advance(c.advance)
		_, err := e.svc.Authenticate(ctx, secret)
		if c.ok != (err == nil) {
			t.Fatalf("at +%v: err = %v, want ok=%v", e.clock.Now().Sub(newClock().Now()), err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("err = %v, want ErrUnauthenticated", err)
		}
	}

	// Expired sessions are neither listed nor kept once purged.
	if toks, err := e.svc.Tokens(ctx, ""); err != nil || len(toks) != 0 {
		t.Fatalf("Tokens = %v, %v", toks, err)
	}
	if n, err := e.svc.PurgeExpired(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeExpired = %d, %v; want 1", n, err)
	}
	if n := countDocs(t, e.st, kindToken) + countDocs(t, e.st, kindTokenHash); n != 0 {
		t.Fatalf("%d token documents left", n)
	}

	// A shorter SessionTTL shortens sessions already open.
	secret = e.login(t, "ann@example.com")
	short := New(e.st, testRoles, cheap(Options{Now: e.clock.Now, SessionTTL: time.Minute}))
	e.clock.Advance(time.Minute)
	if _, err := short.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("with a shorter TTL: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
}

func countDocs(t *testing.T, st store.Store, kind string) int {
	t.Helper()
	n := 0
	if err := st.SysList(context.Background(), kind, "", func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPITokens(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ann := e.user(t, "ann@example.com", "sales")
	bob := e.user(t, "bob@example.com", "reader")

	secret, tok, err := e.svc.CreateToken(ctx, ann.ID, "  ci  ", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, APITokenPrefix) || len(secret) != len(APITokenPrefix)+43 {
		t.Fatalf("secret %q", secret)
	}
	if tok.Kind != KindAPI || tok.UserID != ann.ID || tok.Name != "ci" || !tok.ExpiresAt.IsZero() || !store.ValidID(tok.ID) {
		t.Fatalf("token %+v", tok)
	}
	p, err := e.svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.User.ID != ann.ID || p.Token.ID != tok.ID || p.Token.Kind != KindAPI || !p.CanWrite("deal") {
		t.Fatalf("principal %+v %+v", p.User, p.Token)
	}

	// Only the hash is stored: the token_hash key is the secret's SHA-256.
	sum := sha256.Sum256([]byte(secret))
	var id string
	if err := e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(kindTokenHash, hex.EncodeToString(sum[:]), &id) }); err != nil || id != tok.ID {
		t.Fatalf("token_hash doc: %q, %v", id, err)
	}
	body := strings.Builder{}
	for _, kind := range []string{kindToken, kindTokenHash, kindUser, kindUserEmail} {
		_ = e.st.SysList(ctx, kind, "", func(k string, data []byte) error { body.WriteString(k + string(data)); return nil })
	}
	if raw := strings.TrimPrefix(secret, APITokenPrefix); strings.Contains(body.String(), raw) {
		t.Fatal("the secret is stored")
	}

	// Expiring tokens, and others' tokens.
	secret2, tok2, err := e.svc.CreateToken(ctx, ann.ID, "", time.Hour)
	if err != nil || tok2.Name != "API token" || !tok2.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("CreateToken with ttl: %+v, %v", tok2, err)
	}
	_, tokB, err := e.svc.CreateToken(ctx, bob.ID, "bob's", 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(toks []*Token) string {
		var s []string
		for _, t := range toks {
			s = append(s, t.ID)
		}
		return strings.Join(s, ",")
	}
	if toks, err := e.svc.Tokens(ctx, ann.ID); err != nil || ids(toks) != tok.ID+","+tok2.ID {
		t.Fatalf("ann's tokens: %s, %v", ids(toks), err)
	}
	if toks, err := e.svc.Tokens(ctx, ""); err != nil || ids(toks) != tok.ID+","+tok2.ID+","+tokB.ID {
		t.Fatalf("all tokens: %s, %v", ids(toks), err)
	}
	e.clock.Advance(time.Hour)
	if _, err := e.svc.Authenticate(ctx, secret2); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired API token: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, secret); err != nil {
		t.Fatalf("API token without expiry, an hour later: %v", err)
	}

	// Revoking.
	if err := e.svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := e.svc.RevokeToken(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := e.svc.RevokeToken(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking an unknown token: %v", err)
	}

	// Bad input.
	if _, _, err := e.svc.CreateToken(ctx, "nope", "x", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token for an unknown user: %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, ann.ID, "x", -time.Second); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative ttl: %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, ann.ID, strings.Repeat("n", 101), 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long name: %v", err)
	}
	if strings.Contains(e.log.String(), strings.TrimPrefix(secret, APITokenPrefix)) {
		t.Error("a secret is in the log")
	}
}

func TestSessionsRevocation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ann := e.user(t, "ann@example.com", "sales")
	bob := e.user(t, "bob@example.com", "sales")
	s1, s2, sb := e.login(t, "ann@example.com"), e.login(t, "ann@example.com"), e.login(t, "bob@example.com")
	api, _, err := e.svc.CreateToken(ctx, ann.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}

	// Logout ends that session only; with an API token it does nothing.
	if err := e.svc.Logout(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, s1); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after logout: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, s2); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	for _, secret := range []string{s1, api, "", "garbage"} {
		if err := e.svc.Logout(ctx, secret); err != nil {
			t.Fatalf("Logout(%.8q): %v", secret, err)
		}
	}
	if _, err := e.svc.Authenticate(ctx, api); err != nil {
		t.Fatalf("Logout ended an API token: %v", err)
	}

	// RevokeToken works on sessions.
	p, err := e.svc.Authenticate(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RevokeToken(ctx, p.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, s2); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("revoked session: %v", err)
	}

	// RevokeUserSessions ends the user's sessions, not its API tokens nor others' sessions.
	s3, s4 := e.login(t, "ann@example.com"), e.login(t, "ann@example.com")
	if err := e.svc.RevokeUserSessions(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{s3, s4} {
		if _, err := e.svc.Authenticate(ctx, s); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("session after RevokeUserSessions: %v", err)
		}
	}
	if _, err := e.svc.Authenticate(ctx, api); err != nil {
		t.Fatalf("API token after RevokeUserSessions: %v", err)
	}
	if p, err := e.svc.Authenticate(ctx, sb); err != nil || p.User.ID != bob.ID {
		t.Fatalf("bob's session: %v", err)
	}
	if toks, _ := e.svc.Tokens(ctx, ann.ID); len(toks) != 1 || toks[0].Kind != KindAPI {
		t.Fatalf("ann's tokens: %v", toks)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ann := e.user(t, "ann@example.com", "sales")
	session := e.login(t, "ann@example.com")
	api, _, err := e.svc.CreateToken(ctx, ann.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	unknownSession, _ := newSecret(SessionPrefix)
	unknownAPI, _ := newSecret(APITokenPrefix)
	for name, secret := range map[string]string{
		"empty":             "",
		"no prefix":         strings.TrimPrefix(session, SessionPrefix),
		"other prefix":      "crmx_" + strings.TrimPrefix(session, SessionPrefix),
		"short":             session[:len(session)-1],
		"long":              session + "A",
		"not base64url":     SessionPrefix + strings.Repeat("*", 43),
		"bearer prefix":     "Bearer " + session,
		"session as api":    APITokenPrefix + strings.TrimPrefix(session, SessionPrefix),
		"api as session":    SessionPrefix + strings.TrimPrefix(api, APITokenPrefix),
		"unknown session":   unknownSession,
		"unknown api token": unknownAPI,
	} {
		if _, err := e.svc.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		}
	}

	// A user deleted behind the service's back.
	if err := e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Delete(kindUser, ann.ID) }); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{session, api} {
		if _, err := e.svc.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("token of a deleted user: %v", err)
		}
	}
}

func TestLastUsedAt(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ann := e.user(t, "ann@example.com", "sales")
	secret, tok, err := e.svc.CreateToken(ctx, ann.ID, "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		toks, err := e.svc.Tokens(ctx, ann.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("Tokens: %v %v", toks, err)
		}
		return toks[0].LastUsedAt
	}
	if !tok.LastUsedAt.IsZero() || !stored().IsZero() {
		t.Fatal("a new token has been used")
	}
	t0 := e.clock.Now()
	p, err := e.svc.Authenticate(ctx, secret)
	if err != nil || !p.Token.LastUsedAt.Equal(t0) || !stored().Equal(t0) {
		t.Fatalf("first use: %v, principal %v, stored %v", err, p.Token.LastUsedAt, stored())
	}
	e.clock.Advance(59 * time.Second)
	if _, err := e.svc.Authenticate(ctx, secret); err != nil || !stored().Equal(t0) {
		t.Fatalf("within a minute: %v, stored %v, want %v", err, stored(), t0)
	}
	e.clock.Advance(time.Second)
	t1 := e.clock.Now()
	if _, err := e.svc.Authenticate(ctx, secret); err != nil || !stored().Equal(t1) {
		t.Fatalf("a minute later: %v, stored %v, want %v", err, stored(), t1)
	}
}

// TestAuthenticateConcurrent: many requests at once with one token all
// pass, and the token's LastUsedAt is written without errors.
func TestAuthenticateConcurrent(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "ann@example.com", "sales")
	secret := e.login(t, "ann@example.com")
	errs := make(chan error, 32)
	for range 32 {
		go func() {
			_, err := e.svc.Authenticate(ctx, secret)
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(e.log.String(), "recording token use failed") {
		t.Errorf("log: %s", e.log)
	}
}

// TestLoginPurgesExpired: a login deletes expired tokens, at most once an hour.
func TestLoginPurgesExpired(t *testing.T) {
	e := newEnv(t, Options{SessionTTL: time.Hour})
	e.user(t, "ann@example.com", "sales")
	e.login(t, "ann@example.com")
	e.login(t, "ann@example.com")
	e.clock.Advance(2 * time.Hour)
	e.login(t, "ann@example.com")
	if n := countDocs(t, e.st, kindToken); n != 1 {
		t.Fatalf("%d sessions stored, want 1", n)
	}
}
