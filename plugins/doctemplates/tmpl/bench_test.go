package tmpl_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
)

// BenchmarkRenderDOCX reports one-page quotes filled per second (Render of
// a checked template: expressions, loops, the zip written) and its ratio
// to the floor of any DOCX writer, measured here: the same file's zip
// rewritten with its document.xml recompressed and nothing filled.
func BenchmarkRenderDOCX(b *testing.B) {
	src := quoteDOCX(b)
	tp, err := tmpl.Parse("docx", src)
	if err != nil {
		b.Fatal(err)
	}
	if err := tp.Check(schema, funcs); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d := data()
	n := max(b.N, 200)
	b.ResetTimer()
	start := time.Now()
	for range n {
		if _, err := tp.Render(ctx, d, funcs); err != nil {
			b.Fatal(err)
		}
	}
	render := time.Since(start)
	b.StopTimer()
	start = time.Now()
	for range n {
		if err := rezip(src); err != nil {
			b.Fatal(err)
		}
	}
	floor := time.Since(start)
	b.ReportMetric(float64(n)/render.Seconds(), "docs/s")
	b.ReportMetric(float64(n)/floor.Seconds(), "rezips/s")
	b.ReportMetric(render.Seconds()/floor.Seconds(), "x_rezip_time")
}

// rezip writes a DOCX's zip again, recompressing word/document.xml.
func rezip(src []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			if err := zw.Copy(f); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
	}
	return zw.Close()
}
