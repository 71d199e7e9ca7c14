package doctemplates_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates"
	"github.com/crmkit/crm/plugins/doctemplates/format"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// examples is the directory of the example templates and their HCL.
const examples = "../../examples/doctemplates"

// TestMain serves the plugin when the host starts this test binary as the
// plugin's process: the tests run it as crm does, in a process of its own.
func TestMain(m *testing.M) { sdktest.Main(m, doctemplates.New) }

// vehicleHCL is what entities.hcl takes from crm.hcl, beside which it
// goes: the locale's languages and the part of the vehicle the car
// dealer's contract shows.
const vehicleHCL = `
locale {
  languages = ["en", "hy", "lt", "az", "fa", "ru"]
  default   = "en"
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
}

entity "vehicle" {
  field "vin" {
    type     = "string"
    required = true
    unique   = true
  }
  field "make" { type = "string" }
  field "model" { type = "string" }
  field "year" { type = "int" }
}
`

// env is a running plugin on a real host with an admin to act as.
type env struct {
	*sdktest.Host
	admin sdk.User
}

func start(t testing.TB) *env {
	t.Helper()
	return startWith(t, map[string]any{"no_default_templates": true})
}

func startWith(t testing.TB, config map[string]any) *env {
	t.Helper()
	hcl, err := os.ReadFile(filepath.Join(examples, "entities.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	h := sdktest.Start(t, doctemplates.New(), sdktest.Options{
		Config: string(hcl) + vehicleHCL,
		Read:   []string{"*"}, Write: []string{"document", "document_template", "document_series"},
		PluginConfig: config,
		Process:      true,
		// A PDF from a cold LibreOffice on a loaded machine takes seconds.
		CallTimeout: 90 * time.Second,
		Locale:      sdk.Locale{Languages: []string{"en", "hy", "lt", "az", "fa", "ru"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan"},
	})
	return &env{Host: h, admin: h.AddUser("admin@example.com", "admin")}
}

// upload uploads a template as the admin; args are more arguments.
func (e *env) upload(t testing.TB, name, entity, file string, data []byte, args map[string]any) (sdk.Record, error) {
	t.Helper()
	kind := strings.TrimPrefix(filepath.Ext(file), ".")
	f := e.As(e.admin).StoreFile(file, "application/octet-stream", data)
	a := map[string]any{"name": name, "entity": entity, "format": kind, "file": f["id"]}
	for k, v := range args {
		a[k] = v
	}
	var rec sdk.Record
	err := e.As(e.admin).InvokeInto(sdk.Call{Action: doctemplates.ActionUpload, Args: a}, &rec)
	return rec, err
}

func (e *env) mustUpload(t testing.TB, name, entity, file string, args map[string]any) sdk.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, file))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.upload(t, name, entity, file, data, args)
	if err != nil {
		t.Fatalf("upload %s: %v", file, err)
	}
	return rec
}

// generate generates a document as the admin.
func (e *env) generate(t testing.TB, template, format, entity, id string) (sdk.Record, error) {
	t.Helper()
	var doc sdk.Record
	err := e.As(e.admin).InvokeInto(sdk.Call{Action: doctemplates.ActionGenerate,
		Args: map[string]any{"template": template, "format": format}, Record: &sdk.RecordRef{Entity: entity, ID: id}}, &doc)
	return doc, err
}

// file is the bytes of a document's file.
func (e *env) file(t testing.TB, doc sdk.Record) []byte {
	t.Helper()
	f, _ := doc["file"].(map[string]any)
	id, _ := f["id"].(string)
	_, data := e.ReadFile(id)
	return data
}

// need skips the test when a program is missing, unless
// CRM_REQUIRE_CONVERTERS is set (CI sets it): then the test fails.
func need(t testing.TB, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CRM_REQUIRE_CONVERTERS") != "" {
				t.Fatalf("%s is not installed and CRM_REQUIRE_CONVERTERS is set", p)
			}
			t.Skipf("%s is not installed: skipped (set CRM_REQUIRE_CONVERTERS=1 to fail instead)", p)
		}
	}
}

