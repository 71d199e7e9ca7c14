package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestAppendAPIFormEqualsEncodingJSON checks that AppendAPIForm writes, from
// a listed record's stored form, exactly what encoding/json writes for
// APIForm of the decoded record (with SetEscapeHTML(false), as the API
// answers), over records of every field type and odd stored forms; that it
// takes every record made only of strings, integers and booleans; and that
// it leaves b as it was when it declines.
func TestAppendAPIFormEqualsEncodingJSON(t *testing.T) {
	ent, raws := sortKeyRecords(t)
	// Records with only the kinds AppendAPIForm writes itself, with
	// strings that need escaping and HTML characters among them.
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"x", "Ani <b>&</b>", "ани", "Սոնա", "ağ", "a\"b", "line\u2028sep", "tab\t", "é", "ی\u200cک", ""}
	var plain [][]byte
	for n := range 300 {
		vals := map[string]any{}
		for _, f := range []string{"s", "t", "e", "em", "u", "i", "b"} {
			if rng.IntN(4) == 0 {
				continue
			}
			switch f {
			case "s", "t":
				vals[f] = strs[rng.IntN(len(strs))]
			case "e":
				vals[f] = []string{"a", "b", "c"}[rng.IntN(3)]
			case "em":
				vals[f] = fmt.Sprintf("u%d@example.com", n)
			case "u":
				vals[f] = "https://example.com/?a=1&b=<2>"
			case "i":
				vals[f] = rng.Int64() - rng.Int64()
			case "b":
				vals[f] = rng.IntN(2) == 0
			}
		}
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(1e15)))
		rec := &Record{ID: fmt.Sprintf("id%04d", n), Entity: "thing", Version: int64(1 + n), CreatedAt: at, UpdatedAt: at.Add(time.Duration(n) * time.Nanosecond), Values: vals}
		if n%3 == 0 {
			rec.Owner, rec.CreatedBy = "u1", "u2"
		}
		raw, err := encodeRecord(ent, rec)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, raw)
	}
	taken := 0
	for n, raw := range append(raws, plain...) {
		id := fmt.Sprintf("r%04d", n)
		rec, err := decodeStored(ent, id, raw)
		if err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(APIForm(context.Background(), nil, ent, rec)); err != nil {
			t.Fatal(err)
		}
		got, ok := AppendAPIForm([]byte("prefix"), ent, rec)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("%s: declined but changed b to %s", raw, got)
			}
			if n >= len(raws) && !strings.Contains(strings.NewReplacer(`\u003c`, "", `\u003e`, "", `\u0026`, "").Replace(string(raw)), `\`) {
				t.Fatalf("%s: declined a record of strings, integers and booleans", raw)
			}
			continue
		}
		taken++
		if w := "prefix" + strings.TrimSuffix(want.String(), "\n"); string(got) != w {
			t.Fatalf("stored %s:\n got %s\nwant %s", raw, got, w)
		}
	}
	if taken < 150 {
		t.Fatalf("only %d records written from their stored form", taken)
	}
	// A record not read by a list has no stored form.
	rec, _ := decodeRecord(ent, "x", raws[0])
	if _, ok := AppendAPIForm(nil, ent, rec); ok {
		t.Fatal("wrote a record without a stored form")
	}
}

// TestStoredTimeAsStored checks that a stored time written as it is (the
// canonical UTC form) is what parsing and formatting it again writes, over
// random times in that form and random changes of them.
func TestStoredTimeAsStored(t *testing.T) {
	for _, s := range []string{"2023-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2000-02-29T23:59:59Z", "1900-02-29T00:00:00Z",
		"0000-01-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00.5Z",
		"2024-01-01T00:00:00.50Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.1234567891Z",
		"2024-01-01T00:00:00+00:00", "2024-1-01T00:00:00Z", "2024-01-01t00:00:00Z"} {
		raw := []byte(`"` + s + `"`)
		fast, okFast := appendStoredTime(nil, raw)
		slow, okSlow := appendParsedTime(nil, raw)
		if okFast != okSlow || string(fast) != string(slow) {
			t.Errorf("%s: as stored %q %v, parsed %q %v", raw, fast, okFast, slow, okSlow)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 200_000 {
		tm := time.Unix(rng.Int64N(253_402_300_800+62_135_596_800)-62_135_596_800, 0).UTC()
		if rng.IntN(2) == 0 {
			tm = tm.Add(time.Duration(rng.IntN(1_000_000_000)))
		}
		raw, _ := json.Marshal(tm)
		if i%2 == 1 { // a change: one byte to a digit or a separator
			raw[1+rng.IntN(len(raw)-2)] = "0123456789:-.TZ+"[rng.IntN(16)]
		}
		fast, okFast := appendStoredTime(nil, raw)
		slow, okSlow := appendParsedTime(nil, raw)
		if okFast != okSlow || string(fast) != string(slow) {
			t.Fatalf("%s: as stored %q %v, parsed %q %v", raw, fast, okFast, slow, okSlow)
		}
		if i%2 == 0 && (!okFast || string(fast) != string(raw)) {
			t.Fatalf("%s: written as %q %v", raw, fast, okFast)
		}
	}
}
