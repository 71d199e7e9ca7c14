// Package app assembles a running instance from a loaded configuration: the
// schema, the store, the auth service and the HTTP API, and it owns their
// start-up and orderly shutdown. It holds no logic of its own beyond that.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/api"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Version is the product version, set at build time with -ldflags.
var Version = "dev"

// App is an opened instance.
type App struct {
	Config *config.Config
	Schema *schema.Schema
	Store  *store.Badger
	Auth   *auth.Service
	Log    *slog.Logger
}

// Open builds the schema from cfg and opens the store in dataDir.
func Open(cfg *config.Config, dataDir string, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	sch, err := schema.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("build schema: %w", err)
	}
	st, err := store.OpenBadger(dataDir, sch, store.Options{Logger: log})
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("the store in %s is in use by another crm process (a running crm serve?); stop it first: %w", dataDir, err)
		}
		return nil, err
	}
	return &App{
		Config: cfg, Schema: sch, Store: st, Log: log,
		Auth: auth.New(st, cfg.Roles, auth.Options{Logger: log}),
	}, nil
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
}

// Serve creates the first admin on an empty store, then serves the API until
// ctx is done, when it stops taking requests, finishes the ones in flight
// (up to 20 s) and returns.
func (a *App) Serve(ctx context.Context, opts ServeOptions) error {
	created, generated, err := a.Auth.EnsureAdmin(ctx, opts.AdminEmail, opts.AdminPassword)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Listen, err)
	}
	handler := api.New(api.Options{
		Store: a.Store, Schema: a.Schema, Auth: a.Auth, Logger: a.Log, Version: Version,
		SecureCookies: strings.HasPrefix(a.Config.Server.PublicURL, "https://"),
	})
	srv := &http.Server{
		Handler:           handler,
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
