package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

const sortKeysHCL = `
entity "thing" {
  field "s"  { type = "string" }
  field "t"  { type = "text" }
  field "i"  { type = "int" }
  field "d"  { type = "decimal" }
  field "m"  { type = "money" }
  field "b"  { type = "bool" }
  field "dt" { type = "date" }
  field "ts" { type = "datetime" }
  field "e"  {
    type = "enum"
    values = ["a", "b", "c"]
  }
  field "em" { type = "email" }
  field "u"  { type = "url" }
}
`

// TestKeyReaderEqualsDecoding checks that the sort keys read from a stored
// record (keyReader, used by lists sorted in memory) equal those of the
// decoded record (lister.keysOf), for every field type and system field,
// over random records and hand-made stored forms: missing and null
// values, values that no longer fit their field, unknown and duplicate
// keys, escaped strings.
func TestKeyReaderEqualsDecoding(t *testing.T) {
	ent, raws := sortKeyRecords(t)
	sorts := []string{"id"}
	for _, f := range ent.Fields {
		sorts = append(sorts, f.Name, "-"+f.Name)
	}
	sorts = append(sorts, "version", "-created_at", "updated_at", "owner", "-created_by", "s,-i", "m,b,-ts")
	for _, sort := range sorts {
		keys := append(ParseSort(sort), SortKey{Field: "id"})
		l := &lister{ent: ent, keys: keys}
		kr := newKeyReader(l)
		for n, raw := range raws {
			id := fmt.Sprintf("r%04d", n)
			rec, err := decodeRecord(ent, id, raw)
			if err != nil {
				t.Fatalf("decode %s: %v", raw, err)
			}
			want := l.keysOf(rec)
			got, err := kr.keys(id, raw)
			if err != nil {
				t.Fatalf("sort %q, %s: %v", sort, raw, err)
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("sort %q, key %d of %s: read %x, decoded %x", sort, i, raw, got[i], want[i])
				}
			}
		}
	}
}

// TestDecodeRecordFastEqualsJSON checks that decodeRecord's walk gives
// exactly what encoding/json gives, over the records of
// TestKeyReaderEqualsDecoding's kinds and odd stored forms.
func TestDecodeRecordFastEqualsJSON(t *testing.T) {
	ent, raws := sortKeyRecords(t)
	for _, raw := range raws[:400] { // as encodeRecord wrote them
		if _, ok := decodeRecordFast(ent, "x1", raw, false); !ok {
			t.Fatalf("%s: left to encoding/json", raw)
		}
	}
	raws = append(raws,
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":{"s":"a"}} x`),
		[]byte(`{"v":1.0,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":{}}`),
		[]byte(`{"V":7,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":{}}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":null}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z"}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":{"s":"a","s":null,"id":"x","owner":"q"}}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00\u005a","u":"2025-01-01T00:00:00Z","o":"\u00e9","f":{"i":"7","b":1}}`),
		[]byte(`{"v":1,"c":"2025-01-01","u":"2025-01-01T00:00:00Z","f":{}}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","x":1,"f":{}}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","f":{"s":"a",}}`),
	)
	for _, raw := range raws {
		got, gerr := decodeRecord(ent, "x1", raw)
		want, werr := decodeRecordJSON(ent, "x1", raw)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%s: error %v, encoding/json's %v", raw, gerr, werr)
		}
		if gerr != nil {
			continue
		}
		if !reflect.DeepEqual(got, want) || !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location().String() != want.CreatedAt.Location().String() {
			t.Fatalf("%s:\n got %#v\nwant %#v", raw, got, want)
		}
	}
}

// sortKeyRecords makes stored forms of records of every field type: 400
// random ones and a few that a schema change or an older version could
// leave.
func sortKeyRecords(t *testing.T) (*schema.Entity, [][]byte) {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(sortKeysHCL)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ent := sch.Entity("thing")
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := map[string][]string{
		"s":  {`"x"`, `"Ani"`, `"ани"`, `"a\"b"`, `"\u00e9"`, `"z\\q"`},
		"t":  {`"long text"`, `"tab\there"`, `"ü"`},
		"i":  {`0`, `-5`, `42`, `9007199254740993`, `-9223372036854775808`},
		"d":  {`"1.5"`, `"-0.25"`, `"100"`, `"3.14159"`},
		"m":  {`{"amount":"1500.00","currency":"AMD"}`, `{"amount":"-2.5","currency":"USD"}`, `{"amount":"0","currency":"EUR"}`},
		"b":  {`true`, `false`},
		"dt": {`"2024-02-29"`, `"1999-12-31"`},
		"ts": {`"2024-02-29T10:11:12Z"`, `"2024-02-29T10:11:12.123456+04:00"`},
		"e":  {`"a"`, `"b"`, `"c"`},
		"em": {`"x@example.com"`, `"Y@Example.com"`},
		"u":  {`"https://example.com/a"`},
	}
	var raws [][]byte
	for n := range 400 {
		var members []string
		for _, f := range ent.Fields {
			vs := inputs[f.Name]
			if vs == nil || rng.IntN(4) == 0 {
				continue
			}
			members = append(members, fmt.Sprintf("%q:%s", f.Name, vs[rng.IntN(len(vs))]))
		}
		in, err := ent.DecodeInput([]byte("{" + strings.Join(members, ",") + "}"))
		if err != nil {
			t.Fatalf("input %v: %v", members, err)
		}
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second)
		rec := &Record{ID: fmt.Sprintf("id%04d", n), Entity: "thing", Version: int64(1 + rng.IntN(9)), CreatedAt: at,
			UpdatedAt: at.Add(time.Duration(rng.IntN(1e4)) * time.Millisecond), Values: in.Values}
		if rng.IntN(2) == 0 {
			rec.Owner, rec.CreatedBy = fmt.Sprintf("u%d", rng.IntN(3)), "u9"
		}
		raw, err := encodeRecord(ent, rec)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	// Stored forms that a schema change or an older version could leave.
	raws = append(raws,
		[]byte(`{"v":2,"c":"2025-01-01T00:00:00Z","u":"2025-01-02T00:00:00Z","f":{"s":null,"i":"12","b":"yes","gone":1}}`),
		[]byte(`{"f":{"s":5,"i":1.5,"d":2,"m":"7 AMD","e":"zz","dt":"2024-13-01"},"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z"}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00Z","u":"2025-01-01T00:00:00Z","o":"u\u0031","f":{"s":"a","s":"b","i":1,"i":2,"t":"\u00e9\n"}}`),
		[]byte(`{"v":1,"c":"2025-01-01T00:00:00.5+02:00","u":"2025-01-01T00:00:00Z","cb":"x","f":{}}`),
		[]byte(`{ "v" : 3 , "c" : "2025-01-01T00:00:00Z" , "u" : "2025-01-01T00:00:00Z" , "f" : { "s" : "sp" , "m" : {"amount":"1","currency":"AMD"} } }`),
	)
	return ent, raws
}
