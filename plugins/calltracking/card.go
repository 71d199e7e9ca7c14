package calltracking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmkit/crm/plugins/sdk"
)

// callerCard is the text shown for a ringing call: the caller's name and
// owner, open deals and last activities, as they are when the call's
// first event comes. It goes into the call's card field, so that a client
// subscribed over the websocket to the ringing calls of an extension
// (entity phone_call, filter extension == '101' && status == 'ringing')
// shows it while the phone rings. What the plugin may not read (deals
// without the grant) is left out. The web UI's caller card
// (web/static/js/callercard.js) reads its lines: the name (" (new lead)"
// after it), "Owner: <user id>", "Open deals:" and "Last activities:" with
// a "- " line per item; docs/calltracking.md shows the format.
func callerCard(ctx context.Context, st *callState) (string, error) {
	host := sdk.HostFrom(ctx)
	var b strings.Builder
	switch {
	case st.Contact != "":
		c, err := host.Get(ctx, "contact", st.Contact)
		if err != nil {
			return "", fmt.Errorf("caller card: contact %s: %w", st.Contact, err)
		}
		b.WriteString(c.String("name"))
		if st.Lead {
			b.WriteString(" (new lead)")
		}
		if o := c.String("owner"); o != "" {
			fmt.Fprintf(&b, "\nOwner: %s", o)
		}
	case st.Company != "":
		c, err := host.Get(ctx, "company", st.Company)
		if err != nil {
			return "", fmt.Errorf("caller card: company %s: %w", st.Company, err)
		}
		b.WriteString(c.String("name"))
	default:
		return "", nil
	}
	field, id := "contact", st.Contact
	if id == "" {
		field, id = "company", st.Company
	}
	deals, err := host.List(ctx, sdk.Query{Entity: "deal", Limit: 5, Sort: "-updated_at",
		Filter: sdk.And(sdk.Eq(field, id), sdk.Not(sdk.In("stage", "won", "lost")))})
	switch {
	case errors.Is(err, sdk.ErrDenied):
	case err != nil:
		return "", fmt.Errorf("caller card: deals: %w", err)
	case len(deals.Items) > 0:
		b.WriteString("\nOpen deals:")
		for _, d := range deals.Items {
			fmt.Fprintf(&b, "\n- %s (%s)", d.String("title"), d.String("stage"))
		}
	}
	acts, err := host.List(ctx, sdk.Query{Entity: "activity", Limit: 4, Sort: "-at",
		Filter: sdk.Eq(field, id)})
	switch {
	case errors.Is(err, sdk.ErrDenied):
	case err != nil:
		return "", fmt.Errorf("caller card: activities: %w", err)
	default:
		n := 0
		for _, a := range acts.Items {
			if a.ID() == st.Activity || n == 3 {
				continue
			}
			if n == 0 {
				b.WriteString("\nLast activities:")
			}
			n++
			at := a.String("at")
			if len(at) >= 10 {
				at = at[:10]
			}
			fmt.Fprintf(&b, "\n- %s %s: %s", at, a.String("kind"), a.String("subject"))
		}
	}
	return b.String(), nil
}
