package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/crmkit/crm/core/auth"
)

type authedHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal)

type ctxKey int

const principalKey ctxKey = iota

// statusWriter remembers the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// recoverer turns a panic into a logged 500: a panic is a bug, but it must
// not take the server down with it.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic in handler", slog.Any("panic", v),
					slog.String("path", r.URL.Path), slog.String("stack", string(debug.Stack())))
				writeError(w, http.StatusInternalServerError, "internal", "internal error", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// instrument logs every request and records its metrics.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		holder := &principalHolder{}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), principalKey, holder)))
		d := time.Since(start)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		s.metrics.observe(r.Method, route, sw.status, d)
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", d), slog.String("remote", r.RemoteAddr),
		}
		if holder.p != nil {
			attrs = append(attrs, slog.String("user", holder.p.User.ID))
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// principalHolder lets the logging middleware see who the request was
// authenticated as.
type principalHolder struct{ p *auth.Principal }

// credential returns the secret a request carries: a Bearer token, or the
// session cookie.
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// authenticate answers 401 unless the request carries a valid session or
// token. A request authenticated by cookie that changes something must be
// JSON (or have no body), which a cross-site form cannot send.
func (s *Server) authenticate(h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := credential(r)
		if secret == "" {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in or send a valid token", "")
			return
		}
		p, err := s.opts.Auth.Authenticate(r.Context(), secret)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if holder, ok := r.Context().Value(principalKey).(*principalHolder); ok {
			holder.p = p
		}
		h(w, r, p)
	})
}

func (s *Server) adminOnly(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
		if !p.IsAdmin() {
			writeError(w, http.StatusForbidden, "forbidden", "only an admin may do this", "")
			return
		}
		h(w, r, p)
	}
}
