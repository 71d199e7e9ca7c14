package schema

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDecodeInput(t *testing.T) {
	contact := entity(t, "contact")
	for _, c := range []struct {
		name  string
		body  string
		want  *Input
		err   string
		field string
		code  string
	}{
		{name: "values", body: `{"name": " Ann ", "phone": "091 123456", "birthday": "1990-05-01"}`,
			want: &Input{Values: map[string]any{"name": "Ann", "phone": "+37491123456", "birthday": date(1990, 5, 1)}}},
		{name: "empty object", body: ` {} `, want: &Input{Values: map[string]any{}}},
		{name: "nulls", body: `{"phone": null, "email": null, "name": "Ann"}`,
			want: &Input{Values: map[string]any{"name": "Ann"}, Nulls: []string{"email", "phone"}}},
		{name: "owner", body: `{"owner": "u_01", "name": "Ann"}`,
			want: &Input{Values: map[string]any{"name": "Ann"}, Owner: "u_01"}},
		{name: "whitespace", body: "\n\t{\"name\":\"Ann\"}\r\n",
			want: &Input{Values: map[string]any{"name": "Ann"}}},

		{name: "empty body", body: ``, code: CodeInvalidJSON,
			err: "expected a JSON object of field values, got an empty body"},
		{name: "blank body", body: "  \n", code: CodeInvalidJSON,
			err: "expected a JSON object of field values, got an empty body"},
		{name: "array", body: `[{"name": "Ann"}]`, code: CodeInvalidJSON,
			err: "expected a JSON object of field values, got an array"},
		{name: "string", body: `"Ann"`, code: CodeInvalidJSON,
			err: "expected a JSON object of field values, got a string"},
		{name: "null", body: `null`, code: CodeInvalidJSON,
			err: "expected a JSON object of field values, got null"},
		{name: "trailing garbage", body: `{"name": "Ann"} x`, code: CodeInvalidJSON,
			err: "the body has data after the JSON object, at offset 16"},
		{name: "two objects", body: `{"name": "Ann"}{"name": "Bob"}`, code: CodeInvalidJSON,
			err: "the body has data after the JSON object, at offset 15"},
		{name: "truncated", body: `{"name": "Ann"`, code: CodeInvalidJSON,
			err: "the body is not valid JSON: unexpected end of the body"},
		{name: "syntax", body: `{"name": 'Ann'}`, code: CodeInvalidJSON,
			err: "the body is not valid JSON: invalid character '\\'' looking for beginning of value at offset 10"},
		{name: "not UTF-8", body: "{\"name\": \"\xff\"}", code: CodeInvalidJSON,
			err: "the body is not valid UTF-8"},
		{name: "duplicate key", body: `{"name": "Ann", "name": "Bob"}`, code: CodeInvalidJSON, field: "name",
			err: `name: the field "name" is given more than once`},

		{name: "unknown field", body: `{"nmae": "Ann"}`, code: CodeUnknownField, field: "nmae",
			err: `nmae: unknown field "nmae" in contact; did you mean "name"?`},
		{name: "unknown field, owner near", body: `{"ownr": "u1"}`, code: CodeUnknownField, field: "ownr",
			err: `ownr: unknown field "ownr" in contact; did you mean "owner"?`},
		{name: "unknown field, nothing near", body: `{"vehicle": "x"}`, code: CodeUnknownField, field: "vehicle",
			err: `vehicle: unknown field "vehicle" in contact`},
		{name: "read only id", body: `{"id": "x", "name": "Ann"}`, code: CodeReadOnly, field: "id",
			err: `id: "id" is a system field; it cannot be set`},
		{name: "read only created_at", body: `{"created_at": null}`, code: CodeReadOnly, field: "created_at",
			err: `created_at: "created_at" is a system field; it cannot be set`},
		{name: "read only version", body: `{"version": 3}`, code: CodeReadOnly, field: "version",
			err: `version: "version" is a system field; it cannot be set`},
		{name: "owner not a string", body: `{"owner": 7}`, code: CodeInvalidType, field: "owner",
			err: `owner: expected a user id, got a number`},
		{name: "owner null", body: `{"owner": null}`, code: CodeInvalidValue, field: "owner",
			err: `owner: expected a user id, got null; a record always has an owner`},
		{name: "owner bad id", body: `{"owner": "a/b"}`, code: CodeInvalidValue, field: "owner",
			err: `owner: expected a user id (at most 64 letters, digits, '_' or '-'), got "a/b"`},
		{name: "bad value", body: `{"email": "Bob <bob@example.com>"}`, code: CodeInvalidValue, field: "email",
			err: `email: "Bob <bob@example.com>" is not a valid e-mail address; expected just the address, like "name@example.com"`},
		// Errors come in field-name order, whatever the order in the body.
		{name: "first error by name", body: `{"zeta": 1, "phone": "1", "birthday": "x", "alpha": 2}`, code: CodeUnknownField, field: "alpha",
			err: `alpha: unknown field "alpha" in contact`},
		{name: "first error by name 2", body: `{"phone": "1", "birthday": "x"}`, code: CodeInvalidValue, field: "birthday",
			err: `birthday: expected a date as "YYYY-MM-DD", like "2026-03-21", got "x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := contact.DecodeInput([]byte(c.body))
			if c.err == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got %#v\nwant %#v", got, c.want)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %#v, %v; want FieldError %q", got, err, c.err)
			}
			if fe.Error() != c.err || fe.Code != c.code || fe.Field != c.field {
				t.Fatalf("got %q %q %q\nwant %q %q %q", fe.Field, fe.Code, fe.Error(), c.field, c.code, c.err)
			}
		})
	}
}

func TestDecodeInputEveryType(t *testing.T) {
	e := entity(t, "every")
	body := `{
		"string": "Ann", "text": "a\nb", "int": 3, "decimal": "2.50",
		"money": {"amount": "10.5"}, "bool": true, "date": "2026-03-21",
		"datetime": "2026-03-21T14:30:00+04:00", "enum": "sold",
		"email": "a@B.am", "phone": "+37491123456", "url": "https://x.am",
		"ref": "r1", "user": "u1", "file": {"id": "f1"}
	}`
	in, err := e.DecodeInput([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"string": "Ann", "text": "a\nb", "int": int64(3), "decimal": Decimal("2.5"),
		"money": Money{1050, "USD"}, "bool": true, "date": date(2026, 3, 21),
		"datetime": time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC), "enum": "sold",
		"email": "a@b.am", "phone": "+37491123456", "url": "https://x.am",
		"ref": "r1", "user": "u1", "file": "f1",
	}
	if !reflect.DeepEqual(in.Values, want) {
		t.Fatalf("got %#v\nwant %#v", in.Values, want)
	}
}

func TestCheckRecord(t *testing.T) {
	s := newTestSchema(t)
	deal, contact := s.Entity("deal"), s.Entity("contact")
	for _, c := range []struct {
		name   string
		e      *Entity
		values map[string]any
		want   map[string]any // values afterwards, when no error
		err    string
		code   string
	}{
		{name: "required present", e: contact, values: map[string]any{"name": "Ann"}, want: map[string]any{"name": "Ann"}},
		{name: "required missing", e: contact, values: map[string]any{"email": "a@b.am"}, code: CodeRequired, err: "name: a value is required"},
		{name: "required nil", e: contact, values: map[string]any{"name": nil}, code: CodeRequired, err: "name: a value is required"},
		{name: "required empty", e: contact, values: map[string]any{"name": ""}, code: CodeRequired, err: "name: a value is required"},
		{name: "unknown keys ignored", e: contact, values: map[string]any{"name": "Ann", "owner": "u1", "gone": 1},
			want: map[string]any{"name": "Ann", "owner": "u1", "gone": 1}},
		{name: "wrong Go type", e: contact, values: map[string]any{"name": 5}, code: CodeInvalidType,
			err: "name: expected a string, got a Go value of type int"},

		{name: "pipeline and stage default", e: deal, values: map[string]any{"title": "T"},
			want: map[string]any{"title": "T", "pipeline": "sales", "stage": "new"}},
		{name: "stage defaults in given pipeline", e: deal, values: map[string]any{"title": "T", "pipeline": "support"},
			want: map[string]any{"title": "T", "pipeline": "support", "stage": "open"}},
		{name: "empty strings default", e: deal, values: map[string]any{"title": "T", "pipeline": "", "stage": ""},
			want: map[string]any{"title": "T", "pipeline": "sales", "stage": "new"}},
		{name: "valid stage", e: deal, values: map[string]any{"title": "T", "pipeline": "sales", "stage": "won"},
			want: map[string]any{"title": "T", "pipeline": "sales", "stage": "won"}},
		{name: "stage of default pipeline", e: deal, values: map[string]any{"title": "T", "stage": "proposal"},
			want: map[string]any{"title": "T", "pipeline": "sales", "stage": "proposal"}},
		{name: "unknown stage", e: deal, values: map[string]any{"title": "T", "stage": "qualifed"}, code: CodeInvalidValue,
			err: `stage: "qualifed" is not a stage of pipeline "sales"; expected one of "new", "qualified", "proposal", "won", "lost"; did you mean "qualified"?`},
		{name: "stage of another pipeline", e: deal, values: map[string]any{"title": "T", "pipeline": "support", "stage": "won"}, code: CodeInvalidValue,
			err: `stage: "won" is not a stage of pipeline "support"; expected one of "open", "closed"`},
		{name: "unknown pipeline", e: deal, values: map[string]any{"title": "T", "pipeline": "sale"}, code: CodeInvalidValue,
			err: `pipeline: "sale" is not a pipeline of deal; expected one of "sales", "support"; did you mean "sales"?`},
		{name: "required checked after defaults", e: deal, values: map[string]any{}, code: CodeRequired, err: "title: a value is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.e.CheckRecord(c.values)
			if c.err == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if !reflect.DeepEqual(c.values, c.want) {
					t.Fatalf("values %#v, want %#v", c.values, c.want)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Error() != c.err || fe.Code != c.code {
				t.Fatalf("got %v (%T)\nwant %s %q", err, err, c.code, c.err)
			}
		})
	}
}
