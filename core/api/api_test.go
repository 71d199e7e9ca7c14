package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

const testConfig = `
locale {
  currency = "AMD"
  region   = "AM"
}
entity "vehicle" {
  field "vin"     {
    type = "string"
    required = true
    unique = true
  }
  field "mileage" {
    type = "int"
    index = true
  }
  field "status"  {
    type = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer"   {
    type = "ref"
    to = "contact"
  }
  field "price"   { type = "money" }
  field "photo"   { type = "file" }
}
role "sales" {
  read     = ["contact", "company", "deal", "activity", "task"]
  write    = ["contact", "deal", "activity", "task"]
  own_only = true
}
role "viewer" {
  read = ["contact"]
}
`

func start(t *testing.T) *testkit.Server {
	return testkit.Start(t, map[string]string{"crm.hcl": testConfig})
}

func TestRecordScenarios(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	c := s.Do(t, "POST", "/api/v1/records/contact", admin, map[string]any{"name": "Anahit", "phone": "091 123456", "email": "ani@Example.AM"})
	if c.Status != 201 {
		t.Fatalf("create contact: %d %s", c.Status, c.Body)
	}
	cid := c.JSON["id"].(string)
	v := s.Do(t, "POST", "/api/v1/records/vehicle", admin, map[string]any{"vin": "WVW1", "price": map[string]any{"amount": "1500.50", "currency": "AMD"}, "buyer": cid})
	if v.Status != 201 {
		t.Fatalf("create vehicle: %d %s", v.Status, v.Body)
	}
	vid := v.JSON["id"].(string)
	big := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`

	s.Run(t, []testkit.Scenario{
		{Name: "healthz needs no login", Method: "GET", Path: "/healthz", Status: 200, Contains: []string{`"status":"ok"`}},
		{Name: "no credentials", Method: "GET", Path: "/api/v1/records/contact", Status: 401, Contains: []string{`"code":"unauthenticated"`}},
		{Name: "garbage token", Method: "GET", Path: "/api/v1/records/contact", Token: "crmt_nope", Status: 401},
		{Name: "phone stored as E.164, email domain lower-cased", Method: "GET", Path: "/api/v1/records/contact/" + cid, Token: admin, Status: 200,
			Contains: []string{`"phone":"+37491123456"`, `"email":"ani@example.am"`, `"version":1`, `"owner":"`}},
		{Name: "money is exact", Method: "GET", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Status: 200,
			Contains: []string{`"price":{"amount":"1500.50","currency":"AMD"}`}},
		{Name: "malformed json", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: `{"name": `, Status: 400, Contains: []string{`"code":"invalid_json"`}},
		{Name: "not an object", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: `[1]`, Status: 400, Contains: []string{`"code":"invalid_json"`}},
		{Name: "unknown field with suggestion", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: map[string]any{"name": "x", "emial": "a@b.c"}, Status: 422,
			Contains: []string{`"code":"unknown_field"`, `"field":"emial"`, `did you mean`, `email`}},
		{Name: "wrong type", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"vin": "X", "mileage": "many"}, Status: 422,
			Contains: []string{`"field":"mileage"`}},
		{Name: "missing required", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"mileage": 5}, Status: 422,
			Contains: []string{`"code":"required"`, `"field":"vin"`}},
		{Name: "money with too many decimals", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"vin": "M1", "price": map[string]any{"amount": "1.001", "currency": "AMD"}}, Status: 422,
			Contains: []string{`"field":"price"`}},
		{Name: "enum value checked", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"vin": "E1", "status": "sols"}, Status: 422,
			Contains: []string{`"field":"status"`, "sold"}},
		{Name: "dangling ref", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"vin": "R1", "buyer": "01JAAAAAAAAAAAAAAAAAAAAAAA"}, Status: 422,
			Contains: []string{`"field":"buyer"`}},
		{Name: "duplicate unique", Method: "POST", Path: "/api/v1/records/vehicle", Token: admin, Body: map[string]any{"vin": "WVW1"}, Status: 409,
			Contains: []string{`"code":"duplicate"`, `"field":"vin"`}},
		{Name: "system field is read-only", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: map[string]any{"name": "x", "version": 3}, Status: 422,
			Contains: []string{`"field":"version"`}},
		{Name: "unknown entity", Method: "GET", Path: "/api/v1/records/vehicel", Token: admin, Status: 404, Contains: []string{`"code":"unknown_entity"`}},
		{Name: "oversize body", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: big, Status: 413, Contains: []string{`"code":"body_too_large"`}},
		{Name: "wrong content type", Method: "POST", Path: "/api/v1/records/contact", Token: admin, Body: "name=x", Headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, Status: 400},
		{Name: "bad filter has its position", Method: "GET", Path: "/api/v1/records/vehicle?filter=" + escape("mileage > 5 && vni == 'x'"), Token: admin, Status: 400,
			Contains: []string{`"code":"invalid_filter"`, `"line":1`, `"column":16`, "vni"}},
		{Name: "filter by index", Method: "GET", Path: "/api/v1/records/vehicle?filter=" + escape("vin == 'WVW1'"), Token: admin, Status: 200, Contains: []string{vid}},
		{Name: "bad sort", Method: "GET", Path: "/api/v1/records/vehicle?sort=-nope", Token: admin, Status: 400, Contains: []string{`"field":"sort"`}},
		{Name: "bad limit", Method: "GET", Path: "/api/v1/records/vehicle?limit=-1", Token: admin, Status: 400},
		{Name: "bad cursor", Method: "GET", Path: "/api/v1/records/vehicle?cursor=xyz", Token: admin, Status: 400, Contains: []string{`"field":"cursor"`}},
		{Name: "stale If-Match", Method: "PATCH", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Body: map[string]any{"mileage": 10}, Headers: []string{"If-Match", `"7"`}, Status: 409,
			Contains: []string{`"code":"version_conflict"`}},
		{Name: "bad If-Match", Method: "PATCH", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Body: map[string]any{"mileage": 10}, Headers: []string{"If-Match", `"x"`}, Status: 400},
		{Name: "fresh If-Match", Method: "PATCH", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Body: map[string]any{"mileage": 10}, Headers: []string{"If-Match", `"1"`}, Status: 200,
			Contains: []string{`"version":2`, `"mileage":10`}},
		{Name: "null clears a field", Method: "PATCH", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Body: map[string]any{"mileage": nil}, Status: 200,
			Contains: []string{`"version":3`}, NotContains: []string{`"mileage"`}},
		{Name: "clearing a required field", Method: "PATCH", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Body: map[string]any{"vin": nil}, Status: 422, Contains: []string{`"field":"vin"`}},
		{Name: "history", Method: "GET", Path: "/api/v1/records/vehicle/" + vid + "/history", Token: admin, Status: 200,
			Contains: []string{`"action":"created"`, `"action":"updated"`, `"mileage":{"old":null,"new":10}`, `"mileage":{"old":10,"new":null}`}},
		{Name: "missing record", Method: "GET", Path: "/api/v1/records/vehicle/01JAAAAAAAAAAAAAAAAAAAAAAA", Token: admin, Status: 404},
		{Name: "delete of referenced record", Method: "DELETE", Path: "/api/v1/records/contact/" + cid, Token: admin, Status: 409,
			Contains: []string{`"code":"referenced"`, `"count":1`, vid}},
		{Name: "bad force", Method: "DELETE", Path: "/api/v1/records/contact/" + cid + "?force=maybe", Token: admin, Status: 400},
		{Name: "forced delete", Method: "DELETE", Path: "/api/v1/records/contact/" + cid + "?force=true", Token: admin, Status: 204},
		{Name: "reference cleared in the referrer", Method: "GET", Path: "/api/v1/records/vehicle/" + vid, Token: admin, Status: 200, NotContains: []string{cid}},
		{Name: "deleted record's history for admin", Method: "GET", Path: "/api/v1/records/contact/" + cid + "/history", Token: admin, Status: 200,
			Contains: []string{`"action":"deleted"`, `"old":"Anahit"`}},
		{Name: "schema", Method: "GET", Path: "/api/v1/schema", Token: admin, Status: 200, Contains: []string{`"name":"vehicle"`, `"stages":["new"`}},
		{Name: "me", Method: "GET", Path: "/api/v1/auth/me", Token: admin, Status: 200, Contains: []string{testkit.AdminEmail, `"admin":true`}, NotContains: []string{"password"}},
		{Name: "openapi has the custom entity", Method: "GET", Path: "/api/v1/openapi.json", Token: admin, Status: 200,
			Contains: []string{`"openapi":"3.1.0"`, `"/api/v1/records/vehicle/{id}"`, `"Record_vehicle"`, `"enum":["in_stock","sold","service"]`, `"/api/v1/rules/{name}/runs"`, `"/api/v1/plugins/{name}/actions/{action}"`}},
		{Name: "user with a bad e-mail", Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{"email": "nope", "role": "sales", "password": "long enough password"}, Status: 422, Contains: []string{`"field":"email"`}},
		{Name: "user with an unknown role", Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{"email": "a@example.com", "role": "salse", "password": "long enough password"}, Status: 422, Contains: []string{`"field":"role"`}},
		{Name: "user", Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{"email": "a@example.com", "role": "sales", "password": "long enough password"}, Status: 201, NotContains: []string{"password"}},
		{Name: "duplicate user", Method: "POST", Path: "/api/v1/users", Token: admin, Body: map[string]any{"email": "A@example.com", "role": "sales", "password": "long enough password"}, Status: 409},
		{Name: "unknown route", Method: "GET", Path: "/api/v1/nothing", Token: admin, Status: 404},
		{Name: "metrics", Method: "GET", Path: "/metrics", Token: admin, Status: 200, Contains: []string{"crm_http_requests_total", `crm_records{entity="vehicle"} 1`, "crm_store_size_bytes", "crm_rule_queue_depth", "crm_rule_feed_lag"}},
	})
}

