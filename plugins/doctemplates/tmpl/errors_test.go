package tmpl_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
)

// problems is the *Error of err, failing the test if it is not one.
func problems(t *testing.T, err error) []tmpl.Problem {
	t.Helper()
	var te *tmpl.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *tmpl.Error", err, err)
	}
	return te.Problems
}

// Each mistake is one problem naming the placeholder, where it is and
// what is wrong; Parse finds the syntax, Check names and types.
func TestCheckErrors(t *testing.T) {
	cases := []struct {
		src, where, placeholder, message string
		parse                            bool // a problem of Parse, not of Check
	}{
		{src: "x {{ deal.amountt }}", where: "line 1 column 3", placeholder: "{{ deal.amountt }}", message: "unknown field amountt on deal (did you mean amount?)"},
		{src: "{{ deal.company.nme }}", placeholder: "{{ deal.company.nme }}", message: "unknown field nme on deal.company (did you mean name?)"},
		{src: "{{ dael.title }}", message: "unknown name dael (did you mean deal?)"},
		{src: "\n  {{ deal.title + 1 }}", where: "line 2 column 3", message: "invalid operation: + (mismatched types string and int)"},
		{src: "{{ deal.amount | mony }}", message: "unknown helper mony (the helpers are date, money, number)"},
		{src: "{{ deal.title | money }}", message: "cannot use string as argument (type map[string]interface {}) to call money"},
		{src: "{{ money(deal.amount, 1) }}", message: "too many arguments to call money"},
		{src: "{{ deal.closed_on | date(1) }}", message: "cannot use int as argument (type string) to call date"},
		{src: "{{ for x in deal.title }}{{ end }}", message: "a loop goes over a list; deal.title is text"},
		{src: "{{ for line in deal.lines }}{{ line.nme }}{{ end }}", placeholder: "{{ line.nme }}", message: "unknown field nme on line (did you mean name?)"},
		{src: "{{ for line in deal.lines }}{{ end }}{{ line.name }}", message: "unknown name line"},
		{src: "{{ deal.lines }}", message: "deal.lines is a list, not text"},
		{src: "{{ deal.title", message: "{{ is not closed by }}", parse: true},
		{src: "a\n{{ end }}", where: "line 2 column 1", message: "{{ end }} without a {{ for }} or {{ if }} before it", parse: true},
		{src: "{{ for x in deal.lines }}", message: "{{ for x in deal.lines }} is not closed", parse: true},
		{src: "{{ for x deal.lines }}{{ end }}", message: "a loop is written {{ for item in list }}", parse: true},
		{src: "{{ deal.title +* }}", message: "unexpected token", parse: true},
		{src: "{{ for x in deal.lines }}{{ else }}{{ end }}", message: "a loop has no {{ else }}", parse: true},
		{src: "{{ __budget }}", message: "unknown name __budget", parse: true},
		{src: "{{ }}", message: "empty placeholder", parse: true},
		{src: `{{ $env["__budget"] }}`, message: "unknown name $env", parse: true},
		{src: "{{ deal.title | 1 }}", message: "after | comes a helper", parse: true},
	}
	for _, c := range cases {
		tp, err := tmpl.Parse("html", []byte(c.src))
		if c.parse {
			if err == nil {
				t.Errorf("%q: Parse succeeded", c.src)
				continue
			}
		} else {
			if err != nil {
				t.Errorf("%q: Parse: %v", c.src, err)
				continue
			}
			if err = tp.Check(schema, funcs); err == nil {
				t.Errorf("%q: Check succeeded", c.src)
				continue
			}
		}
		ps := problems(t, err)
		if len(ps) != 1 {
			t.Errorf("%q: %d problems, want 1: %v", c.src, len(ps), err)
			continue
		}
		got := ps[0]
		if !strings.Contains(got.Message, c.message) {
			t.Errorf("%q: message %q, want %q", c.src, got.Message, c.message)
		}
		if c.where != "" && got.Where != c.where {
			t.Errorf("%q: where %q, want %q", c.src, got.Where, c.where)
		}
		if c.placeholder != "" && got.Placeholder != c.placeholder {
			t.Errorf("%q: placeholder %q, want %q", c.src, got.Placeholder, c.placeholder)
		}
		if got.Where == "" || (!strings.Contains(c.src, "{{ deal.title\x00") && got.Placeholder == "") {
			t.Errorf("%q: the problem does not say where and which placeholder: %+v", c.src, got)
		}
	}
}

