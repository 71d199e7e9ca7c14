package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
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
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
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

func (s *Server) classify(err error) (int, apiError) {
	var (
		fe  *schema.FieldError
		ce  *store.ConflictError
		ie  *store.InvalidError
		flt *store.FilterError
		qe  *store.QueryError
		rl  *auth.RateLimitError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, apiError{Code: "body_too_large", Message: "request body is larger than " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
	case errors.As(err, &fe):
		status := http.StatusUnprocessableEntity
		if fe.Code == "invalid_json" {
			status = http.StatusBadRequest
		}
		return status, apiError{Code: fe.Code, Message: fe.Message, Field: fe.Field}
	case errors.As(err, &ce):
		return http.StatusConflict, apiError{Code: ce.Code, Message: ce.Message, Field: ce.Field, Count: ce.Count, Refs: ce.Refs}
	case errors.As(err, &ie):
		return http.StatusUnprocessableEntity, apiError{Code: "invalid_value", Message: ie.Message, Field: ie.Field}
	case errors.As(err, &flt):
		code := "invalid_filter"
		if flt.Budget != "" {
			code = "filter_budget_exceeded" // a filter too costly to run: steps, memory or time
		}
		return http.StatusBadRequest, apiError{Code: code, Message: flt.Error(), Field: "filter", Line: flt.Line, Column: flt.Column}
	case errors.As(err, &qe):
		return http.StatusBadRequest, apiError{Code: "invalid_query", Message: qe.Error(), Field: qe.Param}
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, apiError{Code: "rate_limited", Message: rl.Error()}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		return http.StatusNotFound, apiError{Code: "not_found", Message: "not found"}
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, apiError{Code: "bad_credentials", Message: "wrong e-mail or password"}
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "log in or send a valid token"}
	case errors.Is(err, auth.ErrForbidden):
		return http.StatusForbidden, apiError{Code: "forbidden", Message: err.Error()}
	case errors.Is(err, auth.ErrExists):
		return http.StatusConflict, apiError{Code: "exists", Message: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, apiError{Code: "canceled", Message: "the request was canceled"}
	case errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable, apiError{Code: "shutting_down", Message: "the server is shutting down"}
	}
	return http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error"}
}
