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

// LibreOffice opens a filled DOCX and reads its text.
func TestDOCXOpensInLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice (LibreOffice) is not installed: apt-get install libreoffice-writer to run this test")
	}
	tp, err := tmpl.Parse("docx", quoteDOCX(t))
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
	dir := t.TempDir()
	in := filepath.Join(dir, "quote.docx")
	if err := os.WriteFile(in, out, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore",
		"-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "txt:Text (encoded):UTF8", "--outdir", dir, in)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	txt, err := os.ReadFile(filepath.Join(dir, "quote.txt"))
	if err != nil {
		t.Fatalf("soffice made no text: %v", err)
	}
	for _, want := range []string{"Dear Anna & Co <VIP>,", "1500.50 AMD", "Discount: 5%", "Service «gold»", "second line"} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("LibreOffice's text lacks %q:\n%s", want, txt)
		}
	}
}
