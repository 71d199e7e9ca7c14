// Package plugins holds the first-party plugins built into the crm binary,
// registered by name in one place. `crm plugin serve NAME` serves one of
// them; the host (core/plugins) starts them by re-executing the binary and
// knows them only through the protocol. The plugins here are written against
// the SDK alone, as a partner's are: nothing here may import core/ or
// config/.
package plugins

import (
	"fmt"
	"slices"
	"sync"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/doctemplates"
	"github.com/crmkit/crm/plugins/sdk"
)

// Factory makes a fresh instance of a first-party plugin.
type Factory func() sdk.Plugin

var (
	mu       sync.RWMutex
	builtins = map[string]Factory{
		// The first-party plugins, registered here as they are written.
		"accounting":   accounting.New,
		"doctemplates": doctemplates.New,

		"calltracking": calltracking.New,
	}
)

// Register adds a first-party plugin under name. It is for this file's
// table and for tests that need a built-in plugin of their own; it panics
// when the name is taken.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := builtins[name]; dup {
		panic(fmt.Sprintf("plugins.Register: %q is registered twice", name))
	}
	builtins[name] = f
}

// Builtin returns the factory of the first-party plugin named name.
func Builtin(name string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := builtins[name]
	return f, ok
}

// Names lists the registered first-party plugins, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(builtins))
	for name := range builtins {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
