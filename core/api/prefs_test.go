package api_test

import (
	"context"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// uiConfig is the configuration of the tests of the UI's routes: six
// languages, a Jalali default calendar, a custom entity with translated
// labels that references contacts.
const uiConfig = `
locale {
  languages = ["en", "hy", "lt", "az", "fa", "ru"]
  default   = "hy"
  calendar  = "jalali"
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
  region    = "AM"
}
entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա", fa = "خودرو", ru = "Автомобиль", lt = "Automobilis", az = "Avtomobil" }
  field "vin" {
    type     = "string"
    required = true
    unique   = true
    label    = "VIN"
    labels   = { hy = "VIN", fa = "شماره شاسی", ru = "VIN", lt = "VIN", az = "VIN" }
  }
  field "mileage" {
    type  = "int"
    index = true
  }
  field "status" {
    type   = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer" {
    type = "ref"
    to   = "contact"
  }
  field "price" { type = "money" }
  field "bought" { type = "date" }
}
role "sales" {
  read     = ["contact", "company", "deal", "activity", "task", "vehicle"]
  write    = ["contact", "deal", "activity", "task", "vehicle"]
  own_only = true
}
role "viewer" {
  read = ["contact"]
}
`

func startUI(t *testing.T) *testkit.Server {
	return testkit.Start(t, map[string]string{"crm.hcl": uiConfig})
}

func TestProfileScenarios(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	salesID, sales := s.AddUser(t, "sales@example.com", "sales")
	s.Run(t, []testkit.Scenario{
		{Name: "me defaults to the locale", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200,
			Contains: []string{`"language":"hy"`, `"calendar":"jalali"`}},
		{Name: "choose Persian and Gregorian", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"language": "fa", "calendar": "gregorian", "name": "Sara"}, Status: 200,
			Contains: []string{`"language":"fa"`, `"calendar":"gregorian"`, `"name":"Sara"`}},
		{Name: "me keeps the choice", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200,
			Contains: []string{`"language":"fa"`, `"calendar":"gregorian"`}},
		{Name: "a language the instance does not offer", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"language": "de"}, Status: 422,
			Contains: []string{`"field":"language"`, "en, hy, lt, az, fa, ru"}},
		{Name: "an unknown calendar", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"calendar": "julian"}, Status: 422,
			Contains: []string{`"field":"calendar"`, "jalali"}},
		{Name: "a control character in the name", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"name": "a\u0007b"}, Status: 422,
			Contains: []string{`"field":"name"`}},
		{Name: "an unknown key", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"role": "admin"}, Status: 400,
			Contains: []string{`"code":"invalid_json"`}},
		{Name: "back to the default language", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"language": ""}, Status: 200,
			Contains: []string{`"language":"hy"`, `"calendar":"gregorian"`}},
		{Name: "roles are for admins", Method: "GET", Path: "/api/v1/roles", Token: sales, Status: 403},
		{Name: "roles", Method: "GET", Path: "/api/v1/roles", Token: admin, Status: 200,
			Contains: []string{`{"name":"admin","read":["*"],"write":["*"],"own_only":false,"admin":true}`, `"name":"sales"`, `"own_only":true`, `{"name":"viewer","read":["contact"],"write":[],"own_only":false}`}},
		{Name: "users are changed by admins only", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: sales, Body: map[string]any{"role": "admin"}, Status: 403},
		{Name: "an unknown role", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"role": "salse"}, Status: 422,
			Contains: []string{`"field":"role"`, "sales"}},
		{Name: "a short password", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"password": "short"}, Status: 422,
			Contains: []string{`"field":"password"`}},
		{Name: "an unknown user", Method: "PATCH", Path: "/api/v1/users/01JAAAAAAAAAAAAAAAAAAAAAAA", Token: admin, Body: map[string]any{"name": "x"}, Status: 404},
		{Name: "a wrong type", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"disabled": "yes"}, Status: 400},
		{Name: "rename and change role", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"name": "Sara K.", "role": "viewer"}, Status: 200,
			Contains: []string{`"name":"Sara K."`, `"role":"viewer"`}},
		{Name: "the role takes effect", Method: "GET", Path: "/api/v1/records/deal", Token: sales, Status: 403},
		{Name: "the last admin cannot be disabled", Method: "PATCH", Path: "/api/v1/users/" + s.AdminUserID(t), Token: admin, Body: map[string]any{"disabled": true}, Status: 403},
		{Name: "disable", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"disabled": true}, Status: 200, Contains: []string{`"disabled":true`}},
		{Name: "enable again", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"disabled": false}, Status: 200, Contains: []string{`"disabled":false`}},
		{Name: "the routes are in the OpenAPI document", Method: "GET", Path: "/api/v1/openapi.json", Token: admin, Status: 200,
			Contains: []string{`"/api/v1/auth/password"`, `"/api/v1/users/{id}"`, `"/api/v1/roles"`, `"/api/v1/views"`, `"/api/v1/views/{id}"`,
				`"/api/v1/records/{entity}/export"`, `"/api/v1/records/{entity}/bulk"`, `"/api/v1/records/{entity}/{id}/timeline"`, `"patch":{"requestBody"`}},
		// Disabling revoked the API token for good: enabling does not bring it back.
		{Name: "the token was revoked", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 401},
	})
	toks, err := s.App.Auth.Tokens(context.Background(), salesID)
	if err != nil || len(toks) != 0 {
		t.Fatalf("tokens of the disabled user: %v %v", toks, err)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := startUI(t)
	_, _ = s.AddUser(t, "sales@example.com", "sales")
	const pw = "password-of-sales@example.com"
	here := s.Login(t, "sales@example.com", pw)
	there := s.Login(t, "sales@example.com", pw)
	s.Run(t, []testkit.Scenario{
		{Name: "no current password", Method: "POST", Path: "/api/v1/auth/password", Token: here, Body: map[string]any{"new": "a new long password"}, Status: 422,
			Contains: []string{`"field":"current"`}},
		{Name: "a wrong current password", Method: "POST", Path: "/api/v1/auth/password", Token: here, Body: map[string]any{"current": "nope", "new": "a new long password"}, Status: 403,
			Contains: []string{`"code":"wrong_password"`, `"field":"current"`}},
		{Name: "a weak new password", Method: "POST", Path: "/api/v1/auth/password", Token: here, Body: map[string]any{"current": pw, "new": "short"}, Status: 422,
			Contains: []string{`"field":"new"`, "at least 10"}},
		{Name: "nothing changed yet", Method: "GET", Path: "/api/v1/auth/me", Token: there, Status: 200},
		{Name: "change", Method: "POST", Path: "/api/v1/auth/password", Token: here, Body: map[string]any{"current": pw, "new": "a new long password"}, Status: 204},
		{Name: "this session stays", Method: "GET", Path: "/api/v1/auth/me", Token: here, Status: 200},
		{Name: "the other session ended", Method: "GET", Path: "/api/v1/auth/me", Token: there, Status: 401},
		{Name: "the old password no longer logs in", Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"email": "sales@example.com", "password": pw}, Status: 401},
		{Name: "the new one does", Method: "POST", Path: "/api/v1/auth/login", Body: map[string]any{"email": "sales@example.com", "password": "a new long password"}, Status: 200},
	})
	// Guessing the current password is rate-limited as logins are.
	limited := false
	for range 10 {
		r := s.Do(t, "POST", "/api/v1/auth/password", here, map[string]any{"current": "a guess", "new": "yet another password"})
		if r.Status == 429 {
			limited = r.Header.Get("Retry-After") != ""
			break
		}
		if r.Status != 403 {
			t.Fatalf("a wrong guess: %d %s", r.Status, r.Body)
		}
	}
	if !limited {
		t.Fatal("10 wrong current passwords in a row were not rate-limited")
	}
}

