package calltracking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/crmkit/crm/plugins/sdk"
)

// CardVersion is the version of the caller card's shape; a client that
// reads a card of another version shows only the call's own fields.
const CardVersion = 1

// Card is the caller's card of a ringing call: who calls, their owner,
// open deals and last activities, as they are when the call's first event
// comes. It goes into the call's card field, of type object, so that a
// client subscribed over the websocket to the ringing calls of an
// extension (entity phone_call, filter extension == '101' && status ==
// 'ringing') gets it in the call's record, a JSON object, and shows it
// while the phone rings: the web UI's caller card (web/static/js/callercard.js) renders
// these fields one by one, under labels of its own, so that no text of a
// record (a subject with "Owner:" in it) is read as structure.
type Card struct {
	// V is CardVersion.
	V int `json:"v"`
	// Name is the contact's (or company's) name.
	Name string `json:"name"`
	// Lead is true when the call made the contact (a new lead).
	Lead bool `json:"lead"`
	// Number is the caller's number, E.164 when it reads as one.
	Number string `json:"number,omitempty"`
	// Record is the contact (or company) the card is of: the link.
	Record CardRef `json:"record"`
	// Company is the contact's company; nil for none or a company's card.
	Company *CardRef `json:"company,omitempty"`
	// Owner is the id of the user who owns the contact (or company).
	Owner string `json:"owner,omitempty"`
	// Deals are the open deals (not won or lost), the five most recently
	// changed; empty without read on deal.
	Deals []CardDeal `json:"deals"`
	// Activities are the three latest activities before the call.
	Activities []CardActivity `json:"activities"`
}

// CardRef names a record of a card, with its name.
type CardRef struct {
	Entity string `json:"entity"`
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
}

// CardDeal is an open deal of a card.
type CardDeal struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Stage  string `json:"stage,omitempty"`
	Amount *Money `json:"amount,omitempty"`
}

// CardActivity is a recent activity of a card.
type CardActivity struct {
	ID      string `json:"id"`
	At      string `json:"at,omitempty"` // RFC 3339
	Kind    string `json:"kind,omitempty"`
	Subject string `json:"subject"`
}

// ParseCard reads a call record's card field (the record's "card" value,
// a JSON object); ok is false for no card or one of another version.
func ParseCard(v any) (c Card, ok bool) {
	if v == nil || sdk.Decode(v, &c) != nil || c.V != CardVersion {
		return Card{}, false
	}
	return c, true
}

// sameCard reports whether two cards hold the same.
func sameCard(a, b *Card) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// callerCard makes the card of the call's contact (or company). What the
// plugin may not read (deals without the grant) is left out; nil when the
// call matched no one.
func callerCard(ctx context.Context, st *callState) (*Card, error) {
	host := sdk.HostFrom(ctx)
	card := Card{V: CardVersion, Lead: st.Lead, Number: st.Number, Deals: []CardDeal{}, Activities: []CardActivity{}}
	switch {
	case st.Contact != "":
		c, err := host.Get(ctx, "contact", st.Contact)
		if err != nil {
			return nil, fmt.Errorf("caller card: contact %s: %w", st.Contact, err)
		}
		card.Name, card.Owner = c.String("name"), c.String("owner")
		card.Record = CardRef{Entity: "contact", ID: st.Contact}
		if id := c.String("company"); id != "" {
			card.Company = &CardRef{Entity: "company", ID: id}
			if co, err := host.Get(ctx, "company", id); err == nil {
				card.Company.Name = co.String("name")
			} else if !errors.Is(err, sdk.ErrDenied) && !errors.Is(err, sdk.ErrNotFound) {
				return nil, fmt.Errorf("caller card: company %s: %w", id, err)
			}
		}
	case st.Company != "":
		c, err := host.Get(ctx, "company", st.Company)
		if err != nil {
			return nil, fmt.Errorf("caller card: company %s: %w", st.Company, err)
		}
		card.Name, card.Owner = c.String("name"), c.String("owner")
		card.Record = CardRef{Entity: "company", ID: st.Company}
	default:
		return nil, nil
	}
	field, id := card.Record.Entity, card.Record.ID
	deals, err := host.List(ctx, sdk.Query{Entity: "deal", Limit: 5, Sort: "-updated_at",
		Filter: sdk.And(sdk.Eq(field, id), sdk.Not(sdk.In("stage", "won", "lost")))})
	switch {
	case errors.Is(err, sdk.ErrDenied):
	case err != nil:
		return nil, fmt.Errorf("caller card: deals: %w", err)
	default:
		for _, d := range deals.Items {
			cd := CardDeal{ID: d.ID(), Title: d.String("title"), Stage: d.String("stage")}
			var m struct {
				Amount *Money `json:"amount"`
			}
			if d.Decode(&m) == nil && m.Amount != nil && m.Amount.Amount != "" {
				cd.Amount = m.Amount
			}
			card.Deals = append(card.Deals, cd)
		}
	}
	acts, err := host.List(ctx, sdk.Query{Entity: "activity", Limit: 4, Sort: "-at",
		Filter: sdk.Eq(field, id)})
	switch {
	case errors.Is(err, sdk.ErrDenied):
	case err != nil:
		return nil, fmt.Errorf("caller card: activities: %w", err)
	default:
		for _, a := range acts.Items {
			if a.ID() == st.Activity || len(card.Activities) == 3 {
				continue
			}
			card.Activities = append(card.Activities, CardActivity{ID: a.ID(), At: a.String("at"),
				Kind: a.String("kind"), Subject: a.String("subject")})
		}
	}
	return &card, nil
}
