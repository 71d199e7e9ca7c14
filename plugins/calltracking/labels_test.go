package calltracking

import (
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
)

// TestManifestLabelledInEveryLanguage: every entity, field and button the
// plugin adds to the UI has a label in each of the UI's six languages.
func TestManifestLabelledInEveryLanguage(t *testing.T) {
	m := New().Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, missing := range sdk.Unlabelled(m, sdk.UILanguages) {
		t.Errorf("no label: %s", missing)
	}
}
