package doctemplates

import "testing"

// TestManifestLabelledInEveryLanguage: every entity, field and button the
// plugin adds to the UI has a label in each of the UI's six languages, so a
// Persian or Armenian user sees no English in them.
func TestManifestLabelledInEveryLanguage(t *testing.T) {
	m := New().Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, labels map[string]string) {
		t.Helper()
		for _, lang := range languages {
			if labels[lang] == "" {
				t.Errorf("%s has no %s label", what, lang)
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
}
