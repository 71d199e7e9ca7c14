package doctemplates

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
	"github.com/crmkit/crm/plugins/sdk"
)

// A plugin cannot refuse a write of its own entity made through the API,
// so templates are uploaded through the upload_template action: it checks
// the file (a DOCX that opens, every placeholder against the schema of the
// entity, its refs and lists) and creates the document_template record
// only when the template is sound. A template record written some other
// way is checked again when a document is generated from it.

// maxTemplateBytes bounds a template file.
const maxTemplateBytes = 16 << 20

// templateArgs are upload_template's arguments, and a template record's
// settings.
type templateArgs struct {
	Name     string `json:"name"`
	Entity   string `json:"entity"`
	Format   string `json:"format"`
	File     any    `json:"file"` // an id, or the file JSON
	Language string `json:"language"`
	Calendar string `json:"calendar"`
	Currency string `json:"currency"`
	Timezone string `json:"timezone"`
	Series   string `json:"series"`
	Lists    string `json:"lists"`
}

// fileID is a file value's id: the id itself, or the file JSON's.
func fileID(v any) string {
	switch f := v.(type) {
	case string:
		return f
	case map[string]any:
		id, _ := f["id"].(string)
		return id
	}
	return ""
}

var nameRe = regexp.MustCompile(`^[\p{L}\p{N}_.-]{1,100}$`)

