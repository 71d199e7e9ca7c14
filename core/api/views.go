package api

import (
	"net/http"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/views"
)

// viewBody is the JSON body of POST and PATCH /api/v1/views.
type viewBody struct {
	Name    *string   `json:"name"`
	Entity  *string   `json:"entity"`
	Filter  *string   `json:"filter"`
	Sort    *string   `json:"sort"`
	Columns *[]string `json:"columns"`
	Shared  *bool     `json:"shared"`
}

func (b viewBody) change() views.Change {
	return views.Change{Name: b.Name, Entity: b.Entity, Filter: b.Filter, Sort: b.Sort, Columns: b.Columns, Shared: b.Shared}
}

// listViews: GET /api/v1/views?entity= -> {"items": [view...]}, the
// caller's own views and the shared ones of entities they may read.
func (s *Server) listViews(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	items, err := s.views.List(r.Context(), p, r.URL.Query().Get("entity"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if items == nil {
		items = []*views.View{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// createView: POST /api/v1/views {name, entity, filter?, sort?, columns?,
// shared?} -> 201 view.
func (s *Server) createView(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in viewBody
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.views.Create(r.Context(), p, in.change())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/views/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
}

// updateView: PATCH /api/v1/views/{id} (the owner or an admin).
func (s *Server) updateView(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in viewBody
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.views.Update(r.Context(), p, r.PathValue("id"), in.change())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// deleteView: DELETE /api/v1/views/{id} (the owner or an admin).
func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := s.views.Delete(r.Context(), p, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
