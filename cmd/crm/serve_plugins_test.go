package main_test

import (
	"fmt"
	"github.com/crmkit/crm/core/testkit/pgtest"
	"os"
	"testing"

	"github.com/crmkit/crm/plugins"
	"github.com/crmkit/crm/plugins/sdk"
)

// TestMain lets the test binary serve the first-party plugins: tests that
// open an app in this process (app.Check, app.Open) start those plugins as
// crm does, by re-executing the running binary with `plugin serve NAME`,
// and the running binary is this one.
func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "plugin" && os.Args[2] == "serve" {
		f, ok := plugins.Builtin(os.Args[3])
		if !ok {
			fmt.Fprintf(os.Stderr, "no built-in plugin %q\n", os.Args[3])
			os.Exit(2)
		}
		sdk.Serve(f())
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}
