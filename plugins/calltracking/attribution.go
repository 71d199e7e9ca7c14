package calltracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/crmkit/crm/plugins/sdk"
)

// HandleEvents attributes each new deal without a source to the campaign
// of its contact's first call to a tracking number (first touch). A block
// that does not let the plugin write deals turns this off: the denial is
// logged, not retried.
func (p *Plugin) HandleEvents(ctx context.Context, events []sdk.Event) error {
	host := sdk.HostFrom(ctx)
	for _, ev := range events {
		if ev.Name != "deal.created" || ev.Record.String("source") != "" || ev.Record.String("contact") == "" {
			continue
		}
		campaign, err := p.firstCampaign(ctx, ev.Record.String("contact"))
		if err != nil {
			return fmt.Errorf("deal %s: %w", ev.ID, err)
		}
		if campaign == "" {
			continue
		}
		_, err = host.Update(ctx, "deal", ev.ID, map[string]any{"source": campaign}, sdk.IdempotencyKey(ev.IdempotencyKey))
		switch {
		case errors.Is(err, sdk.ErrDenied):
			host.Log(ctx, slog.LevelWarn, "deal not attributed: the plugin block does not let calltracking write deals", "deal", ev.ID, "campaign", campaign)
			continue
		case errors.Is(err, sdk.ErrNotFound):
			continue // deleted since
		case err != nil:
			return fmt.Errorf("deal %s: attribute to %s: %w", ev.ID, campaign, err)
		}
		host.Log(ctx, slog.LevelInfo, "deal attributed to a campaign", "deal", ev.ID, "campaign", campaign)
	}
	return nil
}

// firstCampaign is the campaign of the contact's earliest call that has
// one; "" when none does.
func (p *Plugin) firstCampaign(ctx context.Context, contact string) (string, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: CallEntity, Sort: "started_at", Limit: 1,
		Filter: sdk.And(sdk.Eq("contact", contact), sdk.Ne("campaign", nil))})
	if err != nil {
		return "", fmt.Errorf("the calls of contact %s: %w", contact, err)
	}
	if len(page.Items) == 0 {
		return "", nil
	}
	return page.Items[0].String("campaign"), nil
}
