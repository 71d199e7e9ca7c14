package rules

import (
	"os"
	"testing"

	"github.com/crmkit/crm/config"
)

// TestMain registers the first-party plugins these tests name, as the
// program does at start-up from the plugins' manifests: doctemplates,
// accounting and calltracking (untyped events) and warranty, whose events
// are typed.
func TestMain(m *testing.M) {
	config.FirstParty = testFirstParty
	os.Exit(m.Run())
}

func testFirstParty() []config.FirstPartyPlugin {
	return []config.FirstPartyPlugin{
		{Name: "doctemplates", Entities: []string{"document_template", "document", "document_series"}},
		{Name: "accounting", Entities: []string{"invoice", "invoice_line", "payment", "payment_allocation", "product", "invoice_series", "accounting_export", "bank_line"},
			Events: []*config.PluginEvent{{Name: "invoice.overdue"}}},
		{Name: "calltracking", Events: []*config.PluginEvent{{Name: "call.missed"}, {Name: "call.answered"}, {Name: "call.ended"}}},
		{Name: "warranty", Events: []*config.PluginEvent{
			{Name: "warranty.expired", Typed: true, Subject: "vehicle", Payload: []*config.Field{
				{Name: "mileage", Type: config.TypeInt, Required: true},
				{Name: "reason", Type: config.TypeEnum, Values: []string{"age", "mileage"}},
				{Name: "ends", Type: config.TypeDate},
				{Name: "refund", Type: config.TypeMoney},
				{Name: "dealer", Type: config.TypeRef, To: "contact"},
			}},
			{Name: "warranty.claimed", Typed: true, Subject: "deal", Payload: []*config.Field{
				{Name: "claim", Type: config.TypeString, Required: true},
				{Name: "cost", Type: config.TypeMoney},
			}},
			{Name: "warranty.reminder", Typed: true, Payload: []*config.Field{{Name: "note", Type: config.TypeString}}},
		}},
	}
}
