package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const evaluateRules = `
rule "sold" {
  on   = ["vehicle.updated"]
  when = "record.status == 'sold'"
  action "set" {
    price   = "money(record.price.amount * 0.9, 'AMD')"
    checked = "now()"
    status  = "nil"
  }
  action "create_task" {
    title    = "'Deliver ' + record.vin"
    assignee = "record.owner"
    due      = "now() + duration('2h')"
  }
  action "create_record" {
    entity = "'activity'"
    kind   = "'note'"
    at     = "now()"
  }
  action "notify" {
    to      = "['role:manager', record.owner]"
    message = "'Sold ' + record.vin"
  }
  action "webhook" {
    url     = "'http://localhost/hook'"
    timeout = "duration('5s')"
    body    = "{'vin': record.vin, 'at': now(), 'price': record.price}"
  }
  action "doctemplates.generate_document" {
    template = "'contract'"
    format   = "'pdf'"
  }
}
`

func TestEvaluate(t *testing.T) {
	r := mustCompile(t, evaluateRules).Rule("sold")
	now := time.Date(2026, 3, 21, 22, 30, 0, 0, time.UTC) // 02:30 on the 22nd in Yerevan
	in := &Input{
		Record: &store.Record{ID: "V1", Entity: "vehicle", Owner: "u1", Values: map[string]any{
			"vin": "WVW1", "status": "sold", "price": schema.Money{Minor: 100000, Currency: "AMD"},
		}},
		Event: "updated",
		Now:   now,
	}
	got, err := r.Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &Outcome{Matched: true, Actions: []EvaluatedAction{
		{Kind: "set", Index: 0, Args: map[string]any{
			"price":   schema.Money{Minor: 90000, Currency: "AMD"},
			"checked": time.Date(2026, 3, 22, 0, 0, 0, 0, time.UTC), // a date field: the local date
			"status":  nil,
		}},
		{Kind: "create_task", Index: 1, Args: map[string]any{
			"title": "Deliver WVW1", "assignee": "u1", "due": now.Add(2 * time.Hour),
		}},
		{Kind: "create_record", Index: 2, Args: map[string]any{
			"entity": "activity", "kind": "note", "at": now,
		}},
		{Kind: "notify", Index: 3, Args: map[string]any{
			"to": []any{"role:manager", "u1"}, "message": "Sold WVW1",
		}},
		{Kind: "webhook", Index: 4, Args: map[string]any{
			"url": "http://localhost/hook", "timeout": 5 * time.Second,
			"body": map[string]any{"vin": "WVW1", "at": now, "price": schema.ExprMoney{Amount: 1000, Currency: "AMD", Minor: 100000}},
		}},
		{Kind: "doctemplates.generate_document", Index: 5, Args: map[string]any{
			"template": "contract", "format": "pdf",
		}},
	}}
	if len(got.Actions) != len(want.Actions) {
		t.Fatalf("got %d actions: %+v", len(got.Actions), got.Actions)
	}
	for i := range want.Actions {
		g, w := got.Actions[i], want.Actions[i]
		if g.Kind != w.Kind || g.Index != w.Index || !reflect.DeepEqual(normTimes(g.Args), normTimes(w.Args)) {
			t.Errorf("action %d:\n got %#v\nwant %#v", i+1, g, w)
		}
	}

	unsold := *in.Record
	unsold.Values = map[string]any{"vin": "WVW1", "status": "in_stock"}
	got, err = r.Evaluate(&Input{Record: &unsold, Event: "updated", Now: now})
	if err != nil || got.Matched || len(got.Actions) != 0 {
		t.Errorf("not sold: %+v, %v", got, err)
	}
}

// normTimes puts every time of a map in UTC, for DeepEqual.
func normTimes(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case time.Time:
			v = x.UTC()
		case map[string]any:
			v = normTimes(x)
		}
		out[k] = v
	}
	return out
}

func TestEvaluateOneClock(t *testing.T) {
	r := mustCompile(t, evaluateRules).Rule("sold")
	in := &Input{Record: &store.Record{ID: "V1", Owner: "u1", Values: map[string]any{"vin": "W", "status": "sold", "price": schema.Money{Minor: 1, Currency: "AMD"}}}}
	got, err := r.Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	at := got.Actions[2].Args["at"].(time.Time)
	body := got.Actions[4].Args["body"].(map[string]any)
	if !body["at"].(time.Time).Equal(at) || time.Since(at) > time.Minute {
		t.Errorf("now() differs within one evaluation: %v, %v", at, body["at"])
	}
	if !in.Now.IsZero() {
		t.Error("Evaluate changed its input")
	}
}

func TestEvaluateErrors(t *testing.T) {
	set := mustCompile(t, `
rule "r" {
  on   = ["vehicle.updated"]
  when = "record.mileage > 10"
  action "notify" {
    to      = "record.owner"
    message = "'ok'"
  }
  action "notify" {
    to      = "record.owner"
    message = "related('buyer').name"
  }
}
rule "bad_field" {
  on = ["vehicle.updated"]
  action "set" { vin = "''" }
}
`)
	r := set.Rule("r")
	rec := &store.Record{ID: "V1", Owner: "u1", Values: map[string]any{"vin": "W", "mileage": int64(20)}}
	got, err := r.Evaluate(&Input{Record: rec, Event: "updated"})
	if err == nil || !strings.Contains(err.Error(), "rule r: action 2 (notify): message: rules.hcl:11:16: cannot fetch name from <nil>") {
		t.Errorf("error = %v", err)
	}
	if got == nil || !got.Matched || len(got.Actions) != 1 {
		t.Errorf("outcome before the error = %+v", got)
	}
	rec = &store.Record{ID: "V1", Owner: "u1", Values: map[string]any{"vin": "W", "mileage": "many"}}
	if _, err := r.Evaluate(&Input{Record: rec, Event: "updated"}); err == nil || !strings.Contains(err.Error(), "rule r: when: rules.hcl:4:11:") {
		t.Errorf("when error = %v", err)
	}
	_, err = set.Rule("bad_field").Evaluate(&Input{Record: rec, Event: "updated"})
	if err == nil || !strings.Contains(err.Error(), "action 1 (set): field vin: ") {
		t.Errorf("a value that does not fit its field: %v", err)
	}
	if _, err := (*Rule)(nil).Evaluate(nil); err == nil {
		t.Error("nil rule: no error")
	}
}
