package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// recordJSON is the API form of a record.
func (s *Server) recordJSON(ctx context.Context, ent *schema.Entity, r *store.Record) map[string]any {
	return store.APIForm(ctx, s.opts.Store, ent, r)
}

// entityFor resolves the {entity} of a route and checks that the caller may
// read it (and write it, when write is set).
func (s *Server) entityFor(w http.ResponseWriter, r *http.Request, p *auth.Principal, write bool) *schema.Entity {
	name := r.PathValue("entity")
	ent := s.opts.Schema.Entity(name)
	if ent == nil {
		writeError(w, http.StatusNotFound, "unknown_entity", fmt.Sprintf("no entity %q", name), "")
		return nil
	}
	if !p.CanRead(name) {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("your role may not read %s records", name), "")
		return nil
	}
	if write && !p.CanWrite(name) {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("your role may not change %s records", name), "")
		return nil
	}
	return ent
}

// readBody reads a JSON request body of at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, &schema.FieldError{Code: "invalid_json", Message: fmt.Sprintf("Content-Type must be application/json, not %q", ct)}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &schema.FieldError{Code: "invalid_json", Message: "could not read the request body: " + err.Error()}
	}
	return body, nil
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, false)
	if ent == nil {
		return
	}
	q := r.URL.Query()
	query := store.Query{Entity: ent.Name, Sort: store.ParseSort(q.Get("sort")), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("limit: %q is not a positive whole number", l), "limit")
			return
		}
		query.Limit = n
	}
	if f := q.Get("filter"); strings.TrimSpace(f) != "" {
		flt, err := store.CompileFilter(ent, f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		query.Filter = flt
	}
	page, err := s.opts.Store.List(r.Context(), query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, len(page.Items))
	for i, rec := range page.Items {
		items[i] = s.recordJSON(r.Context(), ent, rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor})
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, false)
	if ent == nil {
		return
	}
	rec, err := s.opts.Store.Get(r.Context(), ent.Name, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusOK, s.recordJSON(r.Context(), ent, rec))
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, true)
	if ent == nil {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := ent.DecodeInput(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Owner != "" && in.Owner != p.User.ID && p.OwnOnly() {
		writeError(w, http.StatusForbidden, "forbidden", "your role may not create records owned by someone else", "owner")
		return
	}
	if err := ent.CheckRecord(in.Values); err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.opts.Store.Create(r.Context(), store.CreateRequest{Entity: ent.Name, Values: in.Values, Owner: in.Owner, By: p.User.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/records/"+ent.Name+"/"+rec.ID)
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusCreated, s.recordJSON(r.Context(), ent, rec))
}

// ifMatch reads an If-Match header: a version number, quoted or not.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, &store.QueryError{Param: "If-Match", Message: fmt.Sprintf("%q is not a record version", h)}
	}
	return v, nil
}

// mayChange is the store-side check that the caller may change the current
// version of a record (own_only roles: only their own).
func mayChange(p *auth.Principal, entity string) store.Check {
	return func(cur *store.Record) error {
		if !p.CanChange(entity, cur.Owner) {
			return fmt.Errorf("%w: your role may change only the %s records you own", auth.ErrForbidden, entity)
		}
		return nil
	}
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, true)
	if ent == nil {
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := ent.DecodeInput(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Owner != "" && p.OwnOnly() && in.Owner != p.User.ID {
		writeError(w, http.StatusForbidden, "forbidden", "your role may not give records to someone else", "owner")
		return
	}
	rec, err := s.opts.Store.Update(r.Context(), store.UpdateRequest{
		Entity: ent.Name, ID: r.PathValue("id"), Set: in.Values, Clear: in.Nulls, Owner: in.Owner,
		IfVersion: version, By: p.User.ID, Check: mayChange(p, ent.Name),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(rec.Version, 10)))
	writeJSON(w, http.StatusOK, s.recordJSON(r.Context(), ent, rec))
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, true)
	if ent == nil {
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	force := false
	if f := r.URL.Query().Get("force"); f != "" {
		force, err = strconv.ParseBool(f)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("force: %q is not true or false", f), "force")
			return
		}
	}
	if force && !p.IsAdmin() {
		writeError(w, http.StatusForbidden, "forbidden", "only an admin may force a delete", "force")
		return
	}
	_, err = s.opts.Store.Delete(r.Context(), store.DeleteRequest{
		Entity: ent.Name, ID: r.PathValue("id"), Force: force, IfVersion: version,
		By: p.User.ID, Check: mayChange(p, ent.Name),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	ent := s.entityFor(w, r, p, false)
	if ent == nil {
		return
	}
	id := r.PathValue("id")
	if _, err := s.opts.Store.Get(r.Context(), ent.Name, id); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if !p.IsAdmin() { // a deleted record's history is for admins
			s.fail(w, r, err)
			return
		}
	}
	entries, err := s.opts.Store.History(r.Context(), ent.Name, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(entries) == 0 {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	out := make([]map[string]any, len(entries))
	for i, h := range entries {
		out[i] = map[string]any{"at": h.At, "by": h.By, "action": h.Action, "version": h.Version, "changes": h.Changes}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var entities []map[string]any
	for _, e := range s.opts.Schema.Entities() {
		if !p.CanRead(e.Name) {
			continue
		}
		fields := make([]map[string]any, 0, len(e.Fields))
		for _, f := range e.Fields {
			fd := map[string]any{"name": f.Name, "label": f.Label, "type": f.Type,
				"required": f.Required, "unique": f.Unique, "index": f.Index}
			if len(f.Values) > 0 {
				fd["values"] = f.Values
			}
			if f.To != "" {
				fd["to"] = f.To
			}
			fields = append(fields, fd)
		}
		var pipelines []map[string]any
		for _, pl := range s.opts.Schema.Pipelines(e.Name) {
			pipelines = append(pipelines, map[string]any{"name": pl.Name, "stages": pl.Stages})
		}
		entities = append(entities, map[string]any{
			"name": e.Name, "label": e.Label, "builtin": e.Builtin, "fields": fields,
			"pipelines": pipelines, "can_write": p.CanWrite(e.Name),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"entities": entities})
}
