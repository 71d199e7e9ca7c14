package tmpl_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
)

// cell is a table cell of one paragraph.
func cell(text string) string {
	return `<w:tc><w:tcPr><w:tcW w:w="3000" w:type="dxa"/></w:tcPr>` + p(text) + `</w:tc>`
}

// quoteBody is a quote: a greeting whose placeholder Word split across
// three runs (with proofErr and a bookmark between), values with helpers,
// a conditional over paragraphs, one in the text, a loop over table rows
// and one over paragraphs.
const quoteBody = `<w:p><w:r><w:t xml:space="preserve">Dear </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{{ con</w:t></w:r>` +
	`<w:proofErr w:type="spellStart"/><w:r><w:rPr><w:i/></w:rPr><w:t>tact.na</w:t></w:r><w:proofErr w:type="spellEnd"/>` +
	`<w:bookmarkStart w:id="0" w:name="greeting"/><w:r><w:t>me }}</w:t></w:r><w:bookmarkEnd w:id="0"/><w:r><w:t>,</w:t></w:r></w:p>`

func quoteDOCX(t testing.TB) []byte {
	body := quoteBody +
		p("Amount: {{ deal.amount | money }} due {{ deal.closed_on | date(&quot;short&quot;) }}, ", "signed {{ deal.closed_on | date(“short”) }}") +
		p("{{ if deal.discount }}") + p("Discount: {{ deal.discount }}%") + p("{{ else }}") + p("No discount.") + p("{{ end }}") +
		p("Status: {{ if deal.won }}won{{ else }}open{{ end }}.") +
		`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/><w:gridCol w:w="3000"/></w:tblGrid>` +
		`<w:tr>` + cell("Item") + cell("Qty") + cell("Price") + `</w:tr>` +
		`<w:tr>` + cell("{{ for i, line in deal.lines }}{{ i }}. {{ line.name }}") + cell("{{ line.qty }}") + cell("{{ line.price | money }}{{ end }}") + `</w:tr>` +
		`<w:tr>` + cell("Total") + cell("") + cell("{{ deal.amount | money }}") + `</w:tr></w:tbl>` +
		p("Notes: {{ deal.notes }}") +
		p("{{ for line in deal.lines }}") + p("- {{ line.name }} × {{ line.qty }}") + p("{{ end }}") +
		p("Company: {{ deal.company.name }}.")
	return makeDOCX(t, body, p("Quote for {{ deal.title }}"))
}

func TestDOCXFill(t *testing.T) {
	tp, err := tmpl.Parse("docx", quoteDOCX(t))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		t.Fatalf("Check: %v", err)
	}
	out, err := tp.Render(context.Background(), data(), funcs)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	doc := part(t, out, "word/document.xml")
	got := wordText(t, doc)
	for _, want := range []string{
		"Dear Anna & Co <VIP>,\n",
		"Amount: 1500.50 AMD due 2026/03/21, signed 2026/03/21\n",
		"\nDiscount: 5%\n",
		"Status: won.\n",
		"Item\n|Qty\n|Price\n|",
		"1. Sedan\n|2\n|700.00 AMD\n|2. Van\n|1\n|100.50 AMD\n|3. Service «gold»\n|3\n|0.00 AMD\n|Total\n|\n|1500.50 AMD\n|",
		"Notes: first line\nsecond line\n",
		"\n- Sedan × 2\n- Van × 1\n- Service «gold» × 3\nCompany: .\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the document's text lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"{{", "}}", "No discount", "open", "if deal"} {
		if strings.Contains(got, bad) {
			t.Errorf("the document's text holds %q:\n%s", bad, got)
		}
	}
	// The value takes the formatting of the run its placeholder starts in.
	if want := `<w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Anna &amp; Co &lt;VIP&gt;</w:t>`; !strings.Contains(doc, want) {
		t.Errorf("the greeting is not in the bold run: want %s in\n%s", want, doc)
	}
	if !strings.Contains(doc, `first line</w:t><w:br/><w:t xml:space="preserve">second line`) {
		t.Errorf("the notes' line end is not a <w:br/>:\n%s", doc)
	}
	if got := wordText(t, part(t, out, "word/header1.xml")); got != "Quote for Fleet renewal\n" {
		t.Errorf("header = %q", got)
	}
	// The other parts are copied as they are.
	if got := part(t, out, "word/_rels/document.xml.rels"); got != documentRels {
		t.Errorf("document.xml.rels changed: %s", got)
	}
}

