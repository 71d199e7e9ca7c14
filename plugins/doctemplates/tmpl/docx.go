package tmpl

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on a DOCX template.
const (
	// MaxPartSize is the largest XML part, in bytes, once uncompressed.
	MaxPartSize = 32 << 20
	// MaxDOCXSize is the largest DOCX file, in bytes.
	MaxDOCXSize = 64 << 20
)

// documentPart is the part every DOCX has.
const documentPart = "word/document.xml"

// templateParts are the parts whose text holds placeholders.
var templateParts = regexp.MustCompile(`^word/(document|header[0-9]*|footer[0-9]*|footnotes|endnotes)\.xml$`)

// docxFile is a parsed DOCX template: its zip, and the parsed parts.
type docxFile struct {
	zip   *zip.Reader
	parts map[string][]node
}

// parseDOCX reads a DOCX template.
func parseDOCX(data []byte) (*Template, error) {
	broken := func(format string, args ...any) error {
		return &Error{Problems: []Problem{{Where: "file", Message: fmt.Sprintf(format, args...)}}}
	}
	if len(data) > MaxDOCXSize {
		return nil, broken("the DOCX file is %d bytes; at most %d", len(data), MaxDOCXSize)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, broken("not a DOCX file: it is not a zip archive (%v)", err)
	}
	t := &Template{kind: KindDOCX, docx: &docxFile{zip: zr, parts: map[string][]node{}}}
	var ps problems
	found := false
	for _, f := range zr.File {
		if !templateParts.MatchString(f.Name) {
			continue
		}
		if _, dup := t.docx.parts[f.Name]; dup {
			ps.add(f.Name, "", "the DOCX file holds this part twice")
			continue
		}
		found = found || f.Name == documentPart
		body, err := readPart(f)
		if err != nil {
			ps.add(f.Name, "", "%v", err)
			continue
		}
		nodes, tags := parsePart(f.Name, body, &ps)
		t.docx.parts[f.Name] = nodes
		t.tags = append(t.tags, tags...)
	}
	if !found && len(ps) == 0 {
		return nil, broken("not a DOCX file: it has no %s", documentPart)
	}
	if len(ps) > 0 {
		return nil, ps.err()
	}
	return t, nil
}

// readPart reads one part of the zip, at most MaxPartSize bytes.
func readPart(f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > MaxPartSize {
		return nil, fmt.Errorf("the part is %d bytes once uncompressed; at most %d", f.UncompressedSize64, MaxPartSize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot read the part: %v", err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxPartSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the part: %v", err)
	}
	if len(body) > MaxPartSize {
		return nil, fmt.Errorf("the part is more than %d bytes once uncompressed", MaxPartSize)
	}
	return body, nil
}

// Elements of a part that the parser follows.
type (
	para struct {
		start, end int    // the element, <w:p ...> to </w:p>
		parent     int    // where its parent element starts
		where      string // "word/document.xml paragraph 3 (table 1 row 2 cell 1)"
		texts      []*wtext
		row        *row
		cell       int // where its innermost cell starts, or -1
		sectPr     bool
		objects    bool // it holds a drawing, picture or object
		last       bool // it is the last paragraph of its parent, after any table
	}
	wtext struct {
		tagStart, tagEnd int // <w:t ...>
		start, end       int // its content
		preserve         bool
		path             string // the names of the elements it is in
	}
	row struct {
		start, end int
		parent     int // where its parent (the table, or a content control in it) starts
		tags       int // tags in it
		text       bool
	}
	table struct {
		start, index, rows int
	}
	// occ is where a tag occurs in a part.
	occ struct {
		g     *tag
		para  *para
		texts []*wtext // the texts it spans, first to last
		a, b  int      // raw offsets of {{ in the first text and after }} in the last
		alone bool     // its paragraph holds nothing else but spaces
	}
)

// edit is a change to a part's bytes: a tag or a block's boundary at
// [start, end), a deletion, or an insertion at start.
type edit struct {
	start, end int
	class      int // at one place: ends, elses, opens, then the rest
	seq        int
	g          *tag // a tag's piece, or nil
	ins        []byte
}

