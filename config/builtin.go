package config

// The built-in entities. builtinEntities builds them afresh on each call so
// that a Config may extend its copy without touching another's.

// builtinField is the compact form of a built-in field.
type builtinField struct {
	name, typ string
	required  bool
	index     bool
	search    bool     // global search finds records by it
	to        string   // ref target
	values    []string // enum values
}

var builtinDefs = []struct {
	name, label string
	fields      []builtinField
}{
	{"contact", "Contact", []builtinField{
		{name: "name", typ: TypeString, required: true, index: true, search: true},
		{name: "email", typ: TypeEmail, index: true, search: true},
		{name: "phone", typ: TypePhone, index: true, search: true},
		{name: "company", typ: TypeRef, to: "company"},
		{name: "source", typ: TypeString, index: true},
		{name: "birthday", typ: TypeDate},
		{name: "notes", typ: TypeText},
	}},
	{"company", "Company", []builtinField{
		{name: "name", typ: TypeString, required: true, index: true, search: true},
		{name: "phone", typ: TypePhone, search: true},
		{name: "email", typ: TypeEmail, index: true, search: true},
		{name: "website", typ: TypeURL},
		{name: "industry", typ: TypeString, index: true},
		{name: "notes", typ: TypeText},
	}},
	{"deal", "Deal", []builtinField{
		{name: "title", typ: TypeString, required: true, index: true},
		{name: "amount", typ: TypeMoney},
		{name: "pipeline", typ: TypeString, index: true},
		{name: "stage", typ: TypeString, index: true},
		{name: "contact", typ: TypeRef, to: "contact"},
		{name: "company", typ: TypeRef, to: "company"},
		{name: "source", typ: TypeString, index: true},
		{name: "closed_at", typ: TypeDateTime},
		{name: "notes", typ: TypeText},
	}},
	{"activity", "Activity", []builtinField{
		{name: "kind", typ: TypeEnum, required: true, index: true, values: []string{"call", "meeting", "email", "note"}},
		{name: "subject", typ: TypeString},
		{name: "body", typ: TypeText},
		{name: "status", typ: TypeString, index: true},
		{name: "contact", typ: TypeRef, to: "contact"},
		{name: "company", typ: TypeRef, to: "company"},
		{name: "deal", typ: TypeRef, to: "deal"},
		{name: "at", typ: TypeDateTime, index: true},
	}},
	{"task", "Task", []builtinField{
		{name: "title", typ: TypeString, required: true, index: true},
		{name: "due", typ: TypeDateTime, index: true},
		{name: "assignee", typ: TypeUser, index: true},
		{name: "done", typ: TypeBool, index: true},
		{name: "contact", typ: TypeRef, to: "contact"},
		{name: "deal", typ: TypeRef, to: "deal"},
		{name: "notes", typ: TypeText},
	}},
}

// defaultPipeline is the pipeline of deals when no pipeline block names the
// deal entity.
func defaultPipeline() *Pipeline {
	return &Pipeline{
		Name:   "sales",
		Entity: "deal",
		Stages: []string{"new", "qualified", "proposal", "negotiation", "won", "lost"},
	}
}

// builtinEntities returns new copies of the built-in entities, in the order
// Config.Entities lists them.
func builtinEntities() []*Entity {
	out := make([]*Entity, 0, len(builtinDefs))
	for _, d := range builtinDefs {
		e := &Entity{Name: d.name, Label: d.label, Labels: builtinLabel(d.name), Builtin: true}
		for _, bf := range d.fields {
			e.Fields = append(e.Fields, &Field{
				Name:        bf.name,
				Label:       defaultLabel(bf.name),
				Labels:      builtinLabel(d.name + "." + bf.name),
				ValueLabels: builtinValueLabels(d.name, bf.name, bf.values),
				Type:        bf.typ,
				Required:    bf.required,
				Index:       bf.index,
				Search:      bf.search,
				Values:      append([]string(nil), bf.values...),
				To:          bf.to,
				Builtin:     true,
			})
		}
		out = append(out, e)
	}
	return out
}

// isBuiltinEntity reports whether name is one of the built-in entities.
func isBuiltinEntity(name string) bool {
	for _, d := range builtinDefs {
		if d.name == name {
			return true
		}
	}
	return false
}
