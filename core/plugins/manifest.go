package plugins

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// Manifest is what a running plugin declared about itself at start-up, in
// the form the API shows (`GET /api/v1/plugins/{plugin}`) and the rules
// compiler checks plugin actions against.
type Manifest struct {
	Name            string     `json:"name"`
	Version         string     `json:"version"`
	ProtocolVersion int        `json:"protocol_version"`
	Description     string     `json:"description,omitempty"`
	Actions         []Action   `json:"actions"`
	Subscriptions   []string   `json:"subscriptions"`
	Emits           []string   `json:"emits"`
	Entities        []Entity   `json:"entities"`
	Webhooks        []Webhook  `json:"webhooks"`
	UIActions       []UIAction `json:"ui_actions"`
	// Events are the typed declarations of the events the plugin emits.
	Events []EventSpec `json:"events,omitempty"`
}

// EventSpec is a typed declaration of an event a plugin emits: the fields
// of its payload and the entity of its subject record, if any.
type EventSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Payload     []Arg  `json:"payload"`
	Subject     string `json:"subject,omitempty"`
}

// Event returns the typed declaration of the event name, or nil.
func (m *Manifest) Event(name string) *EventSpec {
	for i := range m.Events {
		if m.Events[i].Name == name {
			return &m.Events[i]
		}
	}
	return nil
}

// Action is a plugin action: `PLUGIN.NAME` in rules.
type Action struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Args        []Arg    `json:"args"`
	Entities    []string `json:"entities,omitempty"`
	// Timeout is how long the host waits for the action's answer; 0 for
	// the host's call timeout.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Arg is one argument of an action; Type is an HCL field type.
type Arg struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Required    bool     `json:"required"`
	Description string   `json:"description,omitempty"`
	Values      []string `json:"values,omitempty"`
	To          string   `json:"to,omitempty"`
	// Label and Labels name the argument in the UI (Name when empty).
	Label  string            `json:"label,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// Items, of an object argument, are the fields of each item of its
	// list ({"items": [...]}).
	Items []Arg `json:"items,omitempty"`
}

// argsOf is the arguments of the protocol in the host's terms.
func argsOf(args []*crmv1.Argument) []Arg {
	out := []Arg{}
	for _, g := range args {
		a := Arg{Name: g.GetName(), Type: g.GetType(), Required: g.GetRequired(),
			Description: g.GetDescription(), Values: g.GetValues(), To: g.GetTo(), Label: g.GetLabel(), Labels: g.GetLabels()}
		if len(g.GetItems()) > 0 {
			a.Items = argsOf(g.GetItems())
		}
		out = append(out, a)
	}
	return out
}

// Entity is an entity the plugin contributes.
type Entity struct {
	Name   string            `json:"name"`
	Label  string            `json:"label,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Fields []Field           `json:"fields"`
	// Locked is the filter of the records only the plugin may change.
	Locked string `json:"locked,omitempty"`
}

