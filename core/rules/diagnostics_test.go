package rules

import (
	"strings"
	"testing"
)

// notifyOwner is an action that compiles in any rule about an entity.
const notifyOwner = `
  action "notify" {
    to      = "record.owner"
    message = "'hello'"
  }`

// onRule is a rule on events with a when and the actions given.
func onRule(events, when, actions string) string {
	return "rule \"r\" {\n  on   = [" + events + "]\n  when = \"" + when + "\"" + actions + "\n}\n"
}

func TestDiagnostics(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules string
		want  []string
	}{
		{"unknown field", onRule(`"deal.updated"`, "record.amout > 1", notifyOwner),
			[]string{`rules.hcl:3:18: error: unknown field "amout" of deal; did you mean "amount"?`}},
		{"type mismatch", onRule(`"deal.updated"`, "record.amount.amount > 'x'", notifyOwner),
			[]string{`rules.hcl:3:32: error: invalid operation: > (mismatched types float and string)`}},
		{"unknown function", onRule(`"deal.updated"`, "fromat_date(now(), 'jalali', 'yyyy') == ''", notifyOwner),
			[]string{`rules.hcl:3:11: error: unknown function "fromat_date"; did you mean "format_date"?`}},
		{"unknown variable", onRule(`"deal.updated"`, "recrod.title == ''", notifyOwner),
			[]string{`rules.hcl:3:11: error: unknown name "recrod"; did you mean "record"?`}},
		{"when not boolean", onRule(`"deal.updated"`, "record.title", notifyOwner),
			[]string{`rules.hcl:3:11: error: when must be a boolean expression, got string`}},
		{"syntax error", onRule(`"deal.updated"`, "record.title ==", notifyOwner),
			[]string{`rules.hcl:3:25: error: unexpected token EOF`}},
		{"unknown field of old", onRule(`"deal.updated"`, "old.stge != record.stage", notifyOwner),
			[]string{`rules.hcl:3:15: error: unknown field "stge" of deal; did you mean "stage"?`}},
		{"unknown field of user", onRule(`"deal.updated"`, "user.rol == 'admin'", notifyOwner),
			[]string{`rules.hcl:3:16: error: unknown field "rol" of user; did you mean "role"?`}},
		{"unknown field of money", onRule(`"deal.updated"`, "record.amount.amont > 5", notifyOwner),
			[]string{`rules.hcl:3:25: error: unknown field "amont" of money; did you mean "amount"?`}},
		{"related unknown ref", onRule(`"deal.updated"`, "related('contct').name == ''", notifyOwner),
			[]string{`rules.hcl:3:19: error: unknown ref field "contct" of deal; did you mean "contact"?`}},
		{"related not a literal", onRule(`"deal.updated"`, "related(record.title) == nil", notifyOwner),
			[]string{`rules.hcl:3:19: error: related takes names in quotes; e.g. related('contact')`}},
		{"field of related record", onRule(`"deal.updated"`, "related('contact').nmae == ''", notifyOwner),
			[]string{`rules.hcl:3:30: error: unknown field "nmae" of contact; did you mean "name"?`}},
		{"count_related ambiguous", onRule(`"contact.updated"`, "count_related('vehicle') > 0", notifyOwner),
			[]string{`rules.hcl:3:25: error: vehicle has several ref fields to contact: buyer, seller; name one as the third argument, e.g. count_related('vehicle', "", 'buyer')`}},
		{"count_related no ref", onRule(`"contact.updated"`, "count_related('task', '', 'deal') > 0", notifyOwner),
			[]string{`rules.hcl:3:37: error: task has no ref field "deal" to contact; ref fields: contact`}},
		{"count_related filter", onRule(`"contact.updated"`, `count_related('deal', \"stge == 'won'\") > 0`, notifyOwner),
			[]string{`rules.hcl:3:35: error: unknown field "stge" of deal; did you mean "stage"?`}},
		{"bad duration", onRule(`"deal.updated"`, "since(record.updated_at) > duration('3x')", notifyOwner),
			[]string{`rules.hcl:3:47: error: invalid duration "3x"; a duration is numbers with units, e.g. "72h", "30m", "3d" or "1d12h"`}},
		{"unknown calendar", onRule(`"contact.updated"`, "format_date(record.birthday, 'jalai', 'yyyy') == ''", notifyOwner),
			[]string{`rules.hcl:3:40: error: unknown calendar "jalai"; did you mean "jalali"?`}},
		{"function argument type", onRule(`"deal.updated"`, "since('yesterday') > duration('1h')", notifyOwner),
			[]string{`rules.hcl:3:17: error: cannot use string as argument (type time) to call since`}},
		{"hidden name", onRule(`"deal.updated"`, "__rt != nil", notifyOwner),
			[]string{`rules.hcl:3:11: error: unknown name "__rt"`}},
		{"$env", onRule(`"deal.updated"`, "$env.record.amout > 1", notifyOwner),
			[]string{`rules.hcl:3:11: error: $env is not available in rules; name record, old, user or event instead, so that the names are checked`}},
		{"events of two entities", onRule(`"deal.updated", "contact.created"`, "true", notifyOwner),
			[]string{`rules.hcl:2:27: error: rule "r" has events of deal and of contact; a rule is about the records of one entity, whose fields its expressions use; write one rule per entity`}},
		{"related without an entity", onRule(`"call.missed"`, "related('contact') != nil", notifyOwner),
			[]string{`rules.hcl:3:11: error: related needs a rule about the records of an entity`}},
		{"argument type", onRule(`"deal.created"`, "true", `
  action "create_task" {
    title = "1 + 2"
  }`), []string{`rules.hcl:5:14: error: title: expected a string, got int`}},
		{"unknown argument", onRule(`"deal.created"`, "true", `
  action "create_task" {
    title = "'Call'"
    titel = "now()"
  }`), []string{`rules.hcl:6:5: error: unknown argument "titel" of create_task; did you mean "title"?`}},
		{"missing argument", onRule(`"deal.created"`, "true", `
  action "notify" {
    to = "record.owner"
  }`), []string{`rules.hcl:4:3: error: missing argument "message" of notify`}},
		{"notify to", onRule(`"deal.created"`, "true", `
  action "notify" {
    to      = "record.version"
    message = "'x'"
  }`), []string{`rules.hcl:5:16: error: to: expected a string or a list of strings, got int`}},
		{"notify channel", onRule(`"deal.created"`, "true", `
  action "notify" {
    to      = "['role:sales', record.owner]"
    message = "'x'"
    channel = "'sms'"
  }`), []string{`rules.hcl:7:16: error: channel: "sms" is not one of the channels; channels: app, email`}},
		{"webhook timeout", onRule(`"deal.created"`, "true", `
  action "webhook" {
    url     = "'https://example.com/hook'"
    timeout = "'10s'"
  }`), []string{`rules.hcl:6:16: error: timeout: expected a duration, got string`}},
		{"set unknown field", onRule(`"deal.updated"`, "true", `
  action "set" {
    stge = "'won'"
  }`), []string{`rules.hcl:5:5: error: unknown field "stge" of deal; did you mean "stage"?`}},
		{"set wrong type", onRule(`"deal.updated"`, "true", `
  action "set" {
    amount = "1500"
  }`), []string{`rules.hcl:5:15: error: amount: expected a money value, got int`}},
		{"set stage", onRule(`"deal.updated"`, "true", `
  action "set" {
    stage = "'wn'"
  }`), []string{`rules.hcl:5:14: error: stage: "wn" is not one of the stages of deal; did you mean "won"?`}},
		{"set system field", onRule(`"deal.updated"`, "true", `
  action "set" {
    id = "'x'"
  }`), []string{`rules.hcl:5:5: error: field "id" of deal cannot be set; of the system fields, only owner may be set`}},
		{"set without entity", onRule(`"call.missed"`, "true", `
  action "set" {
    title = "'x'"
  }`), []string{`rules.hcl:4:3: error: set needs a rule about the records of an entity; set changes fields of the rule's record`}},
		{"create_record unknown entity", onRule(`"deal.created"`, "true", `
  action "create_record" {
    entity = "'vehicel'"
  }`), []string{`rules.hcl:5:15: error: unknown entity "vehicel"; did you mean "vehicle"?`}},
		{"create_record entity not literal", onRule(`"deal.created"`, "true", `
  action "create_record" {
    entity = "record.title"
  }`), []string{`rules.hcl:5:15: error: entity must name an entity in quotes; e.g. entity = "'task'"`}},
		{"create_record fields", onRule(`"contact.created"`, "true", `
  action "create_record" {
    entity = "'vehicle'"
    status = "'sld'"
    buyer  = "record.id"
  }`), []string{
			`rules.hcl:4:3: error: create_record of vehicle lacks required field: vin`,
			`rules.hcl:6:15: error: status: "sld" is not one of the values of vehicle.status; did you mean "sold"?`,
		}},
		{"filter", `
rule "r" {
  every    = "1h"
  for_each = "deal"
  filter   = "stge == 'new'"
  action "notify" {
    to      = "record.owner"
    message = "'x'"
  }
}
`, []string{`rules.hcl:5:15: error: unknown field "stge" of deal; did you mean "stage"?`}},
		{"filter not boolean", `
rule "r" {
  every    = "1h"
  for_each = "deal"
  filter   = "title"
  action "notify" {
    to      = "record.owner"
    message = "'x'"
  }
}
`, []string{`rules.hcl:5:15: error: filter must be a boolean expression, got string`}},
		{"heredoc", `
rule "r" {
  on   = ["deal.updated"]
  when = <<-EOT
    record.stage == 'won' &&
      record.amout > 1
  EOT
` + notifyOwner + `
}
`, []string{`rules.hcl:6:14: error: unknown field "amout" of deal; did you mean "amount"?`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := compileRules(t, c.rules)
			got := formatDiags(diags)
			if want := strings.Join(c.want, "\n"); got != want {
				t.Errorf("rules:\n%s\n got:\n%s\nwant:\n%s", c.rules, got, want)
			}
		})
	}
}
