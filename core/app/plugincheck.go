package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/hashicorp/hcl/v2"
)

// CheckPlugins starts the configured plugins against a throwaway in-memory
// store, reads their manifests and checks the rules' PLUGIN.ACTION actions
// against them: the action must exist, its required arguments be given,
// no unknown argument be passed, and each argument's type suit the one
// the manifest declares. A plugin that does not start is an error at its
// block.
func CheckPlugins(ctx context.Context, cfg *config.Config, sch *schema.Schema, set *rules.Set) hcl.Diagnostics {
	if len(cfg.Plugins) == 0 {
		return nil
	}
	h, stop, diags := startForCheck(ctx, cfg.Plugins, sch)
	if h == nil {
		return diags
	}
	defer stop()
	return append(diags, CheckPluginActions(set, h.Manifest)...)
}

// startForCheck starts the given plugins against a throwaway in-memory
// store for sch, so that their manifests can be read. A plugin that does
// not start is an error at its block. stop closes the host and the store;
// the host is nil (and stop too) when the store could not be opened.
func startForCheck(ctx context.Context, cfgs []*config.Plugin, sch *schema.Schema) (h *plugins.Host, stop func(), diags hcl.Diagnostics) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.OpenBadger("", sch, store.Options{InMemory: true, NoSync: true, Logger: discard})
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "check plugins: " + err.Error()}}
	}
	h = plugins.New(plugins.Options{Store: st, Schema: sch, Logger: discard})
	_ = h.Start(ctx, cfgs)
	for _, p := range cfgs {
		for _, s := range h.Plugins() {
			if s.Name == p.Name && s.State != plugins.StateRunning {
				r := p.Range
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &r,
					Summary: fmt.Sprintf("plugin %s did not start: %s", p.Name, s.LastError)})
			}
		}
	}
	stop = func() {
		_ = h.Close()
		_ = st.Close()
	}
	return h, stop, diags
}

// CheckPluginActions checks the rules' plugin actions against the
// manifests that manifest gives (false for a plugin that is not running,
// whose actions are then not checked).
func CheckPluginActions(set *rules.Set, manifest func(string) (*plugins.Manifest, bool)) hcl.Diagnostics {
	var diags hcl.Diagnostics
	report := func(r hcl.Range, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &r, Summary: fmt.Sprintf(format, args...)})
	}
	for _, rule := range set.Rules {
		for _, a := range rule.Actions {
			if a.Kind != rules.KindPlugin {
				continue
			}
			m, ok := manifest(a.Plugin)
			if !ok {
				continue
			}
			i := slices.IndexFunc(m.Actions, func(x plugins.Action) bool { return x.Name == a.PluginAction })
			if i < 0 {
				var names []string
				for _, x := range m.Actions {
					names = append(names, x.Name)
				}
				report(a.Range, "plugin %s has no action %q%s", a.Plugin, a.PluginAction, suggest(a.PluginAction, names))
				continue
			}
			checkEntity(rule, a, m.Actions[i], report)
			checkArgs(a, m.Actions[i], report)
		}
	}
	return diags
}

// checkEntity checks that an action which works on records of some
// entities only (its manifest's Entities) is called by a rule about a
// record of one of them: the rule's entity (of its on events, the subject
// of a typed plugin event, or for_each). A rule on an event that carries no
// record, or on a schedule without for_each, cannot call it.
func checkEntity(rule *rules.Rule, a *rules.Action, spec plugins.Action, report func(hcl.Range, string, ...any)) {
	if len(spec.Entities) == 0 || slices.Contains(spec.Entities, rule.Entity) {
		return
	}
	on := strings.Join(spec.Entities, ", ")
	switch {
	case rule.Entity != "":
		report(a.Range, "%s.%s works on a record of %s, not of %s (rule %q is about %s records)",
			a.Plugin, a.PluginAction, on, rule.Entity, rule.Name, rule.Entity)
	case len(rule.On) > 0:
		report(a.Range, "%s.%s works on a record of %s, but rule %q is on %s, which carries no record",
			a.Plugin, a.PluginAction, on, rule.Name, rule.On[0])
	default:
		report(a.Range, "%s.%s works on a record of %s, but rule %q runs for no record (it has no for_each)",
			a.Plugin, a.PluginAction, on, rule.Name)
	}
}

func checkArgs(a *rules.Action, spec plugins.Action, report func(hcl.Range, string, ...any)) {
	declared := map[string]plugins.Arg{}
	var names []string
	for _, arg := range spec.Args {
		declared[arg.Name] = arg
		names = append(names, arg.Name)
		if _, given := a.Args[arg.Name]; arg.Required && !given {
			report(a.Range, "%s.%s needs the argument %q", a.Plugin, a.PluginAction, arg.Name)
		}
	}
	given := make([]string, 0, len(a.Args))
	for name := range a.Args {
		given = append(given, name)
	}
	sort.Strings(given)
	for _, name := range given {
		p := a.Args[name]
		arg, ok := declared[name]
		if !ok {
			report(p.Range, "%s.%s has no argument %q%s", a.Plugin, a.PluginAction, name, suggest(name, names))
			continue
		}
		if want := exprTypes[arg.Type]; want != nil && p.Type() != "any" && !slices.Contains(want, p.Type()) {
			report(p.Range, "%s: %s.%s expects %s, got %s", name, a.Plugin, a.PluginAction, arg.Type, p.Type())
		}
	}
}

// exprTypes are the expression types that suit each manifest argument type.
var exprTypes = map[string][]string{
	config.TypeString: {"string"}, config.TypeText: {"string"}, config.TypeEnum: {"string"},
	config.TypeEmail: {"string"}, config.TypePhone: {"string"}, config.TypeURL: {"string"},
	config.TypeRef: {"string"}, config.TypeUser: {"string"}, config.TypeFile: {"string"},
	config.TypeInt: {"int"}, config.TypeDecimal: {"int", "float"}, config.TypeMoney: {"money", "map"},
	config.TypeBool: {"bool"}, config.TypeDate: {"time", "string"}, config.TypeDateTime: {"time", "string"},
	"object": {"map"},
}

func suggest(given string, names []string) string {
	return config.DidYouMean(given, names)
}