func TestDOCXPlaceholders(t *testing.T) {
	tp, err := tmpl.Parse("docx", quoteDOCX(t))
	if err != nil {
		t.Fatal(err)
	}
	ph := tp.Placeholders()
	if len(ph) == 0 || ph[0].Expr != "contact.name" || ph[0].Where != "word/document.xml paragraph 1" {
		t.Fatalf("first placeholder = %+v", ph[0])
	}
	found := false
	for _, x := range ph {
		if x.Expr == "line.qty" && !found {
			found = true
			if x.Where != "word/document.xml paragraph 13 (table 1 row 2 cell 2)" {
				t.Errorf("line.qty is at %q", x.Where)
			}
		}
	}
	if !found {
		t.Errorf("no line.qty among %+v", ph)
	}
}

// A conditional over table rows keeps or drops them; an else alone in a
// row between them switches.
func TestDOCXTableConditional(t *testing.T) {
	row := func(s string) string { return `<w:tr>` + cell(s) + cell("") + `</w:tr>` }
	body := `<w:tbl>` + row("{{ if deal.won }}") + row("Won: {{ deal.title }}") + row("{{ else }}") + row("Lost") + row("{{ end }}") + `</w:tbl>` + p("")
	tp, err := tmpl.Parse("docx", makeDOCX(t, body, p("")))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		t.Fatal(err)
	}
	for _, won := range []bool{true, false} {
		d := data()
		d["deal"].(map[string]any)["won"] = won
		out, err := tp.Render(context.Background(), d, funcs)
		if err != nil {
			t.Fatal(err)
		}
		got := wordText(t, part(t, out, "word/document.xml"))
		want := "Won: Fleet renewal\n|\n|\n"
		if !won {
			want = "Lost\n|\n|\n"
		}
		// The tags' rows stay, emptied; the other branch's rows go.
		if !strings.Contains(got, want) || strings.Contains(got, map[bool]string{true: "Lost", false: "Won"}[won]) {
			t.Errorf("won=%v: text %q, want %q", won, got, want)
		}
	}
}

// soffice is LibreOffice, or the test is skipped.
func soffice(t *testing.T) string {
	path, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice (LibreOffice) is not installed: apt-get install libreoffice-writer to run this test")
	}
	return path
}

// convert converts the file name in dir with LibreOffice to the format
// (e.g. "txt:Text (encoded):UTF8") and returns the result's bytes.
func convert(t *testing.T, dir, name, format, ext string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice(t), "--headless", "--norestore",
		"-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", format, "--outdir", dir, filepath.Join(dir, name))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	out, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, filepath.Ext(name))+"."+ext))
	if err != nil {
		t.Fatalf("soffice made no %s: %v", ext, err)
	}
	return out
}

