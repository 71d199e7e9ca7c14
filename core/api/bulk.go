package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

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

// bulkWorkers is how many of a bulk edit's writes are in flight at once.
const bulkWorkers = 8

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
	for _, name := range values.Clear {
		if f := ent.Field(name); f != nil && f.Required {
			writeError(w, http.StatusUnprocessableEntity, "required", fmt.Sprintf("%s: a %s must have one; it cannot be cleared", name, ent.Name), name)
			return
		}
	}
	var ids []string
	seen := make(map[string]bool, len(in.IDs))
	for _, id := range in.IDs {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	// A few writes at a time: the store's group commit makes one
	// transaction of those that arrive together, so 500 records take a
	// fraction of the time one after another would.
	errs := make([]error, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(bulkWorkers, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, errs[i] = s.records.Update(r.Context(), a, records.UpdateRequest{Entity: ent.Name, ID: ids[i], Values: values})
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	updated := 0
	failures := []bulkError{}
	for i, err := range errs {
		if err == nil {
			updated++
			continue
		}
		status, body := s.classify(err)
		if status >= http.StatusInternalServerError {
			// A failure of the server (or a client gone), not of this
			// record: the answer is that failure, and the log says how
			// far the edit got.
			s.log.ErrorContext(r.Context(), "bulk edit failed", "entity", ent.Name, "id", ids[i], "err", err)
			s.fail(w, r, err)
			return
		}
		if body.Code == "not_found" {
			body.Message = fmt.Sprintf("no %s with id %q", ent.Name, ids[i])
		}
		failures = append(failures, bulkError{ID: ids[i], Error: body})
	}
	writeJSON(w, http.StatusOK, map[string]any{"updated": updated, "errors": failures})
}