func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	need(t, "pdftotext")
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.40q", pdf)
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// docxText checks that data is a DOCX whose every XML part is well formed
// and returns the text of word/document.xml.
func docxText(t testing.TB, data []byte) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the DOCX is not a ZIP package: %v", err)
	}
	var text strings.Builder
	found := false
	for _, f := range z.File {
		if !strings.HasSuffix(f.Name, ".xml") && !strings.HasSuffix(f.Name, ".rels") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed XML: %v", f.Name, err)
			}
			if cd, ok := tok.(xml.CharData); ok && f.Name == "word/document.xml" {
				text.Write(cd)
			}
		}
		rc.Close()
		found = found || f.Name == "word/document.xml"
	}
	if !found {
		t.Fatal("the DOCX has no word/document.xml")
	}
	return text.String()
}

// keep writes a generated PDF into $CRM_DOCUMENTS_OUT, when set: the
// README's renderings of the examples come from there (see docs/documents).
func keep(t testing.TB, name string, pdf []byte) {
	t.Helper()
	if dir := os.Getenv("CRM_DOCUMENTS_OUT"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stripBidi removes the bidi controls pdftotext puts around right-to-left
// and left-to-right runs.
func stripBidi(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F {
			return -1
		}
		return r
	}, s)
}

func contains(t testing.TB, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func words(t testing.TB, lang, amount, currency string) string {
	t.Helper()
	w, err := format.MoneyWords(format.Locale{Lang: lang}, amount, currency)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestManifestIsValid(t *testing.T) {
	if err := doctemplates.New().Manifest().Validate(); err != nil {
		t.Fatal(err)
	}
}

// carDeal is the car dealer's data: a buyer, a car, a deal with two lines.
func carDeal(e *env) sdk.Record {
	buyer := e.Create("contact", map[string]any{"name": "Արամ Պետրոսյան", "phone": "+37491123456"})
	car := e.Create("vehicle", map[string]any{"vin": "WVWZZZ1JZXW000001", "make": "Toyota", "model": "Camry", "year": 2024})
	deal := e.Create("deal", map[string]any{"title": "Camry", "contact": buyer.ID(), "vehicle": car.ID(),
		"amount": map[string]any{"amount": "15300000", "currency": "AMD"}})
	e.Create("deal_line", map[string]any{"deal": deal.ID(), "name": "Toyota Camry 2024", "qty": 1, "price": map[string]any{"amount": "15000000", "currency": "AMD"}})
	e.Create("deal_line", map[string]any{"deal": deal.ID(), "name": "Ձմեռային անվադողեր / Winter tyres", "qty": 4, "price": map[string]any{"amount": "75000", "currency": "AMD"}})
	return deal
}

func TestCarSalesContract(t *testing.T) {
	e := start(t)
	tpl := e.mustUpload(t, "sales_contract", "deal", "car_sales_contract.docx", map[string]any{"language": "hy", "series": "SC", "lists": "lines=deal_line.deal"})
	if tpl["revision"] != float64(1) || !strings.Contains(tpl.String("placeholders"), "contact.name") {
		t.Errorf("template: %v", tpl)
	}
	deal := carDeal(e)
	year := time.Now().Year()

	doc, err := e.generate(t, "sales_contract", "docx", "deal", deal.ID())
	if err != nil {
		t.Fatal(err)
	}
	if doc.String("number") != fmt.Sprintf("SC-%d-0001", year) || doc.String("deal") != deal.ID() || doc.String("vehicle") != deal.String("vehicle") || doc.String("contact") != deal.String("contact") || doc.String("template") != tpl.ID() || doc["template_revision"] != float64(1) {
		t.Errorf("document: %v", doc)
	}
	text := docxText(t, e.file(t, doc))
	contains(t, "the DOCX", text, "Արամ Պետրոսյան", "WVWZZZ1JZXW000001", "Toyota Camry 2024", "Winter tyres",
		fmt.Sprintf("SC-%d-0001", year), words(t, "hy", "15300000", "AMD"), "Վճարման ենթակա")
	if strings.Contains(text, "{{") {
		t.Errorf("the DOCX has placeholders left:\n%s", text)
	}

	need(t, "soffice")
	pdf, err := e.generate(t, "sales_contract", "pdf", "deal", deal.ID())
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "car_sales_contract.pdf", e.file(t, pdf))
	contains(t, "the PDF", pdfText(t, e.file(t, pdf)), "ԱՌՈՒՎԱՃԱՌՔԻ ՊԱՅՄԱՆԱԳԻՐ", "Արամ Պետրոսյան", "VEHICLE SALES CONTRACT",
		fmt.Sprintf("SC-%d-0002", year), "Winter tyres")
}

func TestTreatmentPlanInPersian(t *testing.T) {
	e := start(t)
	e.mustUpload(t, "treatment_plan", "treatment_plan", "treatment_plan.html",
		map[string]any{"language": "fa", "calendar": "jalali", "currency": "IRR", "timezone": "Asia/Tehran", "series": "TP",
			"lists": "procedures=procedure.plan"})
	patient := e.Create("contact", map[string]any{"name": "مریم احمدی", "phone": "+989121234567"})
	plan := e.Create("treatment_plan", map[string]any{"patient": patient.ID(), "doctor": "دکتر رضا کریمی", "starts_on": "2026-03-21",
		"total": map[string]any{"amount": "45000000", "currency": "IRR"}})
	e.Create("procedure", map[string]any{"plan": plan.ID(), "name": "عصب‌کشی", "tooth": "36", "session": 1, "price": map[string]any{"amount": "30000000", "currency": "IRR"}})
	e.Create("procedure", map[string]any{"plan": plan.ID(), "name": "جرم‌گیری", "tooth": "همه", "session": 2, "price": map[string]any{"amount": "15000000", "currency": "IRR"}})

	need(t, "chromium")
	doc, err := e.generate(t, "treatment_plan", "pdf", "treatment_plan", plan.ID())
	if err != nil {
		t.Fatal(err)
	}
	if doc.String("treatment_plan") != plan.ID() || doc.String("record_id") != plan.ID() || doc.String("contact") != patient.ID() || !strings.HasPrefix(doc.String("number"), "TP-14") {
		t.Errorf("document: %v", doc) // Jalali year: 14xx
	}
	startDate, err := format.Date(format.Locale{Lang: "fa", Calendar: "jalali"}, "2026-03-21", "")
	if err != nil {
		t.Fatal(err)
	}
	// Persian in logical order: pdftotext gives the words as typed, with
	// bidi marks around runs and neutrals (a colon, a space between a
	// word and digits) placed by its own reordering, so the date is
	// looked for word by word.
	keep(t, "treatment_plan.pdf", e.file(t, doc))
	text := stripBidi(pdfText(t, e.file(t, doc)))
	contains(t, "the PDF", text, "طرح درمان", "مریم احمدی", "دکتر رضا کریمی", "عصب‌کشی", "جرم‌گیری",
		words(t, "fa", "45000000", "IRR"), "+989121234567", "۳۰٬۰۰۰٬۰۰۰")
	contains(t, "the PDF", text, strings.Fields(startDate)...)
}

func TestWaybill(t *testing.T) {
	e := start(t)
	e.mustUpload(t, "waybill", "shipment", "waybill.docx", map[string]any{"language": "lt", "currency": "EUR", "series": "WB", "lists": "items=shipment_item.shipment"})
	carrier := e.Create("company", map[string]any{"name": "UAB „Šiaulių krovinių pervežimai“"})
	consignee := e.Create("contact", map[string]any{"name": "Əli Məmmədov", "phone": "+994501234567"})
	ship := e.Create("shipment", map[string]any{"carrier": carrier.ID(), "consignee": consignee.ID(), "origin": "Šiauliai", "destination": "Bakı",
		"weight_kg": "1250.5", "cost": map[string]any{"amount": "2340.50", "currency": "EUR"}})
	e.Create("shipment_item", map[string]any{"shipment": ship.ID(), "name": "Baldai / Mebel", "qty": 12, "weight_kg": "1000"})
	e.Create("shipment_item", map[string]any{"shipment": ship.ID(), "name": "Kilimai / Xalçalar", "qty": 5, "weight_kg": "250.5"})

	doc, err := e.generate(t, "waybill", "docx", "shipment", ship.ID())
	if err != nil {
		t.Fatal(err)
	}
	if doc.String("shipment") != ship.ID() || doc.String("company") != carrier.ID() || doc.String("contact") != consignee.ID() {
		t.Errorf("document links: %v", doc)
	}
	wordsLT := words(t, "lt", "2340.50", "EUR")
	contains(t, "the DOCX", docxText(t, e.file(t, doc)), "Šiaulių krovinių", "Əli Məmmədov", "Baldai / Mebel", "Kilimai / Xalçalar", "Bakı", wordsLT)

	need(t, "soffice")
	pdf, err := e.generate(t, "waybill", "pdf", "shipment", ship.ID())
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "waybill.pdf", e.file(t, pdf))
	contains(t, "the PDF", pdfText(t, e.file(t, pdf)), "VAŽTARAŠTIS", "YÜK QAİMƏSİ", "Əli Məmmədov", "Šiauliai", "Xalçalar")
}

