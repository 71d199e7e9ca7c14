package plugins

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// Refusal is a plugin's deliberate "no" to a call, with a code and a message
// for the user. It is not a failure: it is shown as it is and never retried.
type Refusal struct {
	Plugin  string
	Code    string
	Message string
	Field   string
}

// Error says which plugin refused, and why.
func (r *Refusal) Error() string {
	if r.Field != "" {
		return fmt.Sprintf("plugin %q refused: %s: %s (%s)", r.Plugin, r.Field, r.Message, r.Code)
	}
	return fmt.Sprintf("plugin %q refused: %s (%s)", r.Plugin, r.Message, r.Code)
}

func refusalOf(plugin string, r *crmv1.Refusal) *Refusal {
	return &Refusal{Plugin: plugin, Code: r.GetCode(), Message: r.GetMessage(), Field: r.GetField()}
}

// CallError is a call to a plugin that failed: the plugin returned an
// error, panicked, or did not answer. Code is the plugin's error code when
// it gave one ("plugin_error", "plugin_panic").
type CallError struct {
	Plugin  string
	Method  string
	Code    string
	Message string
	err     error
}

// Error says which plugin failed, in which call, and how.
func (e *CallError) Error() string {
	return fmt.Sprintf("plugin %q: %s: %s", e.Plugin, e.Method, e.Message)
}

// Unwrap gives ErrTimeout or ErrNotRunning where they apply.
func (e *CallError) Unwrap() error { return e.err }

// callErr turns a gRPC error from a plugin into a plain error.
func callErr(err error, timeout time.Duration) error {
	c, code, msg, _, ok := crmv1.ErrorDetails(err)
	if !ok {
		return err
	}
	switch c {
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w (deadline %s)", ErrTimeout, timeout)
	case codes.Unavailable, codes.Canceled:
		return fmt.Errorf("%w: %s", ErrNotRunning, msg)
	}
	if code != "" {
		return fmt.Errorf("%s (%s)", msg, code)
	}
	return errors.New(msg)
}

// callTimeoutKey carries an action's own deadline (Action.Timeout) into
// call, which uses it when it is longer than the host's.
type callTimeoutKey struct{}

