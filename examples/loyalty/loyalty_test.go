package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

const secret = "till-secret"

// start runs the plugin against a real, temporary CRM host with the grants
// of examples/loyalty.hcl.
func start(t *testing.T, config map[string]any) *sdktest.Host {
	t.Helper()
	if config == nil {
		config = map[string]any{"points_per": 1000, "secret": secret}
	}
	return sdktest.Start(t, &Loyalty{}, sdktest.Options{
		Read: []string{"contact", "deal"}, Write: []string{"loyalty_account"},
		PluginConfig: config,
	})
}

// accountOf returns the contact's loyalty account, nil when it has none.
func accountOf(t *testing.T, h *sdktest.Host, contact string) sdk.Record {
	t.Helper()
	accs := h.List("loyalty_account", sdk.Eq("contact", contact))
	switch len(accs) {
	case 0:
		return nil
	case 1:
		return accs[0]
	}
	t.Fatalf("contact %s has %d loyalty accounts", contact, len(accs))
	return nil
}

// wonDeal creates a won deal of amount AMD for contact and returns the
// deal.stage_changed event of its move from proposal to won, as the host's
// change feed sends it.
func wonDeal(h *sdktest.Host, contact, amount, key string) sdk.Event {
	deal := h.Create("deal", map[string]any{
		"title": "Sofa", "stage": "won", "contact": contact,
		"amount": map[string]any{"amount": amount, "currency": "AMD"},
	})
	return sdk.Event{
		Name: "deal.stage_changed", Entity: "deal", ID: deal.ID(), Record: deal,
		Changes:        map[string]sdk.Change{"stage": {Old: "proposal", New: "won"}},
		IdempotencyKey: key,
	}
}

func TestManifestIsValid(t *testing.T) {
	m := (&Loyalty{}).Manifest()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(m.UIActions) != 1 || m.UIActions[0].Entity != "contact" || m.UIActions[0].Action != "redeem" || m.UIActions[0].Label != "Redeem points" {
		t.Errorf("UI actions %+v", m.UIActions)
	}
}

func TestWonDealCreditsOnce(t *testing.T) {
	h := start(t, nil)
	ani := h.Create("contact", map[string]any{"name": "Ani"})
	won := wonDeal(h, ani.ID(), "2500999.99", "deal-1-v2")

	// Delivered, then delivered again (a retry after a crash): one credit.
	if err := h.Deliver(won); err != nil {
		t.Fatal(err)
	}
	if err := h.Deliver(won, won); err != nil {
		t.Fatal(err)
	}
	acc := accountOf(t, h, ani.ID())
	if acc == nil || acc["points"] != float64(2500) || acc["earned"] != float64(2500) || acc["tier"] != TierSilver {
		t.Fatalf("after a won deal of 2,500,999.99 delivered 3 times: %v", acc)
	}
	if acc["created_by"] != "plugin:loyalty" {
		t.Errorf("created_by %v", acc["created_by"])
	}

	// Another won deal adds to the same account; a deal created won counts.
	more := wonDeal(h, ani.ID(), "2000000", "deal-2-v2")
	created := wonDeal(h, ani.ID(), "600000", "deal-3-v1")
	created.Name, created.Changes = "deal.created", nil
	if err := h.Deliver(more, created); err != nil {
		t.Fatal(err)
	}
	acc = accountOf(t, h, ani.ID())
	if acc["points"] != float64(5100) || acc["tier"] != TierGold {
		t.Fatalf("after three won deals: %v", acc)
	}

	// Not a win: another field changes on a won deal, a deal is lost, a
	// deal is created in another stage.
	other := wonDeal(h, ani.ID(), "9000000", "deal-4-v3")
	other.Name, other.Changes = "deal.updated", map[string]sdk.Change{"title": {Old: "Sofa", New: "Big sofa"}}
	lost := wonDeal(h, ani.ID(), "9000000", "deal-5-v2")
	lost.Changes = map[string]sdk.Change{"stage": {Old: "proposal", New: "lost"}}
	fresh := wonDeal(h, ani.ID(), "9000000", "deal-6-v1")
	fresh.Name, fresh.Record["stage"] = "deal.created", "new"
	if err := h.Deliver(other, lost, fresh); err != nil {
		t.Fatal(err)
	}
	if acc = accountOf(t, h, ani.ID()); acc["points"] != float64(5100) {
		t.Fatalf("points changed by events that are not wins: %v", acc)
	}
}

func TestPointsPerIsConfigurable(t *testing.T) {
	h := start(t, map[string]any{"points_per": 250, "secret": secret})
	ani := h.Create("contact", map[string]any{"name": "Ani"})
	if err := h.Deliver(wonDeal(h, ani.ID(), "1000", "k")); err != nil {
		t.Fatal(err)
	}
	if acc := accountOf(t, h, ani.ID()); acc == nil || acc["points"] != float64(4) || acc["tier"] != TierBronze {
		t.Fatalf("1,000 at 250 a point: %v", acc)
	}
}

