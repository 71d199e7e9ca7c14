package plugins_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// builtinModes are the first-party plugins this test binary serves when the
// host re-executes it as `TEST_BINARY plugin serve NAME`.
var builtinModes = map[string]string{
	"testplugin":   testplugin.ModeOK,
	"exit_builtin": testplugin.ModeExit,
}

var binDir string

func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		mode, ok := builtinModes[os.Args[3]]
		if !ok {
			fmt.Fprintf(os.Stderr, "no built-in plugin %q\n", os.Args[3])
			os.Exit(2)
		}
		testplugin.Main(mode)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "crm-testplugin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// pluginBinary builds the test plugin in a mode (once per test binary) and
// returns its path and SHA-256.
func pluginBinary(t testing.TB, mode string) (string, string) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	path, ok := built[mode]
	if !ok {
		path = filepath.Join(binDir, "testplugin-"+mode)
		cmd := exec.Command("go", "build", "-ldflags", "-X main.mode="+mode, "-o", path, "./internal/testplugin/cmd")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build the test plugin (%s): %v\n%s", mode, err, out)
		}
		built[mode] = path
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return path, hex.EncodeToString(sum[:])
}

// env is a real store over a small schema, and a host for it.
type env struct {
	store *store.Badger
	sch   *schema.Schema
	host  *plugins.Host
	log   *testkit.LogBuffer
}

const testConfig = `
entity "contact" {
  field "contract" { type = "file" }
}
`

func newEnv(t testing.TB, opts plugins.Options) *env {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(testConfig)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{Logger: quiet, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	var w io.Writer = logs
	if os.Getenv("CRM_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	opts.Store, opts.Schema = st, sch
	opts.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{store: st, sch: sch, host: plugins.New(opts), log: logs}
	t.Cleanup(func() {
		e.host.Close()
		st.Close()
	})
	return e
}

// thirdParty is a plugin block for the test plugin built in a mode.
func thirdParty(t testing.TB, name, mode string) *config.Plugin {
	path, sum := pluginBinary(t, mode)
	return &config.Plugin{
		Name: name, Path: path, SHA256: sum,
		Read: []string{"deal"}, Write: []string{"contact"},
		Config: map[string]any{"greeting": "hi", "limit": int64(3)},
	}
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func background() context.Context { return context.Background() }
