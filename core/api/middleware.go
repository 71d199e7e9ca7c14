package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/crmkit/crm/core/auth"
)

// StatusClientClosed is the status logged and counted for a request whose
// client went away before the answer (nginx's 499); it is never sent.
const StatusClientClosed = 499

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

// Unwrap gives http.ResponseController the writer underneath, for
// flushing and write deadlines (the CSV export uses both).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
		// The mux sets the pattern it matched on the request it is given.
		rr := r.WithContext(context.WithValue(r.Context(), principalKey, holder))
		next.ServeHTTP(sw, rr)
		d := time.Since(start)
		route := rr.Pattern
		if route == "" || route == "/" {
			route = "other"
		}
		status, msg, level := sw.status, "request", slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		// A client that went away before its answer is not a server
		// failure: it is counted and logged as nginx does, 499.
		if errors.Is(r.Context().Err(), context.Canceled) && (status == 0 || status >= 400) {
			status, msg, level = StatusClientClosed, "request cancelled by the client", slog.LevelInfo
		}
		s.metrics.observe(r.Method, route, status, d)
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Int("bytes", sw.bytes),
			slog.Duration("duration", d), slog.String("remote", r.RemoteAddr),
		}
		if holder.p != nil {
			attrs = append(attrs, slog.String("user", holder.p.User.ID))
		}
		s.log.LogAttrs(r.Context(), level, msg, attrs...)
	})
}

// principalHolder lets the logging middleware see who the request was
// authenticated as.
type principalHolder struct{ p *auth.Principal }

// credential returns the secret a request carries: a Bearer token, or the
// session cookie.
func credential(r *http.Request) string {
	secret, _ := credentialFrom(r)
	return secret
}

// credentialFrom returns the secret a request carries and whether it came
// from the session cookie (which a browser sends by itself, cross-site
// too) rather than an Authorization header (which only a script that holds
// the token can send).
func credentialFrom(r *http.Request) (secret string, cookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok), false
		}
		return "", false
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// bodyKinds say which request bodies a cookie-authenticated route takes.
type bodyKinds int

const (
	jsonBodies      bodyKinds = iota // application/json only
	multipartBodies                  // multipart/form-data (the file upload) or JSON
)

// authenticate answers 401 unless the request carries a valid session or
// token. A request authenticated by the session cookie that changes
// something must also come from this server's own pages (see crossSite)
// and carry a JSON body, or none: a cross-site form or a "simple" fetch
// can send neither without a CORS preflight, which this server never
// grants. Bearer-token requests are not checked so: a browser never adds
// an Authorization header by itself.
func (s *Server) authenticate(h authedHandler) http.Handler {
	return s.authenticateFor(h, jsonBodies)
}

func (s *Server) authenticateFor(h authedHandler, bodies bodyKinds) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, cookie := credentialFrom(r)
		if secret == "" {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in or send a valid token", "")
			return
		}
		if cookie && !safeMethod(r.Method) {
			if msg := s.crossSite(r); msg != "" {
				writeError(w, http.StatusForbidden, "cross_origin", msg, "")
				return
			}
			if msg := browserOnlyBody(r, bodies); msg != "" {
				writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", msg, "")
				return
			}
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

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// crossSite says why a request may have been sent by another site's page
// ("" when it comes from this server's). Its Origin must be the origin of
// the server's public_url or name the host the request was sent to; with
// no Origin, a browser's Sec-Fetch-Site must say same-origin. Browsers
// send Origin with every POST, PATCH and DELETE, so the server's own pages
// always pass.
func (s *Server) crossSite(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if r.Header.Get("Sec-Fetch-Site") == "same-origin" {
			return ""
		}
		return "a change made with the session cookie must carry the Origin header of this server (" + s.publicOrigin() + "); scripts and integrations send a bearer token instead"
	}
	u, err := url.Parse(origin)
	if err == nil && u.Host != "" && (strings.EqualFold(u.Scheme+"://"+u.Host, s.publicOrigin()) || strings.EqualFold(u.Host, r.Host)) {
		return ""
	}
	return fmt.Sprintf("cross-origin request refused: Origin %q is not this server (%s)", origin, s.publicOrigin())
}

// publicOrigin is scheme://host[:port] of the server's public_url, or ""
// when none is configured.
func (s *Server) publicOrigin() string {
	u, err := url.Parse(s.opts.PublicURL)
	if err != nil || u.Host == "" {
		return "the address it is served at"
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// browserOnlyBody says why a cookie-authenticated request's body could
// have been sent by a cross-site page without a preflight ("" when it is
// JSON, the multipart upload of a route that takes it, or absent).
func browserOnlyBody(r *http.Request, bodies bodyKinds) string {
	if r.ContentLength == 0 && len(r.TransferEncoding) == 0 {
		return ""
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err == nil && mt == "application/json":
		return ""
	case err == nil && mt == "multipart/form-data" && bodies == multipartBodies:
		return ""
	case bodies == multipartBodies:
		return fmt.Sprintf("Content-Type must be multipart/form-data or application/json, not %q", ct)
	}
	return fmt.Sprintf("Content-Type must be application/json, not %q", ct)
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
