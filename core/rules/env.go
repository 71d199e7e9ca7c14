package rules

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Lookup is what expressions need from the store at run time.
type Lookup interface {
	// Get returns a record; the error is store.ErrNotFound when it is absent.
	Get(ctx context.Context, entity, id string) (*store.Record, error)
	// CountRefs counts the records of entity whose ref field `field` holds
	// id and for which match (nil: every record) is true. An error of
	// match (a filter over its budget) stops the count and is returned.
	CountRefs(ctx context.Context, entity, field, id string, match func(*store.Record) (bool, error)) (int, error)
}

// Input is what one evaluation sees.
type Input struct {
	Ctx    context.Context // nil means context.Background()
	Record *store.Record   // the record the rule is about (for a delete: its last version)
	Old    *store.Record   // the previous version on updates, else nil
	User   *UserInfo       // who made the change; nil for the system
	Event  string          // "created", "updated", "deleted", "stage_changed", "schedule", or a plugin event like "call.missed"
	// Payload is a plugin event's payload, which rules on a typed plugin
	// event see as `event`; Record is then the event's subject record.
	Payload map[string]any
	Now     time.Time // the evaluation's clock; the zero time means time.Now()
	Lookup  Lookup    // for related and count_related; may be nil when no program uses them
	// Location is the time zone of locale.timezone, in which now(),
	// days_until, is_anniversary and format_date see dates; nil means the
	// time zone the rules were compiled with.
	Location *time.Location

	// cache holds the records as expressions see them, so that a rule's
	// when and arguments convert them once. An Input is for one goroutine.
	cache *inputCache
}

// inputCache is the converted records of an Input, for one entity.
type inputCache struct {
	entity      *schema.Entity
	rec, old    *store.Record
	user        *UserInfo
	record, was any
	who         any
	related     map[string]any // related records read so far, by ref field
}

// converted returns the records of in as expressions of rules about ent
// see them, converting them once while they stay the same.
func (in *Input) converted(ent *schema.Entity) *inputCache {
	c := in.cache
	if c != nil && c.entity == ent && c.rec == in.Record && c.old == in.Old && c.user == in.User {
		return c
	}
	c = &inputCache{entity: ent, rec: in.Record, old: in.Old, user: in.User,
		record: recordEnv(ent, in.Record), was: recordEnv(ent, in.Old), who: userEnv(in.User)}
	in.cache = c
	return c
}

// UserInfo is the user who made a change, as expressions see it in `user`.
type UserInfo struct {
	ID, Email, Name, Role string
}

// Program is one compiled expression with where it came from. It is safe
// for concurrent use.
type Program struct {
	Source string    // the expr source
	Range  hcl.Range // the source's place in the HCL file

	prog   *vm.Program
	filter *store.Filter // a list filter (a scheduled rule's filter) instead of prog
	out    string        // the static type of the result, as messages name it
	scope  *scope
	refs   []*refUse   // the ref fields that related() reads, in order of first use
	counts []*countUse // the count_related calls, by index
}

// refUse is one ref field that a program reads with related().
type refUse struct {
	field  string
	target *schema.Entity
}

// countUse is one count_related call: the records of entity whose ref
// field points at the rule's record and that match filter (nil: all).
type countUse struct {
	entity string
	field  string
	filter *store.Filter
}

// evalState is one evaluation of a program: the hidden first argument of
// the functions that need the clock or the store.
type evalState struct {
	in  *Input
	p   *Program
	ctx context.Context
	now time.Time
	loc *time.Location
}

// Hidden names in the environment; user expressions may not use names that
// start with "__".
const (
	stateVar   = "__rt"
	relatedVar = "__related"
	countFunc  = "__count"
)

// Type returns the static type of the program's result as messages name
// it: "bool", "string", "int", "float", "time", "duration", "money",
// "list", "map" or "any" when only the run can tell.
func (p *Program) Type() string {
	if p == nil {
		return ""
	}
	return p.out
}

// StoreFilter returns the list filter of a scheduled rule's filter, for
// store.Query; it is nil for any other program.
func (p *Program) StoreFilter() *store.Filter {
	if p == nil {
		return nil
	}
	return p.filter
}

