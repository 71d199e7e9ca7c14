// Package app assembles a running instance from a loaded configuration: the
// schema, the store, the auth service, the rules engine, the plugin host and
// the HTTP API, and it owns their start-up, configuration reloads and
// orderly shutdown, and the checks that need more than one of them (rules
// that call plugins, plugin entities). It is the one core package that
// imports the others; it holds no business rules of its own (each decision
// belongs to the package that owns it) and must not import cmd or the SDK.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/api"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/hub"
	"github.com/crmkit/crm/core/lease"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
	"github.com/hashicorp/hcl/v2"
)

// Version is the product version, set at build time with -ldflags.
var Version = "dev"

// App is an opened instance.
type App struct {
	Config *config.Config
	// ConfigPath is where Config came from; "" when it was not read from
	// files (then it is not watched for changes).
	ConfigPath string
	Schema     *schema.Schema
	Rules      *rules.Set
	Store      store.Store
	Auth       *auth.Service
	Engine     *rules.Engine
	Plugins    *plugins.Host
	// Leases are this node's holds on the work that is done once across
	// the nodes sharing the store (lease.go).
	Leases *lease.Leases
	Log    *slog.Logger
	// EngineOptions tune the rules engine (tests shorten its retries).
	EngineOptions rules.Options

	// deliveries runs the plugins' event deliveries; a reload that
	// changes plugin blocks starts them again for the new blocks.
	deliveries struct {
		mu   sync.Mutex
		stop func()
	}
}

// Check loads a configuration and compiles everything in it that can be
// checked before running: the HCL, the entities its plugins contribute
// (see WithPluginEntities), the schema it builds and the rules with their
// expressions. It returns every problem found.
func Check(path string) (*config.Config, *schema.Schema, *rules.Set, hcl.Diagnostics) {
	cfg, diags := config.Load(path)
	return checkLoaded(cfg, diags)
}

// CheckSources is Check for configuration text held in memory.
func CheckSources(files map[string][]byte) (*config.Config, *schema.Schema, *rules.Set, hcl.Diagnostics) {
	cfg, diags := config.LoadSources(files)
	return checkLoaded(cfg, diags)
}

// checkLoaded adds the plugins' contributed entities to a loaded
// configuration and compiles it. When there are errors, the rules are
// still compiled, against the part of the configuration that did load
// (see loadedPart), so that every problem shows in one run; the schema and
// rules are then nil.
func checkLoaded(cfg *config.Config, diags hcl.Diagnostics) (*config.Config, *schema.Schema, *rules.Set, hcl.Diagnostics) {
	cfg, pd := WithPluginEntities(context.Background(), cfg)
	diags = append(diags, pd...)
	if !diags.HasErrors() {
		return compile(cfg, nil, diags)
	}
	part, sch := loadedPart(cfg)
	_, _, _, cd := compile(part, sch, nil)
	return cfg, nil, nil, config.SortDiagnostics(dedupe(append(diags, cd...)))
}

// compile builds the schema (unless one is given: a reload keeps the
// running schema) and compiles and checks the rules and their tests.
func compile(cfg *config.Config, sch *schema.Schema, diags hcl.Diagnostics) (*config.Config, *schema.Schema, *rules.Set, hcl.Diagnostics) {
	if sch == nil {
		var err error
		if sch, err = schema.New(cfg); err != nil {
			return cfg, nil, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: err.Error()})
		}
	}
	set, rd := rules.Compile(cfg, sch)
	diags = append(diags, rd...)
	diags = append(diags, rules.CheckMailChannels(cfg, set)...)
	if !rd.HasErrors() {
		diags = append(diags, rules.CheckTests(cfg, sch, set)...)
	}
	return cfg, sch, set, diags
}

// Open opens the store for a checked configuration (see Check): Badger in
// dataDir, or PostgreSQL when the server block says so (see OpenStore).
func Open(cfg *config.Config, sch *schema.Schema, set *rules.Set, dataDir string, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := OpenStore(cfg, sch, dataDir, log)
	if err != nil {
		return nil, err
	}
	return &App{
		Config: cfg, Schema: sch, Rules: set, Store: st, Log: log,
		Auth:   auth.New(st, cfg.Roles, auth.Options{Logger: log}),
		Leases: newLeases(st, cfg.Server, cfg.Server.Store != config.StorePostgres, log),
	}, nil
}

