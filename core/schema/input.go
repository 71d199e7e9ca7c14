package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
)

// Input is a decoded client write: a flat JSON object of field values.
type Input struct {
	Values map[string]any // normalised values for fields given a non-null value
	Nulls  []string       // fields given as null (a PATCH clears them), sorted
	Owner  string         // the "owner" system field if the client gave it, else ""
}

// DecodeInput reads a POST or PATCH body: exactly one JSON object of field
// values, in UTF-8, with each key at most once. Declared fields go through
// Field.Normalize (null goes to Nulls); "owner" must be a user id and goes
// to Owner; the other system fields are read-only; any other key is an
// unknown field (with "did you mean" over the entity's fields). Errors are
// *FieldError: about the body first, then the first in field-name order.
func (e *Entity) DecodeInput(body []byte) (*Input, error) {
	members, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	in := &Input{Values: make(map[string]any, len(members))}
	for _, k := range keys {
		raw := members[k]
		switch {
		case k == FieldOwner:
			owner, err := decodeOwner(raw)
			if err != nil {
				return nil, err
			}
			in.Owner = owner
		case IsSystemField(k):
			return nil, fieldErr(k, CodeReadOnly, fmt.Sprintf("%q is a system field; it cannot be set", k))
		default:
			f := e.Field(k)
			if f == nil {
				return nil, fieldErr(k, CodeUnknownField, fmt.Sprintf("unknown field %s in %s%s", quote(k), e.Name, didYouMean(k, append(e.FieldNames(), FieldOwner))))
			}
			v, err := f.Normalize(raw)
			if err != nil {
				return nil, err
			}
			if v == nil {
				in.Nulls = append(in.Nulls, k)
			} else {
				in.Values[k] = v
			}
		}
	}
	return in, nil
}

// decodeObject checks that body is one JSON object in UTF-8, with nothing
// after it and no key twice, and returns its members.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, fieldErr("", CodeInvalidJSON, "the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fieldErr("", CodeInvalidJSON, "expected a JSON object of field values, got an empty body")
		}
		return nil, fieldErr("", CodeInvalidJSON, "the body is not valid JSON: "+jsonErrText(err))
	}
	raw = trimJSONSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fieldErr("", CodeInvalidJSON, "expected a JSON object of field values, got "+jsonKind(raw))
	}
	off := dec.InputOffset()
	if rest := trimJSONSpace(body[off:]); len(rest) > 0 {
		return nil, fieldErr("", CodeInvalidJSON, fmt.Sprintf("the body has data after the JSON object, at offset %d", int(off)+bytes.Index(body[off:], rest[:1])))
	}

	members := map[string]json.RawMessage{}
	od := json.NewDecoder(bytes.NewReader(raw))
	if _, err := od.Token(); err != nil {
		return nil, fieldErr("", CodeInvalidJSON, "the body is not valid JSON: "+jsonErrText(err))
	}
	for od.More() {
		tok, err := od.Token()
		if err != nil {
			return nil, fieldErr("", CodeInvalidJSON, "the body is not valid JSON: "+jsonErrText(err))
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := od.Decode(&v); err != nil {
			return nil, fieldErr("", CodeInvalidJSON, "the body is not valid JSON: "+jsonErrText(err))
		}
		if _, dup := members[key]; dup {
			return nil, fieldErr(key, CodeInvalidJSON, fmt.Sprintf("the field %s is given more than once", quote(key)))
		}
		members[key] = v
	}
	return members, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of the body"
	}
	return err.Error()
}

func decodeOwner(raw json.RawMessage) (string, error) {
	owner := &Field{Name: FieldOwner, Type: config.TypeUser, System: true}
	raw = trimJSONSpace(raw)
	if len(raw) > 0 && raw[0] == 'n' {
		return "", fieldErr(FieldOwner, CodeInvalidValue, "expected a user id, got null; a record always has an owner")
	}
	v, err := owner.Normalize(raw)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// CheckRecord validates a whole record's values after a merge (of a create's
// input, or of a PATCH into the stored values). For an entity with
// pipelines it first fills defaults: an empty "pipeline" becomes the first
// pipeline, an empty "stage" that pipeline's first stage; then, field by
// field in declared order, it checks that required fields have a value,
// that values have their canonical type, and that pipeline and stage name a
// pipeline of the entity and one of its stages. It returns the first
// problem as a *FieldError. It mutates values only to fill those defaults;
// keys that are not declared fields are ignored.
func (e *Entity) CheckRecord(values map[string]any) error {
	var pipeline *config.Pipeline
	if len(e.pipelines) > 0 {
		if isEmpty(values[FieldPipeline]) {
			values[FieldPipeline] = e.pipelines[0].Name
		}
		if name, ok := values[FieldPipeline].(string); ok {
			for _, p := range e.pipelines {
				if p.Name == name {
					pipeline = p
				}
			}
		}
		if pipeline != nil && isEmpty(values[FieldStage]) {
			values[FieldStage] = pipeline.Stages[0]
		}
	}
	for _, f := range e.Fields {
		v := values[f.Name]
		if isEmpty(v) {
			if f.Required {
				return fieldErr(f.Name, CodeRequired, "a value is required")
			}
			continue
		}
		if err := f.CheckCanonical(v); err != nil {
			return err
		}
		if len(e.pipelines) == 0 {
			continue
		}
		switch f.Name {
		case FieldPipeline:
			if pipeline == nil {
				names := make([]string, len(e.pipelines))
				for i, p := range e.pipelines {
					names[i] = p.Name
				}
				s, _ := v.(string)
				return fieldErr(f.Name, CodeInvalidValue, fmt.Sprintf("%s is not a pipeline of %s; expected one of %s%s", quote(s), e.Name, quoteList(names), didYouMean(s, names)))
			}
		case FieldStage:
			s, _ := v.(string)
			if pipeline != nil && !slices.Contains(pipeline.Stages, s) {
				return fieldErr(f.Name, CodeInvalidValue, fmt.Sprintf("%s is not a stage of pipeline %q; expected one of %s%s", quote(s), pipeline.Name, quoteList(pipeline.Stages), didYouMean(s, pipeline.Stages)))
			}
		}
	}
	return nil
}

// isEmpty reports whether v counts as no value: nil or "".
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && s == ""
}
