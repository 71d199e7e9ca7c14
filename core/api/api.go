// Package api is the HTTP face of the core: it decodes requests, authorises
// them, calls the store, schema and auth packages, and encodes the answers
// as JSON. It holds no business rules of its own: a handler that needs to
// decide something asks the core package that owns the decision.
package api

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/hub"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/views"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// SessionCookie is the name of the HttpOnly cookie that carries a session.
const SessionCookie = "crm_session"

// Options are what the API serves.
type Options struct {
	Store  store.Store
	Schema *schema.Schema
	Auth   *auth.Service
	Logger *slog.Logger
	// PublicURL is the address users open (the server's public_url); a
	// change made with the session cookie must come from its origin.
	PublicURL string
	// SecureCookies marks the session cookie Secure (serve over HTTPS).
	SecureCookies bool
	// SessionTTL is the session cookie's lifetime.
	SessionTTL time.Duration
	// Version is reported by /healthz.
	Version string
	// Rules is the rules engine, nil when none runs.
	Rules *rules.Engine
	// ConfigStatus reports the configuration in force and the last reload.
	ConfigStatus func() any
	// Plugins is the plugin host, nil when none runs.
	Plugins *plugins.Host
	// Records is the record service; nil for one over Store and Schema.
	Records *records.Service
	// Hub serves the websocket's live views; nil when none runs.
	Hub *hub.Hub
}

// Server is the HTTP handler of the API.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *routeMux
	metrics *metrics
	handler http.Handler
	records *records.Service
	views   *views.Service
}

// New builds the API handler.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 7 * 24 * time.Hour
	}
	if opts.Records == nil {
		opts.Records = records.New(opts.Store, opts.Schema)
	}
	s := &Server{opts: opts, log: opts.Logger, mux: &routeMux{}, records: opts.Records, views: views.New(opts.Store, opts.Schema)}
	s.metrics = newMetrics(opts.Store)
	if opts.Rules != nil {
		s.metrics.reg.MustRegister(opts.Rules.Collectors()...)
	}
	if opts.Plugins != nil {
		s.metrics.reg.MustRegister(opts.Plugins.Collectors()...)
	}
	if opts.Hub != nil {
		s.metrics.reg.MustRegister(opts.Hub.Collectors()...)
	}
	s.routes()
	s.handler = s.recoverer(s.instrument(s.mux))
	return s
}

// routeMux is the server's ServeMux; it remembers every pattern
// registered, so that Routes can list them.
type routeMux struct {
	http.ServeMux
	patterns []string
}

// Handle registers h for pattern and remembers the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// HandleFunc registers h for pattern and remembers the pattern.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Routes returns every pattern the server serves ("POST /api/v1/files"),
// in the order they were registered. The authorisation test walks them.
func (s *Server) Routes() []string { return slices.Clone(s.mux.patterns) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() {
	pub := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, h) }
	authed := func(pattern string, h authedHandler) { s.mux.Handle(pattern, s.authenticate(h)) }

	pub("GET /healthz", s.healthz)
	pub("POST /api/v1/auth/login", s.login)

	authed("GET /metrics", s.adminOnly(s.metrics.serve))
	authed("GET /api/v1/admin/backup", s.adminOnly(s.backup))
	authed("POST /api/v1/auth/logout", s.logout)
	authed("GET /api/v1/auth/me", s.me)
	authed("GET /api/v1/auth/tokens", s.listTokens)
	authed("POST /api/v1/auth/tokens", s.createToken)
	authed("DELETE /api/v1/auth/tokens/{id}", s.revokeToken)
	authed("GET /api/v1/users", s.adminOnly(s.listUsers))
	authed("POST /api/v1/users", s.adminOnly(s.createUser))
	authed("GET /api/v1/schema", s.getSchema)
	authed("GET /api/v1/openapi.json", s.openAPI)
	s.mux.Handle("POST /api/v1/files", s.authenticateFor(s.uploadFile, multipartBodies))
	authed("GET /api/v1/files/{id}", s.downloadFile)
	authed("GET /api/v1/records/{entity}", s.listRecords)
	authed("POST /api/v1/records/{entity}", s.createRecord)
	authed("GET /api/v1/records/{entity}/{id}", s.getRecord)
	authed("PATCH /api/v1/records/{entity}/{id}", s.updateRecord)
	authed("DELETE /api/v1/records/{entity}/{id}", s.deleteRecord)
	authed("GET /api/v1/records/{entity}/{id}/history", s.history)
	authed("GET /api/v1/search", s.search)
	s.ruleRoutes(authed)
	s.notificationRoutes(authed)
	authed("GET /api/v1/ws", s.websocket)
	s.pluginRoutes(authed)
	s.uiRoutes(authed)
	// Everything else: 401 without credentials, then 404 or 405.
	authed("/", func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
		writeError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+r.URL.Path, "")
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.opts.Version})
}
