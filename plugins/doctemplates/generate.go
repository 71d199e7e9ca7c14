package doctemplates

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/convert"
	"github.com/crmkit/crm/plugins/doctemplates/format"
	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
	"github.com/crmkit/crm/plugins/sdk"
)

// maxListItems bounds a related list a document shows.
const maxListItems = 1000

// convertMargin is the part of the call's deadline kept back from the
// converter, so that a converter that hangs is a clear refusal, not the
// host's timeout.
const convertMargin = 1500 * time.Millisecond

// generateArgs are generate_document's arguments.
type generateArgs struct {
	Template string `json:"template"`
	Format   string `json:"format"`
}

// generate fills a template with the call's record and stores the
// document. With the call's idempotency key (a rule's call), a repeat
// answers the document the first call made.
func (p *Plugin) generate(ctx context.Context, call sdk.Call) (any, error) {
	var a generateArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	if call.Record == nil {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "generate_document works on a record: name one (entity and id)")
	}
	host := sdk.HostFrom(ctx)
	key := call.IdempotencyKey
	if key != "" {
		page, err := host.List(ctx, sdk.Query{Entity: DocumentEntity, Filter: sdk.Eq("key", key), Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(page.Items) > 0 {
			return page.Items[0], nil
		}
	}
	job, err := p.prepare(ctx, call, a)
	if err != nil {
		return nil, err
	}

	// Everything that can be checked is checked: take the number.
	settings, _ := p.config()
	series := job.tpl.String("series")
	if series == "" {
		series = settings.Series
	}
	now := time.Now().In(job.loc.Zone)
	year := format.Year(job.loc.Calendar, now)
	n, err := numbers.Take(ctx, series, year, key)
	if err != nil {
		return nil, err
	}
	doc, err := p.fill(ctx, call, job, series, year, n, now)
	if err != nil {
		if gerr := numbers.GiveBack(ctx, series, year, n); gerr != nil {
			host.Log(ctx, slog.LevelError, "a failed document's number was not given back", slog.String("series", series), slog.Int64("number", n), slog.String("err", gerr.Error()))
		}
		return nil, err
	}
	return doc, nil
}

// job is a document ready to be filled: its template, parsed and checked,
// its data, and its locale.
type job struct {
	tpl  sdk.Record
	t    *tmpl.Template
	loc  docLocale
	data map[string]any
	out  string
}

// prepare finds, reads and checks the template, checks that its converter
// is installed, and reads the record and its related records.
func (p *Plugin) prepare(ctx context.Context, call sdk.Call, a generateArgs) (*job, error) {
	tpl, err := latestTemplate(ctx, a.Template)
	if err != nil {
		return nil, err
	}
	if tpl == nil {
		return nil, sdk.RefuseField("template", CodeUnknownTemplate, fmt.Sprintf("no template named %q: upload one with upload_template", a.Template))
	}
	ta := templateArgs{Name: tpl.String("name"), Entity: tpl.String("record_entity"), Format: tpl.String("format"),
		Language: tpl.String("language"), Calendar: tpl.String("calendar"), Currency: tpl.String("currency"),
		Timezone: tpl.String("timezone"), Series: tpl.String("series"), Lists: tpl.String("lists")}
	if ta.Entity != call.Record.Entity {
		return nil, sdk.RefuseField("template", sdk.CodeInvalidArgs, fmt.Sprintf("template %q is for %s records, not %s", a.Template, ta.Entity, call.Record.Entity))
	}
	switch {
	case a.Format == OutDOCX && ta.Format != KindDOCX:
		return nil, sdk.RefuseField("format", sdk.CodeInvalidArgs, fmt.Sprintf("template %q is HTML: it gives a PDF only", a.Template))
	case a.Format == OutPDF && ta.Format == KindDOCX:
		if _, err := convert.Soffice.Path(); err != nil {
			return nil, refuseConverter(err)
		}
	case a.Format == OutPDF:
		if _, err := convert.Chromium.Path(); err != nil {
			return nil, refuseConverter(err)
		}
	}
	data, err := readFile(ctx, fileID(tpl["file"]))
	if err != nil {
		return nil, err
	}
	t, err := p.check(ctx, ta, data)
	if err != nil {
		return nil, err
	}
	loc, err := p.docLocale(ta)
	if err != nil {
		return nil, err
	}
	lists, _ := parseLists(ta.Lists) // checked by check
	vars, err := recordData(ctx, call.Record, lists)
	if err != nil {
		return nil, err
	}
	if call.User != nil {
		vars["user"] = map[string]any{"id": call.User.ID, "name": call.User.Name, "email": call.User.Email}
	} else {
		vars["user"] = map[string]any{}
	}
	return &job{tpl: tpl, t: t, loc: loc, data: vars, out: a.Format}, nil
}

// recordData is the record, the records it refers to and its related lists.
func recordData(ctx context.Context, ref *sdk.RecordRef, lists []list) (map[string]any, error) {
	host := sdk.HostFrom(ctx)
	rec, err := host.Get(ctx, ref.Entity, ref.ID)
	if err != nil {
		return nil, err
	}
	ent, err := host.Schema(ctx, ref.Entity)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{ref.Entity: map[string]any(rec)}
	for _, f := range ent.Fields {
		if f.Type != sdk.TypeRef || f.Name == ref.Entity || slices.Contains(reserved, f.Name) {
			continue
		}
		id := rec.String(f.Name)
		if id == "" {
			vars[f.Name] = map[string]any{}
			continue
		}
		r, err := host.Get(ctx, f.To, id)
		switch {
		case errors.Is(err, sdk.ErrDenied), errors.Is(err, sdk.ErrNotFound):
			vars[f.Name] = map[string]any{}
		case err != nil:
			return nil, err
		default:
			vars[f.Name] = map[string]any(r)
		}
	}
	for _, l := range lists {
		var items []any
		err := sdk.Each(ctx, sdk.Query{Entity: l.Entity, Filter: sdk.Eq(l.Field, ref.ID), Sort: "created_at", Limit: 500}, func(it sdk.Record) error {
			if len(items) >= maxListItems {
				return sdk.ErrStop
			}
			items = append(items, map[string]any(it))
			return nil
		})
		if err != nil {
			return nil, err
		}
		vars[l.Name] = items
		rec[l.Name] = items
	}
	return vars, nil
}

// fill fills the template with number n, converts it, stores the file and
// the document record.
func (p *Plugin) fill(ctx context.Context, call sdk.Call, j *job, series string, year int, n int64, now time.Time) (sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	number := formatNumber(series, year, n)
	j.data["doc"] = map[string]any{
		"number": number, "date": now.Format(time.DateOnly), "year": year, "seq": n,
		"template": j.tpl.String("name"), "revision": intField(j.tpl, "revision"), "language": j.loc.Lang,
	}
	j.data["now"] = now.Format(time.RFC3339)
	out, err := j.t.Render(ctx, j.data, helpers(j.loc))
	if err != nil {
		var te *tmpl.Error
		if errors.As(err, &te) {
			return nil, sdk.RefuseField("template", CodeRenderFailed, "the document could not be filled: "+te.Error())
		}
		return nil, fmt.Errorf("fill %s: %w", j.tpl.String("name"), err)
	}
	ext, ct := ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	if j.out == OutPDF {
		cctx, cancel := convertContext(ctx)
		defer cancel()
		if j.t.Kind() == tmpl.KindDOCX {
			out, err = convert.DOCXToPDF(cctx, out)
		} else {
			out, err = convert.HTMLToPDF(cctx, out)
		}
		if err != nil {
			var m *convert.MissingError
			switch {
			case errors.As(err, &m):
				return nil, refuseConverter(err)
			case errors.Is(err, context.DeadlineExceeded):
				// A busy machine: a failure, which a rule's call retries
				// (with its key: the same number).
				return nil, fmt.Errorf("make the PDF: %w", err)
			}
			return nil, sdk.RefuseField("format", CodeRenderFailed, "the PDF could not be made: "+err.Error())
		}
		ext, ct = ".pdf", "application/pdf"
	}
	name := fileName(j.tpl.String("name"), number) + ext
	info, err := host.WriteFile(ctx, name, ct, bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	values := map[string]any{
		"name": name, "template": j.tpl.ID(), "template_revision": intField(j.tpl, "revision"),
		"record_entity": call.Record.Entity, "record_id": call.Record.ID, "file": info.ID, "format": j.out,
		"number": number, "series": series, "year": year, "seq": n, "key": orNil(call.IdempotencyKey),
	}
	if err := linkRecord(ctx, call.Record, j.data, values); err != nil {
		return nil, err
	}
	var opts []sdk.Option
	if k := idemKey(call, "document"); k != "" {
		opts = append(opts, sdk.IdempotencyKey(k))
	}
	return host.Create(ctx, DocumentEntity, values, opts...)
}

// convertContext leaves convertMargin of the call's deadline for storing
// the result.
func convertContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, d.Add(-convertMargin))
	}
	return context.WithTimeout(ctx, convert.DefaultTimeout)
}

// linkRecord fills the document's ref fields that point at the record, or
// at a record the record refers to (a deal's contact and company), so that
// the document shows in each one's timeline.
func linkRecord(ctx context.Context, ref *sdk.RecordRef, data map[string]any, values map[string]any) error {
	ent, err := sdk.HostFrom(ctx).Schema(ctx, DocumentEntity)
	if err != nil {
		return err
	}
	rec, _ := data[ref.Entity].(map[string]any)
	for _, f := range ent.Fields {
		if f.Type != sdk.TypeRef || f.To == TemplateEntity {
			continue
		}
		if f.To == ref.Entity {
			values[f.Name] = ref.ID
			continue
		}
		// A ref of the record's to f.To: the first such field's value.
		for name, v := range data {
			r, ok := v.(map[string]any)
			if !ok || name == ref.Entity || r["entity"] != f.To {
				continue
			}
			if id, _ := rec[name].(string); id != "" && id == r["id"] {
				values[f.Name] = id
				break
			}
		}
	}
	return nil
}

// fileName is a document's file name without extension: the template's
// name and the number, without characters a file system refuses.
func fileName(template, number string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, template+"-"+number)
}
