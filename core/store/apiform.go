package store

import (
	"bytes"
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// APIForm is a file's metadata as the API shows it.
func (f *File) APIForm() map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "size": f.Size, "content_type": f.ContentType, "sha256": f.SHA256}
}

// APIForm is a record as the API shows it, and as webhooks and plugins get
// it: system fields and field values side by side, flat, each value in its
// JSON form; a file field shows the file's metadata, read from st (only
// its id when st is nil or the file is gone).
func APIForm(ctx context.Context, st Store, ent *schema.Entity, r *Record) map[string]any {
	out := ent.EncodeValues(r.Values)
	for _, f := range ent.Fields {
		id, ok := r.Values[f.Name].(string)
		if f.Type != config.TypeFile || !ok {
			continue
		}
		out[f.Name] = map[string]any{"id": id}
		if st == nil {
			continue
		}
		if meta, err := st.FileInfo(ctx, id); err == nil {
			out[f.Name] = meta.APIForm()
		}
	}
	out[schema.FieldID], out[schema.FieldEntity], out[schema.FieldVersion] = r.ID, r.Entity, r.Version
	out[schema.FieldCreatedAt], out[schema.FieldUpdatedAt] = r.CreatedAt, r.UpdatedAt
	out[schema.FieldCreatedBy], out[schema.FieldOwner] = r.CreatedBy, r.Owner
	return out
}

// System field names of the API form in key order, with the envelope
// member each comes from ("" for the record's id and entity).
var apiSystemKeys = [...]struct{ name, member string }{
	{schema.FieldCreatedAt, "c"}, {schema.FieldCreatedBy, "cb"}, {schema.FieldEntity, ""},
	{schema.FieldID, ""}, {schema.FieldOwner, "o"}, {schema.FieldUpdatedAt, "u"}, {schema.FieldVersion, "v"},
}

// AppendAPIForm appends the JSON of APIForm(ctx, st, ent, r), byte for
// byte as encoding/json writes it with SetEscapeHTML(false), straight from
// the stored form a list read it from, without building the record's maps
// of values. ok is false (and b unchanged) when it cannot: r was not read
// by List, or its stored form holds something only the decoded record
// answers exactly (a file field, a decimal, money, date or time value, an
// escaped string, a key out of order or no longer a field). r must be as
// List returned it.
func AppendAPIForm(b []byte, ent *schema.Entity, r *Record) ([]byte, bool) {
	if r.stored == nil || ent == nil || ent.Name != r.Entity || !plainJSONString(r.ID) || !plainJSONString(r.Entity) {
		return b, false
	}
	raw := r.stored
	var sys [5][]byte // c, cb, o, u, v as stored
	var vals []byte
	_, err := scanObject(raw, 0, func(key []byte, i int) (int, error) {
		end, err := skipValue(raw, i)
		if err != nil {
			return 0, err
		}
		switch string(key) {
		case "c":
			sys[0] = raw[i:end]
		case "cb":
			sys[1] = raw[i:end]
		case "o":
			sys[2] = raw[i:end]
		case "u":
			sys[3] = raw[i:end]
		case "v":
			sys[4] = raw[i:end]
		case "f":
			vals = raw[i:end]
		default:
			return 0, errSyntax
		}
		return end, nil
	})
	if err != nil || vals == nil || sys[0] == nil || sys[3] == nil || sys[4] == nil {
		return b, false
	}
	start := len(b)
	rd := fieldReaders(ent)
	next := 0 // the next system key to write
	// system appends the system keys that sort before name (all for "").
	system := func(name string) bool {
		for ; next < len(apiSystemKeys) && (name == "" || apiSystemKeys[next].name < name); next++ {
			k := apiSystemKeys[next]
			if b[len(b)-1] != '{' {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), k.name...), `":`...)
			var ok bool
			switch k.member {
			case "":
				v := r.ID
				if k.name == schema.FieldEntity {
					v = r.Entity
				}
				b, ok = append(append(append(b, '"'), v...), '"'), true
			case "c", "u":
				b, ok = appendStoredTime(b, sys[timeSlot(k.member)])
			case "cb", "o":
				v := sys[1]
				if k.member == "o" {
					v = sys[2]
				}
				if v == nil {
					b, ok = append(b, `""`...), true
				} else {
					b, ok = appendStoredString(b, v)
				}
			case "v":
				var n int64
				if n, ok = jsonInt(sys[4]); ok {
					b = strconv.AppendInt(b, n, 10)
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	b = append(b, '{')
	var last []byte
	_, err = scanObject(vals, 0, func(key []byte, i int) (int, error) {
		end, err := skipValue(vals, i)
		if err != nil {
			return 0, err
		}
		v := vals[i:end]
		sf := rd[string(key)]
		if sf == nil || sf.field.Type == config.TypeFile || (last != nil && bytes.Compare(last, key) >= 0) {
			return 0, errSyntax // not a field now, needs the file's metadata, or not in encoding/json's order
		}
		last = key
		if string(v) == "null" {
			return end, nil // no value: not in the API form
		}
		if !system(sf.name) {
			return 0, errSyntax
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), sf.name...), `":`...)
		switch sf.fast {
		case readString:
			var ok bool
			if b, ok = appendStoredString(b, v); !ok {
				return 0, errSyntax
			}
		case readInt:
			n, ok := jsonInt(v)
			if !ok {
				return 0, errSyntax
			}
			b = strconv.AppendInt(b, n, 10)
		case readBool:
			if string(v) != "true" && string(v) != "false" {
				return 0, errSyntax
			}
			b = append(b, v...)
		default:
			return 0, errSyntax
		}
		return end, nil
	})
	if err != nil || !system("") {
		return b[:start], false
	}
	return append(b, '}'), true
}

