package api_test

import (
	"context"
	"strings"
	"testing"
)

// TestEveryRouteIsAuthorised walks every route for every kind of caller:
// no credentials, a revoked token, a role without read on the entity, an
// own_only role on someone else's record, and an admin.
func TestEveryRouteIsAuthorised(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	salesID, sales := s.AddUser(t, "sales@example.com", "sales")
	_, revoked := s.AddUser(t, "gone@example.com", "sales")
	toks, err := s.App.Auth.Tokens(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if u, _ := s.App.Auth.User(context.Background(), tk.UserID); u != nil && u.Email == "gone@example.com" {
			if err := s.App.Auth.RevokeToken(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	newDeal := func(token string) string {
		res := s.Do(t, "POST", "/api/v1/records/deal", token, map[string]any{"title": "deal"})
		if res.Status != 201 {
			t.Fatalf("create deal: %d %s", res.Status, res.Body)
		}
		return res.JSON["id"].(string)
	}
	adminDeal := newDeal(admin)
	salesDeal := newDeal(sales)
	_ = salesID

	type route struct {
		method, path string
		body         any
		// expected status per caller; 0 means "2xx"
		viewer, sales, admin int
	}
	deal := "/api/v1/records/deal/"
	routes := []route{
		{"GET", "/api/v1/auth/me", nil, 0, 0, 0},
		{"GET", "/api/v1/auth/tokens", nil, 0, 0, 0},
		{"POST", "/api/v1/auth/tokens", map[string]any{"name": "x"}, 0, 0, 0},
		{"DELETE", "/api/v1/auth/tokens/01JAAAAAAAAAAAAAAAAAAAAAAA", nil, 404, 404, 404},
		{"GET", "/api/v1/users", nil, 403, 403, 0},
		{"POST", "/api/v1/users", map[string]any{"email": "new@example.com", "role": "sales", "password": "long enough password"}, 403, 403, 0},
		{"GET", "/api/v1/schema", nil, 0, 0, 0},
		{"GET", "/metrics", nil, 403, 403, 0},
		{"GET", "/api/v1/records/deal", nil, 403, 0, 0},
		{"POST", "/api/v1/records/deal", map[string]any{"title": "t"}, 403, 0, 0},
		{"GET", deal + adminDeal, nil, 403, 0, 0},
		{"GET", deal + adminDeal + "/history", nil, 403, 0, 0},
		{"PATCH", deal + adminDeal, map[string]any{"title": "mine now"}, 403, 403, 0},
		{"PATCH", deal + salesDeal, map[string]any{"title": "mine"}, 403, 0, 404}, // sales deletes it below before the admin comes
		{"DELETE", deal + salesDeal, nil, 403, 0, 404},                            // the admin comes after sales deleted it
		{"DELETE", deal + adminDeal, nil, 403, 403, 0},
		{"GET", "/api/v1/records/contact", nil, 0, 0, 0},
		{"POST", "/api/v1/records/contact", map[string]any{"name": "n"}, 403, 0, 0},
		{"GET", "/api/v1/records/vehicle", nil, 403, 403, 0},
		{"GET", "/api/v1/rules", nil, 403, 403, 0},
		{"GET", "/api/v1/rules/nope/runs", nil, 403, 403, 404},
		{"POST", "/api/v1/rules/nope/runs/1/retry", nil, 403, 403, 404},
		{"GET", "/api/v1/config/status", nil, 403, 403, 404}, // the test server watches no files
		{"GET", "/api/v1/notifications", nil, 0, 0, 0},
		{"POST", "/api/v1/notifications/read", map[string]any{"ids": []string{"x"}}, 0, 0, 0},
		{"GET", "/api/v1/openapi.json", nil, 0, 0, 0},
		{"GET", "/api/v1/plugins", nil, 0, 0, 0},
		{"GET", "/api/v1/plugins/nope", nil, 404, 404, 404},
		{"POST", "/api/v1/plugins/nope/actions/x", map[string]any{}, 404, 404, 404},
		{"GET", "/api/v1/files/01JAAAAAAAAAAAAAAAAAAAAAAA", nil, 404, 404, 404},
		{"POST", "/api/v1/auth/logout", nil, -1, -1, -1}, // last: it ends the session
	}
	callers := []struct {
		name  string
		token string
		want  func(route) int
	}{
		{"no credentials", "", func(route) int { return 401 }},
		{"revoked token", revoked, func(route) int { return 401 }},
		{"viewer", viewer, func(r route) int { return r.viewer }},
		{"sales own_only", sales, func(r route) int { return r.sales }},
		{"admin", admin, func(r route) int { return r.admin }},
	}
	for _, c := range callers {
		for _, r := range routes {
			want := c.want(r)
			if want == -1 {
				continue
			}
			res := s.Do(t, r.method, r.path, c.token, r.body)
			ok := res.Status == want || want == 0 && res.Status >= 200 && res.Status < 300
			if !ok {
				t.Errorf("%s: %s %s = %d, want %d: %s", c.name, r.method, r.path, res.Status, want, res.Body)
			}
			if res.Status >= 400 && !strings.Contains(res.Body, `"error"`) {
				t.Errorf("%s: %s %s: error without the error shape: %s", c.name, r.method, r.path, res.Body)
			}
		}
	}
	if r := s.Do(t, "POST", "/api/v1/auth/logout", "", nil); r.Status != 401 {
		t.Errorf("logout without credentials = %d", r.Status)
	}
	// own_only may not give a record away or create one for someone else.
	if r := s.Do(t, "POST", "/api/v1/records/deal", sales, map[string]any{"title": "x", "owner": s.AdminUserID(t)}); r.Status != 403 {
		t.Errorf("own_only create for another owner = %d", r.Status)
	}
}
