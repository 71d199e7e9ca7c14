package records

import (
	"fmt"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/store"
)

// Grants are what a plugin's HCL block lets it read and write.
type Grants interface {
	CanRead(entity string) bool
	CanWrite(entity string) bool
	// Describe says what the block grants, for a denial's message.
	Describe() string
}

// Actor is who makes a record operation:
//   - a user (User set): over HTTP, the UI, the CLI;
//   - a rule (Rule set), which may do anything the configuration says;
//   - a plugin on its own (Plugin and Grants set), within its grants;
//   - a plugin acting for a user (Plugin, Grants and User set), which may
//     do only what both the plugin and the user may;
//   - the system (nothing set): imports, test data, maintenance.
type Actor struct {
	User   *auth.Principal
	Rule   string
	Plugin string
	Grants Grants
	// Cause names the rule chain that led to the operation
	// ("rule_a>rule_b"), so loops can be cut.
	Cause string
}

// UserActor is a user acting in person.
func UserActor(p *auth.Principal) Actor { return Actor{User: p} }

// RuleActor is a rule's action.
func RuleActor(rule, cause string) Actor { return Actor{Rule: rule, Cause: cause} }

// PluginActor is a plugin, acting on its own (user nil) or for a user.
func PluginActor(plugin string, g Grants, user *auth.Principal) Actor {
	return Actor{Plugin: plugin, Grants: g, User: user}
}

// SystemActor is the system itself.
func SystemActor() Actor { return Actor{} }

// By is the author recorded in history and in the change feed: the user's
// id, "rule:NAME", "plugin:NAME", or "" for the system.
func (a Actor) By() string {
	switch {
	case a.Plugin != "":
		return "plugin:" + a.Plugin
	case a.Rule != "":
		return "rule:" + a.Rule
	case a.User != nil && a.User.User != nil:
		return a.User.User.ID
	}
	return ""
}

// userID is the id of the user the actor is or acts for; "" for none.
func (a Actor) userID() string {
	if a.User != nil && a.User.User != nil {
		return a.User.User.ID
	}
	return ""
}

// hasUser reports whether a user's rights bound the actor.
func (a Actor) hasUser() bool { return a.User != nil }

func (a Actor) describe() string {
	switch {
	case a.Plugin != "" && a.hasUser():
		return fmt.Sprintf("plugin %q acting for user %s", a.Plugin, a.userID())
	case a.Plugin != "":
		return fmt.Sprintf("plugin %q", a.Plugin)
	case a.Rule != "":
		return fmt.Sprintf("rule %q", a.Rule)
	case a.hasUser():
		return "your role"
	}
	return "the system"
}

// CanRead reports whether the actor may read records of entity.
func (a Actor) CanRead(entity string) bool {
	if a.Grants != nil && !a.Grants.CanRead(entity) {
		return false
	}
	if a.hasUser() && !a.User.CanRead(entity) {
		return false
	}
	return true
}

// CanWrite reports whether the actor may create records of entity.
func (a Actor) CanWrite(entity string) bool {
	if a.Grants != nil && !a.Grants.CanWrite(entity) {
		return false
	}
	if a.hasUser() && !a.User.CanWrite(entity) {
		return false
	}
	return true
}

// OwnerBound is the owner the actor's reads of entity are bound to, "" for
// none: for a user (or a plugin acting for one) whose role is own_only, on
// an entity the role writes, the user's id. This is the one rule of
// own_only, for every reader: such a user sees, and may change, only the
// records of those entities that they own; what the role only reads (a
// catalogue of vehicles, the companies), it reads in full. An admin is never
// bound; nor are rules, plugins on their own and the system.
func (a Actor) OwnerBound(entity string) string {
	if !a.hasUser() || a.User.IsAdmin() || !a.User.OwnOnly() || !a.User.CanWrite(entity) {
		return ""
	}
	return a.userID()
}

// givesAway reports whether naming owner would give a record to someone
// other than the actor's user while its role is own_only, which it may not.
func (a Actor) givesAway(owner string) bool {
	return a.hasUser() && owner != "" && owner != a.userID() && a.User.OwnOnly()
}

// Sees reports whether the actor may see a record: it may read the
// record's entity and, when OwnerBound binds it there, owns the record.
func (a Actor) Sees(r *store.Record) bool {
	if r == nil || !a.CanRead(r.Entity) {
		return false
	}
	owner := a.OwnerBound(r.Entity)
	return owner == "" || r.Owner == owner
}

// authorise checks that the actor may read (or write) entity, and says who
// stands in the way: the plugin's block or the user's role.
func (a Actor) authorise(entity string, write bool) error {
	verb := map[bool]string{false: "read", true: "change"}[write]
	if a.Grants != nil {
		ok := a.Grants.CanRead(entity)
		if write {
			ok = a.Grants.CanWrite(entity)
		}
		if !ok {
			pverb := map[bool]string{false: "read", true: "write"}[write]
			return &Error{Kind: KindForbidden, Code: CodePluginDenied, Message: fmt.Sprintf("plugin %q may not %s %s records: its plugin block grants %s", a.Plugin, pverb, entity, a.Grants.Describe())}
		}
	}
	if a.hasUser() {
		ok := a.User.CanRead(entity)
		if write {
			ok = a.User.CanWrite(entity)
		}
		if !ok {
			if a.Plugin != "" {
				return forbidden("", "plugin %q acts for user %s, whose role may not %s %s records", a.Plugin, a.userID(), verb, entity)
			}
			return forbidden("", "your role may not %s %s records", verb, entity)
		}
	}
	return nil
}

// CodePluginDenied is the code of a denial by a plugin's own grants (its HCL
// block), as opposed to "forbidden", a denial by the user's role.
const CodePluginDenied = "denied"