// A template with problems is refused with every problem named, and no
// template record is made; a document of an unknown template neither.
func TestBadTemplates(t *testing.T) {
	e := start(t)
	html := func(s string) []byte { return []byte("<html><body><p>" + s + "</p></body></html>") }
	for _, c := range []struct {
		name, file string
		data       []byte
		want       []string
	}{
		{"unknown field", "a.html", html("{{ contact.nmae }}"), []string{"contact.nmae", "line 1", "name"}},
		{"unknown variable", "b.html", html("{{ invoice.total }}"), []string{"invoice"}},
		{"bad expression", "c.html", html("{{ deal.title + }}"), []string{"deal.title +"}},
		{"unknown helper", "d.html", html("{{ deal.amount | monye }}"), []string{"monye"}},
		{"unclosed loop", "e.html", html("{{ for l in lines }}x"), []string{"for"}},
		{"broken docx", "f.docx", []byte("PK\x03\x04 this is no zip"), []string{"DOCX"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.upload(t, "bad", "deal", c.file, c.data, map[string]any{"lists": "lines=deal_line.deal"})
			var r *sdk.Refusal
			if !errors.As(err, &r) || r.Code != doctemplates.CodeBadTemplate || r.Field != "file" {
				t.Fatalf("upload: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(strings.ToLower(r.Message), strings.ToLower(w)) {
					t.Errorf("the refusal does not name %q: %s", w, r.Message)
				}
			}
		})
	}
	if got := e.List("document_template", ""); len(got) != 0 {
		t.Errorf("bad templates were stored: %v", got)
	}
	deal := e.Create("deal", map[string]any{"title": "x"})
	_, err := e.generate(t, "quote", "pdf", "deal", deal.ID())
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != doctemplates.CodeUnknownTemplate {
		t.Errorf("generate from no template: %v", err)
	}
	if got := e.List("document", ""); len(got) != 0 {
		t.Errorf("documents were made: %v", got)
	}
}

