package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/crmkit/crm/config"
)

// Limits on values.
const (
	MaxStringRunes = 1000    // string fields, in characters
	MaxTextBytes   = 100_000 // text fields, in bytes of UTF-8
	MaxURLBytes    = 2048    // url fields
	MaxEmailBytes  = 254     // email fields
	MaxPhoneBytes  = 64      // phone fields, as given
	MaxIDBytes     = 64      // ref, user and file ids
)

const (
	dateLayout     = "2006-01-02"
	moneyShape     = `{"amount": "<decimal>", "currency": "<ISO 4217>"}`
	useNullToClear = " (use null to clear the field)"
)

// Normalize validates one JSON value for this field and returns it in its
// canonical Go type:
//
//	string, text, email, phone, url, enum, ref, user, file -> string
//	int -> int64; decimal -> Decimal; money -> Money; bool -> bool
//	date -> time.Time at 00:00 UTC; datetime -> time.Time in UTC
//
// JSON null gives (nil, nil): no value. Any other unacceptable value gives a
// *FieldError naming the field, with code invalid_type (a JSON type the
// field never takes) or invalid_value, and a message that says what was
// expected and what was given.
func (f *Field) Normalize(raw json.RawMessage) (any, error) {
	raw = trimJSONSpace(raw)
	if len(raw) == 0 || !json.Valid(raw) {
		return nil, fieldErr(f.Name, CodeInvalidJSON, "expected a JSON value")
	}
	if raw[0] == 'n' {
		return nil, nil
	}
	switch f.Type {
	case config.TypeString, config.TypeText, config.TypeEmail, config.TypePhone,
		config.TypeURL, config.TypeEnum, config.TypeRef, config.TypeUser:
		s, err := f.jsonString(raw)
		if err != nil {
			return nil, err
		}
		return f.normalizeString(s)
	case config.TypeFile:
		if raw[0] == '{' {
			return f.fileObject(raw)
		}
		s, err := f.jsonString(raw)
		if err != nil {
			return nil, err
		}
		return f.normalizeString(s)
	case config.TypeInt:
		return f.normalizeInt(raw)
	case config.TypeDecimal:
		return f.normalizeDecimal(raw)
	case config.TypeMoney:
		return f.normalizeMoney(raw)
	case config.TypeBool:
		switch raw[0] {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
		return nil, f.typeErr("true or false", raw)
	case config.TypeDate:
		s, err := f.jsonString(raw)
		if err != nil {
			return nil, err
		}
		return f.parseDate(s)
	case config.TypeDateTime:
		s, err := f.jsonString(raw)
		if err != nil {
			return nil, err
		}
		return f.parseDateTime(s)
	case config.TypeObject:
		return f.normalizeObject(raw)
	}
	return nil, fieldErr(f.Name, CodeInvalidType, fmt.Sprintf("the field has an unknown type %q", f.Type))
}

// NormalizeValue is Normalize for a Go value (as encoding/json would decode
// it, or a canonical value): it is marshalled to JSON and normalised.
func (f *Field) NormalizeValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if enc := f.EncodeValue(v); enc != nil {
		v = enc
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fieldErr(f.Name, CodeInvalidType, fmt.Sprintf("expected %s, got a %T", f.expected(), v))
	}
	return f.Normalize(raw)
}

// expected describes the JSON a field takes, for messages.
func (f *Field) expected() string {
	switch f.Type {
	case config.TypeString, config.TypeText:
		return "a string"
	case config.TypeEmail:
		return "an e-mail address"
	case config.TypePhone:
		return "a phone number"
	case config.TypeURL:
		return "an http:// or https:// URL"
	case config.TypeEnum:
		return "one of " + quoteList(f.Values)
	case config.TypeRef:
		return "a record id"
	case config.TypeUser:
		return "a user id"
	case config.TypeFile:
		return "a file id"
	case config.TypeInt:
		return "an integer"
	case config.TypeDecimal:
		return "a decimal number"
	case config.TypeMoney:
		return moneyShape
	case config.TypeBool:
		return "true or false"
	case config.TypeDate:
		return `a date as "YYYY-MM-DD"`
	case config.TypeDateTime:
		return "an RFC 3339 date-time"
	case config.TypeObject:
		return "a JSON object"
	}
	return "a value"
}

