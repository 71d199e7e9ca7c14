// Package testplugin is a plugin written with the SDK, for the host's tests:
// it exercises every host call and every way a plugin may misbehave. Main
// serves it in one of several modes; cmd/ is its main package, which the
// tests build with the mode set by -ldflags.
package testplugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/crmkit/crm/plugins/proto/crmv1"
	"github.com/crmkit/crm/plugins/sdk"
)

// Modes of Main.
const (
	ModeOK        = "ok"        // a well-behaved plugin
	ModeExit      = "exit"      // exits at start, before the handshake
	ModeProto2    = "proto2"    // speaks only protocol version 2 in the handshake
	ModeManifest2 = "manifest2" // handshakes on 1, but its manifest says 2
	ModeStdout    = "stdout"    // prints on stdout before serving
	// ModeBadSubject declares an event whose subject is no entity ("contcat").
	ModeBadSubject = "badsubject"
)

// Main runs the plugin in the given mode; it returns when the host is done.
func Main(mode string) {
	switch mode {
	case ModeExit:
		fmt.Fprintln(os.Stderr, "testplugin: cannot start: no licence file")
		os.Exit(3)
	case ModeStdout:
		fmt.Println("hello from a plugin that prints too early")
		sdk.Serve(New())
	case ModeProto2:
		serveRaw(2, 2)
	case ModeManifest2:
		serveRaw(crmv1.ProtocolVersion, 2)
	case ModeBadSubject:
		p := New()
		p.subject = "contcat"
		sdk.Serve(p)
	default:
		sdk.Serve(New())
	}
}

// Plugin is the well-behaved test plugin.
type Plugin struct {
	sdk.Base
	mu     sync.Mutex
	config map[string]any
	locale sdk.Locale
	seen   []string
	calls  int
	// subject is the subject entity of testplugin.serviced.
	subject string
}

// New returns a fresh test plugin.
func New() *Plugin { return &Plugin{subject: "contact"} }

// Manifest declares the test plugin.
func (p *Plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "testplugin", Version: "0.1.0", Description: "exercises the plugin host",
		Actions: []sdk.Action{
			{Name: "echo", Args: []sdk.Arg{{Name: "text", Type: sdk.TypeString}}},
			{Name: "create", Args: []sdk.Arg{{Name: "entity", Type: sdk.TypeString, Required: true}, valuesArg}},
			{Name: "update", Args: []sdk.Arg{entityArg, idArg, valuesArg}},
			{Name: "get", Args: []sdk.Arg{entityArg, idArg}},
			{Name: "list", Args: []sdk.Arg{entityArg, {Name: "filter", Type: sdk.TypeString}}},
			{Name: "refuse"}, {Name: "panic"},
			{Name: "sleep", Args: []sdk.Arg{{Name: "ms", Type: sdk.TypeInt, Required: true}}},
			// slow sleeps as sleep does, under a deadline of its own.
			{Name: "slow", Timeout: time.Minute, Args: []sdk.Arg{{Name: "ms", Type: sdk.TypeInt, Required: true}}},
			{Name: "emit", Args: []sdk.Arg{entityArg, idArg, valuesArg}},
			{Name: "read_file", Args: []sdk.Arg{idArg}},
			{Name: "config"}, {Name: "locale"}, {Name: "seen"}, {Name: "log"}, {Name: "spawn"},
			{Name: "must_create", Args: []sdk.Arg{entityArg, valuesArg}},
			{Name: "must_update", Args: []sdk.Arg{entityArg, idArg, valuesArg}},
			{Name: "create_unless", Args: []sdk.Arg{entityArg, valuesArg, {Name: "filter", Type: sdk.TypeString}}},
			// award exercises the host's checks of a manifest: typed
			// arguments, and contacts only.
			{Name: "award", Entities: []string{"contact"}, Args: []sdk.Arg{
				{Name: "points", Type: sdk.TypeInt, Required: true},
				{Name: "level", Type: sdk.TypeEnum, Values: []string{"bronze", "gold"}},
				{Name: "until", Type: sdk.TypeDate},
				{Name: "price", Type: sdk.TypeMoney},
			}},
			// calls says how many calls (actions and webhook requests,
			// itself left out) reached this process.
			{Name: "calls"},
		},
		Subscriptions: []string{"contact.created"},
		Emits:         []string{"testplugin.pinged"},
		Entities: []sdk.Entity{{Name: "test_thing", Label: "Test thing", Fields: []sdk.Field{
			{Name: "title", Type: sdk.TypeString, Required: true},
			{Name: "size", Type: sdk.TypeEnum, Values: []string{"s", "m", "l"}},
		}}},
		Webhooks: []sdk.Webhook{{Method: "POST", Path: "/ping"}, {Method: "GET", Path: "/items/{id}"}},
		UIActions: []sdk.UIAction{
			{Entity: "contact", Action: "echo", Label: "Echo"},
			{Entity: "test_thing", Action: "create", Label: "New thing", Scope: sdk.ScopeList},
		},
		Events: []sdk.EventSpec{
			{Name: "testplugin.serviced", Subject: p.subject, Payload: []sdk.Arg{
				{Name: "mileage", Type: sdk.TypeInt, Required: true},
				{Name: "kind", Type: sdk.TypeEnum, Values: []string{"oil", "tyres"}},
			}},
			{Name: "testplugin.noted", Payload: []sdk.Arg{{Name: "note", Type: sdk.TypeString}}},
		},
	}
}