func escape(s string) string {
	return strings.NewReplacer(" ", "%20", "&", "%26", "'", "%27", "=", "%3D", ">", "%3E").Replace(s)
}

func TestListPagesThroughEverything(t *testing.T) {
	s := start(t)
	for i := range 25 {
		res := s.Do(t, "POST", "/api/v1/records/vehicle", s.AdminToken, map[string]any{"vin": fmt.Sprintf("P%02d", i), "mileage": 25 - i})
		if res.Status != 201 {
			t.Fatal(res.Body)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		res := s.Do(t, "GET", "/api/v1/records/vehicle?sort=-mileage&limit=7&cursor="+cursor, s.AdminToken, nil)
		if res.Status != 200 {
			t.Fatal(res.Body)
		}
		for _, it := range res.JSON["items"].([]any) {
			seen[it.(map[string]any)["vin"].(string)] = true
		}
		cursor, _ = res.JSON["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d of 25 records", len(seen))
	}
}

func TestConcurrentUniqueOverHTTP(t *testing.T) {
	s := start(t)
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.Do(t, "POST", "/api/v1/records/vehicle", s.AdminToken, map[string]any{"vin": "SAME"}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case 201:
			created++
		case 409:
		default:
			t.Fatalf("status %d", c)
		}
	}
	if created != 1 {
		t.Fatalf("%d creates won; want exactly 1", created)
	}
}

