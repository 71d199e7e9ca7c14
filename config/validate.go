package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// The validation pass runs after every block is decoded. It merges the
// entity blocks into the built-in entities, fills in what is derived
// (labels, pipeline fields, the default pipeline), drops duplicates after
// reporting them, and checks every reference across blocks.

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

const nameRule = "a name starts with a lower-case letter and has only a-z, 0-9 and _"

// validate runs the whole pass, in the order the checks depend on: entities
// before the pipelines that add fields to them, plugins before the roles and
// rules that may name their entities.
func (l *loader) validate() {
	l.mergeEntities()
	for _, e := range l.cfg.Entities {
		l.checkEntity(e)
	}
	l.checkPipelines()
	l.checkPlugins()
	l.checkRoles()
	l.checkRules()
	l.checkTests()
	l.checkServer()
	l.checkLocale()
	l.checkLabels()
}

// checkName reports a name that is not a lower-case identifier.
func (l *loader) checkName(kind, name string, s *src) {
	if !nameRe.MatchString(name) {
		l.report(s.name, fmt.Sprintf("invalid %s name %q", kind, name), nameRule)
	}
}

// dedupe reports every item whose name an earlier item has, and returns the
// items without those. in says where, for names unique only within a block.
func dedupe[T any](l *loader, kind, in string, items []T, name func(T) string) []T {
	first := map[string]T{}
	out := make([]T, 0, len(items))
	for _, it := range items {
		n := name(it)
		if prev, dup := first[n]; dup {
			l.report(l.src[it].name, fmt.Sprintf("duplicate %s %q%s", kind, n, in), "first defined at "+where(l.src[prev].def))
			continue
		}
		first[n] = it
		out = append(out, it)
	}
	return out
}

// mergeEntities builds Config.Entities: the built-ins, extended by the blocks
// that name them, then the entities the blocks define.
func (l *loader) mergeEntities() {
	l.cfg.Entities = builtinEntities()
	decl := dedupe(l, "entity", "", l.entities, func(e *Entity) string { return e.Name })
	for _, e := range decl {
		l.checkName("entity", e.Name, l.src[e])
		if isBuiltinEntity(e.Name) {
			l.extend(l.cfg.Entity(e.Name), e)
			continue
		}
		e.Extends = l.contributor(e.Name)
		l.cfg.Entities = append(l.cfg.Entities, e)
	}
}

// contributor is the plugin whose block contributes the entity (a
// first-party plugin's manifest, or a block's entities), or "".
func (l *loader) contributor(entity string) string {
	for _, p := range l.cfg.Plugins {
		if slices.Contains(p.Entities, entity) || (p.Path == "" && slices.Contains(l.firstParty[p.Name].Entities, entity)) {
			return p.Name
		}
	}
	return ""
}

// extend adds the fields and label of an entity block to a built-in entity.
func (l *loader) extend(b, e *Entity) {
	b.Range = e.Range
	b.Labels = mergeLabels(b.Labels, e.Labels, l.src[e])
	if l.src[e].ok("label") {
		b.Label = e.Label
	}
	for _, f := range e.Fields {
		if bf := b.Field(f.Name); bf != nil && bf.Builtin {
			l.repeatBuiltin(b, bf, f)
			continue
		}
		b.Fields = append(b.Fields, f)
	}
}

