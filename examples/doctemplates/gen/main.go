// Command gen writes the example DOCX templates of examples/doctemplates
// (a car dealer's sales contract in Armenian and English, a logistics
// firm's waybill in Lithuanian and Azerbaijani) as Word would: styles, a
// table whose row repeats for each line, and a placeholder split across
// runs with a proofing mark between them, as Word leaves them after an
// edit. Run it from the repository: go run ./examples/doctemplates/gen
package main

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := "examples/doctemplates"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for name, body := range map[string]string{
		"car_sales_contract.docx": carContract(),
		"waybill.docx":            waybill(),
	} {
		data, err := docx(body)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// esc escapes text for XML.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// run is a run of text; bold makes it bold.
func run(text string, bold bool) string {
	rpr := ""
	if bold {
		rpr = "<w:rPr><w:b/></w:rPr>"
	}
	return `<w:r>` + rpr + `<w:t xml:space="preserve">` + esc(text) + `</w:t></w:r>`
}

// para is a paragraph of runs.
func para(runs ...string) string { return "<w:p>" + strings.Join(runs, "") + "</w:p>" }

// text is a paragraph of one run.
func text(s string) string { return para(run(s, false)) }

// heading is a bold, centred paragraph.
func heading(s string) string {
	return `<w:p><w:pPr><w:jc w:val="center"/></w:pPr>` + run(s, true) + `</w:p>`
}

// split is a placeholder cut into runs the way Word leaves one, with a
// proofing mark between the pieces.
func split(pieces ...string) string {
	var b strings.Builder
	for i, p := range pieces {
		if i > 0 {
			b.WriteString(`<w:proofErr w:type="spellStart"/>`)
		}
		b.WriteString(run(p, false))
	}
	return b.String()
}

// table is a table with borders; each row a list of cell texts.
func table(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders>`)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		fmt.Fprintf(&b, `<w:%s w:val="single" w:sz="4" w:space="0" w:color="000000"/>`, side)
	}
	b.WriteString(`</w:tblBorders></w:tblPr>`)
	for _, r := range rows {
		b.WriteString("<w:tr>")
		for _, c := range r {
			b.WriteString(`<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr>` + text(c) + `</w:tc>`)
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl>")
	return b.String()
}

func carContract() string {
	return strings.Join([]string{
		heading("ԱՎՏՈՄԵՔԵՆԱՅԻ ԱՌՈՒՎԱՃԱՌՔԻ ՊԱՅՄԱՆԱԳԻՐ"),
		heading("VEHICLE SALES CONTRACT"),
		text("№ {{ doc.number }}, {{ doc.date | date }}"),
		text("Վաճառող / Seller: «Արարատ Մոտորս» ՍՊԸ / Ararat Motors LLC"),
		para(run("Գնորդ / Buyer: ", true), split("{{ con", "tact.na", "me }}"), run(", {{ contact.phone }}", false)),
		text("Ավտոմեքենա / Vehicle: {{ vehicle.make }} {{ vehicle.model }}, {{ vehicle.year }}, VIN {{ vehicle.vin }}"),
		table(
			[]string{"#", "Անվանում / Item", "Քանակ / Qty", "Գին / Price"},
			[]string{"{{ for i, line in lines }}{{ i }}", "{{ line.name }}", "{{ line.qty }}", "{{ line.price | money }}{{ end }}"},
		),
		text("Ընդհանուր գին / Total price: {{ deal.amount | money }}"),
		text("Բառերով / In words: {{ deal.amount | words }}"),
		text("{{ if deal.stage == \"won\" }}Վճարված է / Paid in full{{ else }}Վճարման ենթակա / Payable on delivery{{ end }}"),
		text("Կողմերի ստորագրությունները / Signatures: ____________ / ____________"),
	}, "")
}

func waybill() string {
	return strings.Join([]string{
		heading("VAŽTARAŠTIS / YÜK QAİMƏSİ"),
		text("Nr. {{ doc.number }} — {{ doc.date | date }}"),
		text("Vežėjas / Daşıyıcı: {{ carrier.name }}"),
		para(run("Gavėjas / Alıcı: ", true), split("{{ consignee.", "name }}"), run(", {{ consignee.phone }}", false)),
		text("Maršrutas / Marşrut: {{ shipment.origin }} → {{ shipment.destination }}"),
		table(
			[]string{"Prekė / Mal", "Kiekis / Miqdar", "Svoris, kg / Çəki, kq"},
			[]string{"{{ for item in items }}{{ item.name }}", "{{ item.qty }}", "{{ item.weight_kg | number }}{{ end }}"},
		),
		text("Bendras svoris / Ümumi çəki: {{ shipment.weight_kg | number }} kg"),
		text("Kaina / Qiymət: {{ shipment.cost | money }}"),
		text("Suma žodžiais / Məbləğ sözlə: {{ shipment.cost | words }}"),
		text("Pasirašė / İmza: ____________"),
	}, "")
}

// docx packages a document body as a DOCX: content types, relationships,
// styles (Noto fonts, which cover Armenian, Lithuanian and Azerbaijani
// letters) and the document.
func docx(body string) ([]byte, error) {
	const w = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	files := []struct{ name, data string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`},
		{"word/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles ` + w + `><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Noto Sans" w:hAnsi="Noto Sans" w:cs="Noto Sans" w:eastAsia="Noto Sans"/><w:sz w:val="22"/><w:lang w:val="en-US"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + w + `><w:body>` + body + `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>`},
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := z.Create(f.name)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write([]byte(f.data)); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
