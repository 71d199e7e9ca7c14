package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Plugin is what a plugin author implements. Embed Base to get a default
// for every method but Manifest.
//
// The host calls Manifest first, then Configure once per process start,
// then Invoke, HandleEvents and HandleWebhook concurrently: an
// implementation must be safe for concurrent use. Every ctx carries a
// deadline set by the host and the Host (see HostFrom).
type Plugin interface {
	// Manifest says what the plugin offers. It must not depend on the
	// configuration: the host asks for it before Configure.
	Manifest() Manifest
	// Configure receives the plugin's HCL block (its `config` object in
	// Config.Values, numbers as float64; Config.Decode gives a typed
	// struct) and the instance's locale (Config.Locale). An error stops
	// the plugin from starting; return Refuse(...) for a configuration
	// the plugin will not work with, so the admin sees the message as it
	// is.
	Configure(ctx context.Context, c Config) error
	// Invoke runs an action. The result is encoded as JSON for the
	// caller. Return Refuse(...) when the action will not be done (a
	// refusal is shown to the user and not retried); any other error is a
	// failure, which may be retried with the same Call.IdempotencyKey.
	Invoke(ctx context.Context, call Call) (any, error)
	// HandleEvents receives a batch of events the manifest subscribes to,
	// in the order they happened. A failure means the whole batch comes
	// again (each event with the same IdempotencyKey); a refusal means
	// the plugin declined it for good.
	HandleEvents(ctx context.Context, events []Event) error
	// HandleWebhook serves a request to one of the manifest's webhook
	// routes. The plugin authenticates it (e.g. a shared secret in its
	// config).
	HandleWebhook(ctx context.Context, req Request) (Response, error)
}

// HealthChecker is implemented by a plugin that can tell whether it is able
// to do its work (a reachable upstream, a valid licence). A plugin that does
// not implement it is healthy while it answers.
//
// A plugin that works, but not fully (a converter for one of its formats is
// not installed), returns Degraded(message): it stays running, and crm
// shows the message as the plugin's warning in its status
// (GET /api/v1/plugins, crm plugin list).
type HealthChecker interface {
	Health(ctx context.Context) error
}

// DegradedError is a Health answer that the plugin works, but not fully.
type DegradedError struct{ Message string }

// Error is the message.
func (e *DegradedError) Error() string { return e.Message }

// Degraded is Health's answer for a plugin that works but not fully; the
// message says what is missing and how to fix it.
func Degraded(message string) error { return &DegradedError{Message: message} }

// Base is embedded in a plugin to give every Plugin method but Manifest a
// default: Configure accepts any config, Invoke refuses every action,
// HandleEvents ignores events and HandleWebhook answers 404.
type Base struct{}

// Configure accepts any configuration.
func (Base) Configure(context.Context, Config) error { return nil }

// Invoke refuses: the plugin has no such action.
func (Base) Invoke(_ context.Context, call Call) (any, error) {
	return nil, Refuse(CodeUnknownAction, fmt.Sprintf("this plugin has no action %q", call.Action))
}

// HandleEvents ignores the events.
func (Base) HandleEvents(context.Context, []Event) error { return nil }

// HandleWebhook answers 404 Not Found.
func (Base) HandleWebhook(context.Context, Request) (Response, error) {
	return Response{Status: http.StatusNotFound, Body: []byte("no such webhook\n")}, nil
}

// User is the user on whose behalf the host calls the plugin.
type User struct {
	ID    string
	Email string
	Name  string
	Role  string
	// Extension is the user's phone extension on the PBX (digits), as the
	// user or an admin set it on the user's profile; "" when none.
	Extension string
}

// RecordRef names a record.
type RecordRef struct {
	Entity string
	ID     string
}

// Call is one invocation of an action.
type Call struct {
	// Action is the action's name, as the manifest declares it.
	Action string
	// Args are the arguments, decoded from JSON (numbers as float64,
	// money as {"amount": "1500.00", "currency": "AMD"}). DecodeArgs gives
	// them as a typed struct instead.
	Args map[string]any
	// Record is the record the action is called on; nil when none.
	Record *RecordRef
	// User is the calling user; nil when a rule or the system calls.
	User *User
	// IdempotencyKey is the same when the host retries the call. Pass it
	// on (IdempotencyKey option) to writes that must happen once.
	IdempotencyKey string
	// Cause names the rule chain that made the call, if any.
	Cause string

	rawArgs json.RawMessage
}

// DecodeArgs decodes the call's arguments into v, a pointer to a struct
// with json tags.
func (c Call) DecodeArgs(v any) error {
	raw := c.rawArgs
	if len(raw) == 0 {
		var err error
		if raw, err = json.Marshal(c.Args); err != nil {
			return fmt.Errorf("encode arguments of %s: %w", c.Action, err)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode arguments of %s: %w", c.Action, err)
	}
	return nil
}

// Change is one field's old and new value in an event, in API JSON form.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Event is an event delivered to HandleEvents: a committed write of a
// record ("deal.updated") or an event a plugin emitted ("call.missed").
type Event struct {
	// Seq is the event's position in the change feed; 0 for a plugin event.
	Seq uint64
	// Name is "ENTITY.OP" or the plugin event's name.
	Name   string
	Entity string
	ID     string
	At     time.Time
	// By is who made the change: a user id, "rule:NAME", "plugin:NAME".
	By string
	// Record is the record after the write; a plugin event's payload.
	Record Record
	// Changes are the fields a write changed.
	Changes map[string]Change
	// IdempotencyKey is the same when the event is delivered again.
	IdempotencyKey string
	Cause          string
}

// Request is an HTTP request to one of the plugin's webhook routes.
type Request struct {
	Method string
	// Path is the path below /hooks/{plugin}, starting with "/".
	Path       string
	Query      string
	Header     http.Header
	Body       []byte
	RemoteAddr string
}

// Response is the plugin's answer to a webhook request. A zero Status is 200.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode converts a value decoded from JSON (a config map, an event's
// record) into v, a pointer to a struct with json tags.
func Decode(from any, v any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
