package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/crmkit/crm/config"
)

// DefaultCurrency is the locale currency when the configuration gives none.
const DefaultCurrency = "USD"

// Field is one field of an entity: a declared one (from the configuration)
// or a system field that every record has (System is true).
type Field struct {
	Name   string
	Label  string
	Labels map[string]string // label per language code; may be nil
	// ValueLabels are an enum's value labels: value -> language -> label.
	ValueLabels map[string]map[string]string
	Type        string   // one of config.FieldTypes
	Required    bool     // a record must have a value
	Unique      bool     // no two records share a value; implies Index
	Index       bool     // the store keeps a secondary index
	Search      bool     // global search finds records by it (store.Search)
	Values      []string // the allowed values of an enum
	To          string   // the target entity of a ref
	System      bool     // a system field (id, entity, version, ...), not declared

	currency string // default currency for money values
	region   string // default region for national phone numbers
}

// Entity is an entity of the running instance.
type Entity struct {
	Name    string
	Label   string
	Labels  map[string]string // label per language code; may be nil
	Builtin bool
	Fields  []*Field // declared fields only, in order
	// Plugin is the plugin that contributes the entity, if any, and
	// Locked the filter of its records that plugin alone may change
	// (package records enforces it).
	Plugin, Locked string

	byName    map[string]*Field
	system    []*Field
	pipelines []*config.Pipeline
}

// Schema is the set of entities and pipelines of a running instance, built
// from its configuration. It is immutable and safe for concurrent use.
type Schema struct {
	entities  []*Entity
	byName    map[string]*Entity
	pipelines map[string][]*config.Pipeline
	currency  string
	region    string
	locale    config.Locale
}

// System field names. Every record has them; clients may set only Owner.
const (
	FieldID        = "id"
	FieldEntity    = "entity"
	FieldVersion   = "version"
	FieldCreatedAt = "created_at"
	FieldUpdatedAt = "updated_at"
	FieldCreatedBy = "created_by"
	FieldOwner     = "owner"
)

// Fields that an entity with pipelines has; New adds them as string fields
// when the configuration does not declare them.
const (
	FieldPipeline = "pipeline"
	FieldStage    = "stage"
)

func systemFields() []*Field {
	return []*Field{
		{Name: FieldID, Label: "ID", Type: config.TypeString, System: true, Unique: true, Index: true},
		{Name: FieldEntity, Label: "Entity", Type: config.TypeString, System: true},
		{Name: FieldVersion, Label: "Version", Type: config.TypeInt, System: true},
		{Name: FieldCreatedAt, Label: "Created at", Type: config.TypeDateTime, System: true},
		{Name: FieldUpdatedAt, Label: "Updated at", Type: config.TypeDateTime, System: true},
		{Name: FieldCreatedBy, Label: "Created by", Type: config.TypeUser, System: true},
		{Name: FieldOwner, Label: "Owner", Type: config.TypeUser, System: true, Index: true},
	}
}

// IsSystemField reports whether name is one of the system fields.
func IsSystemField(name string) bool {
	switch name {
	case FieldID, FieldEntity, FieldVersion, FieldCreatedAt, FieldUpdatedAt, FieldCreatedBy, FieldOwner:
		return true
	}
	return false
}

