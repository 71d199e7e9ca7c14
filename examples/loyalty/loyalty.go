package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"

	"github.com/crmkit/crm/plugins/sdk"
)

// Names the plugin declares in its manifest and uses with the host.
const (
	accountEntity = "loyalty_account"
	redeemAction  = "redeem"
	tillPath      = "/till"

	// CodeInsufficientPoints is the refusal code of a redeem that asks
	// for more points than the account has.
	CodeInsufficientPoints = "insufficient_points"
)

// Tiers, lowest first.
const (
	TierBronze = "bronze"
	TierSilver = "silver"
	TierGold   = "gold"
)

// maxAttempts bounds the read-modify-write loop of a balance change that
// keeps losing to concurrent writers; past it the call fails and the host
// retries it later.
const maxAttempts = 5

// Settings are the plugin's HCL `config`.
type Settings struct {
	// PointsPer is how many currency units of a won deal or a till sale
	// earn one point; 1000 when unset.
	PointsPer int64 `json:"points_per"`
	// Secret keys the HMAC-SHA256 signature of the till's requests;
	// required.
	Secret string `json:"secret"`
	// Region reads the till's phone numbers that do not start with "+"
	// (an ISO 3166 code such as "AM"); unset, the instance's locale region
	// does, and without one the till must send international numbers.
	Region string `json:"region"`
	// SilverAt and GoldAt are the points earned (over the account's life,
	// redemptions do not count) that reach a tier; 1000 and 5000 when
	// unset.
	SilverAt int64 `json:"silver_at"`
	GoldAt   int64 `json:"gold_at"`
}

// Loyalty is the loyalty-points plugin. Its settings come from Configure;
// everything else lives in the CRM's records, so any number of processes
// (restarts, retries) see the same balances.
type Loyalty struct {
	sdk.Base

	mu  sync.RWMutex
	cfg Settings
}

// Manifest declares the plugin's entity, action, subscriptions, webhook and
// button.
func (*Loyalty) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        "loyalty",
		Version:     "1.0.0",
		Description: "Loyalty points on won deals and till sales, redeemable on a contact.",
		Actions: []sdk.Action{{
			Name:        redeemAction,
			Description: "Take points off the contact's loyalty account.",
			Entities:    []string{"contact"},
			Args: []sdk.Arg{{
				Name: "points", Type: sdk.TypeInt, Required: true,
				Description: "How many points to redeem.",
			}},
		}},
		// The host names a deal update that changes the stage
		// deal.stage_changed; other deal updates are not sent at all.
		Subscriptions: []string{"deal.created", "deal.stage_changed"},
		Entities: []sdk.Entity{{
			Name:  accountEntity,
			Label: "Loyalty account",
			Fields: []sdk.Field{
				{Name: "contact", Label: "Contact", Type: sdk.TypeRef, To: "contact", Required: true, Unique: true},
				{Name: "points", Label: "Points", Type: sdk.TypeInt, Required: true},
				{Name: "earned", Label: "Points earned", Type: sdk.TypeInt},
				{Name: "tier", Label: "Tier", Type: sdk.TypeEnum, Values: []string{TierBronze, TierSilver, TierGold}, Index: true},
			},
		}},
		Webhooks: []sdk.Webhook{{
			Method: http.MethodPost, Path: tillPath,
			Description: `A sale at the till: {"phone", "amount", "receipt"}, signed with X-Signature: sha256=<hex HMAC of the body>.`,
		}},
		UIActions: []sdk.UIAction{{Entity: "contact", Action: redeemAction, Label: "Redeem points"}},
	}
}

// Configure reads the plugin's settings, refusing a configuration the
// plugin cannot work with.
func (l *Loyalty) Configure(_ context.Context, c sdk.Config) error {
	var s Settings
	if err := c.Decode(&s); err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, "points_per, silver_at and gold_at must be whole numbers; secret and region text: "+err.Error())
	}
	if s.PointsPer == 0 {
		s.PointsPer = 1000
	}
	if s.SilverAt == 0 {
		s.SilverAt = 1000
	}
	if s.GoldAt == 0 {
		s.GoldAt = 5000
	}
	switch {
	case s.PointsPer < 0:
		return sdk.RefuseField("points_per", sdk.CodeInvalidConfig, "points_per must be a positive number of currency units")
	case s.Secret == "":
		return sdk.RefuseField("secret", sdk.CodeInvalidConfig, "secret is required: it authenticates the till's requests")
	case s.SilverAt < 0 || s.GoldAt <= s.SilverAt:
		return sdk.RefuseField("gold_at", sdk.CodeInvalidConfig, "gold_at must be more points than silver_at")
	}
	if s.Region == "" {
		s.Region = c.Locale.Region
	}
	if s.Region != "" {
		s.Region = strings.ToUpper(s.Region)
		if !phonenumbers.GetSupportedRegions()[s.Region] {
			return sdk.RefuseField("region", sdk.CodeInvalidConfig, fmt.Sprintf("%q is not a region code such as \"AM\"", s.Region))
		}
	}
	l.mu.Lock()
	l.cfg = s
	l.mu.Unlock()
	return nil
}

