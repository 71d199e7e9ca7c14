package schema

import (
	"reflect"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
)

func TestNew(t *testing.T) {
	s := newTestSchema(t)
	if got, want := s.EntityNames(), []string{"contact", "company", "deal", "every"}; !reflect.DeepEqual(got, want) {
		t.Errorf("EntityNames = %v, want %v", got, want)
	}
	if len(s.Entities()) != 4 || s.Entities()[2].Name != "deal" {
		t.Errorf("Entities in wrong order")
	}
	if s.Entity("nope") != nil {
		t.Error("Entity(nope) != nil")
	}
	if s.Currency() != "USD" || s.Region() != "AM" {
		t.Errorf("locale %q %q", s.Currency(), s.Region())
	}

	c := s.Entity("contact")
	if !c.Builtin || c.Label != "Contact" {
		t.Errorf("contact: %+v", c)
	}
	email := c.Field("email")
	if email == nil || !email.Unique || !email.Index || email.Label != "Email" || email.System {
		t.Errorf("email field: %+v", email)
	}
	if c.Field("owner") != nil || c.Field("nope") != nil {
		t.Error("Field returns non-declared fields")
	}
	if f := c.Lookup("owner"); f == nil || !f.System || f.Type != config.TypeUser {
		t.Errorf("Lookup(owner) = %+v", f)
	}
	if f := c.Lookup("created_at"); f == nil || f.Type != config.TypeDateTime {
		t.Errorf("Lookup(created_at) = %+v", f)
	}
	if len(c.SystemFields()) != len(config.ReservedFields) {
		t.Errorf("SystemFields: %d", len(c.SystemFields()))
	}
	for _, name := range config.ReservedFields {
		if !IsSystemField(name) || c.Lookup(name) == nil {
			t.Errorf("system field %q missing", name)
		}
	}

	if got := s.Pipelines("deal"); len(got) != 2 || got[0].Name != "sales" {
		t.Errorf("Pipelines(deal) = %v", got)
	}
	if s.Pipelines("contact") != nil {
		t.Error("Pipelines(contact) != nil")
	}

	// The schema does not share or depend on the config after New.
	cfg := testConfig()
	s2, _ := New(cfg)
	cfg.Entities[0].Fields[0].Name = "changed"
	if s2.Entity("contact").Field("name") == nil {
		t.Error("schema shares fields with the config")
	}
}

