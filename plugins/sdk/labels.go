package sdk

import "slices"

// UILanguages are the languages of crm's web UI: a first-party plugin
// labels its entities, fields and buttons in each of them.
var UILanguages = []string{"en", "hy", "lt", "az", "fa", "ru"}

// Translations are labels in languages other than English, keyed by what
// they label: an entity ("invoice"), a field of an entity
// ("invoice.number"), a field of every entity of the manifest ("*.name"),
// a button ("button:issue_invoice"), an action's argument
// ("arg:record_payment.amount", or "arg:amount" for an argument of that
// name of every action) or a field of its items
// ("arg:record_payment.allocations.invoice", or "arg:invoice"), each
// mapped to its label per language code ({"hy": "...", "ru": "..."}).
type Translations map[string]map[string]string

// Localize is m with the Labels of its entities, fields and UI actions
// filled from ts (the first of ts that has a key wins; a field's own key
// before its "*." key), each with its English Label as "en". What ts does
// not name keeps the Labels it had.
func Localize(m Manifest, ts ...Translations) Manifest {
	with := func(label string, had map[string]string, keys ...string) map[string]string {
		for _, k := range keys {
			for _, t := range ts {
				tr, ok := t[k]
				if !ok {
					continue
				}
				out := map[string]string{"en": label}
				for lang, s := range tr {
					out[lang] = s
				}
				return out
			}
		}
		return had
	}
	for i := range m.Entities {
		e := &m.Entities[i]
		e.Labels = with(e.Label, e.Labels, e.Name)
		for j := range e.Fields {
			f := &e.Fields[j]
			f.Labels = with(f.Label, f.Labels, e.Name+"."+f.Name, "*."+f.Name)
		}
	}
	for i := range m.UIActions {
		u := &m.UIActions[i]
		u.Labels = with(u.Label, u.Labels, "button:"+u.Action)
	}
	m.Actions = slices.Clone(m.Actions)
	for i := range m.Actions {
		a := &m.Actions[i]
		a.Args = slices.Clone(a.Args)
		for j := range a.Args {
			g := &a.Args[j]
			g.Labels = with(g.Label, g.Labels, "arg:"+a.Name+"."+g.Name, "arg:"+g.Name)
			g.Items = slices.Clone(g.Items)
			for k := range g.Items {
				it := &g.Items[k]
				it.Labels = with(it.Label, it.Labels, "arg:"+a.Name+"."+g.Name+"."+it.Name, "arg:"+it.Name)
			}
		}
	}
	return m
}

// Unlabelled lists what of m has no label in one of langs: "entity
// invoice: hy", "field invoice.number: fa", "button issue_invoice on
// deal: ru". A plugin's test asks it for UILanguages and expects none.
func Unlabelled(m Manifest, langs []string) []string {
	var out []string
	check := func(what string, labels map[string]string) {
		for _, lang := range langs {
			if labels[lang] == "" {
				out = append(out, what+": "+lang)
			}
		}
	}
	for _, e := range m.Entities {
		check("entity "+e.Name, e.Labels)
		for _, f := range e.Fields {
			check("field "+e.Name+"."+f.Name, f.Labels)
		}
	}
	for _, u := range m.UIActions {
		check("button "+u.Action+" on "+u.Entity, u.Labels)
	}
	// An argument is checked once it has an English label.
	for _, a := range m.Actions {
		for _, g := range a.Args {
			if g.Label != "" {
				check("argument "+a.Name+"."+g.Name, g.Labels)
			}
			for _, it := range g.Items {
				if it.Label != "" {
					check("argument "+a.Name+"."+g.Name+"."+it.Name, it.Labels)
				}
			}
		}
	}
	return out
}