// A template whose expression would eat the memory fails its document, and
// gives its number back; the plugin answers the next call.
func TestMemoryHungryTemplate(t *testing.T) {
	e := start(t)
	if _, err := e.upload(t, "hungry", "deal", "hungry.docx", nil, nil); err == nil {
		t.Fatal("an empty DOCX was accepted")
	}
	hungry := []byte(`<html><body><p>{{ doc.number }}</p><p>{{ join(map(1..100000000, {repeat("x", 1000)}), "") }}</p></body></html>`)
	if _, err := e.upload(t, "hungry", "deal", "hungry.html", hungry, map[string]any{"series": "H"}); err != nil {
		t.Fatal(err)
	}
	okTpl := []byte(`<html><body><p>{{ doc.number }} {{ deal.title }}</p></body></html>`)
	if _, err := e.upload(t, "plain", "deal", "plain.html", okTpl, map[string]any{"series": "H"}); err != nil {
		t.Fatal(err)
	}
	deal := e.Create("deal", map[string]any{"title": "Sofa"})
	_, err := e.generate(t, "hungry", "pdf", "deal", deal.ID())
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != doctemplates.CodeRenderFailed || !strings.Contains(r.Message, "budget exceeded") || !strings.Contains(r.Message, "repeat") {
		t.Fatalf("a memory-hungry template: %v", err)
	}
	if got := e.List("document", ""); len(got) != 0 {
		t.Errorf("a failed document was stored: %v", got)
	}
	if e.Restarts() != 0 {
		t.Errorf("the plugin was restarted %d times", e.Restarts())
	}
	need(t, "chromium")
	doc, err := e.generate(t, "plain", "pdf", "deal", deal.ID())
	if err != nil {
		t.Fatalf("the next call: %v", err)
	}
	// The failed document's number was given back: this one has 1.
	if want := fmt.Sprintf("H-%d-0001", time.Now().Year()); doc.String("number") != want {
		t.Errorf("number after a failed document: %s, want %s", doc.String("number"), want)
	}
	contains(t, "the PDF", pdfText(t, e.file(t, doc)), "Sofa")
}

