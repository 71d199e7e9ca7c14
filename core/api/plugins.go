package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/records"
)

func (s *Server) pluginRoutes(authed func(string, authedHandler)) {
	authed("GET /api/v1/plugins", s.listPlugins)
	authed("GET /api/v1/plugins/{name}", s.getPlugin)
	authed("POST /api/v1/plugins/{name}/actions/{action}", s.invokePlugin)
	authed("POST /api/v1/plugins/{name}/restart", s.adminOnly(s.restartPlugin))
	// Webhooks are authenticated by the plugin (e.g. a shared secret).
	s.mux.Handle("/hooks/{name}/", http.HandlerFunc(s.pluginWebhook))
}

func (s *Server) pluginHost(w http.ResponseWriter) *plugins.Host {
	if s.opts.Plugins == nil {
		writeError(w, http.StatusNotFound, "not_found", "no plugin host is running", "")
	}
	return s.opts.Plugins
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	h := s.pluginHost(w)
	if h == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": h.Plugins()})
}

func (s *Server) getPlugin(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	h := s.pluginHost(w)
	if h == nil {
		return
	}
	name := r.PathValue("name")
	for _, st := range h.Plugins() {
		if st.Name != name {
			continue
		}
		out := map[string]any{"status": st}
		if m, ok := h.Manifest(name); ok {
			out["manifest"] = m
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no plugin %q", name), "")
}

// invokePlugin calls a plugin action on a record as the calling user, who
// must be able to read the record.
func (s *Server) invokePlugin(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	h := s.pluginHost(w)
	if h == nil {
		return
	}
	name, action := r.PathValue("name"), r.PathValue("action")
	var in struct {
		Entity string          `json:"entity"`
		ID     string          `json:"id"`
		Args   json.RawMessage `json:"args"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	// The host checks the arguments against the plugin's manifest; numbers
	// reach it exactly as they were sent.
	var args map[string]any
	if len(in.Args) > 0 {
		dec := json.NewDecoder(bytes.NewReader(in.Args))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_json", "args must be a JSON object of the action's arguments", "args")
			return
		}
	}
	call := plugins.Call{Action: action, Args: args,
		User: &plugins.User{ID: p.User.ID, Email: p.User.Email, Name: p.User.Name, Role: p.User.Role, Extension: p.User.Extension}}
	if in.Entity != "" || in.ID != "" {
		if _, err := s.records.Get(r.Context(), records.UserActor(p), in.Entity, in.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		call.Record = &plugins.RecordRef{Entity: in.Entity, ID: in.ID}
	}
	res, err := h.Invoke(r.Context(), name, call)
	if err != nil {
		s.pluginError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": json.RawMessage(orNull(res))})
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// pluginError answers a call the host refused for its plugin's manifest
// as the client's error (400, 404 or 405, naming the argument), a
// plugin's refusal as the client's error (422) and a plugin's failure as
// the upstream failure it is (502/503/504).
func (s *Server) pluginError(w http.ResponseWriter, r *http.Request, err error) {
	var refusal *plugins.Refusal
	var ce *plugins.CallError
	var ic *plugins.InvalidCall
	switch {
	case errors.As(err, &ic):
		status := http.StatusBadRequest
		switch ic.Code {
		case plugins.CodeUnknownAction, plugins.CodeNoRoute:
			status = http.StatusNotFound
		case plugins.CodeMethodNotAllowed:
			status = http.StatusMethodNotAllowed
			w.Header().Set("Allow", strings.Join(ic.Allow, ", "))
		}
		writeError(w, status, ic.Code, ic.Error(), ic.Field)
	case errors.As(err, &refusal):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]apiError{"error": {Code: refusal.Code, Message: refusal.Error(), Field: refusal.Field}})
	case errors.Is(err, plugins.ErrUnknown):
		writeError(w, http.StatusNotFound, "not_found", err.Error(), "")
	case errors.Is(err, plugins.ErrNotRunning):
		writeError(w, http.StatusServiceUnavailable, "plugin_unavailable", err.Error(), "")
	case errors.Is(err, plugins.ErrTimeout):
		writeError(w, http.StatusGatewayTimeout, "plugin_timeout", err.Error(), "")
	case errors.As(err, &ce):
		writeError(w, http.StatusBadGateway, "plugin_failed", err.Error(), "")
	default:
		s.fail(w, r, err)
	}
}

// pluginWebhook passes a request under /hooks/{name}/ to the plugin.
func (s *Server) pluginWebhook(w http.ResponseWriter, r *http.Request) {
	h := s.pluginHost(w)
	if h == nil {
		return
	}
	name := r.PathValue("name")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := h.HandleWebhook(r.Context(), name, plugins.WebhookRequest{
		Method: r.Method, Path: "/" + strings.TrimPrefix(r.URL.Path, "/hooks/"+name+"/"), Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, RemoteAddr: r.RemoteAddr,
	})
	if err != nil {
		s.pluginError(w, r, err)
		return
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.Copy(w, bytes.NewReader(res.Body))
}

// restartPlugin restarts a plugin (also one the supervisor gave up on).
func (s *Server) restartPlugin(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	h := s.pluginHost(w)
	if h == nil {
		return
	}
	if err := h.Restart(r.Context(), r.PathValue("name")); err != nil {
		s.pluginError(w, r, err)
		return
	}
	s.getPlugin(w, r, nil)
}
