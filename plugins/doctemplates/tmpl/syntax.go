package tmpl

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// MaxTagLen is the longest tag, in bytes, between its braces.
const MaxTagLen = 4096

type tagKind int

const (
	tagValue tagKind = iota
	tagFor
	tagIf
	tagElse
	tagEnd
)

// tag is one {{ ... }} of a template.
type tag struct {
	raw   string // as written: "{{ deal.amount | money }}"
	text  string // between the braces, trimmed
	where string
	kind  tagKind
	// src is the expr source of a value (pipes made calls), of an if's
	// condition or of a loop's list.
	src         string
	item, index string   // a loop's variables
	helpers     []string // the helpers named after a |
	// open is the for or if an else or end belongs to; an opening tag's
	// els and end are its else and end.
	open, els, end *tag
}

func (k tagKind) String() string {
	switch k {
	case tagFor:
		return "for"
	case tagIf:
		return "if"
	case tagElse:
		return "else"
	case tagEnd:
		return "end"
	}
	return "value"
}

var (
	forRe   = regexp.MustCompile(`^for\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s*,\s*([A-Za-z_][A-Za-z0-9_]*))?\s+in\s+(\S.*)$`)
	identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// quotes are the typographic quotes Word puts in place of typed ones.
	quotes = strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "«", `"`, "»", `"`, "‘", "'", "’", "'", "\u00a0", " ", "\u202f", " ")
)

// parseTag reads the text of a tag (raw is "{{ ... }}"), recording its
// problems.
func parseTag(raw, where string, ps *problems) *tag {
	inner := raw[2 : len(raw)-2]
	g := &tag{raw: raw, where: where, text: strings.TrimSpace(inner)}
	if len(inner) > MaxTagLen {
		ps.add(where, shorten(raw), "the placeholder is %d bytes long; at most %d", len(inner), MaxTagLen)
		return nil
	}
	text := strings.TrimSpace(quotes.Replace(inner))
	switch {
	case text == "":
		ps.add(where, raw, "empty placeholder: write an expression between the braces, e.g. {{ deal.title }}")
		return nil
	case text == "end":
		g.kind = tagEnd
		return g
	case text == "else":
		g.kind = tagElse
		return g
	case text == "for" || strings.HasPrefix(text, "for ") || strings.HasPrefix(text, "for\t"):
		m := forRe.FindStringSubmatch(text)
		if m == nil {
			// Kept, so that its {{ end }} has a loop to close.
			ps.add(where, raw, "a loop is written {{ for item in list }} or {{ for i, item in list }}")
			g.kind = tagFor
			return g
		}
		g.kind, g.item, g.src = tagFor, m[1], m[3]
		if m[2] != "" {
			g.index, g.item = m[1], m[2]
		}
		for _, v := range []string{g.item, g.index} {
			if strings.HasPrefix(v, "__") {
				ps.add(where, raw, "a loop variable may not start with __")
				return nil
			}
		}
		if g.index != "" && g.index == g.item {
			ps.add(where, raw, "the loop's two variables have the same name %s", g.item)
			return nil
		}
	case text == "if" || strings.HasPrefix(text, "if ") || strings.HasPrefix(text, "if\t") || strings.HasPrefix(text, "if("):
		g.kind, g.src = tagIf, strings.TrimSpace(text[2:])
		if g.src == "" {
			ps.add(where, raw, "a conditional is written {{ if condition }}")
			return g
		}
	default:
		src, helpers, msg := pipes(text)
		if msg != "" {
			ps.add(where, raw, "%s", msg)
			return nil
		}
		g.kind, g.src, g.helpers = tagValue, src, helpers
	}
	if msg := syntaxError(g.src); msg != "" {
		ps.add(where, raw, "%s", msg)
		if g.kind == tagValue {
			return nil
		}
	}
	return g
}

// shorten is a long tag as a message shows it.
func shorten(s string) string {
	if len(s) <= 80 {
		return s
	}
	cut := 60
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…}}"
}

// pipes rewrites "x | money | date("short")" to date(money(x), "short"),
// returning the helpers' names, or a message.
func pipes(text string) (string, []string, string) {
	parts := splitPipes(text)
	src := strings.TrimSpace(parts[0])
	if src == "" {
		return "", nil, "a value comes before the first |, e.g. {{ deal.amount | money }}"
	}
	var helpers []string
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		name, args := p, ""
		if i := strings.IndexByte(p, '('); i >= 0 {
			if !strings.HasSuffix(p, ")") || !closesAtEnd(p[i:]) {
				return "", nil, fmt.Sprintf("after | comes a helper, e.g. money or date(\"short\"), not %q", p)
			}
			name, args = strings.TrimSpace(p[:i]), strings.TrimSpace(p[i+1:len(p)-1])
		}
		if !identRe.MatchString(name) {
			return "", nil, fmt.Sprintf("after | comes a helper, e.g. money or date(\"short\"), not %q", p)
		}
		helpers = append(helpers, name)
		if args == "" {
			src = name + "(" + src + ")"
		} else {
			src = name + "(" + src + ", " + args + ")"
		}
	}
	return src, helpers, ""
}

// scanCode calls visit for each byte of the expression s that is not
// inside a string literal, with the bracket depth before it; visit
// returns how many bytes after it to skip, or -1 to stop.
func scanCode(s string, visit func(i int, c byte, depth int) int) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		skip := visit(i, c, depth)
		if skip < 0 {
			return
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
		i += skip
	}
}

