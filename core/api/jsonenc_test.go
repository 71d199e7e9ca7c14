package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestAppendJSONEqualsEncodingJSON checks that the answers' encoder writes
// exactly the bytes of encoding/json's Encoder (without HTML escaping)
// over random trees of the values answers hold and strings that need
// escaping in every way.
func TestAppendJSONEqualsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "plain", "Anna Petrosyan", "ани", "é", "a\"b", `back\slash`, "tab\t", "nl\n", "\x00\x1f",
		"<b>&amp;</b>", "\u2028", "x\u2029y", "bad\xffutf8", "\xc3", "emoji 😀", "ملک", "کی", "ZWNJ\u200cx", "\u007f"}
	var gen func(depth int) any
	gen = func(depth int) any {
		k := rng.IntN(14)
		if depth > 3 && k >= 9 {
			k = rng.IntN(9)
		}
		switch k {
		case 0:
			return nil
		case 1, 2:
			return strs[rng.IntN(len(strs))]
		case 3:
			return rng.IntN(2) == 0
		case 4:
			return rng.IntN(1000) - 500
		case 5:
			return int64(rng.Uint64())
		case 6:
			return rng.Float64() * 1e22
		case 7:
			if rng.IntN(10) == 0 {
				return time.Date(10000+rng.IntN(2)*-20000, 1, 2, 3, 4, 5, 0, time.UTC) // MarshalJSON refuses it
			}
			return time.Date(1+rng.IntN(9999), 1, 2, 3, 4, 5, rng.IntN(1e9)/(1+rng.IntN(1000))*(1+rng.IntN(2)), time.FixedZone("x", 1800*(rng.IntN(9)-4)))
		case 8:
			return json.Number("12.50")
		case 9, 10:
			if rng.IntN(8) == 0 {
				return map[string]any(nil)
			}
			m := map[string]any{}
			for range rng.IntN(6) {
				m[strs[rng.IntN(len(strs))]+fmt.Sprint(rng.IntN(3))] = gen(depth + 1)
			}
			return m
		case 11:
			if rng.IntN(8) == 0 {
				return []map[string]any(nil)
			}
			l := make([]map[string]any, rng.IntN(4))
			for i := range l {
				l[i], _ = gen(depth + 1).(map[string]any)
			}
			return l
		case 12:
			if rng.IntN(8) == 0 {
				return []any(nil)
			}
			l := make([]any, rng.IntN(4))
			for i := range l {
				l[i] = gen(depth + 1)
			}
			return l
		}
		return struct {
			A string `json:"a"`
			B []int  `json:"b,omitempty"`
		}{A: strs[rng.IntN(len(strs))]}
	}
	for n := range 5000 {
		v := gen(0)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		werr := enc.Encode(v)
		got, err := appendJSON(nil, v)
		if (err == nil) != (werr == nil) {
			t.Fatalf("tree %d %#v: error %v, encoding/json's %v", n, v, err, werr)
		}
		if err != nil {
			continue
		}
		if string(got)+"\n" != want.String() {
			t.Fatalf("tree %d %#v:\n got %s\nwant %s", n, v, got, strings.TrimSpace(want.String()))
		}
	}
}