// MaxObjectBytes is the largest JSON an object field holds.
const MaxObjectBytes = 64 << 10

// normalizeObject reads a JSON object, numbers kept exact (json.Number).
func (f *Field) normalizeObject(raw []byte) (any, error) {
	if raw[0] != '{' {
		return nil, f.typeErr("a JSON object", raw)
	}
	if len(raw) > MaxObjectBytes {
		return nil, f.valueErr(fmt.Sprintf("the object is %d bytes of JSON; at most %d", len(raw), MaxObjectBytes))
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, f.typeErr("a JSON object", raw)
	}
	return m, nil
}

func (f *Field) typeErr(expected string, raw []byte) *FieldError {
	return fieldErr(f.Name, CodeInvalidType, "expected "+expected+", got "+jsonKind(raw))
}

func (f *Field) valueErr(msg string) *FieldError {
	return fieldErr(f.Name, CodeInvalidValue, msg)
}

// jsonKind names the JSON type of a valid, trimmed JSON value.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// jsonString decodes a JSON string, or reports a type error.
func (f *Field) jsonString(raw []byte) (string, error) {
	if raw[0] != '"' {
		return "", f.typeErr(f.expected(), raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fieldErr(f.Name, CodeInvalidJSON, "expected a JSON string")
	}
	return s, nil
}

func (f *Field) normalizeString(s string) (any, error) {
	switch f.Type {
	case config.TypeString, config.TypeEmail, config.TypePhone, config.TypeURL:
		s = strings.TrimSpace(s)
	}
	if s == "" && f.Type != config.TypeText {
		return nil, f.valueErr("expected " + f.expected() + ", got an empty string" + useNullToClear)
	}
	switch f.Type {
	case config.TypeString:
		if n := utf8.RuneCountInString(s); n > MaxStringRunes {
			return nil, f.valueErr(fmt.Sprintf("expected at most %d characters, got %d", MaxStringRunes, n))
		}
		if r, ok := findRune(s, unicode.IsControl); ok {
			return nil, f.valueErr(fmt.Sprintf("expected a single line of text, got a control character (%U) in %s; use a text field for multi-line text", r, quote(s)))
		}
		return s, nil
	case config.TypeText:
		if len(s) > MaxTextBytes {
			return nil, f.valueErr(fmt.Sprintf("expected at most %d bytes of text, got %d", MaxTextBytes, len(s)))
		}
		if r, ok := findRune(s, isBadTextControl); ok {
			return nil, f.valueErr(fmt.Sprintf("expected text, got a control character (%U); only tab, line feed and carriage return are allowed", r))
		}
		return s, nil
	case config.TypeEmail:
		return f.normalizeEmail(s)
	case config.TypePhone:
		return f.normalizePhone(s)
	case config.TypeURL:
		return f.normalizeURL(s)
	case config.TypeEnum:
		if slices.Contains(f.Values, s) {
			return s, nil
		}
		return nil, f.valueErr(fmt.Sprintf("%s is not one of %s%s", quote(s), quoteList(f.Values), didYouMean(s, f.Values)))
	default: // ref, user, file
		if !IsID(s) {
			return nil, f.valueErr(fmt.Sprintf("expected %s (at most %d letters, digits, '_' or '-'), got %s", f.expected(), MaxIDBytes, quote(s)))
		}
		return s, nil
	}
}

func findRune(s string, bad func(rune) bool) (rune, bool) {
	for _, r := range s {
		if bad(r) {
			return r, true
		}
	}
	return 0, false
}

// isBadTextControl reports the control characters a text field rejects:
// the C0 controls other than tab, line feed and carriage return, and DEL.
func isBadTextControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// IsID reports whether s has the shape of a record, user or file id:
// 1 to 64 ASCII letters, digits, '_' or '-'.
func IsID(s string) bool {
	if s == "" || len(s) > MaxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (f *Field) normalizeEmail(s string) (any, error) {
	bad := func() error {
		return f.valueErr(fmt.Sprintf("%s is not a valid e-mail address; expected just the address, like \"name@example.com\"", quote(s)))
	}
	if len(s) > MaxEmailBytes {
		return nil, f.valueErr(fmt.Sprintf("expected an e-mail address of at most %d bytes, got %d", MaxEmailBytes, len(s)))
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return nil, bad()
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return nil, bad()
	}
	return s[:at+1] + strings.ToLower(s[at+1:]), nil
}

func (f *Field) normalizePhone(s string) (any, error) {
	if len(s) > MaxPhoneBytes {
		return nil, f.valueErr(fmt.Sprintf("expected a phone number of at most %d bytes, got %d", MaxPhoneBytes, len(s)))
	}
	intl := strings.HasPrefix(s, "+")
	if f.region == "" && !intl {
		return nil, f.valueErr(fmt.Sprintf("%s has no country code; expected an international number starting with '+', like \"+1 650 253 0000\"", quote(s)))
	}
	bad := func() error {
		if intl {
			return f.valueErr(fmt.Sprintf("%s is not a valid phone number", quote(s)))
		}
		return f.valueErr(fmt.Sprintf("%s is not a valid phone number (read as a number of region %s; start with '+' for another country)", quote(s), f.region))
	}
	num, err := parsePhone(s, f.region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return nil, bad()
	}
	if num.GetExtension() != "" {
		return nil, f.valueErr(fmt.Sprintf("%s has an extension; expected a phone number without one (it is stored as E.164)", quote(s)))
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if len(e164) < 2 || e164[0] != '+' {
		return nil, bad()
	}
	return e164, nil
}

// parsePhone calls phonenumbers.Parse and turns a panic inside it into an
// error, so that no input can crash the caller.
func parsePhone(s, region string) (num *phonenumbers.PhoneNumber, err error) {
	defer func() {
		if recover() != nil {
			num, err = nil, errors.New("phone number parser failed")
		}
	}()
	return phonenumbers.Parse(s, region)
}

func (f *Field) normalizeURL(s string) (any, error) {
	if len(s) > MaxURLBytes {
		return nil, f.valueErr(fmt.Sprintf("expected a URL of at most %d bytes, got %d", MaxURLBytes, len(s)))
	}
	if _, ok := findRune(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); ok {
		return nil, f.valueErr(fmt.Sprintf("%s is not a valid URL: it contains spaces or control characters", quote(s)))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, f.valueErr(fmt.Sprintf("%s is not a valid URL; expected an http:// or https:// URL", quote(s)))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, f.valueErr(fmt.Sprintf("expected an http:// or https:// URL, got %s", quote(s)))
	}
	if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return nil, f.valueErr(fmt.Sprintf("%s has no host; expected an URL like \"https://example.com/\"", quote(s)))
	}
	return s, nil
}

func (f *Field) normalizeInt(raw []byte) (any, error) {
	// A JSON number cannot hold Persian or Arabic-Indic digits: a string
	// that does is read as the number it writes.
	if raw[0] == '"' {
		if s, err := f.jsonString(raw); err == nil {
			if latin, changed := latinDigits(strings.TrimSpace(s)); changed {
				raw = []byte(latin)
			}
		}
	}
	if raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
		return nil, f.typeErr("an integer", raw)
	}
	text := string(raw)
	n, err := parseNumber(text, true)
	if err != nil && !errors.Is(err, errExponentRange) {
		return nil, f.typeErr("an integer", raw)
	}
	if err == nil && !n.isInteger() {
		return nil, f.valueErr(fmt.Sprintf("expected an integer, got %s", shorten(text)))
	}
	v, ok := n.int64Shift(0)
	if err != nil || !ok {
		return nil, f.valueErr(fmt.Sprintf("expected an integer from -9223372036854775808 to 9223372036854775807, got %s", shorten(text)))
	}
	return v, nil
}

func (f *Field) normalizeDecimal(raw []byte) (any, error) {
	var text string
	switch raw[0] {
	case '"':
		s, err := f.jsonString(raw)
		if err != nil {
			return nil, err
		}
		text, _ = latinDigits(s)
	case '{', '[', 't', 'f':
		return nil, f.typeErr("a decimal number (a JSON number or a string like \"12.5\")", raw)
	default:
		text = string(raw)
	}
	d, err := ParseDecimal(text)
	if err != nil {
		return nil, f.valueErr(err.Error())
	}
	return d, nil
}

func (f *Field) normalizeMoney(raw []byte) (any, error) {
	if raw[0] != '{' {
		return nil, f.typeErr(moneyShape, raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, f.typeErr(moneyShape, raw)
	}
	var amount, cur json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, f.typeErr(moneyShape, raw)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, f.typeErr(moneyShape, raw)
		}
		if seen[key] {
			return nil, f.valueErr(fmt.Sprintf("expected %s, got %s twice", moneyShape, quote(key)))
		}
		seen[key] = true
		switch key {
		case "amount":
			amount = v
		case "currency":
			cur = v
		default:
			return nil, f.valueErr(fmt.Sprintf("expected %s, got an unknown key %s%s", moneyShape, quote(key), didYouMean(key, []string{"amount", "currency"})))
		}
	}
	if amount == nil || amount[0] == 'n' {
		return nil, f.valueErr(fmt.Sprintf("expected %s, got no amount", moneyShape))
	}

	code := f.currency
	if cur != nil && cur[0] != 'n' {
		if cur[0] != '"' {
			return nil, fieldErr(f.Name, CodeInvalidType, "expected the currency as an ISO 4217 code like \"USD\", got "+jsonKind(cur))
		}
		if err := json.Unmarshal(cur, &code); err != nil {
			return nil, f.typeErr(moneyShape, raw)
		}
	}
	if code == "" {
		return nil, f.valueErr(fmt.Sprintf("expected %s, got no currency (and there is no default currency)", moneyShape))
	}

	var text string
	switch amount[0] {
	case '"':
		if err := json.Unmarshal(amount, &text); err != nil {
			return nil, f.typeErr(moneyShape, raw)
		}
		text, _ = latinDigits(text)
	case '{', '[', 't', 'f':
		return nil, fieldErr(f.Name, CodeInvalidType, "expected the amount as a decimal string like \"1500.00\", got "+jsonKind(amount))
	default:
		text = string(amount)
	}
	m, err := ParseMoney(text, code)
	if err != nil {
		return nil, f.valueErr(err.Error())
	}
	return m, nil
}

