package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// TestRevocationTakesEffectOnTheNextRequest: credentials are cached for a
// moment after they are checked (core/auth credcache.go), so each way of
// ending or narrowing one is tried right after requests that used it, and
// the very next request must see the change.
func TestRevocationTakesEffectOnTheNextRequest(t *testing.T) {
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig})
	ctx := context.Background()
	const list = "/api/v1/records/contact"
	warm := func(tok string) {
		t.Helper()
		for range 3 {
			if res := s.Do(t, "GET", list, tok, nil); res.Status != http.StatusOK {
				t.Fatalf("list before the change: %d %s", res.Status, res.Body)
			}
		}
	}
	expect := func(tok, what string, status int) {
		t.Helper()
		if res := s.Do(t, "GET", list, tok, nil); res.Status != status {
			t.Fatalf("list right after %s: %d %s; want %d", what, res.Status, res.Body, status)
		}
	}

	// logout of a session
	s.AddUser(t, "a@example.com", "sales")
	sess := s.Login(t, "a@example.com", "password-of-a@example.com")
	warm(sess)
	if res := s.Do(t, "POST", "/api/v1/auth/logout", sess, nil); res.Status/100 != 2 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	expect(sess, "logout", http.StatusUnauthorized)

	// an API token revoked over the API
	_, tok := s.AddUser(t, "b@example.com", "sales")
	warm(tok)
	var toks struct {
		Items []struct{ ID string } `json:"items"`
	}
	res := s.Do(t, "GET", "/api/v1/auth/tokens", tok, nil)
	res.Decode(t, &toks)
	if len(toks.Items) != 1 {
		t.Fatalf("tokens: %s", res.Body)
	}
	if res := s.Do(t, "DELETE", "/api/v1/auth/tokens/"+toks.Items[0].ID, tok, nil); res.Status/100 != 2 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	expect(tok, "the token's revocation", http.StatusUnauthorized)

	// a user disabled
	id, tok := s.AddUser(t, "c@example.com", "sales")
	warm(tok)
	if err := s.App.Auth.SetDisabled(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	expect(tok, "disabling the user", http.StatusUnauthorized)

	// a role given and taken back: the admin-only route follows at once
	id, tok = s.AddUser(t, "d@example.com", "sales")
	warm(tok)
	if err := s.App.Auth.SetRole(ctx, id, "admin"); err != nil {
		t.Fatal(err)
	}
	if res := s.Do(t, "GET", "/api/v1/users", tok, nil); res.Status != http.StatusOK {
		t.Fatalf("users right after becoming admin: %d %s", res.Status, res.Body)
	}
	if err := s.App.Auth.SetRole(ctx, id, "sales"); err != nil {
		t.Fatal(err)
	}
	if res := s.Do(t, "GET", "/api/v1/users", tok, nil); res.Status != http.StatusForbidden {
		t.Fatalf("users right after losing admin: %d %s", res.Status, res.Body)
	}
}