// repeatBuiltin accepts an entity block's field that repeats built-in
// field bf with the same type (and, for a ref or an enum, the same target
// or values): its label replaces the built-in one and index may be added.
// Any other change is an error, since records were stored under the
// built-in definition. search, like index, may be added.
func (l *loader) repeatBuiltin(b *Entity, bf, f *Field) {
	at := l.src[f]
	switch {
	case f.Type != bf.Type:
		l.report(at.name, fmt.Sprintf("field %q is built into %s with type %s, not %s", f.Name, b.Name, bf.Type, f.Type),
			fmt.Sprintf("repeat it with type = %q, or name your field otherwise", bf.Type))
	case f.Type == TypeRef && f.To != bf.To:
		l.report(at.name, fmt.Sprintf("field %q is built into %s as a ref to %s, not to %s", f.Name, b.Name, bf.To, f.To), "")
	case f.Type == TypeEnum && at.has("values") && !slices.Equal(f.Values, bf.Values):
		l.report(at.name, fmt.Sprintf("field %q is built into %s with values %s", f.Name, b.Name, strings.Join(bf.Values, ", ")), "")
	case (at.has("required") && f.Required != bf.Required) || (at.has("unique") && f.Unique != bf.Unique):
		l.report(at.name, fmt.Sprintf("field %q is built into %s; a repeat may change only its label, index and search", f.Name, b.Name), "")
	default:
		bf.Labels = mergeLabels(bf.Labels, f.Labels, at)
		if at.ok("label") {
			bf.Label = f.Label
		}
		bf.Index = bf.Index || f.Index
		bf.Search = bf.Search || f.Search
		if f.Search {
			l.checkSearch(bf, at)
		}
	}
}

// mergeLabels is the labels of a built-in entity or field that a block
// repeats: a block that gives its own label replaces the built-in
// translations with its labels (which then translate that label); one
// that gives only labels overrides the built-in ones language by language.
func mergeLabels(builtin, given map[string]string, s *src) map[string]string {
	if s.ok("label") {
		return given
	}
	if len(given) == 0 {
		return builtin
	}
	out := make(map[string]string, len(builtin)+len(given))
	for k, v := range builtin {
		out[k] = v
	}
	for k, v := range given {
		out[k] = v
	}
	return out
}

// checkEntity checks the fields an entity block declares and fills in labels.
func (l *loader) checkEntity(e *Entity) {
	if e.Label == "" {
		e.Label = defaultLabel(e.Name)
	}
	e.Fields = dedupe(l, "field", fmt.Sprintf(" in entity %q", e.Name), e.Fields, func(f *Field) string { return f.Name })
	for _, f := range e.Fields {
		if f.Label == "" {
			f.Label = defaultLabel(f.Name)
		}
		if !f.Builtin {
			l.checkField(f)
		}
	}
}

// defaultLabel is a name with its first letter upper-cased and its
// underscores made spaces: "closed_at" -> "Closed at".
func defaultLabel(name string) string {
	r := []rune(strings.ReplaceAll(name, "_", " "))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}

// checkField checks one declared field: its name, its type and the
// attributes that only some types take.
func (l *loader) checkField(f *Field) {
	s := l.src[f]
	l.checkName("field", f.Name, s)
	if slices.Contains(ReservedFields, f.Name) {
		l.report(s.name, fmt.Sprintf("field name %q is reserved", f.Name),
			"every record has these system fields: "+strings.Join(ReservedFields, ", "))
	}
	if !s.ok("type") {
		return // missing (hcl said so) or not a string (decode said so)
	}
	if !slices.Contains(FieldTypes, f.Type) {
		l.report(s.at("type"), fmt.Sprintf("unknown field type %q", f.Type), hint(f.Type, FieldTypes, "valid types"))
		return
	}
	if f.Type == TypeObject && (f.Unique || f.Index) {
		attr, what := "index", "indexed"
		if f.Unique {
			attr, what = "unique", "unique"
		}
		l.report(s.at(attr), fmt.Sprintf("field %q of type object cannot be %s", f.Name, what),
			"an object (a JSON object, as a plugin writes one) is not indexed, searched or sorted on")
	}
	l.checkEnum(f, s)
	l.checkRef(f, s)
	l.checkSearch(f, s)
}

// SearchTypes are the field types global search can find records by.
var SearchTypes = []string{TypeString, TypeText, TypeEmail, TypePhone, TypeURL, TypeEnum}

