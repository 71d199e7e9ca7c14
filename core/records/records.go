// Package records is the one record service: every read and write of a
// record, whoever makes it (a user over HTTP, a rule's action, a plugin on
// its own or acting for a user, the SDK test kit, an import), goes through
// it. It owns the steps in their one order: resolve the entity, authorise
// the actor (role, the plugin's grants, own_only, owner assignment and
// changes, refs to what the actor may not read), decode and normalise the
// input, validate it, write it through the store (which adds history and the
// change feed in the same transaction), and give the record's API form. Its
// errors are one type, *Error, which the HTTP API and the plugin host each
// map once.
//
// It must not know about HTTP, gRPC or rules: those are adapters over it.
package records

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Service reads and writes records for actors.
type Service struct {
	st  store.Store
	sch *schema.Schema
}

// New returns the record service over a store and its schema.
func New(st store.Store, sch *schema.Schema) *Service {
	return &Service{st: st, sch: sch}
}

// Store is the store the service writes to.
func (s *Service) Store() store.Store { return s.st }

// Schema is the schema the service validates against.
func (s *Service) Schema() *schema.Schema { return s.sch }

// Entity resolves an entity name and checks that the actor may read it (and
// write it, when write is set).
func (s *Service) Entity(a Actor, name string, write bool) (*schema.Entity, error) {
	ent := s.sch.Entity(name)
	if ent == nil {
		return nil, &Error{Kind: KindNotFound, Code: "unknown_entity", Field: "entity", Message: fmt.Sprintf("no entity %q", name)}
	}
	if err := a.authorise(name, false); err != nil {
		return nil, err
	}
	if write {
		if err := a.authorise(name, true); err != nil {
			return nil, err
		}
	}
	return ent, nil
}

// Values are the field values of a create or an update, in the canonical
// Go types of package schema.
type Values struct {
	Set   map[string]any // values to set
	Clear []string       // fields to clear (updates)
	Owner string         // the new owner; "" for the default (create) or no change (update)
}

// Decode reads a client's JSON object of field values (a POST or PATCH
// body, a plugin's values) into Values, normalised by the entity's fields.
func Decode(ent *schema.Entity, body []byte) (Values, error) {
	in, err := ent.DecodeInput(body)
	if err != nil {
		return Values{}, err
	}
	return Values{Set: in.Values, Clear: in.Nulls, Owner: in.Owner}, nil
}

// CreateRequest creates one record.
type CreateRequest struct {
	Entity string
	Values
	// IdempotencyKey makes the create happen at most once.
	IdempotencyKey string
	// Unless, when set, is a filter over the entity: the record is created
	// only when no record matches it, decided inside the write transaction
	// (so "one open claim per vehicle" holds under concurrent calls).
	Unless string
}

// Created is the outcome of a create: the record, and whether this call
// made it (false when Unless found Existing, or an idempotent repeat).
type Created struct {
	Record *store.Record
	// Existing is set when Unless matched: the record that matched.
	Existing bool
}