// splitPipes splits s at each | that is not inside a string or brackets
// and not part of ||.
func splitPipes(s string) []string {
	var parts []string
	start := 0
	scanCode(s, func(i int, c byte, depth int) int {
		if c != '|' {
			return 0
		}
		if i+1 < len(s) && s[i+1] == '|' {
			return 1
		}
		if depth == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
		return 0
	})
	return append(parts, s[start:])
}

// closesAtEnd reports whether the bracket that opens s closes at its end.
func closesAtEnd(s string) bool {
	closes := false
	scanCode(s, func(i int, c byte, depth int) int {
		if depth == 1 && (c == ')' || c == ']' || c == '}') {
			closes = i == len(s)-1
			return -1
		}
		return 0
	})
	return closes
}

// syntaxError is what is wrong with the syntax of an expression, or "".
func syntaxError(src string) string {
	tree, err := parser.Parse(src)
	if err != nil {
		return exprMessage(err)
	}
	var bad string
	ast.Find(tree.Node, func(n ast.Node) bool {
		if id, ok := n.(*ast.IdentifierNode); ok && (strings.HasPrefix(id.Value, "__") || id.Value == "$env") {
			bad = id.Value
			return true
		}
		return false
	})
	switch {
	case bad == "$env":
		// $env would reach the hidden names (the budget's meter).
		return "unknown name $env: name the variables themselves"
	case bad != "":
		return fmt.Sprintf("unknown name %s: names may not start with __", bad)
	}
	return ""
}

// exprMessage is an expr error's message, without its position and
// source excerpt: the problem names the placeholder and where it is.
func exprMessage(err error) string {
	if fe, ok := err.(*file.Error); ok {
		return fe.Message
	}
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// isBuiltin reports whether name is one of expr's builtin functions.
func isBuiltin(name string) bool {
	_, ok := builtin.Index[name]
	return ok
}

// matchBlocks pairs each else and end with its for or if, recording the
// problems of unbalanced tags.
func matchBlocks(tags []*tag, ps *problems) {
	var stack []*tag
	for _, g := range tags {
		switch g.kind {
		case tagFor, tagIf:
			stack = append(stack, g)
		case tagElse:
			if len(stack) == 0 {
				ps.add(g.where, g.raw, "{{ else }} without an {{ if }} before it")
				continue
			}
			open := stack[len(stack)-1]
			switch {
			case open.kind == tagFor:
				ps.add(g.where, g.raw, "a loop has no {{ else }}; this one is inside %s at %s", open.raw, open.where)
			case open.els != nil:
				ps.add(g.where, g.raw, "a second {{ else }} for %s at %s", open.raw, open.where)
			default:
				open.els, g.open = g, open
			}
		case tagEnd:
			if len(stack) == 0 {
				ps.add(g.where, g.raw, "{{ end }} without a {{ for }} or {{ if }} before it")
				continue
			}
			open := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			open.end, g.open = g, open
		}
	}
	for _, g := range stack {
		ps.add(g.where, g.raw, "%s is not closed: add {{ end }} after what it should %s", g.raw, map[tagKind]string{tagFor: "repeat", tagIf: "show"}[g.kind])
	}
}

// Nodes of a parsed template.
type node interface{}

type (
	// textNode is output as it is: HTML, or the XML of a DOCX part.
	textNode []byte
	// valueNode is a value, escaped for its place.
	valueNode struct{ t *tag }
	// forNode repeats body for each element of a list.
	forNode struct {
		t    *tag
		body []node
	}
	// ifNode is then or els.
	ifNode struct {
		t         *tag
		then, els []node
	}
)

// builder makes the tree of nodes from the template's pieces in order.
type builder struct {
	root   []node
	frames []frame
}

type frame struct {
	t    *tag
	list *[]node
	ifn  *ifNode
}

func (b *builder) cur() *[]node {
	if len(b.frames) == 0 {
		return &b.root
	}
	return b.frames[len(b.frames)-1].list
}

func (b *builder) text(p []byte) {
	if len(p) == 0 {
		return
	}
	l := b.cur()
	if n := len(*l); n > 0 {
		if t, ok := (*l)[n-1].(textNode); ok {
			(*l)[n-1] = append(t, p...)
			return
		}
	}
	*l = append(*l, textNode(append([]byte(nil), p...)))
}

// tag adds a tag's piece; it reports false when the tag does not close or
// divide the block that is open (a DOCX loop whose rows cross another's).
func (b *builder) tag(g *tag) bool {
	l := b.cur()
	switch g.kind {
	case tagValue:
		*l = append(*l, &valueNode{t: g})
	case tagFor:
		n := &forNode{t: g}
		*l = append(*l, n)
		b.frames = append(b.frames, frame{t: g, list: &n.body})
	case tagIf:
		n := &ifNode{t: g}
		*l = append(*l, n)
		b.frames = append(b.frames, frame{t: g, list: &n.then, ifn: n})
	case tagElse:
		if len(b.frames) == 0 || b.frames[len(b.frames)-1].t != g.open || b.frames[len(b.frames)-1].ifn == nil {
			return false
		}
		f := &b.frames[len(b.frames)-1]
		f.list = &f.ifn.els
	case tagEnd:
		if len(b.frames) == 0 || b.frames[len(b.frames)-1].t != g.open {
			return false
		}
		b.frames = b.frames[:len(b.frames)-1]
	}
	return true
}