func (l *Loyalty) settings() Settings {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// Invoke runs the redeem action.
func (l *Loyalty) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	if call.Action != redeemAction {
		return l.Base.Invoke(ctx, call)
	}
	if call.Record == nil || call.Record.Entity != "contact" {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "redeem works on a contact")
	}
	var args struct {
		Points int64 `json:"points"`
	}
	if err := call.DecodeArgs(&args); err != nil {
		return nil, sdk.RefuseField("points", sdk.CodeInvalidArgs, "points must be a whole number")
	}
	if args.Points <= 0 {
		return nil, sdk.RefuseField("points", sdk.CodeInvalidArgs, "points must be more than 0")
	}
	return l.redeem(ctx, call.Record.ID, args.Points, call.IdempotencyKey)
}

// redeem takes points off a contact's account.
func (l *Loyalty) redeem(ctx context.Context, contact string, points int64, key string) (sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	for range maxAttempts {
		acc, bal, err := l.account(ctx, contact)
		if err != nil {
			return nil, err
		}
		if acc == nil || bal.Points < points {
			return nil, sdk.RefuseField("points", CodeInsufficientPoints,
				fmt.Sprintf("the contact has %d points, not %d", bal.Points, points))
		}
		rec, err := host.Update(ctx, accountEntity, acc.ID(), map[string]any{"points": bal.Points - points},
			sdk.IfVersion(acc.Version()), sdk.IdempotencyKey(key))
		if errors.Is(err, sdk.ErrConflict) {
			continue // changed since we read it: read it again
		}
		if err != nil {
			return nil, err
		}
		host.Log(ctx, slog.LevelInfo, "points redeemed", "contact", contact, "points", points, "left", bal.Points-points)
		return rec, nil
	}
	return nil, fmt.Errorf("redeem %d points of contact %s: the account kept changing", points, contact)
}

// HandleEvents credits the contact of every deal that is won.
func (l *Loyalty) HandleEvents(ctx context.Context, events []sdk.Event) error {
	cfg := l.settings()
	for _, ev := range events {
		if !dealWon(ev) {
			continue
		}
		var deal struct {
			Contact string `json:"contact"`
			Amount  *struct {
				Amount   string `json:"amount"`
				Currency string `json:"currency"`
			} `json:"amount"`
		}
		if err := ev.Record.Decode(&deal); err != nil {
			return sdk.Refuse("bad_event", fmt.Sprintf("deal %s: %v", ev.ID, err))
		}
		host := sdk.HostFrom(ctx)
		if deal.Contact == "" || deal.Amount == nil {
			host.Log(ctx, slog.LevelInfo, "won deal without a contact or an amount: no points", "deal", ev.ID)
			continue
		}
		points, err := pointsFor(deal.Amount.Amount, cfg.PointsPer)
		if err != nil {
			return sdk.Refuse("bad_event", fmt.Sprintf("deal %s: %v", ev.ID, err))
		}
		if points == 0 {
			continue
		}
		// The event's key makes a redelivered event credit once.
		if _, err := l.credit(ctx, deal.Contact, points, ev.IdempotencyKey); err != nil {
			return fmt.Errorf("deal %s: %w", ev.ID, err)
		}
		host.Log(ctx, slog.LevelInfo, "points for a won deal", "deal", ev.ID, "contact", deal.Contact, "points", points)
	}
	return nil
}

// dealWon reports whether an event is a deal reaching the stage "won": an
// update that changes the stage to won, or a deal created won. A
// deal.updated event counts too, for a host that sends one in place of
// deal.stage_changed.
func dealWon(ev sdk.Event) bool {
	switch ev.Name {
	case "deal.created":
		return ev.Record.String("stage") == "won"
	case "deal.stage_changed", "deal.updated":
		c, ok := ev.Changes["stage"]
		return ok && c.New == "won" && c.Old != "won"
	}
	return false
}

// credit adds points to a contact's account, creating it when the contact
// has none. A non-empty key makes the credit happen at most once.
func (l *Loyalty) credit(ctx context.Context, contact string, points int64, key string) (sdk.Record, error) {
	cfg := l.settings()
	host := sdk.HostFrom(ctx)
	for range maxAttempts {
		acc, bal, err := l.account(ctx, contact)
		if err != nil {
			return nil, err
		}
		values := map[string]any{
			"points": bal.Points + points,
			"earned": bal.Earned + points,
			"tier":   tierFor(bal.Earned+points, cfg),
		}
		var rec sdk.Record
		if acc == nil {
			values["contact"] = contact
			rec, err = host.Create(ctx, accountEntity, values, sdk.IdempotencyKey(key))
		} else {
			rec, err = host.Update(ctx, accountEntity, acc.ID(), values, sdk.IfVersion(acc.Version()), sdk.IdempotencyKey(key))
		}
		if errors.Is(err, sdk.ErrConflict) {
			continue // created or changed by another call since we read it
		}
		return rec, err
	}
	return nil, fmt.Errorf("credit %d points to contact %s: the account kept changing", points, contact)
}

// balance is what an account holds.
type balance struct {
	Points int64 `json:"points"`
	Earned int64 `json:"earned"`
}

