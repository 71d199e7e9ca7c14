package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
)

// An object field takes a JSON object (numbers kept exact), refuses any
// other JSON and one over MaxObjectBytes, and stores and reads back the
// same value; it cannot be indexed or searched.
func TestObjectField(t *testing.T) {
	cfg := testConfig()
	cfg.Entities = append(cfg.Entities, &config.Entity{Name: "call", Fields: []*config.Field{
		{Name: "card", Type: config.TypeObject}}})
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := s.Entity("call")
	f := e.Lookup("card")
	v, err := f.Normalize(json.RawMessage(`{"name": "Ani", "v": 1, "deals": [{"amount": {"amount": "10.50", "currency": "AMD"}}], "x": 12345678901234567890}`))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(map[string]any)
	if !ok || m["name"] != "Ani" || m["x"] != json.Number("12345678901234567890") {
		t.Fatalf("normalised %#v", v)
	}
	raw, err := e.MarshalValues(map[string]any{"card": v})
	if err != nil {
		t.Fatal(err)
	}
	back, err := e.UnmarshalValues(raw)
	if err != nil || !reflect.DeepEqual(back["card"], v) {
		t.Errorf("stored and read back: %#v %v, want %#v", back["card"], err, v)
	}
	for _, bad := range []string{`"text"`, `[1, 2]`, `12`, `true`, `{"a": "` + strings.Repeat("x", MaxObjectBytes) + `"}`} {
		_, err := f.Normalize(json.RawMessage(bad))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "card" {
			t.Errorf("%.20s: %v, want a field error of card", bad, err)
		}
	}
	if _, ok := f.ExprZero().(map[string]any); !ok {
		t.Errorf("ExprZero %#v, want a map", f.ExprZero())
	}
	for _, bad := range []*config.Field{{Name: "card", Type: config.TypeObject, Index: true},
		{Name: "card", Type: config.TypeObject, Unique: true}, {Name: "card", Type: config.TypeObject, Search: true}} {
		cfg := testConfig()
		cfg.Entities = append(cfg.Entities, &config.Entity{Name: "call", Fields: []*config.Field{bad}})
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "object") {
			t.Errorf("%+v: %v, want a refusal", bad, err)
		}
	}
}
