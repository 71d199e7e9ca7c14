package tmpl_test

import (
	"context"
	"errors"
	"strings"
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

// FuzzParseDOCX fuzzes the body of word/document.xml (mode 0), the whole
// file (mode 1), or a body built of paragraphs, tables and runs holding
// tags, one chosen by each byte (mode 2): a DOCX that fills must be
// well-formed XML.
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
		f.Add(s, uint8(0))
	}
	f.Add(string(makeDOCX(f, quoteBody, p("{{ deal.title }}"))), uint8(1))
	f.Add("PK\x03\x04", uint8(1))
	f.Add("\x00\x04\x01", uint8(2))
	f.Add("\x02\x04\x03\x05\x01\x06\x00\x10\x09", uint8(2))
	f.Add("\x06\x00\x01\x06\x02\x0b\x07\x03", uint8(2))
	f.Fuzz(func(t *testing.T, s string, mode uint8) {
		var src []byte
		switch mode % 3 {
		case 0:
			src = makeDOCX(t, s, p("{{ deal.title }}"))
		case 1:
			src = []byte(s)
		case 2:
			src = makeDOCX(t, built(s), p("{{ deal.title }}"))
		}
		out := exercise(t, "docx", src)
		if out == nil || mode%3 == 1 {
			return
		}
		if _, err := wordTextErr(part(t, out, "word/document.xml")); err != nil {
			t.Fatalf("the filled document is not well-formed: %v\n%s", err, part(t, out, "word/document.xml"))
		}
	})
}

// fuzzTags are the tags built bodies hold.
var fuzzTags = []string{"{{ for x in deal.lines }}", "{{ end }}", "{{ if deal.won }}", "{{ else }}", "{{ deal.title }}", "", "{{ x.name }}"}

// built is a body of paragraphs, tables and split runs, one chosen by
// each byte of s (tables take the next bytes for their cells).
func built(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && i < 64; i++ {
		c := s[i]
		switch c % 8 {
		case 0, 1, 2, 3, 4:
			b.WriteString(p(fuzzTags[int(c/8)%len(fuzzTags)]))
		case 5:
			b.WriteString(p("a {{ if deal.won }}b{{ else }}c{{ end }}"))
		case 6:
			// A table of rows of two cells.
			rows := 1 + int(c/8)%3
			b.WriteString("<w:tbl>")
			for range rows {
				b.WriteString("<w:tr>")
				for range 2 {
					i++
					x := byte(0)
					if i < len(s) {
						x = s[i]
					}
					b.WriteString(cell(fuzzTags[int(x)%len(fuzzTags)]))
				}
				b.WriteString("</w:tr>")
			}
			b.WriteString("</w:tbl>")
		case 7:
			tag := fuzzTags[int(c/8)%len(fuzzTags)]
			half := len(tag) / 2
			b.WriteString(`<w:p><w:r><w:t>` + tag[:half] + `</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">` + tag[half:] + `</w:t></w:r></w:p>`)
		}
	}
	return b.String()
}
