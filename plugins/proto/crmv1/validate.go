package crmv1

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// FieldTypes are the field and argument types a manifest may use: the HCL
// field types, by the same names, and "object", a JSON object (for a
// field: one the plugin writes, not indexed, unique or searched; not an
// HCL field type).
var FieldTypes = []string{
	"string", "text", "int", "decimal", "money", "bool", "date", "datetime",
	"enum", "email", "phone", "url", "ref", "user", "file", "object",
}

// ArgTypes are the types an action's argument may have: the field types;
// an "object" argument is a JSON object the host passes on as it is given
// (the plugin checks its contents).
var ArgTypes = slices.Clone(FieldTypes)

// payloadTypes are the types of an event's payload fields and of an
// object argument's item fields: the field
// types but object.
var payloadTypes = slices.DeleteFunc(slices.Clone(FieldTypes), func(t string) bool { return t == "object" })

// SearchTypes are the types of the fields the global search may find
// records by (Field.search), as config.SearchTypes.
var SearchTypes = []string{"string", "text", "email", "phone", "url", "enum"}

// MaxActionTimeoutMs is the longest timeout an action may declare.
const MaxActionTimeoutMs = 10 * 60 * 1000

// UI action scopes: where the button of a UI action is and what the
// action is called with.
const (
	// UIScopeRecord is a button on the page of each record of the entity;
	// the action is called with that record. An empty scope is this one.
	UIScopeRecord = "record"
	// UIScopeList is a button on the entity's list page; the action is
	// called with no record (it makes something new).
	UIScopeList = "list"
)

// ReservedFields are the system fields every record has; a contributed
// entity may not declare them.
var ReservedFields = []string{"id", "entity", "version", "created_at", "updated_at", "created_by", "owner"}

var (
	namePattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	eventPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
)

// webhookMethods are the methods a webhook route may name; "" is any.
var webhookMethods = []string{"", "GET", "POST", "PUT", "PATCH", "DELETE"}

// ValidateManifest checks a manifest's shape: names present, well formed
// and unique, known types, enum values and ref targets given, webhook
// routes and UI actions well formed. It returns every problem found,
// joined, or nil. It does not check the protocol version, nor the
// manifest against a configuration: the host does both.
func ValidateManifest(m *Manifest) error {
	if m == nil {
		return errors.New("no manifest")
	}
	v := &validator{}
	v.name("plugin name", m.GetName())
	if m.GetVersion() == "" {
		v.addf("plugin %q: version is empty", m.GetName())
	}
	actions := map[string]bool{}
	for _, a := range m.GetActions() {
		at := fmt.Sprintf("action %q", a.GetName())
		v.name("action name", a.GetName())
		v.unique(actions, a.GetName(), "action")
		if t := a.GetTimeoutMs(); t < 0 || t > MaxActionTimeoutMs {
			v.addf("%s: timeout_ms %d is not from 0 (the host's default) to %d (10 minutes)", at, t, MaxActionTimeoutMs)
		}
		args := map[string]bool{}
		for _, g := range a.GetArguments() {
			gat := fmt.Sprintf("%s: argument %q", at, g.GetName())
			v.name(at+": argument name", g.GetName())
			v.unique(args, g.GetName(), at+": argument")
			v.typed(gat, ArgTypes, g.GetType(), g.GetValues(), g.GetTo())
			if len(g.GetItems()) > 0 && g.GetType() != "object" {
				v.addf("%s: only an object argument has items", gat)
			}
			items := map[string]bool{}
			for _, it := range g.GetItems() {
				iat := fmt.Sprintf("%s: item field %q", gat, it.GetName())
				v.name(gat+": item field name", it.GetName())
				v.unique(items, it.GetName(), gat+": item field")
				v.typed(iat, payloadTypes, it.GetType(), it.GetValues(), it.GetTo())
				if len(it.GetItems()) > 0 {
					v.addf("%s: an item field has no items", iat)
				}
			}
		}
	}
	for _, ev := range m.GetSubscriptions() {
		v.event("subscription", ev)
	}
	for _, ev := range m.GetEmits() {
		v.event("emitted event", ev)
	}
	entities := map[string]bool{}
	for _, e := range m.GetEntities() {
		entities[e.GetName()] = true
	}
	v.eventSpecs(m.GetEvents(), entities)
	entities = map[string]bool{}
	for _, e := range m.GetEntities() {
		at := fmt.Sprintf("entity %q", e.GetName())
		v.name("entity name", e.GetName())
		v.unique(entities, e.GetName(), "entity")
		fields := map[string]bool{}
		for _, f := range e.GetFields() {
			fat := fmt.Sprintf("%s: field %q", at, f.GetName())
			v.name(at+": field name", f.GetName())
			if slices.Contains(ReservedFields, f.GetName()) {
				v.addf("%s: %q is a system field every record has", at, f.GetName())
			}
			v.unique(fields, f.GetName(), at+": field")
			v.typed(fat, FieldTypes, f.GetType(), f.GetValues(), f.GetTo())
			if f.GetType() == "object" && (f.GetIndex() || f.GetUnique()) {
				v.addf("%s: an object field cannot be indexed or unique", fat)
			}
			if f.GetSearch() && !slices.Contains(SearchTypes, f.GetType()) {
				v.addf("%s: search is for a field of type %s, not %s", fat, strings.Join(SearchTypes, ", "), f.GetType())
			}
		}
	}
	routes := map[string]bool{}
	for _, w := range m.GetWebhooks() {
		if !slices.Contains(webhookMethods, w.GetMethod()) {
			v.addf("webhook %s %s: method must be one of GET, POST, PUT, PATCH, DELETE or empty", w.GetMethod(), w.GetPath())
		}
		if !strings.HasPrefix(w.GetPath(), "/") {
			v.addf("webhook %s %q: path must start with /", w.GetMethod(), w.GetPath())
		}
		v.unique(routes, strings.TrimSpace(w.GetMethod()+" "+w.GetPath()), "webhook")
	}
	for _, u := range m.GetUiActions() {
		if !actions[u.GetAction()] {
			v.addf("ui action %q: the manifest declares no such action", u.GetAction())
		}
		if u.GetEntity() == "" || u.GetLabel() == "" {
			v.addf("ui action %q: entity and label are required", u.GetAction())
		}
		for _, name := range u.GetArguments() {
			found := false
			for _, a := range m.GetActions() {
				if a.GetName() != u.GetAction() {
					continue
				}
				for _, g := range a.GetArguments() {
					found = found || g.GetName() == name
				}
			}
			if !found {
				v.addf("ui action %q on %s: the action has no argument %q", u.GetAction(), u.GetEntity(), name)
			}
		}
		switch u.GetScope() {
		case "", UIScopeRecord:
		case UIScopeList:
			// A list button calls the action with no record; an action
			// that works only on records of some entities would refuse it.
			for _, a := range m.GetActions() {
				if a.GetName() == u.GetAction() && len(a.GetEntities()) > 0 {
					v.addf("ui action %q on the %s list: the action works on a record of %s, but a list button calls it with none; declare it without entities, or use scope %q",
						u.GetAction(), u.GetEntity(), strings.Join(a.GetEntities(), ", "), UIScopeRecord)
				}
			}
		default:
			v.addf("ui action %q: scope %q: want %q (a button on each record's page) or %q (a button on the entity's list)",
				u.GetAction(), u.GetScope(), UIScopeRecord, UIScopeList)
		}
	}
	return errors.Join(v.errs...)
}

