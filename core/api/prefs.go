package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/crmkit/crm/core/auth"
)

// profileJSON is a user as the UI shows them to themselves: their public
// fields, with language and calendar defaulted from the locale block.
func (s *Server) profileJSON(u *auth.User) map[string]any {
	out := u.Public()
	loc := s.opts.Schema.Locale()
	if u.Language == "" || !slices.Contains(loc.Languages, u.Language) {
		// A language the locale no longer offers falls back too.
		out["language"] = loc.Default
	}
	if u.Calendar == "" {
		out["calendar"] = loc.Calendar
	}
	return out
}

// updateMe changes the caller's name, language, calendar and extension:
// PATCH /api/v1/auth/me {name?, language?, calendar?, extension?}; "" for
// language or calendar goes back to the locale's default, "" for extension
// removes it.
func (s *Server) updateMe(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in struct {
		Name      *string `json:"name"`
		Language  *string `json:"language"`
		Calendar  *string `json:"calendar"`
		Extension *string `json:"extension"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.opts.Auth.UpdateProfile(r.Context(), p.User.ID, auth.ProfileChange{
		Name: in.Name, Language: in.Language, Calendar: in.Calendar, Extension: in.Extension,
		Languages: s.opts.Schema.Locale().Languages,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": s.profileJSON(u)})
}

// changePassword: POST /api/v1/auth/password {current, new}. The caller's
// other sessions end; the one it was sent with stays.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Current == "" {
		writeError(w, http.StatusUnprocessableEntity, "required", "current: give your current password", "current")
		return
	}
	keep := ""
	if p.Token != nil {
		keep = p.Token.ID
	}
	err := s.opts.Auth.ChangePassword(r.Context(), p.User.ID, in.Current, in.New, keep, r.RemoteAddr)
	if errors.Is(err, auth.ErrWrongPassword) {
		writeError(w, http.StatusForbidden, "wrong_password", "current: that is not your current password", "current")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// updateUser: PATCH /api/v1/users/{id} {name?, role?, disabled?, password?, extension?}
// (admin). Disabling ends the user's sessions and revokes its API tokens.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	var in struct {
		Name      *string `json:"name"`
		Role      *string `json:"role"`
		Disabled  *bool   `json:"disabled"`
		Password  *string `json:"password"`
		Extension *string `json:"extension"`
	}
	if err := readJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.opts.Auth.ChangeUser(r.Context(), r.PathValue("id"), auth.UserChange{
		Name: in.Name, Role: in.Role, Disabled: in.Disabled, Password: in.Password, Extension: in.Extension,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u.Public())
}

// listRoles: GET /api/v1/roles (admin) -> {"items": [{name, read, write,
// own_only, admin?}]}.
func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, _ *auth.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"items": s.opts.Auth.Roles()})
}