// parsePart finds the tags of one XML part and makes its nodes.
func parsePart(name string, data []byte, ps *problems) ([]node, []*tag) {
	if err := wellFormed(data); err != nil {
		ps.add(name, "", "malformed XML: %v", err)
		return nil, nil
	}
	before := len(*ps)
	occs := scanPart(name, data, ps)
	if len(*ps) > before {
		return nil, nil
	}
	tags := make([]*tag, len(occs))
	at := make(map[*tag]*occ, len(occs))
	for i, o := range occs {
		tags[i] = o.g
		at[o.g] = o
	}
	matchBlocks(tags, ps)
	if len(*ps) > before {
		return nil, nil
	}
	var edits []edit
	order := make(map[*tag]int, len(tags))
	for i, g := range tags {
		order[g] = i + 1
	}
	// At one place, blocks end inner first and open outer first.
	add := func(e edit) {
		if e.g != nil && e.g.kind == tagEnd {
			e.seq = -order[e.g.open]
		} else if e.g != nil {
			e.seq = order[e.g]
		}
		edits = append(edits, e)
	}
	// inTextEdits are the edits that take a tag out of its texts: keep is
	// whether the first piece is the tag's own (a value, or a block's
	// boundary in the text).
	inTextEdits := func(o *occ, keep bool) {
		first := edit{start: o.a, end: o.texts[0].end, class: 3}
		if len(o.texts) == 1 {
			first.end = o.b
		}
		if keep {
			first.g = o.g
			first.class = classOf(o.g)
		}
		add(first)
		for i, w := range o.texts {
			if !w.preserve {
				add(edit{start: w.tagEnd - 1, end: w.tagEnd - 1, class: 3, ins: []byte(` xml:space="preserve"`)})
				w.preserve = true
			}
			if i == 0 {
				continue
			}
			end := w.end
			if i == len(o.texts)-1 {
				end = o.b
			}
			add(edit{start: w.start, end: end, class: 3})
		}
	}
	marker := func(g *tag, at int) {
		add(edit{start: at, end: at, class: classOf(g), g: g})
	}
	dropPara := func(p *para) {
		add(edit{start: p.start, end: p.end, class: 3})
	}
	for _, g := range tags {
		o := at[g]
		switch g.kind {
		case tagValue:
			inTextEdits(o, true)
		case tagFor, tagIf:
			e := at[g.end]
			var el *occ
			if g.els != nil {
				el = at[g.els]
			}
			switch {
			case o.para != e.para && o.para.row != nil && e.para.row != nil &&
				o.para.row.parent == e.para.row.parent && o.para.cell != e.para.cell:
				// Rows of one table.
				inTextEdits(o, false)
				inTextEdits(e, false)
				marker(g, o.para.row.start)
				marker(g.end, e.para.row.end)
				if el != nil {
					r := el.para.row
					if r == nil || r.parent != o.para.row.parent || r == o.para.row || r == e.para.row || r.tags != 1 || r.text {
						ps.add(el.g.where, el.g.raw, "%s and its {{ end }} repeat or remove table rows: put {{ else }} alone in a row of its own between them", g.raw)
						continue
					}
					add(edit{start: r.start, end: r.end, class: 3})
					marker(el.g, r.start)
				}
			case o.para != e.para && o.alone && e.alone && o.para.parent == e.para.parent && !o.para.sectPr && !e.para.sectPr:
				// Paragraphs between two of the same parent.
				dropPara(o.para)
				if e.para.last {
					// A cell, header or footer must keep a paragraph at
					// its end: the {{ end }}'s stays, emptied.
					inTextEdits(e, false)
				} else {
					dropPara(e.para)
				}
				marker(g, o.para.end)
				marker(g.end, e.para.start)
				if el != nil {
					if !el.alone || el.para.parent != o.para.parent || el.para.sectPr {
						ps.add(el.g.where, el.g.raw, "%s and its {{ end }} are alone in their paragraphs: put {{ else }} alone in a paragraph between them too", g.raw)
						continue
					}
					dropPara(el.para)
					marker(el.g, el.para.start)
				}
			default:
				// In the text.
				bad := false
				for _, x := range []*occ{e, el} {
					if x != nil && x.texts[0].path != o.texts[0].path {
						ps.add(x.g.where, x.g.raw, "%s at %s and this tag sit in different kinds of places (one in a table, a hyperlink or a text box and one not): put each alone in a paragraph of its own, or both in one paragraph, or in cells of one table", g.raw, g.where)
						bad = true
					}
				}
				if bad {
					continue
				}
				inTextEdits(o, true)
				inTextEdits(e, true)
				if el != nil {
					inTextEdits(el, true)
				}
			}
		}
	}
	if len(*ps) > before {
		return nil, nil
	}
	slices.SortStableFunc(edits, func(x, y edit) int {
		if x.start != y.start {
			return x.start - y.start
		}
		if x.class != y.class {
			return x.class - y.class
		}
		return x.seq - y.seq
	})
	var b builder
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			if e.g != nil {
				ps.add(e.g.where, e.g.raw, "this tag falls inside a paragraph or row that another tag removes; put it elsewhere")
				return nil, nil
			}
			pos = max(pos, e.end)
			continue
		}
		b.text(data[pos:e.start])
		pos = e.start
		switch {
		case e.g != nil:
			if !b.tag(e.g) {
				open := e.g
				if e.g.open != nil {
					open = e.g.open
				}
				ps.add(e.g.where, e.g.raw, "the rows or paragraphs that %s at %s repeats or removes cross another loop or conditional: one must hold the whole of the other", open.raw, open.where)
				return nil, nil
			}
			pos = e.end
		case e.ins != nil:
			b.text(e.ins)
		default:
			pos = e.end
		}
	}
	b.text(data[pos:])
	if len(b.frames) > 0 {
		g := b.frames[len(b.frames)-1].t
		ps.add(g.where, g.raw, "the rows or paragraphs this tag repeats or removes cross another loop or conditional: one must hold the whole of the other")
		return nil, nil
	}
	return b.root, tags
}

