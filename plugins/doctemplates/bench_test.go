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
// plugin (its own process) and the real host: a one-page DOCX (the car
// dealer's contract: no converter), the same as PDF (LibreOffice), and a
// one-page HTML template as PDF (the clinic's plan, Chromium). For the PDFs
// it reports the converter's time per document, measured in the same run
// by converting the same document alone, and the plugin's share of a
// document's time: the plugin's own work (template, checks, data, filling,
// numbering, storing: a DOCX generation, which converts nothing) over that
// plus the converter's. A share from "generation less conversion" would be
// noise: a converter's start varies by more than the plugin's whole work.
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
	// The plugin's own time per document, for the shares below.
	const warm = 20
	began := time.Now()
	for range warm {
		gen(b, "contract", "docx", "deal", deal.ID())
	}
	plugin := time.Since(began) / warm

	b.Run("docx", func(b *testing.B) {
		for b.Loop() {
			gen(b, "contract", "docx", "deal", deal.ID())
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("pdf_from_docx", func(b *testing.B) {
		need(b, "soffice")
		filled := e.file(b, gen(b, "contract", "docx", "deal", deal.ID()))
		share(b, plugin, func() { gen(b, "contract", "pdf", "deal", deal.ID()) },
			func() error { _, err := convert.DOCXToPDF(context.Background(), filled); return err })
	})
	b.Run("pdf_from_html", func(b *testing.B) {
		need(b, "chromium")
		page, err := os.ReadFile(filepath.Join(examples, "treatment_plan.html"))
		if err != nil {
			b.Fatal(err)
		}
		share(b, plugin, func() { gen(b, "plan", "pdf", "treatment_plan", plan.ID()) },
			func() error { _, err := convert.HTMLToPDF(context.Background(), page); return err })
	})
}

// share runs b.N generations (the measured time) and, timer stopped after
// each, the converter alone on the same document. It reports documents per
// second, the plugin's and the converter's milliseconds per document, and
// the plugin's share of their sum.
func share(b *testing.B, plugin time.Duration, generate func(), converter func() error) {
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
	perConv := conv / time.Duration(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(plugin.Microseconds())/1000, "plugin_ms/doc")
	b.ReportMetric(float64(perConv.Microseconds())/1000, "converter_ms/doc")
	b.ReportMetric(plugin.Seconds()/(plugin+perConv).Seconds(), "plugin_share")
}
