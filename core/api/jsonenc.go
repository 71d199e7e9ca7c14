package api

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON appends v as encoding/json's Encoder with SetEscapeHTML(false)
// writes it (without the newline), walking the maps, slices, strings,
// integers, booleans and times of an answer itself, in the same byte form,
// and handing every other value (floats, structs, strings that need
// escaping) to encoding/json. The answers of lists are made of such
// maps; encoding/json spends most of its time on them reflecting and
// sorting keys.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, x)
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case time.Time:
		if y := x.Year(); y < 0 || y > 9999 {
			return appendEncoded(b, v) // MarshalJSON's error
		}
		b = append(b, '"')
		b = x.AppendFormat(b, time.RFC3339Nano) // as MarshalJSON
		return append(b, '"'), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONString(b, k); err != nil {
				return nil, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []rawJSON:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		return append(b, ']'), nil
	case []map[string]any:
		return appendList(b, x)
	case []any:
		return appendList(b, x)
	}
	return appendEncoded(b, v)
}

// rawJSON is a value already encoded as appendJSON would encode it, which
// appendJSON copies as it is (in a list: []rawJSON).
type rawJSON []byte

// appendList appends a JSON array of the elements of xs ("null" for nil),
// each as appendJSON writes it.
func appendList[T any](b []byte, xs []T) ([]byte, error) {
	if xs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, e := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string: as it is when no byte of it
// needs escaping, else as encoding/json escapes it.
func appendJSONString(b []byte, s string) ([]byte, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return appendEncoded(b, s)
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	// encoding/json replaces invalid UTF-8 and escapes U+2028 and U+2029.
	if !ascii && (!utf8.ValidString(s) || bytes.Contains([]byte(s), lineSep) || bytes.Contains([]byte(s), paraSep)) {
		return appendEncoded(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

var (
	lineSep = []byte("\u2028")
	paraSep = []byte("\u2029")
)

// appendEncoded appends v as encoding/json's Encoder without HTML escaping
// writes it, without the newline.
func appendEncoded(b []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...), nil
}
