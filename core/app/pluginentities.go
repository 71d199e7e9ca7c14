package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/schema"
	"github.com/hashicorp/hcl/v2"
)

// WithPluginEntities adds to a loaded configuration what its plugins
// declare that rules and the schema need before the plugins run: the
// entities their blocks contribute (`entities = [...]`), so that the schema
// built from it has them (their records have the API, history and rules of
// any other), and, when a rule is on an event that is neither a record's
// nor a first-party plugin's, the events of every third-party plugin
// (Config.Events, with Config.PluginEventsKnown set), so that the rules on
// them are type-checked against their payload and subject, and an event no
// plugin declares is an error. It starts those plugins against a throwaway
// in-memory store (as CheckPlugins does) and reads their manifests.
//
// It reports, at the plugin's block, a plugin that does not start, a
// declared entity its manifest does not describe, a field type unknown to
// config.FieldTypes, and (as a warning) a manifest entity the block does
// not declare. The configuration is returned unchanged when there is
// nothing to add; otherwise a copy with the entities and events appended.
func WithPluginEntities(ctx context.Context, cfg *config.Config) (*config.Config, hcl.Diagnostics) {
	var declaring, thirdParty []*config.Plugin
	for _, p := range cfg.Plugins {
		if len(p.Entities) > 0 {
			declaring = append(declaring, p)
		}
		if p.Path != "" {
			thirdParty = append(thirdParty, p)
		}
	}
	// Third-party plugins start only when a rule may be on one of their
	// events: a check of a configuration without such rules starts no
	// more processes than before.
	needEvents := len(thirdParty) > 0 && namesUnknownEvent(cfg)
	start := slices.Clone(declaring)
	if needEvents {
		for _, p := range thirdParty {
			if !slices.Contains(start, p) {
				start = append(start, p)
			}
		}
	}
	if len(start) == 0 {
		return cfg, nil
	}
	// The throwaway schema has a field-less stand-in for every contributed
	// entity, so that the configuration's ref fields to them resolve.
	stub := *cfg
	stub.Entities = slices.Clone(cfg.Entities)
	for _, p := range declaring {
		for _, n := range p.Entities {
			if stub.Entity(n) == nil { // else an entity block extends it: it stands in
				stub.Entities = append(stub.Entities, &config.Entity{Name: n, Label: entityLabel(n), Range: p.Range})
			}
		}
	}
	sch, err := schema.New(&stub)
	if err != nil {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: fmt.Sprintf("plugin entities: %v", err)}}
	}
	h, stop, diags := startForCheck(ctx, start, sch)
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
		for _, e := range ents {
			i := slices.IndexFunc(out.Entities, func(x *config.Entity) bool { return x.Name == e.Name && x.Extends == p.Name })
			if i < 0 {
				out.Entities = append(out.Entities, e)
				continue
			}
			merged, ds := extendContributed(e, out.Entities[i])
			diags = append(diags, ds...)
			out.Entities[i] = merged
		}
	}
	if needEvents {
		out.Events, out.PluginEventsKnown = slices.Clone(cfg.Events), true
		for _, p := range thirdParty {
			m, ok := h.Manifest(p.Name)
			if !ok {
				out.PluginEventsKnown = false // did not start: startForCheck said so
				continue
			}
			for _, e := range pluginEvents(p.Name, m) {
				if out.Event(e.Name) == nil {
					out.Events = append(out.Events, e)
				}
			}
		}
	}
	return &out, diags
}

// extendContributed is a plugin's contributed entity with the fields of the
// entity block that extends it after its own, and the manifest's labels
// with the block's over them, language by language; a block field that
// repeats a manifest field is an error at the field.
func extendContributed(e, ext *config.Entity) (*config.Entity, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := *e
	out.Fields = slices.Clone(e.Fields)
	out.Extends, out.Range = ext.Extends, ext.Range
	if len(ext.Labels) > 0 {
		out.Labels = maps.Clone(e.Labels)
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		maps.Copy(out.Labels, ext.Labels)
	}
	for _, f := range ext.Fields {
		if out.Field(f.Name) != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: f.Range.Ptr(),
				Summary: fmt.Sprintf("entity %q: field %q comes from plugin %s; an entity block may add fields to it, not repeat one", e.Name, f.Name, ext.Extends)})
			continue
		}
		out.Fields = append(out.Fields, f)
	}
	return &out, diags
}

