package accounting

import (
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// TestManifestLabelledInEveryLanguage: the manifest is valid, and every
// entity, field and button the plugin adds to the UI has a label in each
// of the UI's six languages.
func TestManifestLabelledInEveryLanguage(t *testing.T) {
	sdktest.CheckManifest(t, New(), sdk.UILanguages...)
}
