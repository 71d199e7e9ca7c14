package plugins_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// TestReloadPluginBlocks changes the plugin blocks of a running host: an
// unchanged block leaves its process alone, a changed one is started under
// the new block beside the old process and put in its place (new config
// through Configure, new permissions), a call in flight on the old process
// ends first, a block that does not start is refused with the old process
// running on, and blocks are added and removed.
func TestReloadPluginBlocks(t *testing.T) {
	e := newEnv(t, plugins.Options{})
	v1 := thirdParty(t, "tp", testplugin.ModeOK)
	if err := e.host.Start(background(), []*config.Plugin{v1}); err != nil {
		t.Fatal(err)
	}
	status := func(name string) plugins.Status {
		t.Helper()
		for _, s := range e.host.Plugins() {
			if s.Name == name {
				return s
			}
		}
		t.Fatalf("no plugin %s in %+v", name, e.host.Plugins())
		return plugins.Status{}
	}
	apply := func(cfgs ...*config.Plugin) *plugins.Change {
		t.Helper()
		c := e.host.Prepare(background(), cfgs)
		if len(c.Failed) > 0 {
			t.Fatalf("prepare: %v", c.Failed)
		}
		if err := c.Apply(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	createContact := func() map[string]any {
		return invoke(t, e, "tp", plugins.Call{Action: "create",
			Args: map[string]any{"entity": "contact", "values": map[string]any{"name": "Reload"}}})
	}
	pid := status("tp").PID

	t.Run("an unchanged block is not restarted", func(t *testing.T) {
		same := *v1
		same.Range.Start.Line = 42 // moved in its file
		c := apply(&same)
		if !c.Empty() || status("tp").PID != pid || status("tp").Restarts != 0 {
			t.Fatalf("change %+v, status %+v", c, status("tp"))
		}
	})

	v2 := *v1
	v2.Config = map[string]any{"greeting": "hello", "limit": int64(5)}
	t.Run("a changed config restarts the plugin with it; a call in flight ends first", func(t *testing.T) {
		slept := make(chan error, 1)
		calls := callsReached(t, e, "tp")
		go func() {
			_, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "sleep", Args: map[string]any{"ms": 700}})
			slept <- err
		}()
		waitCallsReached(t, e, "tp", calls+1) // the old process has it
		c := apply(&v2)
		if !slices.Equal(c.Changed, []string{"tp"}) || len(c.Added)+len(c.Removed) != 0 {
			t.Fatalf("change %+v", c)
		}
		if err := <-slept; err != nil {
			t.Fatalf("the call in flight on the old process: %v", err)
		}
		out := invoke(t, e, "tp", plugins.Call{Action: "config"})
		if out["greeting"] != "hello" || out["limit"] != float64(5) {
			t.Fatalf("config after reload: %v", out)
		}
		st := status("tp")
		if st.PID == pid || st.State != plugins.StateRunning || st.Restarts != 1 {
			t.Fatalf("status %+v (old pid %d)", st, pid)
		}
		pid = st.PID
	})

	t.Run("changed permissions apply", func(t *testing.T) {
		if out := createContact(); out["record"] == nil {
			t.Fatalf("write contact before: %v", out)
		}
		noWrite := v2
		noWrite.Write = nil
		apply(&noWrite)
		if out := createContact(); out["denied"] != true {
			t.Fatalf("write contact after write = []: %v", out)
		}
		apply(&v2)
		if out := createContact(); out["record"] == nil {
			t.Fatalf("write contact after write = [contact] again: %v", out)
		}
		pid = status("tp").PID
	})

	t.Run("a wrong sha256 is refused and the old process runs on", func(t *testing.T) {
		bad := v2
		bad.SHA256 = strings.Repeat("0", 64)
		bad.Config = map[string]any{"greeting": "never"}
		c := e.host.Prepare(background(), []*config.Plugin{&bad})
		if err := c.Failed["tp"]; !errors.Is(err, plugins.ErrChecksum) {
			t.Fatalf("failed: %v", c.Failed)
		}
		if err := c.Apply(); err == nil {
			t.Fatal("a change with failures was applied")
		}
		if st := status("tp"); st.PID != pid || st.State != plugins.StateRunning {
			t.Fatalf("status %+v, want pid %d running", st, pid)
		}
		if out := invoke(t, e, "tp", plugins.Call{Action: "config"}); out["greeting"] != "hello" {
			t.Fatalf("config: %v", out)
		}
	})

	t.Run("a config the plugin refuses is refused", func(t *testing.T) {
		bad := v2
		bad.Config = map[string]any{"refuse": true}
		c := e.host.Prepare(background(), []*config.Plugin{&bad})
		if err := c.Failed["tp"]; err == nil || !strings.Contains(err.Error(), "refuse = true") {
			t.Fatalf("failed: %v", c.Failed)
		}
		c.Discard()
		if st := status("tp"); st.PID != pid {
			t.Fatalf("status %+v", st)
		}
	})

	t.Run("blocks are added and removed", func(t *testing.T) {
		other := thirdParty(t, "other", testplugin.ModeOK)
		c := apply(&v2, other)
		if !slices.Equal(c.Added, []string{"other"}) || len(c.Changed) != 0 || status("tp").PID != pid {
			t.Fatalf("change %+v", c)
		}
		if out := invoke(t, e, "other", plugins.Call{Action: "echo"}); out == nil {
			t.Fatal("no answer from the added plugin")
		}
		c = apply(other)
		if !slices.Equal(c.Removed, []string{"tp"}) {
			t.Fatalf("change %+v", c)
		}
		if _, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "echo"}); !errors.Is(err, plugins.ErrUnknown) {
			t.Fatalf("call to a removed plugin: %v", err)
		}
		if names := len(e.host.Plugins()); names != 1 {
			t.Fatalf("plugins %+v", e.host.Plugins())
		}
	})
}
