package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	coreplugins "github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/plugins"
	"github.com/crmkit/crm/plugins/sdk"
)

// pluginCmd is `crm plugin list|serve`.
func pluginCmd(args []string, stdout, stderr io.Writer) int {
	const use = "usage: crm plugin list [--config PATH] [--server URL] | crm plugin serve NAME"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, use)
		return 0
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "serve") {
		fmt.Fprintln(stderr, use)
		return 2
	}
	if args[0] == "serve" {
		return pluginServe(args[1:], stderr)
	}
	return pluginList(args[1:], stdout, stderr)
}

// pluginServe serves a first-party plugin: the host re-executes the crm
// binary with these arguments to start one.
func pluginServe(args []string, stderr io.Writer) int {
	fs, _ := newFlags("plugin serve", "serve a first-party plugin to the crm host that started this process (crm plugin serve NAME)", stderr, false)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: crm plugin serve NAME")
		return 2
	}
	name := fs.Arg(0)
	factory, ok := plugins.Builtin(name)
	if !ok {
		fmt.Fprintf(stderr, "crm plugin serve: this crm has no built-in plugin %q (built in: %s)\n", name, orNone(plugins.Names()))
		return 2
	}
	sdk.Serve(factory())
	return 0
}

// pluginList lists the configured plugins and where each comes from, or,
// with --server, the running plugins of a crm server.
func pluginList(args []string, stdout, stderr io.Writer) int {
	fs, c := newFlags("plugin list", "list the configured plugins (built in, or an executable checked by its SHA-256); with --server, a running server's plugins with state, version, restarts, last error and call latencies", stderr, false)
	server := fs.String("server", "", "URL of a running crm server, e.g. http://localhost:8080 (token from CRM_TOKEN)")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *server != "" {
		return pluginStatus(*server, os.Getenv("CRM_TOKEN"), stdout, stderr)
	}
	ck, ok := loadConfig(c.config, stderr)
	if !ok {
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tREAD\tWRITE\tCHECK")
	var problems []string
	for _, p := range ck.cfg.Plugins {
		source, check := "built in", "ok"
		switch {
		case p.Path != "":
			source, check = p.Path, "sha256 ok"
			if err := coreplugins.VerifyExecutable(p); err != nil {
				check = "REFUSED (below)"
				problems = append(problems, err.Error())
			}
		default:
			if _, ok := plugins.Builtin(p.Name); !ok {
				check = "not in this binary"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, source, orNone(p.Read), orNone(p.Write), check)
	}
	tw.Flush()
	for _, msg := range problems {
		fmt.Fprintln(stdout, "\n"+msg)
	}
	return 0
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ",")
}

// pluginStatus prints a running server's plugins from GET /api/v1/plugins.
func pluginStatus(server, token string, stdout, stderr io.Writer) int {
	req, err := http.NewRequest(http.MethodGet, strings.TrimRight(server, "/")+"/api/v1/plugins", nil)
	if err != nil {
		fmt.Fprintln(stderr, "crm plugin list:", err)
		return 2
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "crm plugin list:", err)
		return 1
	}
	defer res.Body.Close()
	var out struct {
		Items []coreplugins.Status `json:"items"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		msg := res.Status
		if out.Error != nil {
			msg += ": " + out.Error.Message
		}
		fmt.Fprintln(stderr, "crm plugin list:", msg, "(set CRM_TOKEN to an API token)")
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tVERSION\tRESTARTS\tCALLS (p50/p99 ms)\tLAST ERROR")
	for _, p := range out.Items {
		var calls []string
		for _, c := range p.Calls {
			calls = append(calls, fmt.Sprintf("%s %d %.1f/%.1f", c.Method, c.Count, c.P50ms, c.P99ms))
		}
		last := p.LastError
		if p.Warning != "" {
			last = strings.TrimPrefix(last+"; warning: "+p.Warning, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, p.State, p.Version, p.Restarts, orNone(calls), last)
	}
	tw.Flush()
	return 0
}