// Arguments several actions take.
var (
	entityArg = sdk.Arg{Name: "entity", Type: sdk.TypeString}
	idArg     = sdk.Arg{Name: "id", Type: sdk.TypeString}
	valuesArg = sdk.Arg{Name: "values", Type: sdk.TypeObject}
)

// Configure keeps the config and the locale; {"refuse": true} is refused.
func (p *Plugin) Configure(ctx context.Context, c sdk.Config) error {
	if c.Values["refuse"] == true {
		return sdk.RefuseField("refuse", sdk.CodeInvalidConfig, "this plugin will not run with refuse = true")
	}
	p.mu.Lock()
	p.config, p.locale = c.Values, c.Locale
	p.mu.Unlock()
	return nil
}

// Health answers sdk.Degraded with the config's "degraded" text, if any.
func (p *Plugin) Health(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, _ := p.config["degraded"].(string); w != "" {
		return sdk.Degraded(w)
	}
	return nil
}

type args struct {
	Entity string         `json:"entity"`
	ID     string         `json:"id"`
	Values map[string]any `json:"values"`
	Filter string         `json:"filter"`
	MS     int            `json:"ms"`
}

// Invoke runs the test actions.
func (p *Plugin) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	p.mu.Lock()
	if call.Action == "calls" {
		defer p.mu.Unlock()
		return map[string]any{"calls": p.calls}, nil
	}
	p.calls++
	p.mu.Unlock()
	var a args
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, err.Error())
	}
	host := sdk.HostFrom(ctx)
	switch call.Action {
	case "award":
		return map[string]any{"args": call.Args, "record": call.Record.Entity + "/" + call.Record.ID}, nil
	case "echo":
		out := map[string]any{"args": call.Args, "key": call.IdempotencyKey}
		if call.User != nil {
			out["user"] = call.User.ID
		}
		if call.Record != nil {
			out["record"] = call.Record.Entity + "/" + call.Record.ID
		}
		return out, nil
	case "create":
		rec, err := host.Create(ctx, a.Entity, a.Values, sdk.IdempotencyKey(call.IdempotencyKey))
		return outcome(rec, err)
	case "update":
		rec, err := host.Update(ctx, a.Entity, a.ID, a.Values)
		return outcome(rec, err)
	case "must_create": // a host error fails the action, as most plugins do
		return host.Create(ctx, a.Entity, a.Values)
	case "must_update":
		return host.Update(ctx, a.Entity, a.ID, a.Values)
	case "create_unless":
		rec, created, err := host.CreateUnless(ctx, a.Entity, a.Filter, a.Values)
		if err != nil {
			return outcome(nil, err)
		}
		return map[string]any{"record": rec, "created": created}, nil
	case "get":
		rec, err := host.Get(ctx, a.Entity, a.ID)
		return outcome(rec, err)
	case "list":
		page, err := host.List(ctx, sdk.Query{Entity: a.Entity, Filter: a.Filter})
		if err != nil {
			return outcome(nil, err)
		}
		ids := []string{}
		for _, r := range page.Items {
			ids = append(ids, r.ID())
		}
		return map[string]any{"ids": ids}, nil
	case "refuse":
		return nil, sdk.Refuse("not_today", "the test plugin says no")
	case "panic":
		panic("boom")
	case "sleep", "slow":
		select {
		case <-time.After(time.Duration(a.MS) * time.Millisecond):
			return "slept", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "emit": // entity is the event; values, when given, the payload; id the contact it is about
		payload := map[string]any{"n": 1}
		if a.Values != nil {
			payload = a.Values
		}
		var opts []sdk.Option
		if a.ID != "" {
			opts = append(opts, sdk.About("contact", a.ID))
		}
		return outcome(nil, host.Emit(ctx, a.Entity, payload, opts...))
	case "read_file":
		return readFile(ctx, host, a.ID)
	case "config":
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.config, nil
	case "locale":
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.locale, nil
	case "seen":
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.seen, nil
	case "spawn": // a child process the host must stop with the plugin
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("spawn: %w", err)
		}
		go cmd.Wait()
		return map[string]any{"pid": cmd.Process.Pid}, nil
	case "log":
		host.Log(ctx, slog.LevelWarn, "hello from the test plugin", "n", 42)
		return map[string]any{"logged": true}, nil
	}
	return p.Base.Invoke(ctx, call)
}

