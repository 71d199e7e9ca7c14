package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

const needlesHCL = `
entity "thing" {
  field "s"  { type = "string" }
  field "t"  { type = "text" }
  field "e"  {
    type = "enum"
    values = ["ab", "cd"]
  }
  field "i"  { type = "int" }
  field "fl" { type = "file" }
}
`

// TestNeedlesAgreeWithTheFilter checks that skipping records by the
// needles of `F contains 'text'` (mayContain) never changes an answer:
// for every filter and every stored form, MatchRaw gives what it gives
// without the needles, over random strings with quotes, backslashes,
// <, & and control characters, non-ASCII and invalid UTF-8, and over
// hand-made stored forms (escaped letters, values of another JSON type).
func TestNeedlesAgreeWithTheFilter(t *testing.T) {
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(needlesHCL)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ent := sch.Entity("thing")
	filters := map[string]int{ // source -> needles wanted
		`s contains 'ab'`: 1, `s contains 'é'`: 1, `s contains '"'`: 1, `s contains '<'`: 1, `s contains '\\'`: 1,
		`s contains "\n"`: 1, `t contains 'b' && i > 3`: 1, `s contains 'a' && t contains 'b'`: 2, `e contains 'b'`: 1,
		`fl contains 'f'`: 0, `s contains '\uFFFD'`: 0, `s contains ''`: 0, `s contains 'a' || t contains 'b'`: 0,
		`not (s contains 'a')`: 0, `s contains 'ab' && len(t) > 1`: 0, `"xaby" contains s`: 0, `s contains 'ab' and i == nil`: 1,
	}
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "b", "ab", "é", `"`, `\`, "<", "&", "\n", "\x01", "\xff", "\uFFFD", " ", "x"}
	str := func() string {
		out := ""
		for range rng.IntN(5) {
			out += pieces[rng.IntN(len(pieces))]
		}
		return out
	}
	var raws [][]byte
	for n := range 600 {
		vals := map[string]any{}
		if rng.IntN(5) > 0 {
			vals["s"] = str()
		}
		if rng.IntN(3) > 0 {
			vals["t"] = str()
		}
		if rng.IntN(2) > 0 {
			vals["e"] = []string{"ab", "cd"}[rng.IntN(2)]
		}
		if rng.IntN(2) > 0 {
			vals["i"] = int64(rng.IntN(8))
		}
		if rng.IntN(4) == 0 {
			vals["fl"] = "f" + str()
		}
		for k, v := range vals {
			if s, ok := v.(string); ok && s == "" {
				delete(vals, k)
			}
		}
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		raw, err := encodeRecord(ent, &Record{ID: fmt.Sprint(n), Entity: "thing", Version: 1, CreatedAt: at, UpdatedAt: at, Values: vals})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	env := `{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":%s}`
	for _, f := range []string{`{"s":"a\u0062"}`, `{"s":"\u0061b","t":"b"}`, `{"s":5,"t":"b"}`, `{"s":["ab"]}`, `{"s":{"a":"ab"}}`,
		"{\"s\":\"a\xffb\"}", "{\"s\":\"a\x01b\"}", `{"s":"xy","s":"ab"}`, `{"s":"ab","s":null}`, `{"e":"ab"}`, `{"e":"zz ab"}`,
		`{"fl":{"id":"fab"}}`, `{"t":"b","i":"4","s":"ab"}`, `{"s":"\u00e9"}`, `{"s":"\u003c"}`, `{"s":"\"ab"}`} {
		raws = append(raws, fmt.Appendf(nil, env, f))
	}
	skipped := 0
	for src, wantNeedles := range filters {
		f, err := CompileFilter(ent, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if len(f.needles) != wantNeedles {
			t.Fatalf("%s: %d needles %q, want %d", src, len(f.needles), f.needles, wantNeedles)
		}
		plain := *f
		plain.needles = nil
		plain.scanners = scannerPool(&plain)
		for _, raw := range raws {
			want, werr := plain.MatchRaw("id1", raw)
			got, gerr := f.MatchRaw("id1", raw)
			if werr != nil {
				continue // damaged: the walk reports it where it reads it
			}
			if gerr != nil || got != want {
				t.Fatalf("%s on %s: %v, %v with the needles; %v without", src, raw, got, gerr, want)
			}
			if !mayContain(f.needles, raw) {
				skipped++
			}
		}
	}
	if skipped < 1000 {
		t.Errorf("the needles skipped %d records; the test does not exercise them", skipped)
	}
}