// classOf orders the pieces of tags at one place: a block ends before
// another's else, which comes before a block opens.
func classOf(g *tag) int {
	switch g.kind {
	case tagEnd:
		return 0
	case tagElse:
		return 1
	case tagFor, tagIf:
		return 2
	}
	return 3
}

// wellFormed checks that data is well-formed XML.
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// scanPart finds the paragraphs, rows and the tags in the text of each
// paragraph.
func scanPart(name string, data []byte, ps *problems) []*occ {
	d := xml.NewDecoder(bytes.NewReader(data))
	type open struct {
		name  string
		start int
		para  *para
		row   *row
		table *table
		text  *wtext
		// lastPara is its child paragraph that closed last, unless a
		// table closed after it.
		lastPara *para
	}
	var (
		stack  []open
		occs   []*occ
		tables int
		nPara  int
		cells  = map[*row]int{}
		prev   int
	)
	innermost := func(pick func(o open) bool) *open {
		for i := len(stack) - 1; i >= 0; i-- {
			if pick(stack[i]) {
				return &stack[i]
			}
		}
		return nil
	}
	for {
		tok, err := d.RawToken()
		if err != nil {
			break // well-formed was checked: this is the end
		}
		off := int(d.InputOffset())
		start := prev
		prev = off
		switch x := tok.(type) {
		case xml.StartElement:
			n := x.Name.Local
			if x.Name.Space != "" {
				n = x.Name.Space + ":" + n
			}
			o := open{name: n, start: start}
			switch n {
			case "w:p":
				nPara++
				p := &para{start: start, parent: -1, cell: -1}
				if len(stack) > 0 {
					p.parent = stack[len(stack)-1].start
				}
				where := fmt.Sprintf("%s paragraph %d", name, nPara)
				if t := innermost(func(o open) bool { return o.table != nil }); t != nil {
					r := innermost(func(o open) bool { return o.row != nil })
					c := innermost(func(o open) bool { return o.name == "w:tc" })
					if r != nil && c != nil && r.start > t.start {
						where += fmt.Sprintf(" (table %d row %d cell %d)", t.table.index, t.table.rows, cells[r.row])
						p.row, p.cell = r.row, c.start
					}
				}
				p.where = where
				o.para = p
			case "w:tbl":
				tables++
				o.table = &table{start: start, index: tables}
			case "w:tr":
				if t := innermost(func(o open) bool { return o.table != nil }); t != nil {
					t.table.rows++
					o.row = &row{start: start, parent: stack[len(stack)-1].start}
				}
			case "w:tc":
				if r := innermost(func(o open) bool { return o.row != nil }); r != nil {
					cells[r.row]++
				}
			case "w:sectPr":
				if p := innermost(func(o open) bool { return o.para != nil }); p != nil {
					p.para.sectPr = true
				}
			case "w:drawing", "w:pict", "w:object", "mc:AlternateContent":
				if p := innermost(func(o open) bool { return o.para != nil }); p != nil {
					p.para.objects = true
				}
			case "w:t":
				w := &wtext{tagStart: start, tagEnd: off, start: off}
				for _, a := range x.Attr {
					if a.Name.Space == "xml" && a.Name.Local == "space" && a.Value == "preserve" {
						w.preserve = true
					}
				}
				names := make([]string, len(stack))
				for i, s := range stack {
					names[i] = s.name
				}
				w.path = strings.Join(names, "/")
				o.text = w
			}
			stack = append(stack, o)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if o.lastPara != nil {
				o.lastPara.last = true
			}
			if len(stack) > 0 && (o.para != nil || o.table != nil) {
				stack[len(stack)-1].lastPara = o.para
			}
			switch {
			case o.para != nil:
				o.para.end = off
				occs = append(occs, paraTags(data, o.para, ps)...)
			case o.row != nil:
				o.row.end = off
			case o.text != nil && off > start:
				// Not <w:t/>: the text is what came before </w:t>.
				o.text.end = start
				if p := innermost(func(o open) bool { return o.para != nil }); p != nil {
					p.para.texts = append(p.para.texts, o.text)
				}
			}
		}
	}
	// A text box's paragraph ends before the one it sits in: put the
	// tags in the order of the document.
	slices.SortFunc(occs, func(x, y *occ) int { return x.a - y.a })
	for _, o := range occs {
		if r := o.para.row; r != nil {
			r.tags++
		}
	}
	return occs
}

