package sdktest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// warranty is a partner's plugin for a car dealer: it opens one warranty
// claim per vehicle, for the user who asks, and remembers the mileage
// changes it is told of.
type warranty struct {
	sdk.Base
	mu   sync.Mutex
	seen []string
}

func (*warranty) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "warranty", Version: "1.0.0",
		Actions: []sdk.Action{
			{Name: "open_claim", Entities: []string{"vehicle"}},
			{Name: "give_claim", Args: []sdk.Arg{{Name: "claim", Type: sdk.TypeString, Required: true}, {Name: "to", Type: sdk.TypeString, Required: true}}},
		},
		Subscriptions: []string{"vehicle.updated"},
		Entities: []sdk.Entity{{Name: "claim", Fields: []sdk.Field{
			{Name: "vehicle", Type: sdk.TypeRef, To: "vehicle", Required: true, Index: true},
			{Name: "status", Type: sdk.TypeEnum, Values: []string{"open", "closed"}},
		}}},
	}
}

func (w *warranty) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	host := sdk.HostFrom(ctx)
	switch call.Action {
	case "open_claim":
		rec, created, err := host.CreateUnless(ctx, "claim", `vehicle == "`+call.Record.ID+`" && status == "open"`,
			map[string]any{"vehicle": call.Record.ID, "status": "open"})
		if err != nil {
			return nil, err
		}
		return map[string]any{"claim": rec.ID(), "owner": rec.String("owner"), "created": created}, nil
	case "give_claim":
		var a struct{ Claim, To string }
		if err := call.DecodeArgs(&a); err != nil {
			return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
		}
		return host.Update(ctx, "claim", a.Claim, map[string]any{"owner": a.To})
	}
	return w.Base.Invoke(ctx, call)
}

func (w *warranty) HandleEvents(_ context.Context, events []sdk.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ev := range events {
		if c, ok := ev.Changes["mileage"]; ok {
			w.seen = append(w.seen, fmt.Sprintf("%s by %s: %v -> %v", ev.Name, ev.By, c.Old, c.New))
		}
	}
	return nil
}

const dealerConfig = `
entity "vehicle" {
  field "vin" {
    type   = "string"
    unique = true
  }
  field "mileage" { type = "int" }
  field "manual" { type = "file" }
}
role "service" {
  read     = ["vehicle", "claim", "contact"]
  write    = ["vehicle", "claim"]
  own_only = true
}
`

func startWarranty(t *testing.T) (*sdktest.Host, *warranty) {
	w := &warranty{}
	h := sdktest.Start(t, w, sdktest.Options{Config: dealerConfig, Read: []string{"vehicle"}, Write: []string{"claim"}})
	return h, w
}

// TestUsersAndRoles acts as users of an own_only role: their own writes and
// the plugin's writes for them are checked as in production.
func TestUsersAndRoles(t *testing.T) {
	h, _ := startWarranty(t)
	ann, bob := h.AddUser("ann@example.com", "service"), h.AddUser("bob@example.com", "service")
	car, err := h.As(ann).Create("vehicle", map[string]any{"vin": "WVW1", "mileage": 100})
	if err != nil {
		t.Fatal(err)
	}
	if car.String("owner") != ann.ID {
		t.Errorf("ann's vehicle is owned by %q", car.String("owner"))
	}
	// own_only: bob sees only his vehicles, so ann's is not found for him.
	if _, err := h.As(bob).Update("vehicle", car.ID(), map[string]any{"mileage": 200}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("bob changes ann's vehicle: %v; want not found", err)
	}

	var opened struct {
		Claim, Owner string
		Created      bool
	}
	if err := h.As(ann).InvokeInto(sdk.Call{Action: "open_claim", Record: &sdk.RecordRef{Entity: "vehicle", ID: car.ID()}}, &opened); err != nil {
		t.Fatal(err)
	}
	if !opened.Created || opened.Owner != ann.ID {
		t.Errorf("the claim the plugin opened for ann: %+v; want created, owned by ann", opened)
	}
	var again struct {
		Claim   string
		Created bool
	}
	if err := h.As(ann).InvokeInto(sdk.Call{Action: "open_claim", Record: &sdk.RecordRef{Entity: "vehicle", ID: car.ID()}}, &again); err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Claim != opened.Claim {
		t.Errorf("a second claim for the vehicle: %+v; want the open one, %s", again, opened.Claim)
	}
	// Bob does not see ann's vehicle: a claim on it refers to a vehicle
	// that, for him, does not exist.
	if _, err := h.As(bob).Invoke(sdk.Call{Action: "open_claim", Record: &sdk.RecordRef{Entity: "vehicle", ID: car.ID()}}); err == nil || !strings.Contains(err.Error(), "no vehicle with id") {
		t.Errorf("bob opens a claim on ann's vehicle: %v; want refused as a missing vehicle", err)
	}

	// Through the plugin, ann may not hand her claim to bob.
	_, err = h.As(ann).Invoke(sdk.Call{Action: "give_claim", Args: map[string]any{"claim": opened.Claim, "to": bob.ID}})
	if err == nil || !strings.Contains(err.Error(), "someone else") {
		t.Errorf("ann gives her claim to bob through the plugin: %v; want refused", err)
	}
	if got := h.Get("claim", opened.Claim).String("owner"); got != ann.ID {
		t.Errorf("the claim is now owned by %q", got)
	}
}

// TestAPIForm shows records and files exactly as the API does.
func TestAPIForm(t *testing.T) {
	h, _ := startWarranty(t)
	manual := h.StoreFile("manual.pdf", "application/pdf", []byte("%PDF-1.4 a manual"))
	car := h.Create("vehicle", map[string]any{"vin": "WVW2", "manual": manual["id"]})
	got, ok := car["manual"].(map[string]any)
	if !ok || got["name"] != "manual.pdf" || got["content_type"] != "application/pdf" || got["size"] != float64(17) || got["sha256"] == "" {
		t.Errorf("the file field: %#v; want the file's metadata", car["manual"])
	}
	for _, f := range []string{"id", "entity", "version", "created_at", "updated_at", "created_by", "owner"} {
		if _, ok := car[f]; !ok {
			t.Errorf("the record lacks %s: %v", f, car)
		}
	}
	if _, err := h.As(h.AddUser("eve@example.com", "service")).Create("vehicle", map[string]any{"vin": "WVW2"}); err == nil {
		t.Error("a duplicate vin was accepted")
	} else if !strings.Contains(err.Error(), "vin") {
		t.Errorf("duplicate vin: %v", err)
	}
}

// TestDeliverChanges delivers real writes through the real change feed:
// the plugin sees a real vehicle.updated with the real old and new values,
// and by whom, once.
func TestDeliverChanges(t *testing.T) {
	h, w := startWarranty(t)
	ann := h.AddUser("ann@example.com", "service")
	car, err := h.As(ann).Create("vehicle", map[string]any{"vin": "WVW3", "mileage": 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.As(ann).Update("vehicle", car.ID(), map[string]any{"mileage": 1500}); err != nil {
		t.Fatal(err)
	}
	h.Update("vehicle", car.ID(), map[string]any{"vin": "WVW3-B"}) // no mileage change
	if err := h.DeliverChanges(); err != nil {
		t.Fatal(err)
	}
	if err := h.DeliverChanges(); err != nil { // nothing new: nothing again
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	want := []string{"vehicle.updated by " + ann.ID + ": 1000 -> 1500"}
	if strings.Join(w.seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("the plugin saw:\n%s\nwant:\n%s", strings.Join(w.seen, "\n"), strings.Join(want, "\n"))
	}
}