// fill parses, checks and renders a DOCX template.
func fill(t *testing.T, docx []byte) []byte {
	t.Helper()
	tp, err := tmpl.Parse("docx", docx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(context.Background(), data(), funcs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// LibreOffice opens a filled DOCX and reads its text.
func TestDOCXOpensInLibreOffice(t *testing.T) {
	soffice(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "quote.docx"), fill(t, quoteDOCX(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	txt := convert(t, dir, "quote.docx", "txt:Text (encoded):UTF8", "txt")
	for _, want := range []string{"Dear Anna & Co <VIP>,", "1500.50 AMD", "Discount: 5%", "Service «gold»", "second line"} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("LibreOffice's text lacks %q:\n%s", want, txt)
		}
	}
}

// A template that LibreOffice wrote (runs split by formatting, its own
// styles and table properties) fills, and LibreOffice opens the result.
func TestDOCXMadeByLibreOffice(t *testing.T) {
	soffice(t)
	dir := t.TempDir()
	src := `<html><body>
<p>Dear <b>{{ contact</b>.name }},</p>
<p>Amount: <i>{{ deal.amount | money }}</i></p>
<table border="1">
<tr><td>Item</td><td>Qty</td></tr>
<tr><td>{{ for line in deal.lines }}{{ line.name }}</td><td>{{ line.qty }}{{ end }}</td></tr>
</table>
<p>{{ if deal.won }}</p><p>Won!</p><p>{{ else }}</p><p>Open.</p><p>{{ end }}</p>
</body></html>`
	if err := os.WriteFile(filepath.Join(dir, "template.html"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	template := convert(t, dir, "template.html", "docx:MS Word 2007 XML", "docx")
	if err := os.WriteFile(filepath.Join(dir, "filled.docx"), fill(t, template), 0o600); err != nil {
		t.Fatal(err)
	}
	txt := string(convert(t, dir, "filled.docx", "txt:Text (encoded):UTF8", "txt"))
	for _, want := range []string{"Dear Anna & Co <VIP>,", "Amount: 1500.50 AMD", "Sedan", "Van", "Service «gold»", "Won!"} {
		if !strings.Contains(txt, want) {
			t.Errorf("LibreOffice's text lacks %q:\n%s", want, txt)
		}
	}
	for _, bad := range []string{"{{", "Open."} {
		if strings.Contains(txt, bad) {
			t.Errorf("LibreOffice's text holds %q:\n%s", bad, txt)
		}
	}
}

// However Word splits a placeholder, it is found, and filled in the run
// it starts in.
func TestDOCXSplitPlaceholders(t *testing.T) {
	run := func(rpr, text string) string {
		return `<w:r>` + rpr + `<w:t xml:space="preserve">` + text + `</w:t></w:r>`
	}
	cases := map[string]string{
		"braces apart":    run("", "{") + run("", "{ deal.ti") + `<w:proofErr w:type="gramStart"/>` + run("", "tle }") + run("", "}!"),
		"empty runs":      run("", "{{") + `<w:r><w:t/></w:r>` + run("", "") + run("", "deal.title}}!"),
		"in a hyperlink":  `<w:hyperlink r:id="rId9">` + run("", "{{ deal.") + `</w:hyperlink>` + run("", "title }}!"),
		"entities":        run("", "{{ deal.title + &quot;&quot; ") + run("", "}}!"),
		"one run":         run("", "{{deal.title}}!"),
		"text after tags": run("", "{{ deal.title }}") + run("<w:rPr><w:u/></w:rPr>", "!"),
	}
	for name, runs := range cases {
		tp, err := tmpl.Parse("docx", makeDOCX(t, `<w:p>`+runs+`</w:p>`, p("")))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := tp.Check(schema, funcs); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out, err := tp.Render(context.Background(), data(), funcs)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := wordText(t, part(t, out, "word/document.xml")); got != "Fleet renewal!\n" {
			t.Errorf("%s: text %q", name, got)
		}
	}
}

// One checked template renders in many goroutines at once, each with its
// own helpers.
func TestDOCXConcurrentRenders(t *testing.T) {
	tp, err := tmpl.Parse("docx", quoteDOCX(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		t.Fatal(err)
	}
	type result struct {
		g   int
		out []byte
		err error
	}
	results := make(chan result, 8)
	for g := range 8 {
		go func() {
			fs := tmpl.Funcs{}
			for k, v := range funcs {
				fs[k] = v
			}
			suffix := strings.Repeat("!", g)
			fs["money"] = func(m map[string]any) string { return m["amount"].(string) + suffix }
			out, err := tp.Render(context.Background(), data(), fs)
			results <- result{g, out, err}
		}()
	}
	for range 8 {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
			continue
		}
		if !strings.Contains(part(t, r.out, "word/document.xml"), "1500.50"+strings.Repeat("!", r.g)+"<") {
			t.Errorf("goroutine %d did not use its own money helper", r.g)
		}
	}
}

// A conditional over the paragraphs of a cell that removes them all
// leaves the cell its last paragraph, emptied: a cell must end in one.
func TestDOCXCellKeepsAParagraph(t *testing.T) {
	body := `<w:tbl><w:tr><w:tc>` + p("{{ if deal.won }}") + p("Won") + p("{{ end }}") + `</w:tc></w:tr></w:tbl>` + p("")
	tp, err := tmpl.Parse("docx", makeDOCX(t, body, p("")))
	if err != nil {
		t.Fatal(err)
	}
	d := data()
	d["deal"].(map[string]any)["won"] = false
	out, err := tp.Render(context.Background(), d, funcs)
	if err != nil {
		t.Fatal(err)
	}
	doc := part(t, out, "word/document.xml")
	wordText(t, doc)
	cellXML := doc[strings.Index(doc, "<w:tc>"):strings.Index(doc, "</w:tc>")]
	if strings.Contains(cellXML, "Won") || !strings.Contains(cellXML, "<w:p>") {
		t.Errorf("the cell is %s", cellXML)
	}
}