// Eval runs the program on one input. The result is a plain Go value:
// string, int or int64, float64, bool, time.Time, time.Duration, []any,
// map[string]any (a record), schema.ExprMoney, or nil.
func (p *Program) Eval(in *Input) (any, error) {
	if p == nil {
		return nil, errors.New("rules: eval: no program")
	}
	if in == nil {
		in = &Input{}
	}
	if p.filter != nil {
		if in.Record == nil {
			return false, nil
		}
		ok, err := p.filter.Eval(in.Record)
		if err != nil {
			return nil, p.wrap(err)
		}
		return ok, nil
	}
	st := p.state(in)
	env, err := p.env(st)
	if err != nil {
		return nil, p.wrap(err)
	}
	out, err := p.run(env)
	if err != nil {
		return nil, p.wrap(err)
	}
	return out, nil
}

// EvalBool runs a boolean program (a when or a filter); a nil result, as
// `record.flag` gives for a field without a value, is false.
func (p *Program) EvalBool(in *Input) (bool, error) {
	out, err := p.Eval(in)
	if err != nil {
		return false, err
	}
	switch b := out.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, p.wrap(fmt.Errorf("expected a bool, got %s", goTypeName(out)))
}

// wrap gives a run-time error the place of the expression.
func (p *Program) wrap(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		err = fe.Unwrap()
		if err == nil {
			err = errors.New(fe.Message)
		}
	}
	return fmt.Errorf("%s:%d:%d: %w", p.Range.Filename, p.Range.Start.Line, p.Range.Start.Column, err)
}

// state starts one evaluation.
func (p *Program) state(in *Input) *evalState {
	st := &evalState{in: in, p: p, ctx: in.Ctx, now: in.Now, loc: in.Location}
	if st.ctx == nil {
		st.ctx = context.Background()
	}
	if st.now.IsZero() {
		st.now = time.Now()
	}
	if st.loc == nil {
		st.loc = p.scope.loc
	}
	return st
}

// env is the environment of one evaluation.
func (p *Program) env(st *evalState) (map[string]any, error) {
	in := st.in
	c := in.converted(p.scope.entity)
	env := map[string]any{
		"record":   c.record,
		"old":      c.was,
		"user":     c.who,
		"event":    in.Event,
		stateVar:   st,
		relatedVar: nil,
	}
	if sc := p.scope; sc.event != nil {
		env["old"] = nil
		if sc.payload != nil {
			env["event"] = payloadEnv(sc.payload, in.Payload)
		}
	}
	if len(p.refs) > 0 {
		rel, err := p.related(st)
		if err != nil {
			return nil, err
		}
		env[relatedVar] = rel
	}
	return env, nil
}

// related fetches the records that the program's related() calls read.
func (p *Program) related(st *evalState) (map[string]any, error) {
	rel := make(map[string]any, len(p.refs))
	c := st.in.converted(p.scope.entity)
	for _, r := range p.refs {
		if v, ok := c.related[r.field]; ok {
			rel[r.field] = v
			continue
		}
		rel[r.field] = nil
		if st.in.Record == nil {
			continue
		}
		id, _ := st.in.Record.Values[r.field].(string)
		if id == "" {
			continue
		}
		if st.in.Lookup == nil {
			return nil, fmt.Errorf("related(%q): no store to read from", r.field)
		}
		rec, err := st.in.Lookup.Get(st.ctx, r.target.Name, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("related(%q): get %s %s: %w", r.field, r.target.Name, id, err)
		}
		rel[r.field] = recordEnv(r.target, rec)
		if c.related == nil {
			c.related = map[string]any{}
		}
		c.related[r.field] = rel[r.field]
	}
	return rel, nil
}

// recordEnv is a record as expressions see it: its field values (with
// schema.Entity.ExprRecord when the entity is known) and its system fields.
// It is an untyped nil for no record, so that `old == nil` holds.
func recordEnv(ent *schema.Entity, r *store.Record) any {
	if r == nil {
		return nil
	}
	var m map[string]any
	if ent != nil {
		m = ent.ExprRecord(r.Values)
	} else {
		m = make(map[string]any, len(r.Values)+7)
		for k, v := range r.Values {
			m[k] = v
		}
	}
	m[schema.FieldID] = r.ID
	m[schema.FieldEntity] = r.Entity
	m[schema.FieldVersion] = r.Version
	m[schema.FieldCreatedAt] = r.CreatedAt
	m[schema.FieldUpdatedAt] = r.UpdatedAt
	m[schema.FieldCreatedBy] = r.CreatedBy
	m[schema.FieldOwner] = r.Owner
	return m
}

