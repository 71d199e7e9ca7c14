package sdk

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Building filters from values. Query.Filter is an expression of the
// host's filter language (expr); a value pasted into it by hand can end
// its string and add conditions of its own:
//
//	"vin == '" + vin + "'"   // vin = `x' || true || '` lists every record
//
// The functions below render every value as a literal instead, so that no
// value can be read as anything but itself:
//
//	sdk.And(sdk.Eq("vin", vin), sdk.In("status", "open", "pending"))
//	sdk.Filterf("vin == %v && created_at > %v", vin, since)
//
// Each returns the filter's text, for Query.Filter. A field is a name or a
// dotted path ("amount.amount" for a money field's amount, compared as a
// number). The empty filter matches every record, as in Query.
//
// They panic, as regexp.MustCompile does, on what is a mistake in the
// plugin's code rather than in data: a field that is not a name, a value
// of a type the filter language has no literal for, a format verb other
// than %v and %%, or a count of values that does not match the format.
// (A panic in a plugin method is a failed call, not a dead process.)

// fieldRe is a field name or a dotted path of names.
var fieldRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	numberType   = reflect.TypeFor[json.Number]()
)

// Literal renders v as a literal of the filter language:
//
//   - a string (or a type whose kind is string) as a double-quoted string,
//     with `"` and `\` escaped and control characters as \u escapes
//     (invalid UTF-8 as U+FFFD, as the host stores it);
//   - an integer, a finite float or a json.Number as a number;
//   - a bool as true or false, nil (or a nil pointer) as nil;
//   - a time.Time as date("<RFC 3339 with nanoseconds>"), which compares
//     with date and datetime fields and created_at/updated_at;
//   - a time.Duration as duration("1h30m0s");
//   - a slice or array as a list [a, b], for `in`;
//   - a pointer as what it points to.
//
// Any other type, a NaN or an infinity panics.
func Literal(v any) string {
	var b strings.Builder
	writeLiteral(&b, reflect.ValueOf(v))
	return b.String()
}

func writeLiteral(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch v.Type() {
	case timeType:
		b.WriteString(`date("`)
		b.WriteString(v.Interface().(time.Time).Format(time.RFC3339Nano))
		b.WriteString(`")`)
		return
	case durationType:
		b.WriteString(`duration("`)
		b.WriteString(time.Duration(v.Int()).String())
		b.WriteString(`")`)
		return
	case numberType:
		writeNumber(b, json.Number(v.String()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		writeLiteral(b, v.Elem())
	case reflect.String:
		writeString(b, v.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		writeInt(b, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u <= math.MaxInt64 {
			writeInt(b, int64(u))
		} else { // beyond every int64 field's values, and a float compares so
			b.WriteString(strconv.FormatFloat(float64(u), 'g', -1, 64))
		}
	case reflect.Float32, reflect.Float64:
		writeFloat(b, v.Float())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, v.Index(i))
		}
		b.WriteByte(']')
	default:
		panic(fmt.Sprintf("sdk: a filter has no literal for a value of type %s", v.Type()))
	}
}

// writeString writes s as a double-quoted string literal that the filter
// language reads back as s exactly (up to invalid UTF-8).
func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\uFFFD`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// writeInt writes n; a negative one in parentheses, so that it stays one
// operand whatever comes before it.
func writeInt(b *strings.Builder, n int64) {
	switch {
	case n == math.MinInt64: // its magnitude is no int64 literal
		b.WriteString("(-9223372036854775807 - 1)")
	case n < 0:
		b.WriteString("(" + strconv.FormatInt(n, 10) + ")")
	default:
		b.WriteString(strconv.FormatInt(n, 10))
	}
}

func writeFloat(b *strings.Builder, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic(fmt.Sprintf("sdk: a filter has no literal for the number %v", f))
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if f < 0 {
		s = "(" + s + ")"
	}
	b.WriteString(s)
}

func writeNumber(b *strings.Builder, n json.Number) {
	if i, err := n.Int64(); err == nil {
		writeInt(b, i)
		return
	}
	f, err := n.Float64()
	if err != nil {
		panic(fmt.Sprintf("sdk: a filter has no literal for the json.Number %q: it is not a number", string(n)))
	}
	writeFloat(b, f)
}

// Filterf renders a filter from a format in which each %v stands for the
// next value, rendered by Literal (%% is a %, the modulo operator):
//
//	sdk.Filterf("vin == %v && status != %v", vin, "closed")
//	sdk.Filterf("status in %v", []string{"open", "pending"})
//
// The format is code, never data: values go in args.
func Filterf(format string, args ...any) string {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(format) {
			panic(fmt.Sprintf("sdk.Filterf(%q): a %% at the end; write %%%% for the modulo operator", format))
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 'v':
			if next == len(args) {
				panic(fmt.Sprintf("sdk.Filterf(%q): more %%v than the %d values given", format, len(args)))
			}
			writeLiteral(&b, reflect.ValueOf(args[next]))
			next++
		default:
			panic(fmt.Sprintf("sdk.Filterf(%q): %%%c; only %%v (a value) and %%%% (a %%) may be used", format, format[i]))
		}
	}
	if next != len(args) {
		panic(fmt.Sprintf("sdk.Filterf(%q): %d values given for %d %%v", format, len(args), next))
	}
	return b.String()
}

func checkField(fn, field string) string {
	if !fieldRe.MatchString(field) {
		panic(fmt.Sprintf("sdk.%s: %q is not a field name or a dotted path such as amount.amount", fn, field))
	}
	return field
}

func compare(fn, field, op string, v any) string {
	return checkField(fn, field) + " " + op + " " + Literal(v)
}

// Eq is the filter field == v (v rendered by Literal); Eq(field, nil)
// matches records without a value for field.
func Eq(field string, v any) string { return compare("Eq", field, "==", v) }

// Ne is the filter field != v.
func Ne(field string, v any) string { return compare("Ne", field, "!=", v) }

// Lt is the filter field < v.
func Lt(field string, v any) string { return compare("Lt", field, "<", v) }

// Le is the filter field <= v.
func Le(field string, v any) string { return compare("Le", field, "<=", v) }

// Gt is the filter field > v.
func Gt(field string, v any) string { return compare("Gt", field, ">", v) }

// Ge is the filter field >= v.
func Ge(field string, v any) string { return compare("Ge", field, ">=", v) }

// In is the filter "field is one of values"; with no values it matches no
// record. A slice already in hand goes through Filterf("field in %v", s).
func In(field string, values ...any) string {
	return checkField("In", field) + " in " + Literal(values)
}

// And matches the records every filter matches. An empty filter matches
// every record, so it drops out; And() is the empty filter.
func And(filters ...string) string {
	var parts []string
	for _, f := range filters {
		if f != "" {
			parts = append(parts, "("+f+")")
		}
	}
	return strings.Join(parts, " && ")
}

// Or matches the records any filter matches. An empty filter matches every
// record, and so does Or with one; Or() matches none.
func Or(filters ...string) string {
	if len(filters) == 0 {
		return "false"
	}
	parts := make([]string, 0, len(filters))
	for _, f := range filters {
		if f == "" {
			return ""
		}
		parts = append(parts, "("+f+")")
	}
	return strings.Join(parts, " || ")
}

// Not matches the records filter does not; Not("") matches none.
func Not(filter string) string {
	if filter == "" {
		return "false"
	}
	return "!(" + filter + ")"
}