func (f *Field) parseDate(s string) (any, error) {
	given := s
	s, _ = latinDigits(s)
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 1 {
		return nil, f.valueErr(fmt.Sprintf("expected a date as \"YYYY-MM-DD\", like \"2026-03-21\", got %s%s", quote(given), parseReason(err)))
	}
	return t, nil
}

func (f *Field) parseDateTime(s string) (any, error) {
	given := s
	s, _ = latinDigits(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		t = t.UTC()
		if t.Year() < 1 || t.Year() > 9999 {
			err = errors.New("out of range")
		}
	}
	if err != nil {
		return nil, f.valueErr(fmt.Sprintf("expected an RFC 3339 date-time with a time zone, like \"2026-03-21T10:30:00Z\" or \"2026-03-21T14:30:00+04:00\", got %s%s", quote(given), parseReason(err)))
	}
	return t, nil
}

// parseReason returns " (day out of range)" and such from a time parse
// error that carries a specific reason, else "".
func parseReason(err error) string {
	var pe *time.ParseError
	if errors.As(err, &pe) && pe.Message != "" {
		return " (" + strings.TrimPrefix(pe.Message, ": ") + ")"
	}
	return ""
}

// fileObject reads the API's file JSON ({"id", "name", "size",
// "content_type", "sha256"}) as written back by a client: only the id counts.
func (f *Field) fileObject(raw []byte) (any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, f.typeErr("a file id", raw)
	}
	for k := range obj {
		switch k {
		case "id", "name", "size", "content_type", "sha256":
		default:
			return nil, f.valueErr(fmt.Sprintf("expected a file id or {\"id\": \"<file id>\"}, got an object with key %s", quote(k)))
		}
	}
	id, ok := obj["id"]
	if !ok {
		return nil, f.valueErr("expected a file id or {\"id\": \"<file id>\"}, got an object without \"id\"")
	}
	id = trimJSONSpace(id)
	s, err := f.jsonString(id)
	if err != nil {
		return nil, err
	}
	return f.normalizeString(s)
}

// shorten cuts a long number's text for a message.
func shorten(s string) string {
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "…"
	}
	return s
}