// Create creates a record as the actor. A user (or a plugin acting for one)
// owns what it creates unless it names another owner, which an own_only
// role may not.
func (s *Service) Create(ctx context.Context, a Actor, req CreateRequest) (*Created, error) {
	ent, err := s.Entity(a, req.Entity, true)
	if err != nil {
		return nil, err
	}
	owner := req.Owner
	if a.hasUser() {
		if a.givesAway(owner) {
			return nil, forbidden("owner", "%s may not create records owned by someone else", a.describe())
		}
		if owner == "" {
			owner = a.userID()
		}
	}
	values := req.Set
	if values == nil {
		values = map[string]any{}
	}
	hidden, err := s.hiddenRefs(ctx, a, ent, values)
	if err != nil {
		return nil, err
	}
	if err := readableRefs(a, ent, values, hidden, nil); err != nil {
		return nil, err
	}
	if err := ent.CheckRecord(values); err != nil {
		return nil, err
	}
	if err := unlocked(a, ent, &store.Record{Entity: ent.Name, Owner: owner, Values: values}); err != nil {
		return nil, err // a record born locked (an issued invoice) is the plugin's to make
	}
	sreq := store.CreateRequest{Entity: ent.Name, Values: values, Owner: owner, By: a.By(), Cause: a.Cause,
		IdempotencyKey: req.IdempotencyKey}
	if strings.TrimSpace(req.Unless) != "" {
		f, err := store.CompileFilter(ent, req.Unless)
		if err != nil {
			return nil, err
		}
		sreq.Unless = f
	}
	rec, err := s.st.Create(ctx, sreq)
	var ex *store.ExistsError
	if errors.As(err, &ex) {
		if !a.Sees(ex.Record) {
			// The condition holds over every record (one open claim per
			// vehicle, whoever opened it), but a record the actor does
			// not see is not given: a conflict, as a duplicate unique
			// value is, that says no more than that one exists.
			return nil, &Error{Kind: KindConflict, Code: CodeExists, Field: "unless",
				Message: fmt.Sprintf("a %s that matches the condition exists, one %s does not see; nothing was created", ent.Name, a.describe())}
		}
		return &Created{Record: ex.Record, Existing: true}, nil
	}
	if err != nil {
		return nil, err
	}
	return &Created{Record: rec}, nil
}

// UpdateRequest changes fields of one record.
type UpdateRequest struct {
	Entity string
	ID     string
	Values
	// IfVersion, when > 0, refuses the write unless the record is at that
	// version.
	IfVersion      int64
	IdempotencyKey string
}

// Update changes a record as the actor: an own_only role may change only
// the records it owns and may not give them to someone else.
func (s *Service) Update(ctx context.Context, a Actor, req UpdateRequest) (*store.Record, error) {
	ent, err := s.Entity(a, req.Entity, true)
	if err != nil {
		return nil, err
	}
	if a.givesAway(req.Owner) {
		return nil, forbidden("owner", "%s may not give records to someone else", a.describe())
	}
	hidden, err := s.hiddenRefs(ctx, a, ent, req.Set)
	if err != nil {
		return nil, err
	}
	return s.st.Update(ctx, store.UpdateRequest{
		Entity: ent.Name, ID: req.ID, Set: req.Set, Clear: req.Clear, Owner: req.Owner,
		IfVersion: req.IfVersion, By: a.By(), Cause: a.Cause, IdempotencyKey: req.IdempotencyKey,
		Check: func(cur *store.Record) error {
			if err := s.mayChange(a, ent.Name, cur); err != nil {
				return err
			}
			if err := unlocked(a, ent, cur); err != nil {
				return err
			}
			return readableRefs(a, ent, req.Set, hidden, cur)
		},
	})
}

// DeleteRequest deletes one record.
type DeleteRequest struct {
	Entity    string
	ID        string
	Force     bool // clear the references to it instead of refusing; admins only
	IfVersion int64
}

// Delete deletes a record as the actor.
func (s *Service) Delete(ctx context.Context, a Actor, req DeleteRequest) (*store.Record, error) {
	ent, err := s.Entity(a, req.Entity, true)
	if err != nil {
		return nil, err
	}
	if req.Force && a.hasUser() && !a.User.IsAdmin() {
		return nil, forbidden("force", "only an admin may force a delete")
	}
	return s.st.Delete(ctx, store.DeleteRequest{
		Entity: ent.Name, ID: req.ID, Force: req.Force, IfVersion: req.IfVersion, By: a.By(),
		Check: func(cur *store.Record) error {
			if err := s.mayChange(a, ent.Name, cur); err != nil {
				return err
			}
			return unlocked(a, ent, cur)
		},
	})
}

