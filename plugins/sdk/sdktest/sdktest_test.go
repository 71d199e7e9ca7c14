package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// loyalty is a small plugin with an action, an event handler, a webhook and
// an emitted event, written as a partner would.
type loyalty struct {
	sdk.Base
	perDeal int64
}

func (*loyalty) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "loyalty", Version: "1.0.0",
		Actions: []sdk.Action{
			{Name: "redeem", Entities: []string{"contact"}, Args: []sdk.Arg{{Name: "points", Type: sdk.TypeInt, Required: true}}},
			{Name: "rename_contact"},
		},
		Subscriptions: []string{"deal.updated"},
		Emits:         []string{"loyalty.redeemed"},
		Entities: []sdk.Entity{{Name: "loyalty_account", Fields: []sdk.Field{
			{Name: "contact", Type: sdk.TypeRef, To: "contact", Required: true, Unique: true},
			{Name: "points", Type: sdk.TypeInt},
			{Name: "tier", Type: sdk.TypeEnum, Values: []string{"basic", "gold"}},
		}}},
		Webhooks: []sdk.Webhook{{Method: "POST", Path: "/till"}},
	}
}

func (l *loyalty) Configure(_ context.Context, cfg sdk.Config) error {
	var c struct {
		PerDeal int64 `json:"points_per_deal"`
	}
	if err := cfg.Decode(&c); err != nil || c.PerDeal <= 0 {
		return sdk.RefuseField("points_per_deal", sdk.CodeInvalidConfig, "points_per_deal must be a positive number")
	}
	l.perDeal = c.PerDeal
	return nil
}

func (l *loyalty) account(ctx context.Context, contact string) (sdk.Record, int64, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: "loyalty_account", Filter: fmt.Sprintf("contact == %q", contact)})
	if err != nil || len(page.Items) == 0 {
		return nil, 0, err
	}
	var acc struct{ Points int64 }
	err = page.Items[0].Decode(&acc)
	return page.Items[0], acc.Points, err
}

func (l *loyalty) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	host := sdk.HostFrom(ctx)
	switch call.Action {
	case "redeem":
		var args struct{ Points int64 }
		if err := call.DecodeArgs(&args); err != nil {
			return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
		}
		acc, points, err := l.account(ctx, call.Record.ID)
		if err != nil {
			return nil, err
		}
		if acc == nil || points < args.Points {
			return nil, sdk.RefuseField("points", "insufficient_points", fmt.Sprintf("%d points available", points))
		}
		rec, err := host.Update(ctx, "loyalty_account", acc.ID(), map[string]any{"points": points - args.Points}, sdk.IfVersion(acc.Version()))
		if err != nil {
			return nil, err
		}
		if err := host.Emit(ctx, "loyalty.redeemed", map[string]any{"points": args.Points}, sdk.About("contact", call.Record.ID)); err != nil {
			return nil, err
		}
		return rec, nil
	case "rename_contact": // not granted: the host says no
		_, err := host.Update(ctx, "contact", call.Record.ID, map[string]any{"name": "Renamed"})
		return nil, err
	}
	return l.Base.Invoke(ctx, call)
}

// HandleEvents awards points for every deal that is won.
func (l *loyalty) HandleEvents(ctx context.Context, events []sdk.Event) error {
	host := sdk.HostFrom(ctx)
	for _, ev := range events {
		if ev.Record.String("stage") != "won" {
			continue
		}
		contact := ev.Record.String("contact")
		acc, points, err := l.account(ctx, contact)
		if err != nil {
			return err
		}
		if acc == nil {
			_, err = host.Create(ctx, "loyalty_account", map[string]any{"contact": contact, "points": l.perDeal}, sdk.IdempotencyKey(ev.IdempotencyKey))
		} else {
			_, err = host.Update(ctx, "loyalty_account", acc.ID(), map[string]any{"points": points + l.perDeal}, sdk.IdempotencyKey(ev.IdempotencyKey))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *loyalty) HandleWebhook(_ context.Context, r sdk.Request) (sdk.Response, error) {
	if r.Header.Get("X-Till-Secret") != "s3cret" {
		return sdk.Response{Status: http.StatusUnauthorized}, nil
	}
	return sdk.Response{Status: http.StatusOK, Body: []byte("ok " + string(r.Body))}, nil
}

func start(t *testing.T) *sdktest.Host {
	return sdktest.Start(t, &loyalty{}, sdktest.Options{
		Read: []string{"contact", "deal"}, Write: []string{"loyalty_account"},
		PluginConfig: map[string]any{"points_per_deal": 100},
	})
}

func TestLoyaltyAgainstARealHost(t *testing.T) {
	h := start(t)
	ani := h.Create("contact", map[string]any{"name": "Ani"})
	won := sdk.Event{Name: "deal.updated", Entity: "deal", ID: "d1", Record: sdk.Record{"stage": "won", "contact": ani.ID()}, IdempotencyKey: "deal-d1-v2"}

	// Points on a won deal, once per event even when it is delivered again.
	if err := h.Deliver(won, sdk.Event{Name: "deal.updated", Record: sdk.Record{"stage": "proposal"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Deliver(won); err != nil {
		t.Fatal(err)
	}
	accs := h.List("loyalty_account", "")
	if len(accs) != 1 || accs[0]["points"] != float64(100) || accs[0]["created_by"] != "plugin:loyalty" {
		t.Fatalf("accounts %v", accs)
	}

	// Redeem what there is; refuse what there is not.
	contact := &sdk.RecordRef{Entity: "contact", ID: ani.ID()}
	var after sdk.Record
	if err := h.InvokeInto(sdk.Call{Action: "redeem", Args: map[string]any{"points": 30}, Record: contact}, &after); err != nil {
		t.Fatal(err)
	}
	if after["points"] != float64(70) || h.Get("loyalty_account", accs[0].ID())["points"] != float64(70) {
		t.Errorf("after redeeming 30: %v", after)
	}
	_, err := h.Invoke(sdk.Call{Action: "redeem", Args: map[string]any{"points": 500}, Record: contact})
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != "insufficient_points" || r.Field != "points" || r.Message != "70 points available" {
		t.Errorf("redeem 500: %v", err)
	}
	if ev := h.Emitted(); len(ev) != 1 || ev[0].Name != "loyalty.redeemed" || ev[0].ID != ani.ID() || ev[0].Record["points"] != float64(30) {
		t.Errorf("emitted %+v", ev)
	}

	// A write outside the grant fails, and changes nothing.
	_, err = h.Invoke(sdk.Call{Action: "rename_contact", Record: contact})
	if err == nil || !strings.Contains(err.Error(), `may not write contact records`) {
		t.Errorf("rename: %v", err)
	}
	if h.Get("contact", ani.ID())["name"] != "Ani" {
		t.Error("the contact was renamed")
	}
	if !strings.Contains(h.Log(), "plugin call denied") {
		t.Error("the denial is not in the host's log")
	}

	// The webhook authenticates its caller.
	resp, err := h.Webhook(sdk.Request{Method: "POST", Path: "/till", Header: http.Header{"X-Till-Secret": {"s3cret"}}, Body: []byte("sale")})
	if err != nil || resp.Status != http.StatusOK || string(resp.Body) != "ok sale" {
		t.Errorf("webhook: %+v %v", resp, err)
	}
	resp, _ = h.Webhook(sdk.Request{Method: "POST", Path: "/till"})
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("webhook without the secret: %d", resp.Status)
	}
}