// Field is a field of a contributed entity, with the HCL field types.
type Field struct {
	Name     string            `json:"name"`
	Label    string            `json:"label,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Type     string            `json:"type"`
	Required bool              `json:"required,omitempty"`
	Unique   bool              `json:"unique,omitempty"`
	Index    bool              `json:"index,omitempty"`
	Values   []string          `json:"values,omitempty"`
	To       string            `json:"to,omitempty"`
	// Search: the global search finds records by the field.
	Search bool `json:"search,omitempty"`
}

// Webhook is a route under /hooks/{plugin}/.
type Webhook struct {
	Method      string `json:"method,omitempty"`
	Path        string `json:"path"`
	Description string `json:"description,omitempty"`
}

// UIAction is a button in the web UI that calls an action: on each record
// of an entity (Scope "record"), or on the entity's list page, calling the
// action with no record (Scope "list").
type UIAction struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
	Label  string `json:"label"`
	// Labels are the button's label per language code.
	Labels map[string]string `json:"labels,omitempty"`
	// Scope is "record" or "list"; a manifest's empty scope is "record".
	Scope string `json:"scope"`
	// Args, when set, are the arguments the button's dialog asks for.
	Args []string `json:"args,omitempty"`
}

// Action returns the action with the given name, or nil.
func (m *Manifest) Action(name string) *Action {
	for i := range m.Actions {
		if m.Actions[i].Name == name {
			return &m.Actions[i]
		}
	}
	return nil
}

// manifestFromProto checks a manifest a plugin sent for the protocol
// version it was negotiated with, and converts it.
func manifestFromProto(pm *crmv1.Manifest, negotiated int) (*Manifest, error) {
	if pm == nil {
		return nil, fmt.Errorf("%w: the plugin sent no manifest", ErrManifest)
	}
	if v := int(pm.GetProtocolVersion()); v != negotiated {
		return nil, fmt.Errorf("%w: its manifest says protocol version %d, but it was started with protocol version %d (this crm speaks %s); rebuild the plugin with an SDK for protocol %d",
			ErrProtocol, v, negotiated, supportedVersions(), crmv1.ProtocolVersion)
	}
	if err := crmv1.ValidateManifest(pm); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	m := &Manifest{
		Name: pm.GetName(), Version: pm.GetVersion(), ProtocolVersion: int(pm.GetProtocolVersion()),
		Description: pm.GetDescription(), Subscriptions: pm.GetSubscriptions(), Emits: crmv1.EmittedEvents(pm),
	}
	for _, a := range pm.GetActions() {
		act := Action{Name: a.GetName(), Description: a.GetDescription(), Entities: a.GetEntities(), Args: argsOf(a.GetArguments()),
			Timeout: time.Duration(a.GetTimeoutMs()) * time.Millisecond}
		m.Actions = append(m.Actions, act)
	}
	for _, e := range pm.GetEntities() {
		ent := Entity{Name: e.GetName(), Label: e.GetLabel(), Labels: e.GetLabels(), Fields: []Field{}, Locked: e.GetLocked()}
		for _, f := range e.GetFields() {
			ent.Fields = append(ent.Fields, Field{Name: f.GetName(), Label: f.GetLabel(), Labels: f.GetLabels(), Type: f.GetType(),
				Required: f.GetRequired(), Unique: f.GetUnique(), Index: f.GetIndex(), Values: f.GetValues(), To: f.GetTo(), Search: f.GetSearch()})
		}
		m.Entities = append(m.Entities, ent)
	}
	for _, w := range pm.GetWebhooks() {
		m.Webhooks = append(m.Webhooks, Webhook{Method: w.GetMethod(), Path: w.GetPath(), Description: w.GetDescription()})
	}
	for _, u := range pm.GetUiActions() {
		scope := u.GetScope()
		if scope == "" {
			scope = crmv1.UIScopeRecord
		}
		m.UIActions = append(m.UIActions, UIAction{Entity: u.GetEntity(), Action: u.GetAction(), Label: u.GetLabel(), Labels: u.GetLabels(), Scope: scope, Args: u.GetArguments()})
	}
	for _, e := range pm.GetEvents() {
		spec := EventSpec{Name: e.GetName(), Description: e.GetDescription(), Subject: e.GetSubject(), Payload: argsOf(e.GetPayload())}
		m.Events = append(m.Events, spec)
	}
	return m, nil
}

// checkEvents checks a manifest's event declarations against the schema
// the plugin runs with: a subject must be an entity of it, and an event's
// prefix may be an entity only when the plugin contributes it
// ("invoice.overdue" from accounting), never with a record event's name
// (those come from writes).
func checkEvents(m *Manifest, sch *schema.Schema) error {
	if sch == nil {
		return nil
	}
	var errs []error
	for _, e := range m.Events {
		prefix, what, _ := strings.Cut(e.Name, ".")
		own := slices.ContainsFunc(m.Entities, func(me Entity) bool { return me.Name == prefix })
		if sch.Entity(prefix) != nil && (!own || slices.Contains(store.RecordEventNames, what)) {
			errs = append(errs, fmt.Errorf("event %q: %q is an entity, whose record events come from writes; a plugin may name an event after an entity it contributes only, and not %s", e.Name, prefix, strings.Join(store.RecordEventNames, ", ")))
		}
		if e.Subject != "" && sch.Entity(e.Subject) == nil {
			errs = append(errs, fmt.Errorf("event %q: subject %q is not an entity of this crm%s", e.Name, e.Subject, config.DidYouMean(e.Subject, sch.EntityNames())))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrManifest, errors.Join(errs...))
	}
	return nil
}