// startPlugins starts the configured plugins. A plugin that does not start
// is shown failed (GET /api/v1/plugins) and the rest of the CRM serves on.
func (a *App) startPlugins(ctx context.Context) func() {
	reattach, err := plugins.ParseReattach(os.Getenv(crmv1.ReattachEnv))
	if err != nil {
		a.Log.Error("ignoring the plugins to attach to", slog.Any("err", err))
	}
	a.Plugins = plugins.New(plugins.Options{Store: a.Store, Schema: a.Schema, Logger: a.Log, Reattach: reattach, Locale: a.Config.Locale,
		Users: a.Auth.PrincipalOf})
	if err := a.Plugins.Start(ctx, a.Config.Plugins); err != nil {
		a.Log.Error("plugins did not all start", slog.Any("err", err))
	}
	for _, d := range CheckPluginActions(a.Rules, a.Plugins.Manifest) {
		a.Log.Error("a rule's plugin action does not match the plugin's manifest", slog.String("diagnostic", config.FormatDiagnostic(d)))
	}
	a.runDeliveries(a.Config.Plugins)
	return func() {
		a.runDeliveries(nil)
		if err := a.Plugins.Close(); err != nil {
			a.Log.Error("stop plugins", slog.Any("err", err))
		}
	}
}

// runDeliveries stops the running event deliveries, if any, and starts
// those of cfgs (none for nil). Each delivery resumes at its stored
// position, so a restart loses no event.
func (a *App) runDeliveries(cfgs []*config.Plugin) {
	a.deliveries.mu.Lock()
	defer a.deliveries.mu.Unlock()
	if a.deliveries.stop != nil {
		a.deliveries.stop()
		a.deliveries.stop = nil
	}
	if cfgs == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Plugins.RunDeliveries(ctx, a.Store, a.Schema, cfgs, plugins.DeliverOptions{Lease: a.Leases})
	}()
	a.deliveries.stop = func() { cancel(); <-done }
}

// invokePlugin is the rules engine's way to call a plugin action.
func (a *App) invokePlugin(ctx context.Context, plugin, action string, args map[string]any, entity, id, key, cause string) (any, error) {
	res, err := a.Plugins.Invoke(ctx, plugin, plugins.Call{
		Action: action, Args: args, Record: &plugins.RecordRef{Entity: entity, ID: id},
		IdempotencyKey: key, Cause: cause,
	})
	var refusal *plugins.Refusal
	var invalid *plugins.InvalidCall
	if errors.As(err, &refusal) || errors.As(err, &invalid) {
		return nil, rules.Permanent(err)
	}
	if err != nil {
		return nil, err
	}
	var out any
	if len(res) > 0 {
		if err := json.Unmarshal(res, &out); err != nil {
			return nil, fmt.Errorf("%s.%s answered malformed JSON: %w", plugin, action, err)
		}
	}
	return out, nil
}

