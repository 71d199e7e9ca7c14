package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Loyalty is a loyalty-points plugin for a retail client: its "redeem"
// action takes points off a contact's loyalty account.
type Loyalty struct{ sdk.Base }

// Manifest declares the action and the entity the plugin adds.
func (*Loyalty) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "loyalty", Version: "1.0.0",
		Actions: []sdk.Action{{
			Name: "redeem", Entities: []string{"contact"},
			Args: []sdk.Arg{{Name: "points", Type: sdk.TypeInt, Required: true}},
		}},
		Entities: []sdk.Entity{{Name: "loyalty_account", Fields: []sdk.Field{
			{Name: "contact", Type: sdk.TypeRef, To: "contact", Required: true, Unique: true},
			{Name: "points", Type: sdk.TypeInt},
		}}},
		UIActions: []sdk.UIAction{{Entity: "contact", Action: "redeem", Label: "Redeem points"}},
	}
}

// Invoke redeems points, refusing when the account has too few.
func (*Loyalty) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	if call.Action != "redeem" || call.Record == nil {
		return nil, sdk.Refuse(sdk.CodeUnknownAction, "redeem works on a contact")
	}
	var args struct{ Points int64 }
	if err := call.DecodeArgs(&args); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	host := sdk.HostFrom(ctx)
	page, err := host.List(ctx, sdk.Query{Entity: "loyalty_account", Filter: sdk.Eq("contact", call.Record.ID)})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, sdk.Refuse("no_account", "this contact has no loyalty account")
	}
	acc := page.Items[0]
	var have struct{ Points int64 }
	if err := acc.Decode(&have); err != nil {
		return nil, err
	}
	if have.Points < args.Points {
		return nil, sdk.RefuseField("points", "insufficient_points", fmt.Sprintf("only %d points left", have.Points))
	}
	return host.Update(ctx, "loyalty_account", acc.ID(),
		map[string]any{"points": have.Points - args.Points},
		sdk.IfVersion(acc.Version()), sdk.IdempotencyKey(call.IdempotencyKey))
}

// The plugin's main is one line:
//
//	func main() { sdk.Serve(&Loyalty{}) }
//
// A unit test calls its methods with a Host of its own; the plugin's
// integration tests run it against a real CRM.
func Example() {
	p := &Loyalty{}
	if err := p.Manifest().Validate(); err != nil {
		fmt.Println("manifest:", err)
		return
	}
	host := &memoryHost{accounts: map[string]sdk.Record{
		"acc1": {"id": "acc1", "entity": "loyalty_account", "version": float64(3), "contact": "c1", "points": float64(120)},
	}}
	ctx := sdk.WithHost(context.Background(), host)
	redeem := func(points int) {
		res, err := p.Invoke(ctx, sdk.Call{
			Action: "redeem", Args: map[string]any{"points": points},
			Record: &sdk.RecordRef{Entity: "contact", ID: "c1"}, IdempotencyKey: fmt.Sprint("redeem-", points),
		})
		var refusal *sdk.Refusal
		switch {
		case errors.As(err, &refusal):
			fmt.Printf("refused: %s (%s)\n", refusal.Message, refusal.Code)
		case err != nil:
			fmt.Println("failed:", err)
		default:
			fmt.Println("points left:", res.(sdk.Record)["points"])
		}
	}
	redeem(100)
	redeem(50)
	// Output:
	// points left: 20
	// refused: only 20 points left (insufficient_points)
}

// memoryHost is a Host over a map, for unit tests.
type memoryHost struct {
	accounts map[string]sdk.Record
}

func (h *memoryHost) Get(_ context.Context, entity, id string) (sdk.Record, error) {
	if r, ok := h.accounts[id]; ok && entity == "loyalty_account" {
		return r, nil
	}
	return nil, sdk.ErrNotFound
}

func (h *memoryHost) List(_ context.Context, q sdk.Query) (*sdk.Page, error) {
	page := &sdk.Page{}
	for _, r := range h.accounts {
		if q.Filter == sdk.Eq("contact", r.String("contact")) {
			page.Items = append(page.Items, r)
		}
	}
	return page, nil
}

func (h *memoryHost) Create(context.Context, string, map[string]any, ...sdk.Option) (sdk.Record, error) {
	return nil, sdk.ErrDenied
}

func (h *memoryHost) CreateUnless(context.Context, string, string, map[string]any, ...sdk.Option) (sdk.Record, bool, error) {
	return nil, false, sdk.ErrDenied
}

