package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/file"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Every problem is an hcl.Diagnostic whose Subject is the exact place in
// the HCL file: for a problem inside an expression, the characters of the
// expression that it is about. As in package config, the Summary says what
// is wrong and the Detail gives the hint ("did you mean ...?").

// exprError is a problem inside one expression, at rune offsets of its
// source (as expr counts); to <= from means one character.
type exprError struct {
	from, to        int
	summary, detail string
}

// report adds an error at r.
func (c *compiler) report(r hcl.Range, summary, detail string) {
	c.diags = append(c.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  r.Ptr(),
	})
}

// reportIn adds an error inside expression x.
func (c *compiler) reportIn(x *config.Expr, e exprError) {
	c.report(c.exprRange(x, e.from, e.to), e.summary, e.detail)
}

// exprRange is the file range of the runes [from, to) of x.Source.
func (c *compiler) exprRange(x *config.Expr, from, to int) hcl.Range {
	if to <= from {
		to = from + 1
	}
	return hcl.Range{Filename: x.Range.Filename, Start: c.exprPos(x, from), End: c.exprPos(x, to)}
}

// exprPos is the file position of the rune at offset off of x.Source. A
// quoted string is on one line: the position is the start's plus the
// offset. A heredoc's lines are lines of the file, whose indentation a
// flush heredoc (<<-) strips from the source: the source's line is the end
// of the file's. The position stays within x.Range.
func (c *compiler) exprPos(x *config.Expr, off int) hcl.Pos {
	r := x.Range
	pos := r.Start
	if r.Start.Line == r.End.Line {
		for n, w := range c.quotedWidths(x) {
			if n == off {
				break
			}
			pos.Byte += w.bytes
			pos.Column += w.cols
		}
	} else {
		pos = c.heredocPos(x, off)
	}
	if pos.Byte > r.End.Byte && r.End.Byte >= r.Start.Byte {
		return r.End
	}
	return pos
}

// width is how much of the file one rune of a source takes.
type width struct{ bytes, cols int }

// quotedWidths gives, for each rune of a quoted string's source, its width
// in the file, where an escape (\" or \n or \u00e9) takes more than one
// character. Without the file, or if the file does not decode to the
// source, each rune is taken to be itself.
func (c *compiler) quotedWidths(x *config.Expr) []width {
	sizes := runeSizes(x.Source)
	plain := make([]width, len(sizes))
	for i, size := range sizes {
		plain[i] = width{size, 1}
	}
	f := c.cfg.Files[x.Range.Filename]
	if f == nil || x.Range.Start.Byte < 0 || x.Range.End.Byte > len(f.Bytes) || x.Range.Start.Byte > x.Range.End.Byte {
		return plain
	}
	raw := string(f.Bytes[x.Range.Start.Byte:x.Range.End.Byte])
	if raw == x.Source {
		return plain
	}
	if ws, decoded := unquote(raw); decoded == x.Source {
		return ws
	}
	return plain
}

// unquote decodes the contents of an HCL quoted string as far as
// positions need, and gives the width of each decoded rune.
func unquote(raw string) ([]width, string) {
	var ws []width
	var b strings.Builder
	for len(raw) > 0 {
		n, text := 0, ""
		switch {
		case strings.HasPrefix(raw, "$${"), strings.HasPrefix(raw, "%%{"):
			n, text = 2, raw[:1]
		case raw[0] == '\\' && len(raw) > 1:
			n, text = escape(raw)
		default:
			_, n = utf8.DecodeRuneInString(raw)
			text = raw[:n]
		}
		ws = append(ws, width{n, utf8.RuneCountInString(raw[:n])})
		b.WriteString(text)
		raw = raw[n:]
	}
	return ws, b.String()
}

// escape decodes the backslash escape that raw starts with.
func escape(raw string) (int, string) {
	switch raw[1] {
	case 'n':
		return 2, "\n"
	case 'r':
		return 2, "\r"
	case 't':
		return 2, "\t"
	case 'u', 'U':
		n := 6
		if raw[1] == 'U' {
			n = 10
		}
		if len(raw) < n {
			return len(raw), raw
		}
		v, err := strconv.ParseUint(raw[2:n], 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return n, raw[:n]
		}
		return n, string(rune(v))
	}
	return 2, raw[1:2]
}

// runeSizes are the byte sizes of the runes of s, as expr reads them (an
// invalid byte is one rune).
func runeSizes(s string) []int {
	sizes := make([]int, 0, len(s))
	for len(s) > 0 {
		_, size := utf8.DecodeRuneInString(s)
		sizes = append(sizes, size)
		s = s[size:]
	}
	return sizes
}

