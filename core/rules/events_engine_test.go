package rules_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/store"
)

// A rule on a typed plugin event runs on the event's subject record with
// its payload as event; its run and its notification keep the event's
// full name, and the subject entity, not the event's prefix.
func TestTypedPluginEventRunsOnItsSubject(t *testing.T) {
	st, eng := engineFor(t, `
plugin "warranty" {}
plugin "calltracking" {}
rule "claimed" {
  on   = ["warranty.claimed"]
  when = "event.cost.amount > 100"
  action "set" {
    notes = "'claim ' + event.claim + ' on ' + record.title"
  }
  action "notify" {
    to      = "'`+admin+`'"
    message = "event.claim"
  }
}
rule "missed" {
  on = ["call.missed"]
  action "notify" {
    to      = "'`+admin+`'"
    message = "'missed ' + record.from"
  }
}`)
	ctx := context.Background()
	deal := create(t, st, "deal", map[string]any{"title": "Sedan"})
	for _, req := range []store.EmitRequest{
		{Name: "warranty.claimed", ID: deal.ID, Payload: map[string]any{"claim": "C-7", "cost": map[string]any{"amount": "250.00", "currency": "USD"}}, By: "plugin:warranty"},
		{Name: "warranty.claimed", ID: deal.ID, Payload: map[string]any{"claim": "C-8", "cost": map[string]any{"amount": "5.00", "currency": "USD"}}, By: "plugin:warranty"},
		{Name: "call.missed", ID: "call1", Payload: map[string]any{"from": "+37491123456"}, By: "plugin:calltracking"},
	} {
		if _, err := st.Emit(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, st, eng)
	got, err := st.Get(ctx, "deal", deal.ID)
	if err != nil || got.Values["notes"] != "claim C-7 on Sedan" {
		t.Fatalf("deal after the claim: %+v, %v", got, err)
	}
	runs, err := eng.Runs(ctx, "claimed", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != rules.StatusOK || runs[0].Event != "warranty.claimed" || runs[0].Entity != "deal" || runs[0].RecordID != deal.ID {
		t.Fatalf("runs of claimed: %+v, %v", runs, err)
	}
	runs, err = eng.Runs(ctx, "missed", 10)
	if err != nil || len(runs) != 1 || runs[0].Event != "call.missed" || runs[0].Entity != "" {
		t.Fatalf("runs of missed: %+v, %v", runs, err)
	}
	notes := map[string]rules.Notification{}
	if err := st.SysList(ctx, "notification", admin+"/", func(_ string, data []byte) error {
		var n rules.Notification
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		notes[n.Rule] = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := notes["claimed"]; n.Message != "C-7" || n.Event != "warranty.claimed" || n.Entity != "deal" || n.Record != deal.ID {
		t.Fatalf("notification of claimed: %+v", n)
	}
	if n := notes["missed"]; n.Message != "missed +37491123456" || n.Event != "call.missed" || n.Entity != "" {
		t.Fatalf("notification of missed: %+v", n)
	}
}

// A typed event whose subject record does not exist fails its run for
// good, saying which record.
func TestTypedPluginEventMissingSubjectFails(t *testing.T) {
	st, eng := engineFor(t, `
plugin "warranty" {}
rule "claimed" {
  on = ["warranty.claimed"]
  action "set" {
    notes = "event.claim"
  }
}`)
	ctx := context.Background()
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "warranty.claimed", ID: "nope", Payload: map[string]any{"claim": "C-1"}}); err != nil {
		t.Fatal(err)
	}
	settle(t, st, eng)
	runs, err := eng.Runs(ctx, "claimed", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != rules.StatusFailed || runs[0].Attempts != 1 || runs[0].Event != "warranty.claimed" {
		t.Fatalf("runs: %+v, %v", runs, err)
	}
	if want := `event warranty.claimed: its subject deal "nope" does not exist`; runs[0].Error != want {
		t.Fatalf("error %q, want %q", runs[0].Error, want)
	}
}
