// Package doctemplates is the first-party plugin that fills document
// templates from CRM records: DOCX templates made in Word or LibreOffice
// and HTML templates, giving a DOCX or a PDF stored as a `document` record
// linked to the record it was made for (and so in that record's timeline).
//
// It is written against the SDK alone, as a partner's plugin is: templates
// are `document_template` records uploaded through its `upload_template`
// action (which checks every placeholder against the instance's schema
// before it stores anything), documents are made by `generate_document`,
// and numbers come from `document_series` records, one per series and
// year. The template language is package tmpl, the formatting of money,
// numbers and dates package format, the PDF converters package convert.
package doctemplates

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/convert"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// Names the plugin declares and admins write in rules and HCL.
const (
	TemplateEntity = "document_template"
	DocumentEntity = "document"
	SeriesEntity   = "document_series"

	ActionGenerate = "generate_document"
	ActionUpload   = "upload_template"
)

// GenerateTimeout is how long the host waits for generate_document and
// upload_template (the manifest declares it): a conversion under load
// takes seconds, and the converter's own limit (convert.DefaultTimeout,
// 60 s) must end first, so that a hung converter is a clear refusal.
const GenerateTimeout = 90 * time.Second

// Template kinds and output formats.
const (
	KindDOCX = "docx"
	KindHTML = "html"
	OutPDF   = "pdf"
	OutDOCX  = "docx"
)

// Refusal codes.
const (
	// CodeBadTemplate: the template does not parse or does not check
	// (an unknown placeholder, a wrong type, a broken DOCX).
	CodeBadTemplate = "bad_template"
	// CodeUnknownTemplate: no template of that name.
	CodeUnknownTemplate = "unknown_template"
	// CodeConverterMissing: the PDF converter the document needs is not
	// installed.
	CodeConverterMissing = "converter_missing"
	// CodeRenderFailed: filling the template failed (an expression's
	// error, its memory or time budget exceeded); no document is made.
	CodeRenderFailed = "render_failed"
)

// Languages a template may be written in (format's languages).
var languages = []string{"en", "hy", "lt", "az", "fa", "ru"}

// linkEntities are the entities the document entity has a ref field to
// from the manifest, so that a document shows in their records' timelines.
// An admin links documents to more entities in HCL, with an entity block
// beside the plugin block that adds ref fields to `document`
// (`entity "document" { field "vehicle" { type = "ref"  to = "vehicle" } }`):
// the plugin reads the document entity's schema and fills every ref field
// that points at the record a document is made for, or at a record that
// record refers to (a deal's contact and company). Every document also
// names its record in record_entity and record_id.
var linkEntities = []string{"contact", "company", "deal"}

// Settings are the plugin's HCL `config`.
type Settings struct {
	// Series is the series of templates that name none; "DOC" when unset.
	Series string `json:"series"`
	// NoDefaultTemplates leaves out the "quote" template for deals that
	// the plugin otherwise stores when no template has that name.
	NoDefaultTemplates bool `json:"no_default_templates"`
}

// Plugin is the document templates plugin.
type Plugin struct {
	sdk.Base

	mu       sync.RWMutex
	settings Settings
	locale   sdk.Locale
	// missing is the converters that are not installed, found at
	// Configure; nil when all are.
	missing error
}

// New returns the plugin, for the first-party registry.
func New() sdk.Plugin { return &Plugin{} }