// A rule's call retried with its idempotency key makes one document, with
// one number.
func TestIdempotentGeneration(t *testing.T) {
	e := start(t)
	e.mustUpload(t, "sales_contract", "deal", "car_sales_contract.docx", map[string]any{"lists": "lines=deal_line.deal"})
	deal := carDeal(e)
	call := sdk.Call{Action: doctemplates.ActionGenerate, Args: map[string]any{"template": "sales_contract", "format": "docx"},
		Record: &sdk.RecordRef{Entity: "deal", ID: deal.ID()}, IdempotencyKey: "rule:quote:42"}
	var first, second sdk.Record
	if err := e.InvokeInto(call, &first); err != nil {
		t.Fatal(err)
	}
	if err := e.InvokeInto(call, &second); err != nil {
		t.Fatal(err)
	}
	if first.ID() != second.ID() || len(e.List("document", "")) != 1 {
		t.Errorf("two calls with one key: %s, %s, %d documents", first.ID(), second.ID(), len(e.List("document", "")))
	}
	call.IdempotencyKey = "rule:quote:43"
	var third sdk.Record
	if err := e.InvokeInto(call, &third); err != nil {
		t.Fatal(err)
	}
	if third.ID() == first.ID() || third["seq"] != float64(2) {
		t.Errorf("another key: %v", third)
	}
}

