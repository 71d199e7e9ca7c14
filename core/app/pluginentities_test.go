package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/hashicorp/hcl/v2"
)

// TestContributedEntities checks how a plugin block's entities are built
// from its manifest, and what is reported when they disagree.
func TestContributedEntities(t *testing.T) {
	m := &plugins.Manifest{Entities: []plugins.Entity{
		{Name: "thing", Fields: []plugins.Field{
			{Name: "title", Type: config.TypeString, Required: true, Unique: true},
			{Name: "size", Type: config.TypeEnum, Values: []string{"s", "m"}, Index: true},
			{Name: "buyer", Type: config.TypeRef, To: "contact"},
		}},
		{Name: "gadget", Label: "Gadget", Fields: []plugins.Field{{Name: "v", Type: "vector"}}},
		{Name: "extra"},
	}}
	r := hcl.Range{Filename: "p.hcl", Start: hcl.Pos{Line: 3, Column: 1}}
	p := &config.Plugin{Name: "p", Entities: []string{"thing", "gadget", "thnig"}, Range: r}
	ents, diags := contributedEntities(p, m)
	if len(ents) != 1 || ents[0].Name != "thing" || ents[0].Label != "Thing" || ents[0].Builtin || ents[0].Range != r {
		t.Fatalf("entities: %+v", ents)
	}
	f := ents[0].Fields
	if len(f) != 3 || !f[0].Required || !f[0].Unique || !slices.Equal(f[1].Values, []string{"s", "m"}) || !f[1].Index || f[2].To != "contact" || f[1].Label != "Size" {
		t.Fatalf("fields: %+v %+v %+v", f[0], f[1], f[2])
	}
	var got []string
	for _, d := range diags {
		got = append(got, config.FormatDiagnostic(d))
	}
	want := []string{
		`p.hcl:3:1: error: plugin p: field "v" of entity "gadget" has unknown type "vector"`,
		`p.hcl:3:1: error: plugin p declares entity "thnig", but its manifest does not contribute it; did you mean "thing"?`,
		`p.hcl:3:1: warning: plugin p contributes entity "extra", which its block does not declare; add it to entities in the plugin block to have its records: entities = ["extra"]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestWithPluginEntitiesNone leaves a configuration without contributed
// entities as it is, starting nothing.
func TestWithPluginEntitiesNone(t *testing.T) {
	cfg := &config.Config{Plugins: []*config.Plugin{{Name: "accounting"}}}
	out, diags := WithPluginEntities(t.Context(), cfg)
	if out != cfg || len(diags) > 0 {
		t.Fatalf("got %p %v", out, diags)
	}
}

// TestKeepPluginEvents: a reload keeps the third-party events read at
// start-up for the plugins it still runs unchanged, and knows every plugin
// event only when it declares no third-party plugin the server did not run.
func TestKeepPluginEvents(t *testing.T) {
	serviced := &config.PluginEvent{Name: "warranty.expired", Plugin: "warranty", Typed: true, Subject: "contact"}
	called := &config.PluginEvent{Name: "call.missed", Plugin: "calltracking"}
	running := &config.Config{
		Plugins:           []*config.Plugin{{Name: "warranty", Path: "/p/w", SHA256: "aa"}},
		Events:            []*config.PluginEvent{called, serviced},
		PluginEventsKnown: true,
	}
	fresh := func(plugins ...*config.Plugin) *config.Config {
		return &config.Config{Plugins: plugins, Events: []*config.PluginEvent{called}}
	}
	got := keepPluginEntities(fresh(&config.Plugin{Name: "warranty", Path: "/p/w", SHA256: "aa"}), running)
	if !got.PluginEventsKnown || got.Event("warranty.expired") != serviced || len(got.Events) != 2 {
		t.Errorf("same plugin: known %v, events %v", got.PluginEventsKnown, got.Events)
	}
	got = keepPluginEntities(fresh(&config.Plugin{Name: "warranty", Path: "/p/w", SHA256: "bb"}), running)
	if got.PluginEventsKnown || got.Event("warranty.expired") != nil {
		t.Errorf("another build of the plugin: known %v, events %v", got.PluginEventsKnown, got.Events)
	}
	got = keepPluginEntities(fresh(), running)
	if !got.PluginEventsKnown || got.Event("warranty.expired") != nil || len(got.Events) != 1 {
		t.Errorf("plugin removed: known %v, events %v", got.PluginEventsKnown, got.Events)
	}
}

// TestExtendContributed: an entity block beside a plugin block adds its
// fields after the manifest's, and may not repeat one.
func TestExtendContributed(t *testing.T) {
	r := hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 2, Column: 3}}
	contributed := &config.Entity{Name: "document", Label: "Document", Fields: []*config.Field{
		{Name: "name", Type: config.TypeString}, {Name: "deal", Type: config.TypeRef, To: "deal"},
	}}
	ext := &config.Entity{Name: "document", Extends: "doctemplates", Labels: map[string]string{"hy": "Փաստաթուղթ"}, Fields: []*config.Field{
		{Name: "vehicle", Type: config.TypeRef, To: "vehicle"}, {Name: "deal", Type: config.TypeRef, To: "deal", Range: r},
	}}
	got, diags := extendContributed(contributed, ext)
	var names []string
	for _, f := range got.Fields {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"name", "deal", "vehicle"}) || got.Label != "Document" || got.Labels["hy"] != "Փաստաթուղթ" || len(contributed.Fields) != 2 {
		t.Errorf("merged: %v %+v", names, got)
	}
	if len(diags) != 1 || !strings.Contains(config.FormatDiagnostic(diags[0]), `e.hcl:2:3: error: entity "document": field "deal" comes from plugin doctemplates`) {
		t.Errorf("diagnostics: %v", diags)
	}
}
