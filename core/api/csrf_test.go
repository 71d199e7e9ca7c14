package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// TestCookieWritesCheckOriginAndBody: a change made with the session
// cookie must come from this server's origin (public_url, or the host the
// request was sent to) and carry JSON, or the multipart body of the file
// upload; reads and bearer-token requests are not affected.
func TestCookieWritesCheckOriginAndBody(t *testing.T) {
	s := testkit.Start(t, map[string]string{
		"crm.hcl":    testConfig,
		"server.hcl": "server {\n  public_url = \"https://crm.example.com\"\n}\n",
	})
	session := s.Login(t, testkit.AdminEmail, testkit.AdminPassword)
	const public = "https://crm.example.com"
	contact := `{"name": "Ani"}`
	upload, uploadType := multipartBody(t, "a.txt", []byte("hello"))
	cases := []struct {
		name                   string
		method, path, body, ct string
		cookie, bearer         bool
		origin, fetchSite      string
		status                 int
		code                   string
	}{
		{name: "cookie, no Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, status: 403, code: "cross_origin"},
		{name: "cookie, wrong Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, origin: "https://evil.example", status: 403, code: "cross_origin"},
		{name: "cookie, look-alike Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, origin: "https://crm.example.com.evil.example", status: 403, code: "cross_origin"},
		{name: "cookie, Origin null", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, origin: "null", status: 403, code: "cross_origin"},
		{name: "cookie, cross-site fetch without Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, fetchSite: "cross-site", status: 403, code: "cross_origin"},
		{name: "cookie, public_url Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, origin: public, status: 201},
		{name: "cookie, Origin of the host served", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, origin: s.URL, status: 201},
		{name: "cookie, same-origin fetch without Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", cookie: true, fetchSite: "same-origin", status: 201},
		{name: "cookie, right Origin, text/plain", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "text/plain", cookie: true, origin: public, status: 415, code: "unsupported_media_type"},
		{name: "cookie, right Origin, form", method: "POST", path: "/api/v1/records/contact", body: "name=Ani", ct: "application/x-www-form-urlencoded", cookie: true, origin: public, status: 415, code: "unsupported_media_type"},
		{name: "cookie, right Origin, multipart on a JSON route", method: "POST", path: "/api/v1/records/contact", body: upload.String(), ct: uploadType, cookie: true, origin: public, status: 415, code: "unsupported_media_type"},
		{name: "cookie, right Origin, body without Content-Type", method: "POST", path: "/api/v1/records/contact", body: contact, cookie: true, origin: public, status: 415, code: "unsupported_media_type"},
		{name: "cookie, DELETE without Origin", method: "DELETE", path: "/api/v1/auth/tokens/01JAAAAAAAAAAAAAAAAAAAAAAA", cookie: true, status: 403, code: "cross_origin"},
		{name: "cookie, logout from another site", method: "POST", path: "/api/v1/auth/logout", cookie: true, origin: "https://evil.example", status: 403, code: "cross_origin"},
		{name: "cookie, read without Origin", method: "GET", path: "/api/v1/records/contact", cookie: true, status: 200},
		{name: "cookie, upload without Origin", method: "POST", path: "/api/v1/files", body: upload.String(), ct: uploadType, cookie: true, status: 403, code: "cross_origin"},
		{name: "cookie, upload from another site", method: "POST", path: "/api/v1/files", body: upload.String(), ct: uploadType, cookie: true, origin: "https://evil.example", status: 403, code: "cross_origin"},
		{name: "cookie, upload as text/plain", method: "POST", path: "/api/v1/files", body: upload.String(), ct: "text/plain", cookie: true, origin: public, status: 415, code: "unsupported_media_type"},
		{name: "cookie, upload from the right Origin", method: "POST", path: "/api/v1/files", body: upload.String(), ct: uploadType, cookie: true, origin: public, status: 201},
		{name: "bearer, no Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", bearer: true, status: 201},
		{name: "bearer, another Origin", method: "POST", path: "/api/v1/records/contact", body: contact, ct: "application/json", bearer: true, origin: "https://app.example", status: 201},
		{name: "bearer, upload without Origin", method: "POST", path: "/api/v1/files", body: upload.String(), ct: uploadType, bearer: true, status: 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = bytes.NewReader([]byte(c.body))
			}
			req, err := http.NewRequest(c.method, s.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			if c.cookie {
				req.AddCookie(&http.Cookie{Name: "crm_session", Value: session})
			}
			if c.bearer {
				req.Header.Set("Authorization", "Bearer "+s.AdminToken)
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.fetchSite != "" {
				req.Header.Set("Sec-Fetch-Site", c.fetchSite)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status || c.code != "" && !strings.Contains(string(raw), `"code":"`+c.code+`"`) {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, raw, c.status, c.code)
			}
		})
	}
	// The session survived the refused cross-site logout.
	if r := s.Do(t, "GET", "/api/v1/auth/me", "", nil, "Cookie", "crm_session="+session); r.Status != 200 {
		t.Fatalf("session after the refused logout: %d %s", r.Status, r.Body)
	}
}