// heredocPos is exprPos for the lines of a heredoc.
func (c *compiler) heredocPos(x *config.Expr, off int) hcl.Pos {
	line, lineStart, col := 0, 0, 0 // source line index, its byte offset, the byte column of off
	n, i := 0, 0
	for _, size := range runeSizes(x.Source) {
		if n == off {
			break
		}
		if x.Source[i] == '\n' {
			line, lineStart = line+1, i+size
		}
		n, i = n+1, i+size
	}
	col = i - lineStart
	srcLine, _, _ := strings.Cut(x.Source[lineStart:], "\n")
	pos := hcl.Pos{Line: x.Range.Start.Line + line, Column: utf8.RuneCountInString(x.Source[lineStart:i]) + 1}
	fileLine, at, ok := c.fileLine(x.Range.Filename, pos.Line)
	if !ok || !strings.HasSuffix(fileLine, srcLine) {
		pos.Byte = x.Range.Start.Byte + i
		return pos
	}
	prefix := fileLine[:len(fileLine)-len(srcLine)]
	pos.Column += utf8.RuneCountInString(prefix)
	pos.Byte = at + len(prefix) + col
	return pos
}

// fileLine is line n (1-based) of a configuration file without its line
// ending, and the byte offset where it starts.
func (c *compiler) fileLine(filename string, n int) (string, int, bool) {
	f := c.cfg.Files[filename]
	if f == nil || n < 1 {
		return "", 0, false
	}
	src, at := string(f.Bytes), 0
	for l := 1; l < n; l++ {
		i := strings.IndexByte(src[at:], '\n')
		if i < 0 {
			return "", 0, false
		}
		at += i + 1
	}
	line, _, _ := strings.Cut(src[at:], "\n")
	return strings.TrimSuffix(line, "\r"), at, true
}

// runeOffset is the rune offset in src of a 1-based line and a 0-based
// column, as expr's errors and store.FilterError (with 1-based columns)
// give them.
func runeOffset(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src, '\n')
		if i < 0 {
			break
		}
		off += utf8.RuneCountInString(src[:i+1])
		src = src[i+1:]
	}
	return off + max(col, 0)
}

// fromError is the exprError of an error that expr returned.
func fromError(src string, err error) exprError {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return exprError{summary: err.Error()}
	}
	e := exprError{from: fe.From, to: fe.To, summary: goTypes.ReplaceAllStringFunc(strings.TrimSpace(fe.Message), friendlyType)}
	if e.from == 0 && e.to == 0 && (fe.Line > 1 || fe.Column > 0) {
		e.from = runeOffset(src, fe.Line, fe.Column)
		e.to = e.from
	}
	return e
}

// hint is the detail for an unknown name: "did you mean ...?" when a near
// name exists, else the valid names when they are few.
func hint(given string, names []string, kind string) string {
	return config.Hint(given, names, kind)
}

// variables are the names an expression sees.
var variables = []string{"record", "old", "user", "event"}

// userFields are the fields of `user`.
var userFields = []string{"id", "email", "name", "role"}

// moneyFields are the fields of a money value.
var moneyFields = []string{"amount", "currency", "minor"}

// explain rewrites expr's message for a compile error: the record an
// unknown field belongs to and near names for unknown fields, functions
// and variables.
func (sc *scope) explain(e exprError, root ast.Node, calls map[string]bool) exprError {
	if name, ok := strings.CutPrefix(e.summary, "unknown field "); ok {
		owner, names := sc.ownerAt(root, e.from)
		e.summary = fmt.Sprintf("unknown field %q", name)
		if owner != "" {
			e.summary += " of " + owner
			e.detail = hint(name, names, "fields")
		}
		return e
	}
	if name, ok := strings.CutPrefix(e.summary, "unknown name "); ok {
		if calls[name] {
			e.summary, e.detail = fmt.Sprintf("unknown function %q", name), hint(name, functionNames, "")
			return e
		}
		e.summary, e.detail = fmt.Sprintf("unknown name %q", name), hint(name, variables, "variables")
	}
	return e
}

// explainFilter rewrites the message of a list filter's error: its names
// are the fields of ent.
func explainFilter(ent *schema.Entity, e exprError, what string) exprError {
	if name, ok := strings.CutPrefix(e.summary, "unknown name "); ok {
		e.summary = fmt.Sprintf("unknown field %q of %s", name, ent.Name)
		e.detail = hint(name, recordFields(ent), "fields")
		return e
	}
	if got, ok := strings.CutPrefix(e.summary, "expected bool, but got "); ok {
		e.summary = fmt.Sprintf("%s must be a boolean expression, got %s", what, friendlyType(got))
	}
	return e
}

// filterError converts an error of store.CompileFilter to an exprError,
// shifted by the rune offset at which the filter starts in its expression.
func filterError(src string, shift int, err error) exprError {
	var fe *store.FilterError
	if !errors.As(err, &fe) {
		return exprError{from: shift, summary: err.Error()}
	}
	off := shift + runeOffset(src, fe.Line, fe.Column-1)
	return exprError{from: off, to: off + nameLen(src, off-shift), summary: fe.Message}
}

