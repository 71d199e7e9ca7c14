package browsertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// needConverters fails the test naming the packages when the PDF
// converters the doctemplates plugin runs are not installed.
func needConverters(t *testing.T) {
	t.Helper()
	for _, c := range []struct{ bin, pkg string }{{"chromium", "chromium"}, {"soffice", "libreoffice-writer"}} {
		if _, err := exec.LookPath(c.bin); err != nil {
			t.Fatalf("%s is not installed: apt-get install -y %s fonts-noto-core", c.bin, c.pkg)
		}
	}
}

// TestDocuments drives the doctemplates plugin from the UI: a template's
// first upload from the button on the template list (a list action, called
// with no record; the file uploaded first), a document generated from a
// deal's page that shows in the deal's timeline and downloads as a PDF, and
// a template with an unknown placeholder refused next to the file, naming
// where the placeholder is, with no template stored.
func TestDocuments(t *testing.T) {
	needConverters(t)
	s := startCRMWith(t, "testdata/documents.hcl")
	deal := s.newDeal(t, "Camry for Narek", "offer", "15300000")
	dir := t.TempDir()
	letter := filepath.Join(dir, "letter.html")
	if err := os.WriteFile(letter, []byte(`<!doctype html><html><body>
<h1>Offer {{ doc.number }}</h1>
<p>{{ deal.title }}: {{ deal.amount | money }}</p>
</body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.html")
	if err := os.WriteFile(broken, []byte("<p>Dear customer,</p>\n<p>{{ deal.nosuch }}</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	b := browser(t)
	ctx := session(t, b)
	signIn(t, ctx, s)
	uploadButton := `.list-actions button[data-action="doctemplates.upload_template"]`
	fill := func(name, file string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(s.URL+"/records/document_template"),
			waitJS(`!!document.querySelector(`+jsString(uploadButton)+`)`),
			chromedp.Click(chromedp.CSS(uploadButton)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-name`)),
			// Beside the four required arguments, the six optional ones fold away.
			waitJS(`document.querySelectorAll('.modal .field').length === 10 && !document.querySelector('.modal .more-args').open`),
			chromedp.SendKeys(chromedp.CSS(`#arg-name`), name),
			chromedp.SendKeys(chromedp.CSS(`#arg-entity`), "deal"),
			setSelect(`#arg-format`, "html"),
			chromedp.SetUploadFiles(chromedp.CSS(`#arg-file`), []string{file}),
			// The file is stored first; the action gets its id.
			waitJS(`!!document.querySelector('[data-arg="file"] a[download]')`),
		)
	}

	t.Run("a refused template shows the problem and where it is, and stores nothing", func(t *testing.T) {
		run(t, ctx, "upload a template with an unknown placeholder",
			fill("broken_letter", broken),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`(() => { const e = document.querySelector('.modal [data-arg="file"] .error');
				return e && e.textContent.includes('line 2') && e.textContent.includes('{{ deal.nosuch }}') && e.textContent.includes('unknown field nosuch'); })()`),
			waitJS(`document.querySelector('#arg-file').getAttribute('aria-invalid') === 'true'`),
		)
		screenshot(t, ctx, "en-upload-template")
		if got := s.find(t, "document_template", "name == 'broken_letter'"); len(got) != 0 {
			t.Fatalf("a refused template was stored: %v", got)
		}
		run(t, ctx, "close", chromedp.KeyEvent("\x1b"), waitJS(`!document.querySelector('.modal')`))
	})

	t.Run("the first upload of a template from the list", func(t *testing.T) {
		run(t, ctx, "upload letter.html",
			fill("letter", letter),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`(() => { const a = document.querySelector('.modal .result a'); return a && a.getAttribute('href').startsWith('/records/document_template/'); })()`),
			chromedp.KeyEvent("\x1b"),
			// The list shows the new template as it is stored.
			waitJS(`[...document.querySelectorAll('table.records tbody tr')].some(r => r.textContent.includes('letter'))`),
		)
		got := s.find(t, "document_template", "name == 'letter'")
		if len(got) != 1 || got[0]["revision"] != float64(1) || got[0]["record_entity"] != "deal" {
			t.Fatalf("stored templates: %v", got)
		}
	})

	t.Run("a document generated on a deal's page is in its timeline and downloads", func(t *testing.T) {
		gen := `.record-actions button[data-action="doctemplates.generate_document"]`
		run(t, ctx, "generate a PDF from the deal's page",
			chromedp.Navigate(s.URL+"/records/deal/"+deal),
			waitJS(`!!document.querySelector(`+jsString(gen)+`)`),
			chromedp.Click(chromedp.CSS(gen)),
			chromedp.WaitVisible(chromedp.CSS(`.modal #arg-template`)),
			chromedp.SendKeys(chromedp.CSS(`#arg-template`), "letter"),
			setSelect(`#arg-format`, "pdf"),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`!!document.querySelector('.modal .result')`),
			chromedp.KeyEvent("\x1b"),
			waitJS(`!document.querySelector('.modal')`),
		)
		docs := s.find(t, "document", "deal == '"+deal+"'")
		if len(docs) != 1 || docs[0]["number"] == nil {
			t.Fatalf("documents of the deal: %v", docs)
		}
		number := docs[0]["number"].(string)
		doc := `[...document.querySelectorAll('.timeline .tl-record')].find(li => li.querySelector('a[href^="/records/document/"]') && li.querySelector('.tl-file a[download]'))`
		run(t, ctx, "the document is in the deal's timeline, its PDF a link",
			waitJS(`!!`+doc),
			waitJS(doc+`.querySelector('.tl-file a[download]').getAttribute('download').endsWith('.pdf')`),
		)
		run(t, ctx, "scroll to the timeline", waitJS(`(() => { document.querySelector('.timeline').scrollIntoView({block: 'end'}); return true; })()`))
		screenshot(t, ctx, "en-deal-document")
		run(t, ctx, "the link downloads the PDF",
			chromedp.Evaluate[chromedp.Void](`fetch(`+doc+`.querySelector('.tl-file a[download]').href)
				.then(r => r.arrayBuffer()).then(b => { window.__pdf = String.fromCharCode(...new Uint8Array(b).slice(0, 5)); })`),
			waitJS(`window.__pdf === '%PDF-'`),
		)
		if number == "" {
			t.Fatal("the document has no number")
		}
		// A document made elsewhere (a rule, the API) shows in the open
		// page's timeline as it is stored.
		s.mustAPI(t, "POST", "/api/v1/plugins/doctemplates/actions/generate_document",
			map[string]any{"entity": "deal", "id": deal, "args": map[string]any{"template": "letter", "format": "pdf"}}, nil)
		run(t, ctx, "a document made through the API appears live",
			waitJS(`[...document.querySelectorAll('.timeline .tl-record .tl-file a[download]')].length === 2`),
			waitJS(`[...document.querySelectorAll('.timeline .tl-file a[download]')].some(a => a.getAttribute('download').includes('0002'))`),
		)
	})

	t.Run("in Persian: the upload dialog and the deal's timeline", func(t *testing.T) {
		run(t, ctx, "switch to Persian",
			chromedp.Navigate(s.URL+"/records/deal/"+deal),
			waitJS(`!!document.querySelector('.timeline .tl-file a[download]')`),
			openUserMenu(),
			setSelect(`#pref-language`, "fa"),
			waitJS(`document.documentElement.dir === 'rtl'`),
			closeUserMenu(),
			waitJS(`!!document.querySelector('.timeline .tl-file a[download]')`),
		)
		run(t, ctx, "the plugin's button is labelled in Persian (the manifest's labels)",
			waitJS(`document.querySelector('.record-actions button[data-action="doctemplates.generate_document"]').textContent.trim() === 'ساخت سند'`))
		run(t, ctx, "scroll to the timeline", waitJS(`(() => { document.querySelector('.timeline').scrollIntoView({block: 'end'}); return true; })()`))
		screenshot(t, ctx, "fa-deal-document")
		run(t, ctx, "a refusal in Persian",
			fill("broken_letter", broken),
			chromedp.Click(chromedp.CSS(`.modal button[type=submit]`)),
			waitJS(`(() => { const e = document.querySelector('.modal [data-arg="file"] .error');
				return e && e.textContent.startsWith('رد شد') && e.textContent.includes('{{ deal.nosuch }}'); })()`),
		)
		screenshot(t, ctx, "fa-upload-template")
		run(t, ctx, "back to English", chromedp.KeyEvent("\x1b"), openUserMenu(), setSelect(`#pref-language`, "en"),
			waitJS(`document.documentElement.dir === 'ltr'`), closeUserMenu())
	})
}
