package config

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// FormatDiagnostic is the one-line form of a diagnostic that `crm check`,
// logs and tests use: "file:line:col: error: summary; detail" (or
// "warning:"), with "; detail" left out when there is no detail and the
// position left out when there is no subject.
func FormatDiagnostic(d *hcl.Diagnostic) string {
	msg := d.Summary
	if d.Detail != "" {
		msg += "; " + d.Detail
	}
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	switch s := d.Subject; {
	case s == nil || s.Filename == "":
		return fmt.Sprintf("%s: %s", sev, msg)
	case s.Start.Line == 0:
		return fmt.Sprintf("%s: %s: %s", s.Filename, sev, msg)
	default:
		return fmt.Sprintf("%s:%d:%d: %s: %s", s.Filename, s.Start.Line, s.Start.Column, sev, msg)
	}
}

// WriteDiagnostics prints each diagnostic as FormatDiagnostic's line, then,
// when files holds its source, the line it points into and a caret under
// the start of its subject:
//
//	crm.hcl:12:24: error: unknown field type "strng"; did you mean "string"?
//	   12 |   field "vin" { type = "strng" }
//	      |                        ^
//
// Write errors are ignored: there is nowhere left to report them.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(FormatDiagnostic(d))
		b.WriteByte('\n')
		if d.Subject != nil {
			writeSnippet(&b, files[d.Subject.Filename], *d.Subject)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// writeSnippet writes the source line that r starts on and a caret under
// r's start, keeping the line's tabs so the caret lines up.
func writeSnippet(b *strings.Builder, f *hcl.File, r hcl.Range) {
	if f == nil || r.Start.Line < 1 || r.Start.Byte < 0 || r.Start.Byte > len(f.Bytes) {
		return
	}
	src := f.Bytes
	start := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	end := bytes.IndexByte(src[start:], '\n')
	if end < 0 {
		end = len(src) - start
	}
	line := strings.TrimSuffix(string(src[start:start+end]), "\r")
	fmt.Fprintf(b, "%5d | %s\n", r.Start.Line, line)
	pad := []rune(string(src[start:r.Start.Byte]))
	for i, c := range pad {
		if c != '\t' {
			pad[i] = ' '
		}
	}
	fmt.Fprintf(b, "      | %s^\n", string(pad))
}
