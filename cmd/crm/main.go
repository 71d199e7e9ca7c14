// Command crm is the CRM platform in one binary: it serves the API, checks
// configurations and manages users and tokens. It parses flags and wires
// core packages together; everything else lives under core/ and config/.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/web"
	"github.com/hashicorp/hcl/v2"
)

const usage = `crm: a self-hosted CRM in one binary.

Usage:
  crm serve   [--config crm.hcl] [--data DIR] [--listen ADDR]   start the server
  crm check   [--config crm.hcl]                                check a configuration
  crm rules test [--run REGEXP] [--dry-run [--limit 20]]        run rule tests, or show what the rules would do (--dry-run)
  crm user add --email E --role R [--name N] [--password P]     add a user (password also from CRM_PASSWORD or stdin)
  crm user list                                                 list users
  crm token create --email E --name N [--ttl 720h]              create an API token for a user
  crm token list [--email E]                                    list tokens and sessions
  crm token revoke ID                                           revoke a token or session
  crm backup --out FILE                                         write everything the store holds to a file (docs/operations.md)
  crm restore --in FILE                                         load a backup into an empty store (--data DIR); resumes if cut short
  crm migrate --to badger|postgres [--from S] [--from-data D] [--to-data D]
                                                                copy everything from one store to another; resumes if cut short
  crm plugin list                                               list the configured plugins and check their executables
  crm plugin serve NAME                                         serve a built-in plugin (crm serve starts these itself)
  crm version                                                   print the version
  crm help [COMMAND]                                            this text, or a command's flags

Every command takes --config PATH (a file or a directory of *.hcl files,
default crm.hcl) and, where it opens the store, --data DIR (default: the
config's server.data_dir). The store can be opened by one process at a time:
stop crm serve before crm user, crm token, crm backup, crm restore or crm
migrate, or use the HTTP API (a running server's backup: GET /api/v1/admin/backup).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(rest, stdout, stderr)
	case "check":
		return check(rest, stdout, stderr)
	case "user":
		return user(rest, stdin, stdout, stderr)
	case "token":
		return token(rest, stdout, stderr)
	case "rules":
		return rulesCmd(rest, stdout, stderr)
	case "plugin":
		return pluginCmd(rest, stdout, stderr)
	case "backup":
		return backupCmd(rest, stdout, stderr)
	case "restore":
		return restoreCmd(rest, stdout, stderr)
	case "migrate":
		return migrateCmd(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "crm", app.Version)
		return 0
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run([]string{rest[0], "--help"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "crm: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// common are the flags every command that reads the configuration takes.
type common struct {
	config string
	data   string
}

func newFlags(name, summary string, stderr io.Writer, withData bool) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("crm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	fs.StringVar(&c.config, "config", "crm.hcl", "configuration file or directory of *.hcl files")
	if withData {
		fs.StringVar(&c.data, "data", "", "data directory (overrides server.data_dir)")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "crm %s: %s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses flags; it returns an exit code >= 0 when the command should
// stop (help asked: 0; bad flags: 2).
func parse(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	return -1
}

// checked is a configuration that loaded and compiled.
type checked struct {
	cfg *config.Config
	sch *schema.Schema
	set *rules.Set
}

// loadConfig loads and checks the configuration and its rules, printing
// every diagnostic.
func loadConfig(path string, stderr io.Writer) (*checked, bool) {
	cfg, sch, set, diags := app.Check(path)
	if len(diags) > 0 {
		files := map[string]*hcl.File{}
		if cfg != nil {
			files = cfg.Files
		}
		config.WriteDiagnostics(stderr, files, diags)
	}
	return &checked{cfg, sch, set}, !diags.HasErrors()
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("CRM_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func openApp(c *common, stderr io.Writer) (*app.App, int) {
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return nil, 1
	}
	dir := ck.cfg.Server.DataDir
	if c.data != "" {
		dir = c.data
	}
	a, err := app.Open(ck.cfg, ck.sch, ck.set, dir, newLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "crm:", err)
		return nil, 1
	}
	a.ConfigPath = c.config
	if err := unfinishedCopy(a.Store); err != nil {
		a.Close()
		fmt.Fprintf(stderr, "crm: the store in %s: %v\n", dir, err)
		return nil, 1
	}
	return a, -1
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("serve", "start the server", stderr, true)
	listen := fs.String("listen", "", "address to listen on (overrides server.listen)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	app.SetMemoryLimit()
	a, code := openApp(c, stderr)
	if a == nil {
		return code
	}
	defer func() {
		if err := a.Close(); err != nil {
			fmt.Fprintln(stderr, "crm:", err)
		}
	}()
	addr := a.Config.Server.Listen
	if *listen != "" {
		addr = *listen
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := a.Serve(ctx, app.ServeOptions{
		Listen:        addr,
		AdminEmail:    os.Getenv("CRM_ADMIN_EMAIL"),
		AdminPassword: os.Getenv("CRM_ADMIN_PASSWORD"),
		Out:           stdout,
		UI:            uiHandler(),
	})
	if err != nil {
		fmt.Fprintln(stderr, "crm:", err)
		return 1
	}
	return 0
}

func check(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("check", "load the configuration and print every problem as file:line:col", stderr, false)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	cfg := ck.cfg
	if diags := app.CheckPlugins(context.Background(), cfg, ck.sch, ck.set); len(diags) > 0 {
		config.WriteDiagnostics(stderr, cfg.Files, diags)
		if diags.HasErrors() {
			return 1
		}
	}
	fmt.Fprintf(stdout, "%s: ok (%d entities, %d pipelines, %d roles, %d plugins, %d rules)\n",
		c.config, len(cfg.Entities), len(cfg.Pipelines), len(cfg.Roles), len(cfg.Plugins), len(cfg.Rules))
	return 0
}

func user(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		fmt.Fprintln(stderr, "usage: crm user add|list [flags]; crm user add --help for the flags")
		return 2
	}
	sub := args[0]
	fs, c := newFlags("user "+sub, map[string]string{"add": "add a user", "list": "list users"}[sub], stderr, true)
	email := fs.String("email", "", "e-mail address (the login)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", `role: "admin" or a role from the configuration`)
	password := fs.String("password", "", "password (prefer CRM_PASSWORD or stdin: flags show in ps)")
	if code := parse(fs, args[1:]); code >= 0 {
		return code
	}
	a, code := openApp(c, stderr)
	if a == nil {
		return code
	}
	defer a.Close()
	ctx := context.Background()
	if sub == "list" {
		users, err := a.Auth.Users(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "crm:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role)
		}
		tw.Flush()
		return 0
	}
	if *email == "" || *role == "" {
		fmt.Fprintln(stderr, "crm user add: --email and --role are required")
		return 2
	}
	pw := *password
	if pw == "" {
		pw = os.Getenv("CRM_PASSWORD")
	}
	if pw == "" {
		fmt.Fprint(stderr, "Password: ")
		line, _ := bufio.NewReader(stdin).ReadString('\n')
		pw = strings.TrimRight(line, "\r\n")
	}
	u, err := a.Auth.CreateUser(ctx, *email, *name, *role, pw)
	if err != nil {
		fmt.Fprintln(stderr, "crm user add:", err)
		return 1
	}
	fmt.Fprintf(stdout, "added user %s (%s, role %s)\n", u.Email, u.ID, u.Role)
	return 0
}

func token(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprintln(stderr, "usage: crm token create|list|revoke [flags]; crm token create --help for the flags")
		return 2
	}
	sub := args[0]
	fs, c := newFlags("token "+sub, map[string]string{"create": "create an API token", "list": "list tokens", "revoke": "revoke a token: crm token revoke ID"}[sub], stderr, true)
	email := fs.String("email", "", "the user the token acts as")
	name := fs.String("name", "", "what the token is for")
	ttl := fs.Duration("ttl", 0, "lifetime, e.g. 720h; 0 for no expiry")
	if code := parse(fs, args[1:]); code >= 0 {
		return code
	}
	if sub == "revoke" && fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: crm token revoke ID")
		return 2
	}
	if sub == "create" && (*email == "" || *name == "") {
		fmt.Fprintln(stderr, "crm token create: --email and --name are required")
		return 2
	}
	a, code := openApp(c, stderr)
	if a == nil {
		return code
	}
	defer a.Close()
	ctx := context.Background()
	switch sub {
	case "create":
		u, err := a.Auth.UserByEmail(ctx, *email)
		if err != nil {
			fmt.Fprintf(stderr, "crm token create: no user %s: %v\n", *email, err)
			return 1
		}
		secret, t, err := a.Auth.CreateToken(ctx, u.ID, *name, *ttl)
		if err != nil {
			fmt.Fprintln(stderr, "crm token create:", err)
			return 1
		}
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "token %s for %s created; send it as Authorization: Bearer <token>\n", t.ID, u.Email)
	case "list":
		userID := ""
		if *email != "" {
			u, err := a.Auth.UserByEmail(ctx, *email)
			if err != nil {
				fmt.Fprintf(stderr, "crm token list: no user %s: %v\n", *email, err)
				return 1
			}
			userID = u.ID
		}
		tokens, err := a.Auth.Tokens(ctx, userID)
		if err != nil {
			fmt.Fprintln(stderr, "crm token list:", err)
			return 1
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tKIND\tNAME\tCREATED\tEXPIRES")
		for _, t := range tokens {
			exp := "never"
			if !t.ExpiresAt.IsZero() {
				exp = t.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UserID, t.Kind, t.Name, t.CreatedAt.Format(time.RFC3339), exp)
		}
		tw.Flush()
	case "revoke":
		if err := a.Auth.RevokeToken(ctx, fs.Arg(0)); err != nil {
			fmt.Fprintln(stderr, "crm token revoke:", err)
			return 1
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
	}
	return 0
}

// uiHandler is the embedded web UI, or with CRM_WEB_DIR (e.g. web/static)
// the files in that directory, re-read on every request: edit, reload.
func uiHandler() http.Handler {
	if dir := os.Getenv("CRM_WEB_DIR"); dir != "" {
		return web.Handler(web.Options{Files: os.DirFS(dir), Dev: true})
	}
	return web.Handler(web.Options{})
}