func TestRedeem(t *testing.T) {
	h := start(t, nil)
	ani := h.Create("contact", map[string]any{"name": "Ani"})
	acc := h.Create("loyalty_account", map[string]any{"contact": ani.ID(), "points": 120, "earned": 300, "tier": "bronze"})
	redeem := func(contact string, points any) (sdk.Record, error) {
		var rec sdk.Record
		err := h.InvokeInto(sdk.Call{
			Action: "redeem", Args: map[string]any{"points": points},
			Record: &sdk.RecordRef{Entity: "contact", ID: contact},
		}, &rec)
		return rec, err
	}
	refused := func(err error, code string) bool {
		var r *sdk.Refusal
		return errors.As(err, &r) && r.Code == code && r.Field == "points"
	}

	rec, err := redeem(ani.ID(), 100)
	if err != nil || rec["points"] != float64(20) || rec["earned"] != float64(300) {
		t.Fatalf("redeem 100 of 120: %v, %v", rec, err)
	}
	if _, err := redeem(ani.ID(), 50); !refused(err, CodeInsufficientPoints) {
		t.Errorf("redeem 50 of 20: %v", err)
	}
	if got := h.Get("loyalty_account", acc.ID())["points"]; got != float64(20) {
		t.Errorf("a refused redeem changed the balance to %v", got)
	}
	if rec, err := redeem(ani.ID(), 20); err != nil || rec["points"] != float64(0) {
		t.Errorf("redeem all 20: %v, %v", rec, err)
	}

	aram := h.Create("contact", map[string]any{"name": "Aram"})
	if _, err := redeem(aram.ID(), 1); !refused(err, CodeInsufficientPoints) {
		t.Errorf("redeem without an account: %v", err)
	}
	if _, err := redeem(ani.ID(), 0); !refused(err, sdk.CodeInvalidArgs) {
		t.Errorf("redeem 0: %v", err)
	}
}

func TestTillWebhook(t *testing.T) {
	h := start(t, map[string]any{"points_per": 1000, "secret": secret, "region": "AM"})
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	till := func(body, signature string) (int, map[string]any) {
		t.Helper()
		hdr := http.Header{"Content-Type": {"application/json"}}
		if signature != "" {
			hdr.Set("X-Signature", signature)
		}
		resp, err := h.Webhook(sdk.Request{Method: "POST", Path: "/till", Header: hdr, Body: []byte(body)})
		if err != nil {
			t.Fatalf("till %s: %v", body, err)
		}
		var out map[string]any
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			t.Fatalf("till %s: answer %q: %v", body, resp.Body, err)
		}
		return resp.Status, out
	}
	signed := func(body string) (int, map[string]any) { return till(body, sdk.Sign([]byte(secret), []byte(body))) }

	sale := `{"phone": "+374 91 123456", "amount": 25500, "receipt": "R-1"}`
	if status, out := signed(sale); status != http.StatusOK || out["contact"] != ani.ID() || out["points_added"] != float64(25) || out["points"] != float64(25) {
		t.Fatalf("a signed sale: %d %v", status, out)
	}
	// The till sends the same receipt again: no second credit.
	if status, out := signed(sale); status != http.StatusOK || out["points"] != float64(25) {
		t.Errorf("the same receipt again: %d %v", status, out)
	}
	// A national number (config.region) and an amount as a string.
	if status, out := signed(`{"phone": "091 123456", "amount": "10000.50"}`); status != http.StatusOK || out["points"] != float64(35) {
		t.Errorf("a national number: %d %v", status, out)
	}

	for name, sig := range map[string]string{
		"no signature":       "",
		"wrong secret":       sdk.Sign([]byte("guess"), []byte(sale)),
		"not hex":            "sha256=zz",
		"no scheme":          sdk.Sign([]byte(secret), []byte(sale))[len("sha256="):],
		"other body's sig":   sdk.Sign([]byte(secret), []byte(`{}`)),
		"truncated":          sdk.Sign([]byte(secret), []byte(sale))[:20],
		"sha1 scheme prefix": "sha1=" + sdk.Sign([]byte(secret), []byte(sale))[len("sha256="):],
	} {
		status, out := till(`{"phone": "+37491123456", "amount": 99000, "receipt": "R-2"}`, sig)
		if e, _ := out["error"].(map[string]any); status != http.StatusUnauthorized || e["code"] != sdk.CodeBadSignature {
			t.Errorf("%s: %d %v, want 401 %s", name, status, out, sdk.CodeBadSignature)
		}
	}
	for _, body := range []string{
		`not json`, `{"phone": "+37491123456", "amount": 100} trailing`, `{"phone": "+37491123456"}`,
		`{"phone": "+37491123456", "amount": "lots"}`, `{"phone": "+37491123456", "amount": 1e9}`,
		`{"amount": 100}`, `{"phone": "12", "amount": 100}`, `[]`,
	} {
		if status, _ := signed(body); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, status)
		}
	}
	if status, _ := signed(`{"phone": "+37491999999", "amount": 5000}`); status != http.StatusNotFound {
		t.Errorf("an unknown phone: status %d, want 404", status)
	}
	if acc := accountOf(t, h, ani.ID()); acc["points"] != float64(35) {
		t.Errorf("refused requests changed the balance: %v", acc)
	}
}