// namesUnknownEvent reports whether a rule of cfg is on an event that is
// neither a record's (of an entity of the configuration or one a plugin
// block declares) nor among cfg.Events: maybe a third-party plugin's.
func namesUnknownEvent(cfg *config.Config) bool {
	for _, r := range cfg.Rules {
		if r == nil {
			continue
		}
		for _, ev := range r.On {
			prefix, _, ok := strings.Cut(ev, ".")
			if !ok || cfg.Entity(prefix) != nil || cfg.Event(ev) != nil ||
				slices.ContainsFunc(cfg.Plugins, func(p *config.Plugin) bool { return slices.Contains(p.Entities, prefix) }) {
				continue
			}
			return true
		}
	}
	return false
}

// keepPluginEvents adds to cfg, being reloaded, the third-party events of
// the running configuration whose plugins cfg still declares, unchanged;
// cfg knows every plugin event when the running one did and cfg declares
// no third-party plugin it did not run.
func keepPluginEvents(cfg, running *config.Config) {
	same := func(p *config.Plugin) bool {
		q := running.Plugin(p.Name)
		return q != nil && q.Path == p.Path && q.SHA256 == p.SHA256
	}
	cfg.Events = slices.Clone(cfg.Events)
	cfg.PluginEventsKnown = running.PluginEventsKnown
	for _, p := range cfg.Plugins {
		if p.Path != "" && !same(p) {
			cfg.PluginEventsKnown = false
		}
	}
	for _, e := range running.Events {
		if p := cfg.Plugin(e.Plugin); p != nil && p.Path != "" && same(p) && cfg.Event(e.Name) == nil {
			cfg.Events = append(cfg.Events, e)
		}
	}
}

// manifestEvents sets the events of cfg's third-party plugins, being
// reloaded, from manifest: the manifests they will have once the reload's
// plugin change is applied (plugins.Change.Manifest). cfg then knows every
// plugin event (PluginEventsKnown), so that a rule on a typed event is
// type-checked and an event no plugin declares is an error, whether or not
// the running configuration had read the manifests. A plugin with no
// manifest (it did not start) keeps the events keepPluginEvents kept, and
// cfg knows every event only if keepPluginEvents said so.
func manifestEvents(cfg *config.Config, manifest func(string) (*plugins.Manifest, bool)) {
	read := map[string]*plugins.Manifest{}
	known := true
	for _, p := range cfg.Plugins {
		if p.Path == "" {
			continue
		}
		if m, ok := manifest(p.Name); ok {
			read[p.Name] = m
		} else {
			known = known && cfg.PluginEventsKnown
		}
	}
	events := slices.DeleteFunc(slices.Clone(cfg.Events), func(e *config.PluginEvent) bool { return read[e.Plugin] != nil })
	for _, p := range cfg.Plugins {
		if m := read[p.Name]; m != nil {
			for _, e := range pluginEvents(p.Name, m) {
				if !slices.ContainsFunc(events, func(x *config.PluginEvent) bool { return x.Name == e.Name }) {
					events = append(events, e)
				}
			}
		}
	}
	cfg.Events, cfg.PluginEventsKnown = events, known
}

// pluginEvents are the events plugin name's manifest declares, typed (with
// their payload and subject) or only listed in emits.
func pluginEvents(name string, m *plugins.Manifest) []*config.PluginEvent {
	var out []*config.PluginEvent
	for _, e := range m.Events {
		ev := &config.PluginEvent{Name: e.Name, Plugin: name, Typed: true, Subject: e.Subject}
		for _, a := range e.Payload {
			ev.Payload = append(ev.Payload, &config.Field{Name: a.Name, Label: a.Name, Type: a.Type, Required: a.Required,
				Values: slices.Clone(a.Values), To: a.To})
		}
		out = append(out, ev)
	}
	for _, e := range m.Emits {
		if m.Event(e) == nil {
			out = append(out, &config.PluginEvent{Name: e, Plugin: name})
		}
	}
	return out
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
		e := &config.Entity{Name: me.Name, Label: me.Label, Labels: maps.Clone(me.Labels), Plugin: p.Name, Locked: me.Locked, Range: r}
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
				Name: mf.Name, Label: mf.Label, Labels: maps.Clone(mf.Labels), Type: mf.Type, Required: mf.Required, Unique: mf.Unique,
				Index: mf.Index, Values: slices.Clone(mf.Values), To: mf.To, Search: mf.Search, Range: r,
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
