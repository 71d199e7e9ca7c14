package sdk

import (
	"github.com/crmkit/crm/plugins/proto/crmv1"
	"time"
)

// Field and argument types: the same names as in HCL `type = "..."`.
const (
	TypeString   = "string"
	TypeText     = "text"
	TypeInt      = "int"
	TypeDecimal  = "decimal"
	TypeMoney    = "money" // {"amount": "1500.00", "currency": "AMD"}
	TypeBool     = "bool"
	TypeDate     = "date"     // "2026-03-21"
	TypeDateTime = "datetime" // RFC 3339
	TypeEnum     = "enum"
	TypeEmail    = "email"
	TypePhone    = "phone" // E.164
	TypeURL      = "url"
	TypeRef      = "ref"  // a record's id
	TypeUser     = "user" // a user's id
	TypeFile     = "file" // a stored file's id
	// TypeObject is a JSON object: as an action's argument, passed on as
	// it is given (the plugin checks its contents); as a field of an
	// entity the plugin declares, a structured value the plugin writes
	// (the API and the websocket give it as the object), never indexed,
	// unique, searched or sorted on. Not a type of HCL fields or of event
	// payloads.
	TypeObject = "object"
)

// Manifest is what a plugin declares about itself. The host reads it at
// start-up: the actions rules and users may call, the events delivered to
// the plugin, the entities it adds to the schema, its webhook routes and
// its buttons in the UI.
type Manifest struct {
	// Name is the plugin's name, lower case: "loyalty".
	Name string
	// Version is the plugin's release, e.g. "1.4.0".
	Version     string
	Description string
	Actions     []Action
	// Subscriptions are the events delivered to HandleEvents: record
	// events ("deal.updated") and plugin events ("call.missed").
	Subscriptions []string
	// Emits are the events the plugin may emit with Host.Emit, untyped:
	// rules on them see the payload as an untyped record. Prefer Events.
	Emits     []string
	Entities  []Entity
	Webhooks  []Webhook
	UIActions []UIAction
	// Events declares the events the plugin emits with their payload's
	// fields and subject entity: rules on them are type-checked at load
	// (`event.mileage`, `record.make`) and the host refuses an emit that
	// does not match. A declared event need not be listed in Emits.
	Events []EventSpec
}

// EventSpec declares one event the plugin emits.
type EventSpec struct {
	// Name is the event's full name, PREFIX.EVENT: "warranty.expired".
	// The prefix must not be an entity (record events come from writes).
	Name        string
	Description string
	// Payload are the payload's fields, with the same types as entity
	// fields; Required ones must be present (not null) in every emit.
	// Rules see the payload as `event`: `event.mileage`.
	Payload []Arg
	// Subject is the entity of the record the event is about, if any.
	// Every emit must then name an existing record of it with About, and
	// rules see that record as `record`, with its owner and related().
	Subject string
}

// Action is an action that rules (`action "PLUGIN.NAME" { ... }`) and users
// (a record button, the API) may call.
type Action struct {
	Name        string
	Description string
	Args        []Arg
	// Entities are the entities the action works on a record of; empty
	// for any record, or none.
	Entities []string
	// Timeout is how long the host waits for the action's answer: 0 for
	// its default (10 s), at most MaxActionTimeout. An action that
	// converts documents or waits on a slow system declares more; the
	// call's context carries the deadline.
	Timeout time.Duration
}

// MaxActionTimeout is the longest Action.Timeout.
const MaxActionTimeout = 10 * time.Minute

// Arg is one argument of an action.
type Arg struct {
	Name        string
	Type        string // one of the Type constants
	Required    bool
	Description string
	Values      []string // TypeEnum: the allowed values
	To          string   // TypeRef: the target entity
	// Label is the argument's name in the UI's action dialog, in
	// English; Name when empty. Labels are the label per language code
	// (Localize fills them).
	Label  string
	Labels map[string]string
	// Items, of a TypeObject argument only, make it a list: its value is
	// {"items": [{...}, ...]}, each item an object of these fields (of
	// field types, not TypeObject). The UI asks for it a row per item,
	// each field with its own input, and adds and removes rows.
	Items []Arg
}

// Entity is an entity the plugin adds to the schema: its records are like
// any other (API, history, rules).
type Entity struct {
	Name  string
	Label string
	// Labels are the label per language code ("hy", "fa", ...), shown in
	// the UI of a user of that language; Label is the fallback.
	Labels map[string]string
	Fields []Field
	// Locked, when set, is a filter over the entity's records (the
	// filter language of Query.Filter and the API's ?filter=), e.g.
	// "status != 'draft'": a record it matches may be changed or deleted
	// by this plugin alone (on its own, or acting for a user whose role
	// may write the entity). Anyone else's update or delete (a user over
	// the API, an admin, a rule's set action, another plugin) is refused
	// with a conflict (409, code "locked") that says so, and nothing
	// changes: an issued invoice changes only through the plugin's
	// actions.
	Locked string
}

