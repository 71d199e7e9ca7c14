package sdk_test

import (
	"encoding/json"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
)

// A Table's figures travel as result.js reads them: name, label, labels,
// type and value, after the rows; a table without figures has no key.
func TestTableFiguresJSON(t *testing.T) {
	tab := sdk.Table{Title: "Missed calls not returned",
		Columns: []sdk.Column{{Name: "number", Label: "Number", Type: sdk.TypePhone}},
		Rows:    []map[string]any{{"number": "+37493555777"}},
		Figures: []sdk.Figure{{Name: "missed", Label: "Missed", Labels: map[string]string{"ru": "Пропущенные"}, Type: sdk.TypeInt, Value: 2}}}
	got, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"title":"Missed calls not returned","columns":[{"name":"number","label":"Number","type":"phone"}],` +
		`"rows":[{"number":"+37493555777"}],"figures":[{"name":"missed","label":"Missed","labels":{"ru":"Пропущенные"},"type":"int","value":2}]}`
	if string(got) != want {
		t.Errorf("table\n%s\nwant\n%s", got, want)
	}
	tab.Figures = nil
	if got, _ := json.Marshal(tab); json.Valid(got) && string(got) != `{"title":"Missed calls not returned","columns":[{"name":"number","label":"Number","type":"phone"}],"rows":[{"number":"+37493555777"}]}` {
		t.Errorf("a table without figures: %s", got)
	}
}
