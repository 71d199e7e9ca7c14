package calltracking

// Table is a report in a tabular shape, for a client to render as a table
// without knowing the report: its columns in order, each with a label in
// the UI's languages and a type (the field types' names: string, int,
// decimal, money, bool, datetime, phone, ref), and its rows, each an
// object keyed by the columns' names. A money cell is a money object, or
// a list of them when the sum is in several currencies; a ref cell a
// record id of the column's To entity; a missing or null cell is empty.
type Table struct {
	// Title names the report, in English; Titles in the other languages.
	Title  string            `json:"title"`
	Titles map[string]string `json:"titles,omitempty"`
	// Columns are the table's columns, in order.
	Columns []Column `json:"columns"`
	// Rows are the table's rows, in order.
	Rows []map[string]any `json:"rows"`
	// Totals are figures about the whole report (the SLA, counts), shown
	// beside the table: each a column with its value.
	Totals []Total `json:"totals,omitempty"`
}

// Column is a table's column.
type Column struct {
	Name string `json:"name"`
	// Label is in English; Labels in the other languages (hy lt az fa ru).
	Label  string            `json:"label"`
	Labels map[string]string `json:"labels,omitempty"`
	Type   string            `json:"type"`
	// To is a ref column's entity.
	To string `json:"to,omitempty"`
}

// Total is a figure about a whole report.
type Total struct {
	Column
	Value any `json:"value"`
}

// col is a column labelled in the six languages: en, hy, lt, az, fa, ru.
func col(name, typ string, labels ...string) Column {
	c := Column{Name: name, Type: typ, Label: labels[0], Labels: map[string]string{}}
	for i, lang := range []string{"hy", "lt", "az", "fa", "ru"} {
		if i+1 < len(labels) {
			c.Labels[lang] = labels[i+1]
		}
	}
	return c
}

// titles is a report title's translations, hy lt az fa ru.
func titles(hy, lt, az, fa, ru string) map[string]string {
	return map[string]string{"hy": hy, "lt": lt, "az": az, "fa": fa, "ru": ru}
}