func TestNewDefaults(t *testing.T) {
	cfg := &config.Config{
		Entities: []*config.Entity{
			{Name: "vehicle", Fields: []*config.Field{{Name: "sale_price", Type: config.TypeMoney}}},
			{Name: "ticket", Fields: []*config.Field{{Name: "title", Type: config.TypeString}}},
		},
		Pipelines: []*config.Pipeline{{Name: "main", Entity: "ticket", Stages: []string{"open", "done"}}},
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Currency() != "USD" || s.Region() != "" {
		t.Errorf("defaults %q %q", s.Currency(), s.Region())
	}
	if l := s.Entity("vehicle").Label; l != "Vehicle" {
		t.Errorf("label %q", l)
	}
	if l := s.Entity("vehicle").Field("sale_price").Label; l != "Sale price" {
		t.Errorf("label %q", l)
	}
	// A pipeline adds pipeline and stage fields when the entity lacks them.
	ticket := s.Entity("ticket")
	if got := ticket.FieldNames(); !reflect.DeepEqual(got, []string{"title", "pipeline", "stage"}) {
		t.Errorf("ticket fields %v", got)
	}
	v := map[string]any{"title": "x"}
	if err := ticket.CheckRecord(v); err != nil || v["stage"] != "open" || v["pipeline"] != "main" {
		t.Errorf("CheckRecord: %v %v", err, v)
	}
	// Lower-case region and currency are accepted.
	cfg.Locale = config.Locale{Currency: "amd", Region: "am"}
	s, err = New(cfg)
	if err != nil || s.Currency() != "AMD" || s.Region() != "AM" {
		t.Errorf("locale: %v %q %q", err, s.Currency(), s.Region())
	}
}

func TestNewErrors(t *testing.T) {
	ent := func(name string, fields ...*config.Field) *config.Entity {
		return &config.Entity{Name: name, Fields: fields}
	}
	for _, c := range []struct {
		name string
		cfg  *config.Config
		err  string
	}{
		{"nil", nil, "schema: no configuration"},
		{"currency", &config.Config{Locale: config.Locale{Currency: "XYZ"}}, `schema: locale currency: unknown currency "XYZ"`},
		{"region", &config.Config{Locale: config.Locale{Region: "XX"}}, `schema: locale region: unknown phone region "XX"`},
		{"no name", &config.Config{Entities: []*config.Entity{ent("")}}, "schema: an entity has no name"},
		{"twice", &config.Config{Entities: []*config.Entity{ent("a"), ent("a")}}, `schema: entity "a" is defined twice`},
		{"bad type", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "x", Type: "strng"})}},
			`schema: entity "a": field "x": unknown type "strng"; did you mean "string"?`},
		{"system", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "owner", Type: "user"})}},
			`schema: entity "a": field "owner": "owner" is a system field and cannot be declared`},
		{"dup field", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "x", Type: "int"}, &config.Field{Name: "x", Type: "int"})}},
			`schema: entity "a": field "x" is declared twice`},
		{"enum empty", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "x", Type: "enum"})}},
			`schema: entity "a": field "x": an enum needs at least one value`},
		{"enum dup", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "x", Type: "enum", Values: []string{"p", "p"}})}},
			`schema: entity "a": field "x": enum value "p" is given twice`},
		{"ref no to", &config.Config{Entities: []*config.Entity{ent("a", &config.Field{Name: "x", Type: "ref"})}},
			`schema: entity "a": field "x": a ref field needs a target entity (to)`},
		{"ref unknown", &config.Config{Entities: []*config.Entity{ent("contact"), ent("a", &config.Field{Name: "x", Type: "ref", To: "contcat"})}},
			`schema: entity "a": field "x": unknown target entity "contcat"; did you mean "contact"?`},
		{"pipeline entity", &config.Config{Entities: []*config.Entity{ent("deal")}, Pipelines: []*config.Pipeline{{Name: "p", Entity: "dael", Stages: []string{"a"}}}},
			`schema: pipeline "p": unknown entity "dael"; did you mean "deal"?`},
		{"pipeline stages", &config.Config{Entities: []*config.Entity{ent("deal")}, Pipelines: []*config.Pipeline{{Name: "p", Entity: "deal"}}},
			`schema: pipeline "p": it needs at least one stage`},
		{"pipeline dup stage", &config.Config{Entities: []*config.Entity{ent("deal")}, Pipelines: []*config.Pipeline{{Name: "p", Entity: "deal", Stages: []string{"a", "a"}}}},
			`schema: pipeline "p": stage "a" is given twice`},
		{"pipeline twice", &config.Config{Entities: []*config.Entity{ent("deal")}, Pipelines: []*config.Pipeline{{Name: "p", Entity: "deal", Stages: []string{"a"}}, {Name: "p", Entity: "deal", Stages: []string{"b"}}}},
			`schema: pipeline "p" of entity "deal" is defined twice`},
		{"stage type", &config.Config{Entities: []*config.Entity{ent("deal", &config.Field{Name: "stage", Type: "int"})}, Pipelines: []*config.Pipeline{{Name: "p", Entity: "deal", Stages: []string{"a"}}}},
			`schema: entity "deal" has pipelines, so its field "stage" must be a string or an enum, not int`},
	} {
		_, err := New(c.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), c.err) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.err)
		}
	}
}

func TestFieldErrorError(t *testing.T) {
	if got := (&FieldError{Field: "a", Code: CodeRequired, Message: "m"}).Error(); got != "a: m" {
		t.Errorf("got %q", got)
	}
	if got := (&FieldError{Code: CodeInvalidJSON, Message: "m"}).Error(); got != "m" {
		t.Errorf("got %q", got)
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"name", "email", "phone", "company", "birthday", "owner"}
	for _, c := range []struct{ in, want string }{
		{"nmae", "name"}, {"Name", "name"}, {"emial", "email"}, {"phnoe", "phone"},
		{"birthdya", "birthday"}, {"compnay", "company"}, {"xyz", ""}, {"", ""}, {"ab", ""},
	} {
		if got := config.Suggest(c.in, cands); got != c.want {
			t.Errorf("config.Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
