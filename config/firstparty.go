package config

// firstParty is what the loader knows of the plugins built into the binary
// before any plugin runs: the entities each contributes (so that roles and
// rules may name them) and the events each emits. Their actions are checked
// against their manifests later, by the rules package.
var firstParty = map[string]struct{ entities, events []string }{
	"doctemplates": {entities: []string{"document_template", "document"}},
	"accounting": {
		entities: []string{"invoice", "invoice_line", "payment", "product"},
		events:   []string{"invoice.overdue"},
	},
	"calltracking": {events: []string{"call.missed", "call.answered", "call.ended"}},
}

// firstPartyNames lists the first-party plugins in the order messages give them.
var firstPartyNames = []string{"doctemplates", "accounting", "calltracking"}

// recordEvents are the events every entity's records emit.
var recordEvents = []string{"created", "updated", "deleted", "stage_changed"}

// actionKinds are the built-in rule actions; a plugin's action is "PLUGIN.ACTION".
var actionKinds = []string{"set", "create_record", "create_task", "notify", "webhook"}

// pluginOfEvent returns the first-party plugin that emits event, or "".
func pluginOfEvent(event string) string {
	for name, p := range firstParty {
		for _, ev := range p.events {
			if ev == event {
				return name
			}
		}
	}
	return ""
}
