package schema

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
)

// Codes of FieldError.
const (
	CodeInvalidJSON  = "invalid_json"  // the body is not one JSON object
	CodeUnknownField = "unknown_field" // the entity has no such field
	CodeInvalidType  = "invalid_type"  // a value of the wrong JSON type
	CodeInvalidValue = "invalid_value" // a value of the right type that is not acceptable
	CodeRequired     = "required"      // a required field has no value
	CodeReadOnly     = "read_only"     // a system field that clients may not set
)

// FieldError is a user-facing validation error about one field (or the
// whole body when Field is "").
type FieldError struct {
	Field   string // the field's name; "" for the whole body
	Code    string // one of the Code* constants
	Message string // what was expected and what was given, without the field's name
}

// Error returns "field: message", or the message alone for the whole body.
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func fieldErr(field, code, msg string) *FieldError {
	return &FieldError{Field: field, Code: code, Message: msg}
}

// maxQuoted is how many runes of a user's value an error message repeats.
const maxQuoted = 60

// quote returns s as a Go-quoted string for an error message, shortened to
// maxQuoted runes with an ellipsis.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		i, n := 0, 0
		for i = range s {
			if n == maxQuoted {
				break
			}
			n++
		}
		return strconv.Quote(s[:i]) + "…"
	}
	return strconv.Quote(s)
}

// quoteList returns the values quoted and separated by ", ".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// didYouMean returns `; did you mean "x"?` for the nearest candidate, or ""
// (config.DidYouMean, the one "did you mean" of the CRM).
func didYouMean(given string, candidates []string) string {
	return config.DidYouMean(given, candidates)
}