func TestLoginLogoutAndCookie(t *testing.T) {
	s := start(t)
	res := s.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": testkit.AdminEmail, "password": testkit.AdminPassword})
	if res.Status != 200 {
		t.Fatal(res.Body)
	}
	cookie := res.Header.Get("Set-Cookie")
	for _, want := range []string{"crm_session=", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %q", cookie, want)
		}
	}
	token := res.JSON["token"].(string)
	if r := s.Do(t, "GET", "/api/v1/auth/me", "", nil, "Cookie", "crm_session="+token); r.Status != 200 {
		t.Fatalf("cookie auth: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/auth/logout", token, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/auth/me", token, nil); r.Status != 401 {
		t.Fatalf("after logout: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": testkit.AdminEmail, "password": "wrong"}); r.Status != 401 {
		t.Fatalf("wrong password: %d", r.Status)
	}
	if r := s.Do(t, "POST", "/api/v1/auth/login", "", `{"email": 1}`); r.Status != 400 {
		t.Fatalf("malformed login: %d", r.Status)
	}
	// Repeated failures for one account are limited.
	limited := false
	for range 10 {
		r := s.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": "victim@example.com", "password": "guess"})
		if r.Status == http.StatusTooManyRequests {
			limited = r.Header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Fatal("10 failed logins in a row were not rate-limited")
	}
}

func TestTokensAreRevocable(t *testing.T) {
	s := start(t)
	res := s.Do(t, "POST", "/api/v1/auth/tokens", s.AdminToken, map[string]any{"name": "zapier", "ttl": "720h"})
	if res.Status != 201 {
		t.Fatal(res.Body)
	}
	tok, id := res.JSON["token"].(string), res.JSON["id"].(string)
	if r := s.Do(t, "GET", "/api/v1/records/contact", tok, nil); r.Status != 200 {
		t.Fatalf("new token: %d", r.Status)
	}
	list := s.Do(t, "GET", "/api/v1/auth/tokens", s.AdminToken, nil)
	if !strings.Contains(list.Body, id) || strings.Contains(list.Body, tok) {
		t.Fatalf("token list: %s", list.Body)
	}
	if r := s.Do(t, "DELETE", "/api/v1/auth/tokens/"+id, s.AdminToken, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/api/v1/records/contact", tok, nil); r.Status != 401 {
		t.Fatalf("revoked token: %d", r.Status)
	}
	_ = context.Background()
}