// checkSearch refuses search = true on a field whose values are not text.
func (l *loader) checkSearch(f *Field, s *src) {
	if f.Search && !slices.Contains(SearchTypes, f.Type) {
		l.report(s.at("search"), fmt.Sprintf("field %q of type %s cannot be searched", f.Name, f.Type),
			"search = true is for fields of type "+strings.Join(SearchTypes, ", "))
	}
}

// checkEnum checks values: given, non-empty and unique for an enum, absent
// otherwise.
func (l *loader) checkEnum(f *Field, s *src) {
	if f.Type != TypeEnum {
		if s.has("values") {
			l.report(s.at("values"), "values is only for enum fields", fmt.Sprintf("field %q has type %q", f.Name, f.Type))
		}
		return
	}
	if s.failed["values"] {
		return
	}
	if len(f.Values) == 0 {
		at := s.at("type")
		if s.has("values") {
			at = s.at("values")
		}
		l.report(at, fmt.Sprintf("enum field %q has no values", f.Name), `list them, e.g. values = ["new", "done"]`)
		return
	}
	l.checkUnique(f.Values, s, "values", "value", fmt.Sprintf(" in enum field %q", f.Name))
}

// checkUnique reports every repeated string of a list attribute.
func (l *loader) checkUnique(list []string, s *src, attr, kind, in string) {
	seen := map[string]int{}
	for i, v := range list {
		if j, dup := seen[v]; dup {
			l.report(s.elem(attr, i), fmt.Sprintf("duplicate %s %q%s", kind, v, in), "first given at "+where(s.elem(attr, j)))
			continue
		}
		seen[v] = i
	}
}

// checkRef checks to: given and naming an entity for a ref, absent otherwise.
func (l *loader) checkRef(f *Field, s *src) {
	if f.Type != TypeRef {
		if s.has("to") {
			l.report(s.at("to"), "to is only for ref fields", fmt.Sprintf("field %q has type %q", f.Name, f.Type))
		}
		return
	}
	if !s.has("to") {
		l.report(s.at("type"), fmt.Sprintf("ref field %q has no to", f.Name), `name the entity it points at, e.g. to = "contact"`)
		return
	}
	if s.ok("to") && l.cfg.Entity(f.To) == nil && !slices.Contains(l.contributedNames(), f.To) {
		names := append(l.configEntityNames(), l.contributedNames()...)
		l.report(s.at("to"), fmt.Sprintf("ref field %q points at unknown entity %q", f.Name, f.To), hint(f.To, names, "entities"))
	}
}

// configEntityNames are the names of the entities of the configuration.
func (l *loader) configEntityNames() []string {
	names := make([]string, 0, len(l.cfg.Entities))
	for _, e := range l.cfg.Entities {
		names = append(names, e.Name)
	}
	return names
}

// entityNames are the entities that roles, plugins and rules may name: those
// of the configuration, those the declared first-party plugins contribute
// and those the plugin blocks declare in entities.
func (l *loader) entityNames() []string {
	names := l.configEntityNames()
	for _, p := range l.cfg.Plugins {
		if p.Path == "" {
			names = append(names, l.firstParty[p.Name].Entities...)
		}
	}
	for _, n := range l.contributedNames() {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// contributedNames are the entities the plugin blocks declare in entities.
func (l *loader) contributedNames() []string {
	var names []string
	for _, p := range l.cfg.Plugins {
		names = append(names, p.Entities...)
	}
	return names
}

// checkEntityList reports the unknown entity names of a list attribute; "*"
// means every entity.
func (l *loader) checkEntityList(list []string, s *src, attr, owner string) {
	names := l.entityNames()
	for i, n := range list {
		if n == "*" || slices.Contains(names, n) {
			continue
		}
		l.report(s.elem(attr, i), fmt.Sprintf("unknown entity %q in %s of %s", n, attr, owner), hint(n, names, "entities"))
	}
}
