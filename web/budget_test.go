package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// staticImport matches the static imports of an ES module (import x from
// '...', import '...', export ... from '...'); dynamic import() is loaded
// later, on use, and is not initial.
var staticImport = regexp.MustCompile(`(?m)(?:^|[;\s])(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']`)

// TestInitialJavaScriptBudget walks the module graph from js/app.js as the
// browser loads it at start (through the import map) and checks that it is
// at most 150 KB gzipped, each file compressed on its own.
func TestInitialJavaScriptBudget(t *testing.T) {
	files, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	queue := []string{"js/app.js"}
	total := 0
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		b, err := fs.ReadFile(files, p)
		if err != nil {
			t.Fatalf("%s is imported but missing: %v", p, err)
		}
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(b)
		w.Close()
		total += gz.Len()
		for _, m := range staticImport.FindAllSubmatch(b, -1) {
			spec := string(m[1])
			switch {
			case strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
				queue = append(queue, path.Join(path.Dir(p), spec))
			default:
				f, ok := imports[spec]
				if !ok {
					t.Errorf("%s imports %q, which the import map does not name", p, spec)
					continue
				}
				queue = append(queue, f)
			}
		}
	}
	t.Logf("initial JavaScript: %d modules, %.1f KB gzipped", len(seen), float64(total)/1024)
	if total > 150*1024 {
		t.Errorf("initial JavaScript is %.1f KB gzipped; the budget is 150 KB", float64(total)/1024)
	}
}
