package plugins

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"google.golang.org/grpc/codes"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// checkEmit checks an emit against the event's typed declaration in the
// plugin's manifest, if it has one: every payload field declared, of its
// type, the required ones present; and, for an event with a subject
// entity, an existing record of it named in req.record that the plugin
// may read. A mismatch is an InvalidArgument (or NotFound) naming the
// field, so the plugin's caller sees a 4xx, and nothing is emitted.
func (s *hostService) checkEmit(ctx context.Context, spec *EventSpec, payload map[string]any, ref *crmv1.RecordRef) error {
	if spec == nil {
		return nil // only listed in emits: untyped
	}
	ent, err := payloadEntity(s.schema(), spec)
	if err != nil {
		return crmv1.Error(codes.FailedPrecondition, "invalid_manifest", err.Error(), "")
	}
	invalid := func(field, format string, args ...any) error {
		return crmv1.Error(codes.InvalidArgument, "invalid", fmt.Sprintf("emit %s: ", spec.Name)+fmt.Sprintf(format, args...), field)
	}
	keys := make([]string, 0, len(payload))
	for k := range payload {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := ent.Field(k)
		if f == nil {
			return invalid("payload."+k, "payload field %q is not declared in the manifest%s", k, config.DidYouMean(k, ent.FieldNames()))
		}
		if _, err := f.NormalizeValue(payload[k]); err != nil {
			var fe *schema.FieldError
			msg := err.Error()
			if errors.As(err, &fe) {
				msg = fe.Message
			}
			return invalid("payload."+k, "payload field %q: %s", k, msg)
		}
	}
	for _, f := range ent.Fields {
		if f.Required && payload[f.Name] == nil {
			return invalid("payload."+f.Name, "payload field %q is required", f.Name)
		}
	}
	if spec.Subject == "" {
		return nil
	}
	switch {
	case ref.GetId() == "":
		return invalid("record", "the event is about a %s record: name it (sdk.About(%q, id))", spec.Subject, spec.Subject)
	case ref.GetEntity() != "" && ref.GetEntity() != spec.Subject:
		return invalid("record.entity", "the event is about a %s record, not a %s one", spec.Subject, ref.GetEntity())
	case !s.m.grants.CanRead(spec.Subject):
		return s.denied("emit", spec.Subject, fmt.Sprintf("plugin %q emits %s about %s records but may not read them: add %q to read in its plugin block", s.m.cfg.Name, spec.Name, spec.Subject, spec.Subject))
	}
	if _, err := s.store().Get(ctx, spec.Subject, ref.GetId()); errors.Is(err, store.ErrNotFound) {
		return crmv1.Error(codes.NotFound, "not_found", fmt.Sprintf("emit %s: no %s record %q", spec.Name, spec.Subject, ref.GetId()), "record")
	} else if err != nil {
		return s.fail("emit "+spec.Name, err, nil)
	}
	return nil
}

// payloadEntity is an event's payload as an entity of its own, so that its
// values are checked as a record's are, with the locale of sch.
func payloadEntity(sch *schema.Schema, spec *EventSpec) (*schema.Entity, error) {
	pc := &config.Config{Locale: config.Locale{Currency: sch.Currency(), Region: sch.Region()}}
	e := &config.Entity{Name: spec.Name}
	pc.Entities = []*config.Entity{e}
	for _, a := range spec.Payload {
		e.Fields = append(e.Fields, &config.Field{Name: a.Name, Type: a.Type, Required: a.Required, Values: a.Values, To: a.To})
		if a.Type == config.TypeRef && !slices.ContainsFunc(pc.Entities, func(x *config.Entity) bool { return x.Name == a.To }) {
			pc.Entities = append(pc.Entities, &config.Entity{Name: a.To})
		}
	}
	ps, err := schema.New(pc)
	if err != nil {
		return nil, fmt.Errorf("the payload of event %q: %w", spec.Name, err)
	}
	return ps.Entity(spec.Name), nil
}
