package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// TestUserDirectory: every signed-in user may read the id and name of every
// active user (so user fields show names and anyone can pick an assignee),
// and nothing more: no e-mail, no role, no disabled account.
func TestUserDirectory(t *testing.T) {
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig})
	ctx := context.Background()
	_, admin := s.AddUser(t, "boss@example.com", "admin")
	_, sales := s.AddUser(t, "seller@example.com", "sales")
	anna, err := s.App.Auth.CreateUser(ctx, "anna@example.com", "Anna Petrosyan", "sales", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.App.Auth.CreateUser(ctx, "gone@example.com", "Gone Away", "sales", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if res := s.Do(t, "PATCH", "/api/v1/users/"+gone.ID, admin, map[string]any{"disabled": true}); res.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", res.Status, res.Body)
	}
	res := s.Do(t, "GET", "/api/v1/users/directory", sales, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("directory as sales: %d %s", res.Status, res.Body)
	}
	if !strings.Contains(res.Body, `"id":"`+anna.ID+`"`) || !strings.Contains(res.Body, `"name":"Anna Petrosyan"`) {
		t.Errorf("directory lacks Anna: %s", res.Body)
	}
	for _, no := range []string{"anna@example.com", `"role"`, "Gone Away", gone.ID} {
		if strings.Contains(res.Body, no) {
			t.Errorf("directory shows %s: %s", no, res.Body)
		}
	}
	if res := s.Do(t, "GET", "/api/v1/users/directory", "", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("directory without credentials: %d %s", res.Status, res.Body)
	}
}
