package auth

import (
	"context"
	"slices"

	"github.com/crmkit/crm/config"
)

// perms is a role compiled for quick checks.
type perms struct {
	name     string
	admin    bool
	readAll  bool
	writeAll bool
	read     map[string]bool // includes the written entities: writing implies reading
	write    map[string]bool
	ownOnly  bool
	cfg      *config.Role // as configured; nil for admin
}

var adminPerms = &perms{name: AdminRole, admin: true, readAll: true, writeAll: true}

func compileRole(r *config.Role) *perms {
	p := &perms{name: r.Name, read: map[string]bool{}, write: map[string]bool{}, ownOnly: r.OwnOnly, cfg: r}
	for _, e := range r.Read {
		if e == "*" {
			p.readAll = true
		}
		p.read[e] = true
	}
	for _, e := range r.Write {
		if e == "*" {
			p.readAll, p.writeAll = true, true
		}
		p.read[e] = true
		p.write[e] = true
	}
	return p
}

// roleSet is one immutable generation of the roles; SetRoles swaps it whole.
type roleSet struct {
	byName map[string]*perms
	names  []string // "admin" first, then the configured roles in config order
}

func (rs *roleSet) get(name string) *perms { return rs.byName[name] }

// SetRoles replaces the configured roles (on a configuration reload). A role
// named "admin" or a nil role is ignored: admin is built in. It is safe for
// concurrent use; principals authenticated before keep the roles they were
// given until their request ends.
func (s *Service) SetRoles(roles []*config.Role) {
	rs := &roleSet{byName: map[string]*perms{AdminRole: adminPerms}, names: []string{AdminRole}}
	for _, r := range roles {
		if r == nil || r.Name == "" || rs.byName[r.Name] != nil {
			continue
		}
		rs.byName[r.Name] = compileRole(r)
		rs.names = append(rs.names, r.Name)
	}
	s.roles.Store(rs)
}

// RoleNames lists the roles a user may have: "admin", then the configured
// roles in configuration order.
func (s *Service) RoleNames() []string {
	return slices.Clone(s.roles.Load().names)
}

// Principal is who is calling: the user, and the session or API token the
// call came through (nil for a principal made by Service.Principal). Its
// permission methods answer from the user's role as it was when the
// principal was made; a user whose role no longer exists may do nothing.
type Principal struct {
	User  *User
	Token *Token

	perms *perms
}

// Principal returns a principal acting as u with u's current role, without
// a token: for calls made on a user's behalf outside a request (the CLI,
// rules, plugin actions).
func (s *Service) Principal(u *User) *Principal {
	return &Principal{User: u, perms: s.permsOf(u)}
}

// PrincipalOf returns the principal of the user with id, with the user's
// current role, for calls made on the user's behalf (a plugin acting for
// them); nil for an unknown or disabled user, who may do nothing.
func (s *Service) PrincipalOf(ctx context.Context, id string) *Principal {
	u, err := s.User(ctx, id)
	if err != nil || u.Disabled {
		return nil
	}
	return s.Principal(u)
}

func (s *Service) permsOf(u *User) *perms {
	if u == nil {
		return nil
	}
	return s.roles.Load().get(u.Role)
}

func (p *Principal) permissions() *perms {
	if p == nil || p.User == nil || p.User.Disabled {
		return nil
	}
	if p.perms != nil {
		return p.perms
	}
	if p.User.Role == AdminRole { // a Principal built by hand
		return adminPerms
	}
	return nil
}

// IsAdmin reports whether the principal has the built-in admin role.
func (p *Principal) IsAdmin() bool {
	pp := p.permissions()
	return pp != nil && pp.admin
}

// CanRead reports whether the principal may read records of entity: an
// admin may read everything; a role may read the entities it names in read
// or write, or all of them with "*".
func (p *Principal) CanRead(entity string) bool {
	pp := p.permissions()
	return pp != nil && (pp.readAll || pp.read[entity])
}

// CanWrite reports whether the principal may create records of entity (and
// change them, subject to CanChange): an admin may write everything; a role
// the entities it names in write, or all of them with "*".
func (p *Principal) CanWrite(entity string) bool {
	pp := p.permissions()
	return pp != nil && (pp.writeAll || pp.write[entity])
}

// CanChange reports whether the principal may update or delete a record of
// entity owned by the user with id owner: CanWrite, and for an own_only role
// only when the principal owns it.
func (p *Principal) CanChange(entity, owner string) bool {
	if !p.CanWrite(entity) {
		return false
	}
	return !p.permissions().ownOnly || owner == p.User.ID
}

// OwnOnly reports whether the principal's role is own_only: on the
// entities it writes, it sees and changes only the records it owns, and may
// not give records to others (core/records applies this, on every path).
// It is true for a user without a valid role, who may do nothing anyway.
func (p *Principal) OwnOnly() bool {
	pp := p.permissions()
	return pp == nil || pp.ownOnly
}
