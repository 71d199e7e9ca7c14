package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/schema"
	"github.com/hashicorp/hcl/v2"
)

// WithPluginEntities adds to a loaded configuration the entities its
// plugin blocks contribute (`entities = [...]`), so that the schema built
// from it has them: their records have the API, history and rules of any
// other. It starts those plugins against a throwaway in-memory store (as
// CheckPlugins does) and builds each entity from the plugin's manifest.
//
// It reports, at the plugin's block, a plugin that does not start, a
// declared entity its manifest does not describe, a field type unknown to
// config.FieldTypes, and (as a warning) a manifest entity the block does
// not declare. The configuration is returned unchanged when no plugin
// contributes entities; otherwise a copy with the entities appended.
func WithPluginEntities(ctx context.Context, cfg *config.Config) (*config.Config, hcl.Diagnostics) {
	var declaring []*config.Plugin
	for _, p := range cfg.Plugins {
		if len(p.Entities) > 0 {
			declaring = append(declaring, p)
		}
	}
	if len(declaring) == 0 {
		return cfg, nil
	}
	// The throwaway schema has a field-less stand-in for every contributed
	// entity, so that the configuration's ref fields to them resolve.
	stub := *cfg
	stub.Entities = slices.Clone(cfg.Entities)
	for _, p := range declaring {
		for _, n := range p.Entities {
			stub.Entities = append(stub.Entities, &config.Entity{Name: n, Label: entityLabel(n), Range: p.Range})
		}
	}
	sch, err := schema.New(&stub)
	if err != nil {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("plugin entities: %v", err)}}
	}
	h, stop, diags := startForCheck(ctx, declaring, sch)
	if h == nil {
		return cfg, diags
	}
	defer stop()

	out := *cfg
	out.Entities = slices.Clone(cfg.Entities)
	for _, p := range declaring {
		m, ok := h.Manifest(p.Name)
		if !ok {
			continue // did not start: startForCheck said so
		}
		ents, ds := contributedEntities(p, m)
		diags = append(diags, ds...)
		out.Entities = append(out.Entities, ents...)
	}
	return &out, diags
}

// contributedEntities builds the config entities that plugin block p
// declares from the plugin's manifest m.
func contributedEntities(p *config.Plugin, m *plugins.Manifest) ([]*config.Entity, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	r := p.Range
	report := func(sev hcl.DiagnosticSeverity, detail, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Subject: r.Ptr(), Summary: fmt.Sprintf(format, args...), Detail: detail})
	}
	names := make([]string, 0, len(m.Entities))
	for _, me := range m.Entities {
		names = append(names, me.Name)
	}
	var out []*config.Entity
	for _, n := range p.Entities {
		i := slices.IndexFunc(m.Entities, func(e plugins.Entity) bool { return e.Name == n })
		if i < 0 {
			detail := "its manifest contributes no entities"
			if len(names) > 0 {
				detail = "its manifest contributes: " + strings.Join(names, ", ")
				if s := config.Suggest(n, names); s != "" {
					detail = fmt.Sprintf("did you mean %q?", s)
				}
			}
			report(hcl.DiagError, detail, "plugin %s declares entity %q, but its manifest does not contribute it", p.Name, n)
			continue
		}
		me := m.Entities[i]
		e := &config.Entity{Name: me.Name, Label: me.Label, Range: r}
		if e.Label == "" {
			e.Label = entityLabel(me.Name)
		}
		ok := true
		for _, mf := range me.Fields {
			if !slices.Contains(config.FieldTypes, mf.Type) {
				report(hcl.DiagError, "", "plugin %s: field %q of entity %q has unknown type %q", p.Name, mf.Name, me.Name, mf.Type)
				ok = false
				continue
			}
			f := &config.Field{
				Name: mf.Name, Label: mf.Label, Type: mf.Type, Required: mf.Required, Unique: mf.Unique,
				Index: mf.Index, Values: slices.Clone(mf.Values), To: mf.To, Range: r,
			}
			if f.Label == "" {
				f.Label = entityLabel(mf.Name)
			}
			e.Fields = append(e.Fields, f)
		}
		if ok {
			out = append(out, e)
		}
	}
	for _, me := range m.Entities {
		if !slices.Contains(p.Entities, me.Name) {
			report(hcl.DiagWarning, fmt.Sprintf("add it to entities in the plugin block to have its records: entities = [%q]", me.Name),
				"plugin %s contributes entity %q, which its block does not declare", p.Name, me.Name)
		}
	}
	return out, diags
}

// entityLabel is the default label of a name, as the config loader gives
// it: the first letter upper-cased, underscores made spaces.
func entityLabel(name string) string {
	r := []rune(strings.ReplaceAll(name, "_", " "))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}
