package plugins_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// TestDebugReattach serves a plugin in debug mode (as a partner does under
// a debugger), reads the line it prints and attaches the host to it.
func TestDebugReattach(t *testing.T) {
	path, _ := pluginBinary(t, testplugin.ModeOK)
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), "CRM_PLUGIN_DEBUG=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "CRM_REATTACH_PLUGINS='"); ok {
				lines <- strings.TrimSuffix(v, "'")
				return
			}
		}
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("the plugin in debug mode printed no reattach line")
	}
	reattach, err := plugins.ParseReattach(line)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, plugins.Options{Reattach: reattach})
	if err := e.host.Start(context.Background(), []*config.Plugin{{Name: "testplugin", Read: []string{"deal"}, Write: []string{"contact"}}}); err != nil {
		t.Fatal(err)
	}
	res, err := e.host.Invoke(context.Background(), "testplugin", plugins.Call{Action: "echo", Args: map[string]any{"text": "attached"}})
	if err != nil || !strings.Contains(string(res), "attached") {
		t.Fatalf("invoke = %s, %v", res, err)
	}
	if st := e.host.Plugins()[0]; st.Source != "attached" {
		t.Fatalf("status = %+v", st)
	}
	if _, err := plugins.ParseReattach(`{"x": {"network": "carrier-pigeon"}}`); err == nil {
		t.Fatal("a bad reattach line was accepted")
	}
}
