package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/crmkit/crm/plugins/proto/crmv1"
	"google.golang.org/grpc/codes"
)

// Refusal codes the SDK itself uses; a plugin may use any code of its own.
const (
	CodeUnknownAction = "unknown_action"
	CodeInvalidArgs   = "invalid_args"
	CodeInvalidConfig = "invalid_config"
	// CodeDenied is the code of the refusal a host denial becomes when a
	// plugin returns it from Invoke or HandleWebhook (see Refusal); the
	// host answers it 403 Forbidden.
	CodeDenied = "denied"
)

// Refusal is "the plugin said no": a deliberate answer, with a code for
// programs and a message for the person who asked. The host shows it to
// the user (or records it as the outcome of a rule run) and never retries
// it. Create one with Refuse.
type Refusal struct {
	Code    string
	Message string
	// Field is the argument or config key the refusal is about, if any.
	Field string

	// status is the HTTP status of a webhook request refused with it; 0
	// for the default of its code (webhookStatus).
	status int
}

// Error is the refusal as text, with its code.
func (r *Refusal) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("refused (%s): %s: %s", r.Code, r.Field, r.Message)
	}
	return fmt.Sprintf("refused (%s): %s", r.Code, r.Message)
}

// Refuse returns a refusal with a code ("insufficient_points") and a message
// for the user. Return it (or wrap it) from Configure, Invoke, HandleEvents
// or HandleWebhook; every other error is a failure, which the host may
// retry.
//
// Invoke and HandleWebhook need no Refuse for a host error that is the
// caller's fault: a *HostError in the returned error's chain that matches
// ErrDenied, ErrNotFound, ErrInvalid or ErrConflict is answered as a
// refusal with the host's code, message and field (a denial always with
// the code CodeDenied). A webhook refusal is answered 401 for
// CodeBadSignature, 403 for a denial, 404 for a host's not-found, 409 for
// a host's conflict and 400 otherwise. A host error matching
// ErrUnavailable, and every host error in Configure and HandleEvents,
// stays a failure, which the host retries.
func Refuse(code, message string) error {
	return &Refusal{Code: code, Message: message}
}

// RefuseField is Refuse about one argument or config key.
func RefuseField(field, code, message string) error {
	return &Refusal{Code: code, Message: message, Field: field}
}

// HostError is an error the host answered to a call from the plugin. Test
// it with errors.Is against ErrDenied, ErrNotFound, ErrInvalid, ErrConflict
// and ErrUnavailable, and read Code and Field for the detail.
type HostError struct {
	// Code is the host's error code: "denied", "not_found", a validation
	// code ("required", "invalid_value", "unknown_field", ...),
	// "version_conflict", "duplicate", ...
	Code    string
	Message string
	Field   string
	kind    errKind
}

type errKind int

const (
	kindOther errKind = iota
	kindDenied
	kindNotFound
	kindInvalid
	kindConflict
	kindUnavailable
)

// Sentinels to test a HostError's kind with errors.Is.
var (
	// ErrDenied: the plugin's HCL block does not grant what it asked for.
	ErrDenied = &HostError{Code: "denied", kind: kindDenied}
	// ErrNotFound: no such record or file.
	ErrNotFound = &HostError{Code: "not_found", kind: kindNotFound}
	// ErrInvalid: a value, filter or argument the host does not accept.
	ErrInvalid = &HostError{Code: "invalid", kind: kindInvalid}
	// ErrConflict: a stale version or a duplicate unique value.
	ErrConflict = &HostError{Code: "conflict", kind: kindConflict}
	// ErrUnavailable: the host is shutting down or the call ran out of time.
	ErrUnavailable = &HostError{Code: "unavailable", kind: kindUnavailable}
)

// Error is the host's message, with the field it is about.
func (e *HostError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("host: %s: %s", e.Field, e.Message)
	}
	return "host: " + e.Message
}

// Is reports whether target is the sentinel of e's kind.
func (e *HostError) Is(target error) bool {
	t, ok := target.(*HostError)
	return ok && t.Message == "" && t.kind != kindOther && t.kind == e.kind
}

// hostError turns the error of a gRPC call to the host into a *HostError
// (or the context's error when the call's own context ended).
func hostError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	c, code, msg, field, ok := crmv1.ErrorDetails(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	he := &HostError{Code: code, Message: msg, Field: field}
	switch c {
	case codes.PermissionDenied:
		he.kind = kindDenied
	case codes.NotFound:
		he.kind = kindNotFound
	case codes.InvalidArgument:
		he.kind = kindInvalid
	case codes.Aborted, codes.AlreadyExists, codes.FailedPrecondition:
		he.kind = kindConflict
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		he.kind = kindUnavailable
	}
	if he.Code == "" {
		he.Code = c.String()
	}
	return fmt.Errorf("%s: %w", op, he)
}

// asRefusal finds a Refusal in err's chain.
func asRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// asCallerRefusal is asRefusal that also turns a host error that is the
// caller's fault (denied, not found, invalid, conflict) into a refusal
// carrying the host's code, message and field. A plugin's own refusal
// wins over a host error deeper in the chain.
func asCallerRefusal(err error) (*Refusal, bool) {
	if r, ok := asRefusal(err); ok {
		return r, true
	}
	var he *HostError
	if !errors.As(err, &he) {
		return nil, false
	}
	r := &Refusal{Code: he.Code, Message: he.Message, Field: he.Field}
	switch he.kind {
	case kindDenied:
		r.Code, r.status = CodeDenied, http.StatusForbidden
	case kindNotFound:
		r.status = http.StatusNotFound
	case kindInvalid:
		r.status = http.StatusBadRequest
	case kindConflict:
		r.status = http.StatusConflict
	default:
		return nil, false
	}
	if r.Message == "" { // a sentinel returned as it is
		r.Message = he.Code
	}
	return r, true
}
