package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Calendars a user may choose for the UI.
const (
	CalendarGregorian = "gregorian"
	CalendarJalali    = "jalali"
)

// ProfileChange is a change a user makes to their own profile, or an admin
// to anyone's. A nil field is left as it is; "" for Language or Calendar
// goes back to the locale block's default; "" for Extension removes it.
type ProfileChange struct {
	Name      *string
	Language  *string
	Calendar  *string
	Extension *string
	// Languages are the languages the instance offers (the locale block's
	// languages); a Language outside them is refused. Empty: any BCP 47 tag.
	Languages []string
}

// UpdateProfile changes a user's name, language, calendar and extension, after
// checking all of them: an *InvalidError names the first bad one.
func (s *Service) UpdateProfile(ctx context.Context, userID string, c ProfileChange) (*User, error) {
	if c.Name != nil {
		u, err := s.User(ctx, userID)
		if err != nil {
			return nil, err
		}
		name, err := checkName(*c.Name, u.Email)
		if err != nil {
			return nil, err
		}
		c.Name = &name
	}
	if c.Language != nil && *c.Language != "" {
		if _, err := language.Parse(*c.Language); err != nil || len(c.Languages) > 0 && !slices.Contains(c.Languages, *c.Language) {
			return nil, invalid("language", "unknown language %q; this instance offers %s", *c.Language, strings.Join(c.Languages, ", "))
		}
	}
	if c.Calendar != nil && *c.Calendar != "" && *c.Calendar != CalendarGregorian && *c.Calendar != CalendarJalali {
		return nil, invalid("calendar", "unknown calendar %q; valid calendars: %s, %s", *c.Calendar, CalendarGregorian, CalendarJalali)
	}
	if err := checkExtension(c.Extension); err != nil {
		return nil, err
	}
	err := s.changeUser(ctx, userID, func(u *User) {
		if c.Name != nil {
			u.Name = *c.Name
		}
		if c.Language != nil {
			u.Language = *c.Language
		}
		if c.Calendar != nil {
			u.Calendar = *c.Calendar
		}
		if c.Extension != nil {
			u.Extension = *c.Extension
		}
	})
	if err != nil {
		return nil, err
	}
	return s.User(ctx, userID)
}

// ErrWrongPassword is returned by ChangePassword when the current password
// given is not the user's.
var ErrWrongPassword = fmt.Errorf("%w: the current password is wrong", ErrForbidden)

// ChangePassword replaces a user's password when current is their present
// one, and ends every other session of the user (keepToken, the session
// the change was made from, stays; its API tokens stay too). Wrong
// attempts are rate-limited as logins are, under the account and
// remoteAddr. A new password that breaks the policy is an *InvalidError on
// field "new".
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keepToken, remoteAddr string) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	now := s.now()
	addr := addrKey(remoteAddr)
	if _, err := s.admitLogin(ctx, u.Email, addr, now); err != nil {
		return err
	}
	ok, err := s.check(ctx, u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("user %s: %w", u.ID, err)
	}
	if !ok {
		s.log.WarnContext(ctx, "password change refused: wrong current password", "user", u.ID, "remote_addr", addr)
		return ErrWrongPassword
	}
	if err := checkNewPassword(next); err != nil {
		return &InvalidError{Field: "new", Message: "new " + err.(*InvalidError).Message}
	}
	if err := s.SetPassword(ctx, userID, next); err != nil {
		return err
	}
	return s.revokeTokensOf(ctx, userID, func(t *Token) bool { return t.Kind == KindSession && t.ID != keepToken })
}

// UserChange is an admin's change to a user; nil fields stay as they are
// ("" for Extension removes it).
type UserChange struct {
	Name      *string
	Role      *string
	Disabled  *bool
	Password  *string
	Extension *string
}

// checkExtension refuses an extension that is not 1 to 10 digits ("" is
// none).
func checkExtension(ext *string) error {
	if ext == nil || *ext == "" {
		return nil
	}
	if len(*ext) > 10 || strings.Trim(*ext, "0123456789") != "" {
		return invalid("extension", "extension %q: give 1 to 10 digits (0-9)", *ext)
	}
	return nil
}

// ChangeUser applies an admin's change to a user, after checking every
// part of it. Disabling a user ends its sessions and revokes its API
// tokens; setting its password ends its sessions. Taking the admin role
// from (or disabling) the last enabled admin is ErrForbidden.
func (s *Service) ChangeUser(ctx context.Context, userID string, c UserChange) (*User, error) {
	u, err := s.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if c.Name != nil {
		name, err := checkName(*c.Name, u.Email)
		if err != nil {
			return nil, err
		}
		c.Name = &name
	}
	if c.Role != nil {
		if err := s.checkRole(*c.Role); err != nil {
			return nil, err
		}
	}
	if c.Password != nil {
		if err := checkNewPassword(*c.Password); err != nil {
			return nil, err
		}
	}
	if err := checkExtension(c.Extension); err != nil {
		return nil, err
	}
	err = s.changeUser(ctx, userID, func(u *User) {
		if c.Name != nil {
			u.Name = *c.Name
		}
		if c.Role != nil {
			u.Role = *c.Role
		}
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if c.Extension != nil {
			u.Extension = *c.Extension
		}
	})
	if err != nil {
		return nil, err
	}
	if c.Password != nil {
		if err := s.SetPassword(ctx, userID, *c.Password); err != nil {
			return nil, err
		}
		if err := s.revokeTokensOf(ctx, userID, func(t *Token) bool { return t.Kind == KindSession }); err != nil {
			return nil, err
		}
	}
	if c.Disabled != nil && *c.Disabled {
		if err := s.revokeTokensOf(ctx, userID, func(*Token) bool { return true }); err != nil {
			return nil, err
		}
	}
	return s.User(ctx, userID)
}

// revokeTokensOf deletes the tokens of a user that match.
func (s *Service) revokeTokensOf(ctx context.Context, userID string, match func(*Token) bool) error {
	var docs []*tokenDoc
	err := s.listTokens(ctx, func(doc *tokenDoc) error {
		if doc.UserID == userID && match(&doc.Token) {
			docs = append(docs, doc)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list tokens of %s: %w", userID, err)
	}
	if err := s.deleteTokens(ctx, docs); err != nil {
		return fmt.Errorf("revoke tokens of %s: %w", userID, err)
	}
	if len(docs) > 0 {
		s.log.InfoContext(ctx, "tokens revoked", "user", userID, "count", len(docs))
	}
	return nil
}

// RoleInfo describes a role as configured: what it may read and write, and
// whether it may change only its own records.
type RoleInfo struct {
	Name    string   `json:"name"`
	Read    []string `json:"read"`
	Write   []string `json:"write"`
	OwnOnly bool     `json:"own_only"`
	Admin   bool     `json:"admin,omitempty"`
}

// Roles lists the roles a user may have, "admin" first (reading and
// writing "*"), then the configured roles in configuration order.
func (s *Service) Roles() []RoleInfo {
	rs := s.roles.Load()
	out := make([]RoleInfo, 0, len(rs.names))
	for _, name := range rs.names {
		p := rs.get(name)
		if p.admin || p.cfg == nil {
			out = append(out, RoleInfo{Name: name, Read: []string{"*"}, Write: []string{"*"}, Admin: true})
			continue
		}
		out = append(out, RoleInfo{Name: name, Read: nonNil(p.cfg.Read), Write: nonNil(p.cfg.Write), OwnOnly: p.cfg.OwnOnly})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
