// Package tmpl is the template language of document templates: DOCX files
// made in Word or LibreOffice, and HTML files, with placeholders
//
//	{{ deal.title }}                      a value, escaped for its place
//	{{ deal.amount | money }}             a value through a helper: money(deal.amount)
//	{{ deal.closed_on | date("short") }}  a helper with more arguments
//	{{ for line in deal.lines }} ... {{ end }}
//	{{ for i, line in deal.lines }} ... {{ end }}   i counts from 1
//	{{ if deal.discount }} ... {{ else }} ... {{ end }}
//
// Every expression is an expr program (github.com/expr-lang/expr), checked
// against a Schema of the record and its related records (Check), and run
// under the budget of package exprbudget with a time budget for the whole
// document (Render).
//
// In a DOCX the placeholders are found in the text of each paragraph of
// word/document.xml, the headers, footers, footnotes and endnotes, even
// when Word has split one across runs (with proofErr or bookmark elements
// between). A value takes the formatting of the run its placeholder starts
// in. A loop or conditional whose tags sit in different cells of a table
// repeats or removes the table rows from the one of its opening tag to the
// one of its {{ end }}; one whose tags are alone in their paragraphs
// repeats or removes the paragraphs between them (the tags' paragraphs
// are dropped); otherwise it repeats or removes what lies between its tags
// in the text.
package tmpl

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of template, the first argument of Parse.
const (
	KindDOCX = "docx"
	KindHTML = "html"
)

// Funcs are the formatting helpers a template may call, by name: Go
// functions, registered as expr functions. Their parameter types are
// checked by Check; at run time arguments are converted to them where Go
// allows (a float64 to an int64 parameter, say). A function may return a
// value, or a value and an error, which fails the document naming the
// placeholder.
type Funcs map[string]any

// Schema describes what a template can name: the root variables ("deal",
// "contact", "lines", "doc", "now", ...) and their fields. Unknown names
// and fields are errors of Check.
type Schema struct {
	Vars map[string]*Type
}

// Type is the CRM type of a variable or field. Kind is a CRM field type
// (string, text, int, decimal, money, date, datetime, bool, enum, email,
// phone, url, ref, user, file) or "object" or "list"; a Type with Fields
// is an object (a ref or user with Fields is the related record), one
// with Elem a list of Elem.
//
// The values Render expects are the record's JSON form, as the SDK reads
// it: strings for string, text, enum, email, phone, url, ref, user, date
// ("2026-03-21"), datetime (RFC 3339) and decimal ("1500.5", exact);
// numbers for int (float64, json.Number or any Go integer); bool;
// map[string]any {"amount": "1500.00", "currency": "AMD"} for money;
// map[string]any for file ({"id", "name", "size", "content_type",
// "sha256"}) and objects; []any (or any slice) for lists. A missing object
// or list is empty, a missing value nil (printed as nothing).
type Type struct {
	Kind   string
	Fields map[string]*Type
	Elem   *Type
}

// Placeholder is one tag of a template: its text between the braces,
// trimmed ("deal.amount | money", "for line in deal.lines", "end"), and
// where it is.
type Placeholder struct {
	Expr  string
	Where string
}

// Problem is one thing wrong with a template or its rendering.
type Problem struct {
	// Where is "word/document.xml paragraph 12" (with "table 1 row 2
	// cell 3" when in a table) for a DOCX, "line 4 column 7" for HTML, or
	// the file's part for a broken file.
	Where string
	// Placeholder is the tag as written, "{{ deal.amountt }}", or "".
	Placeholder string
	// Message says what is wrong.
	Message string
}

// String is the problem as one line: where, the placeholder, the message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Where)
	if p.Placeholder != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p.Placeholder)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is every problem of a template found at once (Parse, Check), or
// the one that stopped a Render.
type Error struct {
	Problems []Problem
	cause    error
}

// Error is the problems, one a line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "template: " + lines[0]
	}
	return fmt.Sprintf("template: %d problems:\n%s", len(lines), strings.Join(lines, "\n"))
}

// Unwrap returns what caused a Render's problem (an *exprbudget.Error for
// an exceeded budget, a helper's error), or nil.
func (e *Error) Unwrap() error { return e.cause }

// problems collects the problems of a template.
type problems []Problem

func (ps *problems) add(where, placeholder, format string, args ...any) {
	*ps = append(*ps, Problem{Where: where, Placeholder: placeholder, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// Template is a parsed template. Parse it once; Check it against a Schema
// before it is used (Check is not safe to call while Render runs); then
// Render it any number of times, concurrently.
type Template struct {
	kind string
	tags []*tag
	html []node
	docx *docxFile
	// checked is what Check compiled, or nil.
	checked *program
}

// Kind is "docx" or "html".
func (t *Template) Kind() string { return t.kind }

// Parse reads a template of the given kind ("docx" or "html"). Syntax
// problems (a tag not closed, an {{ end }} without its loop, a broken
// DOCX, an expression that does not parse) are an *Error listing them all.
func Parse(kind string, data []byte) (*Template, error) {
	switch kind {
	case KindHTML:
		return parseHTML(data)
	case KindDOCX:
		return parseDOCX(data)
	}
	return nil, &Error{Problems: []Problem{{Where: "template", Message: fmt.Sprintf("unknown template kind %q: want docx or html", kind)}}}
}

// Placeholders are the template's tags in the order they appear.
func (t *Template) Placeholders() []Placeholder {
	out := make([]Placeholder, len(t.tags))
	for i, g := range t.tags {
		out[i] = Placeholder{Expr: g.text, Where: g.where}
	}
	return out
}

// asError is err as an *Error, if it is one.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
