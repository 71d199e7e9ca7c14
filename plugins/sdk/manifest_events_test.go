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

// A list button's action is called with no record: a scope other than
// record or list, and a list button on an action bound to entities' records,
// are refused, naming the button.
func TestManifestValidateUIScopes(t *testing.T) {
	m := sdk.Manifest{Name: "docs", Version: "1.0.0",
		Actions: []sdk.Action{
			{Name: "upload", Args: []sdk.Arg{{Name: "file", Type: sdk.TypeFile, Required: true}}},
			{Name: "stamp", Entities: []string{"deal"}},
		},
		UIActions: []sdk.UIAction{
			{Entity: "template", Action: "upload", Label: "Upload", Scope: sdk.ScopeList},
			{Entity: "deal", Action: "stamp", Label: "Stamp"},
			{Entity: "deal", Action: "stamp", Label: "Stamp", Scope: sdk.ScopeRecord},
		}}
	if err := m.Validate(); err != nil {
		t.Fatalf("a list button and record buttons: %v", err)
	}
	m.UIActions = []sdk.UIAction{
		{Entity: "deal", Action: "stamp", Label: "Stamp all", Scope: sdk.ScopeList},
		{Entity: "template", Action: "upload", Label: "Upload", Scope: "page"},
	}
	err := m.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`ui action "stamp" on the deal list: the action works on a record of deal, but a list button calls it with none`,
		`ui action "upload": scope "page": want "record" (a button on each record's page) or "list"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

// An object field is a manifest's to declare, but not indexed or unique,
// and not in an event's payload.
func TestManifestValidateObjectFields(t *testing.T) {
	ok := sdk.Manifest{Name: "calls", Version: "1.0.0",
		Entities: []sdk.Entity{{Name: "call", Fields: []sdk.Field{{Name: "card", Type: sdk.TypeObject}}}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("an object field: %v", err)
	}
	bad := sdk.Manifest{Name: "calls", Version: "1.0.0",
		Entities: []sdk.Entity{{Name: "call", Fields: []sdk.Field{{Name: "card", Type: sdk.TypeObject, Index: true}}}},
		Events:   []sdk.EventSpec{{Name: "calls.missed", Payload: []sdk.Arg{{Name: "card", Type: sdk.TypeObject}}}}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`field "card": an object field cannot be indexed or unique`, `payload field "card": unknown type "object"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nsays nothing like %s", err, want)
		}
	}
}

// TestManifestValidateItemsSearchButtonArgs: an object argument's items
// are fields of field types; items only on an object; search only on a
// text field; a button names arguments its action has.
func TestManifestValidateItemsSearchButtonArgs(t *testing.T) {
	m := sdk.Manifest{Name: "acc", Version: "1.0.0",
		Actions: []sdk.Action{{Name: "pay", Args: []sdk.Arg{
			{Name: "amount", Type: sdk.TypeMoney},
			{Name: "allocations", Type: sdk.TypeObject, Items: []sdk.Arg{
				{Name: "invoice", Type: sdk.TypeRef, To: "invoice", Required: true}, {Name: "amount", Type: sdk.TypeMoney}}},
		}}},
		Entities:  []sdk.Entity{{Name: "invoice", Fields: []sdk.Field{{Name: "number", Type: sdk.TypeString, Search: true}}}},
		UIActions: []sdk.UIAction{{Entity: "company", Action: "pay", Label: "Pay", Args: []string{"amount", "allocations"}}},
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("a valid manifest: %v", err)
	}
	m.Actions[0].Args = append(m.Actions[0].Args,
		sdk.Arg{Name: "lines", Type: sdk.TypeObject, Items: []sdk.Arg{{Name: "nested", Type: sdk.TypeObject}, {Name: "p", Type: sdk.TypeRef}}},
		sdk.Arg{Name: "note", Type: sdk.TypeString, Items: []sdk.Arg{{Name: "x", Type: sdk.TypeString}}})
	m.Entities[0].Fields = append(m.Entities[0].Fields, sdk.Field{Name: "total", Type: sdk.TypeMoney, Search: true})
	m.UIActions[0].Args = []string{"amount", "nosuch"}
	err := m.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`argument "lines": item field "nested": unknown type "object"`,
		`argument "lines": item field "p": a ref needs the entity it points to`,
		`argument "note": only an object argument has items`,
		`field "total": search is for a field of type`,
		`ui action "pay" on company: the action has no argument "nosuch"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}
