package localetest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// catalogDir is where the UI's message catalogues are.
const catalogDir = "../static/i18n"

// translated are the languages translated from en.json.
var translated = []string{"hy", "lt", "az", "fa", "ru"}

// pluralCategories are the CLDR cardinal plural categories of each language
// (CLDR 46 plurals.xml), the forms a plural message must have; "zero" is
// allowed in addition, as an explicit text for 0.
var pluralCategories = map[string][]string{
	"en": {"one", "other"},
	"hy": {"one", "other"},
	"lt": {"one", "few", "many", "other"},
	"az": {"one", "other"},
	"fa": {"one", "other"},
	"ru": {"one", "few", "many", "other"},
}

// oneIsOnlyOne are the languages whose "one" category holds the number 1 and
// nothing else, so their "one" form may say "one" instead of {count}. In hy and
// fa "one" also holds 0 (and 1.5), in ru and lt 21, 31..., so there it may not.
var oneIsOnlyOne = map[string]bool{"en": true, "az": true}

// keyPattern is the shape of a key: dotted parts without spaces, "nav.contacts", "op.>=".
var keyPattern = regexp.MustCompile(`^[^.\s]+(\.[^.\s]+)+$`)

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// message is one catalogue value: a text, or plural forms by category.
type message struct {
	text   string
	forms  map[string]string
	plural bool
}

func loadCatalog(t *testing.T, code string) map[string]message {
	t.Helper()
	path := filepath.Join(catalogDir, code+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read catalogue %s: %v", code, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("%s: not a JSON object: %v", path, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON object", path)
	}
	out := make(map[string]message, len(raw))
	for key, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[key] = message{text: s}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			t.Errorf("%s: %q is neither a string nor an object of strings (plural forms): %s", path, key, v)
			continue
		}
		out[key] = message{forms: forms, plural: true}
	}
	return out
}

// placeholders are the {names} in a message, all forms together.
func (m message) placeholders() []string {
	set := map[string]bool{}
	add := func(s string) {
		for _, g := range placeholder.FindAllStringSubmatch(s, -1) {
			set[g[1]] = true
		}
	}
	add(m.text)
	for _, f := range m.forms {
		add(f)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// enOrSkip loads en.json, which the ui branch owns, or skips when this branch
// does not have it yet.
func enOrSkip(t *testing.T) map[string]message {
	t.Helper()
	if _, err := os.Stat(filepath.Join(catalogDir, "en.json")); os.IsNotExist(err) {
		t.Skip("web/static/i18n/en.json is not on this branch yet (it comes with branch ui)")
	}
	return loadCatalog(t, "en")
}

// TestCatalogues checks that every language has every English key with the
// same placeholders, and plural messages with the language's categories.
func TestCatalogues(t *testing.T) {
	en := enOrSkip(t)
	checkPlurals(t, "en", en)
	for _, code := range translated {
		t.Run(code, func(t *testing.T) {
			cat := loadCatalog(t, code)
			var missing []string
			for key, want := range en {
				got, ok := cat[key]
				if !ok || (!got.plural && strings.TrimSpace(got.text) == "") {
					missing = append(missing, key)
					continue
				}
				if w, g := want.placeholders(), got.placeholders(); !slices.Equal(w, g) {
					t.Errorf("%s %q: placeholders %v, English has %v", code, key, g, w)
				}
				if want.plural && !got.plural {
					t.Errorf("%s %q: a text, English has plural forms", code, key)
				}
				if got.plural && !want.plural {
					t.Errorf("%s %q: plural forms, English has a text", code, key)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("%s: %d keys of en.json missing: %s", code, len(missing), strings.Join(missing, ", "))
			}
			var extra []string
			for key := range cat {
				if _, ok := en[key]; !ok {
					extra = append(extra, key)
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				t.Logf("%s: %d keys not in en.json (unused until English has them): %s", code, len(extra), strings.Join(extra, ", "))
			}
			checkPlurals(t, code, cat)
			countForms(t, code, en, cat)
		})
	}
}

// checkPlurals checks that each plural message has exactly the categories of
// the language (plus an optional "zero") and no empty form.
func checkPlurals(t *testing.T, code string, cat map[string]message) {
	t.Helper()
	need := pluralCategories[code]
	for key, m := range cat {
		if !m.plural {
			continue
		}
		for _, c := range need {
			if strings.TrimSpace(m.forms[c]) == "" {
				t.Errorf("%s %q: plural form %q missing (the language needs %v)", code, key, c, need)
			}
		}
		for c := range m.forms {
			if c != "zero" && !slices.Contains(need, c) {
				t.Errorf("%s %q: plural form %q is never chosen in this language (it has %v)", code, key, c, need)
			}
		}
	}
}

// countForms checks that a plural form says {count} wherever the English
// "other" form does, except a "one" form in a language where "one" is only 1.
func countForms(t *testing.T, code string, en, cat map[string]message) {
	t.Helper()
	for key, want := range en {
		got, ok := cat[key]
		if !ok || !want.plural || !got.plural || !strings.Contains(want.forms["other"], "{count}") {
			continue
		}
		for c, f := range got.forms {
			if c == "zero" || (c == "one" && oneIsOnlyOne[code]) {
				continue
			}
			if !strings.Contains(f, "{count}") {
				t.Errorf("%s %q: form %q lacks {count}, which it needs (it is used for more than one number)", code, key, c)
			}
		}
	}
}

// TestCataloguesAreFlatJSON checks every catalogue on this branch, en.json
// included when present, without needing English.
func TestCataloguesAreFlatJSON(t *testing.T) {
	for _, code := range append([]string{"en"}, translated...) {
		path := filepath.Join(catalogDir, code+".json")
		if _, err := os.Stat(path); os.IsNotExist(err) && code == "en" {
			continue
		}
		t.Run(code, func(t *testing.T) {
			cat := loadCatalog(t, code)
			checkPlurals(t, code, cat)
			for key, m := range cat {
				if !keyPattern.MatchString(key) {
					t.Errorf("%s: key %q is not dotted parts without spaces", code, key)
				}
				if !m.plural && m.text == "" {
					t.Errorf("%s %q: empty text", code, key)
				}
			}
		})
	}
}
