// Package sdktest runs a plugin in a test against a real, temporary CRM
// host: the plugin is served inside the test process, and the host that
// calls it is crm's own, with a real store in a temporary directory, the
// same permission checks, validation and deadlines as in production. A
// partner's plugin tests are then real tests, without a CRM to install.
//
//	func TestRedeem(t *testing.T) {
//		h := sdktest.Start(t, &Loyalty{}, sdktest.Options{Read: []string{"contact"}, Write: []string{"loyalty_account"}})
//		c := h.Create("contact", map[string]any{"name": "Ani"})
//		h.Create("loyalty_account", map[string]any{"contact": c.ID(), "points": 120})
//		_, err := h.Invoke(sdk.Call{Action: "redeem", Args: map[string]any{"points": 500}, Record: &sdk.RecordRef{Entity: "contact", ID: c.ID()}})
//		var r *sdk.Refusal
//		if !errors.As(err, &r) || r.Code != "insufficient_points" {
//			t.Fatalf("redeem 500 of 120 points: %v", err)
//		}
//	}
//
// It is the one part of the SDK that imports the core (a module of its
// own, github.com/crmkit/crm/plugins/sdk/sdktest, so that a plugin that
// requires only the SDK does not pull the core in): a plugin's tests
// require it, the plugin itself never imports it.
//
// The entities the plugin's manifest contributes are added to the host's
// schema; Options.Config adds more HCL (entities, fields, pipelines).
package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/crmkit/crm/config"
	coreplugins "github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/internal/testserve"
)

// Options configure the temporary host.
type Options struct {
	// Config is HCL the host's configuration is read from besides the
	// built-in entities and the plugin's own: entity blocks, fields,
	// pipelines. "" for none.
	Config string
	// Read and Write are the plugin block's grants.
	Read, Write []string
	// PluginConfig is the plugin block's config object.
	PluginConfig map[string]any
	// CallTimeout is the deadline of each call; 0 for 10 s.
	CallTimeout time.Duration
}

// Host is a running temporary host with one plugin.
type Host struct {
	t      testing.TB
	name   string
	host   *coreplugins.Host
	store  *store.Badger
	schema *schema.Schema
	logs   *logBuffer
}

