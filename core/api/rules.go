package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/store"
)

func (s *Server) ruleRoutes(authed func(string, authedHandler)) {
	authed("GET /api/v1/rules", s.adminOnly(s.listRules))
	authed("GET /api/v1/rules/{name}/runs", s.adminOnly(s.listRuns))
	authed("POST /api/v1/rules/{name}/runs/{seq}/retry", s.adminOnly(s.retryRun))
	authed("GET /api/v1/config/status", s.adminOnly(s.configStatus))
}

func (s *Server) engine(w http.ResponseWriter) *rules.Engine {
	if s.opts.Rules == nil {
		writeError(w, http.StatusNotFound, "not_found", "the rules engine is not running", "")
	}
	return s.opts.Rules
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	stats, err := eng.Stats(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var items []map[string]any
	for _, rule := range eng.Rules().Rules {
		c := rule.Config
		item := map[string]any{"name": rule.Name, "entity": rule.Entity}
		if len(c.On) > 0 {
			item["on"] = c.On
		}
		if c.Every != "" {
			item["every"] = c.Every
		}
		if c.Cron != "" {
			item["cron"] = c.Cron
		}
		if c.ForEach != "" {
			item["for_each"] = c.ForEach
		}
		if c.When != nil {
			item["when"] = c.When.Source
		}
		kinds := make([]string, len(rule.Actions))
		for i, a := range rule.Actions {
			kinds[i] = a.Kind
			if a.Kind == "plugin" {
				kinds[i] = a.Plugin + "." + a.PluginAction
			}
		}
		item["actions"] = kinds
		st := stats[rule.Name]
		if st == nil {
			st = &rules.Stats{Rule: rule.Name}
		}
		item["runs"] = map[string]any{"ok": st.OK, "failed": st.Failed, "retrying": st.Retrying}
		if !st.LastRun.IsZero() {
			item["last_run"] = st.LastRun
		}
		if st.LastError != "" {
			item["last_error"] = st.LastError
		}
		items = append(items, item)
	}
	pos, err := eng.Position(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "engine_position": pos, "feed_position": s.opts.Store.LastSeq()})
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	name := r.PathValue("name")
	if eng.Rules().Rule(name) == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no rule %q", name), "")
		return
	}
	limit := 50
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "invalid_query", "limit: a whole number from 1 to 1000", "limit")
			return
		}
		limit = n
	}
	runs, err := eng.Runs(r.Context(), name, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": runs})
}

func (s *Server) retryRun(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	eng := s.engine(w)
	if eng == nil {
		return
	}
	runID, ok := runIDOf(r.PathValue("name"), r.PathValue("seq"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_query", "seq: not a run: give its seq (a feed position) or, for a scheduled run, the part of its id after the rule's name (s-RECORD-VERSION)", "seq")
		return
	}
	run, err := eng.Retry(r.Context(), runID)
	if errors.Is(err, rules.ErrUnknownRun) {
		writeError(w, http.StatusNotFound, "not_found", "no such run", "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// runIDOf is the id of a rule's run from the last segment of the retry
// route: the feed position of an event's run, or the tail of a scheduled
// run's id ("s-RECORD-VERSION").
func runIDOf(rule, seg string) (string, bool) {
	if seq, err := strconv.ParseUint(seg, 10, 64); err == nil {
		return fmt.Sprintf("%s/%020d", rule, seq), true
	}
	rest, ok := strings.CutPrefix(seg, "s-")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 1 || !store.ValidID(rest[:i]) {
		return "", false
	}
	if _, err := strconv.ParseInt(rest[i+1:], 10, 64); err != nil {
		return "", false
	}
	return rule + "/" + seg, true
}

func (s *Server) configStatus(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	if s.opts.ConfigStatus == nil {
		writeError(w, http.StatusNotFound, "not_found", "configuration reloading is not enabled", "")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.ConfigStatus())
}
