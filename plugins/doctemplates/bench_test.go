package doctemplates_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/convert"
	"github.com/crmkit/crm/plugins/sdk"
)

// BenchmarkDocuments measures documents per second through the running
// plugin and the real host, for a one-page DOCX (the car dealer's contract,
// no converter), the same as PDF (LibreOffice) and a one-page HTML
// template as PDF (the clinic's plan, Chromium); for the PDFs it reports
// the plugin's share of the time (fill, host calls, storing) against the
// converter's, measured in the same run by converting the same document
// alone as many times.
func BenchmarkDocuments(b *testing.B) {
	e := start(b)
	e.mustUpload(b, "contract", "deal", "car_sales_contract.docx", map[string]any{"language": "hy", "lists": "lines=deal_line.deal"})
	e.mustUpload(b, "plan", "treatment_plan", "treatment_plan.html",
		map[string]any{"language": "fa", "calendar": "jalali", "currency": "IRR", "lists": "procedures=procedure.plan"})
	deal := carDeal(e)
	patient := e.Create("contact", map[string]any{"name": "مریم احمدی"})
	plan := e.Create("treatment_plan", map[string]any{"patient": patient.ID(), "doctor": "دکتر رضا کریمی", "starts_on": "2026-03-21",
		"total": map[string]any{"amount": "45000000", "currency": "IRR"}})
	e.Create("procedure", map[string]any{"plan": plan.ID(), "name": "عصب‌کشی", "tooth": "36", "session": 1, "price": map[string]any{"amount": "45000000", "currency": "IRR"}})

	gen := func(b *testing.B, template, format, entity, id string) sdk.Record {
		doc, err := e.generate(b, template, format, entity, id)
		if err != nil {
			b.Fatal(err)
		}
		return doc
	}
	b.Run("docx", func(b *testing.B) {
		for b.Loop() {
			gen(b, "contract", "docx", "deal", deal.ID())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("pdf_from_docx", func(b *testing.B) {
		need(b, "soffice")
		filled := e.file(b, gen(b, "contract", "docx", "deal", deal.ID()))
		share(b, func() { gen(b, "contract", "pdf", "deal", deal.ID()) },
			func() error { _, err := convert.DOCXToPDF(context.Background(), filled); return err })
	})
	b.Run("pdf_from_html", func(b *testing.B) {
		need(b, "chromium")
		page, err := os.ReadFile(filepath.Join(examples, "treatment_plan.html"))
		if err != nil {
			b.Fatal(err)
		}
		share(b, func() { gen(b, "plan", "pdf", "treatment_plan", plan.ID()) },
			func() error { _, err := convert.HTMLToPDF(context.Background(), page); return err })
	})
}

// share runs, b.N times, a generation (the measured time) and then, timer
// stopped, the converter alone on the same document, interleaved so that
// both see the same load. It reports documents per second, the plugin's
// and the converter's milliseconds per document, and the plugin's share of
// a document's time (generation less conversion, over generation).
func share(b *testing.B, generate func(), converter func() error) {
	b.Helper()
	var conv time.Duration
	for b.Loop() {
		generate()
		b.StopTimer()
		began := time.Now()
		if err := converter(); err != nil {
			b.Fatal(err)
		}
		conv += time.Since(began)
		b.StartTimer()
	}
	total := b.Elapsed()
	plugin := max(0, total-conv)
	b.ReportMetric(float64(b.N)/total.Seconds(), "docs/s")
	b.ReportMetric(float64(plugin.Milliseconds())/float64(b.N), "plugin_ms/doc")
	b.ReportMetric(float64(conv.Milliseconds())/float64(b.N), "converter_ms/doc")
	b.ReportMetric(plugin.Seconds()/total.Seconds(), "plugin_share")
}
