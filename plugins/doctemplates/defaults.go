package doctemplates

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"

	"github.com/crmkit/crm/plugins/sdk"
)

// quoteHTML is the "quote" template for deals the plugin brings, so that a
// new instance (and `make run`) makes quotes before anyone uploads a
// template.
//
//go:embed quote.html
var quoteHTML []byte

// installDefaults stores the "quote" template unless a template of that
// name exists, decided in the host's write transaction (so concurrent
// starts store one). A problem is logged, not fatal: the plugin runs on.
func (p *Plugin) installDefaults(ctx context.Context) error {
	host := sdk.HostFrom(ctx)
	if t, err := latestTemplate(ctx, "quote"); err != nil || t != nil {
		return err
	}
	a := templateArgs{Name: "quote", Entity: "deal", Format: KindHTML}
	if _, err := p.check(ctx, a, quoteHTML); err != nil {
		return fmt.Errorf("the default quote template: %w", err)
	}
	info, err := host.WriteFile(ctx, "quote.html", "text/html", bytes.NewReader(quoteHTML))
	if err != nil {
		return err
	}
	_, _, err = host.CreateUnless(ctx, TemplateEntity, sdk.Eq("name", "quote"), map[string]any{
		"name": "quote", "record_entity": "deal", "format": KindHTML, "file": info.ID, "revision": 1,
		"placeholders": "the template the plugin brings: a quote for a deal",
	})
	return err
}