// Check reports every problem at once, each where it is.
func TestCheckAllProblems(t *testing.T) {
	body := p("{{ deal.amountt }}") + p("fine {{ deal.title }}") + `<w:tbl><w:tr>` + cell("{{ contact.nam }}") + `</w:tr></w:tbl>` + p("")
	tp, err := tmpl.Parse("docx", makeDOCX(t, body, p("{{ deal.titel }}")))
	if err != nil {
		t.Fatal(err)
	}
	ps := problems(t, tp.Check(schema, funcs))
	want := []tmpl.Problem{
		{Where: "word/document.xml paragraph 1", Placeholder: "{{ deal.amountt }}", Message: "unknown field amountt on deal (did you mean amount?)"},
		{Where: "word/document.xml paragraph 3 (table 1 row 1 cell 1)", Placeholder: "{{ contact.nam }}", Message: "unknown field nam on contact (did you mean name?)"},
		{Where: "word/header1.xml paragraph 1", Placeholder: "{{ deal.titel }}", Message: "unknown field titel on deal (did you mean title?)"},
	}
	if len(ps) != len(want) {
		t.Fatalf("problems:\n%v\nwant:\n%v", ps, want)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("problem %d = %+v, want %+v", i, ps[i], want[i])
		}
	}
}

// A broken DOCX is an *Error too.
func TestBrokenDOCX(t *testing.T) {
	zipOf := func(files map[string]string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range files {
			w, _ := zw.Create(name)
			w.Write([]byte(body))
		}
		zw.Close()
		return buf.Bytes()
	}
	cases := []struct {
		name    string
		data    []byte
		message string
	}{
		{"not a zip", []byte("%PDF-1.7 hello"), "not a DOCX file: it is not a zip archive"},
		{"no document", zipOf(map[string]string{"[Content_Types].xml": contentTypes}), "not a DOCX file: it has no word/document.xml"},
		{"malformed XML", zipOf(map[string]string{"word/document.xml": document(p("a") + "<w:p>")}), "malformed XML"},
		{"split paragraph tag", makeDOCX(t, p("{{ deal.")+p("title }}"), p("")), "{{ is not closed by }} in its paragraph"},
		{"loop across places", makeDOCX(t, p("{{ for x in deal.lines }} a")+`<w:tbl><w:tr>`+cell("{{ end }}")+`</w:tr></w:tbl>`+p(""), p("")), "sit in different kinds of places"},
		{"rows of different parents", makeDOCX(t, `<w:tbl><w:sdt><w:sdtContent><w:tr>`+cell("{{ for x in deal.lines }}")+`</w:tr></w:sdtContent></w:sdt><w:tr>`+cell("{{ end }}")+`</w:tr></w:tbl>`+p(""), p("")), "sit in different kinds of places"},
		{"row else not alone", makeDOCX(t, `<w:tbl><w:tr>`+cell("{{ if deal.won }}")+cell("{{ else }}")+cell("{{ end }}")+`</w:tr></w:tbl>`+p(""), p("")), "put {{ else }} alone in a row of its own"},
	}
	for _, c := range cases {
		_, err := tmpl.Parse("docx", c.data)
		if err == nil {
			t.Errorf("%s: Parse succeeded", c.name)
			continue
		}
		ps := problems(t, err)
		if !strings.Contains(ps[0].Message, c.message) {
			t.Errorf("%s: %v, want %q", c.name, err, c.message)
		}
	}
}
