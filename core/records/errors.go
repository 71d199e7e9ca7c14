package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Kind is the class of an Error: what the caller did wrong, or what stood in
// its way. The HTTP API maps each kind to one status and the plugin host to
// one gRPC code; nothing else inspects the errors of the layers below.
type Kind int

// The kinds of Error.
const (
	// KindInvalid: a value the schema or the store refuses (422).
	KindInvalid Kind = iota + 1
	// KindBadRequest: a request that cannot be read: malformed JSON, a
	// filter that does not compile, a bad query parameter (400).
	KindBadRequest
	// KindNotFound: no such entity, record or file (404).
	KindNotFound
	// KindForbidden: the actor may not do this (403).
	KindForbidden
	// KindConflict: a stale version, a duplicate, a record still
	// referenced (409).
	KindConflict
	// KindUnavailable: the store is closing or the call ran out of time
	// (503).
	KindUnavailable
)

// CodeBudgetExceeded is the code of a filter that exceeded its budget of
// steps, memory or time while it ran.
const CodeBudgetExceeded = "filter_budget_exceeded"

// CodeExists is the code of a conditional create (CreateRequest.Unless)
// whose condition a record matched that the actor does not see (another's,
// for an own_only role): nothing is created and the record is not given.
const CodeExists = "exists"

// Error is the one error type of a record operation: a kind, a code for
// programs, a message for people and, where there is one, the field (or
// request parameter) it is about.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	// Line and Column locate a problem in a filter (1-based); 0 otherwise.
	Line, Column int
	// Count and Refs describe the records that still reference a record
	// whose delete was refused.
	Count int
	Refs  []store.Ref
	err   error
}

// Error is the message, with the field it is about.
func (e *Error) Error() string {
	if e.Field != "" && e.Kind == KindForbidden {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Unwrap gives the error of the layer below, when there was one.
func (e *Error) Unwrap() error { return e.err }

// Is makes errors.Is(err, auth.ErrForbidden) and errors.Is(err,
// store.ErrNotFound) hold for the matching kinds.
func (e *Error) Is(target error) bool {
	switch target {
	case auth.ErrForbidden:
		return e.Kind == KindForbidden
	case store.ErrNotFound:
		return e.Kind == KindNotFound
	}
	return false
}

// forbidden is a KindForbidden error about field ("" for none).
func forbidden(field, format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorOf classifies err, from this package or from the layers below
// (schema, store, auth, context), as an *Error; it returns nil for an error
// it does not know, which the caller treats as an internal failure.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	var (
		re  *Error
		fe  *schema.FieldError
		ce  *store.ConflictError
		ie  *store.InvalidError
		flt *store.FilterError
		qe  *store.QueryError
	)
	switch {
	case errors.As(err, &re):
		return re
	case errors.As(err, &fe):
		k := KindInvalid
		if fe.Code == schema.CodeInvalidJSON {
			k = KindBadRequest
		}
		return &Error{Kind: k, Code: fe.Code, Message: fe.Message, Field: fe.Field, err: err}
	case errors.As(err, &ce):
		return &Error{Kind: KindConflict, Code: ce.Code, Message: ce.Message, Field: ce.Field, Count: ce.Count, Refs: ce.Refs, err: err}
	case errors.As(err, &ie):
		return &Error{Kind: KindInvalid, Code: schema.CodeInvalidValue, Message: ie.Message, Field: ie.Field, err: err}
	case errors.As(err, &flt):
		code := "invalid_filter"
		if flt.Budget != "" {
			code = CodeBudgetExceeded
		}
		return &Error{Kind: KindBadRequest, Code: code, Message: flt.Error(), Field: "filter", Line: flt.Line, Column: flt.Column, err: err}
	case errors.As(err, &qe):
		return &Error{Kind: KindBadRequest, Code: "invalid_query", Message: qe.Error(), Field: qe.Param, err: err}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		return &Error{Kind: KindNotFound, Code: "not_found", Message: "not found", err: err}
	case errors.Is(err, auth.ErrForbidden):
		return &Error{Kind: KindForbidden, Code: "forbidden", Message: err.Error(), err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindUnavailable, Code: "canceled", Message: "the request was canceled or ran out of time", err: err}
	case errors.Is(err, store.ErrClosed):
		return &Error{Kind: KindUnavailable, Code: "shutting_down", Message: "the server is shutting down", err: err}
	}
	return nil
}