// Get returns a record the actor may read. A record the actor does not
// see (Actor.Sees: another's, for an own_only role) is store.ErrNotFound,
// exactly as one that does not exist, so that its existence does not leak.
func (s *Service) Get(ctx context.Context, a Actor, entity, id string) (*store.Record, error) {
	ent, err := s.Entity(a, entity, false)
	if err != nil {
		return nil, err
	}
	return s.visible(ctx, a, ent.Name, id)
}

// visible reads a record the actor sees; store.ErrNotFound for one it
// does not.
func (s *Service) visible(ctx context.Context, a Actor, entity, id string) (*store.Record, error) {
	r, err := s.st.Get(ctx, entity, id)
	if err != nil {
		return nil, err
	}
	if !a.Sees(r) {
		return nil, store.ErrNotFound
	}
	return r, nil
}

// ListRequest lists records of an entity.
type ListRequest struct {
	Entity string
	Filter string // an expr filter; "" for all
	Sort   string // "-created_at,name"
	Limit  int
	Cursor string
	// Stored: the caller writes the page with AppendAPIForm, and decodes
	// with DecodeStored what that cannot write (store.Query.Stored).
	Stored bool
}

// List lists the records of an entity that the actor sees (for an own_only
// role, of an entity it writes, the ones it owns: read through the owner
// index, so a page costs about a page however many records others own).
func (s *Service) List(ctx context.Context, a Actor, req ListRequest) (*store.Page, error) {
	ent, err := s.Entity(a, req.Entity, false)
	if err != nil {
		return nil, err
	}
	if req.Limit < 0 {
		return nil, &store.QueryError{Param: "limit", Message: "must not be negative"}
	}
	q := store.Query{Entity: ent.Name, Sort: store.ParseSort(req.Sort), Limit: req.Limit, Cursor: req.Cursor}
	if q.Filter, err = s.scopedFilter(a, ent, req.Filter); err != nil {
		return nil, err
	}
	// The owner condition scopedFilter puts first keeps the others' records
	// out, as it does for Count and Totals: the caller's filter compiled
	// alone, so it cannot reach past its parentheses.
	q.Stored = req.Stored
	return s.st.List(ctx, q)
}

// Count counts the records of an entity that the actor sees and that
// match a filter ("" for all), as List would list them; exact is false for
// an estimate (a filter the store's counters cannot answer, over more than
// store.MaxCountScan records). An own_only user's count with no filter is
// the counter of their records; with one, their records are read through
// the owner index.
func (s *Service) Count(ctx context.Context, a Actor, entity, filter string) (n int64, exact bool, err error) {
	ent, f, err := s.listFilter(a, entity, filter)
	if err != nil {
		return 0, false, err
	}
	return s.st.Count(ctx, ent.Name, f)
}

// TotalsRequest asks for the totals of a list: the count and sum of a
// money field per group value and currency.
type TotalsRequest struct {
	Entity string
	Filter string // an expr filter; "" for all
	Group  string // the field to group by; "" for one group of all
	Sum    string // the money field to sum; "" for counts only
}

// Totals returns a list's totals over the records the actor sees, as List
// would list them.
func (s *Service) Totals(ctx context.Context, a Actor, req TotalsRequest) ([]store.Total, error) {
	ent, f, err := s.listFilter(a, req.Entity, req.Filter)
	if err != nil {
		return nil, err
	}
	return s.st.Totals(ctx, ent.Name, req.Group, req.Sum, f)
}

// listFilter checks that the actor may list an entity and compiles a
// list filter bound to what the actor sees (scopedFilter).
func (s *Service) listFilter(a Actor, entity, filter string) (*schema.Entity, *store.Filter, error) {
	ent, err := s.Entity(a, entity, false)
	if err != nil {
		return nil, nil, err
	}
	f, err := s.scopedFilter(a, ent, filter)
	return ent, f, err
}

