package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
)

// timeline: GET /api/v1/records/{entity}/{id}/timeline?limit=&cursor= ->
// {"items": [...], "next_cursor"}, newest first: the record's changes
// {"kind": "change", "at", "by", "action", "version", "changes"} merged
// with the records that reference it and that the caller may read
// {"kind": "record", "entity", "field", "at", "record"}.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	req := records.TimelineRequest{Entity: r.PathValue("entity"), ID: r.PathValue("id"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > records.MaxTimelineLimit {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("limit: %q is not a whole number from 1 to %d", l, records.MaxTimelineLimit), "limit")
			return
		}
		req.Limit = n
	}
	page, err := s.records.Timeline(r.Context(), records.UserActor(p), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, len(page.Items))
	for i, it := range page.Items {
		if h := it.Change; h != nil {
			items[i] = map[string]any{"kind": "change", "at": h.At, "by": h.By, "action": h.Action, "version": h.Version, "changes": h.Changes}
			continue
		}
		items[i] = map[string]any{"kind": "record", "entity": it.Entity, "field": it.Field, "at": it.At, "record": s.recordJSON(r.Context(), it.Record)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor})
}
