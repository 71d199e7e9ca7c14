package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeInput decodes random bodies against an entity with one field of
// every type. DecodeInput must never panic and must fail only with a
// *FieldError; whatever it accepts must be canonical, survive the storage
// round trip (MarshalValues, UnmarshalValues) unchanged, and decode again to
// the same values from its API encoding.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"string": " Ann ", "text": "a\nb", "int": 42, "decimal": "12.50", "bool": true}`,
		`{"money": {"amount": "1500.00", "currency": "USD"}, "date": "2026-03-21", "datetime": "2026-03-21T14:30:00+04:00"}`,
		`{"money": {"amount": 1500.5}, "decimal": 1e3, "int": 1.5e1}`,
		`{"enum": "sold", "email": "Bob@Example.COM", "phone": "091 123456", "url": "https://example.com/a?b"}`,
		`{"ref": "01HZY3K8V2N5QW7E9R4T6Y8U0P", "user": "u_1", "file": {"id": "f-1", "name": "a.pdf"}, "owner": "u2"}`,
		`{"string": null, "money": null, "id": "x"}`,
		`{"nmae": 1}`,
		`[1, 2]`,
		`{"int": 9223372036854775807} trailing`,
		`{"int": 1} {"int": 2}`,
		`{"datetime": "0001-01-01T00:00:00Z", "date": "9999-12-31"}`,
		`{"money": {"amount": "-92233720368547758.08", "currency": "USD"}}`,
		`{"text": "\u0000", "string": "\ud800"}`,
		"{\"string\": \"\xff\"}",
		`{"int": "۱٬۲۳۴", "decimal": "١٢٫٥", "money": {"amount": "۱۵۰۰٫۰۰", "currency": "AMD"}}`,
		`{"date": "۲۰۲۶-۰۳-۲۱", "datetime": "٢٠٢٦-٠٣-٢١T١٤:٣٠:٠٠+٠٤:٠٠"}`,
		`{"int": "٬", "decimal": "۱٫٫", "money": {"amount": "٬۱"}, "date": "۲۰۲۶-۱۳-۴۰"}`,
	} {
		f.Add([]byte(seed))
	}
	s := newTestSchema(f)
	e := s.Entity("every")
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := e.DecodeInput(body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is %T, not *FieldError: %v", err, err)
			}
			if fe.Code == "" || fe.Message == "" {
				t.Fatalf("incomplete error %#v", fe)
			}
			return
		}
		for k, v := range in.Values {
			fld := e.Field(k)
			if fld == nil || v == nil {
				t.Fatalf("value for %q: field %v, value %#v", k, fld, v)
			}
			if err := fld.CheckCanonical(v); err != nil {
				t.Fatalf("not canonical: %v", err)
			}
		}
		data, err := e.MarshalValues(in.Values)
		if err != nil {
			t.Fatalf("MarshalValues(%#v): %v", in.Values, err)
		}
		back, err := e.UnmarshalValues(data)
		if err != nil {
			t.Fatalf("UnmarshalValues(%s): %v", data, err)
		}
		if !reflect.DeepEqual(back, in.Values) {
			t.Fatalf("storage round trip:\n got %#v\nwant %#v\njson %s", back, in.Values, data)
		}
		api, err := json.Marshal(e.EncodeValues(in.Values))
		if err != nil {
			t.Fatalf("json.Marshal(EncodeValues): %v", err)
		}
		again, err := e.DecodeInput(api)
		if err != nil {
			t.Fatalf("DecodeInput(%s) of an accepted value: %v", api, err)
		}
		if !reflect.DeepEqual(again.Values, in.Values) {
			t.Fatalf("API round trip:\n got %#v\nwant %#v\njson %s", again.Values, in.Values, api)
		}
	})
}
