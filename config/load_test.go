package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// lines formats diagnostics as `crm check` prints their first lines.
func lines(diags hcl.Diagnostics) []string {
	out := make([]string, 0, len(diags))
	for _, d := range diags {
		out = append(out, FormatDiagnostic(d))
	}
	return out
}

// load loads one in-memory file named t.hcl.
func load(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	cfg, diags := LoadSources(map[string][]byte{"t.hcl": []byte(src)})
	if cfg == nil {
		t.Fatal("LoadSources returned a nil config")
	}
	return cfg, diags
}

// mustLoad loads one in-memory file and fails on any diagnostic.
func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	cfg, diags := load(t, src)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", strings.Join(lines(diags), "\n"))
	}
	return cfg
}

func TestLoadErrors(t *testing.T) {
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := load(t, c.src)
			if got := lines(diags); !slices.Equal(got, c.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
			wantErr := !strings.Contains(c.want[0], ": warning: ")
			if diags.HasErrors() != wantErr {
				t.Errorf("HasErrors() = %v, want %v", diags.HasErrors(), wantErr)
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	src := `locale {
  currency = "usd"
  timezone = "Mars/Olympus"
}

entity "vehicle" {
  field "vin"   { type = "strng" }
  field "owner" { type = "user" }
  field "buyer" {
    type = "ref"
    to   = "contat"
  }
}

role "sales" {
  read = ["vehicle", "dael"]
}

rule "stale" {
  every    = "10s"
  for_each = "vehicle"
  action "notfy" { to = "record.owner" }
}
`
	want := []string{
		`t.hcl:2:14: error: invalid currency "usd"; currency is an ISO 4217 code in upper case, e.g. "USD"`,
		`t.hcl:3:14: error: unknown time zone "Mars/Olympus"; timezone is an IANA name, e.g. "Asia/Yerevan" or "UTC"`,
		`t.hcl:7:26: error: unknown field type "strng"; did you mean "string"?`,
		`t.hcl:8:9: error: field name "owner" is reserved; every record has these system fields: id, entity, version, created_at, updated_at, created_by, owner`,
		`t.hcl:11:12: error: ref field "buyer" points at unknown entity "contat"; did you mean "contact"?`,
		`t.hcl:16:22: error: unknown entity "dael" in read of role "sales"; did you mean "deal"?`,
		`t.hcl:20:14: error: every "10s" is shorter than 1m; a schedule runs at most once a minute`,
		`t.hcl:22:10: error: unknown action "notfy"; did you mean "notify"?`,
	}
	cfg, diags := load(t, src)
	if got := lines(diags); !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if cfg.Entity("vehicle") == nil {
		t.Error("a config with errors still holds what decoded: vehicle is missing")
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a_entities.hcl", `entity "vehicle" {
  field "vin" { type = "string" }
}
role "sales" {
  read = ["vehicle"]
}
`)
	write(t, dir, "b_rules.hcl", `role "manager" {
  read  = ["*"]
  write = ["vehicle"]
}
`)
	write(t, dir, "notes.txt", `this is not hcl {`)
	if err := os.Mkdir(filepath.Join(dir, "sub.hcl"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", strings.Join(lines(diags), "\n"))
	}
	if cfg.Entity("vehicle") == nil || cfg.Role("sales") == nil || cfg.Role("manager") == nil {
		t.Fatalf("merge lost a block: entities %v, roles %v", entityNames(cfg), len(cfg.Roles))
	}
	if len(cfg.Files) != 2 {
		t.Errorf("Files has %d entries, want 2", len(cfg.Files))
	}
}

func TestLoadDirectoryDuplicates(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.hcl", "role \"sales\" {}\n")
	write(t, dir, "b.hcl", "\nrole \"sales\" {}\n")
	_, diags := Load(dir)
	a, b := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	want := []string{b + `:2:6: error: duplicate role "sales"; first defined at ` + a + `:1`}
	if got := lines(diags); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadMissing(t *testing.T) {
	cfg, diags := Load(filepath.Join(t.TempDir(), "nope.hcl"))
	if cfg == nil || !diags.HasErrors() {
		t.Fatalf("Load of a missing file: cfg %v, diags %v", cfg, diags)
	}
	if got := lines(diags)[0]; !strings.Contains(got, "nope.hcl: error: cannot read config; ") {
		t.Errorf("got %q", got)
	}
	_, diags = Load(t.TempDir())
	if got := lines(diags)[0]; !strings.Contains(got, ": error: no .hcl files in config directory") {
		t.Errorf("got %q", got)
	}
}

func write(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func entityNames(cfg *Config) []string {
	var names []string
	for _, e := range cfg.Entities {
		names = append(names, e.Name)
	}
	return names
}

func TestLoadExampleConfig(t *testing.T) {
	cfg, diags := Load("../crm.hcl")
	if len(diags) > 0 {
		var b strings.Builder
		WriteDiagnostics(&b, cfg.Files, diags)
		t.Fatalf("crm.hcl:\n%s", b.String())
	}
	if cfg.Locale.Currency != "AMD" || cfg.Locale.Timezone != "Asia/Yerevan" || cfg.Locale.Region != "AM" {
		t.Errorf("locale = %+v", cfg.Locale)
	}
	want := []string{"contact", "company", "deal", "activity", "task", "vehicle"}
	if got := entityNames(cfg); !slices.Equal(got, want) {
		t.Errorf("entities = %v, want %v", got, want)
	}
	vin := cfg.Entity("vehicle").Field("vin")
	if !vin.Unique || !vin.Index || !vin.Required || vin.Label != "VIN" {
		t.Errorf("vin = %+v", vin)
	}
	if f := cfg.Entity("contact").Field("preferred_language"); f == nil || f.Builtin || f.Type != TypeEnum {
		t.Errorf("contact.preferred_language = %+v", f)
	}
	if len(cfg.Pipelines) != 1 || cfg.Pipelines[0].Stages[1] != "test_drive" {
		t.Errorf("pipelines = %+v", cfg.Pipelines)
	}
	if r := cfg.Role("sales"); r == nil || !r.OwnOnly || len(r.Write) != 4 {
		t.Errorf("role sales = %+v", r)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, "")
	want := Server{Listen: "127.0.0.1:8080", DataDir: "data", PublicURL: "http://127.0.0.1:8080", Store: StoreBadger, Lease: DefaultLease}
	if cfg.Server != want {
		t.Errorf("server = %+v, want %+v", cfg.Server, want)
	}
	wantLocale := Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "USD", Timezone: "UTC"}
	if !reflect.DeepEqual(cfg.Locale, wantLocale) {
		t.Errorf("locale = %+v, want %+v", cfg.Locale, wantLocale)
	}
	if got := entityNames(cfg); !slices.Equal(got, []string{"contact", "company", "deal", "activity", "task"}) {
		t.Errorf("entities = %v", got)
	}
	for _, e := range cfg.Entities {
		if !e.Builtin || e.Label == "" {
			t.Errorf("built-in entity %+v", e)
		}
		for _, f := range e.Fields {
			if !f.Builtin || f.Label == "" {
				t.Errorf("built-in field %s.%s: %+v", e.Name, f.Name, f)
			}
		}
	}
	if f := cfg.Entity("deal").Field("closed_at"); f.Type != TypeDateTime || f.Label != "Closed at" {
		t.Errorf("deal.closed_at = %+v", f)
	}
	if len(cfg.Pipelines) != 1 || cfg.Pipelines[0].Name != "sales" || len(cfg.Pipelines[0].Stages) != 6 {
		t.Errorf("default pipeline = %+v", cfg.Pipelines)
	}
}

func TestLoadPublicURLDefault(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		":8080":          "http://localhost:8080",
		"0.0.0.0:80":     "http://localhost:80",
		"[::1]:8080":     "http://[::1]:8080",
	} {
		cfg := mustLoad(t, "server { listen = \""+listen+"\" }")
		if cfg.Server.PublicURL != want {
			t.Errorf("listen %q: public_url = %q, want %q", listen, cfg.Server.PublicURL, want)
		}
	}
}

func TestLoadServerNodeAndLease(t *testing.T) {
	cfg := mustLoad(t, "server {}")
	if cfg.Server.NodeID != "" || cfg.Server.Lease != DefaultLease {
		t.Errorf("defaults: node_id %q, lease %s", cfg.Server.NodeID, cfg.Server.Lease)
	}
	cfg = mustLoad(t, `server {
  node_id = "crm-1"
  lease   = "30s"
}`)
	if cfg.Server.NodeID != "crm-1" || cfg.Server.Lease != 30*time.Second {
		t.Errorf("node_id %q, lease %s", cfg.Server.NodeID, cfg.Server.Lease)
	}
}

func TestLoadLocaleDefaultIsFirstLanguage(t *testing.T) {
	cfg := mustLoad(t, `locale { languages = ["hy", "ru"] }`)
	if cfg.Locale.Default != "hy" {
		t.Errorf("default = %q, want hy", cfg.Locale.Default)
	}
}

func TestLoadExtendsBuiltin(t *testing.T) {
	cfg := mustLoad(t, `entity "contact" {
  label = "Client"
  field "vip" { type = "bool" }
}`)
	c := cfg.Entity("contact")
	if c.Label != "Client" || !c.Builtin || c.Range.Start.Line != 1 {
		t.Errorf("contact = %+v", c)
	}
	vip := c.Fields[len(c.Fields)-1]
	if vip.Name != "vip" || vip.Builtin || vip.Label != "Vip" {
		t.Errorf("vip = %+v", vip)
	}
	if cfg.Entity("company").Range != (hcl.Range{}) {
		t.Error("an entity no file mentions has a zero Range")
	}
}

func TestLoadPipelineAddsStageFields(t *testing.T) {
	cfg := mustLoad(t, `entity "repair" {
  field "vehicle" { type = "string" }
}
pipeline "workshop" {
  entity = "repair"
  stages = ["booked", "in_progress", "done"]
}`)
	e := cfg.Entity("repair")
	for _, name := range []string{"pipeline", "stage"} {
		if f := e.Field(name); f == nil || f.Type != TypeString || !f.Index {
			t.Errorf("repair.%s = %+v", name, f)
		}
	}
	var names []string
	for _, p := range cfg.Pipelines {
		names = append(names, p.Name+":"+p.Entity)
	}
	if !slices.Equal(names, []string{"workshop:repair", "sales:deal"}) {
		t.Errorf("pipelines = %v, want the block's and the default deal pipeline", names)
	}
	mustLoad(t, `entity "repair" {}
pipeline "workshop" {
  entity = "repair"
  stages = ["booked"]
}
rule "r" {
  on = ["repair.stage_changed"]
  action "notify" { to = "record.owner" }
}`)
}

func TestLoadPluginsAndRules(t *testing.T) {
	cfg := mustLoad(t, `plugin "accounting" {
  read   = ["contact", "company", "deal"]
  write  = ["invoice", "payment", "task"]
  config = {
    vat_percent = 20
    rate        = 0.5
    series      = { invoice = "INV-" }
    methods     = ["cash", "card"]
    strict      = true
  }
}

plugin "calltracking" {}

plugin "loyalty" {
  path   = "plugins/bin/loyalty"
  sha256 = "9F2C000000000000000000000000000000000000000000000000000000000000"
  read   = ["contact"]
}

rule "callback_missed_call" {
  on   = ["activity.created", "call.missed", "loyalty.points_earned", "invoice.overdue"]
  when = "record.kind == 'call'"
  action "create_task" {
    title = "'Call back ' + related('contact').name"
    due   = "now() + duration('2h')"
  }
  action "accounting.issue_invoice" {
    deal = "record.id"
  }
}

rule "stale_deal" {
  cron     = "0 9 * * 1-5"
  for_each = "deal"
  action "notify" {
    to      = "record.owner"
    message = <<EOT
'Deal ' + record.title
EOT
  }
}

rule "overdue" {
  every    = "1h"
  for_each = "invoice"
  action "webhook" { url = "'https://example.com'" }
}

test "callback" {
  rule  = "callback_missed_call"
  given = { kind = "call" }
  expect {}
}
`)
	acc := cfg.Plugin("accounting")
	wantConfig := map[string]any{
		"vat_percent": int64(20),
		"rate":        0.5,
		"series":      map[string]any{"invoice": "INV-"},
		"methods":     []any{"cash", "card"},
		"strict":      true,
	}
	if !reflect.DeepEqual(acc.Config, wantConfig) {
		t.Errorf("config = %#v, want %#v", acc.Config, wantConfig)
	}
	if p := cfg.Plugin("loyalty"); p.SHA256[:4] != "9f2c" {
		t.Errorf("sha256 is kept in lower case: %q", p.SHA256)
	}
	r := cfg.Rules[0]
	if len(r.On) != 4 || len(r.Actions) != 2 || r.Actions[1].Kind != "accounting.issue_invoice" {
		t.Errorf("rule = %+v", r)
	}
	if r.When.Source != "record.kind == 'call'" {
		t.Errorf("when = %q", r.When.Source)
	}
	if got := cfg.Rules[1].Cron; got != "0 9 * * 1-5" {
		t.Errorf("cron = %q", got)
	}
	if got := cfg.Rules[2]; got.Every != "1h" || got.ForEach != "invoice" {
		t.Errorf("rule overdue = %+v", got)
	}
}

func TestExprRange(t *testing.T) {
	src := "rule \"r\" {\n  on   = [\"deal.created\"]\n  when = \"record.amount > 100\"\n" +
		"  action \"set\" {\n    stage = \"'won'\"\n    note  = \"\"\n    body  = <<EOT\nrecord.title\nEOT\n  }\n}\n"
	cfg := mustLoad(t, src)
	r := cfg.Rules[0]
	a := r.Actions[0]
	for _, c := range []struct {
		x    *Expr
		text string
		line int
		col  int
	}{
		{r.When, "record.amount > 100", 3, 11},
		{a.Args["stage"], "'won'", 5, 14},
		{a.Args["note"], "", 6, 14},
		{a.Args["body"], "record.title\n", 8, 1},
	} {
		got := src[c.x.Range.Start.Byte:c.x.Range.End.Byte]
		if got != c.text || c.x.Source != c.text {
			t.Errorf("range holds %q, source %q; want %q", got, c.x.Source, c.text)
		}
		if c.x.Range.Start.Line != c.line || c.x.Range.Start.Column != c.col {
			t.Errorf("%q starts at %d:%d, want %d:%d", c.text, c.x.Range.Start.Line, c.x.Range.Start.Column, c.line, c.col)
		}
	}
}

func TestWriteDiagnostics(t *testing.T) {
	src := "entity \"car\" {\n\tfield \"vin\" { type = \"strng\" }\n}\n"
	cfg, diags := LoadSources(map[string][]byte{"crm.hcl": []byte(src)})
	var b strings.Builder
	WriteDiagnostics(&b, cfg.Files, diags)
	want := "crm.hcl:2:23: error: unknown field type \"strng\"; did you mean \"string\"?\n" +
		"    2 | \tfield \"vin\" { type = \"strng\" }\n" +
		"      | \t                     ^\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	b.Reset()
	WriteDiagnostics(&b, nil, hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "no subject"},
		{Severity: hcl.DiagError, Summary: "file only", Subject: &hcl.Range{Filename: "x.hcl"}},
	})
	if want := "warning: no subject\nx.hcl: error: file only\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"contact", "company", "deal", "activity", "task"}
	for _, c := range []struct{ given, want string }{
		{"contat", "contact"},
		{"compnay", "company"},
		{"dael", "deal"},
		{"tsk", "task"},
		{"tak", "task"},
		{"xyz", ""},
		{"vehicle", ""},
		{"", ""},
	} {
		if got := Suggest(c.given, names); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.given, got, c.want)
		}
	}
}

func TestWorkflowBlock(t *testing.T) {
	cfg, diags := LoadSources(map[string][]byte{"w.hcl": []byte("workflow {\n  run_retention = \"48h\"\n  workers = 2\n}\n")})
	if diags.HasErrors() || cfg.Workflow.RunRetention != 48*time.Hour || cfg.Workflow.Workers != 2 || cfg.Workflow.MaxDepth != 5 {
		t.Fatalf("workflow = %+v, %v", cfg.Workflow, diags)
	}
	cases := []struct{ src, want string }{
		{"workflow {\n  workers = 0\n}\n", "w.hcl:2:13: error: workers must be a whole number from 1 to 64; got 0"},
		{"workflow {\n  run_retention = \"5m\"\n}\n", `w.hcl:2:19: error: run_retention "5m" is not a duration of at least 1h; e.g. run_retention = "720h" (30 days)`},
		{"workflow {\n  max_depht = 3\n}\n", `w.hcl:2:3: error: Unsupported argument; An argument named "max_depht" is not expected here. Did you mean "max_depth"?`},
		{"workflow {\n}\nworkflow {\n}\n", "w.hcl:3:1: error: duplicate workflow block; first defined at w.hcl:1"},
	}
	for _, c := range cases {
		_, diags := LoadSources(map[string][]byte{"w.hcl": []byte(c.src)})
		if len(diags) == 0 || FormatDiagnostic(diags[0]) != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.src, diags, c.want)
		}
	}
}

// TestLoadPluginEntities checks that the entities a plugin block contributes
// may be named wherever an entity is: grants, ref fields, events, for_each.
func TestLoadPluginEntities(t *testing.T) {
	cfg := mustLoad(t, `plugin "loyalty" {
  path     = "bin/loyalty"
  sha256   = "9f2c000000000000000000000000000000000000000000000000000000000000"
  entities = ["loyalty_account"]
  read     = ["contact"]
  write    = ["loyalty_account"]
}

role "till" {
  read  = ["loyalty_account"]
  write = ["loyalty_account"]
}

entity "voucher" {
  field "account" {
    type = "ref"
    to   = "loyalty_account"
  }
}

rule "welcome" {
  on = ["loyalty_account.created"]
  action "notify" { to = "record.owner" }
}

rule "sweep" {
  every    = "24h"
  for_each = "loyalty_account"
  action "notify" { to = "record.owner" }
}`)
	p := cfg.Plugin("loyalty")
	if p == nil || !slices.Equal(p.Entities, []string{"loyalty_account"}) {
		t.Fatalf("plugin entities = %v", p)
	}
	if cfg.Entity("loyalty_account") != nil {
		t.Error("the loader added a contributed entity; app.WithPluginEntities does that")
	}
}

// TestRepeatedBuiltinFieldAccepted: an entity block that repeats a built-in
// field with the same type is accepted; its label applies, and the field
// stays the built-in one (once, in its place).
func TestRepeatedBuiltinFieldAccepted(t *testing.T) {
	cfg := mustLoad(t, `entity "contact" {
  field "email" {
    type  = "email"
    label = "E-mail"
  }
  field "vip" { type = "bool" }
}`)
	c := cfg.Entity("contact")
	n := 0
	for _, f := range c.Fields {
		if f.Name == "email" {
			n++
		}
	}
	if f := c.Field("email"); n != 1 || f == nil || f.Label != "E-mail" || !f.Builtin || f.Type != TypeEmail || c.Field("vip") == nil {
		t.Fatalf("contact fields: %d email, %+v", n, c.Fields)
	}
}

// TestServerStore reads the store choice: Badger by default, PostgreSQL
// with its URL's environment variable defaulted or named.
func TestServerStore(t *testing.T) {
	for _, c := range []struct{ src, store, env string }{
		{``, StoreBadger, ""},
		{`server { store = "badger" }`, StoreBadger, ""},
		{`server { store = "postgres" }`, StorePostgres, DefaultPostgresURLEnv},
		{`server {
  store            = "postgres"
  postgres_url_env = "ACME_DB"
}`, StorePostgres, "ACME_DB"},
	} {
		cfg, diags := LoadSources(map[string][]byte{"t.hcl": []byte(c.src)})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", c.src, diags)
		}
		if cfg.Server.Store != c.store || cfg.Server.PostgresURLEnv != c.env {
			t.Errorf("%s: store %q env %q, want %q %q", c.src, cfg.Server.Store, cfg.Server.PostgresURLEnv, c.store, c.env)
		}
	}
}
