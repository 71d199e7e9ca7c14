// Package config holds the HCL configuration of a crm instance: the typed
// structs that a file or a directory of *.hcl files decodes into, the loader
// that decodes and validates them, and the printer for their diagnostics.
//
// Every problem is an hcl.Diagnostic whose Subject points at the offending
// token. The loader's own diagnostics say what is wrong, and where in the
// configuration, in the Summary, and put the hint (a "did you mean", the
// valid names, where a duplicate was first defined) in the Detail;
// FormatDiagnostic joins the two on the line `crm check` prints.
//
// It owns nothing at run time: core packages build their state from a
// *Config. It must not import anything under core/.
package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a whole, validated configuration. Entities includes the built-in
// entities (contact, company, deal, activity, task) merged with the fields
// that the HCL files add to them, followed by the entities the files define.
type Config struct {
	// Files maps each file name read to its source, for printing diagnostics.
	Files map[string]*hcl.File

	Server    Server
	Locale    Locale
	Entities  []*Entity
	Pipelines []*Pipeline
	Roles     []*Role
	Plugins   []*Plugin
	Rules     []*Rule
	// SMTP is the smtp block, the mail server of notify's e-mail channel;
	// nil when the configuration has none.
	SMTP *SMTP
	// Workflow tunes the rules engine (DefaultWorkflow when absent).
	Workflow Workflow
	// Tests are the test blocks, in the order of the files and of the
	// blocks in each; `crm rules test` runs them.
	Tests []*Test
	// Events are the plugin events known before any plugin runs: those of
	// the first-party plugins (FirstParty), and, added by the app after it
	// read their manifests, those of third-party plugins. Rules on them
	// are type-checked against their payload and subject.
	Events []*PluginEvent
	// PluginEventsKnown is set (by the app, after it read the manifests of
	// every third-party plugin declared) when Events holds all their
	// events: a rule on an event that is neither a record's nor among
	// Events is then an error. Until then the loader accepts an unknown
	// event when a third-party plugin is declared, which may emit it.
	PluginEventsKnown bool
}

