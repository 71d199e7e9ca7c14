package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
)

// search answers GET /api/v1/search?q=...&entity=contact&limit=20: the
// records whose searched fields match q, best first, among the entities
// the caller may read. entity may repeat or list names with commas.
func (s *Server) search(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	q := r.URL.Query()
	req := records.SearchRequest{Query: q.Get("q")}
	if strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "invalid_query", "q: give the text to search for, e.g. ?q=anna", "q")
		return
	}
	for _, e := range q["entity"] {
		for _, name := range strings.Split(e, ",") {
			if name = strings.TrimSpace(name); name != "" {
				req.Entities = append(req.Entities, name)
			}
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("limit: %q is not a positive whole number", l), "limit")
			return
		}
		req.Limit = n
	}
	hits, err := s.records.Search(r.Context(), records.UserActor(p), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, len(hits))
	for i, h := range hits {
		items[i] = map[string]any{"entity": h.Entity, "id": h.ID, "title": h.Title, "match": h.Match,
			"record": s.recordJSON(r.Context(), h.Record)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
