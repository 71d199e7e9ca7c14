package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWithUI checks which paths reach the API and which the UI.
func TestWithUI(t *testing.T) {
	marker := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	srv := httptest.NewServer(withUI(marker("api"), marker("ui")))
	defer srv.Close()
	for path, want := range map[string]string{
		"/":                         "ui",
		"/records/contact/01ABC":    "ui",
		"/assets/abc/js/app.js":     "ui",
		"/sw.js":                    "ui",
		"/apiary":                   "ui",
		"/api":                      "api",
		"/api/v1/schema":            "api",
		"/api/v1/ws":                "api",
		"/hooks/calltracking/x":     "api",
		"/healthz":                  "api",
		"/metrics":                  "api",
		"/api/v1/records/contact/x": "api",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != want {
			t.Errorf("%s went to %s, want %s", path, b, want)
		}
	}
	if h := withUI(marker("api"), nil); h == nil {
		t.Fatal("withUI without a UI returned nil")
	}
}
