package sdktest

import (
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
)

// CheckManifest fails t when the plugin's manifest is one the host would
// refuse (sdk.Manifest.Validate), or when an entity, field or button it
// adds to the UI lacks a label in one of langs (sdk.Unlabelled; a
// first-party plugin passes sdk.UILanguages, so that a Persian or Armenian
// user sees no English in it).
func CheckManifest(t testing.TB, p sdk.Plugin, langs ...string) {
	t.Helper()
	m := p.Manifest()
	if err := m.Validate(); err != nil {
		t.Fatalf("manifest of %s: %v", m.Name, err)
	}
	for _, missing := range sdk.Unlabelled(m, langs) {
		t.Errorf("manifest of %s: no label: %s", m.Name, missing)
	}
}
