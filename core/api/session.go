package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
)

// readJSON reads a JSON object body into v, refusing unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

// decodeStrict decodes a JSON object body into v, refusing unknown fields
// and trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &schema.FieldError{Code: "invalid_json", Message: "malformed request body: " + err.Error()}
	}
	if dec.More() {
		return &schema.FieldError{Code: "invalid_json", Message: "malformed request body: data after the JSON object"}
	}
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Email == "" || in.Password == "" {
		writeError(w, http.StatusBadRequest, "required", "email and password are required", "")
		return
	}
	secret, u, err := s.opts.Auth.Login(r.Context(), in.Email, in.Password, r.RemoteAddr)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionTTL.Seconds()),
	})
	writeJSON(w, http.StatusOK, map[string]any{"token": secret, "user": u.Public()})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if err := s.opts.Auth.Logout(r.Context(), credential(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opts.Hub != nil && p.Token != nil {
		s.opts.Hub.EndSession(p.Token.ID) // its websockets close now
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var readable, writable []string
	for _, name := range s.opts.Schema.EntityNames() {
		if p.CanRead(name) {
			readable = append(readable, name)
		}
		if p.CanWrite(name) {
			writable = append(writable, name)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user": s.profileJSON(p.User),
		"permissions": map[string]any{
			"admin": p.IsAdmin(), "read": readable, "write": writable, "own_only": p.OwnOnly(),
		},
	})
}

func tokenJSON(t *auth.Token) map[string]any {
	out := map[string]any{"id": t.ID, "user_id": t.UserID, "name": t.Name, "kind": t.Kind, "created_at": t.CreatedAt}
	if !t.ExpiresAt.IsZero() {
		out["expires_at"] = t.ExpiresAt
	}
	if !t.LastUsedAt.IsZero() {
		out["last_used_at"] = t.LastUsedAt
	}
	return out
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	user := p.User.ID
	if r.URL.Query().Get("all") == "true" {
		if !p.IsAdmin() {
			writeError(w, http.StatusForbidden, "forbidden", "only an admin may list everyone's tokens", "all")
			return
		}
		user = ""
	}
	tokens, err := s.opts.Auth.Tokens(r.Context(), user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, len(tokens))
	for i, t := range tokens {
		items[i] = tokenJSON(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in struct {
		Name string `json:"name"`
		TTL  string `json:"ttl"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		writeError(w, http.StatusUnprocessableEntity, "invalid_value", "name: give the token a name of 1 to 100 characters", "name")
		return
	}
	var ttl time.Duration
	if in.TTL != "" {
		var err error
		ttl, err = time.ParseDuration(in.TTL)
		if err != nil || ttl <= 0 {
			writeError(w, http.StatusUnprocessableEntity, "invalid_value", fmt.Sprintf("ttl: %q is not a positive duration such as \"720h\"", in.TTL), "ttl")
			return
		}
	}
	secret, t, err := s.opts.Auth.CreateToken(r.Context(), p.User.ID, in.Name, ttl)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := tokenJSON(t)
	out["token"] = secret
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id := r.PathValue("id")
	if !p.IsAdmin() {
		mine, err := s.opts.Auth.Tokens(r.Context(), p.User.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		found := false
		for _, t := range mine {
			found = found || t.ID == id
		}
		if !found {
			writeError(w, http.StatusNotFound, "not_found", "you have no token "+id, "")
			return
		}
	}
	if err := s.opts.Auth.RevokeToken(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opts.Hub != nil {
		s.opts.Hub.EndSession(id)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	users, err := s.opts.Auth.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, len(users))
	for i, u := range users {
		items[i] = u.Public()
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// userDirectory answers every active user's id and name, so that any
// signed-in user sees names instead of ids in user fields and can choose an
// assignee; e-mails, roles and disabled accounts stay with the admin list.
func (s *Server) userDirectory(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	users, err := s.opts.Auth.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]map[string]any, 0, len(users))
	for _, u := range users {
		if u.Disabled {
			continue
		}
		items = append(items, map[string]any{"id": u.ID, "name": u.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.opts.Auth.CreateUser(r.Context(), in.Email, in.Name, in.Role, in.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u.Public())
}
