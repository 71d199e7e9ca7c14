// Package views owns saved views: a named list of an entity's records (its
// filter, sort and columns) that a user keeps for themselves or shares
// with everyone who may read the entity. It checks a view's filter, sort
// and columns against the schema when it is saved, and decides who may
// see and change it: a private view only its owner, a shared one every
// reader of the entity; changes the owner or an admin.
//
// Views are system documents of the store (kind view, key the view id).
// It must not speak HTTP; its errors are *records.Error, which the API
// maps once.
package views

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Limits of a view.
const (
	MaxName    = 100 // runes
	MaxColumns = 100
	// MaxPerUser is how many views one user may own.
	MaxPerUser = 500
)

// View is a saved view.
type View struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Entity    string    `json:"entity"`
	Filter    string    `json:"filter"`
	Sort      string    `json:"sort"`
	Columns   []string  `json:"columns"`
	Shared    bool      `json:"shared"`
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Service keeps the saved views of one store.
type Service struct {
	st  store.Store
	sch *schema.Schema
	now func() time.Time
}

// New returns the views service over a store and its schema.
func New(st store.Store, sch *schema.Schema) *Service {
	return &Service{st: st, sch: sch, now: time.Now}
}

// Change is a new view (every field but Shared required) or a change to one
// (nil fields stay as they are).
type Change struct {
	Name    *string
	Entity  *string
	Filter  *string
	Sort    *string
	Columns *[]string
	Shared  *bool
}