// Field is one field of a contributed entity.
type Field struct {
	Name  string
	Label string
	// Labels are the label per language code; Label is the fallback.
	Labels   map[string]string
	Type     string // one of the Type constants
	Required bool
	Unique   bool
	Index    bool
	Values   []string // TypeEnum: the allowed values
	To       string   // TypeRef: the target entity
	// Search makes the global search, and the UI's picker of a reference
	// to the entity, find records by this field (an invoice by its
	// number), as an HCL field's search = true: TypeString, TypeText,
	// TypeEmail, TypePhone, TypeURL or TypeEnum.
	Search bool
}

// Webhook is a route under /hooks/{plugin}/: Method "POST", Path
// "/{format}" (net/http ServeMux patterns, without the prefix).
type Webhook struct {
	Method      string
	Path        string
	Description string
}

// UI action scopes: where a UIAction's button is.
const (
	// ScopeRecord is a button on the page of each record of the entity,
	// calling the action with that record (Call.Record). The default.
	ScopeRecord = crmv1.UIScopeRecord
	// ScopeList is a button on the entity's list page, calling the action
	// with no record: for an action that makes something new, such as an
	// upload. The UI asks for the action's arguments in a dialog (a file
	// argument is uploaded first); the action must declare no Entities.
	ScopeList = crmv1.UIScopeList
)

// UIAction puts a button in the web UI that calls Action: on the records
// of Entity (Scope ScopeRecord, or empty), or on Entity's list page
// (ScopeList).
type UIAction struct {
	Entity string
	Action string
	Label  string
	// Labels are the button's label per language code; Label is the
	// fallback.
	Labels map[string]string
	Scope  string
	// Args, when set, are the action's arguments the button's dialog asks
	// for, in order: of an action on several entities, those that make
	// sense on this one (record_payment's allocations on a company, not
	// on an invoice). All of them when empty.
	Args []string
}

// Validate checks the manifest as the host will when it starts the plugin:
// names present and unique, known field and argument types, UI actions
// naming declared actions with a known scope. A plugin's own tests should call it.
func (m Manifest) Validate() error {
	return crmv1.ValidateManifest(m.proto())
}

func (m Manifest) proto() *crmv1.Manifest {
	pm := &crmv1.Manifest{
		Name: m.Name, Version: m.Version, Description: m.Description,
		ProtocolVersion: crmv1.ProtocolVersion,
		Subscriptions:   m.Subscriptions, Emits: m.Emits,
	}
	for _, a := range m.Actions {
		pa := &crmv1.Action{Name: a.Name, Description: a.Description, Entities: a.Entities, TimeoutMs: a.Timeout.Milliseconds()}
		pa.Arguments = protoArgs(a.Args)
		pm.Actions = append(pm.Actions, pa)
	}
	for _, e := range m.Entities {
		pe := &crmv1.Entity{Name: e.Name, Label: e.Label, Labels: e.Labels, Locked: e.Locked}
		for _, f := range e.Fields {
			pe.Fields = append(pe.Fields, &crmv1.Field{
				Name: f.Name, Label: f.Label, Labels: f.Labels, Type: f.Type, Required: f.Required,
				Unique: f.Unique, Index: f.Index, Values: f.Values, To: f.To, Search: f.Search,
			})
		}
		pm.Entities = append(pm.Entities, pe)
	}
	for _, w := range m.Webhooks {
		pm.Webhooks = append(pm.Webhooks, &crmv1.WebhookRoute{Method: w.Method, Path: w.Path, Description: w.Description})
	}
	for _, u := range m.UIActions {
		pm.UiActions = append(pm.UiActions, &crmv1.UIAction{Entity: u.Entity, Action: u.Action, Label: u.Label, Labels: u.Labels, Scope: u.Scope, Arguments: u.Args})
	}
	for _, e := range m.Events {
		pm.Events = append(pm.Events, &crmv1.EventSpec{Name: e.Name, Description: e.Description, Subject: e.Subject,
			Payload: protoArgs(e.Payload)})
	}
	return pm
}

// protoArgs is arguments (of an action, or an event's payload) in the
// protocol's terms.
func protoArgs(args []Arg) []*crmv1.Argument {
	var out []*crmv1.Argument
	for _, g := range args {
		out = append(out, &crmv1.Argument{
			Name: g.Name, Type: g.Type, Required: g.Required, Description: g.Description, Values: g.Values, To: g.To,
			Label: g.Label, Labels: g.Labels, Items: protoArgs(g.Items),
		})
	}
	return out
}