// call runs one call to a running plugin with the host's deadline, and
// turns its failure into a *CallError. While the plugin restarts, the call
// waits for it within its deadline. rpc names the method for the latency
// figures. A call that may be repeated (it carries idempotency keys) and
// that was in flight when the process died is sent once more, to the new
// process. check, when not nil, is given the instance about to be called
// (its manifest) first: its error is returned as it is, and the plugin is
// not called.
func call[T any](ctx context.Context, h *Host, name, rpc, method string, repeatable bool, check func(*instance) error, fn func(context.Context, crmv1.PluginClient) (T, error)) (T, error) {
	var zero T
	m, err := h.plugin(name)
	if err != nil {
		return zero, err
	}
	timeout := h.opts.CallTimeout
	if d, ok := ctx.Value(callTimeoutKey{}).(time.Duration); ok && d > timeout {
		timeout = d
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dead *instance
	for attempt := 0; ; attempt++ {
		inst, err := m.await(ctx, dead)
		switch {
		case errors.Is(err, errRetired):
			// A reload replaced the plugin: call the one now configured.
			if m, err = h.plugin(name); err != nil {
				return zero, err
			}
			dead, attempt = nil, attempt-1
			continue
		case errors.Is(err, ErrNotRunning):
			return zero, &CallError{Plugin: name, Method: method, Message: ErrNotRunning.Error(), err: ErrNotRunning}
		case errors.Is(err, context.DeadlineExceeded):
			return zero, &CallError{Plugin: name, Method: method, err: ErrTimeout,
				Message: fmt.Sprintf("the plugin did not run again within %s", timeout.Round(time.Millisecond))}
		case err != nil:
			return zero, &CallError{Plugin: name, Method: method, Message: err.Error(), err: err}
		}
		if check != nil {
			if err := check(inst); err != nil {
				m.leave()
				return zero, err
			}
		}
		began := time.Now()
		out, err := fn(ctx, inst.rpc)
		m.leave()
		m.observe(rpc, time.Since(began))
		if err == nil {
			return out, nil
		}
		ce := &CallError{Plugin: name, Method: method}
		c, code, msg, _, _ := crmv1.ErrorDetails(err)
		ce.Code, ce.Message = code, msg
		switch {
		case c == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
			ce.err, ce.Message = ErrTimeout, fmt.Sprintf("no answer within %s", timeout.Round(time.Millisecond))
		case c == codes.Unavailable || (c == codes.Canceled && ctx.Err() == nil):
			// The connection went away: the process died or is being
			// killed. Its supervisor restarts it.
			ce.err = ErrNotRunning
			m.poke()
			if repeatable && attempt == 0 {
				m.log.Warn("plugin call interrupted; it will be sent again once the plugin runs again",
					slog.String("method", method), slog.String("err", msg))
				dead = inst
				continue
			}
		}
		m.fail(ce)
		m.log.Warn("plugin call failed", slog.String("method", method), slog.String("err", ce.Message), slog.String("code", ce.Code))
		return zero, ce
	}
}

// User is the user on whose behalf a plugin is called.
type User struct {
	ID    string
	Email string
	Name  string
	Role  string
	// Extension is the user's phone extension ("" for none).
	Extension string
}

// RecordRef names a record.
type RecordRef struct {
	Entity string
	ID     string
}

// Call is one call of a plugin action.
type Call struct {
	Action string
	// Args are the arguments, JSON-encodable (API JSON forms).
	Args map[string]any
	// Record is the record the action is called on; nil when none.
	Record *RecordRef
	// User is the calling user; nil for a rule or the system.
	User *User
	// IdempotencyKey must be the same when the call is retried.
	IdempotencyKey string
	// Cause names the rule chain that made the call.
	Cause string
}

// Invoke calls one of a plugin's actions and returns its result as JSON.
// The call is first checked against the plugin's manifest (see
// enforce.go): one that does not match it is an *InvalidCall and the
// plugin is not called; the plugin gets the arguments in their API JSON
// form. A refusal is a *Refusal; a failure a *CallError (or ErrUnknown).
func (h *Host) Invoke(ctx context.Context, plugin string, c Call) (json.RawMessage, error) {
	// An action may declare a longer deadline than the host's (a document
	// conversion): its running manifest says.
	if m, err := h.plugin(plugin); err == nil {
		if inst := m.current(); inst != nil && inst.manifest != nil {
			if a := inst.manifest.Action(c.Action); a != nil && a.Timeout > 0 {
				ctx = context.WithValue(ctx, callTimeoutKey{}, a.Timeout)
			}
		}
	}
	req := &crmv1.InvokeRequest{Action: c.Action, IdempotencyKey: c.IdempotencyKey, Cause: c.Cause}
	check := func(inst *instance) error {
		args, err := checkCall(plugin, inst.manifest, h.opts.Schema, c)
		if err != nil {
			return err
		}
		if req.ArgsJson, err = json.Marshal(args); err != nil {
			return fmt.Errorf("plugin %q: action %s: encode arguments: %w", plugin, c.Action, err)
		}
		return nil
	}
	if c.Record != nil {
		req.Record = &crmv1.RecordRef{Entity: c.Record.Entity, Id: c.Record.ID}
	}
	var iv *invocation
	if c.User != nil {
		req.User = &crmv1.User{Id: c.User.ID, Email: c.User.Email, Name: c.User.Name, Role: c.User.Role, Extension: c.User.Extension}
		req.CallToken = rand.Text()
		iv = &invocation{user: c.User.ID}
		h.onBehalf.Store(req.CallToken, iv)
		defer h.onBehalf.Delete(req.CallToken)
	}
	resp, err := call(ctx, h, plugin, rpcInvoke, "action "+c.Action, c.IdempotencyKey != "", check, func(ctx context.Context, p crmv1.PluginClient) (*crmv1.InvokeResponse, error) {
		return p.Invoke(ctx, req)
	})
	if err == nil && resp.GetRefusal() != nil {
		err = refusalOf(plugin, resp.GetRefusal())
	}
	if err != nil {
		// An action that gave up because the user's role refused one of
		// its host calls is the user's denial (403), not the plugin's
		// failure (502) or its own refusal.
		if d := iv.roleDenialOrNil(); d != nil && !errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrTimeout) {
			return nil, d
		}
		return nil, err
	}
	return resp.GetResultJson(), nil
}