// upload checks a template and stores it as the next version of its name.
func (p *Plugin) upload(ctx context.Context, call sdk.Call) (any, error) {
	var a templateArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	if !nameRe.MatchString(a.Name) {
		return nil, sdk.RefuseField("name", sdk.CodeInvalidArgs, fmt.Sprintf("template name %q: use letters, digits, _ . - (at most 100)", a.Name))
	}
	id := fileID(a.File)
	if id == "" {
		return nil, sdk.RefuseField("file", sdk.CodeInvalidArgs, "file must name an uploaded file")
	}
	data, err := readFile(ctx, id)
	if err != nil {
		return nil, err
	}
	t, err := p.check(ctx, a, data)
	if err != nil {
		return nil, err
	}
	var phs []string
	for _, ph := range t.Placeholders() {
		phs = append(phs, ph.Where+": {{ "+ph.Expr+" }}")
	}
	values := map[string]any{
		"name": a.Name, "record_entity": a.Entity, "format": a.Format, "file": id,
		"language": orNil(a.Language), "calendar": orNil(a.Calendar), "currency": orNil(strings.ToUpper(a.Currency)),
		"timezone": orNil(a.Timezone), "series": orNil(a.Series), "lists": orNil(a.Lists),
		"placeholders": strings.Join(phs, "\n"),
	}
	host := sdk.HostFrom(ctx)
	for attempt := 0; attempt < maxTakeAttempts; attempt++ {
		latest, err := latestTemplate(ctx, a.Name)
		if err != nil {
			return nil, err
		}
		version := int64(1)
		if latest != nil {
			version = intField(latest, "revision") + 1
		}
		values["revision"] = version
		rec, created, err := host.CreateUnless(ctx, TemplateEntity,
			sdk.And(sdk.Eq("name", a.Name), sdk.Eq("revision", version)), values, sdk.IdempotencyKey(idemKey(call, "template")))
		if err != nil {
			return nil, err
		}
		if created || rec.String("file") == id || fileID(rec["file"]) == id {
			return rec, nil
		}
		backoff(ctx, attempt) // another upload took this version: take the next
	}
	return nil, fmt.Errorf("upload template %s: too many uploads at once", a.Name)
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// idemKey derives a write's idempotency key from the call's, or "" for a
// call without one.
func idemKey(call sdk.Call, what string) string {
	if call.IdempotencyKey == "" {
		return ""
	}
	return call.IdempotencyKey + ":" + what
}

// readFile reads a stored file the plugin may read, up to maxTemplateBytes.
func readFile(ctx context.Context, id string) ([]byte, error) {
	_, rc, err := sdk.HostFrom(ctx).ReadFile(ctx, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxTemplateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	if len(data) > maxTemplateBytes {
		return nil, sdk.RefuseField("file", CodeBadTemplate, fmt.Sprintf("the template is larger than %d bytes", maxTemplateBytes))
	}
	return data, nil
}

// latestTemplate is the newest version of the template called name, or nil.
func latestTemplate(ctx context.Context, name string) (sdk.Record, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: TemplateEntity, Filter: sdk.Eq("name", name), Sort: "-revision", Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, nil
	}
	return page.Items[0], nil
}

// check parses a template and checks it against the schema its data will
// have; every problem is a refusal naming the placeholder and where it is.
func (p *Plugin) check(ctx context.Context, a templateArgs, data []byte) (*tmpl.Template, error) {
	if a.Format != KindDOCX && a.Format != KindHTML {
		return nil, sdk.RefuseField("format", sdk.CodeInvalidArgs, fmt.Sprintf("format %q: want docx or html", a.Format))
	}
	lists, err := parseLists(a.Lists)
	if err != nil {
		return nil, err
	}
	sch, err := dataSchema(ctx, a.Entity, lists)
	if err != nil {
		return nil, err
	}
	t, err := tmpl.Parse(a.Format, data)
	if err != nil {
		return nil, refuseTemplate(err)
	}
	loc, err := p.docLocale(a)
	if err != nil {
		return nil, err
	}
	if err := t.Check(sch, helpers(loc)); err != nil {
		return nil, refuseTemplate(err)
	}
	return t, nil
}

// refuseTemplate is the refusal of a template with problems, listing them.
func refuseTemplate(err error) error {
	var te *tmpl.Error
	if errors.As(err, &te) {
		return sdk.RefuseField("file", CodeBadTemplate, te.Error())
	}
	return sdk.RefuseField("file", CodeBadTemplate, "template: "+err.Error())
}

// list is a related list a template loops over: the records of Entity
// whose Field refers to the document's record, named Name.
type list struct{ Name, Entity, Field string }

var listRe = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s*=\s*([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$`)

// parseLists reads "lines=deal_line.deal, payments=payment.deal".
func parseLists(s string) ([]list, error) {
	var out []list
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := listRe.FindStringSubmatch(part)
		if m == nil {
			return nil, sdk.RefuseField("lists", sdk.CodeInvalidArgs, fmt.Sprintf("%q: write a related list as NAME=ENTITY.FIELD, e.g. lines=deal_line.deal", part))
		}
		out = append(out, list{Name: m[1], Entity: m[2], Field: m[3]})
	}
	return out, nil
}

// Root variables besides the record, its refs and its lists.
var reserved = []string{"doc", "now", "user"}

// dataSchema is what a template for records of entity can name: the record
// (under the entity's name), each record it refers to (under the ref
// field's name, unless another name takes it), each related list (under
// its name, and as a field of the record), doc, now and user.
func dataSchema(ctx context.Context, entity string, lists []list) (tmpl.Schema, error) {
	host := sdk.HostFrom(ctx)
	ent, err := host.Schema(ctx, entity)
	if err != nil {
		if errors.Is(err, sdk.ErrNotFound) {
			return tmpl.Schema{}, sdk.RefuseField("entity", sdk.CodeInvalidArgs, fmt.Sprintf("no entity %q", entity))
		}
		return tmpl.Schema{}, err
	}
	vars := map[string]*tmpl.Type{}
	root := recordType(ent)
	vars[entity] = root
	for _, f := range ent.Fields {
		if f.Type != sdk.TypeRef || f.Name == entity || slices.Contains(reserved, f.Name) {
			continue
		}
		target, err := host.Schema(ctx, f.To)
		if err != nil {
			if errors.Is(err, sdk.ErrDenied) {
				continue // a ref the plugin may not read: the template cannot name it
			}
			return tmpl.Schema{}, err
		}
		vars[f.Name] = recordType(target)
	}
	for _, l := range lists {
		le, err := host.Schema(ctx, l.Entity)
		if err != nil {
			return tmpl.Schema{}, sdk.RefuseField("lists", sdk.CodeInvalidArgs, fmt.Sprintf("list %s: entity %s: %v", l.Name, l.Entity, err))
		}
		ok := false
		for _, f := range le.Fields {
			ok = ok || (f.Name == l.Field && f.Type == sdk.TypeRef && f.To == entity)
		}
		if !ok {
			return tmpl.Schema{}, sdk.RefuseField("lists", sdk.CodeInvalidArgs, fmt.Sprintf("list %s: %s.%s is not a ref field to %s", l.Name, l.Entity, l.Field, entity))
		}
		lt := &tmpl.Type{Kind: "list", Elem: recordType(le)}
		vars[l.Name] = lt
		root.Fields[l.Name] = lt
	}
	vars["doc"] = &tmpl.Type{Kind: "object", Fields: map[string]*tmpl.Type{
		"number": {Kind: "string"}, "date": {Kind: "date"}, "year": {Kind: "int"}, "seq": {Kind: "int"},
		"template": {Kind: "string"}, "revision": {Kind: "int"}, "language": {Kind: "string"},
	}}
	vars["now"] = &tmpl.Type{Kind: "datetime"}
	vars["user"] = &tmpl.Type{Kind: "object", Fields: map[string]*tmpl.Type{
		"id": {Kind: "string"}, "name": {Kind: "string"}, "email": {Kind: "string"},
	}}
	return tmpl.Schema{Vars: vars}, nil
}

// recordType is the type of a record of ent: its fields and the system
// fields.
func recordType(ent sdk.Entity) *tmpl.Type {
	t := &tmpl.Type{Kind: "object", Fields: map[string]*tmpl.Type{
		"id": {Kind: "string"}, "created_at": {Kind: "datetime"}, "updated_at": {Kind: "datetime"},
		"owner": {Kind: "user"}, "version": {Kind: "int"},
	}}
	for _, f := range ent.Fields {
		t.Fields[f.Name] = &tmpl.Type{Kind: f.Type}
	}
	return t
}