// scopedFilter compiles a caller's filter ("" for none; nil when there is
// no condition at all) and, for an actor whom OwnerBound binds to its own
// records of the entity, puts the owner condition before it: an equality
// on owner, which the store's planner reads through the owner index and
// its counters count. The caller's filter compiles alone first, so that
// its errors carry the positions of the text the caller wrote; it goes
// inside parentheses and ends with a new line, so that a comment in it
// cannot reach past them.
func (s *Service) scopedFilter(a Actor, ent *schema.Entity, filter string) (*store.Filter, error) {
	var own *store.Filter
	if strings.TrimSpace(filter) != "" {
		f, err := store.CompileFilter(ent, filter)
		if err != nil {
			return nil, err
		}
		own = f
	}
	owner := a.OwnerBound(ent.Name)
	if owner == "" {
		return own, nil
	}
	src := schema.FieldOwner + " == " + strconv.Quote(owner)
	if own != nil {
		src += " && (" + filter + "\n)"
	}
	f, err := store.CompileFilter(ent, src)
	if err != nil {
		return nil, fmt.Errorf("bind the filter of %s to the owner %s: %w", ent.Name, owner, err)
	}
	return f, nil
}

// History lists a record's history for an actor who may read the entity;
// a deleted record's history is for admins (and the system) only.
func (s *Service) History(ctx context.Context, a Actor, entity, id string) ([]store.HistoryEntry, error) {
	ent, err := s.Entity(a, entity, false)
	if err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, a, ent.Name, id); err != nil {
		if !errors.Is(err, store.ErrNotFound) || a.hasUser() && !a.User.IsAdmin() || a.Plugin != "" {
			return nil, err
		}
	}
	entries, err := s.st.History(ctx, ent.Name, id)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, store.ErrNotFound
	}
	return entries, nil
}

// APIForm is a record as the API, webhooks, plugin calls and event
// deliveries show it: system fields and field values side by side, a file
// field with its file's metadata.
func (s *Service) APIForm(ctx context.Context, r *store.Record) map[string]any {
	return store.APIForm(ctx, s.st, s.sch.Entity(r.Entity), r)
}

// AppendAPIForm appends the JSON of APIForm(ctx, r) straight from the
// stored form of a record List returned, when it can (store.AppendAPIForm);
// ok is false when the caller must encode APIForm itself.
func (s *Service) AppendAPIForm(b []byte, r *store.Record) ([]byte, bool) {
	return store.AppendAPIForm(b, s.sch.Entity(r.Entity), r)
}

// DecodeStored decodes in place a record that List left undecoded
// (ListRequest.Stored).
func (s *Service) DecodeStored(r *store.Record) error {
	return store.DecodeStored(s.sch.Entity(r.Entity), r)
}

// mayChange checks, inside the write, that the actor may change the
// current version of a record: an own_only user only their own. A record
// the actor does not see is not found, as Get has it.
func (s *Service) mayChange(a Actor, entity string, cur *store.Record) error {
	if !a.hasUser() {
		return nil
	}
	if !a.Sees(cur) {
		return store.ErrNotFound
	}
	if a.User.CanChange(entity, cur.Owner) {
		return nil
	}
	if a.Plugin != "" {
		return forbidden("", "plugin %q acts for user %s, who may change only the %s records they own", a.Plugin, a.userID(), entity)
	}
	return forbidden("", "your role may change only the %s records you own", entity)
}

// hiddenRefs finds the ref fields of values that point at a record the
// actor does not see although it may read the entity: another's record of
// an entity OwnerBound binds the actor to. It reads before the write;
// readableRefs decides inside it.
func (s *Service) hiddenRefs(ctx context.Context, a Actor, ent *schema.Entity, values map[string]any) (map[string]bool, error) {
	var hidden map[string]bool
	for _, f := range ent.Fields {
		v, ok := values[f.Name].(string)
		if f.Type != config.TypeRef || !ok || v == "" || !a.CanRead(f.To) || a.OwnerBound(f.To) == "" {
			continue
		}
		r, err := s.st.Get(ctx, f.To, v)
		if errors.Is(err, store.ErrNotFound) {
			continue // the store refuses it as it is
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s of %s: %w", f.To, v, f.Name, err)
		}
		if !a.Sees(r) {
			if hidden == nil {
				hidden = map[string]bool{}
			}
			hidden[f.Name] = true
		}
	}
	return hidden, nil
}