// manifest declares the plugin's entities, actions and buttons, with
// their labels in English (labels.go adds the other languages).
func manifest() sdk.Manifest {
	docFields := []sdk.Field{
		{Name: "name", Label: "Name", Type: sdk.TypeString, Required: true},
		{Name: "template", Label: "Template", Type: sdk.TypeRef, To: TemplateEntity, Required: true},
		{Name: "template_revision", Label: "Template revision", Type: sdk.TypeInt},
		{Name: "record_entity", Label: "Made for (entity)", Type: sdk.TypeString, Required: true, Index: true},
		{Name: "record_id", Label: "Made for (record)", Type: sdk.TypeString, Required: true, Index: true},
		{Name: "file", Label: "File", Type: sdk.TypeFile, Required: true},
		{Name: "format", Label: "Format", Type: sdk.TypeEnum, Values: []string{OutPDF, OutDOCX}, Required: true},
		{Name: "number", Label: "Number", Type: sdk.TypeString, Index: true},
		{Name: "series", Label: "Series", Type: sdk.TypeString},
		{Name: "year", Label: "Year", Type: sdk.TypeInt},
		{Name: "seq", Label: "Number in the year", Type: sdk.TypeInt},
		{Name: "key", Label: "Idempotency key", Type: sdk.TypeString, Index: true},
	}
	for _, e := range linkEntities {
		docFields = append(docFields, sdk.Field{Name: e, Label: strings.ToUpper(e[:1]) + e[1:], Type: sdk.TypeRef, To: e})
	}
	return sdk.Manifest{
		Name:        "doctemplates",
		Version:     "1.0.0",
		Description: "Contracts, quotes and letters from DOCX and HTML templates, as DOCX or PDF documents.",
		Actions: []sdk.Action{{
			Name:        ActionGenerate,
			Description: "Fill a template with this record and store the document, linked to the record.",
			// A PDF is a LibreOffice or Chromium run, seconds on a busy
			// machine: more than the host's default 10 s.
			Timeout: GenerateTimeout,
			Args: []sdk.Arg{
				{Name: "template", Type: sdk.TypeString, Required: true, Description: "The template's name."},
				{Name: "format", Type: sdk.TypeEnum, Values: []string{OutPDF, OutDOCX}, Required: true, Description: "pdf, or docx for a DOCX template."},
			},
		}, {
			Name:        ActionUpload,
			Description: "Check a template and store it; a template of a name already taken is its new version.",
			Timeout:     GenerateTimeout,
			Args: []sdk.Arg{
				{Name: "name", Type: sdk.TypeString, Required: true, Description: "The template's name, as generate_document names it (quote)."},
				{Name: "entity", Type: sdk.TypeString, Required: true, Description: "The entity whose records it is filled from (deal)."},
				{Name: "format", Type: sdk.TypeEnum, Values: []string{KindDOCX, KindHTML}, Required: true},
				{Name: "file", Type: sdk.TypeFile, Required: true, Description: "The DOCX or HTML file."},
				{Name: "language", Type: sdk.TypeEnum, Values: languages, Description: "Language of numbers in words, month names; the instance's default when unset."},
				{Name: "calendar", Type: sdk.TypeEnum, Values: []string{sdk.CalendarGregorian, sdk.CalendarJalali}, Description: "Calendar of dates and of the numbering year; the instance's when unset."},
				{Name: "currency", Type: sdk.TypeString, Description: "Currency of plain decimal amounts; the instance's when unset."},
				{Name: "timezone", Type: sdk.TypeString, Description: "IANA zone of times and of the document's date; the instance's when unset."},
				{Name: "series", Type: sdk.TypeString, Description: "Numbering series (Q numbers quotes Q-2026-0001); the plugin's default when unset."},
				{Name: "lists", Type: sdk.TypeString, Description: "Related lists the template loops over: lines=deal_line.deal (records of deal_line whose deal is this record), comma-separated."},
			},
		}},
		Entities: []sdk.Entity{{
			Name: TemplateEntity, Label: "Document template",
			Fields: []sdk.Field{
				{Name: "name", Label: "Name", Type: sdk.TypeString, Required: true, Index: true},
				{Name: "record_entity", Label: "Entity", Type: sdk.TypeString, Required: true, Index: true},
				{Name: "format", Label: "Format", Type: sdk.TypeEnum, Values: []string{KindDOCX, KindHTML}, Required: true},
				{Name: "file", Label: "File", Type: sdk.TypeFile, Required: true},
				{Name: "revision", Label: "Revision", Type: sdk.TypeInt, Index: true},
				{Name: "language", Label: "Language", Type: sdk.TypeEnum, Values: languages},
				{Name: "calendar", Label: "Calendar", Type: sdk.TypeEnum, Values: []string{sdk.CalendarGregorian, sdk.CalendarJalali}},
				{Name: "currency", Label: "Currency", Type: sdk.TypeString},
				{Name: "timezone", Label: "Time zone", Type: sdk.TypeString},
				{Name: "series", Label: "Series", Type: sdk.TypeString},
				{Name: "lists", Label: "Related lists", Type: sdk.TypeString},
				{Name: "placeholders", Label: "Placeholders", Type: sdk.TypeText},
			},
		}, {
			Name: DocumentEntity, Label: "Document", Fields: docFields,
		}, {
			Name: SeriesEntity, Label: "Document series", Fields: series.Fields(),
		}},
		UIActions: []sdk.UIAction{
			{Entity: "deal", Action: ActionGenerate, Label: "Generate document"},
			{Entity: "contact", Action: ActionGenerate, Label: "Generate document"},
			{Entity: "company", Action: ActionGenerate, Label: "Generate document"},
			// On the template list: the first upload of a name needs no record.
			{Entity: TemplateEntity, Action: ActionUpload, Label: "Upload template", Scope: sdk.ScopeList},
		},
	}
}

// Configure reads the settings and looks for the PDF converters: a missing
// one is logged and shown as the plugin's warning (Health), and refused on
// the documents that need it; DOCX documents work without any. It sweeps
// the document series for numbers a crash left unused (series.Recover).
func (p *Plugin) Configure(ctx context.Context, c sdk.Config) error {
	var s Settings
	if err := c.Decode(&s); err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, "series must be text and no_default_templates true or false: "+err.Error())
	}
	if s.Series == "" {
		s.Series = "DOC"
	}
	missing := convert.Check()
	if missing != nil {
		sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "PDF converters missing: documents that need them are refused",
			slog.String("missing", missing.Error()))
	}
	p.mu.Lock()
	p.settings, p.locale, p.missing = s, c.Locale, missing
	p.mu.Unlock()
	if err := numbers.Recover(ctx); err != nil {
		sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "the document numbers a crash left unused were not all swept; the next takes sweep them",
			slog.String("err", err.Error()))
	}
	if !s.NoDefaultTemplates {
		if err := p.installDefaults(ctx); err != nil {
			sdk.HostFrom(ctx).Log(ctx, slog.LevelWarn, "the default templates were not installed", slog.String("err", err.Error()))
		}
	}
	return nil
}

// Health says which converters are missing, as a warning: the plugin runs
// on and makes the documents that need none.
func (p *Plugin) Health(context.Context) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.missing != nil {
		return sdk.Degraded(strings.ReplaceAll(p.missing.Error(), "\n", "; "))
	}
	return nil
}

func (p *Plugin) config() (Settings, sdk.Locale) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings, p.locale
}

// Invoke runs generate_document and upload_template.
func (p *Plugin) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	switch call.Action {
	case ActionGenerate:
		return p.generate(ctx, call)
	case ActionUpload:
		return p.upload(ctx, call)
	}
	return p.Base.Invoke(ctx, call)
}

// refuseConverter is the refusal of a document whose converter is missing.
func refuseConverter(err error) error {
	var m *convert.MissingError
	if errors.As(err, &m) {
		return sdk.RefuseField("format", CodeConverterMissing, "cannot make a PDF: "+m.Error())
	}
	return err
}
