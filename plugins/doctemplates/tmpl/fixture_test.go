package tmpl_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
)

// The parts of a minimal valid DOCX.
const (
	contentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/></Types>`
	packageRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`
	documentRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/></Relationships>`
	wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
)

// document is word/document.xml around body.
func document(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + wNS + `><w:body>` + body +
		`<w:sectPr><w:headerReference w:type="default" r:id="rId1"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>`
}

// header is word/header1.xml around body.
func header(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr ` + wNS + `>` + body + `</w:hdr>`
}

// p is a paragraph of runs of plain text.
func p(texts ...string) string {
	var b strings.Builder
	b.WriteString("<w:p>")
	for _, t := range texts {
		fmt.Fprintf(&b, `<w:r><w:t xml:space="preserve">%s</w:t></w:r>`, t)
	}
	b.WriteString("</w:p>")
	return b.String()
}

// makeDOCX is a DOCX of the given document body and header body.
func makeDOCX(t testing.TB, body, head string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{"[Content_Types].xml", contentTypes},
		{"_rels/.rels", packageRels},
		{"word/document.xml", document(body)},
		{"word/_rels/document.xml.rels", documentRels},
		{"word/header1.xml", header(head)},
	} {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// part reads one part of a DOCX.
func part(t testing.TB, docx []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(docx), int64(len(docx)))
	if err != nil {
		t.Fatalf("the output is not a zip: %v", err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("the output has no %s", name)
	return ""
}

// wordText is the text of a WordprocessingML part, checking that it is
// well-formed: paragraphs and table rows end in a line end, cells in a
// tab, breaks are line ends.
func wordText(t testing.TB, x string) string {
	t.Helper()
	s, err := wordTextErr(x)
	if err != nil {
		t.Fatalf("the output is not well-formed XML: %v\n%s", err, x)
	}
	return s
}

func wordTextErr(x string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(x))
	var b strings.Builder
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "t":
				inText = true
			case "br":
				b.WriteString("\n")
			case "tab":
				b.WriteString("\t")
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "t":
				inText = false
			case "p":
				b.WriteString("\n")
			case "tc":
				b.WriteString("|")
			}
		case xml.CharData:
			if inText {
				b.Write(e)
			}
		}
	}
}

// The helpers of the tests: small stand-ins of package format's.
var funcs = tmpl.Funcs{
	"money": func(m map[string]any) (string, error) {
		a, _ := m["amount"].(string)
		c, _ := m["currency"].(string)
		if a == "" {
			return "", errors.New("money: no amount")
		}
		return a + " " + c, nil
	},
	"date": func(d string, layout ...string) string {
		if len(layout) > 0 && layout[0] == "short" {
			return strings.ReplaceAll(d, "-", "/")
		}
		return "on " + d
	},
	"number": func(n float64) string { return fmt.Sprintf("%.2f", n) },
}

// schema is what the tests' templates may name.
var schema = tmpl.Schema{Vars: map[string]*tmpl.Type{
	"contact": {Kind: "ref", Fields: map[string]*tmpl.Type{
		"name": {Kind: "string"}, "email": {Kind: "email"},
	}},
	"deal": {Kind: "object", Fields: map[string]*tmpl.Type{
		"title":     {Kind: "string"},
		"amount":    {Kind: "money"},
		"discount":  {Kind: "int"},
		"won":       {Kind: "bool"},
		"notes":     {Kind: "text"},
		"closed_on": {Kind: "date"},
		"company": {Kind: "ref", Fields: map[string]*tmpl.Type{
			"name": {Kind: "string"},
		}},
		"lines": {Kind: "list", Elem: &tmpl.Type{Kind: "object", Fields: map[string]*tmpl.Type{
			"name":  {Kind: "string"},
			"qty":   {Kind: "int"},
			"price": {Kind: "money"},
		}}},
	}},
}}

// data is a deal with three lines, as the SDK reads records (JSON).
func data() map[string]any {
	line := func(name string, qty float64, price string) any {
		return map[string]any{"name": name, "qty": qty, "price": map[string]any{"amount": price, "currency": "AMD"}}
	}
	return map[string]any{
		"contact": map[string]any{"name": "Anna & Co <VIP>", "email": "anna@example.com"},
		"deal": map[string]any{
			"title":     "Fleet renewal",
			"amount":    map[string]any{"amount": "1500.50", "currency": "AMD"},
			"discount":  float64(5),
			"won":       true,
			"notes":     "first line\nsecond line",
			"closed_on": "2026-03-21",
			"lines": []any{
				line("Sedan", 2, "700.00"),
				line("Van", 1, "100.50"),
				line("Service «gold»", 3, "0.00"),
			},
		},
	}
}