// Twenty documents generated at once get the numbers 1..20, each once.
func TestSeriesUnderConcurrency(t *testing.T) {
	e := start(t)
	e.mustUpload(t, "sales_contract", "deal", "car_sales_contract.docx", map[string]any{"lists": "lines=deal_line.deal", "series": "C"})
	deal := carDeal(e)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	seqs := make([]int, n)
	for i := range n {
		wg.Go(func() {
			doc, err := e.generate(t, "sales_contract", "docx", "deal", deal.ID())
			errs[i] = err
			if err == nil {
				seqs[i] = int(doc["seq"].(float64))
			}
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("generation %d: %v", i, errs[i])
		}
		if seen[seqs[i]] {
			t.Errorf("number %d given twice", seqs[i])
		}
		seen[seqs[i]] = true
	}
	for k := 1; k <= n; k++ {
		if !seen[k] {
			t.Errorf("number %d missing: %v", k, seqs)
		}
	}
}

// A crash of the plugin (kill -9) between taking a number and storing its
// document leaves the number pending in its series record, as written
// here: once no document has it two minutes after its take, the next take
// hands it out again; and a crashed number at the end of a series is
// swept when the plugin starts (Configure).
func TestCrashedNumberIsReused(t *testing.T) {
	e := start(t)
	e.mustUpload(t, "sales_contract", "deal", "car_sales_contract.docx", map[string]any{"lists": "lines=deal_line.deal", "series": "C"})
	deal := carDeal(e)
	gen := func(want int) {
		t.Helper()
		doc, err := e.generate(t, "sales_contract", "docx", "deal", deal.ID())
		if err != nil {
			t.Fatal(err)
		}
		if doc["seq"] != float64(want) {
			t.Fatalf("document %s, want number %d", doc.String("number"), want)
		}
	}
	crash := func(n int) { // the record a take of n leaves, 10 minutes ago
		t.Helper()
		rec := e.List(doctemplates.SeriesEntity, "")[0]
		pending := rec.String("pending")
		if pending != "" {
			pending += ","
		}
		at := time.Now().Add(-10 * time.Minute).UnixMilli()
		e.Update(doctemplates.SeriesEntity, rec.ID(), map[string]any{"last": n, "pending": fmt.Sprintf("%s%d@%d", pending, n, at)})
	}
	gen(1)
	crash(2)
	gen(2) // the hole filled
	gen(3)
	crash(4)
	e.Restart()
	if rec := e.List(doctemplates.SeriesEntity, "")[0]; rec["last"] != float64(3) {
		t.Fatalf("after the restart, the series record: %v", rec)
	}
	gen(4)
	seen := map[float64]bool{}
	for _, d := range e.List("document", "") {
		if seen[d["seq"].(float64)] {
			t.Errorf("number %v used twice", d["seq"])
		}
		seen[d["seq"].(float64)] = true
	}
	if len(seen) != 4 {
		t.Errorf("documents: %v", seen)
	}
}

// A template uploaded again under its name is its next version; documents
// record the version they were made from.
func TestTemplateVersions(t *testing.T) {
	e := start(t)
	v1 := e.mustUpload(t, "note", "deal", "car_sales_contract.docx", map[string]any{"lists": "lines=deal_line.deal"})
	data := []byte(`<html><body><p>{{ deal.title }} v2</p></body></html>`)
	v2, err := e.upload(t, "note", "deal", "note.html", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v1["revision"] != float64(1) || v2["revision"] != float64(2) {
		t.Fatalf("revisions: %v, %v", v1["revision"], v2["revision"])
	}
	deal := e.Create("deal", map[string]any{"title": "Sofa"})
	_, err = e.generate(t, "note", "docx", "deal", deal.ID())
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Field != "format" {
		t.Errorf("docx of an HTML template (the latest version): %v", err)
	}
}

// The plugin brings a "quote" template for deals: a rule on a new
// instance makes quotes before anyone uploads one.
func TestDefaultQuote(t *testing.T) {
	e := startWith(t, nil)
	acme := e.Create("company", map[string]any{"name": "Acme"})
	ani := e.Create("contact", map[string]any{"name": "Ani Hakobyan", "email": "ani@example.com", "company": acme.ID()})
	deal := e.Create("deal", map[string]any{"title": "Office chairs", "contact": ani.ID(), "company": acme.ID(),
		"amount": map[string]any{"amount": "1500.50", "currency": "AMD"}})
	need(t, "chromium")
	var doc sdk.Record
	err := e.InvokeInto(sdk.Call{Action: doctemplates.ActionGenerate, Args: map[string]any{"template": "quote", "format": "pdf"},
		Record: &sdk.RecordRef{Entity: "deal", ID: deal.ID()}, IdempotencyKey: "rule:quote_on_offer:7"}, &doc)
	if err != nil {
		t.Fatal(err)
	}
	if doc.String("deal") != deal.ID() || doc.String("contact") != ani.ID() || doc.String("company") != acme.ID() {
		t.Errorf("links: %v", doc)
	}
	keep(t, "quote.pdf", e.file(t, doc))
	contains(t, "the PDF", pdfText(t, e.file(t, doc)), "Quote DOC-", "Ani Hakobyan", "Acme", "Office chairs", words(t, "en", "1500.50", "AMD"))
}

// Without the converters the plugin starts, logs what is missing, and
// refuses a PDF naming the program and its Debian package; DOCX documents
// still work.
func TestMissingConverters(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	e := start(t)
	if !strings.Contains(e.Log(), "PDF converters missing") || !strings.Contains(e.Log(), "libreoffice-writer") {
		t.Errorf("the start-up log does not say what is missing:\n%s", e.Log())
	}
	e.mustUpload(t, "sales_contract", "deal", "car_sales_contract.docx", map[string]any{"lists": "lines=deal_line.deal"})
	deal := carDeal(e)
	_, err := e.generate(t, "sales_contract", "pdf", "deal", deal.ID())
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != doctemplates.CodeConverterMissing || !strings.Contains(r.Message, `"soffice"`) || !strings.Contains(r.Message, "apt-get install libreoffice-writer") {
		t.Errorf("a PDF without LibreOffice: %v", err)
	}
	if got := e.List("document", ""); len(got) != 0 {
		t.Errorf("documents were made: %v", got)
	}
	if _, err := e.generate(t, "sales_contract", "docx", "deal", deal.ID()); err != nil {
		t.Errorf("a DOCX without converters: %v", err)
	}
	if warning, err := e.Health(); err != nil || !strings.Contains(warning, "libreoffice-writer") || !strings.Contains(warning, "chromium") {
		t.Errorf("health without converters: %q, %v", warning, err)
	}
}
