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
		{Name: "accounting", Entities: []string{"invoice", "invoice_line", "payment", "product"},
			Events: []*PluginEvent{{Name: "invoice.overdue"}}},
		{Name: "calltracking", Events: []*PluginEvent{{Name: "call.missed"}, {Name: "call.answered"}, {Name: "call.ended"}}},
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
