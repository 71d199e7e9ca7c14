package config

import "slices"

// FirstPartyPlugin is what the loader knows of a plugin built into the
// binary before it runs, from its static manifest: the entities it
// contributes (so that roles and rules may name them) and the events it
// emits. Its actions are checked against its manifest later.
type FirstPartyPlugin struct {
	Name     string
	Entities []string
	Events   []*PluginEvent
}

// PluginEvent is an event a plugin emits, as its manifest declares it.
type PluginEvent struct {
	Name   string // the full name, "warranty.expired"
	Plugin string // the plugin that emits it
	// Typed is true when the manifest declares the payload (and maybe a
	// subject): rules on it see `event` as the payload and `record` as the
	// subject. An event only listed in emits is untyped: rules see its
	// payload as an untyped `record`, as before typed events.
	Typed bool
	// Subject is the entity of the record the event is about; "" for none.
	Subject string
	// Payload are the payload's fields, with the entity field types.
	Payload []*Field
}

// FirstParty returns the first-party plugins built into the binary, in the
// order messages list them. Package config knows no plugin itself: the
// program sets this hook once at start-up, before loading (core/app does,
// from the registry of package plugins); tests set it to the plugins they
// register. Nil, or an empty answer, means there are none.
var FirstParty func() []FirstPartyPlugin

// firstPartyTable is FirstParty's answer, by name, and the names in order.
func firstPartyTable() (map[string]FirstPartyPlugin, []string) {
	table := map[string]FirstPartyPlugin{}
	var names []string
	if FirstParty == nil {
		return table, nil
	}
	for _, p := range FirstParty() {
		if _, dup := table[p.Name]; !dup {
			table[p.Name] = p
			names = append(names, p.Name)
		}
	}
	return table, names
}

// recordEvents are the events every entity's records emit.
var recordEvents = []string{"created", "updated", "deleted", "stage_changed"}

// actionKinds are the built-in rule actions; a plugin's action is "PLUGIN.ACTION".
var actionKinds = []string{"set", "create_record", "create_task", "notify", "webhook"}

// pluginOfEvent returns the first-party plugin that emits event, or "".
func (l *loader) pluginOfEvent(event string) string {
	for _, name := range l.firstPartyNames {
		if slices.ContainsFunc(l.firstParty[name].Events, func(e *PluginEvent) bool { return e.Name == event }) {
			return name
		}
	}
	return ""
}

// firstPartyEvents are the events of every first-party plugin, for
// Config.Events: a rule on one is type-checked even when the plugin's
// block is missing (which is a warning).
func (l *loader) firstPartyEvents() []*PluginEvent {
	var out []*PluginEvent
	for _, name := range l.firstPartyNames {
		for _, e := range l.firstParty[name].Events {
			ev := *e
			ev.Plugin = name
			out = append(out, &ev)
		}
	}
	return out
}

// firstPartyEntities sets the Entities of each first-party plugin block to
// those its manifest contributes (a first-party block names none itself),
// so that the schema gets them as a third-party block's declared entities
// (app.WithPluginEntities reads their fields from the manifest).
func (l *loader) firstPartyEntities() {
	for _, p := range l.cfg.Plugins {
		if p.Path == "" && len(p.Entities) == 0 {
			p.Entities = slices.Clone(l.firstParty[p.Name].Entities)
		}
	}
}
