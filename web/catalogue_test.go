package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// uiKey matches a literal key passed to t(): t('list.empty' or t('op.' + op
// (then the key is a prefix, the rest computed).
var uiKey = regexp.MustCompile(`\bt\(\s*'([a-z0-9_.]+)'\s*(\+)?`)

// dynamicKeys are the keys of the prefixes the code completes at run time.
var dynamicKeys = map[string][]string{
	"op.":       {"==", "!=", "contains", "startsWith", "<", "<=", ">", ">="},
	"timeline.": {"created", "updated", "deleted"},
	"system.":   {"id", "owner", "created_at", "updated_at", "created_by", "version"},
}

// TestEnglishCatalogueHasEveryKey checks that every key the UI's modules
// pass to t() is in i18n/en.json, the source the translators work from.
func TestEnglishCatalogueHasEveryKey(t *testing.T) {
	files, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(files, "i18n/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]any
	if err := json.Unmarshal(b, &en); err != nil {
		t.Fatalf("en.json: %v", err)
	}
	var missing []string
	err = fs.WalkDir(files, "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		src, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range uiKey.FindAllStringSubmatch(string(src), -1) {
			key, prefix := m[1], m[2] == "+"
			if !prefix {
				if _, ok := en[key]; !ok {
					missing = append(missing, p+": "+key)
				}
				continue
			}
			rest, ok := dynamicKeys[key]
			if !ok {
				t.Errorf("%s: t('%s' + ...) computes a key; list its endings in dynamicKeys", p, key)
			}
			for _, r := range rest {
				if _, ok := en[key+r]; !ok {
					missing = append(missing, p+": "+key+r)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys used but missing from i18n/en.json:\n%s", strings.Join(missing, "\n"))
	}
}
