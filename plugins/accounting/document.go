package accounting

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/crmkit/crm/plugins/sdk"
)

// The invoice document is made by the document templates plugin
// (doctemplates) when it is installed: this plugin brings the "invoice"
// template it fills, as doctemplates brings its "quote", and a rule makes
// the PDF when an invoice is issued (crm.hcl's invoice_document).

// Names of the document templates plugin this plugin writes to.
const (
	templateEntity = "document_template"
	// TemplateName is the name of the invoice template the plugin brings.
	TemplateName = "invoice"
)

// invoiceHTML is the "invoice" template: the invoice's lines with their
// VAT, the totals, and the total in words.
//
//go:embed invoice.html
var invoiceHTML []byte

// installTemplate stores the "invoice" template unless a template of that
// name exists or the document templates plugin is not installed (its
// entity is not in the schema). The template is checked by doctemplates
// when a document is made from it.
func installTemplate(ctx context.Context) error {
	host := sdk.HostFrom(ctx)
	switch _, err := host.Schema(ctx, templateEntity); {
	case errors.Is(err, sdk.ErrNotFound):
		return nil // doctemplates is not installed
	case errors.Is(err, sdk.ErrDenied):
		host.Log(ctx, slog.LevelInfo, "the invoice template is not installed: the plugin's block does not grant write on "+templateEntity)
		return nil
	case err != nil:
		return err
	}
	page, err := host.List(ctx, sdk.Query{Entity: templateEntity, Filter: sdk.Eq("name", TemplateName), Limit: 1})
	if err != nil || len(page.Items) > 0 {
		return err
	}
	info, err := host.WriteFile(ctx, TemplateName+".html", "text/html", bytes.NewReader(invoiceHTML))
	if err != nil {
		return fmt.Errorf("store the invoice template: %w", err)
	}
	_, _, err = host.CreateUnless(ctx, templateEntity, sdk.Eq("name", TemplateName), map[string]any{
		"name": TemplateName, "record_entity": InvoiceEntity, "format": "html", "file": info.ID, "revision": 1,
		"lists":        "lines=" + LineEntity + "." + InvoiceEntity,
		"placeholders": "the template the accounting plugin brings: an invoice with its lines, VAT and the total in words",
	})
	return err
}