// Event returns the plugin event with the given full name, or nil.
func (c *Config) Event(name string) *PluginEvent {
	for _, e := range c.Events {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Server is the server block: where to listen and where to keep data.
type Server struct {
	Listen    string // default "127.0.0.1:8080"
	DataDir   string // default "data"; relative paths are relative to the process's working directory
	PublicURL string // default "http://" + Listen
	// Store is the storage backend: StoreBadger (default), embedded in
	// DataDir, or StorePostgres, shared by every node that names the
	// same database.
	Store string
	// PostgresURLEnv names the environment variable holding the
	// PostgreSQL connection URL (default "CRM_POSTGRES_URL"); the URL,
	// which carries the password, never goes in a configuration file.
	// Set only when Store is StorePostgres.
	PostgresURLEnv string
	// NodeID names this process among the crm nodes that share one store
	// (node_id); "" gives it a random id per process. Leases (core/lease)
	// name their holder with it.
	NodeID string
	// Lease is how long a node's hold on work that is done once (rule
	// runs, scheduled rules, plugin deliveries) lasts without renewal:
	// another node takes that work over this long after a node died.
	// Default DefaultLease.
	Lease time.Duration
}

// Storage backends, as written in the server block's store.
const (
	StoreBadger   = "badger"
	StorePostgres = "postgres"
)

// DefaultPostgresURLEnv is the environment variable read for the
// PostgreSQL URL when the server block names none.
const DefaultPostgresURLEnv = "CRM_POSTGRES_URL"

// DefaultLease is the default of Server.Lease.
const DefaultLease = 15 * time.Second

// Locale is the locale block: languages, calendar, default currency, time
// zone and phone region of the business.
type Locale struct {
	Languages []string // default ["en"]
	Default   string   // default "en", or the first of Languages when those are given; must be one of Languages
	Calendar  string   // "gregorian" (default) or "jalali"
	Currency  string   // ISO 4217 code, default "USD"
	Timezone  string   // IANA name, default "UTC"
	Region    string   // ISO 3166-1 alpha-2 used to read national phone numbers, e.g. "AM"; default ""
}

// Field types, as written in HCL `type = "..."`.
const (
	TypeString   = "string"
	TypeText     = "text"
	TypeInt      = "int"
	TypeDecimal  = "decimal"
	TypeMoney    = "money"
	TypeBool     = "bool"
	TypeDate     = "date"
	TypeDateTime = "datetime"
	TypeEnum     = "enum"
	TypeEmail    = "email"
	TypePhone    = "phone"
	TypeURL      = "url"
	TypeRef      = "ref"
	TypeUser     = "user"
	TypeFile     = "file"
	// TypeObject is a JSON object, typically one a plugin writes (a
	// caller's card); it is not indexed, unique, searched or sorted on.
	TypeObject = "object"
)

// FieldTypes lists every field type, in the order the documentation gives them.
var FieldTypes = []string{
	TypeString, TypeText, TypeInt, TypeDecimal, TypeMoney, TypeBool, TypeDate,
	TypeDateTime, TypeEnum, TypeEmail, TypePhone, TypeURL, TypeRef, TypeUser, TypeFile, TypeObject,
}

// ReservedFields are the system fields every record has; no entity may
// declare a field with one of these names.
var ReservedFields = []string{"id", "entity", "version", "created_at", "updated_at", "created_by", "owner"}

// Entity is an entity: a built-in one (possibly extended by HCL) or one an
// HCL file defines.
type Entity struct {
	Name  string
	Label string // default: Name with its first letter upper-cased and underscores as spaces
	// Labels are the label per language code (`labels = { hy = "..." }`);
	// built-in entities have built-in ones.
	Labels  map[string]string
	Builtin bool
	// Extends names the plugin whose contributed entity this block adds
	// fields to (`entity "document" { field "vehicle" {...} }` beside
	// `plugin "doctemplates"`); "" for an entity of its own. Fields holds
	// only the block's fields: app.WithPluginEntities merges them after
	// the manifest's.
	Extends string
	// Plugin names the plugin that contributes the entity; "" for a
	// built-in or HCL entity.
	Plugin string
	// Locked is the filter (over the entity's fields) of the records
	// that Plugin alone may change or delete: its manifest's lock. ""
	// for none.
	Locked string
	Fields []*Field
	Range  hcl.Range // the block's header; zero for a built-in entity no file mentions
}

// Field is one field of an entity.
type Field struct {
	Name   string
	Label  string
	Labels map[string]string // label per language code
	// ValueLabels are the labels of an enum's values per language
	// (value -> language -> label); built-in enums have them.
	ValueLabels map[string]map[string]string
	Type        string   // one of FieldTypes
	Required    bool     // a create must give it a value
	Unique      bool     // no two records may share a non-empty value; implies Index
	Index       bool     // a secondary index is kept for it
	Search      bool     // global search finds records by it (string, text, email, phone, url, enum)
	Values      []string // enum values (TypeEnum only)
	To          string   // target entity (TypeRef only)
	Builtin     bool     // part of a built-in entity's definition
	Range       hcl.Range
}

// Pipeline is an ordered list of stages for an entity's `stage` field.
// For the built-in deal entity, a deal's `pipeline` field names one of these
// and its `stage` must be one of that pipeline's stages.
type Pipeline struct {
	Name  string
	Label string // default: Name with its first letter upper-cased and underscores as spaces
	// Labels are the label per language code (`labels = { hy = "..." }`);
	// the default pipeline "sales" has built-in ones.
	Labels map[string]string
	Entity string
	Stages []string
	// StageLabels are the labels of the stages per language (stage ->
	// language -> label): the built-in ones of the sample stages, overridden
	// language by language by the block's `stage_labels`.
	StageLabels map[string]map[string]string
	Range       hcl.Range
}

// Role grants read and write access to entities. The role "admin" is built in
// and may not be declared.
type Role struct {
	Name    string
	Read    []string // entity names; "*" means every entity
	Write   []string // entity names; "*" means every entity; writing implies reading
	OwnOnly bool     // on the entities it writes, sees and changes only the records it owns (core/records)
	Range   hcl.Range
}

// Plugin is a plugin block. Path and SHA256 are empty for a first-party
// plugin built into the binary.
type Plugin struct {
	Name   string
	Path   string
	SHA256 string
	Read   []string
	Write  []string
	// Entities are the entities the plugin contributes (its manifest
	// describes their fields): those of the block's `entities`, or, for
	// a first-party plugin, those of its manifest (FirstParty). The loader
	// treats their names as known entities; app.WithPluginEntities adds
	// them to Config.Entities.
	Entities []string
	Config   map[string]any // the `config` object, converted to plain Go values (string, float64/int64, bool, []any, map[string]any)
	Range    hcl.Range
}

// Expr is an expr-lang source string from an HCL attribute, with the range of
// the string's contents so that errors inside it can point at a column.
type Expr struct {
	Source string
	Range  hcl.Range
}

// Rule is a workflow rule. Exactly one of On or (Every|Cron with ForEach) is
// set. Rules are only shape-checked by this package.
type Rule struct {
	Name    string
	On      []string // "entity.event" or a plugin event like "call.missed"
	Every   string   // a Go duration, e.g. "1h"
	Cron    string   // a 5-field cron spec
	ForEach string   // entity name, with Every or Cron
	// Filter is an optional list filter over the for_each entity's fields
	// (as in `GET /api/v1/records/ENTITY?filter=`), which picks the records
	// a scheduled rule's when runs for; only with for_each. Nil when absent.
	Filter  *Expr
	When    *Expr // nil when absent
	Actions []*Action
	Range   hcl.Range
}

// Action is one action block of a rule: a built-in kind (set, create_record,
// create_task, notify, webhook) or "PLUGIN.ACTION". Args holds each attribute
// as an expr source.
type Action struct {
	Kind  string
	Args  map[string]*Expr
	Range hcl.Range
}

// Entity returns the entity with the given name, or nil.
func (c *Config) Entity(name string) *Entity {
	for _, e := range c.Entities {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// Role returns the role with the given name, or nil.
func (c *Config) Role(name string) *Role {
	for _, r := range c.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Field returns the field with the given name, or nil.
func (e *Entity) Field(name string) *Field {
	for _, f := range e.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Plugin returns the plugin with the given name, or nil.
func (c *Config) Plugin(name string) *Plugin {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p
		}
	}
	return nil
}
