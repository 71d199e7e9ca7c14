package plugins_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// TestHostEnforcesTheManifest calls the test plugin's actions and webhook
// routes in every way its manifest does not allow: each call is refused
// by the host with the argument it is about, and the plugin process never
// sees it (its own count of calls does not move).
func TestHostEnforcesTheManifest(t *testing.T) {
	e := newEnv(t, plugins.Options{})
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "tp", testplugin.ModeOK)}); err != nil {
		t.Fatal(err)
	}
	calls := func() float64 {
		t.Helper()
		return invoke(t, e, "tp", plugins.Call{Action: "calls"})["calls"].(float64)
	}
	contact := &plugins.RecordRef{Entity: "contact", ID: "c1"}

	// A call that matches the manifest reaches the plugin, with its
	// arguments in their API form.
	before := calls()
	out := invoke(t, e, "tp", plugins.Call{Action: "award", Record: contact, Args: map[string]any{
		"points": 500, "level": "gold", "until": time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC),
		"price": map[string]any{"amount": "1500", "currency": "amd"},
	}})
	args, _ := out["args"].(map[string]any)
	if args["points"] != float64(500) || args["until"] != "2026-03-21" || out["record"] != "contact/c1" {
		t.Fatalf("award: %v", out)
	}
	if p, _ := args["price"].(map[string]any); p["currency"] != "AMD" {
		t.Errorf("price reached the plugin as %v, want its API form", args["price"])
	}
	if got := calls(); got != before+1 {
		t.Fatalf("calls = %v, want %v", got, before+1)
	}

	for _, c := range []struct {
		name        string
		call        plugins.Call
		code, field string
	}{
		{"a required argument missing", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"level": "gold"}}, plugins.CodeInvalidArgument, "args.points"},
		{"a required argument null", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": nil}}, plugins.CodeInvalidArgument, "args.points"},
		{"a string for an int", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": "500"}}, plugins.CodeInvalidArgument, "args.points"},
		{"a fraction for an int", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": 1.5}}, plugins.CodeInvalidArgument, "args.points"},
		{"a value outside the enum", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": 1, "level": "platinum"}}, plugins.CodeInvalidArgument, "args.level"},
		{"a malformed date", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": 1, "until": "21.03.2026"}}, plugins.CodeInvalidArgument, "args.until"},
		{"an unknown argument", plugins.Call{Action: "award", Record: contact, Args: map[string]any{"points": 1, "pionts": 2}}, plugins.CodeInvalidArgument, "args.pionts"},
		{"an argument of an action that takes none", plugins.Call{Action: "refuse", Args: map[string]any{"why": "x"}}, plugins.CodeInvalidArgument, "args.why"},
		{"a number for an object", plugins.Call{Action: "create", Args: map[string]any{"entity": "contact", "values": 3}}, plugins.CodeInvalidArgument, "args.values"},
		{"a record of another entity", plugins.Call{Action: "award", Record: &plugins.RecordRef{Entity: "deal", ID: "d1"}, Args: map[string]any{"points": 1}}, plugins.CodeInvalidArgument, "entity"},
		{"no record", plugins.Call{Action: "award", Args: map[string]any{"points": 1}}, plugins.CodeInvalidArgument, "entity"},
		{"an unknown action", plugins.Call{Action: "awrad", Record: contact}, plugins.CodeUnknownAction, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := calls()
			_, err := e.host.Invoke(background(), "tp", c.call)
			var ic *plugins.InvalidCall
			if !errors.As(err, &ic) || ic.Code != c.code || ic.Field != c.field || ic.Plugin != "tp" || ic.Message == "" {
				t.Fatalf("got %v (%+v), want code %s field %q", err, ic, c.code, c.field)
			}
			if got := calls(); got != before {
				t.Fatalf("the plugin was called: calls %v -> %v", before, got)
			}
		})
	}

	t.Run("webhook routes and methods", func(t *testing.T) {
		hook := func(method, path string) (*plugins.WebhookResponse, error) {
			return e.host.HandleWebhook(background(), "tp", plugins.WebhookRequest{Method: method, Path: path, Header: http.Header{}})
		}
		before := calls()
		if r, err := hook("GET", "/items/42"); err != nil || string(r.Body) != "item 42" {
			t.Fatalf("GET /items/42: %v %v", r, err)
		}
		if r, err := hook("POST", "/ping"); err != nil || r.Status != http.StatusAccepted {
			t.Fatalf("POST /ping: %v %v", r, err)
		}
		if got := calls(); got != before+2 {
			t.Fatalf("calls = %v, want %v", got, before+2)
		}
		for _, c := range []struct {
			method, path, code string
			allow              []string
		}{
			{"GET", "/ping", plugins.CodeMethodNotAllowed, []string{"POST"}},
			{"DELETE", "/items/42", plugins.CodeMethodNotAllowed, []string{"GET"}},
			{"POST", "/pong", plugins.CodeNoRoute, nil},
			{"GET", "/items/42/more", plugins.CodeNoRoute, nil},
		} {
			_, err := hook(c.method, c.path)
			var ic *plugins.InvalidCall
			if !errors.As(err, &ic) || ic.Code != c.code || !slices.Equal(ic.Allow, c.allow) {
				t.Errorf("%s %s: %v (%+v), want %s", c.method, c.path, err, ic, c.code)
			}
		}
		if got := calls(); got != before+2 {
			t.Fatalf("a refused webhook request reached the plugin: calls = %v, want %v", got, before+2)
		}
	})
}
