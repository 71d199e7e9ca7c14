package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/expr-lang/expr/types"

	"github.com/crmkit/crm/config"
)

// EncodeValue turns a canonical value into its API JSON form: Money ->
// map{"amount": "1500.00", "currency": "USD"}; Decimal -> string; date ->
// "2006-01-02"; datetime -> RFC 3339 in UTC with trailing zeros of the
// nanoseconds trimmed (time.RFC3339Nano); anything else as it is.
func (f *Field) EncodeValue(v any) any {
	switch x := v.(type) {
	case Money:
		return map[string]any{"amount": FormatMoney(x), "currency": x.Currency}
	case Decimal:
		return string(x)
	case time.Time:
		if f.Type == config.TypeDate {
			return x.Format(dateLayout)
		}
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// EncodeValues applies EncodeValue to every value of a declared or system
// field in values, leaving out keys the entity does not know.
func (e *Entity) EncodeValues(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if f := e.Lookup(k); f != nil {
			out[k] = f.EncodeValue(v)
		}
	}
	return out
}

// CheckCanonical reports whether v has the canonical Go type of the field
// (nil always does); the error is a *FieldError with code invalid_type.
func (f *Field) CheckCanonical(v any) error {
	ok := false
	switch v.(type) {
	case nil:
		ok = true
	case string:
		ok = isStringKind(f.Type)
	case int64:
		ok = f.Type == config.TypeInt
	case Decimal:
		ok = f.Type == config.TypeDecimal
	case Money:
		ok = f.Type == config.TypeMoney
	case bool:
		ok = f.Type == config.TypeBool
	case time.Time:
		ok = f.Type == config.TypeDate || f.Type == config.TypeDateTime
	case map[string]any:
		ok = f.Type == config.TypeObject
	}
	if !ok {
		return fieldErr(f.Name, CodeInvalidType, fmt.Sprintf("expected %s, got a Go value of type %T", f.expected(), v))
	}
	return nil
}

func isStringKind(t string) bool {
	switch t {
	case config.TypeString, config.TypeText, config.TypeEmail, config.TypePhone,
		config.TypeURL, config.TypeEnum, config.TypeRef, config.TypeUser, config.TypeFile:
		return true
	}
	return false
}

// MarshalValues is the storage encoding of a record's field values: the JSON
// object of EncodeValues, with nil values and unknown keys left out. It
// fails if a value is not of its field's canonical type.
func (e *Entity) MarshalValues(values map[string]any) ([]byte, error) {
	out := make(map[string]any, len(values))
	for k, v := range values {
		f := e.Lookup(k)
		if f == nil || v == nil {
			continue
		}
		if err := f.CheckCanonical(v); err != nil {
			return nil, fmt.Errorf("schema: marshal %s values: %w", e.Name, err)
		}
		out[k] = f.EncodeValue(v)
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("schema: marshal %s values: %w", e.Name, err)
	}
	return data, nil
}

// UnmarshalValues decodes what MarshalValues wrote back into canonical
// values, exactly. It trusts its input and does not re-validate (no phone
// parsing), but it tolerates a schema that changed since: keys of fields the
// entity no longer has are left out, and a value that no longer fits its
// field's type is normalised as client input would be, or left out if that
// fails. It fails only if data is not a JSON object.
func (e *Entity) UnmarshalValues(data []byte) (map[string]any, error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("schema: unmarshal %s values: %w", e.Name, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("schema: unmarshal %s values: not a JSON object", e.Name)
	}
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		f := e.Lookup(k)
		if f == nil || v == nil {
			continue
		}
		if c, ok := f.fromStored(v); ok {
			out[k] = c
			continue
		}
		if c, err := f.NormalizeValue(v); err == nil && c != nil {
			out[k] = c
		}
	}
	return out, nil
}

