package config

import (
	"os"
	"testing"
)

// TestMain registers, as the program does at start-up, the first-party
// plugins these tests name: the static manifests of doctemplates,
// accounting and calltracking as the loader saw them before they came
// from manifests.
func TestMain(m *testing.M) {
	FirstParty = testFirstParty
	os.Exit(m.Run())
}

func testFirstParty() []FirstPartyPlugin {
	return []FirstPartyPlugin{
		{Name: "doctemplates", Entities: []string{"document_template", "document", "document_series"}},
		{Name: "accounting", Entities: []string{"invoice", "invoice_line", "payment", "payment_allocation", "product", "invoice_series", "accounting_export", "bank_line"},
			Events: []*PluginEvent{{Name: "invoice.overdue"}, {Name: "invoice.issued"}}},
		{Name: "calltracking", Entities: []string{"phone_call", "ad_campaign"},
			Events: []*PluginEvent{{Name: "call.missed"}, {Name: "call.answered"}, {Name: "call.ended"}}},
	}
}

// TestNoFirstPartyPluginsNoTable: with no first-party plugin registered,
// the loader knows none, so naming one is an error.
func TestNoFirstPartyPluginsNoTable(t *testing.T) {
	FirstParty = nil
	defer func() { FirstParty = testFirstParty }()
	cfg, diags := LoadSources(map[string][]byte{"t.hcl": []byte(`plugin "accounting" {}
rule "x" {
  on = ["invoice.overdue"]
  action "notify" {
    to      = "'owner'"
    message = "'x'"
  }
}`)})
	if !diags.HasErrors() || len(cfg.Events) != 0 {
		t.Fatalf("want errors and no events, got %v, events %v", diags, cfg.Events)
	}
	want := `unknown first-party plugin "accounting"`
	found := false
	for _, d := range diags {
		if d.Summary == want {
			found = true
		}
	}
	if !found {
		t.Fatalf("want %q among %v", want, diags)
	}
}

// An entity block named like an entity a plugin contributes adds fields to
// it, as one named like a built-in entity does: the block's fields are
// kept apart (Extends) for the app to merge after the manifest's.
func TestEntityBlockExtendsPluginEntity(t *testing.T) {
	cfg, diags := LoadSources(map[string][]byte{"t.hcl": []byte(`entity "loyalty_account" {
  field "card" { type = "string" }
}
entity "document" {
  field "vehicle" {
    type = "ref"
    to   = "vehicle"
  }
}
entity "vehicle" {}
plugin "doctemplates" {}
plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["loyalty_account"]
}`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, plugin := range map[string]string{"loyalty_account": "loyalty", "document": "doctemplates", "vehicle": ""} {
		if e := cfg.Entity(name); e == nil || e.Extends != plugin {
			t.Errorf("%s: %+v, want Extends %q", name, e, plugin)
		}
	}
}
