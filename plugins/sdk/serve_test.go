package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// fake is a plugin whose actions answer in each of the ways a method may.
type fake struct {
	Base
	events []Event
	health error
}

func (*fake) Manifest() Manifest { return Manifest{Name: "fake", Version: "1"} }

func (f *fake) Invoke(_ context.Context, c Call) (any, error) {
	switch c.Action {
	case "ok":
		var a struct{ N int }
		if err := c.DecodeArgs(&a); err != nil {
			return nil, err
		}
		return map[string]any{"n": a.N * 2, "user": c.User.ID, "record": c.Record.ID}, nil
	case "refuse":
		return nil, RefuseField("n", "too_big", "n is too big")
	case "wrapped_refusal":
		return nil, errors.Join(errors.New("context"), Refuse("nope", "no"))
	case "fail":
		return nil, errors.New("disk full")
	case "deadline":
		return nil, context.DeadlineExceeded
	case "panic":
		var m map[string]int
		m["x"] = 1
	case "unencodable":
		return func() {}, nil
	}
	return f.Base.Invoke(context.Background(), c)
}

func (f *fake) HandleEvents(_ context.Context, evs []Event) error {
	f.events = append(f.events, evs...)
	return nil
}

func (f *fake) Health(context.Context) error { return f.health }

// TestServerAnswers: the adapter tells refusals from failures, survives
// panics and converts every message both ways.
func TestServerAnswers(t *testing.T) {
	f := &fake{}
	s := &server{impl: f}
	ctx := context.Background()
	cases := []struct {
		action   string
		args     string
		result   string
		refusal  string
		grpcCode codes.Code
		code     string
	}{
		{action: "ok", args: `{"N": 21}`, result: `{"n":42,"record":"r1","user":"u1"}`},
		{action: "refuse", refusal: "too_big"},
		{action: "wrapped_refusal", refusal: "nope"},
		{action: "nothing", refusal: CodeUnknownAction},
		{action: "ok", args: `[1]`, refusal: CodeInvalidArgs},
		{action: "fail", grpcCode: codes.Unknown, code: "plugin_error"},
		{action: "deadline", grpcCode: codes.DeadlineExceeded, code: "deadline"},
		{action: "panic", grpcCode: codes.Internal, code: "plugin_panic"},
		{action: "unencodable", grpcCode: codes.Internal, code: "plugin_error"},
	}
	for _, tc := range cases {
		resp, err := s.Invoke(ctx, &crmv1.InvokeRequest{
			Action: tc.action, ArgsJson: []byte(tc.args),
			User: &crmv1.User{Id: "u1"}, Record: &crmv1.RecordRef{Entity: "deal", Id: "r1"},
		})
		if tc.grpcCode != codes.OK {
			c, code, _, _, _ := crmv1.ErrorDetails(err)
			if c != tc.grpcCode || code != tc.code {
				t.Errorf("%s: got %v (%s), want %v %s", tc.action, err, code, tc.grpcCode, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.action, err)
			continue
		}
		if got := resp.GetRefusal().GetCode(); got != tc.refusal {
			t.Errorf("%s: refusal %q, want %q", tc.action, got, tc.refusal)
		}
		if tc.result != "" && string(resp.GetResultJson()) != tc.result {
			t.Errorf("%s: result %s, want %s", tc.action, resp.GetResultJson(), tc.result)
		}
	}
}

func TestServerEventsWebhookHealth(t *testing.T) {
	f := &fake{}
	s := &server{impl: f}
	ctx := context.Background()
	_, err := s.HandleEvent(ctx, &crmv1.HandleEventRequest{Events: []*crmv1.Event{
		{Seq: 3, Name: "deal.updated", Entity: "deal", Id: "d1", At: "2026-03-21T10:00:00.5Z",
			RecordJson: []byte(`{"id":"d1","title":"T"}`), ChangesJson: []byte(`{"title":{"old":"S","new":"T"}}`), IdempotencyKey: "k3"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.events[0]
	if ev.Seq != 3 || ev.Record.String("title") != "T" || ev.Changes["title"].Old != "S" || ev.At.Nanosecond() != 5e8 || ev.IdempotencyKey != "k3" {
		t.Errorf("event %+v", ev)
	}
	if _, err := s.HandleEvent(ctx, &crmv1.HandleEventRequest{Events: []*crmv1.Event{{Name: "x.y", At: "yesterday"}}}); err == nil {
		t.Error("a bad time was accepted")
	}

	resp, err := s.HandleWebhook(ctx, &crmv1.HandleWebhookRequest{Method: "POST", Path: "/x"})
	if err != nil || resp.GetStatus() != http.StatusNotFound {
		t.Errorf("webhook default: %v %v", resp, err)
	}

	h, _ := s.Health(ctx, &crmv1.HealthRequest{})
	f.health = errors.New("upstream down")
	bad, _ := s.Health(ctx, &crmv1.HealthRequest{})
	if !h.GetOk() || bad.GetOk() || bad.GetMessage() != "upstream down" {
		t.Errorf("health %v, %v", h, bad)
	}
}

func TestHostErrors(t *testing.T) {
	ctx := context.Background()
	err := hostError(ctx, "create deal", crmv1.Error(codes.PermissionDenied, "denied", "may not write deal records", ""))
	if !errors.Is(err, ErrDenied) || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "create deal: host: may not write deal records") {
		t.Errorf("denied: %v", err)
	}
	err = hostError(ctx, "create contact", crmv1.Error(codes.InvalidArgument, "required", "a value is required", "name"))
	var he *HostError
	if !errors.As(err, &he) || he.Code != "required" || he.Field != "name" || !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := hostError(canceled, "get", crmv1.Error(codes.Canceled, "", "x", "")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestManifestValidate(t *testing.T) {
	good := (&fake{}).Manifest()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Manifest{
		Name: "Bad Name",
		Actions: []Action{
			{Name: "go", Args: []Arg{{Name: "n", Type: "integer"}, {Name: "s", Type: TypeEnum}}},
			{Name: "go"},
		},
		Subscriptions: []string{"deal"},
		Entities:      []Entity{{Name: "thing", Fields: []Field{{Name: "owner", Type: TypeUser}, {Name: "r", Type: TypeRef}}}},
		Webhooks:      []Webhook{{Method: "BREW", Path: "pot"}},
		UIActions:     []UIAction{{Entity: "deal", Action: "stop", Label: "Stop"}},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("a bad manifest passed")
	}
	for _, want := range []string{
		`plugin name "Bad Name"`, "version is empty", `unknown type "integer"`, "an enum needs values",
		`action "go" is declared twice`, `subscription "deal"`, `"owner" is a system field`, "a ref needs the entity",
		"method must be one of", "path must start with /", `ui action "stop"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}

func TestRecordHelpers(t *testing.T) {
	var r Record
	if err := json.Unmarshal([]byte(`{"id":"r1","entity":"deal","version":4,"title":"T"}`), &r); err != nil {
		t.Fatal(err)
	}
	var d struct{ Title string }
	if r.ID() != "r1" || r.Entity() != "deal" || r.Version() != 4 || r.Decode(&d) != nil || d.Title != "T" {
		t.Errorf("record helpers on %v", r)
	}
}

// hostErrPlugin returns, from Invoke and HandleWebhook, the host error its
// action (or webhook path) names, wrapped as a plugin's code would.
type hostErrPlugin struct{ Base }

func (*hostErrPlugin) Manifest() Manifest { return Manifest{Name: "hosterr", Version: "1"} }

func (*hostErrPlugin) hostErr(name string) error {
	ctx := context.Background()
	switch name {
	case "denied":
		return fmt.Errorf("look up the account: %w", hostError(ctx, "list contact", crmv1.Error(codes.PermissionDenied, "denied", "plugin may not read contact records", "")))
	case "not_found":
		return fmt.Errorf("redeem: %w", hostError(ctx, "get contact", crmv1.Error(codes.NotFound, "not_found", "no contact c9", "")))
	case "invalid":
		return hostError(ctx, "create contact", crmv1.Error(codes.InvalidArgument, "required", "a value is required", "name"))
	case "conflict":
		return hostError(ctx, "update contact", crmv1.Error(codes.Aborted, "version_conflict", "the record changed: version 4, not 3", ""))
	case "sentinel":
		return ErrNotFound
	case "refusal_over_host_error":
		return errors.Join(Refuse("no_account", "no account"), hostError(ctx, "get", crmv1.Error(codes.NotFound, "not_found", "x", "")))
	case "unavailable":
		return hostError(ctx, "list contact", crmv1.Error(codes.Unavailable, "", "the host is stopping", ""))
	case "other":
		return hostError(ctx, "list contact", crmv1.Error(codes.Internal, "internal", "disk full", ""))
	}
	return errors.New("no such case " + name)
}

func (p *hostErrPlugin) Invoke(_ context.Context, c Call) (any, error) {
	return nil, p.hostErr(c.Action)
}

func (p *hostErrPlugin) HandleWebhook(_ context.Context, r Request) (Response, error) {
	return Response{}, p.hostErr(strings.TrimPrefix(r.Path, "/"))
}

// TestCallerFaultHostErrorsAreRefusals: a host error that is the caller's
// fault, returned (wrapped) from Invoke or HandleWebhook, is answered as a
// refusal with the host's code, message and field; a denial keeps the code
// "denied" (403 on a webhook); unavailable and other host errors stay
// failures.
func TestCallerFaultHostErrorsAreRefusals(t *testing.T) {
	s := &server{impl: &hostErrPlugin{}}
	ctx := context.Background()
	for _, tc := range []struct {
		name                 string
		code, message, field string
		status               int
		failure              codes.Code
	}{
		{name: "denied", code: CodeDenied, message: "plugin may not read contact records", status: http.StatusForbidden},
		{name: "not_found", code: "not_found", message: "no contact c9", status: http.StatusNotFound},
		{name: "invalid", code: "required", message: "a value is required", field: "name", status: http.StatusBadRequest},
		{name: "conflict", code: "version_conflict", message: "the record changed: version 4, not 3", status: http.StatusConflict},
		{name: "sentinel", code: "not_found", message: "not_found", status: http.StatusNotFound},
		{name: "refusal_over_host_error", code: "no_account", message: "no account", status: http.StatusBadRequest},
		{name: "unavailable", failure: codes.Unknown},
		{name: "other", failure: codes.Unknown},
	} {
		resp, err := s.Invoke(ctx, &crmv1.InvokeRequest{Action: tc.name})
		wh, whErr := s.HandleWebhook(ctx, &crmv1.HandleWebhookRequest{Method: "POST", Path: "/" + tc.name})
		if tc.failure != codes.OK {
			if c, _, _, _, _ := crmv1.ErrorDetails(err); c != tc.failure || resp.GetRefusal() != nil {
				t.Errorf("%s: Invoke answered %v, %v; want a failure", tc.name, resp, err)
			}
			if c, _, _, _, _ := crmv1.ErrorDetails(whErr); c != tc.failure {
				t.Errorf("%s: HandleWebhook answered %v, %v; want a failure", tc.name, wh, whErr)
			}
			continue
		}
		r := resp.GetRefusal()
		if err != nil || r.GetCode() != tc.code || r.GetMessage() != tc.message || r.GetField() != tc.field {
			t.Errorf("%s: Invoke answered %v, %v; want refusal %s %q field %q", tc.name, r, err, tc.code, tc.message, tc.field)
		}
		var body struct{ Error map[string]string }
		if whErr != nil || wh.GetStatus() != int32(tc.status) || json.Unmarshal(wh.GetBody(), &body) != nil ||
			body.Error["code"] != tc.code || body.Error["message"] != tc.message || body.Error["field"] != tc.field {
			t.Errorf("%s: HandleWebhook answered %v %s, %v; want %d with code %s", tc.name, wh.GetStatus(), wh.GetBody(), whErr, tc.status, tc.code)
		}
	}
}