func invalid(field, format string, args ...any) error {
	return &records.Error{Kind: records.KindInvalid, Code: schema.CodeInvalidValue, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(id string) error {
	return &records.Error{Kind: records.KindNotFound, Code: "not_found", Message: fmt.Sprintf("no view %q", id)}
}

// canSee reports whether p may see v: its owner, or a reader of its entity
// when it is shared.
func canSee(p *auth.Principal, v *View) bool {
	if !p.CanRead(v.Entity) {
		return false
	}
	return v.Owner == p.User.ID || v.Shared
}

// List returns the views of an entity ("" for every entity) that p may see,
// their own first, then the shared ones, each by name. An entity p may not
// read is refused as a list of its records would be.
func (s *Service) List(ctx context.Context, p *auth.Principal, entity string) ([]*View, error) {
	if entity != "" {
		if s.sch.Entity(entity) == nil {
			return nil, &records.Error{Kind: records.KindNotFound, Code: "unknown_entity", Field: "entity", Message: fmt.Sprintf("no entity %q", entity)}
		}
		if !p.CanRead(entity) {
			return nil, &records.Error{Kind: records.KindForbidden, Code: "forbidden", Message: fmt.Sprintf("your role may not read %s records", entity)}
		}
	}
	var out []*View
	err := s.st.SysList(ctx, store.KindView, "", func(key string, data []byte) error {
		var v View
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("decode view %s: %w", key, err)
		}
		if (entity == "" || v.Entity == entity) && canSee(p, &v) {
			out = append(out, &v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	mine := func(v *View) int {
		if v.Owner == p.User.ID {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b *View) int {
		if d := mine(a) - mine(b); d != 0 {
			return d
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

// Get returns a view p may see.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (*View, error) {
	v, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(p, v) {
		return nil, notFound(id)
	}
	return v, nil
}

func (s *Service) get(ctx context.Context, id string) (*View, error) {
	var v View
	err := s.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindView, id, &v) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read view %s: %w", id, err)
	}
	return &v, nil
}

// Create saves a new view owned by p, after checking it.
func (s *Service) Create(ctx context.Context, p *auth.Principal, c Change) (*View, error) {
	if c.Name == nil {
		return nil, invalid("name", "name: give the view a name")
	}
	if c.Entity == nil {
		return nil, invalid("entity", "entity: name the entity the view lists")
	}
	now := s.now().UTC()
	v := &View{ID: store.NewID(), Owner: p.User.ID, Columns: []string{}, CreatedAt: now, UpdatedAt: now}
	if err := s.apply(p, v, c); err != nil {
		return nil, err
	}
	n := 0
	err := s.st.SysList(ctx, store.KindView, "", func(_ string, data []byte) error {
		var o View
		if json.Unmarshal(data, &o) == nil && o.Owner == p.User.ID {
			n++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count views: %w", err)
	}
	if n >= MaxPerUser {
		return nil, invalid("", "you have %d views, the most one user may keep; delete some first", n)
	}
	if err := s.put(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Update changes a view; only its owner or an admin may.
func (s *Service) Update(ctx context.Context, p *auth.Principal, id string, c Change) (*View, error) {
	v, err := s.changeable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.apply(p, v, c); err != nil {
		return nil, err
	}
	v.UpdatedAt = s.now().UTC()
	if err := s.put(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

// Delete deletes a view; only its owner or an admin may.
func (s *Service) Delete(ctx context.Context, p *auth.Principal, id string) error {
	if _, err := s.changeable(ctx, p, id); err != nil {
		return err
	}
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Delete(store.KindView, id) })
	if err != nil {
		return fmt.Errorf("delete view %s: %w", id, err)
	}
	return nil
}

// changeable returns a view p may change: p sees it and owns it or is an
// admin. One p may not see is not found; one p sees but may not change is
// forbidden.
func (s *Service) changeable(ctx context.Context, p *auth.Principal, id string) (*View, error) {
	v, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if v.Owner != p.User.ID && !p.IsAdmin() {
		return nil, &records.Error{Kind: records.KindForbidden, Code: "forbidden", Message: "only the view's owner or an admin may change it"}
	}
	return v, nil
}

func (s *Service) put(ctx context.Context, v *View) error {
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindView, v.ID, v) })
	if err != nil {
		return fmt.Errorf("save view %s: %w", v.ID, err)
	}
	return nil
}

// apply checks a change against the schema and applies it to v.
func (s *Service) apply(p *auth.Principal, v *View, c Change) error {
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if name == "" || utf8.RuneCountInString(name) > MaxName || strings.ContainsFunc(name, isControl) {
			return invalid("name", "name: give the view a name of 1 to %d characters", MaxName)
		}
		v.Name = name
	}
	if c.Entity != nil {
		if v.Entity != "" && *c.Entity != v.Entity {
			return invalid("entity", "entity: a view's entity cannot change; save a new view instead")
		}
		v.Entity = *c.Entity
	}
	ent := s.sch.Entity(v.Entity)
	if ent == nil {
		return &records.Error{Kind: records.KindInvalid, Code: "unknown_entity", Field: "entity",
			Message: fmt.Sprintf("entity: no entity %q%s", v.Entity, config.DidYouMean(v.Entity, s.sch.EntityNames()))}
	}
	if !p.CanRead(ent.Name) {
		return &records.Error{Kind: records.KindForbidden, Code: "forbidden", Field: "entity", Message: fmt.Sprintf("your role may not read %s records", ent.Name)}
	}
	if c.Filter != nil {
		if err := checkFilter(ent, *c.Filter); err != nil {
			return err
		}
		v.Filter = strings.TrimSpace(*c.Filter)
	}
	if c.Sort != nil {
		if err := checkSort(ent, *c.Sort); err != nil {
			return err
		}
		v.Sort = strings.TrimSpace(*c.Sort)
	}
	if c.Columns != nil {
		if err := checkColumns(ent, *c.Columns); err != nil {
			return err
		}
		v.Columns = slices.Clone(*c.Columns)
	}
	if c.Shared != nil {
		v.Shared = *c.Shared
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkFilter compiles a filter as a list would, and answers a problem
// with its position.
func checkFilter(ent *schema.Entity, src string) error {
	if strings.TrimSpace(src) == "" {
		return nil
	}
	_, err := store.CompileFilter(ent, src)
	var fe *store.FilterError
	if errors.As(err, &fe) {
		return &records.Error{Kind: records.KindInvalid, Code: "invalid_filter", Field: "filter",
			Message: fe.Error(), Line: fe.Line, Column: fe.Column}
	}
	return err
}

// checkSort checks that every sort key names a field of the entity.
func checkSort(ent *schema.Entity, sort string) error {
	for _, k := range store.ParseSort(sort) {
		if ent.Lookup(k.Field) == nil {
			return invalid("sort", "sort: %s has no field %q%s", ent.Name, k.Field, config.DidYouMean(k.Field, fieldNames(ent)))
		}
	}
	return nil
}

// checkColumns checks that every column names a field, once.
func checkColumns(ent *schema.Entity, cols []string) error {
	if len(cols) > MaxColumns {
		return invalid("columns", "columns: at most %d", MaxColumns)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if ent.Lookup(c) == nil {
			return invalid("columns", "columns: %s has no field %q%s", ent.Name, c, config.DidYouMean(c, fieldNames(ent)))
		}
		if seen[c] {
			return invalid("columns", "columns: %q is given twice", c)
		}
		seen[c] = true
	}
	return nil
}

// fieldNames are the declared and system field names of an entity.
func fieldNames(ent *schema.Entity) []string {
	names := ent.FieldNames()
	for _, f := range ent.SystemFields() {
		names = append(names, f.Name)
	}
	return names
}
