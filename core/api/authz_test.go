package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/api"
	"github.com/crmkit/crm/core/testkit"
)

// TestEveryRouteIsAuthorised walks every route for every kind of caller:
// no credentials, a revoked token, a role without read on the entity, an
// own_only role on someone else's record, and an admin. Every route the
// server registers must have a row: a new route cannot escape the walk.
func TestEveryRouteIsAuthorised(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	_, sales := s.AddUser(t, "sales@example.com", "sales")
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
	upload, uploadType := multipartBody(t, "a.txt", []byte("hello"))

	type route struct {
		method, path string
		body         any
		// expected status per caller; 0 means "2xx"
		viewer, sales, admin int
		// public: the route takes no credentials; every caller, none
		// included, gets the admin's status.
		public bool
		// fresh: each caller logs in afresh and sends that session
		// (logout ends the session it is called with).
		fresh   bool
		headers []string
	}
	deal := "/api/v1/records/deal/"
	routes := []route{
		{method: "GET", path: "/api/v1/auth/me", viewer: 0, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/auth/tokens", viewer: 0, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/auth/tokens", body: map[string]any{"name": "x"}, viewer: 0, sales: 0, admin: 0},
		{method: "DELETE", path: "/api/v1/auth/tokens/01JAAAAAAAAAAAAAAAAAAAAAAA", viewer: 404, sales: 404, admin: 404},
		{method: "GET", path: "/api/v1/users", viewer: 403, sales: 403, admin: 0},
		{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "new@example.com", "role": "sales", "password": "long enough password"}, viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/schema", viewer: 0, sales: 0, admin: 0},
		{method: "GET", path: "/metrics", viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/admin/backup", viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/records/deal", viewer: 403, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/records/deal", body: map[string]any{"title": "t"}, viewer: 403, sales: 0, admin: 0},
		// An own_only user does not see another's record: every route of it
		// answers as for a record that does not exist.
		{method: "GET", path: deal + adminDeal, viewer: 403, sales: 404, admin: 0},
		{method: "GET", path: deal + adminDeal + "/history", viewer: 403, sales: 404, admin: 0},
		{method: "GET", path: deal + adminDeal + "/timeline", viewer: 403, sales: 404, admin: 0},
		{method: "PATCH", path: deal + adminDeal, body: map[string]any{"title": "mine now"}, viewer: 403, sales: 404, admin: 0},
		{method: "PATCH", path: deal + salesDeal, body: map[string]any{"title": "mine"}, viewer: 403, sales: 0, admin: 404}, // sales deletes it below before the admin comes
		{method: "DELETE", path: deal + salesDeal, viewer: 403, sales: 0, admin: 404},                                       // the admin comes after sales deleted it
		{method: "DELETE", path: deal + adminDeal, viewer: 403, sales: 404, admin: 0},
		{method: "GET", path: "/api/v1/records/contact", viewer: 0, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/records/contact", body: map[string]any{"name": "n"}, viewer: 403, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/records/vehicle", viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/search?q=deal&entity=company", viewer: 403, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/rules", viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/rules/nope/runs", viewer: 403, sales: 403, admin: 404},
		{method: "POST", path: "/api/v1/rules/nope/runs/1/retry", viewer: 403, sales: 403, admin: 404},
		{method: "GET", path: "/api/v1/config/status", viewer: 403, sales: 403, admin: 404}, // the test server watches no files
		{method: "GET", path: "/api/v1/notifications", viewer: 0, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/notifications/read", body: map[string]any{"ids": []string{"x"}}, viewer: 0, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/notifications/x/read", viewer: 404, sales: 404, admin: 404},
		{method: "GET", path: "/api/v1/ws", viewer: 400, sales: 400, admin: 400}, // not a websocket handshake (ws_test.go has those)
		{method: "GET", path: "/api/v1/openapi.json", viewer: 0, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/plugins", viewer: 0, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/plugins/nope", viewer: 404, sales: 404, admin: 404},
		{method: "POST", path: "/api/v1/plugins/nope/actions/x", body: map[string]any{}, viewer: 404, sales: 404, admin: 404},
		{method: "GET", path: "/api/v1/files/01JAAAAAAAAAAAAAAAAAAAAAAA", viewer: 404, sales: 404, admin: 404},
		{method: "POST", path: "/api/v1/files", body: upload.Bytes(), headers: []string{"Content-Type", uploadType}, viewer: 403, sales: 403, admin: 201},
		{method: "POST", path: "/api/v1/plugins/nope/restart", viewer: 403, sales: 403, admin: 404},
		{method: "PATCH", path: "/api/v1/auth/me", body: map[string]any{"calendar": "gregorian"}, viewer: 0, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/auth/password", body: map[string]any{"current": "not the password", "new": "another long password"}, viewer: 403, sales: 403, admin: 403},
		{method: "PATCH", path: "/api/v1/users/01JAAAAAAAAAAAAAAAAAAAAAAA", body: map[string]any{"name": "x"}, viewer: 403, sales: 403, admin: 404},
		{method: "GET", path: "/api/v1/roles", viewer: 403, sales: 403, admin: 0},
		{method: "GET", path: "/api/v1/users/directory", viewer: 0, sales: 0, admin: 0},
		{method: "GET", path: "/api/v1/views?entity=deal", viewer: 403, sales: 0, admin: 0},
		{method: "POST", path: "/api/v1/views", body: map[string]any{"name": "v", "entity": "deal"}, viewer: 403, sales: 201, admin: 201},
		{method: "GET", path: "/api/v1/views/01JAAAAAAAAAAAAAAAAAAAAAAA", viewer: 404, sales: 404, admin: 404},
		{method: "PATCH", path: "/api/v1/views/01JAAAAAAAAAAAAAAAAAAAAAAA", body: map[string]any{"name": "v"}, viewer: 404, sales: 404, admin: 404},
		{method: "DELETE", path: "/api/v1/views/01JAAAAAAAAAAAAAAAAAAAAAAA", viewer: 404, sales: 404, admin: 404},
		{method: "GET", path: "/api/v1/records/deal/export", viewer: 403, sales: 200, admin: 200},
		{method: "POST", path: "/api/v1/records/deal/bulk", body: map[string]any{"ids": []string{"01JAAAAAAAAAAAAAAAAAAAAAAA"}, "set": map[string]any{"title": "t"}}, viewer: 403, sales: 200, admin: 200},
		{method: "GET", path: "/api/v1/no/such/route", viewer: 404, sales: 404, admin: 404},
		{method: "GET", path: "/healthz", admin: 200, public: true},
		{method: "POST", path: "/api/v1/auth/login", body: map[string]any{}, admin: 400, public: true},
		{method: "POST", path: "/hooks/nope/x", body: map[string]any{}, admin: 404, public: true}, // a plugin authenticates its webhooks
		{method: "POST", path: "/api/v1/auth/logout", viewer: 204, sales: 204, admin: 204, fresh: true},
	}
	callers := []struct {
		name            string
		token           string
		email, password string // for a fresh session
		want            func(route) int
	}{
		{"no credentials", "", "", "", func(route) int { return 401 }},
		{"revoked token", revoked, "", "", func(route) int { return 401 }},
		{"viewer", viewer, "viewer@example.com", "password-of-viewer@example.com", func(r route) int { return r.viewer }},
		{"sales own_only", sales, "sales@example.com", "password-of-sales@example.com", func(r route) int { return r.sales }},
		{"admin", admin, testkit.AdminEmail, testkit.AdminPassword, func(r route) int { return r.admin }},
	}
	for _, c := range callers {
		for _, r := range routes {
			want := c.want(r)
			if r.public {
				want = r.admin
			}
			token := c.token
			if r.fresh && c.email != "" {
				token = s.Login(t, c.email, c.password)
			}
			res := s.Do(t, r.method, r.path, token, r.body, r.headers...)
			ok := res.Status == want || want == 0 && res.Status >= 200 && res.Status < 300
			if !ok {
				t.Errorf("%s: %s %s = %d, want %d: %s", c.name, r.method, r.path, res.Status, want, res.Body)
			}
			if res.Status >= 400 && !strings.Contains(res.Body, `"error"`) {
				t.Errorf("%s: %s %s: error without the error shape: %s", c.name, r.method, r.path, res.Body)
			}
			if r.fresh && token != c.token && res.Status == 204 {
				if after := s.Do(t, "GET", "/api/v1/auth/me", token, nil); after.Status != 401 {
					t.Errorf("%s: the token still works after logout: %d", c.name, after.Status)
				}
			}
		}
	}

	// Every registered route has a row.
	srv := api.New(api.Options{Store: s.App.Store, Schema: s.App.Schema, Auth: s.App.Auth})
	mux := http.NewServeMux()
	for _, pattern := range srv.Routes() {
		mux.Handle(pattern, http.NotFoundHandler())
	}
	covered := map[string]bool{}
	for _, r := range routes {
		req := httptest.NewRequest(r.method, r.path, nil)
		if _, pattern := mux.Handler(req); pattern != "" {
			covered[pattern] = true
		}
	}
	if len(srv.Routes()) < 30 {
		t.Fatalf("only %d routes registered: %v", len(srv.Routes()), srv.Routes())
	}
	for _, pattern := range srv.Routes() {
		if !covered[pattern] {
			t.Errorf("route %q has no row in this test: add one", pattern)
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
