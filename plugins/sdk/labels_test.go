package sdk

import (
	"slices"
	"testing"
)

// TestLocalize: an entity's, a field's (its own key before "*.") and a
// button's labels come from the translations with the English label as
// "en"; what they do not name keeps its labels, and Unlabelled names it.
func TestLocalize(t *testing.T) {
	m := Manifest{
		Entities: []Entity{{Name: "invoice", Label: "Invoice", Fields: []Field{
			{Name: "name", Label: "Name"}, {Name: "number", Label: "Number"}, {Name: "odd", Label: "Odd"},
		}}},
		UIActions: []UIAction{{Entity: "deal", Action: "issue", Label: "Issue"}},
	}
	m = Localize(m, Translations{
		"invoice":      {"ru": "Счёт"},
		"*.name":       {"ru": "Название"},
		"*.number":     {"ru": "Номер"},
		"button:issue": {"ru": "Выставить"},
	}, Translations{"invoice.number": {"ru": "Номер счёта"}, "invoice": {"ru": "ignored"}})
	e := m.Entities[0]
	for what, got := range map[string]map[string]string{
		"entity": e.Labels, "name": e.Fields[0].Labels, "number": e.Fields[1].Labels, "button": m.UIActions[0].Labels,
	} {
		if got["en"] == "" || got["ru"] == "" || got["ru"] == "ignored" {
			t.Errorf("%s: %v", what, got)
		}
	}
	if got := e.Fields[1].Labels["ru"]; got != "Номер счёта" {
		t.Errorf("a field's own key comes before its *. key: %q", got)
	}
	if got := Unlabelled(m, []string{"en", "ru"}); !slices.Equal(got, []string{"field invoice.odd: en", "field invoice.odd: ru"}) {
		t.Errorf("Unlabelled = %q", got)
	}
}

// TestLocalizeArgs: an action's argument and the fields of its items are
// labelled from "arg:ACTION.NAME" before "arg:NAME"; Unlabelled names an
// argument with an English label that a language lacks, and leaves one
// without a label alone.
func TestLocalizeArgs(t *testing.T) {
	m := Manifest{Actions: []Action{{Name: "pay", Args: []Arg{
		{Name: "amount", Label: "Amount"},
		{Name: "note"},
		{Name: "allocations", Label: "Invoices paid", Type: TypeObject, Items: []Arg{
			{Name: "invoice", Label: "Invoice"}, {Name: "amount", Label: "Part"}, {Name: "odd", Label: "Odd"},
		}},
	}}}}
	m = Localize(m, Translations{
		"arg:amount":                 {"ru": "Сумма"},
		"arg:pay.allocations":        {"ru": "Оплаченные счета"},
		"arg:invoice":                {"ru": "Счёт"},
		"arg:pay.allocations.amount": {"ru": "Часть"},
	})
	g := m.Actions[0].Args
	for what, c := range map[string]struct {
		got  map[string]string
		want string
	}{
		"amount": {g[0].Labels, "Сумма"}, "allocations": {g[2].Labels, "Оплаченные счета"},
		"invoice": {g[2].Items[0].Labels, "Счёт"}, "part": {g[2].Items[1].Labels, "Часть"},
	} {
		if c.got["ru"] != c.want || c.got["en"] == "" {
			t.Errorf("%s: %v, want ru %q", what, c.got, c.want)
		}
	}
	if got := Unlabelled(m, []string{"en", "ru"}); !slices.Equal(got, []string{"argument pay.allocations.odd: en", "argument pay.allocations.odd: ru"}) {
		t.Errorf("Unlabelled = %q", got)
	}
}
