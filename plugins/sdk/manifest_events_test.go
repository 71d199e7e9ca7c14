package sdk_test

import (
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
)

// A bad event declaration is refused by Validate, as the host refuses it
// at start-up, saying what and where.
func TestManifestValidateEvents(t *testing.T) {
	m := sdk.Manifest{Name: "warranty", Version: "1.0.0",
		Entities: []sdk.Entity{{Name: "claim", Fields: []sdk.Field{{Name: "title", Type: sdk.TypeString}}}},
		Events: []sdk.EventSpec{
			{Name: "warranty.expired", Subject: "vehicle", Payload: []sdk.Arg{{Name: "mileage", Type: "integer"}}},
			{Name: "warranty.expired"},
			{Name: "claim.updated"},
			{Name: "expired"},
		}}
	err := m.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`event "warranty.expired": payload field "mileage": unknown type "integer"`,
		`event "warranty.expired" is declared twice`,
		`event "claim.updated": "claim.updated" is a record event of the plugin's entity "claim"`,
		`event "expired": an event is NAME.EVENT`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

// A plugin may name an event after an entity it contributes
// ("invoice.overdue"), as long as it is not a record event.
func TestManifestEventOfOwnEntity(t *testing.T) {
	m := sdk.Manifest{Name: "books", Version: "1.0.0",
		Entities: []sdk.Entity{{Name: "claim", Fields: []sdk.Field{{Name: "title", Type: sdk.TypeString}}}},
		Events:   []sdk.EventSpec{{Name: "claim.opened", Subject: "claim"}}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
}