// readableRefs refuses a ref to a record the actor does not see (of an
// entity it may not read, or one that hiddenRefs found) exactly as a ref to
// a record that does not exist, so that the actor learns nothing of those
// records. With cur (an update), a ref that keeps its current value is not
// a new reference and passes.
func readableRefs(a Actor, ent *schema.Entity, values map[string]any, hidden map[string]bool, cur *store.Record) error {
	for _, f := range ent.Fields {
		if f.Type != config.TypeRef {
			continue
		}
		v, ok := values[f.Name].(string)
		if !ok || v == "" || a.CanRead(f.To) && !hidden[f.Name] {
			continue
		}
		if cur != nil && cur.Values[f.Name] == v {
			continue
		}
		return &store.InvalidError{Field: f.Name, Message: fmt.Sprintf("%s: no %s with id %q", f.Name, f.To, v)}
	}
	return nil
}

// MayReadFile reports whether the actor may read a stored file: an admin,
// the system, a rule and a plugin on its own any; a user (or a plugin
// acting for one) one they uploaded or one held by a record they see
// (Actor.Sees), so that another's record does not lend its files to an
// own_only user.
func (s *Service) MayReadFile(ctx context.Context, a Actor, f *store.File) (bool, error) {
	if !a.hasUser() || a.User.IsAdmin() || f.CreatedBy == a.userID() {
		return true, nil
	}
	var readable []string
	for _, name := range s.sch.EntityNames() {
		if a.CanRead(name) {
			readable = append(readable, name)
		}
	}
	holders, err := s.st.FileHolders(ctx, f.ID, readable)
	if err != nil {
		return false, fmt.Errorf("holders of file %s: %w", f.ID, err)
	}
	for _, h := range holders {
		if a.OwnerBound(h.Entity) == "" {
			return true, nil
		}
		r, err := s.st.Get(ctx, h.Entity, h.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("holder %s %s of file %s: %w", h.Entity, h.ID, f.ID, err)
		}
		if a.Sees(r) {
			return true, nil
		}
	}
	return false, nil
}

// SearchRequest is a global search ("find a customer").
type SearchRequest struct {
	Query    string
	Entities []string // the entities to search; none for every searched entity the actor may read
	Limit    int      // default 20, at most 100
}

// Search finds records by their searched fields, only among the records
// the actor sees: an entity named that it may not read is refused as a
// list of it would be; with none named, the others are left out silently;
// an own_only user's hits are their own records (Actor.OwnerBound), found
// through the owner index.
func (s *Service) Search(ctx context.Context, a Actor, req SearchRequest) ([]store.SearchHit, error) {
	ents := []string{}
	for _, name := range req.Entities {
		ent, err := s.Entity(a, name, false)
		if err != nil {
			return nil, err
		}
		ents = append(ents, ent.Name)
	}
	if len(req.Entities) == 0 {
		for _, ent := range s.sch.Entities() {
			if len(ent.SearchFields()) > 0 && a.CanRead(ent.Name) {
				ents = append(ents, ent.Name)
			}
		}
		if len(ents) == 0 {
			return nil, nil // nothing searched that the actor may read
		}
	}
	q := store.SearchQuery{Text: req.Query, Entities: ents, Limit: req.Limit}
	for _, name := range ents {
		if owner := a.OwnerBound(name); owner != "" {
			if q.Owners == nil {
				q.Owners = map[string]string{}
			}
			q.Owners[name] = owner
		}
	}
	return s.st.Search(ctx, q)
}