// nameLen is the length in runes of the identifier at rune offset off of
// src, at least 1.
func nameLen(src string, off int) int {
	n := 0
	for i, c := range []rune(src) {
		if i < off {
			continue
		}
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
			break
		}
		n++
	}
	return max(n, 1)
}

// recordFields are the fields of a record of ent: declared, then system.
func recordFields(ent *schema.Entity) []string {
	names := ent.FieldNames()
	for _, f := range ent.SystemFields() {
		names = append(names, f.Name)
	}
	return names
}

// ownerAt names what the member access whose property starts at rune
// offset from is made on, and that thing's fields.
func (sc *scope) ownerAt(root ast.Node, from int) (string, []string) {
	var found *ast.MemberNode
	ast.Walk(&root, visitor(func(n *ast.Node) {
		if m, ok := (*n).(*ast.MemberNode); ok && found == nil && m.Property != nil && m.Property.Location().From == from {
			found = m
		}
	}))
	if found == nil {
		return "", nil
	}
	return sc.owner(found.Node)
}

// owner names the value of a node, if it is a record, a user or money, and
// gives its fields.
func (sc *scope) owner(n ast.Node) (string, []string) {
	switch x := n.(type) {
	case *ast.ChainNode:
		return sc.owner(x.Node)
	case *ast.IdentifierNode:
		switch {
		case (x.Value == "record" || x.Value == "old") && sc.entity != nil:
			return sc.entity.Name, recordFields(sc.entity)
		case x.Value == "user":
			return "user", userFields
		case x.Value == "event" && sc.payload != nil:
			return "event " + sc.event.Name, sc.payload.FieldNames()
		case x.Value == "record" && sc.event != nil && sc.entity == nil:
			return "plugin event " + sc.event.Name + ", which declares no subject record", nil
		}
	case *ast.MemberNode:
		prop, ok := x.Property.(*ast.StringNode)
		if !ok {
			return "", nil
		}
		if id, ok := x.Node.(*ast.IdentifierNode); ok && id.Value == relatedVar {
			if t := sc.refTarget(prop.Value); t != nil {
				return t.Name, recordFields(t)
			}
			return "", nil
		}
		name, _ := sc.owner(x.Node)
		if ent := sc.sch.Entity(name); ent != nil {
			if f := ent.Lookup(prop.Value); f != nil && f.Type == config.TypeMoney {
				return "money", moneyFields
			}
		}
	}
	return "", nil
}

// visitor adapts a function to ast.Visitor.
type visitor func(*ast.Node)

// Visit calls the function.
func (v visitor) Visit(n *ast.Node) { v(n) }

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	moneyType    = reflect.TypeOf(schema.ExprMoney{})
)

// unknown reports whether the checker could not tell the type.
func unknown(nt nature.Nature) bool {
	return !nt.Nil && (nt.Type == nil || nt.Kind == reflect.Interface)
}

// isMoney reports whether nt is money: what money() returns, or a money
// field's map shape.
func isMoney(nt nature.Nature) bool {
	if nt.Type == moneyType {
		return true
	}
	if nt.Kind != reflect.Map || nt.TypeData == nil || nt.Fields == nil {
		return false
	}
	_, amount := nt.Fields["amount"]
	_, cur := nt.Fields["currency"]
	return amount && cur
}

// typeName names the static type of a value as messages do.
func typeName(nt nature.Nature) string {
	switch {
	case nt.Nil:
		return "nil"
	case unknown(nt):
		return "any"
	case isMoney(nt):
		return "money"
	case nt.Type == timeType:
		return "time"
	case nt.Type == durationType:
		return "duration"
	case nt.Kind == reflect.Bool:
		return "bool"
	case nt.IsInteger:
		return "int"
	case nt.IsFloat:
		return "float"
	case nt.Kind == reflect.String:
		return "string"
	case nt.Kind == reflect.Slice || nt.Kind == reflect.Array:
		return "list"
	case nt.Kind == reflect.Map:
		return "map"
	case nt.Kind == reflect.Func:
		return "function"
	}
	return nt.Type.String()
}

// goTypes matches the Go type names in expr's messages that friendlyType
// rewrites.
var goTypes = regexp.MustCompile(`map\[string\]interface \{\}|\[\]interface \{\}|interface \{\}|schema\.ExprMoney|time\.Time|time\.Duration|\b(?:float64|float32|int64|int32)\b`)