// paraTags finds the tags in the text of a paragraph, across its runs.
func paraTags(data []byte, p *para, ps *problems) []*occ {
	var full strings.Builder
	type seg struct {
		w    *wtext
		base int   // where its text starts in full
		off  []int // raw offset of each byte of its text, and of its end
	}
	if raw := data[p.start:p.end]; !bytes.Contains(raw, []byte("{")) && !bytes.Contains(raw, []byte("&#")) {
		// No tag: only whether the row has text matters.
		for _, w := range p.texts {
			if p.row != nil && len(bytes.TrimSpace(data[w.start:w.end])) > 0 {
				p.row.text = true
			}
		}
		return nil
	}
	segs := make([]seg, 0, len(p.texts))
	for _, w := range p.texts {
		s, off := decodeText(data[w.start:w.end], w.start)
		segs = append(segs, seg{w: w, base: full.Len(), off: off})
		full.WriteString(s)
	}
	text := full.String()
	if !strings.Contains(text, "{{") {
		if strings.TrimSpace(text) != "" && p.row != nil {
			p.row.text = true
		}
		return nil
	}
	// at is the segment holding byte i of text (the last one whose text
	// starts at or before it and is not empty, or ends at it when end).
	at := func(i int, end bool) int {
		k := 0
		for j, s := range segs {
			n := len(s.off) - 1
			if (!end && s.base <= i && i < s.base+n) || (end && s.base < i && i <= s.base+n) {
				k = j
				break
			}
		}
		return k
	}
	var out []*occ
	var rest strings.Builder
	for i := 0; ; {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			rest.WriteString(text[i:])
			break
		}
		j += i
		rest.WriteString(text[i:j])
		k := strings.Index(text[j+2:], "}}")
		if k < 0 {
			ps.add(p.where, shorten(text[j:min(len(text), j+60)]), "{{ is not closed by }} in its paragraph")
			return nil
		}
		end := j + 2 + k + 2
		i = end
		g := parseTag(text[j:end], p.where, ps)
		if g == nil {
			continue
		}
		first, last := at(j, false), at(end, true)
		o := &occ{g: g, para: p, a: segs[first].off[j-segs[first].base], b: segs[last].off[end-segs[last].base]}
		for _, s := range segs[first : last+1] {
			o.texts = append(o.texts, s.w)
		}
		out = append(out, o)
	}
	alone := len(out) == 1 && strings.TrimSpace(rest.String()) == "" && !p.objects
	for _, o := range out {
		o.alone = alone
	}
	if strings.TrimSpace(rest.String()) != "" && p.row != nil {
		p.row.text = true
	}
	return out
}

// decodeText decodes the character data of a text element (raw, at
// offset base of its part), giving for each byte of the text the offset
// of the raw byte or entity it comes from, and the offset of the end.
func decodeText(raw []byte, base int) (string, []int) {
	var b []byte
	off := make([]int, 0, len(raw)+1)
	for i := 0; i < len(raw); {
		if raw[i] == '&' {
			if j := bytes.IndexByte(raw[i:], ';'); j > 1 && j < 12 {
				if r, ok := entity(string(raw[i+1 : i+j])); ok {
					var buf [utf8.UTFMax]byte
					n := utf8.EncodeRune(buf[:], r)
					b = append(b, buf[:n]...)
					for range n {
						off = append(off, base+i)
					}
					i += j + 1
					continue
				}
			}
		}
		b = append(b, raw[i])
		off = append(off, base+i)
		i++
	}
	return string(b), append(off, base+len(raw))
}

// entity is the character an XML entity or character reference (without
// & and ;) stands for.
func entity(s string) (rune, bool) {
	switch s {
	case "amp":
		return '&', true
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	}
	if len(s) > 1 && s[0] == '#' {
		var n int
		var err error
		if s[1] == 'x' || s[1] == 'X' {
			_, err = fmt.Sscanf(s[2:], "%x", &n)
		} else {
			_, err = fmt.Sscanf(s[1:], "%d", &n)
		}
		if err == nil && n > 0 && n <= utf8.MaxRune {
			return rune(n), true
		}
	}
	return 0, false
}