// fromStored converts a value that MarshalValues wrote, as decoded with
// UseNumber, to its canonical type.
func (f *Field) fromStored(v any) (any, bool) {
	switch f.Type {
	case config.TypeInt:
		n, ok := v.(json.Number)
		if !ok {
			return nil, false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case config.TypeDecimal:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		d, err := ParseDecimal(s) // cheap, and guards against a field that was a string
		return d, err == nil
	case config.TypeMoney:
		m, ok := v.(map[string]any)
		if !ok || len(m) != 2 {
			return nil, false
		}
		amount, ok1 := m["amount"].(string)
		code, ok2 := m["currency"].(string)
		if !ok1 || !ok2 {
			return nil, false
		}
		minor, err := parseMinor(amount, code, moneyScale(code))
		return Money{Minor: minor, Currency: code}, err == nil
	case config.TypeBool:
		b, ok := v.(bool)
		return b, ok
	case config.TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		t, err := time.Parse(dateLayout, s)
		return t, err == nil
	case config.TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err == nil
	case config.TypeObject:
		m, ok := v.(map[string]any)
		return m, ok
	default:
		s, ok := v.(string)
		return s, ok && isStringKind(f.Type)
	}
}

// ExprMoney is the shape of a money value inside expr expressions.
type ExprMoney struct {
	Amount   float64 `expr:"amount"`
	Currency string  `expr:"currency"`
	Minor    int64   `expr:"minor"`
}

// ExprValue converts a canonical value to what expr sees: Money ->
// ExprMoney, Decimal -> float64, time.Time and everything else as it is.
func (f *Field) ExprValue(v any) any {
	switch x := v.(type) {
	case Money:
		return ExprMoney{Amount: x.Float64(), Currency: x.Currency, Minor: x.Minor}
	case Decimal:
		return x.Float64()
	}
	return v
}

// ExprZero is a typed zero value of this field's expr type, for
// type-checking expressions at compile time: "" for string kinds, int64(0),
// float64(0) for decimal, ExprMoney{}, false, time.Time{}.
func (f *Field) ExprZero() any {
	switch f.Type {
	case config.TypeInt:
		return int64(0)
	case config.TypeDecimal:
		return float64(0)
	case config.TypeMoney:
		return ExprMoney{}
	case config.TypeBool:
		return false
	case config.TypeDate, config.TypeDateTime:
		return time.Time{}
	case config.TypeObject:
		return map[string]any{}
	}
	return ""
}

// ExprEnv is the shape of a record of e inside expr expressions: every
// declared and system field mapped to its ExprZero. expr does not look
// inside a map[string]any when type-checking; compile against ExprType to
// have field names and types checked.
func (e *Entity) ExprEnv() map[string]any {
	env := make(map[string]any, len(e.Fields)+7)
	for _, f := range e.SystemFields() {
		env[f.Name] = f.ExprZero()
	}
	for _, f := range e.Fields {
		env[f.Name] = f.ExprZero()
	}
	return env
}

// ExprType is the static type of a record of e for the expr type checker: a
// strict map of every declared and system field to the type of its
// ExprZero, so that an unknown field or a wrong type is a compile error:
//
//	expr.Compile(src, expr.Env(types.Map{"record": e.ExprType()}))
func (e *Entity) ExprType() types.Map {
	m := make(types.Map, len(e.Fields)+7)
	for k, v := range e.ExprEnv() {
		if _, ok := v.(ExprMoney); ok {
			// A struct type inside types.Map makes expr v1.17.8's compiler
			// crash on member access; a map type with the same keys checks
			// the same and reads ExprMoney's fields by their expr tags.
			m[k] = types.Map{"amount": types.Float64, "currency": types.String, "minor": types.Int64}
			continue
		}
		m[k] = types.TypeOf(v)
	}
	return m
}

// ExprRecord converts a record's canonical values (declared and, if
// present, system fields) to what expr sees, with ExprValue. Keys the entity
// does not know are left out; fields without a value are absent (nil in
// expr).
func (e *Entity) ExprRecord(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if f := e.Lookup(k); f != nil && v != nil {
			out[k] = f.ExprValue(v)
		}
	}
	return out
}
