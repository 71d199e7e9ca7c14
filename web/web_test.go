package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crmkit/crm/web"
)

// get fetches path from a real server running the UI handler.
func get(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var assetRe = regexp.MustCompile(`/assets/([0-9a-f]{16})/js/app\.js`)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler(web.Options{}))
	defer srv.Close()

	res, page := get(t, srv, "GET", "/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	m := assetRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page names no hashed app.js:\n%s", page)
	}
	base := "/assets/" + m[1] + "/"

	t.Run("security headers on every response", func(t *testing.T) {
		for _, p := range []string{"/", "/contacts/01ABC", base + "js/app.js", "/sw.js", "/manifest.webmanifest", "/assets/x"} {
			res, _ := get(t, srv, "GET", p)
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"frame-ancestors 'none'", "script-src 'self' 'sha256-", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", p, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("%s: CSP allows unsafe code: %q", p, csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
				t.Errorf("%s: headers %v", p, res.Header)
			}
		}
	})

	t.Run("the inline import map is allowed by its hash and maps to hashed files", func(t *testing.T) {
		im := regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`).FindStringSubmatch(page)
		if im == nil {
			t.Fatal("no import map in the page")
		}
		sum := sha256.Sum256([]byte(im[1]))
		if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(res.Header.Get("Content-Security-Policy"), want) {
			t.Errorf("CSP does not allow the import map by %s", want)
		}
		var m struct{ Imports map[string]string }
		if err := json.Unmarshal([]byte(im[1]), &m); err != nil {
			t.Fatal(err)
		}
		for _, spec := range []string{"preact", "preact/hooks", "htm/preact", "@preact/signals", "@preact/signals-core", "sortablejs"} {
			p, ok := m.Imports[spec]
			if !ok || !strings.HasPrefix(p, base) {
				t.Errorf("import map %q -> %q, want under %s", spec, p, base)
				continue
			}
			if res, _ := get(t, srv, "GET", p); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
				t.Errorf("GET %s = %d %s", p, res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, "<script type=\"text/javascript\">") {
			t.Error("the page has an inline script other than the import map")
		}
	})

	cases := []struct {
		name, method, path string
		status             int
		cache, ctype, body string
	}{
		{"hashed asset is immutable", "GET", base + "js/app.js", 200, "immutable", "text/javascript", ""},
		{"css", "GET", base + "css/app.css", 200, "immutable", "text/css", ""},
		{"en catalogue", "GET", base + "i18n/en.json", 200, "immutable", "application/json", "{"},
		{"asset of an older build is served but not cached", "GET", "/assets/0000000000000000/js/app.js", 200, "no-cache", "text/javascript", ""},
		{"missing asset is a JSON 404, not the page", "GET", base + "js/nope.js", 404, "no-store", "application/json", `"not_found"`},
		{"page", "GET", "/", 200, "no-cache", "text/html", `<script type="importmap">`},
		{"SPA fallback for a client route", "GET", "/records/contact/01J0000000", 200, "no-cache", "text/html", `<div id="app">`},
		{"HEAD of a client route", "HEAD", "/records/deal", 200, "no-cache", "text/html", ""},
		{"service worker at the root, with the asset base", "GET", "/sw.js", 200, "no-cache", "text/javascript", base},
		{"manifest", "GET", "/manifest.webmanifest", 200, "no-cache", "application/manifest+json", `"start_url"`},
		{"icon", "GET", "/icons/icon-192.png", 200, "no-cache", "image/png", ""},
		{"API paths are not swallowed by the page", "GET", "/api/v1/nope", 404, "no-store", "application/json", `"not_found"`},
		{"hooks paths are not swallowed", "POST", "/hooks/x/y", 404, "no-store", "application/json", `"not_found"`},
		{"writes to the UI are refused", "POST", "/records/contact", 405, "no-store", "application/json", `"method_not_allowed"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := get(t, srv, c.method, c.path)
			if res.StatusCode != c.status {
				t.Fatalf("%s %s = %d, want %d\n%s", c.method, c.path, res.StatusCode, c.status, body)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, c.cache) {
				t.Errorf("Cache-Control %q, want %q", cc, c.cache)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
				t.Errorf("Content-Type %q, want %q", ct, c.ctype)
			}
			if !strings.Contains(body, c.body) {
				t.Errorf("body lacks %q:\n%.300s", c.body, body)
			}
		})
	}

	t.Run("no path escapes the static tree", func(t *testing.T) {
		for _, p := range []string{base + "../../web.go", base + "..%2f..%2fweb.go", "/icons/../web.go"} {
			if _, body := get(t, srv, "GET", p); strings.Contains(body, "package web") {
				t.Errorf("GET %s served Go source", p)
			}
		}
	})

	t.Run("the page revalidates by ETag", func(t *testing.T) {
		res, _ := get(t, srv, "GET", "/")
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		res2, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if res2.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation = %d, want 304", res2.StatusCode)
		}
	})
}

// TestDevHandler serves files from disk and shows an edit on the next
// request, with nothing cached.
func TestDevHandler(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html": `<script type="importmap">{{importmap}}</script><script type="module" src="{{base}}js/app.js"></script>`,
		"sw.js":      "const ASSETS = {{assets}};",
		"js/app.js":  "export const v = 1;",
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(web.Handler(web.Options{Files: os.DirFS(dir), Dev: true}))
	defer srv.Close()
	_, page := get(t, srv, "GET", "/")
	m := assetRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page: %s", page)
	}
	if err := os.WriteFile(filepath.Join(dir, "js/app.js"), []byte("export const v = 2;"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, body := get(t, srv, "GET", "/assets/"+m[1]+"/js/app.js")
	if body != "export const v = 2;" || !strings.Contains(res.Header.Get("Cache-Control"), "no-cache") {
		t.Errorf("after an edit: %q, Cache-Control %q", body, res.Header.Get("Cache-Control"))
	}
	if _, page2 := get(t, srv, "GET", "/"); page2 == page {
		t.Error("the page names the same asset path after an edit")
	}
}
