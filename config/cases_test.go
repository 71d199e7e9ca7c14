package config

// errorCases are configurations with one mistake each, and the diagnostic
// lines (FormatDiagnostic) that loading each must give, in order. The fuzz
// target uses their sources as seeds.
var errorCases = []struct {
	name string
	src  string
	want []string
}{
	{"unknown argument", `
entity "car" {
  field "vin" {
    type    = "string"
    requred = true
  }
}`, []string{
		`t.hcl:5:5: error: Unsupported argument; An argument named "requred" is not expected here. Did you mean "required"?`,
	}},
	{"labels in a language the locale lacks", `locale { languages = ["en", "hy"] }
entity "car" {
  label  = "Car"
  labels = { hy = "Մեքենա", de = "Auto" }
}`, []string{
		`t.hcl:4:29: error: unknown language "de" in the labels of entity "car"; the locale's languages: en, hy`,
	}},
	{"unknown block", `entiy "car" {}`, []string{
		`t.hcl:1:1: error: Unsupported block type; Blocks of type "entiy" are not expected here. Did you mean "entity"?`,
	}},
	{"unknown field type near", `entity "car" {
  field "vin" { type = "strng" }
}`, []string{
		`t.hcl:2:24: error: unknown field type "strng"; did you mean "string"?`,
	}},
	{"unknown field type far", `entity "car" {
  field "vin" { type = "vector" }
}`, []string{
		`t.hcl:2:24: error: unknown field type "vector"; valid types: string, text, int, decimal, money, bool, date, datetime, enum, email, phone, url, ref, user, file, object`,
	}},
	{"object indexed", `entity "car" {
  field "spec" {
    type  = "object"
    index = true
  }
}`, []string{
		`t.hcl:4:13: error: field "spec" of type object cannot be indexed; an object (a JSON object, as a plugin writes one) is not indexed, searched or sorted on`,
	}},
	{"missing type", `entity "car" {
  field "vin" {}
}`, []string{
		`t.hcl:2:15: error: Missing required argument; The argument "type" is required, but no definition was found.`,
	}},
	{"enum without values", `entity "car" {
  field "status" { type = "enum" }
}`, []string{
		`t.hcl:2:27: error: enum field "status" has no values; list them, e.g. values = ["new", "done"]`,
	}},
	{"enum empty values", `entity "car" {
  field "status" {
    type   = "enum"
    values = []
  }
}`, []string{
		`t.hcl:4:14: error: enum field "status" has no values; list them, e.g. values = ["new", "done"]`,
	}},
	{"enum duplicate value", `entity "car" {
  field "status" {
    type   = "enum"
    values = ["new", "sold", "new"]
  }
}`, []string{
		`t.hcl:4:30: error: duplicate value "new" in enum field "status"; first given at t.hcl:4`,
	}},
	{"values on non-enum", `entity "car" {
  field "status" {
    type   = "string"
    values = ["a"]
  }
}`, []string{
		`t.hcl:4:14: error: values is only for enum fields; field "status" has type "string"`,
	}},
	{"ref without to", `entity "car" {
  field "buyer" { type = "ref" }
}`, []string{
		`t.hcl:2:26: error: ref field "buyer" has no to; name the entity it points at, e.g. to = "contact"`,
	}},
	{"to on non-ref", `entity "car" {
  field "buyer" {
    type = "string"
    to   = "contact"
  }
}`, []string{
		`t.hcl:4:12: error: to is only for ref fields; field "buyer" has type "string"`,
	}},
	{"to unknown entity", `entity "car" {
  field "buyer" {
    type = "ref"
    to   = "contat"
  }
}`, []string{
		`t.hcl:4:12: error: ref field "buyer" points at unknown entity "contat"; did you mean "contact"?`,
	}},
	{"reserved field", `entity "car" {
  field "owner" { type = "user" }
}`, []string{
		`t.hcl:2:9: error: field name "owner" is reserved; every record has these system fields: id, entity, version, created_at, updated_at, created_by, owner`,
	}},
	{"invalid entity name", `entity "Car" {}`, []string{
		`t.hcl:1:8: error: invalid entity name "Car"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"invalid field name", `entity "car" {
  field "2door" { type = "bool" }
}`, []string{
		`t.hcl:2:9: error: invalid field name "2door"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"duplicate entity", `entity "car" {}
entity "car" {}`, []string{
		`t.hcl:2:8: error: duplicate entity "car"; first defined at t.hcl:1`,
	}},
	{"duplicate field", `entity "car" {
  field "vin" { type = "string" }
  field "vin" { type = "string" }
}`, []string{
		`t.hcl:3:9: error: duplicate field "vin" in entity "car"; first defined at t.hcl:2`,
	}},
	{"field built into contact, another type", `entity "contact" {
  field "email" { type = "string" }
}`, []string{
		`t.hcl:2:9: error: field "email" is built into contact with type email, not string; repeat it with type = "email", or name your field otherwise`,
	}},
	{"field built into contact, made required", `entity "contact" {
  field "email" {
    type     = "email"
    required = true
  }
}`, []string{
		`t.hcl:2:9: error: field "email" is built into contact; a repeat may change only its label, index and search`,
	}},
	{"search on a number", `entity "car" {
  field "mileage" {
    type   = "int"
    search = true
  }
}`, []string{
		`t.hcl:4:14: error: field "mileage" of type int cannot be searched; search = true is for fields of type string, text, email, phone, url, enum`,
	}},
	{"field built into deal, another ref target", `entity "deal" {
  field "contact" {
    type = "ref"
    to   = "company"
  }
}`, []string{
		`t.hcl:2:9: error: field "contact" is built into deal as a ref to contact, not to company`,
	}},
	{"string where bool", `entity "car" {
  field "vin" {
    type     = "string"
    required = "yes"
  }
}`, []string{
		"t.hcl:4:16: error: required must be true or false",
	}},
	{"list where string", `entity "car" {
  field "vin" { type = ["string"] }
}`, []string{
		"t.hcl:2:24: error: type must be a string",
	}},
	{"pipeline unknown entity", `pipeline "service" {
  entity = "vehicel"
  stages = ["in", "out"]
}
entity "vehicle" {}`, []string{
		`t.hcl:2:12: error: pipeline "service" is for unknown entity "vehicel"; did you mean "vehicle"?`,
	}},
	{"pipeline no stages", `pipeline "service" {
  entity = "deal"
  stages = []
}`, []string{
		`t.hcl:3:12: error: pipeline "service" has no stages; list them, e.g. stages = ["new", "won", "lost"]`,
	}},
	{"pipeline duplicate stage", `pipeline "service" {
  entity = "deal"
  stages = ["in", "out", "in"]
}`, []string{
		`t.hcl:3:26: error: duplicate stage "in" in pipeline "service"; first given at t.hcl:3`,
	}},
	{"duplicate pipeline", `pipeline "sales" {
  entity = "deal"
  stages = ["a"]
}
pipeline "sales" {
  entity = "deal"
  stages = ["b"]
}`, []string{
		`t.hcl:5:10: error: duplicate pipeline "sales"; first defined at t.hcl:1`,
	}},
	{"role unknown read", `role "sales" {
  read = ["contact", "dael"]
}`, []string{
		`t.hcl:2:22: error: unknown entity "dael" in read of role "sales"; did you mean "deal"?`,
	}},
	{"role unknown write far", `role "sales" {
  write = ["spaceship"]
}`, []string{
		`t.hcl:2:12: error: unknown entity "spaceship" in write of role "sales"; entities: contact, company, deal, activity, task`,
	}},
	{"role admin", `role "admin" {
  read = ["*"]
}`, []string{
		`t.hcl:1:6: error: role "admin" is built in; admin may do everything, so pick another name`,
	}},
	{"invalid role name", `role "Sales" {}`, []string{
		`t.hcl:1:6: error: invalid role name "Sales"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"duplicate role", `role "sales" {}
role "sales" {}`, []string{
		`t.hcl:2:6: error: duplicate role "sales"; first defined at t.hcl:1`,
	}},
	{"read not a list", `role "sales" {
  read = "contact"
}`, []string{
		`t.hcl:2:10: error: read must be a list of strings; write it in brackets, e.g. read = ["a", "b"]`,
	}},
	{"plugin unknown first party", `plugin "acounting" {}`, []string{
		`t.hcl:1:8: error: unknown first-party plugin "acounting"; did you mean "accounting"?`,
	}},
	{"plugin unknown first party far", `plugin "loyalty" {}`, []string{
		`t.hcl:1:8: error: unknown first-party plugin "loyalty"; first-party plugins: doctemplates, accounting, calltracking; a third-party plugin needs path and sha256`,
	}},
	{"plugin sha256 without path", `plugin "loyalty" {
  sha256 = "9f2c000000000000000000000000000000000000000000000000000000000000"
}`, []string{
		`t.hcl:2:12: error: plugin "loyalty" has sha256 but no path; sha256 is the checksum of the executable at path`,
	}},
	{"plugin path without sha256", `plugin "loyalty" {
  path = "plugins/bin/loyalty"
}`, []string{
		`t.hcl:2:10: error: plugin "loyalty" has path but no sha256; the host runs a third-party plugin only if its SHA-256 matches`,
	}},
	{"plugin bad sha256", `plugin "loyalty" {
  path   = "plugins/bin/loyalty"
  sha256 = "9f2c..."
}`, []string{
		`t.hcl:3:12: error: sha256 of plugin "loyalty" is not 64 hex digits`,
	}},
	{"plugin unknown read", `plugin "accounting" {
  read = ["contact", "invoce"]
}`, []string{
		`t.hcl:2:22: error: unknown entity "invoce" in read of plugin "accounting"; did you mean "invoice"?`,
	}},
	{"plugin contributes builtin", `plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["loyalty_account", "contact"]
}`, []string{
		`t.hcl:4:34: error: "contact" is already an entity; a plugin cannot contribute it`,
	}},
	{"plugin contributes first-party entity", `plugin "accounting" {}
plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["invoice"]
}`, []string{
		`t.hcl:5:15: error: "invoice" is already an entity; a plugin cannot contribute it`,
	}},
	{"plugin contributed entity invalid name", `plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["Loyalty"]
}`, []string{
		`t.hcl:4:15: error: invalid entity name "Loyalty"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"plugin write unknown contributed", `plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["loyalty_account"]
  write    = ["loyalty_acount"]
}`, []string{
		`t.hcl:5:15: error: unknown entity "loyalty_acount" in write of plugin "loyalty"; did you mean "loyalty_account"?`,
	}},
	{"rule unknown contributed event", `plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["loyalty_account"]
}
rule "r" {
  on = ["loyalty_account.create"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:7:9: error: unknown event "loyalty_account.create"; did you mean "loyalty_account.created"?`,
	}},
	{"plugin config not object", `plugin "accounting" {
  config = 20
}`, []string{
		`t.hcl:2:12: error: config must be an object; write it in braces, e.g. config = { key = "value" }`,
	}},
	{"invalid plugin name", `plugin "Loyalty" {
  path   = "x"
  sha256 = "9f2c000000000000000000000000000000000000000000000000000000000000"
}`, []string{
		`t.hcl:1:8: error: invalid plugin name "Loyalty"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"duplicate plugin", `plugin "accounting" {}
plugin "accounting" {}`, []string{
		`t.hcl:2:8: error: duplicate plugin "accounting"; first defined at t.hcl:1`,
	}},
	{"rule no trigger", `rule "r" {
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:1:6: error: rule "r" has no trigger; give on = ["ENTITY.EVENT"], or every or cron with for_each`,
	}},
	{"rule on and every", `rule "r" {
  on    = ["deal.created"]
  every = "1h"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:11: error: rule "r" has both on and every; a rule has one trigger`,
	}},
	{"rule on and cron", `rule "r" {
  on   = ["deal.created"]
  cron = "0 9 * * *"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:10: error: rule "r" has both on and cron; a rule has one trigger`,
	}},
	{"rule every and cron", `rule "r" {
  every    = "1h"
  cron     = "0 9 * * *"
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:14: error: rule "r" has both every and cron; a rule has one schedule`,
	}},
	{"rule every without for_each", `rule "r" {
  every = "1h"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:11: error: rule "r" has every but no for_each; name the entity whose records it runs for, e.g. for_each = "deal"`,
	}},
	{"rule for_each with on", `rule "r" {
  on       = ["deal.created"]
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		"t.hcl:3:14: error: for_each is only for every or cron; a rule with on runs for the record of each event",
	}},
	{"rule empty on", `rule "r" {
  on = []
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:8: error: rule "r" has no events in on; list them, e.g. on = ["deal.created"]`,
	}},
	{"rule bad every", `rule "r" {
  every    = "1x"
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:14: error: invalid duration "1x"; every takes a duration such as "30m", "1h" or "24h"`,
	}},
	{"rule short every", `rule "r" {
  every    = "30s"
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:14: error: every "30s" is shorter than 1m; a schedule runs at most once a minute`,
	}},
	{"rule bad cron", `rule "r" {
  cron     = "0 9 * *"
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:14: error: invalid cron spec "0 9 * *"; expected exactly 5 fields, found 4: [0 9 * *]`,
	}},
	{"rule cron every", `rule "r" {
  cron     = "@every 1h"
  for_each = "deal"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:14: error: invalid cron spec "@every 1h"; write every = "..." for a fixed interval`,
	}},
	{"rule unknown for_each", `rule "r" {
  every    = "1h"
  for_each = "dael"
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:14: error: for_each names unknown entity "dael"; did you mean "deal"?`,
	}},
	{"rule unknown event entity", `rule "r" {
  on = ["contat.created"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: error: unknown entity "contat" in event "contat.created"; did you mean "contact"?`,
	}},
	{"rule unknown record event", `rule "r" {
  on = ["deal.create"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: error: unknown event "deal.create"; did you mean "deal.created"?`,
	}},
	{"rule unknown record event far", `rule "r" {
  on = ["deal.closed"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: error: unknown event "deal.closed"; events of a record: created, updated, deleted, stage_changed`,
	}},
	{"rule unknown plugin event", `plugin "calltracking" {}
rule "r" {
  on = ["call.mised"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:9: error: unknown event "call.mised"; did you mean "call.missed"?`,
	}},
	{"rule event not entity.event", `rule "r" {
  on = ["created"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: error: invalid event "created"; an event is ENTITY.EVENT, e.g. "deal.created", or a plugin event, e.g. "call.missed"`,
	}},
	{"rule stage_changed without stage", `rule "r" {
  on = ["contact.stage_changed"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: error: entity "contact" has no stage; only an entity with a pipeline has stage_changed`,
	}},
	{"rule plugin event undeclared", `rule "r" {
  on = ["call.missed"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:2:9: warning: event "call.missed" comes from plugin "calltracking", which is not declared; add plugin "calltracking" {} or the rule never runs`,
	}},
	{"rule no action", `rule "r" {
  on = ["deal.created"]
}`, []string{
		`t.hcl:1:6: error: rule "r" has no action; add one, e.g. action "notify" { to = "record.owner" }`,
	}},
	{"rule when not string", `rule "r" {
  on   = ["deal.created"]
  when = true
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:3:10: error: when must be a string; it is an expr expression in quotes, e.g. "record.amount > 100"`,
	}},
	{"rule action arg not string", `rule "r" {
  on = ["deal.created"]
  action "create_task" { due = 5 }
}`, []string{
		`t.hcl:3:32: error: argument due must be a string; it is an expr expression in quotes, e.g. "record.amount > 100"`,
	}},
	{"rule action with block", `rule "r" {
  on = ["deal.created"]
  action "set" {
    nested {}
  }
}`, []string{
		`t.hcl:4:5: error: Unexpected "nested" block; Blocks are not allowed here.`,
	}},
	{"rule unknown action", `rule "r" {
  on = ["deal.created"]
  action "notfy" { to = "record.owner" }
}`, []string{
		`t.hcl:3:10: error: unknown action "notfy"; did you mean "notify"?`,
	}},
	{"rule unknown action far", `rule "r" {
  on = ["deal.created"]
  action "email" { to = "record.owner" }
}`, []string{
		`t.hcl:3:10: error: unknown action "email"; actions: set, create_record, create_task, notify, webhook, or PLUGIN.ACTION`,
	}},
	{"rule unknown plugin action", `plugin "accounting" {}
rule "r" {
  on = ["deal.created"]
  action "acounting.issue_invoice" { deal = "record.id" }
}`, []string{
		`t.hcl:4:10: error: unknown plugin "acounting" in action "acounting.issue_invoice"; did you mean "accounting.issue_invoice"?`,
	}},
	{"rule undeclared plugin action", `rule "r" {
  on = ["deal.created"]
  action "doctemplates.generate_document" { template = "'quote'" }
}`, []string{
		`t.hcl:3:10: error: unknown plugin "doctemplates" in action "doctemplates.generate_document"; no plugin block declares "doctemplates"`,
	}},
	{"rule bad plugin action name", `plugin "accounting" {}
rule "r" {
  on = ["deal.created"]
  action "accounting.Issue" { deal = "record.id" }
}`, []string{
		`t.hcl:4:10: error: invalid action name "accounting.Issue"; a plugin action is PLUGIN.ACTION; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"invalid rule name", `rule "Stale-deal" {
  on = ["deal.created"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:1:6: error: invalid rule name "Stale-deal"; a name starts with a lower-case letter and has only a-z, 0-9 and _`,
	}},
	{"duplicate rule", `rule "r" {
  on = ["deal.created"]
  action "notify" { to = "record.owner" }
}
rule "r" {
  on = ["deal.updated"]
  action "notify" { to = "record.owner" }
}`, []string{
		`t.hcl:5:6: error: duplicate rule "r"; first defined at t.hcl:1`,
	}},
	{"duplicate server", `server {}
server {}`, []string{
		"t.hcl:2:1: error: duplicate server block; first defined at t.hcl:1",
	}},
	{"bad listen", `server {
  listen = "8080"
}`, []string{
		`t.hcl:2:12: error: invalid listen address "8080"; listen is host:port, e.g. "127.0.0.1:8080" or ":8080"`,
	}},
	{"postgres url in the file", `server {
  store        = "postgres"
  postgres_url = "postgres://crm:secret@db/crm"
}`, []string{
		`t.hcl:3:18: error: the PostgreSQL URL must not be in the configuration; it carries the password: put it in an environment variable and name that, e.g. postgres_url_env = "CRM_POSTGRES_URL"`,
	}},
	{"unknown store", `server {
  store = "mysql"
}`, []string{
		`t.hcl:2:11: error: unknown store "mysql"; store is "badger" (embedded, the default) or "postgres"`,
	}},
	{"postgres_url_env without postgres", `server {
  postgres_url_env = "DB"
}`, []string{
		`t.hcl:2:22: error: postgres_url_env without store = "postgres"; add store = "postgres", or remove postgres_url_env`,
	}},
	{"bad public_url", `server {
  public_url = "localhost:8080"
}`, []string{
		`t.hcl:2:16: error: invalid public_url "localhost:8080"; public_url is the address users open, e.g. "https://crm.example.com"`,
	}},
	{"bad lease", `server {
  lease = "1s"
}`, []string{
		`t.hcl:2:11: error: lease "1s" is not a duration from 3s to 10m; e.g. lease = "15s": another node takes over a dead node's work this long after it died`,
	}},
	{"bad node_id", `server {
  node_id = " a"
}`, []string{
		`t.hcl:2:13: error: invalid node_id " a"; node_id names this node among those sharing the store, e.g. node_id = "crm-1"; leave it out for a random one`,
	}},
	{"default not in languages", `locale {
  languages = ["en", "hy"]
  default   = "ru"
}`, []string{
		`t.hcl:3:15: error: default language "ru" is not in languages; languages: en, hy`,
	}},
	{"default not in default languages", `locale {
  default = "hy"
}`, []string{
		`t.hcl:2:13: error: default language "hy" is not in languages; languages: en`,
	}},
	{"empty languages", `locale {
  languages = []
}`, []string{
		`t.hcl:2:15: error: languages is empty; list at least one, e.g. languages = ["en"]`,
	}},
	{"unknown language", `locale {
  languages = ["en", "english"]
}`, []string{
		`t.hcl:2:22: error: unknown language "english"; a language is a BCP 47 tag, e.g. "en" or "hy"`,
	}},
	{"duplicate locale", `locale {}
locale {}`, []string{
		"t.hcl:2:1: error: duplicate locale block; first defined at t.hcl:1",
	}},
	{"bad calendar", `locale {
  calendar = "jalai"
}`, []string{
		`t.hcl:2:14: error: unknown calendar "jalai"; did you mean "jalali"?`,
	}},
	{"lower-case currency", `locale {
  currency = "usd"
}`, []string{
		`t.hcl:2:14: error: invalid currency "usd"; currency is an ISO 4217 code in upper case, e.g. "USD"`,
	}},
	{"unknown currency", `locale {
  currency = "XYZ"
}`, []string{
		`t.hcl:2:14: error: unknown currency "XYZ"; currency is an ISO 4217 code, e.g. "USD", "EUR" or "AMD"`,
	}},
	{"bad timezone", `locale {
  timezone = "Asia/Yerevn"
}`, []string{
		`t.hcl:2:14: error: unknown time zone "Asia/Yerevn"; timezone is an IANA name, e.g. "Asia/Yerevan" or "UTC"`,
	}},
	{"bad region", `locale {
  region = "am"
}`, []string{
		`t.hcl:2:12: error: invalid region "am"; region is an ISO 3166-1 alpha-2 code in upper case, e.g. "AM"`,
	}},
	{"syntax error", `entity "car" {
  field "vin" { type = "string"
}`, []string{
		"t.hcl:2:32: error: Invalid single-argument block definition; An argument definition on the same line as its containing block creates a single-line block definition, which must also be closed on the same line. Place the block's closing brace immediately after the argument definition.",
	}},
	{"variable in value", `server {
  listen = var.listen
}`, []string{
		"t.hcl:2:12: error: Variables not allowed; Variables may not be used here.",
	}},
}
