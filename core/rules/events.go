package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/types"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Plugin events. A plugin event reaches the change feed as an emit
// (store.Emit): its name split into a prefix and an event, the id of the
// record it is about, and its payload. A rule on an event that the
// plugin's manifest declares with a typed payload (config.PluginEvent) is
// checked against that declaration: its expressions see the payload as
// `event` and the subject record, when the event declares a subject
// entity, as `record`. A rule on an untyped event (one only listed in the
// manifest's emits) sees the payload as an untyped `record`, as before.
// Either way the event keeps its full name ("warranty.expired") in runs,
// notifications and webhooks.

// fullEvent is the name of the subject's event as the configuration
// writes it: "deal.created", "warranty.expired", or "schedule".
func (s *subject) fullEvent() string {
	if strings.Contains(s.event, ".") || s.after == nil || s.after.Entity == "" {
		return s.event
	}
	return s.after.Entity + "." + s.event
}

// nameRun gives a run on a plugin event the event's full name, and the
// subject entity (or none) rather than the event's prefix.
func (e *Engine) nameRun(run *Run, rule *Rule, ev *store.Event) {
	if ev.RecordEntity(e.sch) != nil {
		return
	}
	run.Event, run.Entity = ev.Entity+"."+ev.Op, ""
	if rule.Event != nil && rule.Event.Typed {
		run.Entity = rule.Event.Subject
	}
}

// pluginSubject completes the subject of a run on a plugin event: the
// event's full name, its payload and, when the event declares a subject
// entity, the subject record as it is now. A subject record that does not
// exist (any more) fails the run for good: a retry would not find it.
func (e *Engine) pluginSubject(ctx context.Context, rule *Rule, ev *store.Event, sub *subject) (*subject, error) {
	sub.event = ev.Entity + "." + ev.Op
	sub.payload = sub.after.Values
	payload := *sub.after // the feed's decoded event is shared by every rule: change a copy
	payload.Entity = ""   // not a record of an entity
	sub.after = &payload
	spec := rule.Event
	if spec == nil || !spec.Typed || spec.Subject == "" {
		return sub, nil
	}
	rec, err := e.st.Get(ctx, spec.Subject, ev.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Permanent(fmt.Errorf("event %s: its subject %s %q does not exist", sub.event, spec.Subject, ev.ID))
	}
	if err != nil {
		return nil, fmt.Errorf("event %s: read its subject %s %s: %w", sub.event, spec.Subject, ev.ID, err)
	}
	sub.after = rec
	return sub, nil
}

// payloadEntity is the payload of a typed plugin event as an entity of its
// own, named after the event, so that its fields are typed and converted
// as a record's are. A ref field's target must be an entity of sch.
func payloadEntity(cfg *config.Config, sch *schema.Schema, ev *config.PluginEvent) (*schema.Entity, error) {
	pc := &config.Config{Locale: cfg.Locale}
	pc.Entities = []*config.Entity{{Name: ev.Name, Fields: ev.Payload}}
	seen := map[string]bool{ev.Name: true}
	for _, f := range ev.Payload {
		if f.Type == config.TypeRef && !seen[f.To] && sch.Entity(f.To) != nil {
			seen[f.To] = true
			pc.Entities = append(pc.Entities, &config.Entity{Name: f.To})
		}
	}
	ps, err := schema.New(pc)
	if err != nil {
		return nil, fmt.Errorf("the payload of plugin event %q: %w", ev.Name, err)
	}
	return ps.Entity(ev.Name), nil
}

// payloadType is the static type of a typed event's payload: a strict map
// of its fields, so that `event.milage` is an unknown field.
func payloadType(ent *schema.Entity) types.Map {
	m := types.Map{}
	for _, f := range ent.Fields {
		if f.Type == config.TypeMoney {
			m[f.Name] = types.Map{"amount": types.Float64, "currency": types.String, "minor": types.Int64}
			continue
		}
		m[f.Name] = types.TypeOf(f.ExprZero())
	}
	return m
}

// payloadEnv is a payload as expressions see it: each declared field's
// value in its expression form; a field that is absent, null or not of
// its type (the host refuses such an emit) is nil.
func payloadEnv(ent *schema.Entity, payload map[string]any) map[string]any {
	out := make(map[string]any, len(ent.Fields))
	for _, f := range ent.Fields {
		v, ok := payload[f.Name]
		if !ok || v == nil {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			continue
		}
		if c, err := f.Normalize(raw); err == nil && c != nil {
			out[f.Name] = f.ExprValue(c)
		}
	}
	return out
}

// eventHint is the hint for an unknown event: the nearest known event (a
// record's or a plugin's), or the plugins' events.
func (c *compiler) eventHint(ev string) string {
	var names, plugin []string
	for _, e := range c.sch.EntityNames() {
		for _, what := range recordEventNames {
			names = append(names, e+"."+what)
		}
	}
	for _, e := range c.cfg.Events {
		plugin = append(plugin, e.Name)
	}
	if s := config.Suggest(ev, append(names, plugin...)); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(plugin) == 0 {
		return "no plugin declares it; a record's event is ENTITY.created, updated, deleted or stage_changed"
	}
	return "no plugin declares it; the plugins' events: " + strings.Join(plugin, ", ")
}

// payload is a test's payload for a rule on a typed plugin event, its
// values checked against the event's declaration as the host checks an
// emit's: each a declared field of its type, the required ones given.
func (p *preparer) payload() map[string]any {
	t, ev := p.test, p.rule.Event
	if t.Payload == nil {
		return nil
	}
	if ev == nil || !ev.Typed {
		detail := "a rule on a record's event gets the record: give its values in given"
		if ev != nil || (len(p.rule.On) > 0 && p.sch.Entity(p.rule.On[0].Entity) == nil) { // on a plugin event
			detail = "its plugin's manifest declares no payload for the event; the rule sees the event's values as record: give them in given"
		}
		p.report(t.At("payload"), fmt.Sprintf("rule %q is not on a plugin event with a declared payload", p.rule.Name), detail)
		return nil
	}
	ent, err := payloadEntity(p.cfg, p.sch, ev)
	if err != nil {
		p.report(t.At("payload"), err.Error(), "")
		return nil
	}
	in := "the payload of " + ev.Name
	out := map[string]any{}
	for _, tv := range t.Payload.Fields {
		f := ent.Field(tv.Name)
		if f == nil {
			p.report(tv.NameRange, fmt.Sprintf("unknown field %q in %s", tv.Name, in), hint(tv.Name, ent.FieldNames(), "fields"))
			continue
		}
		if _, ok := p.normalize(f, tv, in); ok && tv.Value != nil {
			out[tv.Name] = tv.Value
		}
	}
	for _, f := range ev.Payload {
		if f.Required && t.Payload.Get(f.Name) == nil {
			p.report(t.At("payload"), fmt.Sprintf("%s lacks the required field %q", in, f.Name), fmt.Sprintf("plugin %s always sends it", ev.Plugin))
		}
	}
	return out
}
