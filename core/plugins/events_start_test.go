package plugins_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// TestRefusedForEventSubject: a real plugin whose manifest declares an
// event about an entity this crm does not have is refused at start-up,
// with the event and a did-you-mean; the host goes on with the others.
func TestRefusedForEventSubject(t *testing.T) {
	e := newEnv(t, plugins.Options{StartTimeout: 20 * time.Second})
	bad := thirdParty(t, "typo", testplugin.ModeBadSubject)
	good := thirdParty(t, "good", testplugin.ModeOK)
	err := e.host.Start(background(), []*config.Plugin{bad, good})
	if !errors.Is(err, plugins.ErrManifest) {
		t.Fatalf("start: %v, want a manifest error", err)
	}
	mustContain(t, "the error", err.Error(), `plugin "typo"`, `event "testplugin.serviced": subject "contcat" is not an entity of this crm; did you mean "contact"?`)
	st := e.host.Plugins()
	if st[0].State != plugins.StateFailed || st[1].State != plugins.StateRunning {
		t.Fatalf("states: %s, %s", st[0].State, st[1].State)
	}
}