// Start serves p in the test process and starts a host for it on a fresh
// store; both stop when the test ends. A plugin that fails to start (a bad
// manifest, a refused configuration) fails the test.
func Start(t testing.TB, p sdk.Plugin, opts Options) *Host {
	t.Helper()
	man := p.Manifest()
	if err := man.Validate(); err != nil {
		t.Fatalf("sdktest: the plugin's manifest: %v", err)
	}
	cfg, diags := config.LoadSources(map[string][]byte{
		"plugin_entities.hcl": []byte(entitiesHCL(man)),
		"test.hcl":            []byte(opts.Config),
	})
	if diags.HasErrors() {
		t.Fatalf("sdktest: the configuration: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatalf("sdktest: the schema: %v", err)
	}
	logs := &logBuffer{}
	var w io.Writer = logs
	if os.Getenv("CRM_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{Logger: log, NoSync: true})
	if err != nil {
		t.Fatalf("sdktest: open the store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rc, closed, err := testserve.Serve(ctx, p)
	if err != nil {
		cancel()
		st.Close()
		t.Fatalf("sdktest: %v", err)
	}
	h := &Host{t: t, name: man.Name, store: st, schema: sch, logs: logs}
	h.host = coreplugins.New(coreplugins.Options{
		Store: st, Schema: sch, Logger: log, CallTimeout: opts.CallTimeout,
		Reattach: map[string]*goplugin.ReattachConfig{man.Name: rc},
	})
	t.Cleanup(func() {
		h.host.Close()
		cancel()
		<-closed
		st.Close()
	})
	err = h.host.Start(context.Background(), []*config.Plugin{{
		Name: man.Name, Read: opts.Read, Write: opts.Write, Config: opts.PluginConfig,
	}})
	if err != nil {
		t.Fatalf("sdktest: start the plugin: %v", err)
	}
	return h
}

// entitiesHCL declares the manifest's entities as HCL entity blocks.
func entitiesHCL(m sdk.Manifest) string {
	var b strings.Builder
	for _, e := range m.Entities {
		fmt.Fprintf(&b, "entity %q {\n", e.Name)
		if e.Label != "" {
			fmt.Fprintf(&b, "  label = %q\n", e.Label)
		}
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "  field %q {\n    type = %q\n", f.Name, f.Type)
			if f.Label != "" {
				fmt.Fprintf(&b, "    label = %q\n", f.Label)
			}
			for name, on := range map[string]bool{"required": f.Required, "unique": f.Unique, "index": f.Index} {
				if on {
					fmt.Fprintf(&b, "    %s = true\n", name)
				}
			}
			if f.To != "" {
				fmt.Fprintf(&b, "    to = %q\n", f.To)
			}
			if len(f.Values) > 0 {
				quoted := make([]string, len(f.Values))
				for i, v := range f.Values {
					quoted[i] = fmt.Sprintf("%q", v)
				}
				fmt.Fprintf(&b, "    values = [%s]\n", strings.Join(quoted, ", "))
			}
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// Invoke calls one of the plugin's actions through the host, as a rule or
// the API would, and returns its result as JSON. A refusal is a
// *sdk.Refusal; any other error is a failure.
func (h *Host) Invoke(call sdk.Call) (json.RawMessage, error) {
	c := coreplugins.Call{Action: call.Action, Args: call.Args, IdempotencyKey: call.IdempotencyKey, Cause: call.Cause}
	if call.Record != nil {
		c.Record = &coreplugins.RecordRef{Entity: call.Record.Entity, ID: call.Record.ID}
	}
	if call.User != nil {
		c.User = &coreplugins.User{ID: call.User.ID, Email: call.User.Email, Name: call.User.Name, Role: call.User.Role}
	}
	out, err := h.host.Invoke(context.Background(), h.name, c)
	return out, sdkError(err)
}

// InvokeInto is Invoke with the result decoded into v.
func (h *Host) InvokeInto(call sdk.Call, v any) error {
	raw, err := h.Invoke(call)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode the result of %s: %w", call.Action, err)
	}
	return nil
}

// Deliver delivers events to the plugin's HandleEvents as one batch. An
// event without an IdempotencyKey gets one.
func (h *Host) Deliver(events ...sdk.Event) error {
	batch := make([]coreplugins.Event, len(events))
	for i, ev := range events {
		rec, err := json.Marshal(ev.Record)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", ev.Name, err)
		}
		changes, err := json.Marshal(ev.Changes)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", ev.Name, err)
		}
		key := ev.IdempotencyKey
		if key == "" {
			key = fmt.Sprintf("sdktest-%d-%d", time.Now().UnixNano(), i)
		}
		at := ev.At
		if at.IsZero() {
			at = time.Now()
		}
		batch[i] = coreplugins.Event{Seq: ev.Seq, Name: ev.Name, Entity: ev.Entity, ID: ev.ID, At: at, By: ev.By,
			Record: rec, Changes: changes, IdempotencyKey: key, Cause: ev.Cause}
	}
	return sdkError(h.host.HandleEvents(context.Background(), h.name, batch))
}

// Webhook passes a request to the plugin's HandleWebhook through the host.
func (h *Host) Webhook(req sdk.Request) (sdk.Response, error) {
	resp, err := h.host.HandleWebhook(context.Background(), h.name, coreplugins.WebhookRequest{
		Method: req.Method, Path: req.Path, Query: req.Query, Header: req.Header, Body: req.Body, RemoteAddr: req.RemoteAddr,
	})
	if err != nil {
		return sdk.Response{}, sdkError(err)
	}
	return sdk.Response{Status: resp.Status, Header: resp.Header, Body: resp.Body}, nil
}

// sdkError gives a host-side refusal as the SDK's *sdk.Refusal.
func sdkError(err error) error {
	var r *coreplugins.Refusal
	if errors.As(err, &r) {
		return &sdk.Refusal{Code: r.Code, Message: r.Message, Field: r.Field}
	}
	return err
}

// Create stores a record as test data (not as the plugin: no grants
// apply), validated as the API validates it; it fails the test on error.
func (h *Host) Create(entity string, values map[string]any) sdk.Record {
	h.t.Helper()
	ent := h.schema.Entity(entity)
	if ent == nil {
		h.t.Fatalf("sdktest: no entity %q", entity)
	}
	body, err := json.Marshal(values)
	if err != nil {
		h.t.Fatalf("sdktest: create %s: %v", entity, err)
	}
	in, err := ent.DecodeInput(body)
	if err == nil {
		err = ent.CheckRecord(in.Values)
	}
	if err != nil {
		h.t.Fatalf("sdktest: create %s: %v", entity, err)
	}
	rec, err := h.store.Create(context.Background(), store.CreateRequest{Entity: entity, Values: in.Values, Owner: in.Owner})
	if err != nil {
		h.t.Fatalf("sdktest: create %s: %v", entity, err)
	}
	return h.record(ent, rec)
}

// Get returns a record as the API shows it, or nil when there is none.
func (h *Host) Get(entity, id string) sdk.Record {
	h.t.Helper()
	ent := h.schema.Entity(entity)
	if ent == nil {
		h.t.Fatalf("sdktest: no entity %q", entity)
	}
	rec, err := h.store.Get(context.Background(), entity, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("sdktest: get %s %s: %v", entity, id, err)
	}
	return h.record(ent, rec)
}

// List returns the records of an entity that match an expr filter ("" for
// all), up to 1000.
func (h *Host) List(entity, filter string) []sdk.Record {
	h.t.Helper()
	ent := h.schema.Entity(entity)
	if ent == nil {
		h.t.Fatalf("sdktest: no entity %q", entity)
	}
	q := store.Query{Entity: entity, Limit: store.MaxLimit}
	if filter != "" {
		f, err := store.CompileFilter(ent, filter)
		if err != nil {
			h.t.Fatalf("sdktest: list %s: %v", entity, err)
		}
		q.Filter = f
	}
	page, err := h.store.List(context.Background(), q)
	if err != nil {
		h.t.Fatalf("sdktest: list %s: %v", entity, err)
	}
	out := make([]sdk.Record, len(page.Items))
	for i, rec := range page.Items {
		out[i] = h.record(ent, rec)
	}
	return out
}

// Emitted returns the events the plugin emitted, in order, each with its
// payload as Record.
func (h *Host) Emitted() []sdk.Event {
	h.t.Helper()
	evs, err := h.store.Events(context.Background(), 0, 10000)
	if err != nil {
		h.t.Fatalf("sdktest: events: %v", err)
	}
	var out []sdk.Event
	for _, ev := range evs {
		if h.schema.Entity(ev.Entity) != nil {
			continue // a record write
		}
		var payload sdk.Record
		if len(ev.After) > 0 {
			if err := json.Unmarshal(ev.After, &payload); err != nil {
				h.t.Fatalf("sdktest: event %d: %v", ev.Seq, err)
			}
		}
		out = append(out, sdk.Event{Seq: ev.Seq, Name: ev.Entity + "." + ev.Op, ID: ev.ID, At: ev.At, By: ev.By, Record: payload})
	}
	return out
}

// Log returns what the host logged so far, the plugin's output included.
func (h *Host) Log() string { return h.logs.String() }

// record is a record's API form, as the plugin sees it.
func (h *Host) record(ent *schema.Entity, r *store.Record) sdk.Record {
	out := sdk.Record(ent.EncodeValues(r.Values))
	raw, err := json.Marshal(out)
	if err == nil {
		out = nil
		err = json.Unmarshal(raw, &out) // the JSON types a plugin gets
	}
	if err != nil {
		h.t.Fatalf("sdktest: encode %s %s: %v", r.Entity, r.ID, err)
	}
	out["id"], out["entity"], out["version"] = r.ID, r.Entity, float64(r.Version)
	out["created_at"], out["updated_at"] = r.CreatedAt.Format(time.RFC3339Nano), r.UpdatedAt.Format(time.RFC3339Nano)
	out["created_by"], out["owner"] = r.CreatedBy, r.Owner
	return out
}

// logBuffer is the host's log, kept for Log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
