package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/store"
)

// apiError is the one error shape of the API:
// {"error": {"code", "message", "field"?, ...}}.
type apiError struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Field   string      `json:"field,omitempty"`
	Line    int         `json:"line,omitempty"`
	Column  int         `json:"column,omitempty"`
	Count   int         `json:"count,omitempty"`
	Refs    []store.Ref `json:"refs,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if b, err := appendJSON(make([]byte, 0, 4096), v); err == nil { // encoding/json's bytes (jsonenc.go)
		_, _ = w.Write(append(b, '\n'))
	}
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message, Field: field}})
}

// fail answers an error from the core with the status it deserves; an
// error it does not know is a bug, logged and answered 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(err)
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	var rl *auth.RateLimitError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds())+1))
	}
	writeJSON(w, status, map[string]apiError{"error": body})
}

// statusOf is the HTTP status of each kind of record error: the one place
// where the record service's errors meet HTTP.
var statusOf = map[records.Kind]int{
	records.KindInvalid:     http.StatusUnprocessableEntity,
	records.KindBadRequest:  http.StatusBadRequest,
	records.KindNotFound:    http.StatusNotFound,
	records.KindForbidden:   http.StatusForbidden,
	records.KindConflict:    http.StatusConflict,
	records.KindUnavailable: http.StatusServiceUnavailable,
}

func (s *Server) classify(err error) (int, apiError) {
	var (
		rl  *auth.RateLimitError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, apiError{Code: "body_too_large", Message: "request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, apiError{Code: "rate_limited", Message: rl.Error()}
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, apiError{Code: "bad_credentials", Message: "wrong e-mail or password"}
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "log in or send a valid token"}
	case errors.Is(err, auth.ErrExists):
		return http.StatusConflict, apiError{Code: "exists", Message: err.Error()}
	}
	if re := records.ErrorOf(err); re != nil {
		return statusOf[re.Kind], apiError{Code: re.Code, Message: re.Message, Field: re.Field,
			Line: re.Line, Column: re.Column, Count: re.Count, Refs: re.Refs}
	}
	return http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error"}
}
