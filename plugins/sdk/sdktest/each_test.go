package sdktest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// walker walks contacts with sdk.Each, two a page: "all" answers every
// name in order, "first3" stops after three with ErrStop, "fail" answers
// fn's error.
type walker struct{ sdk.Base }

func (*walker) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "walker", Version: "1.0.0", Actions: []sdk.Action{{Name: "all"}, {Name: "first3"}, {Name: "fail"}}}
}

var errFail = errors.New("fn failed")

func (*walker) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	names := []string{}
	err := sdk.Each(ctx, sdk.Query{Entity: "contact", Sort: "name", Limit: 2}, func(r sdk.Record) error {
		switch {
		case call.Action == "first3" && len(names) == 3:
			return sdk.ErrStop
		case call.Action == "fail" && len(names) == 3:
			return errFail
		}
		names = append(names, r.String("name"))
		return nil
	})
	if err != nil {
		return nil, sdk.Refuse("each_failed", err.Error())
	}
	return names, nil
}

// TestEachWalksEveryPage: sdk.Each reads every page through the real host,
// in the query's order, stops quietly on ErrStop and answers fn's error.
func TestEachWalksEveryPage(t *testing.T) {
	h := sdktest.Start(t, &walker{}, sdktest.Options{Read: []string{"contact"}})
	for _, n := range []string{"e", "c", "a", "d", "b"} {
		h.Create("contact", map[string]any{"name": n})
	}
	for action, want := range map[string][]string{"all": {"a", "b", "c", "d", "e"}, "first3": {"a", "b", "c"}} {
		var got []string
		if err := h.InvokeInto(sdk.Call{Action: action}, &got); err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", action, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: %v, want %v", action, got, want)
			}
		}
	}
	if err := h.InvokeInto(sdk.Call{Action: "fail"}, new([]string)); err == nil {
		t.Fatal("fn's error was not answered")
	}
}
