package sdk

// Table is an action's answer that the web UI shows as a table (a report:
// revenue by month, what customers owe): an answer that is an object with
// a "table" key holding a Table, beside whatever else it holds for the
// API and rules, is shown as one. Each column has a field type, and its
// cells are shown as a field of that type is (TypeMoney in the user's
// locale, TypeUser by name, TypeRef as a link to the record); numbers are
// aligned at the end; the totals rows come last, under a rule, the first
// column saying "Total" where a totals row leaves it empty. Figures about
// the whole report (an SLA, counts) are shown above the table, each a
// label and a value shown as a field of its type is. The table scrolls
// sideways in its own box on a narrow screen.
//
//	return map[string]any{"rows": rows, "table": sdk.Table{Columns: cols, Rows: rows, Totals: totals}}, nil
type Table struct {
	// Title is the table's caption, in English; TitleLabels per language
	// code. Both may be empty.
	Title       string            `json:"title,omitempty"`
	TitleLabels map[string]string `json:"title_labels,omitempty"`
	Columns     []Column          `json:"columns"`
	// Rows and Totals map a column's Name to its cell's value, in the API
	// form of the column's type ({"amount", "currency"} for money; a list
	// of them for a sum in several currencies). A missing or nil cell is
	// empty.
	Rows   []map[string]any `json:"rows"`
	Totals []map[string]any `json:"totals,omitempty"`
	// Figures are values about the whole report, shown above the table
	// in their order (the SLA of a report of missed calls, how many were
	// missed).
	Figures []Figure `json:"figures,omitempty"`
}

// Figure is a labelled value about a whole Table.
type Figure struct {
	Name string `json:"name"`
	// Label is the figure's label in English; Labels per language code
	// (Translations.Labels fills them).
	Label  string            `json:"label"`
	Labels map[string]string `json:"labels,omitempty"`
	// Type is a field type (TypeString when empty); To the entity of a
	// TypeRef figure.
	Type string `json:"type,omitempty"`
	To   string `json:"to,omitempty"`
	// Value is in the API form of Type, as a cell's.
	Value any `json:"value"`
}

// Column is a column of a Table.
type Column struct {
	Name string `json:"name"`
	// Label is the column's heading in English; Labels per language code
	// (Translations.Labels fills them).
	Label  string            `json:"label"`
	Labels map[string]string `json:"labels,omitempty"`
	// Type is a field type (TypeString when empty); To the entity of a
	// TypeRef column.
	Type string `json:"type,omitempty"`
	To   string `json:"to,omitempty"`
}

// Labels is the label english has in every language ts names for key
// ("column:net"), with english as "en": the Labels of a Column or of a
// Table's title.
func (ts Translations) Labels(key, english string) map[string]string {
	out := map[string]string{"en": english}
	for lang, s := range ts[key] {
		out[lang] = s
	}
	return out
}
