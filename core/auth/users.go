package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/crmkit/crm/core/store"
)

const (
	maxEmailLen = 254
	maxNameLen  = 200 // runes
)

// normEmail is the form e-mails are stored, indexed and rate-limited under.
func normEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkEmail normalises and validates an e-mail address: a bare address
// (no display name), as net/mail reads it.
func checkEmail(email string) (string, error) {
	email = normEmail(email)
	if email == "" {
		return "", invalid("email", "e-mail is required")
	}
	if len(email) > maxEmailLen {
		return "", invalid("email", "e-mail is longer than %d characters", maxEmailLen)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Name != "" || a.Address != email || !strings.Contains(email, "@") {
		return "", invalid("email", "%q is not an e-mail address like name@example.com", email)
	}
	return email, nil
}

// checkName trims a display name and defaults it to the e-mail's local part.
func checkName(name, email string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if !utf8.ValidString(name) {
		return "", invalid("name", "name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > maxNameLen {
		return "", invalid("name", "name is longer than %d characters", maxNameLen)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid("name", "name contains a control character")
	}
	return name, nil
}

// checkNewPassword enforces the password policy on a new password.
func checkNewPassword(password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return invalid("password", "password must be at least %d characters", MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return invalid("password", "password must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// checkRole returns an error naming the valid roles unless role exists.
func (s *Service) checkRole(role string) error {
	rs := s.roles.Load()
	if rs.get(role) != nil {
		return nil
	}
	if role == "" {
		return invalid("role", "role is required; valid roles: %s", strings.Join(rs.names, ", "))
	}
	return invalid("role", "unknown role %q; valid roles: %s", role, strings.Join(rs.names, ", "))
}

// getUser reads a user inside a transaction, with ErrNotFound when absent.
func getUser(tx store.SysTx, id string) (*User, error) {
	var u User
	if err := tx.Get(kindUser, id, &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		return nil, err
	}
	return &u, nil
}

// CreateUser adds a user. The e-mail is trimmed, lower-cased and must be a
// bare address; name defaults to the e-mail's local part; role must be
// "admin" or a configured role; the password must have at least
// MinPasswordLen characters. Validation errors are *InvalidError; an e-mail
// already taken is ErrExists, decided in the same transaction that adds the
// user, so that of concurrent creations with one e-mail exactly one wins.
func (s *Service) CreateUser(ctx context.Context, email, name, role, password string) (*User, error) {
	email, err := checkEmail(email)
	if err != nil {
		return nil, err
	}
	if name, err = checkName(name, email); err != nil {
		return nil, err
	}
	if err := s.checkRole(role); err != nil {
		return nil, err
	}
	if err := checkNewPassword(password); err != nil {
		return nil, err
	}
	exists := func(tx store.SysTx) error {
		var id string
		switch err := tx.Get(kindUserEmail, email, &id); {
		case err == nil:
			return fmt.Errorf("a user with e-mail %s %w", email, ErrExists)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return nil
	}
	// Spare the hash for a plain duplicate; the update below decides.
	if err := s.st.SysView(ctx, exists); err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &User{
		ID:           store.NewID(),
		Email:        email,
		Name:         name,
		Role:         role,
		PasswordHash: hash,
		CreatedAt:    s.now().UTC(),
	}
	err = s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		if err := exists(tx); err != nil {
			return err
		}
		if err := tx.Put(kindUser, u.ID, u); err != nil {
			return err
		}
		return tx.Put(kindUserEmail, email, u.ID)
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created", "user", u.ID, "email", u.Email, "role", u.Role)
	return u, nil
}

// SetPassword replaces a user's password (subject to the same policy as
// CreateUser). It does not end the user's sessions; call
// RevokeUserSessions for that.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	if err := checkNewPassword(password); err != nil {
		return err
	}
	if _, err := s.User(ctx, userID); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	defer s.creds.invalidate() // after the commit: see credcache.go
	err = s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		u, err := getUser(tx, userID)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		return tx.Put(kindUser, u.ID, u)
	})
	if err != nil {
		return err
	}
	s.announce(ctx, Revocation{User: userID})
	s.log.InfoContext(ctx, "password changed", "user", userID)
	return nil
}

// SetDisabled disables or re-enables a user. A disabled user cannot log in,
// and its sessions and API tokens stop working (they work again when it is
// enabled, if they have not expired). Disabling the last enabled admin is
// ErrForbidden.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	return s.changeUser(ctx, userID, func(u *User) { u.Disabled = disabled })
}

// SetRole gives a user another role ("admin" or a configured one).
// Taking the admin role from the last enabled admin is ErrForbidden.
func (s *Service) SetRole(ctx context.Context, userID, role string) error {
	if err := s.checkRole(role); err != nil {
		return err
	}
	return s.changeUser(ctx, userID, func(u *User) { u.Role = role })
}

// changeUser applies change to a user, refusing a change that would leave
// no enabled admin. The check counts admins before the write, so two
// concurrent demotions of the last two admins may both pass; the CLI can
// always add an admin back.
func (s *Service) changeUser(ctx context.Context, userID string, change func(*User)) error {
	u, err := s.User(ctx, userID)
	if err != nil {
		return err
	}
	after := *u
	change(&after)
	if isActiveAdmin(u) && !isActiveAdmin(&after) {
		users, err := s.Users(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, o := range users {
			if isActiveAdmin(o) {
				n++
			}
		}
		if n <= 1 {
			return fmt.Errorf("%w: %s is the last enabled admin", ErrForbidden, u.Email)
		}
	}
	defer s.creds.invalidate() // after the commit: see credcache.go
	err = s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		cur, err := getUser(tx, userID)
		if err != nil {
			return err
		}
		change(cur)
		return tx.Put(kindUser, cur.ID, cur)
	})
	if err != nil {
		return err
	}
	s.announce(ctx, Revocation{User: userID, UserEnded: after.Disabled})
	s.log.InfoContext(ctx, "user changed", "user", userID, "role", after.Role, "disabled", after.Disabled)
	return nil
}

