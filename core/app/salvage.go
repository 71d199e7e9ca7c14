package app

import (
	"fmt"
	"slices"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/hashicorp/hcl/v2"
)

// loadedPart returns the part of a configuration with errors that a schema
// can be built from, and that schema: the entities without the fields the
// schema refuses (an unknown type, a ref to no entity, an empty enum), the
// first of two entities of one name, the pipelines the schema accepts and
// the locale's currency and region when they are valid. The rules are then
// checked against what did load, so that `crm check` shows a rule's
// mistakes in the same run as the entity's. cfg itself is not changed.
func loadedPart(cfg *config.Config) (*config.Config, *schema.Schema) {
	out := *cfg
	if _, err := schema.New(&config.Config{Locale: out.Locale}); err != nil {
		out.Locale.Currency = ""
		if _, err := schema.New(&config.Config{Locale: out.Locale}); err != nil {
			out.Locale.Region = ""
		}
	}
	// Every entity first stands in without fields, so that ref fields to
	// any of them resolve while each entity's fields are tried.
	var stubs []*config.Entity
	for _, e := range cfg.Entities {
		if e != nil && e.Name != "" && !slices.ContainsFunc(stubs, func(s *config.Entity) bool { return s.Name == e.Name }) {
			stubs = append(stubs, &config.Entity{Name: e.Name, Label: e.Label, Builtin: e.Builtin, Range: e.Range})
		}
	}
	builds := func(ents []*config.Entity, pipes []*config.Pipeline) bool {
		try := out
		try.Entities, try.Pipelines = ents, pipes
		_, err := schema.New(&try)
		return err == nil
	}
	out.Entities = slices.Clone(stubs)
	for i, stub := range stubs {
		src := cfg.Entity(stub.Name)
		e := *stub
		if withAll := withFields(stub, src.Fields); builds(replaced(out.Entities, i, withAll), nil) {
			e.Fields = withAll.Fields
		} else {
			for _, f := range src.Fields {
				if f != nil && builds(replaced(out.Entities, i, withFields(stub, append(slices.Clone(e.Fields), f))), nil) {
					e.Fields = append(e.Fields, f)
				}
			}
		}
		out.Entities[i] = &e
	}
	out.Pipelines = nil
	for _, p := range cfg.Pipelines {
		if p != nil && builds(out.Entities, append(slices.Clone(out.Pipelines), p)) {
			out.Pipelines = append(out.Pipelines, p)
		}
	}
	sch, err := schema.New(&out)
	if err != nil { // cannot happen: every part was tried; fall back to none
		out.Entities, out.Pipelines = nil, nil
		sch, _ = schema.New(&out)
	}
	return &out, sch
}

// withFields is a copy of e with the given fields.
func withFields(e *config.Entity, fields []*config.Field) *config.Entity {
	c := *e
	c.Fields = fields
	return &c
}

// replaced is a copy of ents with the i-th replaced by e.
func replaced(ents []*config.Entity, i int, e *config.Entity) []*config.Entity {
	c := slices.Clone(ents)
	c[i] = e
	return c
}

// dedupe drops the diagnostics that repeat an earlier one: the same
// severity and summary at the same place. Loading and compiling sometimes
// find the same mistake (an invalid event, say).
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		at := ""
		if d.Subject != nil {
			at = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		key := fmt.Sprintf("%d\x00%s\x00%s", d.Severity, at, d.Summary)
		if !seen[key] {
			seen[key] = true
			out = append(out, d)
		}
	}
	return out
}
