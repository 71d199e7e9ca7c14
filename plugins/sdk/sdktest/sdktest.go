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
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	coreplugins "github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
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
	// Locale is the instance's locale the plugin's Configure receives.
	// Each field left zero comes from a locale block in Config, else from
	// the defaults (sdk.DefaultLocale).
	Locale sdk.Locale
	// Process runs the plugin in a process of its own, as crm does, not in
	// the test process: the test binary started again, which serves the
	// plugin because the package's TestMain calls Main. A crash or a
	// runaway allocation of the plugin then cannot take the test down,
	// and the host supervises it as in production (Restarts).
	Process bool
	// Env names environment variables of the test process that the
	// plugin's process inherits too (Process), besides those crm passes
	// every plugin: a test hook the plugin reads, set with t.Setenv
	// before Start.
	Env []string
}

// childEnv tells a test binary started by Start with Options.Process to
// serve its plugin instead of running tests.
const childEnv = "CRM_SDKTEST_SERVE_PLUGIN"

// Main runs a plugin package's tests, and serves the plugin newPlugin
// makes when the test binary is started as the plugin's process
// (Options.Process). Call it from TestMain:
//
//	func TestMain(m *testing.M) { sdktest.Main(m, func() sdk.Plugin { return &Loyalty{} }) }
func Main(m *testing.M, newPlugin func() sdk.Plugin) {
	if os.Getenv(childEnv) != "" {
		sdk.Serve(newPlugin())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Host is a running temporary host with one plugin.
type Host struct {
	t       testing.TB
	name    string
	host    *coreplugins.Host
	store   *store.Badger
	schema  *schema.Schema
	records *records.Service
	auth    *auth.Service
	logs    *testkit.LogBuffer
	block   *config.Plugin
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
	// An entity block of Config named like a manifest entity adds fields
	// to it, as beside a plugin block in production: the manifest's
	// fields come first.
	extended := entityBlocks(opts.Config)
	cfg, diags := config.LoadSources(map[string][]byte{
		"plugin_entities.hcl": []byte(entitiesHCL(man, extended)),
		"test.hcl":            []byte(opts.Config),
	})
	if diags.HasErrors() {
		t.Fatalf("sdktest: the configuration: %v", diags)
	}
	for _, me := range man.Entities {
		if e := cfg.Entity(me.Name); e != nil {
			e.Plugin, e.Locked = man.Name, me.Locked
		}
		if e := cfg.Entity(me.Name); e != nil && extended[me.Name] {
			if err := prependFields(e, me); err != nil {
				t.Fatalf("sdktest: the configuration: %v", err)
			}
		}
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatalf("sdktest: the schema: %v", err)
	}
	logs := &testkit.LogBuffer{}
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
	h := &Host{t: t, name: man.Name, store: st, schema: sch, logs: logs,
		records: records.New(st, sch), auth: auth.New(st, cfg.Roles, auth.Options{Logger: log})}
	hopts := coreplugins.Options{
		Store: st, Schema: sch, Logger: log, CallTimeout: opts.CallTimeout,
		Locale: withLocale(cfg.Locale, opts.Locale), Users: h.auth.PrincipalOf, Records: h.records,
	}
	var closed <-chan struct{}
	if opts.Process {
		// The test binary again, told by childEnv to serve the plugin
		// (Main); -test.run matches no test should it not.
		os.Setenv(childEnv, man.Name)
		hopts.Executable, hopts.Env = os.Args[0], append([]string{childEnv}, opts.Env...)
		hopts.ServeArgs = func(string) []string { return []string{"-test.run=^$"} }
		done := make(chan struct{})
		close(done)
		closed = done
	} else {
		rc, served, err := testserve.Serve(ctx, p)
		if err != nil {
			cancel()
			st.Close()
			t.Fatalf("sdktest: %v", err)
		}
		closed = served
		hopts.Reattach = map[string]*goplugin.ReattachConfig{man.Name: rc}
	}
	h.host = coreplugins.New(hopts)
	t.Cleanup(func() {
		h.host.Close()
		cancel()
		<-closed
		st.Close()
	})
	h.block = &config.Plugin{Name: man.Name, Read: opts.Read, Write: opts.Write, Config: opts.PluginConfig}
	err = h.host.Start(context.Background(), []*config.Plugin{h.block})
	if err != nil {
		t.Fatalf("sdktest: start the plugin: %v", err)
	}
	return h
}

// entityBlocks are the names of the entity blocks of an HCL source (nil
// when it does not parse: loading it reports why).
func entityBlocks(src string) map[string]bool {
	f, diags := hclsyntax.ParseConfig([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	names := map[string]bool{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "entity" && len(b.Labels) == 1 {
			names[b.Labels[0]] = true
		}
	}
	return names
}

// prependFields puts a manifest entity's fields before those of the entity
// block that extends it, as app.WithPluginEntities does.
func prependFields(e *config.Entity, me sdk.Entity) error {
	fields := make([]*config.Field, 0, len(me.Fields)+len(e.Fields))
	for _, mf := range me.Fields {
		if e.Field(mf.Name) != nil {
			return fmt.Errorf("entity %q: field %q comes from the plugin's manifest; an entity block may add fields to it, not repeat one", e.Name, mf.Name)
		}
		fields = append(fields, &config.Field{Name: mf.Name, Label: mf.Label, Type: mf.Type, Required: mf.Required,
			Unique: mf.Unique, Index: mf.Index, Values: mf.Values, To: mf.To, Search: mf.Search})
	}
	e.Fields = append(fields, e.Fields...)
	if me.Label != "" {
		e.Label = me.Label
	}
	return nil
}

// entitiesHCL declares the manifest's entities as HCL entity blocks, but
// those Config extends (skip).
func entitiesHCL(m sdk.Manifest, skip map[string]bool) string {
	var b strings.Builder
	for _, e := range m.Entities {
		if skip[e.Name] {
			continue
		}
		fmt.Fprintf(&b, "entity %q {\n", e.Name)
		if e.Label != "" {
			fmt.Fprintf(&b, "  label = %q\n", e.Label)
		}
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "  field %q {\n    type = %q\n", f.Name, f.Type)
			if f.Label != "" {
				fmt.Fprintf(&b, "    label = %q\n", f.Label)
			}
			for name, on := range map[string]bool{"required": f.Required, "unique": f.Unique, "index": f.Index, "search": f.Search} {
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
		// As the API does, the host passes on the user as stored now (an
		// extension set since AddUser included).
		if p := h.auth.PrincipalOf(context.Background(), call.User.ID); p != nil && p.User != nil {
			c.User = &coreplugins.User{ID: p.User.ID, Email: p.User.Email, Name: p.User.Name, Role: p.User.Role, Extension: p.User.Extension}
		}
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

// DeliverChanges delivers to the plugin the events of every write made so
// far that it subscribes to and may read, and that it has not had yet:
// through the real change feed and the same consumer, batches, API forms
// and idempotency keys as in production (a real "vehicle.updated" with its
// real change values, by whoever made it). Writes are delivered when the
// test calls it, so the test decides when the plugin sees them; a failed
// batch is the error, and is delivered again at the next call.
func (h *Host) DeliverChanges() error {
	return sdkError(h.host.DeliverPending(context.Background(), h.store, h.schema, h.block))
}

// Deliver delivers hand-made events to the plugin's HandleEvents as one
// batch. An event without an IdempotencyKey gets one. Prefer making the
// writes and calling DeliverChanges: hand-made events show only what the
// test says, not what the CRM would send.
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

// Create stores a record as test data, made by the system (not by the
// plugin: no grants apply), through the record service that validates every
// write in production; it fails the test on error.
func (h *Host) Create(entity string, values map[string]any) sdk.Record {
	h.t.Helper()
	return h.create(records.SystemActor(), entity, values)
}

// Update changes a record as test data, made by the system; a nil value
// clears a field. Its change reaches the plugin's subscriptions through the
// change feed at the next DeliverChanges.
func (h *Host) Update(entity, id string, values map[string]any) sdk.Record {
	h.t.Helper()
	return h.update(records.SystemActor(), entity, id, values)
}

func (h *Host) create(a records.Actor, entity string, values map[string]any) sdk.Record {
	h.t.Helper()
	out, err := h.tryCreate(a, entity, values)
	if err != nil {
		h.t.Fatalf("sdktest: create %s: %v", entity, err)
	}
	return out
}

func (h *Host) tryCreate(a records.Actor, entity string, values map[string]any) (sdk.Record, error) {
	ent, vals, err := h.decode(a, entity, values)
	if err != nil {
		return nil, err
	}
	out, err := h.records.Create(context.Background(), a, records.CreateRequest{Entity: ent.Name, Values: vals})
	if err != nil {
		return nil, err
	}
	return h.record(out.Record), nil
}

func (h *Host) update(a records.Actor, entity, id string, values map[string]any) sdk.Record {
	h.t.Helper()
	out, err := h.tryUpdate(a, entity, id, values)
	if err != nil {
		h.t.Fatalf("sdktest: update %s %s: %v", entity, id, err)
	}
	return out
}

func (h *Host) tryUpdate(a records.Actor, entity, id string, values map[string]any) (sdk.Record, error) {
	ent, vals, err := h.decode(a, entity, values)
	if err != nil {
		return nil, err
	}
	rec, err := h.records.Update(context.Background(), a, records.UpdateRequest{Entity: ent.Name, ID: id, Values: vals})
	if err != nil {
		return nil, err
	}
	return h.record(rec), nil
}

// decode reads values given in their API JSON forms, as a client sends them.
func (h *Host) decode(a records.Actor, entity string, values map[string]any) (*schema.Entity, records.Values, error) {
	ent, err := h.records.Entity(a, entity, true)
	if err != nil {
		return nil, records.Values{}, err
	}
	body, err := json.Marshal(values)
	if err != nil {
		return nil, records.Values{}, fmt.Errorf("encode values: %w", err)
	}
	vals, err := records.Decode(ent, body)
	return ent, vals, err
}

// Get returns a record as the API shows it, or nil when there is none.
func (h *Host) Get(entity, id string) sdk.Record {
	h.t.Helper()
	rec, err := h.records.Get(context.Background(), records.SystemActor(), entity, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		h.t.Fatalf("sdktest: get %s %s: %v", entity, id, err)
	}
	return h.record(rec)
}

// List returns the records of an entity that match an expr filter ("" for
// all), up to 1000.
func (h *Host) List(entity, filter string) []sdk.Record {
	h.t.Helper()
	page, err := h.records.List(context.Background(), records.SystemActor(),
		records.ListRequest{Entity: entity, Filter: filter, Limit: store.MaxLimit})
	if err != nil {
		h.t.Fatalf("sdktest: list %s: %v", entity, err)
	}
	out := make([]sdk.Record, len(page.Items))
	for i, rec := range page.Items {
		out[i] = h.record(rec)
	}
	return out
}

// HistoryEntry is one change of a record, as its history shows it.
type HistoryEntry struct {
	Version int64
	Action  string // "created", "updated", "deleted"
	By      string
	// Changes maps each field the change touched to its value before and
	// after, in their API form.
	Changes map[string]struct{ Old, New any }
}

// History returns a record's history, oldest first.
func (h *Host) History(entity, id string) []HistoryEntry {
	h.t.Helper()
	entries, err := h.records.History(context.Background(), records.SystemActor(), entity, id)
	if err != nil {
		h.t.Fatalf("sdktest: history of %s %s: %v", entity, id, err)
	}
	raw, err := json.Marshal(entries)
	if err != nil {
		h.t.Fatalf("sdktest: history of %s %s: %v", entity, id, err)
	}
	var out []HistoryEntry
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("sdktest: history of %s %s: %v", entity, id, err)
	}
	return out
}

// AddUser creates a user with a role: "admin", or a role block given in
// Options.Config. Act as the user with As.
func (h *Host) AddUser(email, role string) sdk.User {
	h.t.Helper()
	u, err := h.auth.CreateUser(context.Background(), email, "", role, "sdktest password "+email)
	if err != nil {
		h.t.Fatalf("sdktest: add user %s: %v", email, err)
	}
	return sdk.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
}

// SetExtension sets a user's phone extension (1 to 10 digits; "" removes
// it), as the user does on their account page, and returns the user with
// it: the host passes it to the plugin's actions in sdk.User.Extension.
func (h *Host) SetExtension(u sdk.User, ext string) sdk.User {
	h.t.Helper()
	got, err := h.auth.UpdateProfile(context.Background(), u.ID, auth.ProfileChange{Extension: &ext})
	if err != nil {
		h.t.Fatalf("sdktest: set the extension of %s: %v", u.Email, err)
	}
	return sdk.User{ID: got.ID, Email: got.Email, Name: got.Name, Role: got.Role, Extension: got.Extension}
}

// As is the host seen by one user: what it creates and updates is the
// user's, under the user's role (own_only included), and the actions it
// invokes run for the user, so that the plugin may do only what both it
// and the user may.
func (h *Host) As(u sdk.User) *User {
	h.t.Helper()
	p := h.auth.PrincipalOf(context.Background(), u.ID)
	if p == nil {
		h.t.Fatalf("sdktest: no user %s (%s)", u.ID, u.Email)
	}
	return &User{h: h, user: u, actor: records.UserActor(p)}
}

// User is the host acting as one user; see Host.As.
type User struct {
	h     *Host
	user  sdk.User
	actor records.Actor
}

// Create creates a record as the user; the error is what the API would
// answer (a *HostError-like error with the code, message and field).
func (u *User) Create(entity string, values map[string]any) (sdk.Record, error) {
	return u.h.tryCreate(u.actor, entity, values)
}

// Update changes a record as the user.
func (u *User) Update(entity, id string, values map[string]any) (sdk.Record, error) {
	return u.h.tryUpdate(u.actor, entity, id, values)
}

// Invoke calls one of the plugin's actions for the user, as the record
// page's button does.
func (u *User) Invoke(call sdk.Call) (json.RawMessage, error) {
	call.User = &u.user
	return u.h.Invoke(call)
}

// InvokeInto is Invoke with the result decoded into v.
func (u *User) InvokeInto(call sdk.Call, v any) error {
	call.User = &u.user
	return u.h.InvokeInto(call, v)
}

// StoreFile stores a file, as an upload does, and returns its API form
// ({"id", "name", "size", "content_type", "sha256"}); put its id in a file
// field to attach it to a record.
func (h *Host) StoreFile(name, contentType string, data []byte) map[string]any {
	h.t.Helper()
	f, err := h.store.PutFile(context.Background(), name, contentType, "", bytes.NewReader(data), int64(len(data))+1)
	if err != nil {
		h.t.Fatalf("sdktest: store file %s: %v", name, err)
	}
	return jsonForm(h.t, f.APIForm())
}

// ReadFile returns a stored file's metadata and bytes: a document the
// plugin stored with Host.WriteFile, or an uploaded one. It fails the test
// when there is no such file.
func (h *Host) ReadFile(id string) (sdk.FileInfo, []byte) {
	h.t.Helper()
	f, err := h.store.FileInfo(context.Background(), id)
	if err != nil {
		h.t.Fatalf("sdktest: file %s: %v", id, err)
	}
	var buf bytes.Buffer
	if err := h.store.WriteFile(context.Background(), id, &buf); err != nil {
		h.t.Fatalf("sdktest: read file %s: %v", id, err)
	}
	return sdk.FileInfo{ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType, SHA256: f.SHA256}, buf.Bytes()
}

// StoreFile stores a file uploaded by the user, as POST /api/v1/files
// does: during an action the user calls, the plugin may read it (a file
// argument).
func (u *User) StoreFile(name, contentType string, data []byte) map[string]any {
	u.h.t.Helper()
	f, err := u.h.store.PutFile(context.Background(), name, contentType, u.user.ID, bytes.NewReader(data), int64(len(data))+1)
	if err != nil {
		u.h.t.Fatalf("sdktest: store file %s: %v", name, err)
	}
	return jsonForm(u.h.t, f.APIForm())
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
		if ev.RecordEntity(h.schema) != nil {
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

// Restarts is how many times the host started the plugin's process again
// after it crashed or hung (Options.Process; always 0 in process).
func (h *Host) Restarts() int {
	for _, st := range h.host.Plugins() {
		if st.Name == h.name {
			return st.Restarts
		}
	}
	return 0
}

// Restart stops the plugin and starts it again, as an admin's restart
// does (POST /api/v1/plugins/{name}/restart): with Options.Process a new
// process, which is configured afresh and keeps nothing in memory from
// the old one. It fails the test when the plugin does not start again.
func (h *Host) Restart() {
	h.t.Helper()
	if err := h.host.Restart(context.Background(), h.name); err != nil {
		h.t.Fatalf("sdktest: restart the plugin: %v", err)
	}
}

// Health checks the plugin's health through the host, as its supervisor
// does, and returns the warning of a plugin that answered sdk.Degraded
// ("" when none), or the error of an unhealthy one.
func (h *Host) Health() (warning string, err error) {
	if err := h.host.Health(context.Background(), h.name); err != nil {
		return "", err
	}
	for _, st := range h.host.Plugins() {
		if st.Name == h.name {
			return st.Warning, nil
		}
	}
	return "", nil
}

// Log returns what the host logged so far, the plugin's output included.
func (h *Host) Log() string { return h.logs.String() }

// record is a record's API form, exactly as the API and the plugin see it.
func (h *Host) record(r *store.Record) sdk.Record {
	return sdk.Record(jsonForm(h.t, h.records.APIForm(context.Background(), r)))
}

// jsonForm is v as a plugin gets it: through JSON.
func jsonForm(t testing.TB, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	var out map[string]any
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil {
		t.Fatalf("sdktest: encode: %v", err)
	}
	return out
}