// New builds the schema of cfg: its entities (in config order) with their
// fields, its pipelines, and the locale's default currency and phone region.
// It checks what the values code relies on: known field types, unique
// names, no declared system field, enum values, ref targets, pipeline
// entities and stages, a known currency and phone region. An entity with
// pipelines that does not declare "pipeline" or "stage" gets them as string
// fields.
func New(cfg *config.Config) (*Schema, error) {
	if cfg == nil {
		return nil, errors.New("schema: no configuration")
	}
	s := &Schema{
		byName:    map[string]*Entity{},
		pipelines: map[string][]*config.Pipeline{},
		locale:    cfg.Locale,
	}
	s.locale.Languages = slices.Clone(cfg.Locale.Languages)

	cur := cfg.Locale.Currency
	if cur == "" {
		cur = DefaultCurrency
	}
	_, code, err := CurrencyDigits(cur)
	if err != nil {
		return nil, fmt.Errorf("schema: locale currency: %v", err)
	}
	s.currency = code
	if r := cfg.Locale.Region; r != "" {
		r = strings.ToUpper(r)
		if phonenumbers.GetCountryCodeForRegion(r) == 0 {
			return nil, fmt.Errorf("schema: locale region: unknown phone region %q; expected an ISO 3166-1 alpha-2 code like \"AM\"", cfg.Locale.Region)
		}
		s.region = r
	}

	for _, ce := range cfg.Entities {
		if ce == nil {
			continue
		}
		if ce.Name == "" {
			return nil, errors.New("schema: an entity has no name")
		}
		if s.byName[ce.Name] != nil {
			return nil, fmt.Errorf("schema: entity %q is defined twice", ce.Name)
		}
		e := &Entity{
			Name:    ce.Name,
			Label:   labelOr(ce.Label, ce.Name),
			Labels:  ce.Labels,
			Builtin: ce.Builtin,
			Plugin:  ce.Plugin,
			Locked:  ce.Locked,
			byName:  map[string]*Field{},
			system:  systemFields(),
		}
		for _, cf := range ce.Fields {
			if cf == nil {
				continue
			}
			f, err := s.newField(cf)
			if err != nil {
				return nil, fmt.Errorf("schema: entity %q: %v", ce.Name, err)
			}
			if e.byName[f.Name] != nil {
				return nil, fmt.Errorf("schema: entity %q: field %q is declared twice", ce.Name, f.Name)
			}
			e.Fields = append(e.Fields, f)
			e.byName[f.Name] = f
		}
		for _, f := range e.system {
			f.currency, f.region = s.currency, s.region
		}
		s.entities = append(s.entities, e)
		s.byName[e.Name] = e
	}

	for _, e := range s.entities {
		for _, f := range e.Fields {
			if f.Type == config.TypeRef && s.byName[f.To] == nil {
				if f.To == "" {
					return nil, fmt.Errorf("schema: entity %q: field %q: a ref field needs a target entity (to)", e.Name, f.Name)
				}
				return nil, fmt.Errorf("schema: entity %q: field %q: unknown target entity %q%s", e.Name, f.Name, f.To, didYouMean(f.To, s.EntityNames()))
			}
		}
	}

	for _, p := range cfg.Pipelines {
		if p == nil {
			continue
		}
		if err := s.addPipeline(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Schema) newField(cf *config.Field) (*Field, error) {
	if cf.Name == "" {
		return nil, errors.New("a field has no name")
	}
	if IsSystemField(cf.Name) {
		return nil, fmt.Errorf("field %q: %q is a system field and cannot be declared", cf.Name, cf.Name)
	}
	if !slices.Contains(config.FieldTypes, cf.Type) {
		return nil, fmt.Errorf("field %q: unknown type %q%s", cf.Name, cf.Type, didYouMean(cf.Type, config.FieldTypes))
	}
	f := &Field{
		Name:        cf.Name,
		Label:       labelOr(cf.Label, cf.Name),
		Labels:      cf.Labels,
		ValueLabels: cf.ValueLabels,
		Type:        cf.Type,
		Required:    cf.Required,
		Unique:      cf.Unique,
		Index:       cf.Index || cf.Unique,
		Search:      cf.Search,
		To:          cf.To,
		currency:    s.currency,
		region:      s.region,
	}
	if cf.Type == config.TypeObject && (f.Index || f.Search) {
		return nil, fmt.Errorf("field %q: an object field cannot be indexed, unique or searched", cf.Name)
	}
	if cf.Type == config.TypeEnum {
		if len(cf.Values) == 0 {
			return nil, fmt.Errorf("field %q: an enum needs at least one value", cf.Name)
		}
		seen := map[string]bool{}
		for _, v := range cf.Values {
			if v == "" {
				return nil, fmt.Errorf("field %q: an enum value is empty", cf.Name)
			}
			if seen[v] {
				return nil, fmt.Errorf("field %q: enum value %q is given twice", cf.Name, v)
			}
			seen[v] = true
		}
		f.Values = slices.Clone(cf.Values)
	}
	return f, nil
}

func (s *Schema) addPipeline(p *config.Pipeline) error {
	e := s.byName[p.Entity]
	if e == nil {
		return fmt.Errorf("schema: pipeline %q: unknown entity %q%s", p.Name, p.Entity, didYouMean(p.Entity, s.EntityNames()))
	}
	if p.Name == "" {
		return fmt.Errorf("schema: a pipeline of entity %q has no name", p.Entity)
	}
	for _, q := range e.pipelines {
		if q.Name == p.Name {
			return fmt.Errorf("schema: pipeline %q of entity %q is defined twice", p.Name, p.Entity)
		}
	}
	if len(p.Stages) == 0 {
		return fmt.Errorf("schema: pipeline %q: it needs at least one stage", p.Name)
	}
	seen := map[string]bool{}
	for _, st := range p.Stages {
		if st == "" {
			return fmt.Errorf("schema: pipeline %q: a stage is empty", p.Name)
		}
		if seen[st] {
			return fmt.Errorf("schema: pipeline %q: stage %q is given twice", p.Name, st)
		}
		seen[st] = true
	}
	for _, name := range []string{FieldPipeline, FieldStage} {
		f := e.byName[name]
		if f == nil {
			f = &Field{Name: name, Label: labelOr("", name), Type: config.TypeString, Index: true, currency: s.currency, region: s.region}
			e.Fields = append(e.Fields, f)
			e.byName[name] = f
			continue
		}
		if f.Type != config.TypeString && f.Type != config.TypeEnum {
			return fmt.Errorf("schema: entity %q has pipelines, so its field %q must be a string or an enum, not %s", e.Name, name, f.Type)
		}
	}
	e.pipelines = append(e.pipelines, p)
	s.pipelines[p.Entity] = append(s.pipelines[p.Entity], p)
	return nil
}

// labelOr returns label, or name with its first letter upper-cased and
// underscores as spaces.
func labelOr(label, name string) string {
	if label != "" {
		return label
	}
	r, n := utf8.DecodeRuneInString(name)
	return strings.ReplaceAll(string(unicode.ToUpper(r))+name[n:], "_", " ")
}

// Entity returns the entity with the given name, or nil.
func (s *Schema) Entity(name string) *Entity { return s.byName[name] }

// Entities returns every entity in config order.
func (s *Schema) Entities() []*Entity { return slices.Clone(s.entities) }

// EntityNames returns the name of every entity in config order.
func (s *Schema) EntityNames() []string {
	names := make([]string, len(s.entities))
	for i, e := range s.entities {
		names[i] = e.Name
	}
	return names
}

// Pipelines returns the pipelines of the named entity in config order; the
// first is the default. It is nil for an entity without pipelines.
func (s *Schema) Pipelines(entity string) []*config.Pipeline {
	return slices.Clone(s.pipelines[entity])
}

// Currency returns the locale's default currency (upper case ISO 4217).
func (s *Schema) Currency() string { return s.currency }

// Region returns the locale's phone region (ISO 3166-1 alpha-2, upper
// case), or "" when numbers must be given in international form.
func (s *Schema) Region() string { return s.region }

// Field returns the declared field with the given name, or nil.
func (e *Entity) Field(name string) *Field {
	if e.byName != nil {
		return e.byName[name]
	}
	for _, f := range e.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// SystemFields returns the system fields every record of e has (id, entity,
// version, created_at, updated_at, created_by, owner), with System set.
func (e *Entity) SystemFields() []*Field {
	if e.system == nil {
		return systemFields()
	}
	return slices.Clone(e.system)
}

// Lookup returns the declared or system field with the given name, or nil.
func (e *Entity) Lookup(name string) *Field {
	if f := e.Field(name); f != nil {
		return f
	}
	if !IsSystemField(name) {
		return nil
	}
	sys := e.system
	if sys == nil {
		sys = systemFields()
	}
	for _, f := range sys {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Pipelines returns the entity's pipelines in config order (nil if none).
func (e *Entity) Pipelines() []*config.Pipeline { return slices.Clone(e.pipelines) }

// SearchFields returns the fields global search finds records by, in order.
func (e *Entity) SearchFields() []*Field {
	var out []*Field
	for _, f := range e.Fields {
		if f.Search {
			out = append(out, f)
		}
	}
	return out
}

// FieldNames returns the names of the declared fields, in order.
func (e *Entity) FieldNames() []string {
	names := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		names[i] = f.Name
	}
	return names
}

// Locale returns the locale block the schema was built from, with the
// defaults filled in where it gives none: languages ["en"], default the
// first language, calendar "gregorian", the schema's currency, time zone
// "UTC".
func (s *Schema) Locale() config.Locale {
	l := s.locale
	l.Languages = slices.Clone(l.Languages)
	if len(l.Languages) == 0 {
		l.Languages = []string{"en"}
	}
	if l.Default == "" {
		l.Default = l.Languages[0]
	}
	if l.Calendar == "" {
		l.Calendar = "gregorian"
	}
	l.Currency = s.currency
	if l.Timezone == "" {
		l.Timezone = "UTC"
	}
	l.Region = s.region
	return l
}