// friendlyType rewrites a Go type name in one of expr's messages: an
// admin writes rules, not Go.
func friendlyType(s string) string {
	switch s {
	case "schema.ExprMoney":
		return "money"
	case "int", "int64", "int32", "uint", "uint64":
		return "int"
	case "float64", "float32":
		return "float"
	case "time.Time":
		return "time"
	case "time.Duration":
		return "duration"
	case "interface {}", "unknown":
		return "any"
	case "map[string]interface {}":
		return "map"
	case "[]interface {}":
		return "list"
	}
	return s
}

// want is the type an action argument must have.
type want int

const (
	wantAny        want = iota
	wantString          // string
	wantInt             // int
	wantNumber          // int or float
	wantBool            // bool
	wantTime            // time.Time
	wantDuration        // time.Duration
	wantMoney           // money
	wantRecipients      // a string or a list of strings
	wantMap             // a map
)

// String describes the type in messages: "a string".
func (w want) String() string {
	return [...]string{"any value", "a string", "an int", "a number", "a bool", "a time", "a duration",
		"a money value", "a string or a list of strings", "a map"}[w]
}

// accepts reports whether a value of nature nt may be given where w is
// wanted. A type only the run can tell is accepted; the run checks it.
func (w want) accepts(nt nature.Nature, nilOK bool) bool {
	switch {
	case nt.Nil:
		return nilOK || w == wantAny
	case unknown(nt) || w == wantAny:
		return true
	}
	switch w {
	case wantString:
		return nt.Kind == reflect.String
	case wantInt:
		return nt.IsInteger
	case wantNumber:
		return nt.IsInteger || nt.IsFloat
	case wantBool:
		return nt.Kind == reflect.Bool
	case wantTime:
		return nt.Type == timeType
	case wantDuration:
		return nt.Type == durationType
	case wantMoney:
		return isMoney(nt)
	case wantRecipients:
		return nt.Kind == reflect.String || recipientList(nt)
	case wantMap:
		return nt.Kind == reflect.Map
	}
	return false
}

// recipientList reports whether nt is a list whose elements may be strings.
func recipientList(nt nature.Nature) bool {
	if nt.Kind != reflect.Slice && nt.Kind != reflect.Array {
		return false
	}
	return nt.Ref == nil || unknown(*nt.Ref) || nt.Ref.Kind == reflect.String
}

// fieldWant is what an expression that sets a field must give.
func fieldWant(f *schema.Field) want {
	switch f.Type {
	case config.TypeInt:
		return wantInt
	case config.TypeDecimal:
		return wantNumber
	case config.TypeMoney:
		return wantMoney
	case config.TypeBool:
		return wantBool
	case config.TypeDate, config.TypeDateTime:
		return wantTime
	}
	return wantString
}

// syntaxBody is the syntax tree of a configuration file, or nil.
func (c *compiler) syntaxBody(filename string) *hclsyntax.Body {
	f := c.cfg.Files[filename]
	if f == nil {
		return nil
	}
	b, _ := f.Body.(*hclsyntax.Body)
	return b
}

// attr is the attribute name of the top-level block whose header is def.
func (c *compiler) attr(def hcl.Range, name string) *hclsyntax.Attribute {
	body := c.syntaxBody(def.Filename)
	if body == nil {
		return nil
	}
	for _, b := range body.Blocks {
		if b.DefRange().Start.Byte == def.Start.Byte {
			return b.Body.Attributes[name]
		}
	}
	return nil
}

// attrRange is the value range of an attribute of the block whose header
// is def, or def when it cannot be found.
func (c *compiler) attrRange(def hcl.Range, name string) hcl.Range {
	if a := c.attr(def, name); a != nil {
		return a.Expr.Range()
	}
	return def
}

// elemRange is the range of element i of a list attribute.
func (c *compiler) elemRange(def hcl.Range, name string, i int) hcl.Range {
	a := c.attr(def, name)
	if a == nil {
		return def
	}
	if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
		return t.Exprs[i].Range()
	}
	return a.Expr.Range()
}

// nameRange is the range of the name of the attribute whose value is x,
// or x's range when it cannot be found.
func (c *compiler) nameRange(x *config.Expr) hcl.Range {
	if a := findAttr(c.syntaxBody(x.Range.Filename), x.Range.Start.Byte); a != nil {
		return a.NameRange
	}
	return x.Range
}

// findAttr finds, at any depth, the attribute whose value contains the
// byte offset at.
func findAttr(body *hclsyntax.Body, at int) *hclsyntax.Attribute {
	if body == nil {
		return nil
	}
	for _, a := range body.Attributes {
		if r := a.Expr.Range(); r.Start.Byte <= at && at < r.End.Byte {
			return a
		}
	}
	for _, b := range body.Blocks {
		if r := b.Body.Range(); r.Start.Byte <= at && at < r.End.Byte {
			return findAttr(b.Body, at)
		}
	}
	return nil
}