// TestExtensionScenarios: a user's phone extension is set by the user on
// PATCH /auth/me and by an admin on PATCH /users/{id}, checked (digits, 1
// to 10), shown in /auth/me and the users list, and removed with "".
func TestExtensionScenarios(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	salesID, sales := s.AddUser(t, "sales@example.com", "sales")
	s.Run(t, []testkit.Scenario{
		{Name: "none at first", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200, NotContains: []string{`"extension"`}},
		{Name: "the user sets theirs", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"extension": "101"}, Status: 200,
			Contains: []string{`"extension":"101"`}},
		{Name: "me shows it", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200, Contains: []string{`"extension":"101"`}},
		{Name: "letters are refused", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"extension": "10a"}, Status: 422,
			Contains: []string{`"field":"extension"`, "digits"}},
		{Name: "eleven digits are refused", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"extension": "12345678901"}, Status: 422,
			Contains: []string{`"field":"extension"`}},
		{Name: "a sign is refused", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"extension": "+101"}, Status: 422,
			Contains: []string{`"field":"extension"`}},
		{Name: "a refused change changes nothing", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200, Contains: []string{`"extension":"101"`}},
		{Name: "the admin sets it", Method: "PATCH", Path: "/api/v1/users/" + salesID, Token: admin, Body: map[string]any{"extension": "1234567890"}, Status: 200,
			Contains: []string{`"extension":"1234567890"`}},
		{Name: "the users list shows it", Method: "GET", Path: "/api/v1/users", Token: admin, Status: 200, Contains: []string{`"extension":"1234567890"`}},
		{Name: "the user sees the admin's change", Method: "GET", Path: "/api/v1/auth/me", Token: sales, Status: 200, Contains: []string{`"extension":"1234567890"`}},
		{Name: "the user removes it", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"extension": ""}, Status: 200,
			NotContains: []string{`"extension"`}},
		{Name: "a number is not a string", Method: "PATCH", Path: "/api/v1/auth/me", Token: sales, Body: map[string]any{"extension": 101}, Status: 400},
	})
}