// recordEvents are the events of a record's writes: a plugin's event about
// its own entity ("invoice.overdue") may not take one of these names.
var recordEvents = []string{"created", "updated", "deleted", "stage_changed"}

// eventSpecs checks the typed declarations of emitted events: a well
// formed, unique name that is not a record event of one of the plugin's
// entities (those come from writes), payload fields with known types, and
// a well formed subject entity.
func (v *validator) eventSpecs(specs []*EventSpec, entities map[string]bool) {
	seen := map[string]bool{}
	for _, e := range specs {
		at := fmt.Sprintf("event %q", e.GetName())
		v.event("event", e.GetName())
		v.unique(seen, e.GetName(), "event")
		if prefix, what, _ := strings.Cut(e.GetName(), "."); entities[prefix] && slices.Contains(recordEvents, what) {
			v.addf("%s: %q is a record event of the plugin's entity %q, which comes from writes; name the event after something else", at, e.GetName(), prefix)
		}
		if s := e.GetSubject(); s != "" {
			v.name(at+": subject entity", s)
		}
		fields := map[string]bool{}
		for _, f := range e.GetPayload() {
			fat := fmt.Sprintf("%s: payload field %q", at, f.GetName())
			v.name(at+": payload field name", f.GetName())
			v.unique(fields, f.GetName(), at+": payload field")
			v.typed(fat, payloadTypes, f.GetType(), f.GetValues(), f.GetTo())
		}
	}
}

// EmittedEvents are the events a manifest lets its plugin emit: those
// listed in emits and those declared in events, each once.
func EmittedEvents(m *Manifest) []string {
	out := slices.Clone(m.GetEmits())
	for _, e := range m.GetEvents() {
		if !slices.Contains(out, e.GetName()) {
			out = append(out, e.GetName())
		}
	}
	return out
}

type validator struct{ errs []error }

func (v *validator) addf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) name(what, name string) {
	if !namePattern.MatchString(name) {
		v.addf("%s %q: must be lower case letters, digits and _, starting with a letter", what, name)
	}
}

func (v *validator) unique(seen map[string]bool, name, what string) {
	if seen[name] {
		v.addf("%s %q is declared twice", what, name)
	}
	seen[name] = true
}

func (v *validator) event(what, name string) {
	if !eventPattern.MatchString(name) {
		v.addf("%s %q: an event is NAME.EVENT, e.g. \"deal.updated\" or \"call.missed\"", what, name)
	}
}

func (v *validator) typed(at string, known []string, typ string, values []string, to string) {
	switch {
	case !slices.Contains(known, typ):
		v.addf("%s: unknown type %q (one of %s)", at, typ, strings.Join(known, ", "))
	case typ == "enum" && len(values) == 0:
		v.addf("%s: an enum needs values", at)
	case typ == "ref" && to == "":
		v.addf("%s: a ref needs the entity it points to (to)", at)
	}
}
