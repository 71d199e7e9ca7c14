package schema

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
)

type normCase struct {
	field string // field of the every-type entity
	in    string // JSON
	want  any    // canonical value, when err is ""
	err   string // the error's Error(), when it must fail
	code  string // the error's code; invalid_value when empty
}

func runNormCases(t *testing.T, e *Entity, cases []normCase) {
	t.Helper()
	for _, c := range cases {
		f := e.Field(c.field)
		in := c.in
		if len(in) > 80 {
			in = in[:80] + "…"
		}
		if f == nil {
			t.Fatalf("no field %q", c.field)
		}
		got, err := f.Normalize(json.RawMessage(c.in))
		if c.err == "" {
			if err != nil {
				t.Errorf("%s %s: unexpected error %v", c.field, in, err)
			} else if !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s %s = %#v, want %#v", c.field, in, got, c.want)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s %s = %#v, %v; want FieldError %q", c.field, in, got, err, c.err)
			continue
		}
		code := c.code
		if code == "" {
			code = CodeInvalidValue
		}
		if fe.Error() != c.err || fe.Code != code || fe.Field != c.field {
			t.Errorf("%s %s:\n got %s %q\nwant %s %q", c.field, in, fe.Code, fe.Error(), code, c.err)
		}
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestNormalizeStrings(t *testing.T) {
	long := strings.Repeat("я", MaxStringRunes)
	runNormCases(t, entity(t, "every"), []normCase{
		{field: "string", in: `"Ann"`, want: "Ann"},
		{field: "string", in: `"  Ann Lee \t"`, want: "Ann Lee"},
		{field: "string", in: `"Աննա"`, want: "Աննա"},
		{field: "string", in: `"a<b>&c"`, want: "a<b>&c"},
		{field: "string", in: ` "x" `, want: "x"},
		{field: "string", in: `"` + long + `"`, want: long},
		{field: "string", in: `null`, want: nil},
		{field: "string", in: `"` + long + `я"`, err: "string: expected at most 1000 characters, got 1001"},
		{field: "string", in: `""`, err: "string: expected a string, got an empty string (use null to clear the field)"},
		{field: "string", in: `"   "`, err: "string: expected a string, got an empty string (use null to clear the field)"},
		{field: "string", in: `"a\nb"`, err: `string: expected a single line of text, got a control character (U+000A) in "a\nb"; use a text field for multi-line text`},
		{field: "string", in: `"a\u0000b"`, err: `string: expected a single line of text, got a control character (U+0000) in "a\x00b"; use a text field for multi-line text`},
		{field: "string", in: `12`, err: "string: expected a string, got a number", code: CodeInvalidType},
		{field: "string", in: `true`, err: "string: expected a string, got a boolean", code: CodeInvalidType},
		{field: "string", in: `["a"]`, err: "string: expected a string, got an array", code: CodeInvalidType},
		{field: "string", in: `{"a":1}`, err: "string: expected a string, got an object", code: CodeInvalidType},
		{field: "string", in: `"unterminated`, err: "string: expected a JSON value", code: CodeInvalidJSON},
		{field: "string", in: ``, err: "string: expected a JSON value", code: CodeInvalidJSON},

		{field: "text", in: `"  line 1\nline 2\r\n\ttabbed  "`, want: "  line 1\nline 2\r\n\ttabbed  "},
		{field: "text", in: `""`, want: ""},
		{field: "text", in: `"` + strings.Repeat("a", MaxTextBytes) + `"`, want: strings.Repeat("a", MaxTextBytes)},
		{field: "text", in: `"` + strings.Repeat("a", MaxTextBytes+1) + `"`, err: "text: expected at most 100000 bytes of text, got 100001"},
		{field: "text", in: `"a\u0000"`, err: "text: expected text, got a control character (U+0000); only tab, line feed and carriage return are allowed"},
		{field: "text", in: `"a\u007f"`, err: "text: expected text, got a control character (U+007F); only tab, line feed and carriage return are allowed"},
		{field: "text", in: `1`, err: "text: expected a string, got a number", code: CodeInvalidType},

		{field: "enum", in: `"sold"`, want: "sold"},
		{field: "enum", in: `"in_stok"`, err: `enum: "in_stok" is not one of "in_stock", "sold", "service"; did you mean "in_stock"?`},
		{field: "enum", in: `"Sold"`, err: `enum: "Sold" is not one of "in_stock", "sold", "service"; did you mean "sold"?`},
		{field: "enum", in: `"gone"`, err: `enum: "gone" is not one of "in_stock", "sold", "service"`},
		{field: "enum", in: `" sold"`, err: `enum: " sold" is not one of "in_stock", "sold", "service"; did you mean "sold"?`},
		{field: "enum", in: `""`, err: `enum: expected one of "in_stock", "sold", "service", got an empty string (use null to clear the field)`},
		{field: "enum", in: `1`, err: `enum: expected one of "in_stock", "sold", "service", got a number`, code: CodeInvalidType},

		{field: "ref", in: `"01HZY3K8V2N5QW7E9R4T6Y8U0P"`, want: "01HZY3K8V2N5QW7E9R4T6Y8U0P"},
		{field: "ref", in: `"a_b-C9"`, want: "a_b-C9"},
		{field: "ref", in: `"` + strings.Repeat("x", 64) + `"`, want: strings.Repeat("x", 64)},
		{field: "ref", in: `"` + strings.Repeat("x", 65) + `"`, err: `ref: expected a record id (at most 64 letters, digits, '_' or '-'), got "` + strings.Repeat("x", 60) + `"…`},
		{field: "ref", in: `"a b"`, err: `ref: expected a record id (at most 64 letters, digits, '_' or '-'), got "a b"`},
		{field: "ref", in: `"../x"`, err: `ref: expected a record id (at most 64 letters, digits, '_' or '-'), got "../x"`},
		{field: "ref", in: `""`, err: `ref: expected a record id, got an empty string (use null to clear the field)`},
		{field: "ref", in: `12`, err: `ref: expected a record id, got a number`, code: CodeInvalidType},
		{field: "user", in: `"u1"`, want: "u1"},
		{field: "user", in: `"u 1"`, err: `user: expected a user id (at most 64 letters, digits, '_' or '-'), got "u 1"`},
		{field: "file", in: `"f1"`, want: "f1"},
		{field: "file", in: `{"id": "f1", "name": "contract.pdf", "size": 1234, "content_type": "application/pdf", "sha256": "ab"}`, want: "f1"},
		{field: "file", in: `{"id": "f 1"}`, err: `file: expected a file id (at most 64 letters, digits, '_' or '-'), got "f 1"`},
		{field: "file", in: `{"name": "x"}`, err: `file: expected a file id or {"id": "<file id>"}, got an object without "id"`},
		{field: "file", in: `{"id": "f1", "path": "/etc"}`, err: `file: expected a file id or {"id": "<file id>"}, got an object with key "path"`},
		{field: "file", in: `{"id": 1}`, err: `file: expected a file id, got a number`, code: CodeInvalidType},
		{field: "file", in: `[1]`, err: `file: expected a file id, got an array`, code: CodeInvalidType},
	})
}

func TestNormalizeEmail(t *testing.T) {
	runNormCases(t, entity(t, "every"), []normCase{
		{field: "email", in: `"bob@example.com"`, want: "bob@example.com"},
		{field: "email", in: `" Bob.Lee@Example.COM "`, want: "Bob.Lee@example.com"},
		{field: "email", in: `"a+tag@sub.example.am"`, want: "a+tag@sub.example.am"},
		{field: "email", in: `"Bob <bob@example.com>"`, err: `email: "Bob <bob@example.com>" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"<bob@example.com>"`, err: `email: "<bob@example.com>" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"bob@example.com (Bob)"`, err: `email: "bob@example.com (Bob)" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"bob@"`, err: `email: "bob@" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"bob"`, err: `email: "bob" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"a@b@c"`, err: `email: "a@b@c" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"a@b.com, c@d.com"`, err: `email: "a@b.com, c@d.com" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `"\"a b\"@x.com"`, err: `email: "\"a b\"@x.com" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		{field: "email", in: `""`, err: `email: expected an e-mail address, got an empty string (use null to clear the field)`},
		{field: "email", in: `"` + strings.Repeat("a", 250) + `@b.cd"`, err: `email: expected an e-mail address of at most 254 bytes, got 255`},
		{field: "email", in: `7`, err: `email: expected an e-mail address, got a number`, code: CodeInvalidType},
	})
}

func TestNormalizePhone(t *testing.T) {
	s := newTestSchema(t)
	runNormCases(t, s.Entity("every"), []normCase{
		{field: "phone", in: `"091 123456"`, want: "+37491123456"},
		{field: "phone", in: `"(091) 12-34-56"`, want: "+37491123456"},
		{field: "phone", in: `"+374 91 123456"`, want: "+37491123456"},
		{field: "phone", in: `"+1 650 253 0000"`, want: "+16502530000"},
		{field: "phone", in: `"+44 20 7946 0958"`, want: "+442079460958"},
		{field: "phone", in: `"123"`, err: `phone: "123" is not a valid phone number (read as a number of region AM; start with '+' for another country)`},
		{field: "phone", in: `"+1 555"`, err: `phone: "+1 555" is not a valid phone number`},
		{field: "phone", in: `"+999 1234567"`, err: `phone: "+999 1234567" is not a valid phone number`},
		{field: "phone", in: `"call me"`, err: `phone: "call me" is not a valid phone number (read as a number of region AM; start with '+' for another country)`},
		{field: "phone", in: `"+1 650 253 0000 ext. 123"`, err: `phone: "+1 650 253 0000 ext. 123" has an extension; expected a phone number without one (it is stored as E.164)`},
		{field: "phone", in: `"` + strings.Repeat("1", 65) + `"`, err: `phone: expected a phone number of at most 64 bytes, got 65`},
		{field: "phone", in: `""`, err: `phone: expected a phone number, got an empty string (use null to clear the field)`},
		{field: "phone", in: `37491123456`, err: `phone: expected a phone number, got a number`, code: CodeInvalidType},
	})

	// Without a region, national numbers cannot be read.
	cfg := testConfig()
	cfg.Locale.Region = ""
	s2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runNormCases(t, s2.Entity("every"), []normCase{
		{field: "phone", in: `"+374 91 123456"`, want: "+37491123456"},
		{field: "phone", in: `"091 123456"`, err: `phone: "091 123456" has no country code; expected an international number starting with '+', like "+1 650 253 0000"`},
	})
}

func TestNormalizeURL(t *testing.T) {
	runNormCases(t, entity(t, "every"), []normCase{
		{field: "url", in: `"https://example.com"`, want: "https://example.com"},
		{field: "url", in: `" http://example.com/a?b=c#d "`, want: "http://example.com/a?b=c#d"},
		{field: "url", in: `"https://user@example.com:8443/x"`, want: "https://user@example.com:8443/x"},
		{field: "url", in: `"HTTPS://Example.com"`, want: "HTTPS://Example.com"},
		{field: "url", in: `"https://пример.рф/"`, want: "https://пример.рф/"},
		{field: "url", in: `"ftp://x"`, err: `url: expected an http:// or https:// URL, got "ftp://x"`},
		{field: "url", in: `"javascript:alert(1)"`, err: `url: expected an http:// or https:// URL, got "javascript:alert(1)"`},
		{field: "url", in: `"example.com"`, err: `url: expected an http:// or https:// URL, got "example.com"`},
		{field: "url", in: `"//example.com"`, err: `url: expected an http:// or https:// URL, got "//example.com"`},
		{field: "url", in: `"http://"`, err: `url: "http://" has no host; expected an URL like "https://example.com/"`},
		{field: "url", in: `"http:example.com"`, err: `url: "http:example.com" has no host; expected an URL like "https://example.com/"`},
		{field: "url", in: `"http://:80/"`, err: `url: "http://:80/" has no host; expected an URL like "https://example.com/"`},
		{field: "url", in: `"http://a b.com"`, err: `url: "http://a b.com" is not a valid URL: it contains spaces or control characters`},
		{field: "url", in: `"http://x:port/"`, err: `url: "http://x:port/" is not a valid URL; expected an http:// or https:// URL`},
		{field: "url", in: `"https://x.com/` + strings.Repeat("a", 2048) + `"`, err: `url: expected a URL of at most 2048 bytes, got 2062`},
		{field: "url", in: `""`, err: `url: expected an http:// or https:// URL, got an empty string (use null to clear the field)`},
	})
}

func TestNormalizeNumbers(t *testing.T) {
	runNormCases(t, entity(t, "every"), []normCase{
		{field: "int", in: `0`, want: int64(0)},
		{field: "int", in: `-0`, want: int64(0)},
		{field: "int", in: `42`, want: int64(42)},
		{field: "int", in: `-42`, want: int64(-42)},
		{field: "int", in: `1.0`, want: int64(1)},
		{field: "int", in: `1e3`, want: int64(1000)},
		{field: "int", in: `1.5e1`, want: int64(15)},
		{field: "int", in: `9223372036854775807`, want: int64(math.MaxInt64)},
		{field: "int", in: `-9223372036854775808`, want: int64(math.MinInt64)},
		{field: "int", in: `1.5`, err: `int: expected an integer, got 1.5`},
		{field: "int", in: `15e-1`, err: `int: expected an integer, got 15e-1`},
		{field: "int", in: `9223372036854775808`, err: `int: expected an integer from -9223372036854775808 to 9223372036854775807, got 9223372036854775808`},
		{field: "int", in: `-9223372036854775809`, err: `int: expected an integer from -9223372036854775808 to 9223372036854775807, got -9223372036854775809`},
		{field: "int", in: `1e19`, err: `int: expected an integer from -9223372036854775808 to 9223372036854775807, got 1e19`},
		{field: "int", in: `1e9999999`, err: `int: expected an integer from -9223372036854775808 to 9223372036854775807, got 1e9999999`},
		{field: "int", in: `"1"`, err: `int: expected an integer, got a string`, code: CodeInvalidType},
		{field: "int", in: `true`, err: `int: expected an integer, got a boolean`, code: CodeInvalidType},
		{field: "int", in: `{}`, err: `int: expected an integer, got an object`, code: CodeInvalidType},

		{field: "decimal", in: `12.50`, want: Decimal("12.5")},
		{field: "decimal", in: `"12.50"`, want: Decimal("12.5")},
		{field: "decimal", in: `-0.001`, want: Decimal("-0.001")},
		{field: "decimal", in: `1e3`, want: Decimal("1000")},
		{field: "decimal", in: `0.1`, want: Decimal("0.1")},
		{field: "decimal", in: `"1e-3"`, want: Decimal("0.001")},
		{field: "decimal", in: `123456789012345678901234567890`, want: Decimal("123456789012345678901234567890")},
		{field: "decimal", in: `"abc"`, err: `decimal: expected a decimal number like "12.5", got "abc"`},
		{field: "decimal", in: `"1,5"`, err: `decimal: expected a decimal number like "12.5", got "1,5"`},
		{field: "decimal", in: `1e100`, err: `decimal: expected a decimal number of at most 64 digits, got "1e100"`},
		{field: "decimal", in: `""`, err: `decimal: expected a decimal number like "12.5", got ""`},
		{field: "decimal", in: `true`, err: `decimal: expected a decimal number (a JSON number or a string like "12.5"), got a boolean`, code: CodeInvalidType},
		{field: "decimal", in: `[1]`, err: `decimal: expected a decimal number (a JSON number or a string like "12.5"), got an array`, code: CodeInvalidType},

		{field: "bool", in: `true`, want: true},
		{field: "bool", in: `false`, want: false},
		{field: "bool", in: `"true"`, err: `bool: expected true or false, got a string`, code: CodeInvalidType},
		{field: "bool", in: `1`, err: `bool: expected true or false, got a number`, code: CodeInvalidType},
	})
}

func TestNormalizeMoney(t *testing.T) {
	s := newTestSchema(t)
	runNormCases(t, s.Entity("every"), []normCase{
		{field: "money", in: `{"amount": "1500.00", "currency": "USD"}`, want: Money{150000, "USD"}},
		{field: "money", in: `{"amount": "1500", "currency": "AMD"}`, want: Money{150000, "AMD"}},
		{field: "money", in: `{"amount": "1500.50", "currency": "AMD"}`, want: Money{150050, "AMD"}},
		{field: "money", in: `{"amount": "1.5", "currency": "KWD"}`, want: Money{1500, "KWD"}},
		{field: "money", in: `{"amount": "-12.5"}`, want: Money{-1250, "USD"}},
		{field: "money", in: `{"amount": "7", "currency": null}`, want: Money{700, "USD"}},
		{field: "money", in: `{"currency": "jpy", "amount": "300"}`, want: Money{300, "JPY"}},
		{field: "money", in: `{"amount": 1500.25, "currency": "USD"}`, want: Money{150025, "USD"}},
		{field: "money", in: `{"amount": 0.1, "currency": "USD"}`, want: Money{10, "USD"}},
		{field: "money", in: `{"amount": "1500.005", "currency": "USD"}`, err: `money: "1500.005" has 3 decimal places, but USD allows at most 2`},
		{field: "money", in: `{"amount": "1500.125", "currency": "AMD"}`, err: `money: "1500.125" has 3 decimal places, but AMD allows at most 2`},
		{field: "money", in: `{"amount": "1e3", "currency": "USD"}`, err: `money: expected an amount like "1500.00" (no exponent), got "1e3"`},
		{field: "money", in: `{"amount": 1e3, "currency": "USD"}`, err: `money: expected an amount like "1500.00" (no exponent), got "1e3"`},
		{field: "money", in: `{"amount": "", "currency": "USD"}`, err: `money: expected an amount like "1500.00", got ""`},
		{field: "money", in: `{"amount": "1", "currency": "XYZ"}`, err: `money: unknown currency "XYZ"; expected an ISO 4217 code like "USD"`},
		{field: "money", in: `{"amount": "1", "currency": 840}`, err: `money: expected the currency as an ISO 4217 code like "USD", got a number`, code: CodeInvalidType},
		{field: "money", in: `{"amount": true}`, err: `money: expected the amount as a decimal string like "1500.00", got a boolean`, code: CodeInvalidType},
		{field: "money", in: `{"currency": "USD"}`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got no amount`},
		{field: "money", in: `{"amount": null}`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got no amount`},
		{field: "money", in: `{"amout": "1"}`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got an unknown key "amout"; did you mean "amount"?`},
		{field: "money", in: `{"amount": "1", "amount": "2"}`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got "amount" twice`},
		{field: "money", in: `{"amount": "99999999999999999999", "currency": "USD"}`, err: `money: "99999999999999999999" is too large for an amount in USD`},
		{field: "money", in: `1500`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got a number`, code: CodeInvalidType},
		{field: "money", in: `"1500.00 USD"`, err: `money: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got a string`, code: CodeInvalidType},
	})
	// The example of the brief: a money field named amount.
	runNormCases(t, s.Entity("deal"), []normCase{
		{field: "amount", in: `1500`, err: `amount: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got a number`, code: CodeInvalidType},
	})
}

func TestNormalizeDates(t *testing.T) {
	runNormCases(t, entity(t, "every"), []normCase{
		{field: "date", in: `"2026-03-21"`, want: date(2026, 3, 21)},
		{field: "date", in: `"2024-02-29"`, want: date(2024, 2, 29)},
		{field: "date", in: `"0001-01-01"`, want: date(1, 1, 1)},
		{field: "date", in: `"2026-02-30"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "2026-02-30" (day out of range)`},
		{field: "date", in: `"2026-13-01"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "2026-13-01" (month out of range)`},
		{field: "date", in: `"2026-3-21"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "2026-3-21"`},
		{field: "date", in: `"21.03.2026"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "21.03.2026"`},
		{field: "date", in: `"2026-03-21T00:00:00Z"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "2026-03-21T00:00:00Z" (extra text: "T00:00:00Z")`},
		{field: "date", in: `"0000-01-01"`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got "0000-01-01"`},
		{field: "date", in: `""`, err: `date: expected a date as "YYYY-MM-DD", like "2026-03-21", got ""`},
		{field: "date", in: `20260321`, err: `date: expected a date as "YYYY-MM-DD", got a number`, code: CodeInvalidType},

		{field: "datetime", in: `"2026-03-21T10:30:00Z"`, want: time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC)},
		{field: "datetime", in: `"2026-03-21T14:30:00+04:00"`, want: time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC)},
		{field: "datetime", in: `"2026-03-21T10:30:00.123456789Z"`, want: time.Date(2026, 3, 21, 10, 30, 0, 123456789, time.UTC)},
		{field: "datetime", in: `"2026-03-21T01:00:00+03:30"`, want: time.Date(2026, 3, 20, 21, 30, 0, 0, time.UTC)},
		{field: "datetime", in: `"2026-03-21T10:30:00"`, err: `datetime: expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "2026-03-21T10:30:00"`},
		{field: "datetime", in: `"2026-03-21"`, err: `datetime: expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "2026-03-21"`},
		{field: "datetime", in: `"2026-02-30T10:00:00Z"`, err: `datetime: expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "2026-02-30T10:00:00Z" (day out of range)`},
		{field: "datetime", in: `"0001-01-01T00:30:00+01:00"`, err: `datetime: expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "0001-01-01T00:30:00+01:00"`},
		{field: "datetime", in: `1774089000`, err: `datetime: expected an RFC 3339 date-time, got a number`, code: CodeInvalidType},
	})
}

func TestNormalizeValue(t *testing.T) {
	e := entity(t, "every")
	for _, c := range []struct {
		field string
		in    any
		want  any
	}{
		{"int", int64(5), int64(5)},
		{"int", 5, int64(5)},
		{"int", 5.0, int64(5)},
		{"decimal", Decimal("1.5"), Decimal("1.5")},
		{"decimal", 1.5, Decimal("1.5")},
		{"money", Money{100, "JPY"}, Money{100, "JPY"}},
		{"date", date(2026, 3, 21), date(2026, 3, 21)},
		{"string", " x ", "x"},
		{"string", nil, nil},
	} {
		got, err := e.Field(c.field).NormalizeValue(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s NormalizeValue(%#v) = %#v, %v; want %#v", c.field, c.in, got, err, c.want)
		}
	}
	if _, err := e.Field("int").NormalizeValue(make(chan int)); err == nil {
		t.Error("NormalizeValue(chan): no error")
	}
}

func TestNormalizeStandaloneField(t *testing.T) {
	// A Field built by hand, outside a Schema: no default currency or region.
	f := &Field{Name: "price", Type: config.TypeMoney}
	_, err := f.Normalize(json.RawMessage(`{"amount": "1"}`))
	if err == nil || err.Error() != `price: expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got no currency (and there is no default currency)` {
		t.Errorf("got %v", err)
	}
	f = &Field{Name: "x", Type: "color"}
	if _, err := f.Normalize(json.RawMessage(`"red"`)); err == nil || err.Error() != `x: the field has an unknown type "color"` {
		t.Errorf("got %v", err)
	}
}