// outcome reports a host call's result or error as the action's result, so
// that tests see what the plugin saw.
func outcome(rec sdk.Record, err error) (any, error) {
	if err != nil {
		var he *sdk.HostError
		code := ""
		if errors.As(err, &he) {
			code = he.Code
		}
		return map[string]any{
			"error": err.Error(), "code": code,
			"denied": errors.Is(err, sdk.ErrDenied), "not_found": errors.Is(err, sdk.ErrNotFound),
			"invalid": errors.Is(err, sdk.ErrInvalid),
		}, nil
	}
	return map[string]any{"record": rec}, nil
}

func readFile(ctx context.Context, host sdk.Host, id string) (any, error) {
	info, r, err := host.ReadFile(ctx, id)
	if err != nil {
		return outcome(nil, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return nil, fmt.Errorf("read file %s: %w", id, err)
	}
	return map[string]any{"name": info.Name, "size": n, "sha256": hex.EncodeToString(h.Sum(nil)), "info_sha256": info.SHA256}, nil
}

// HandleEvents remembers the idempotency keys of the events it got.
func (p *Plugin) HandleEvents(_ context.Context, events []sdk.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ev := range events {
		p.seen = append(p.seen, ev.Name+":"+ev.IdempotencyKey)
	}
	return nil
}

// HandleWebhook answers POST /ping with 202 and "pong: BODY", and GET
// /items/ID with "item ID".
func (p *Plugin) HandleWebhook(_ context.Context, r sdk.Request) (sdk.Response, error) {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	if id, ok := strings.CutPrefix(r.Path, "/items/"); ok && r.Method == http.MethodGet {
		return sdk.Response{Status: http.StatusOK, Body: []byte("item " + id)}, nil
	}
	if r.Method != http.MethodPost || r.Path != "/ping" {
		return sdk.Response{Status: http.StatusNotFound}, nil
	}
	return sdk.Response{Status: http.StatusAccepted, Header: http.Header{"X-Test": {"yes"}}, Body: append([]byte("pong: "), r.Body...)}, nil
}

// rawPlugin is a plugin built on the protocol without the SDK, to play a
// plugin built for another protocol version.
type rawPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	manifestVersion uint32
}

func (r *rawPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	crmv1.RegisterPluginServer(s, &rawServer{version: r.manifestVersion})
	return nil
}

func (r *rawPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("not a host")
}

type rawServer struct {
	crmv1.UnimplementedPluginServer
	version uint32
}

func (s *rawServer) Manifest(context.Context, *crmv1.ManifestRequest) (*crmv1.ManifestResponse, error) {
	return &crmv1.ManifestResponse{Manifest: &crmv1.Manifest{Name: "future", Version: "9.0.0", ProtocolVersion: s.version}}, nil
}

func serveRaw(handshakeVersion int, manifestVersion uint32) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: goplugin.HandshakeConfig{MagicCookieKey: crmv1.MagicCookieKey, MagicCookieValue: crmv1.MagicCookieValue},
		VersionedPlugins: map[int]goplugin.PluginSet{
			handshakeVersion: {crmv1.PluginKey: &rawPlugin{manifestVersion: manifestVersion}},
		},
		GRPCServer: goplugin.DefaultGRPCServer,
	})
}
