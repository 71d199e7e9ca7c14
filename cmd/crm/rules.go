package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/rules"
)

const rulesUsage = "usage: crm rules test [--config PATH] [--run REGEXP] [--dry-run [--data DIR] [--limit N]]; crm rules test --help for the flags"

// rulesCmd is `crm rules test`: it runs the test blocks of the
// configuration and prints a report like `go test -v`, or with --dry-run
// evaluates the rules against the records in the store and prints what
// they would do, changing nothing. Exit codes: 0 when every test passes
// (or the dry run completed), 1 on a failed test or a configuration or
// store error, 2 on bad flags.
func rulesCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		args = []string{"test", "--help"}
	}
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(stderr, rulesUsage)
		return 2
	}
	fs, c := newFlags("rules test", "run the test blocks of the rules, or with --dry-run show what the rules would do to the records in the store", stderr, true)
	run := fs.String("run", "", "run only the tests whose names match this regular expression")
	dry := fs.Bool("dry-run", false, "evaluate the rules against the records in the store (--data) and print what they would do; nothing is changed")
	limit := fs.Int("limit", 20, "with --dry-run: records shown per rule")
	if code := parse(fs, args[1:]); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "crm rules test: unexpected argument %q\n%s\n", fs.Arg(0), rulesUsage)
		return 2
	}
	var filter *regexp.Regexp
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "crm rules test: invalid --run: %v\n", err)
			return 2
		}
		filter = re
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dry {
		return dryRun(ctx, c, *limit, stdout, stderr)
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	diags := rules.CheckTests(ck.cfg, ck.sch, ck.set)
	if len(diags) > 0 {
		config.WriteDiagnostics(stderr, ck.cfg.Files, diags)
	}
	if diags.HasErrors() {
		return 1
	}
	if len(ck.cfg.Tests) == 0 {
		fmt.Fprintf(stderr, "crm rules test: %s has no test blocks\n", c.config)
	}
	if _, failed := rules.RunTests(ctx, ck.cfg, ck.sch, ck.set, stdout, filter); failed > 0 {
		return 1
	}
	return 0
}

// dryRun opens the store read-only in effect and prints what the rules
// would do to its records.
func dryRun(ctx context.Context, c *common, limit int, stdout, stderr io.Writer) int {
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	dir := ck.cfg.Server.DataDir
	if c.data != "" {
		dir = c.data
	}
	// Opening a store where there is none would create one.
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stderr, "crm rules test: no store in %s: %v\n", dir, err)
		return 1
	}
	a, err := app.Open(ck.cfg, ck.sch, ck.set, dir, newLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "crm rules test:", err)
		return 1
	}
	defer func() {
		if err := a.Close(); err != nil {
			fmt.Fprintln(stderr, "crm rules test:", err)
		}
	}()
	if err := rules.DryRun(ctx, a.Store, a.Schema, a.Rules, stdout, limit); err != nil {
		fmt.Fprintln(stderr, "crm rules test:", err)
		return 1
	}
	return 0
}
