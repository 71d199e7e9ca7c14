package convert_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/convert"
)

// need skips the test when a program is missing, unless
// CRM_REQUIRE_CONVERTERS is set (CI sets it): then it fails.
func need(t *testing.T, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CRM_REQUIRE_CONVERTERS") != "" {
				t.Fatalf("%s is missing and CRM_REQUIRE_CONVERTERS is set", p)
			}
			t.Skipf("%s is not installed (set CRM_REQUIRE_CONVERTERS=1 to fail instead)", p)
		}
	}
}

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	need(t, "pdftotext")
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func TestHTMLToPDF(t *testing.T) {
	need(t, "chromium")
	html := `<!doctype html><html lang="fa" dir="rtl"><meta charset="utf-8"><body>
<p>قرارداد شماره ۱۲</p><p lang="hy" dir="ltr">Պայմանագիր</p><p dir="ltr">Šiaulių Ərzaq Договор</p>
<img src="http://192.0.2.1/x.png"></body></html>`
	pdf, err := convert.HTMLToPDF(context.Background(), []byte(html))
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"قرارداد", "Պայմանագիր", "Šiaulių", "Ərzaq", "Договор"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}

func TestDOCXToPDF(t *testing.T) {
	need(t, "soffice")
	pdf, err := convert.DOCXToPDF(context.Background(), minimalDOCX(t, "Պայմանագիր Договор Šiaulių"))
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Պայմանագիր", "Договор", "Šiaulių"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if _, err := convert.DOCXToPDF(context.Background(), []byte("not a docx")); err == nil {
		t.Error("a broken DOCX converted without an error")
	}
}

func TestTimeoutKillsTheConverter(t *testing.T) {
	need(t, "soffice")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := convert.DOCXToPDF(ctx, minimalDOCX(t, "x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a conversion past its deadline: %v", err)
	}
}

func TestMissingConverter(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := convert.HTMLToPDF(context.Background(), []byte("<p>x</p>"))
	var m *convert.MissingError
	if !errors.As(err, &m) || m.Package != "chromium" || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Errorf("chromium missing: %v", err)
	}
	_, err = convert.DOCXToPDF(context.Background(), nil)
	if !errors.As(err, &m) || m.Program != "soffice" || m.Package != "libreoffice-writer" {
		t.Errorf("soffice missing: %v", err)
	}
	if err := convert.Check(); err == nil || !strings.Contains(err.Error(), "libreoffice-writer") {
		t.Errorf("Check: %v", err)
	}
}

// minimalDOCX is a one-paragraph DOCX.
func minimalDOCX(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml":   `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>` + text + `</w:t></w:r></w:p></w:body></w:document>`,
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The converter never reaches the network: a page that loads an image from
// a server on this machine makes no request to it.
func TestNoNetwork(t *testing.T) {
	need(t, "chromium")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	page := `<html><body><p>offline</p><img src="` + srv.URL + `/pixel.png"><link rel="stylesheet" href="` + srv.URL + `/x.css"></body></html>`
	if _, err := convert.HTMLToPDF(context.Background(), []byte(page)); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the converter made %d requests to %s", n, srv.URL)
	}
}
