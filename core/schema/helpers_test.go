package schema

import (
	"testing"

	"github.com/crmkit/crm/config"
)

// everyType is an entity with one field of every type, named after its type.
var everyType = &config.Entity{
	Name:  "every",
	Label: "Every type",
	Fields: []*config.Field{
		{Name: "string", Type: config.TypeString},
		{Name: "text", Type: config.TypeText},
		{Name: "int", Type: config.TypeInt},
		{Name: "decimal", Type: config.TypeDecimal},
		{Name: "money", Type: config.TypeMoney},
		{Name: "bool", Type: config.TypeBool},
		{Name: "date", Type: config.TypeDate},
		{Name: "datetime", Type: config.TypeDateTime},
		{Name: "enum", Type: config.TypeEnum, Values: []string{"in_stock", "sold", "service"}},
		{Name: "email", Type: config.TypeEmail},
		{Name: "phone", Type: config.TypePhone},
		{Name: "url", Type: config.TypeURL},
		{Name: "ref", Type: config.TypeRef, To: "contact"},
		{Name: "user", Type: config.TypeUser},
		{Name: "file", Type: config.TypeFile},
	},
}

// testConfig is a small configuration: built-in-like contact, company and
// deal (with two pipelines), and the every-type entity.
func testConfig() *config.Config {
	return &config.Config{
		Locale: config.Locale{Currency: "USD", Region: "AM", Timezone: "Asia/Yerevan"},
		Entities: []*config.Entity{
			{Name: "contact", Builtin: true, Fields: []*config.Field{
				{Name: "name", Type: config.TypeString, Required: true},
				{Name: "email", Type: config.TypeEmail, Unique: true},
				{Name: "phone", Type: config.TypePhone},
				{Name: "company", Type: config.TypeRef, To: "company"},
				{Name: "birthday", Type: config.TypeDate},
			}},
			{Name: "company", Builtin: true, Fields: []*config.Field{
				{Name: "name", Type: config.TypeString, Required: true},
			}},
			{Name: "deal", Builtin: true, Fields: []*config.Field{
				{Name: "title", Type: config.TypeString, Required: true},
				{Name: "amount", Type: config.TypeMoney},
				{Name: "stage", Type: config.TypeString},
				{Name: "pipeline", Type: config.TypeString},
				{Name: "contact", Type: config.TypeRef, To: "contact"},
			}},
			everyType,
		},
		Pipelines: []*config.Pipeline{
			{Name: "sales", Entity: "deal", Stages: []string{"new", "qualified", "proposal", "won", "lost"}},
			{Name: "support", Entity: "deal", Stages: []string{"open", "closed"}},
		},
	}
}

func newTestSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := New(testConfig())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func entity(t testing.TB, name string) *Entity {
	t.Helper()
	e := newTestSchema(t).Entity(name)
	if e == nil {
		t.Fatalf("no entity %q", name)
	}
	return e
}
