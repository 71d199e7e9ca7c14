package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
)

// bulkError is a record a bulk edit could not change, and why.
type bulkError struct {
	ID    string   `json:"id"`
	Error apiError `json:"error"`
}

// MaxBulkIDs is how many records one bulk edit may change.
const MaxBulkIDs = 500

// bulkUpdate: POST /api/v1/records/{entity}/bulk {"ids": [...], "set":
// {field: value}} -> {"updated": n, "errors": [{"id", "error": {...}}]}.
// The set is decoded and checked once, before anything is written (a bad
// field or value is a 422 and nothing changes); then each record is
// updated through the record service as PATCH would, with its own history
// entry, and a record that cannot be (not found, not the caller's to
// change, a unique value taken) is reported in errors without stopping the
// others.
func (s *Server) bulkUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	a := records.UserActor(p)
	ent, err := s.records.Entity(a, r.PathValue("entity"), true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		IDs []string        `json:"ids"`
		Set json.RawMessage `json:"set"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case len(in.IDs) == 0:
		writeError(w, http.StatusUnprocessableEntity, "required", "ids: list the records to change", "ids")
		return
	case len(in.IDs) > MaxBulkIDs:
		writeError(w, http.StatusUnprocessableEntity, "too_many", fmt.Sprintf("ids: at most %d records at a time, not %d", MaxBulkIDs, len(in.IDs)), "ids")
		return
	}
	set := bytes.TrimSpace(in.Set)
	if len(set) == 0 || bytes.Equal(set, []byte("null")) || bytes.Equal(set, []byte("{}")) {
		writeError(w, http.StatusUnprocessableEntity, "required", "set: give at least one field to set", "set")
		return
	}
	values, err := records.Decode(ent, set)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	seen := make(map[string]bool, len(in.IDs))
	updated := 0
	failures := []bulkError{}
	for _, id := range in.IDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := r.Context().Err(); err != nil {
			s.fail(w, r, err)
			return
		}
		_, err := s.records.Update(r.Context(), a, records.UpdateRequest{Entity: ent.Name, ID: id, Values: values})
		if err == nil {
			updated++
			continue
		}
		status, body := s.classify(err)
		if status >= http.StatusInternalServerError {
			// A failure of the server, not of this record: stop here and
			// say how far it got in the log.
			s.log.ErrorContext(r.Context(), "bulk edit failed", "entity", ent.Name, "id", id, "updated", updated, "err", err)
			s.fail(w, r, err)
			return
		}
		if body.Code == "not_found" {
			body.Message = fmt.Sprintf("no %s with id %q", ent.Name, id)
		}
		failures = append(failures, bulkError{ID: id, Error: body})
	}
	writeJSON(w, http.StatusOK, map[string]any{"updated": updated, "errors": failures})
}
