package records

import (
	"fmt"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// CodeLocked is the code of an update or delete refused because the
// record is locked: its entity's plugin declares that records in this
// state (an issued invoice) are changed by the plugin alone.
const CodeLocked = "locked"

// unlocked checks, inside the write, that the actor may change the current
// version of a record of a plugin's entity that declares a lock
// (schema.Entity.Locked, from the plugin's manifest): a record the lock's
// filter matches is changed or deleted by that plugin alone (on its own or
// acting for a user, whose rights apply as well); every other actor,
// an admin, a rule and the system included, gets a conflict that says why.
// A create is checked on the record it would make: no one but the plugin
// makes a record that is locked from the start (an invoice created as
// issued).
func unlocked(a Actor, ent *schema.Entity, cur *store.Record) error {
	if ent.Locked == "" || (ent.Plugin != "" && a.Plugin == ent.Plugin) {
		return nil
	}
	f, err := store.CompileFilter(ent, ent.Locked)
	if err != nil {
		return &Error{Kind: KindConflict, Code: CodeLocked, err: err,
			Message: fmt.Sprintf("%s records are locked by plugin %q with a condition that does not compile (%v): nothing may change them but the plugin", ent.Name, ent.Plugin, err)}
	}
	locked, err := f.Eval(cur)
	if err != nil {
		return fmt.Errorf("lock of %s %s: %w", ent.Name, cur.ID, err)
	}
	if !locked {
		return nil
	}
	if cur.ID == "" {
		return &Error{Kind: KindConflict, Code: CodeLocked,
			Message: fmt.Sprintf("a %s that is %s is made by plugin %q alone, through its actions; nothing was created", ent.Name, ent.Locked, ent.Plugin)}
	}
	return &Error{Kind: KindConflict, Code: CodeLocked,
		Message: fmt.Sprintf("%s %s is locked (%s): only plugin %q changes it now, through its actions; nothing was changed", ent.Name, cur.ID, ent.Locked, ent.Plugin)}
}
