package tmpl

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// MaxHTMLSize is the largest HTML template, in bytes.
const MaxHTMLSize = 8 << 20

// parseHTML reads an HTML template. A block tag ({{ for }}, {{ if }},
// {{ else }}, {{ end }}) alone on its line takes the line with it, so
// that loops leave no blank lines behind.
func parseHTML(data []byte) (*Template, error) {
	var ps problems
	if len(data) > MaxHTMLSize {
		ps.add("file", "", "the HTML template is %d bytes; at most %d", len(data), MaxHTMLSize)
		return nil, ps.err()
	}
	if !utf8.Valid(data) {
		ps.add("file", "", "the HTML template is not UTF-8 text")
		return nil, ps.err()
	}
	t := &Template{kind: KindHTML}
	type piece struct {
		start, end int
		g          *tag
	}
	var pieces []piece
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("{{"))
		if j < 0 {
			break
		}
		j += i
		where := lineCol(data, j)
		k := bytes.Index(data[j+2:], []byte("}}"))
		if k < 0 {
			ps.add(where, shorten(string(data[j:min(len(data), j+60)])), "{{ is not closed by }}")
			break
		}
		end := j + 2 + k + 2
		i = end
		g := parseTag(string(data[j:end]), where, &ps)
		if g == nil {
			continue
		}
		t.tags = append(t.tags, g)
		start, stop := j, end
		if g.kind != tagValue {
			ls := bytes.LastIndexByte(data[:j], '\n') + 1
			le := len(data)
			if n := bytes.IndexByte(data[end:], '\n'); n >= 0 {
				le = end + n + 1
			}
			if blank(data[ls:j]) && blank(data[end:le]) {
				start, stop = ls, le
			}
		}
		pieces = append(pieces, piece{start, stop, g})
	}
	matchBlocks(t.tags, &ps)
	if len(ps) > 0 {
		return nil, ps.err()
	}
	var b builder
	pos := 0
	for _, p := range pieces {
		b.text(data[pos:p.start])
		b.tag(p.g) // balanced: matchBlocks found no problem
		pos = p.end
	}
	b.text(data[pos:])
	t.html = b.root
	return t, nil
}

// lineCol is "line L column C" of byte offset i, both from 1, the column
// in characters.
func lineCol(data []byte, i int) string {
	line := bytes.Count(data[:i], []byte("\n")) + 1
	ls := bytes.LastIndexByte(data[:i], '\n') + 1
	return fmt.Sprintf("line %d column %d", line, utf8.RuneCount(data[ls:i])+1)
}

// blank reports whether p is only spaces, tabs and line ends.
func blank(p []byte) bool {
	return len(bytes.Trim(p, " \t\r\n")) == 0
}