// startEngine starts the rules engine; the returned function stops it and
// waits for the runs in flight.
func (a *App) startEngine(mailer *rules.Mailer) func() {
	loc, err := time.LoadLocation(a.Config.Locale.Timezone)
	if err != nil {
		loc = time.UTC
	}
	opts := a.EngineOptions
	opts.Logger, opts.Location = a.Log, loc
	w := a.Config.Workflow
	if opts.Workers == 0 {
		opts.Workers = w.Workers
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = w.MaxAttempts
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = w.MaxDepth
	}
	if opts.Retention == 0 {
		opts.Retention = w.RunRetention
	}
	opts.Users = a.notifyTargets
	if a.Plugins != nil {
		opts.Plugins = a.invokePlugin
	}
	opts.Mailer = mailer
	if opts.Lease == nil {
		opts.Lease = a.Leases
	}
	opts.UserInfo = func(ctx context.Context, id string) *rules.UserInfo {
		u, err := a.Auth.User(ctx, id)
		if err != nil {
			return nil
		}
		return &rules.UserInfo{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
	}
	a.Engine = rules.NewEngine(a.Store, a.Schema, a.Rules, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Engine.Run(ctx); err != nil {
			a.Log.Error("rules engine stopped", slog.Any("err", err))
		}
	}()
	return func() { cancel(); <-done }
}

// notifyTargets resolves a notify target: "role:NAME" is every enabled
// user with that role, anything else a user id that must exist.
func (a *App) notifyTargets(ctx context.Context, target string) ([]string, error) {
	role, isRole := strings.CutPrefix(target, "role:")
	if !isRole {
		if _, err := a.Auth.User(ctx, target); err != nil {
			return nil, fmt.Errorf("no user %q", target)
		}
		return []string{target}, nil
	}
	users, err := a.Auth.Users(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, u := range users {
		if u.Role == role && !u.Disabled {
			ids = append(ids, u.ID)
		}
	}
	return ids, nil
}

// Close closes the store.
func (a *App) Close() error { return a.Store.Close() }

// ServeOptions say where and how to serve.
type ServeOptions struct {
	Listen        string
	AdminEmail    string // first start only
	AdminPassword string // first start only; generated when empty
	// Out receives the start-up banner: the URL and how to log in.
	Out io.Writer
	// Ready, if set, receives the bound address once the server listens.
	Ready func(addr string)
	// UI, if set, serves every path the API does not own (see withUI):
	// the web UI, which cmd/crm passes in so that core does not import web.
	UI http.Handler
}

// withUI sends /api/, /hooks/, /healthz and /metrics to the API and every
// other path to the UI; with no UI, everything goes to the API.
func withUI(apiHandler, ui http.Handler) http.Handler {
	if ui == nil {
		return apiHandler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/healthz" || p == "/metrics" || p == "/api" || p == "/hooks" ||
			strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") {
			apiHandler.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// Serve creates the first admin on an empty store, then serves the API until
// ctx is done, when it stops taking requests, finishes the ones in flight
// (up to 20 s) and returns.
func (a *App) Serve(ctx context.Context, opts ServeOptions) error {
	mailer, err := rules.MailerFromEnv(a.Config.SMTP, os.LookupEnv)
	if err != nil {
		return err
	}
	created, generated, err := a.Auth.EnsureAdmin(ctx, opts.AdminEmail, opts.AdminPassword)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	stopPlugins := a.startPlugins(ctx)
	defer stopPlugins()
	stopEngine := a.startEngine(mailer)
	defer stopEngine()
	var status func() any
	if a.ConfigPath != "" {
		rl := newReloader(a, a.ConfigPath)
		status = rl.Status
		wctx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			rl.watch(wctx, 2*time.Second)
		}()
		// The watcher stops (a reload in progress ends) before the
		// engine and the plugins it changes.
		defer func() { stopWatch(); <-watched }()
	}
	recs := records.New(a.Store, a.Schema)
	live := hub.New(recs, hub.Options{Logger: a.Log})
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := live.Run(hubCtx); err != nil {
			a.Log.Error("websocket hub stopped", slog.Any("err", err))
		}
	}()
	// After the server's shutdown: the hub then closes the websockets,
	// which the server does not track.
	defer func() { stopHub(); <-hubDone }()
	revCtx, stopRev := context.WithCancel(context.Background())
	revDone := make(chan struct{})
	go func() {
		defer close(revDone)
		if err := a.Auth.FollowRevocations(revCtx, a.Schema); err != nil {
			a.Log.Error("following revocations stopped", slog.Any("err", err))
		}
	}()
	defer func() { stopRev(); <-revDone }()
	handler := api.New(api.Options{
		Store: a.Store, Schema: a.Schema, Auth: a.Auth, Logger: a.Log, Version: Version,
		Records: recs, Hub: live,
		SecureCookies: strings.HasPrefix(a.Config.Server.PublicURL, "https://"),
		PublicURL:     a.Config.Server.PublicURL,
		Rules:         a.Engine, ConfigStatus: status, Plugins: a.Plugins,
	})
	srv := &http.Server{
		Handler:           withUI(handler, opts.UI),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	a.banner(opts, ln.Addr().String(), created, generated)
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func (a *App) banner(opts ServeOptions, addr string, created bool, generated string) {
	if opts.Out == nil {
		return
	}
	url := "http://" + addr
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "127.0.0.1" || host == "::" || host == "0.0.0.0") {
		url = "http://localhost:" + port
	}
	fmt.Fprintf(opts.Out, "crm %s is listening on %s\n", Version, url)
	if opts.UI != nil {
		fmt.Fprintf(opts.Out, "Open %s in a browser to use the CRM.\n", url)
	}
	switch {
	case created && generated != "":
		fmt.Fprintf(opts.Out, "First start: created the admin %s with the password %s\n", emailOrDefault(opts.AdminEmail), generated)
		fmt.Fprintln(opts.Out, "(shown only this once: note it, then change it)")
	case created:
		fmt.Fprintf(opts.Out, "First start: created the admin %s with the password from CRM_ADMIN_PASSWORD\n", emailOrDefault(opts.AdminEmail))
	default:
		fmt.Fprintln(opts.Out, "Log in with your e-mail and password (crm user add creates users).")
	}
	fmt.Fprintf(opts.Out, "Log in: curl -X POST %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"...\",\"password\":\"...\"}'\n", url)
}

func emailOrDefault(e string) string {
	if e == "" {
		return "admin@localhost"
	}
	return e
}