func isActiveAdmin(u *User) bool { return u.Role == AdminRole && !u.Disabled }

// UserByEmail returns the user with the e-mail (compared trimmed and
// lower-cased), or ErrNotFound.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	email = normEmail(email)
	var u *User
	err := s.st.SysView(ctx, func(tx store.SysTx) error {
		var id string
		if err := tx.Get(kindUserEmail, email, &id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("user %s: %w", email, ErrNotFound)
			}
			return err
		}
		var err error
		u, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// User returns the user with the id, or ErrNotFound.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	var u *User
	err := s.st.SysView(ctx, func(tx store.SysTx) error {
		var err error
		u, err = getUser(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Users returns every user, oldest first.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	var users []*User
	err := s.st.SysList(ctx, kindUser, "", func(key string, data []byte) error {
		var u User
		if err := json.Unmarshal(data, &u); err != nil {
			return fmt.Errorf("decode user %s: %w", key, err)
		}
		users = append(users, &u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

var errStop = errors.New("stop")

// hasUsers reports whether the store holds at least one user.
func (s *Service) hasUsers(ctx context.Context) (bool, error) {
	found := false
	err := s.st.SysList(ctx, kindUser, "", func(string, []byte) error {
		found = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return found, nil
}

// GeneratedPasswordLen is the length of the password EnsureAdmin makes.
const GeneratedPasswordLen = 20

// EnsureAdmin creates the first admin when the store has no user at all:
// with email (DefaultAdminEmail when "") and password, or, when password is
// "", a random GeneratedPasswordLen-character one returned in generated (to
// be shown once). When there is any user already it does nothing.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (created bool, generated string, err error) {
	has, err := s.hasUsers(ctx)
	if err != nil || has {
		return false, "", err
	}
	if strings.TrimSpace(email) == "" {
		email = DefaultAdminEmail
	}
	if password == "" {
		generated = randomPassword(GeneratedPasswordLen)
		password = generated
	}
	u, err := s.CreateUser(ctx, email, "Admin", AdminRole, password)
	if errors.Is(err, ErrExists) { // another process got there first
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	s.log.InfoContext(ctx, "first admin created", "user", u.ID, "email", u.Email, "generated_password", generated != "")
	return true, generated, nil
}
