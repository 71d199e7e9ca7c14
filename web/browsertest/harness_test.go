package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/crmkit/crm/core/testkit"
)

const (
	installHint   = "install chromium: apt-get install -y chromium fonts-noto-core"
	adminEmail    = "admin@example.com"
	adminPassword = "browser-test-password-1"
	// wait bounds every condition the tests wait for; generous, since the
	// machine may be loaded.
	wait = 60 * time.Second
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// crmBinary builds cmd/crm once per test process.
func crmBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crm-browsertest-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "crm")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/crmkit/crm/cmd/crm").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// chromiumPath is the browser to drive; the test fails naming the install
// command when there is none, unless CRM_SKIP_BROWSER=1.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if os.Getenv("CRM_SKIP_BROWSER") == "1" {
		t.Skip("CRM_SKIP_BROWSER=1")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal(installHint)
	return ""
}

// server is a running crm serve.
type server struct {
	URL   string // http://localhost:PORT
	token string

	config, data string
	stop         func() // stops the process and waits for it
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startCRM starts crm serve on a free port with the fixture and a fresh
// data directory, and stops it when the test ends.
func startCRM(t testing.TB) *server {
	t.Helper()
	return startCRMWith(t, configDir(t))
}

// startCRMWith is startCRM with another configuration (a file or directory).
func startCRMWith(t testing.TB, config string) *server {
	t.Helper()
	s := &server{config: config, data: t.TempDir()}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(func() { s.stop() })
	var res struct{ Token string }
	s.mustAPI(t, "POST", "/api/v1/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}, &res)
	s.token = res.Token
	return s
}

// restart stops crm serve and starts it again on the same address with the
// same data: sessions and records survive, open websockets are cut.
func (s *server) restart(t testing.TB) {
	t.Helper()
	s.stop()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	s.start(t, "127.0.0.1:"+u.Port())
}

// start runs crm serve on addr and waits until it listens.
func (s *server) start(t testing.TB, addr string) {
	t.Helper()
	cmd := exec.Command(crmBinary(t), "serve", "--config", s.config, "--data", s.data, "--listen", addr)
	cmd.Env = append(os.Environ(), "CRM_ADMIN_EMAIL="+adminEmail, "CRM_ADMIN_PASSWORD="+adminPassword)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var logMu sync.Mutex
	cmd.Stderr = writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				logMu.Lock()
				t.Logf("crm serve log:\n%s", logs.String())
				logMu.Unlock()
			}
		})
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case s.URL = <-urls:
	case <-time.After(wait):
		s.stop()
		t.Fatalf("crm serve did not start within %s", wait)
	}
}

// configDir is a configuration directory: the fixture testdata/crm.hcl and
// a block for the example third-party plugin (examples/loyalty, built once
// per test process), whose record action the UI shows as a button.
func configDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	fixture, err := os.ReadFile("testdata/crm.hcl")
	if err != nil {
		t.Fatal(err)
	}
	plugin, sum := testkit.BuildPlugin(t, "./examples/loyalty")
	block := fmt.Sprintf(`plugin "loyalty" {
  path     = %q
  sha256   = %q
  entities = ["loyalty_account"]
  read     = ["contact", "deal"]
  write    = ["loyalty_account"]
  config   = { points_per = 1000, secret = "browser-test-secret" }
}
`, plugin, sum)
	if err := os.WriteFile(filepath.Join(dir, "crm.hcl"), fixture, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "loyalty.hcl"), []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// api calls the API with the admin's bearer token; it returns the status.
func (s *server) api(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	return s.apiAs(t, s.token, method, path, body, out)
}

// apiAs calls the API with another bearer token; it returns the status.
func (s *server) apiAs(t testing.TB, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return res.StatusCode
}

func (s *server) mustAPI(t testing.TB, method, path string, body, out any) {
	t.Helper()
	if st := s.api(t, method, path, body, out); st >= 300 {
		t.Fatalf("%s %s = %d", method, path, st)
	}
}

// browser starts a headless Chromium for the test; each call of session
// on it opens an isolated browser context (its own cookies).
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v (%s)", err, installHint)
	}
	return bctx
}

// session opens a tab in a fresh browser context of b. An uncaught
// JavaScript exception in the tab fails the test when it ends.
func session(t testing.TB, b context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	var (
		mu         sync.Mutex
		exceptions []string
	)
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				mu.Lock()
				exceptions = append(exceptions, fmt.Sprintf("%s (%s:%d:%d)", m.Text, m.URL, m.Line+1, m.Column+1))
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(exceptions) > 0 {
			t.Errorf("uncaught JavaScript exceptions:\n%s", strings.Join(exceptions, "\n"))
		}
	})
	tctx, cancelT := context.WithTimeout(ctx, 12*time.Minute) // the whole test; each wait is bounded by wait
	t.Cleanup(cancelT)
	return tctx
}

// run runs chromedp actions, each wait bounded, failing the test on error.
func run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ''`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, page)
	}
}

// waitJS waits until the JavaScript expression is truthy.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(wait), chromedp.WithPollingInterval(100*time.Millisecond))
}

// signIn signs in through the sign-in form and waits for the shell.
func signIn(t testing.TB, ctx context.Context, s *server) {
	t.Helper()
	signInAs(t, ctx, s, adminEmail, adminPassword)
}

// signInAs signs in as another user.
func signInAs(t testing.TB, ctx context.Context, s *server, email, password string) {
	t.Helper()
	run(t, ctx, "sign in as "+email,
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#signin-email`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#signin-password`), password),
		chromedp.Click(chromedp.CSS(`form.signin-card button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sidebar`)),
	)
}

// screenshot writes docs/screenshots/<name>.png when CRM_SCREENSHOTS=1.
func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("CRM_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// jsString quotes s for JavaScript source.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitCtx pauses briefly between checks of a condition, or returns ctx's error.
func waitCtx(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}