// appendStoredTime appends a stored time as the decoded record's time is
// encoded (time.Time's MarshalJSON). raw is part of a record's stored
// form, which never changes: the string parsed shares its bytes.
func appendStoredTime(b, raw []byte) ([]byte, bool) {
	if canonicalUTC(raw) {
		return append(b, raw...), true // what parsing and formatting it again would write
	}
	return appendParsedTime(b, raw)
}

// canonicalUTC reports whether raw is a JSON string that time.Time's
// MarshalJSON writes for a UTC time: "YYYY-MM-DDThh:mm:ss[.f]Z", a valid
// date and time of day, the fraction 1 to 9 digits without trailing zeros.
// Parsing it and formatting it again (appendParsedTime) writes it as it is.
func canonicalUTC(raw []byte) bool {
	n := len(raw)
	if n < 22 || raw[0] != '"' || raw[n-1] != '"' || raw[n-2] != 'Z' {
		return false
	}
	t := raw[1 : n-2] // without the quotes and the Z
	if t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' {
		return false
	}
	num := func(i, j int) int {
		v := 0
		for _, c := range t[i:j] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	if day > days {
		return false
	}
	frac := t[19:]
	if len(frac) == 0 {
		return true
	}
	return len(frac) >= 2 && len(frac) <= 10 && frac[0] == '.' && num(20, len(t)) >= 0 && frac[len(frac)-1] != '0'
}

// appendParsedTime is appendStoredTime by parsing the time and formatting
// it again.
func appendParsedTime(b, raw []byte) ([]byte, bool) {
	s, ok := jsonStringOf(raw, true)
	if !ok {
		return b, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) < len("2006-01-02T15:04:05Z") || t.Year() < 0 || t.Year() > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendStoredString appends a stored JSON string as encoding/json writes
// it with SetEscapeHTML(false): as stored, but for the escapes of <, > and
// & that json.Marshal wrote when it stored it. ok is false for any other
// escape, for what is not UTF-8, and for U+2028 or U+2029 unescaped
// (which encoding/json escapes).
func appendStoredString(b, raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.Contains(raw, lineSep) || bytes.Contains(raw, paraSep) {
		return b, false
	}
	body := raw[1 : len(raw)-1]
	if !utf8.Valid(body) {
		return b, false
	}
	start := len(b)
	b = append(b, '"')
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\\')
		if i < 0 {
			i = len(body)
		}
		for _, c := range body[:i] {
			if c < 0x20 || c == '"' {
				return b[:start], false
			}
		}
		b = append(b, body[:i]...)
		body = body[i:]
		if len(body) == 0 {
			break
		}
		if len(body) < 6 || string(body[:4]) != `\u00` {
			return b[:start], false
		}
		switch string(body[4:6]) {
		case "3c":
			b = append(b, '<')
		case "3e":
			b = append(b, '>')
		case "26":
			b = append(b, '&')
		default:
			return b[:start], false
		}
		body = body[6:]
	}
	return append(b, '"'), true
}

var lineSep, paraSep = []byte("\u2028"), []byte("\u2029")

// plainJSONString reports whether encoding/json writes s between quotes
// as it is.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// timeSlot is where AppendAPIForm keeps the stored created ("c") or
// updated ("u") time.
func timeSlot(member string) int {
	if member == "c" {
		return 0
	}
	return 3
}
