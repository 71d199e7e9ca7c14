package tmpl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// fuzzLimits keep each fuzzed render short.
var fuzzLimits = tmpl.Limits{Time: 50 * time.Millisecond, Memory: 4 << 20, Output: 1 << 20,
	Expr: exprbudget.Limits{Steps: 10_000, Memory: 1 << 20, Time: 50 * time.Millisecond}}

// exercise parses, checks and renders a template: every failure must be
// a *tmpl.Error, and nothing may panic. It returns the output, if any.
func exercise(t *testing.T, kind string, src []byte) []byte {
	tp, err := tmpl.Parse(kind, src)
	var te *tmpl.Error
	if err != nil {
		if !errors.As(err, &te) || len(te.Problems) == 0 {
			t.Fatalf("Parse: %v (%T) is not a *tmpl.Error with problems", err, err)
		}
		return nil
	}
	_ = tp.Placeholders()
	if err := tp.Check(schema, funcs); err != nil {
		if !errors.As(err, &te) || len(te.Problems) == 0 {
			t.Fatalf("Check: %v (%T) is not a *tmpl.Error with problems", err, err)
		}
		// An unchecked template renders too.
		tp, _ = tmpl.Parse(kind, src)
	}
	out, err := tp.RenderWith(context.Background(), data(), funcs, fuzzLimits)
	if err != nil {
		if !errors.As(err, &te) || len(te.Problems) == 0 {
			t.Fatalf("Render: %v (%T) is not a *tmpl.Error with problems", err, err)
		}
		return nil
	}
	return out
}

func FuzzParseHTML(f *testing.F) {
	for _, s := range []string{
		letter,
		"{{ deal.title",
		"{{ for x in deal.lines }}{{ x.name }}{{ else }}{{ end }}",
		"{{ if deal.won }}a{{ else }}b{{ end }}{{ end }}",
		`{{ deal.amount | money | upper }} {{ "a|b" | upper }} {{ deal.won || false }}`,
		`{{ repeat("a", 100000000) }}`,
		"{{ {a: 1}}} }}",
		"\n\t{{ for i, x in 1..3 }}\n{{ i }}\n\t{{ end }}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		exercise(t, "html", []byte(src))
	})
}

// FuzzParseDOCX fuzzes the body of word/document.xml (or, when raw, the
// whole file): a DOCX that fills must be well-formed XML.
func FuzzParseDOCX(f *testing.F) {
	for _, s := range []string{
		quoteBody,
		p("{{ for x in deal.lines }}") + p("{{ x.name }}") + p("{{ end }}"),
		`<w:tbl><w:tr>` + cell("{{ for x in deal.lines }}{{ x.name }}") + cell("{{ end }}") + `</w:tr></w:tbl>`,
		`<w:tbl><w:tr>` + cell("{{ if deal.won }}") + `</w:tr><w:tr>` + cell("{{ else }}") + `</w:tr><w:tr>` + cell("{{ end }}") + `</w:tr></w:tbl>`,
		p("Status: {{ if deal.won }}won{{ else }}open{{ end }}."),
		`<w:p><w:hyperlink><w:r><w:t>{{ if deal.won }}</w:t></w:r></w:hyperlink><w:r><w:t>{{ end }}</w:t></w:r></w:p>`,
		p("{{ deal.notes }} &amp; {{ &quot;a&quot; }}"),
		`<w:p><w:r><w:t>{{</w:t></w:r><w:r><w:t/></w:r><w:r><w:t>deal.title}}</w:t></w:r></w:p>`,
	} {
		f.Add(s, false)
	}
	f.Add(string(makeDOCX(f, quoteBody, p("{{ deal.title }}"))), true)
	f.Add("PK\x03\x04", true)
	f.Fuzz(func(t *testing.T, s string, raw bool) {
		src := []byte(s)
		if !raw {
			src = makeDOCX(t, s, p("{{ deal.title }}"))
		}
		out := exercise(t, "docx", src)
		if out == nil || raw {
			return
		}
		if _, err := wordTextErr(part(t, out, "word/document.xml")); err != nil {
			t.Fatalf("the filled document is not well-formed: %v\n%s", err, part(t, out, "word/document.xml"))
		}
	})
}