// Event is an event delivered to a plugin: a committed write of a record or
// a plugin's event. Record and Changes are JSON in the API's forms.
type Event struct {
	Seq            uint64
	Name           string
	Entity         string
	ID             string
	At             time.Time
	By             string
	Record         json.RawMessage
	Changes        json.RawMessage
	IdempotencyKey string
	Cause          string
}

// HandleEvents delivers a batch of events to a plugin. On an error the
// whole batch is to be delivered again, with the same idempotency keys; a
// *Refusal means the plugin declined it for good.
func (h *Host) HandleEvents(ctx context.Context, plugin string, events []Event) error {
	req := &crmv1.HandleEventRequest{Events: make([]*crmv1.Event, len(events))}
	for i, ev := range events {
		req.Events[i] = &crmv1.Event{
			Seq: ev.Seq, Name: ev.Name, Entity: ev.Entity, Id: ev.ID, By: ev.By,
			At: ev.At.UTC().Format(time.RFC3339Nano), RecordJson: ev.Record, ChangesJson: ev.Changes,
			IdempotencyKey: ev.IdempotencyKey, Cause: ev.Cause,
		}
	}
	repeatable := len(events) > 0
	for _, ev := range events {
		repeatable = repeatable && ev.IdempotencyKey != ""
	}
	resp, err := call(ctx, h, plugin, rpcEvents, "handle events", repeatable, nil, func(ctx context.Context, p crmv1.PluginClient) (*crmv1.HandleEventResponse, error) {
		return p.HandleEvent(ctx, req)
	})
	if err != nil {
		return err
	}
	if r := resp.GetRefusal(); r != nil {
		return refusalOf(plugin, r)
	}
	return nil
}

// WebhookRequest is an HTTP request to a plugin's webhook route; Path is
// the part below /hooks/{plugin}.
type WebhookRequest struct {
	Method     string
	Path       string
	Query      string
	Header     http.Header
	Body       []byte
	RemoteAddr string
}

// WebhookResponse is a plugin's answer to a webhook request.
type WebhookResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// HandleWebhook passes an HTTP request to a plugin and returns its answer.
// A request that matches none of the manifest's webhook routes, or a route
// but not its method, is an *InvalidCall and the plugin is not called.
func (h *Host) HandleWebhook(ctx context.Context, plugin string, r WebhookRequest) (*WebhookResponse, error) {
	check := func(inst *instance) error { return inst.routes.check(plugin, r) }
	req := &crmv1.HandleWebhookRequest{Method: r.Method, Path: r.Path, Query: r.Query, Body: r.Body, RemoteAddr: r.RemoteAddr}
	for name, values := range r.Header {
		req.Headers = append(req.Headers, &crmv1.Header{Name: name, Values: values})
	}
	resp, err := call(ctx, h, plugin, rpcWebhook, "webhook "+r.Method+" "+r.Path, false, check, func(ctx context.Context, p crmv1.PluginClient) (*crmv1.HandleWebhookResponse, error) {
		return p.HandleWebhook(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	out := &WebhookResponse{Status: int(resp.GetStatus()), Header: http.Header{}, Body: resp.GetBody()}
	for _, hd := range resp.GetHeaders() {
		for _, v := range hd.GetValues() {
			out.Header.Add(hd.GetName(), v)
		}
	}
	return out, nil
}

// Health asks a plugin whether it can do its work; nil when it can.
func (h *Host) Health(ctx context.Context, plugin string) error {
	resp, err := call(ctx, h, plugin, rpcHealth, "health", false, nil, func(ctx context.Context, p crmv1.PluginClient) (*crmv1.HealthResponse, error) {
		return p.Health(ctx, &crmv1.HealthRequest{})
	})
	if err != nil {
		return err
	}
	if !resp.GetOk() {
		return fmt.Errorf("plugin %q is unhealthy: %s", plugin, resp.GetMessage())
	}
	if m, err := h.plugin(plugin); err == nil {
		m.warn(resp.GetWarning())
	}
	return nil
}