// account returns a contact's account, nil when it has none.
func (l *Loyalty) account(ctx context.Context, contact string) (sdk.Record, balance, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{
		Entity: accountEntity, Filter: sdk.Eq("contact", contact), Limit: 1,
	})
	if err != nil || len(page.Items) == 0 {
		return nil, balance{}, err
	}
	var b balance
	if err := page.Items[0].Decode(&b); err != nil {
		return nil, balance{}, fmt.Errorf("loyalty account %s: %w", page.Items[0].ID(), err)
	}
	return page.Items[0], b, nil
}

// tierFor is the tier of an account that has earned so many points.
func tierFor(earned int64, cfg Settings) string {
	switch {
	case earned >= cfg.GoldAt:
		return TierGold
	case earned >= cfg.SilverAt:
		return TierSilver
	}
	return TierBronze
}

// decimalRe is a decimal amount as the CRM writes money: "1500.00".
var decimalRe = regexp.MustCompile(`^-?[0-9]{1,30}(\.[0-9]{1,30})?$`)

// pointsFor is the points an amount earns: one per `per` whole currency
// units, rounded down; none for a negative amount.
func pointsFor(amount string, per int64) (int64, error) {
	if !decimalRe.MatchString(amount) {
		return 0, fmt.Errorf("amount %q is not a decimal number", amount)
	}
	r, _ := new(big.Rat).SetString(amount)
	if r.Sign() <= 0 {
		return 0, nil
	}
	q := new(big.Int).Quo(r.Num(), new(big.Int).Mul(r.Denom(), big.NewInt(per)))
	if !q.IsInt64() {
		return 0, fmt.Errorf("amount %q is too large", amount)
	}
	return q.Int64(), nil
}

// sale is the till's request body.
type sale struct {
	Phone string `json:"phone"`
	// Amount is the sale's total in currency units, a JSON number or a
	// decimal string.
	Amount json.RawMessage `json:"amount"`
	// Receipt, when the till sends it, makes a request sent again credit
	// once.
	Receipt string `json:"receipt"`
}

// HandleWebhook serves the till: it checks the request's signature, finds
// the contact by phone and credits the points for the sale.
func (l *Loyalty) HandleWebhook(ctx context.Context, req sdk.Request) (sdk.Response, error) {
	if req.Path != tillPath {
		return jsonResponse(http.StatusNotFound, map[string]any{"error": "no such webhook"}), nil
	}
	if req.Method != http.MethodPost {
		return jsonResponse(http.StatusMethodNotAllowed, map[string]any{"error": "use POST"}), nil
	}
	cfg := l.settings()
	if err := req.VerifySignature([]byte(cfg.Secret)); err != nil {
		return sdk.Response{}, err // a refusal, answered 401
	}
	var s sale
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	if err := dec.Decode(&s); err != nil || dec.More() {
		return badRequest("the body is not a JSON object {\"phone\", \"amount\"}"), nil
	}
	phone, err := normalizePhone(s.Phone, cfg.Region)
	if err != nil {
		return badRequest(err.Error()), nil
	}
	amount, err := decimalOf(s.Amount)
	if err != nil {
		return badRequest(err.Error()), nil
	}
	points, err := pointsFor(amount, cfg.PointsPer)
	if err != nil {
		return badRequest(err.Error()), nil
	}

	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: "contact", Filter: sdk.Eq("phone", phone), Limit: 2})
	if err != nil {
		return sdk.Response{}, err
	}
	switch len(page.Items) {
	case 0:
		return jsonResponse(http.StatusNotFound, map[string]any{"error": "no contact has the phone " + phone}), nil
	case 2:
		return jsonResponse(http.StatusConflict, map[string]any{"error": "more than one contact has the phone " + phone}), nil
	}
	contact := page.Items[0].ID()
	out := map[string]any{"contact": contact, "points_added": points}
	if points > 0 {
		key := ""
		if s.Receipt != "" {
			key = "till:" + s.Receipt
		}
		acc, err := l.credit(ctx, contact, points, key)
		if err != nil {
			return sdk.Response{}, err
		}
		out["points"], out["tier"] = acc["points"], acc["tier"]
	}
	return jsonResponse(http.StatusOK, out), nil
}

// normalizePhone gives a phone number in E.164, as the CRM stores phones.
func normalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("phone is required")
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		return "", fmt.Errorf("phone %q is not in international format (+country...); set config.region to read national numbers", s)
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("phone %q is not a valid phone number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// decimalOf reads an amount sent as a JSON number or a decimal string.
func decimalOf(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("amount is required")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("amount is not a number")
		}
	} else {
		s = string(raw)
	}
	if !decimalRe.MatchString(s) {
		return "", fmt.Errorf("amount %s is not a decimal number such as 25000 or \"25000.50\"", raw)
	}
	return s, nil
}

func badRequest(msg string) sdk.Response {
	return jsonResponse(http.StatusBadRequest, map[string]any{"error": msg})
}

func jsonResponse(status int, v any) sdk.Response {
	body, _ := json.Marshal(v) // maps of strings and numbers always encode
	return sdk.Response{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   append(body, '\n'),
	}
}