func TestConfigure(t *testing.T) {
	ctx := context.Background()
	for name, cfg := range map[string]map[string]any{
		"no secret":           {"points_per": 1000},
		"negative points_per": {"points_per": -5, "secret": "s"},
		"fractional":          {"points_per": 2.5, "secret": "s"},
		"text points_per":     {"points_per": "many", "secret": "s"},
		"unknown region":      {"secret": "s", "region": "XX"},
		"gold below silver":   {"secret": "s", "silver_at": 500, "gold_at": 100},
	} {
		var r *sdk.Refusal
		if err := (&Loyalty{}).Configure(ctx, sdk.Config{Values: cfg, Locale: sdk.DefaultLocale()}); !errors.As(err, &r) || r.Code != sdk.CodeInvalidConfig {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	l := &Loyalty{}
	if err := l.Configure(ctx, sdk.Config{Values: map[string]any{"secret": "s"}, Locale: sdk.DefaultLocale()}); err != nil {
		t.Fatal(err)
	}
	if s := l.settings(); s.PointsPer != 1000 || s.SilverAt != 1000 || s.GoldAt != 5000 || s.Region != "" {
		t.Errorf("defaults %+v", s)
	}
}

func TestPointsFor(t *testing.T) {
	for _, c := range []struct {
		amount string
		per    int64
		want   int64
	}{
		{"0", 1000, 0}, {"999.99", 1000, 0}, {"1000", 1000, 1}, {"1000.00", 1000, 1},
		{"2500999.99", 1000, 2500}, {"-5000", 1000, 0}, {"10.5", 5, 2},
	} {
		if got, err := pointsFor(c.amount, c.per); err != nil || got != c.want {
			t.Errorf("pointsFor(%q, %d) = %d, %v; want %d", c.amount, c.per, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "1/3", "1e5", "abc", "99999999999999999999999999999"} {
		if _, err := pointsFor(bad, 1); err == nil {
			t.Errorf("pointsFor(%q): no error", bad)
		}
	}
}

// TestTillWithoutGrantIsDenied: a till request the plugin's grants do not
// cover (no read on contact) is answered 403 with the host's denial, not
// 502 "plugin failed", and without a line of the plugin's own to say so.
func TestTillWithoutGrantIsDenied(t *testing.T) {
	h := sdktest.Start(t, &Loyalty{}, sdktest.Options{
		Read: []string{"deal"}, Write: []string{"loyalty_account"},
		PluginConfig: map[string]any{"secret": secret},
	})
	body := []byte(`{"phone": "+37491123456", "amount": 5000}`)
	resp, err := h.Webhook(sdk.Request{Method: "POST", Path: "/till", Body: body,
		Header: http.Header{"X-Signature": {sdk.Sign([]byte(secret), body)}}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Error map[string]string }
	if err := json.Unmarshal(resp.Body, &out); err != nil || resp.Status != http.StatusForbidden ||
		out.Error["code"] != sdk.CodeDenied || !strings.Contains(out.Error["message"], "may not read contact records") {
		t.Errorf("till without read on contact: %d %s, want 403 denied", resp.Status, resp.Body)
	}
}

// TestTillReadsNationalNumbersInTheLocaleRegion: without config.region the
// till's national numbers are read in the instance's locale region.
func TestTillReadsNationalNumbersInTheLocaleRegion(t *testing.T) {
	h := sdktest.Start(t, &Loyalty{}, sdktest.Options{
		Read: []string{"contact", "deal"}, Write: []string{"loyalty_account"},
		PluginConfig: map[string]any{"secret": secret},
		Locale:       sdk.Locale{Region: "AM", Currency: "AMD", Timezone: "Asia/Yerevan"},
	})
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	body := []byte(`{"phone": "091 123456", "amount": 7000}`)
	resp, err := h.Webhook(sdk.Request{Method: "POST", Path: "/till", Body: body,
		Header: http.Header{"X-Signature": {sdk.Sign([]byte(secret), body)}}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(resp.Body, &out); err != nil || resp.Status != http.StatusOK || out["contact"] != ani.ID() || out["points"] != float64(7) {
		t.Errorf("a national number in the locale's region: %d %s", resp.Status, resp.Body)
	}
}
