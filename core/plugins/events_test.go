package plugins_test

import (
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
	"github.com/crmkit/crm/core/store"
)

// TestEmitChecksTheDeclaredPayload drives a real plugin process emitting
// its typed events: a payload that matches its declaration, about an
// existing record, reaches the change feed; a wrong one is refused as
// invalid, naming the field, and nothing is emitted.
func TestEmitChecksTheDeclaredPayload(t *testing.T) {
	e := newEnv(t, plugins.Options{})
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "tp", testplugin.ModeOK)}); err != nil {
		t.Fatal(err)
	}
	m, _ := e.host.Manifest("tp")
	if ev := m.Event("testplugin.serviced"); ev == nil || ev.Subject != "contact" || len(ev.Payload) != 2 || ev.Payload[0].Type != "int" || !ev.Payload[0].Required {
		t.Fatalf("declared event: %+v", ev)
	}
	c, err := e.store.Create(background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Ani"}})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(name, id string, payload map[string]any) map[string]any {
		args := map[string]any{"entity": name, "values": payload}
		if id != "" {
			args["id"] = id
		}
		return invoke(t, e, "tp", plugins.Call{Action: "emit", Args: args})
	}
	before := e.store.LastSeq()
	if out := emit("testplugin.serviced", c.ID, map[string]any{"mileage": 42000, "kind": "oil"}); out["error"] != nil {
		t.Fatalf("a good emit: %v", out)
	}
	if out := emit("testplugin.noted", "", map[string]any{"note": "hi"}); out["error"] != nil {
		t.Fatalf("a good emit without subject: %v", out)
	}
	evs, err := e.store.Events(background(), before, 10)
	if err != nil || len(evs) != 2 || evs[0].ID != c.ID || evs[0].Op != "serviced" {
		t.Fatalf("events %+v, %v", evs, err)
	}
	for _, c := range []struct {
		name, event, id string
		payload         map[string]any
		want            string
	}{
		{"wrong type", "testplugin.serviced", c.ID, map[string]any{"mileage": "far"}, `payload field "mileage"`},
		{"not an enum value", "testplugin.serviced", c.ID, map[string]any{"mileage": 1, "kind": "wash"}, `payload field "kind"`},
		{"undeclared field", "testplugin.serviced", c.ID, map[string]any{"mileage": 1, "milage": 2}, `payload field "milage" is not declared in the manifest; did you mean "mileage"?`},
		{"required field missing", "testplugin.serviced", c.ID, map[string]any{"kind": "oil"}, `payload field "mileage" is required`},
		{"no subject", "testplugin.serviced", "", map[string]any{"mileage": 1}, `the event is about a contact record`},
		{"subject does not exist", "testplugin.serviced", "01JNOSUCHCONTACT0000000000", map[string]any{"mileage": 1}, `no contact record "01JNOSUCHCONTACT0000000000"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := emit(c.event, c.id, c.payload)
			msg, _ := out["error"].(string)
			if msg == "" || out["denied"] == true {
				t.Fatalf("emit: %v", out)
			}
			if c.name != "subject does not exist" && out["invalid"] != true {
				t.Fatalf("not refused as invalid: %v", out)
			}
			if c.name == "subject does not exist" && out["not_found"] != true {
				t.Fatalf("not refused as not found: %v", out)
			}
			mustContain(t, "the refusal", msg, c.want)
		})
	}
	if last := e.store.LastSeq(); last != evs[1].Seq {
		t.Fatalf("a refused emit reached the feed: last seq %d, want %d", last, evs[1].Seq)
	}
}
