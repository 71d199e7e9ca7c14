package hub_test

import (
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// TestDisabledUserSocketsCloseAtOnce: disabling a user closes every
// websocket of that user at once, from the revocation the hub reads in the
// change feed (the API itself closes no socket for it), and leaves other
// users' sockets open.
func TestDisabledUserSocketsCloseAtOnce(t *testing.T) {
	s := start(t)
	id, token := s.AddUser(t, "sam@example.com", "sales")
	one, two := s.MustDialWS(t, token), s.MustDialWS(t, token)
	admin := s.MustDialWS(t, s.AdminToken)
	if res := s.Do(t, "PATCH", "/api/v1/users/"+id, s.AdminToken, map[string]any{"disabled": true}); res.Status != 200 {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	for i, ws := range []*testkit.WS{one, two} {
		m := ws.Next()
		if m.Close == nil || !strings.Contains(m.Close.Text, "session ended") {
			t.Fatalf("socket %d of the disabled user: %s, want a close saying the session ended", i, m.Raw)
		}
	}
	admin.Sync() // still open
}