func (h *memoryHost) Update(_ context.Context, _, id string, values map[string]any, _ ...sdk.Option) (sdk.Record, error) {
	r := h.accounts[id]
	for k, v := range values {
		r[k] = v
	}
	r["version"] = float64(r.Version() + 1)
	return r, nil
}

func (h *memoryHost) Emit(context.Context, string, any, ...sdk.Option) error { return nil }

func (h *memoryHost) Log(context.Context, slog.Level, string, ...any) {}

func (h *memoryHost) ReadFile(context.Context, string) (sdk.FileInfo, io.ReadCloser, error) {
	return sdk.FileInfo{}, nil, sdk.ErrNotFound
}

func (h *memoryHost) WriteFile(context.Context, string, string, io.Reader) (sdk.FileInfo, error) {
	return sdk.FileInfo{}, sdk.ErrDenied
}

func (h *memoryHost) Schema(context.Context, string) (sdk.Entity, error) {
	return sdk.Entity{}, sdk.ErrNotFound
}

// A filter built from values: each value is rendered as a literal of the
// filter language, so a VIN from a form cannot add conditions of its own.
func ExampleFilterf() {
	vin := `WVW" || true || "`
	fmt.Println(sdk.Filterf("vin == %v && status != %v && mileage > %v", vin, "closed", 100000))
	// Output:
	// vin == "WVW\" || true || \"" && status != "closed" && mileage > 100000
}

// The same filters, composed from parts.
func ExampleAnd() {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fmt.Println(sdk.And(
		sdk.Eq("vin", "WVWZZZ1JZXW000001"),
		sdk.In("status", "open", "pending"),
		sdk.Or(sdk.Ge("created_at", since), sdk.Gt("amount.amount", 1500.5)),
	))
	// Output:
	// (vin == "WVWZZZ1JZXW000001") && (status in ["open", "pending"]) && ((created_at >= date("2026-03-01T00:00:00Z")) || (amount.amount > 1500.5))
}

// Till is a webhook that accepts only requests signed with the shared
// secret.
type Till struct {
	sdk.Base
	secret []byte
}

func (*Till) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "till", Version: "1.0.0", Webhooks: []sdk.Webhook{{Method: "POST", Path: "/sale"}}}
}

// HandleWebhook returns the refusal of a bad signature as it is: the host
// answers it 401.
func (t *Till) HandleWebhook(_ context.Context, req sdk.Request) (sdk.Response, error) {
	if err := req.VerifySignature(t.secret); err != nil {
		return sdk.Response{}, err
	}
	return sdk.Response{Body: []byte("ok")}, nil
}

func ExampleVerifySignature() {
	till := &Till{secret: []byte("shared-secret")}
	body := []byte(`{"phone": "+37491123456", "amount": 25500}`)
	for _, sig := range []string{sdk.Sign([]byte("shared-secret"), body), sdk.Sign([]byte("guess"), body)} {
		_, err := till.HandleWebhook(context.Background(), sdk.Request{
			Method: "POST", Path: "/sale", Body: body, Header: http.Header{"X-Signature": {sig}},
		})
		var r *sdk.Refusal
		if errors.As(err, &r) {
			fmt.Println("refused:", r.Code, "-", r.Message)
		} else {
			fmt.Println("accepted")
		}
	}
	// Output:
	// accepted
	// refused: bad_signature - X-Signature does not match the body
}

// Greeter greets in the instance's default language and shows dates in its
// calendar and time zone.
type Greeter struct {
	sdk.Base
	greeting string
	loc      *time.Location
	jalali   bool
}

func (*Greeter) Manifest() sdk.Manifest { return sdk.Manifest{Name: "greeter", Version: "1.0.0"} }

// Configure reads the plugin's config and the instance's locale.
func (g *Greeter) Configure(_ context.Context, c sdk.Config) error {
	var settings struct {
		Greetings map[string]string `json:"greetings"`
	}
	if err := c.Decode(&settings); err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, err.Error())
	}
	loc, err := c.Locale.Location()
	if err != nil {
		return err
	}
	g.greeting, g.loc = settings.Greetings[c.Locale.Default], loc
	g.jalali = c.Locale.Calendar == sdk.CalendarJalali
	return nil
}

func ExampleConfig() {
	g := &Greeter{}
	err := g.Configure(context.Background(), sdk.Config{
		Values: map[string]any{"greetings": map[string]any{"en": "Hello", "hy": "Բարև"}},
		Locale: sdk.Locale{Languages: []string{"hy", "en"}, Default: "hy", Calendar: sdk.CalendarGregorian, Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
	fmt.Println(g.greeting, g.loc, g.jalali, err)
	// Output:
	// Բարև Asia/Yerevan false <nil>
}
