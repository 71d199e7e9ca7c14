package main

import (
	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/plugins"
	"github.com/crmkit/crm/plugins/sdk"
)

// The configuration loader learns the first-party plugins (their entities
// and events) from their static manifests, through config.FirstParty, so
// that roles and rules may name them before any plugin process starts.
func init() { config.FirstParty = firstPartyPlugins }

// firstPartyPlugins reads the manifests of the first-party plugins
// registered in package plugins, in name order.
func firstPartyPlugins() []config.FirstPartyPlugin {
	var out []config.FirstPartyPlugin
	for _, name := range plugins.Names() {
		f, ok := plugins.Builtin(name)
		if !ok {
			continue
		}
		out = append(out, firstPartyOf(name, f().Manifest()))
	}
	return out
}

// firstPartyOf is what the loader knows of a plugin from its manifest.
func firstPartyOf(name string, m sdk.Manifest) config.FirstPartyPlugin {
	p := config.FirstPartyPlugin{Name: name}
	for _, e := range m.Entities {
		p.Entities = append(p.Entities, e.Name)
	}
	typed := map[string]bool{}
	for _, e := range m.Events {
		typed[e.Name] = true
		ev := &config.PluginEvent{Name: e.Name, Plugin: name, Typed: true, Subject: e.Subject}
		for _, a := range e.Payload {
			ev.Payload = append(ev.Payload, &config.Field{Name: a.Name, Label: a.Name, Type: a.Type, Required: a.Required, Values: a.Values, To: a.To})
		}
		p.Events = append(p.Events, ev)
	}
	for _, e := range m.Emits {
		if !typed[e] {
			p.Events = append(p.Events, &config.PluginEvent{Name: e, Plugin: name})
		}
	}
	return p
}
