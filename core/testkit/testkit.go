// Package testkit runs the real product for tests: a real server on a
// loopback port over a real Badger store in a temporary directory, the
// built crm binary, and a table runner for API scenarios. It is imported
// only by tests.
package testkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/core/app"
)

// AdminEmail and AdminPassword are the first admin of every test server.
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "correct horse battery"
)

// Server is a running crm server for one test.
type Server struct {
	URL        string
	App        *app.App
	AdminToken string
	DataDir    string
	client     *http.Client
}

// Start loads the HCL sources given (file name -> text), opens a store in a
// temporary directory and serves the API on a loopback port until the test
// ends, when it shuts down as on SIGTERM.
func Start(t testing.TB, files map[string]string) *Server {
	t.Helper()
	src := map[string][]byte{}
	for name, text := range files {
		src[name] = []byte(text)
	}
	cfg, sch, set, diags := app.CheckSources(src)
	if diags.HasErrors() {
		t.Fatalf("test config: %v", diags)
	}
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("CRM_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	a, err := app.Open(cfg, sch, set, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.Serve(ctx, app.ServeOptions{
			Listen: "127.0.0.1:0", AdminEmail: AdminEmail, AdminPassword: AdminPassword,
			Ready: func(addr string) { ready <- addr },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	s := &Server{URL: "http://" + addr, App: a, DataDir: dir, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	s.AdminToken = s.Login(t, AdminEmail, AdminPassword)
	return s
}

// Login logs in and returns the session token.
func (s *Server) Login(t testing.TB, email, password string) string {
	t.Helper()
	res := s.Do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if res.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	return res.JSON["token"].(string)
}

// AddUser creates a user with a role and returns an API token for it.
func (s *Server) AddUser(t testing.TB, email, role string) (id, token string) {
	t.Helper()
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, email, email, role, "password-of-"+email)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.App.Auth.CreateToken(ctx, u.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, secret
}

// Response is an answer of the API.
type Response struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

// Decode unmarshals the response body into v, failing the test when it is
// not JSON of that shape.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decode a %d response: %v\n%s", r.Status, err, r.Body)
	}
}

// Do sends a request with a bearer token (none if token is ""); body is
// marshalled as JSON unless it is a string or []byte, sent as is.
func (s *Server) Do(t testing.TB, method, path, token string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
	_ = json.Unmarshal(raw, &out.JSON)
	return out
}

// Scenario is one API call and what its answer must be.
type Scenario struct {
	Name        string
	Method      string
	Path        string
	Token       string
	Body        any
	Headers     []string // name, value, name, value...
	Status      int
	Contains    []string // fragments the body must contain
	NotContains []string // fragments it must not contain
}

// Run runs scenarios in order as subtests.
func (s *Server) Run(t *testing.T, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			res := s.Do(t, sc.Method, sc.Path, sc.Token, sc.Body, sc.Headers...)
			if res.Status != sc.Status {
				t.Fatalf("%s %s: status %d, want %d; body %s", sc.Method, sc.Path, res.Status, sc.Status, res.Body)
			}
			for _, frag := range sc.Contains {
				if !strings.Contains(res.Body, frag) {
					t.Errorf("%s %s: body lacks %q: %s", sc.Method, sc.Path, frag, res.Body)
				}
			}
			for _, frag := range sc.NotContains {
				if strings.Contains(res.Body, frag) {
					t.Errorf("%s %s: body has %q: %s", sc.Method, sc.Path, frag, res.Body)
				}
			}
		})
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/crm once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crm-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "crm")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/crm")
		cmd.Dir = RepoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	if buildErr != nil {
		t.Fatalf("build crm: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AdminUserID is the id of the first admin.
func (s *Server) AdminUserID(t testing.TB) string {
	t.Helper()
	u, err := s.App.Auth.UserByEmail(context.Background(), AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

var (
	pluginsMu    sync.Mutex
	pluginBuilds = map[string]builtPlugin{}
)

type builtPlugin struct{ path, sum string }

// BuildPlugin builds the plugin program in pkg (relative to the
// repository, e.g. "./core/plugins/internal/testplugin/cmd" or
// "./examples/loyalty") once per test process, and returns its path and the
// hex SHA-256 a plugin block names it by.
func BuildPlugin(t testing.TB, pkg string) (path, sha256Hex string) {
	t.Helper()
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	if b, ok := pluginBuilds[pkg]; ok {
		return b.path, b.sum
	}
	dir, err := os.MkdirTemp("", "crm-plugin-")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", path, pkg)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	pluginBuilds[pkg] = builtPlugin{path: path, sum: hex.EncodeToString(sum[:])}
	return path, pluginBuilds[pkg].sum
}