// userEnv is the user as expressions see it, or an untyped nil.
func userEnv(u *UserInfo) any {
	if u == nil {
		return nil
	}
	return map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role}
}

// StoreLookup is the Lookup over a store that the engine and tests use.
// Schema may be left nil when Store has a Schema method, as *store.Badger
// has.
type StoreLookup struct {
	Store  store.Store
	Schema *schema.Schema

	pageSize int // records per page when counting; 0 means store.MaxLimit
}

// Get reads one record.
func (l StoreLookup) Get(ctx context.Context, entity, id string) (*store.Record, error) {
	rec, err := l.Store.Get(ctx, entity, id)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", entity, id, err)
	}
	return rec, nil
}

// CountRefs lists, page by page through the ref field's index, the records
// of entity whose field holds id, and counts those that match; it stops at
// the first error of match.
func (l StoreLookup) CountRefs(ctx context.Context, entity, field, id string, match func(*store.Record) (bool, error)) (int, error) {
	sch := l.Schema
	if s, ok := l.Store.(interface{ Schema() *schema.Schema }); ok && sch == nil {
		sch = s.Schema()
	}
	if sch == nil || sch.Entity(entity) == nil {
		return 0, fmt.Errorf("count %s: unknown entity", entity)
	}
	ent := sch.Entity(entity)
	if !schema.IsID(id) {
		return 0, nil
	}
	f, err := store.CompileFilter(ent, field+" == "+strconv.Quote(id))
	if err != nil {
		return 0, fmt.Errorf("count %s by %s: %w", entity, field, err)
	}
	n := 0
	q := store.Query{Entity: entity, Filter: f, Limit: store.MaxLimit}
	if l.pageSize > 0 {
		q.Limit = l.pageSize
	}
	for {
		page, err := l.Store.List(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("count %s by %s: %w", entity, field, err)
		}
		for _, r := range page.Items {
			ok := match == nil
			if !ok {
				if ok, err = match(r); err != nil {
					return 0, fmt.Errorf("count %s by %s: %s %s: %w", entity, field, entity, r.ID, err)
				}
			}
			if ok {
				n++
			}
		}
		if page.NextCursor == "" {
			return n, nil
		}
		q.Cursor = page.NextCursor
	}
}

// Eval evaluates every argument of the action, by name.
func (a *Action) Eval(in *Input) (map[string]any, error) {
	out := make(map[string]any, len(a.Args))
	for name, p := range a.Args {
		v, err := p.Eval(in)
		if err != nil {
			return nil, fmt.Errorf("action %s argument %s: %w", a.Kind, name, err)
		}
		out[name] = v
	}
	return out, nil
}

// FieldValues evaluates the field arguments of set and create_record and
// converts each to its field's canonical value (package schema), ready
// for the store: money to schema.Money, a time to a date in the locale's
// time zone for a date field, nil to clear a field. It fails for other
// kinds of action, and for a value that does not fit its field.
func (a *Action) FieldValues(in *Input) (map[string]any, error) {
	if a.target == nil || (a.Kind != KindSet && a.Kind != KindCreateRecord) {
		return nil, fmt.Errorf("action %s has no fields", a.Kind)
	}
	out := make(map[string]any, len(a.Args))
	for name, p := range a.Args {
		f := a.target.Lookup(name)
		if f == nil || (a.Kind == KindCreateRecord && name == "entity") {
			continue
		}
		v, err := p.Eval(in)
		if err != nil {
			return nil, fmt.Errorf("action %s field %s: %w", a.Kind, name, err)
		}
		loc := p.scope.loc
		if in != nil && in.Location != nil {
			loc = in.Location
		}
		if out[name], err = canonical(f, v, loc); err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Kind, err)
		}
	}
	return out, nil
}

// canonical converts what an expression gave to a field's canonical value.
func canonical(f *schema.Field, v any, loc *time.Location) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case schema.ExprMoney:
		if f.Type != config.TypeMoney {
			break
		}
		return schema.Money{Minor: x.Minor, Currency: x.Currency}, nil
	case time.Time:
		if f.Type == config.TypeDate && !isDate(x) {
			y, m, d := x.In(loc).Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	c, err := f.NormalizeValue(v)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", f.Name, err)
	}
	return c, nil
}
