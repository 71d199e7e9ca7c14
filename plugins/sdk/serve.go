package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// Serve serves p to the CRM host that started this process, and returns
// when the host is done with it. Call it from main and do nothing else
// there: the host speaks to the plugin over a socket that Serve announces
// on stdout, so a plugin must not write to stdout before it (afterwards
// stdout and stderr go into the host's log).
//
// Run by hand instead of by crm, the binary says that it is a plugin and
// exits with status 1.
func Serve(p Plugin) {
	if os.Getenv(DebugEnv) != "" {
		serveDebug(p)
		return
	}
	goplugin.Serve(serveConfig(p, nil))
}

// logger writes go-plugin's lines and the SDK's own (a recovered panic) to
// stderr as JSON, which the host parses into its log, one record a line.
var logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: os.Stderr, JSONFormat: true})

// handshake is what both ends check before the first call.
var handshake = goplugin.HandshakeConfig{
	MagicCookieKey:   crmv1.MagicCookieKey,
	MagicCookieValue: crmv1.MagicCookieValue,
}

func serveConfig(p Plugin, test *goplugin.ServeTestConfig) *goplugin.ServeConfig {
	serverLog := logger
	if test != nil { // in a test process go-plugin's lines are noise on its stderr
		serverLog = hclog.NewNullLogger()
	}
	return &goplugin.ServeConfig{
		HandshakeConfig: handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			crmv1.ProtocolVersion: {crmv1.PluginKey: &grpcPlugin{impl: p}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts,
				grpc.MaxRecvMsgSize(crmv1.MaxMessageSize),
				grpc.MaxSendMsgSize(crmv1.MaxMessageSize))...)
		},
		Logger: serverLog,
		Test:   test,
	}
}

// grpcPlugin is the go-plugin side of a Plugin: gRPC only.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	impl Plugin
}

func (g *grpcPlugin) GRPCServer(broker *goplugin.GRPCBroker, s *grpc.Server) error {
	crmv1.RegisterPluginServer(s, &server{impl: g.impl, broker: broker})
	return nil
}

func (g *grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the plugin SDK does not call plugins")
}

// server adapts a Plugin to the Plugin gRPC service.
type server struct {
	crmv1.UnimplementedPluginServer
	impl   Plugin
	broker *goplugin.GRPCBroker

	mu   sync.RWMutex
	host Host
	conn *grpc.ClientConn
}

// withHost gives a call's ctx the Host, once Configure has connected it.
func (s *server) withHost(ctx context.Context) context.Context {
	s.mu.RLock()
	h := s.host
	s.mu.RUnlock()
	if h == nil {
		return ctx
	}
	return WithHost(ctx, h)
}

// guard turns a panic in the plugin's code into a failed call, so that one
// bad action does not take the process (and every other call) down.
func guard(method string, err *error) {
	if v := recover(); v != nil {
		logger.Error("the plugin panicked", "method", method, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		*err = crmv1.Error(codes.Internal, "plugin_panic", fmt.Sprintf("the plugin panicked in %s: %v", method, v), "")
	}
}

// failure is the gRPC status of an error the plugin's code returned.
func failure(method string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return crmv1.Error(codes.DeadlineExceeded, "deadline", fmt.Sprintf("%s: %v", method, err), "")
	case errors.Is(err, context.Canceled):
		return crmv1.Error(codes.Canceled, "canceled", fmt.Sprintf("%s: %v", method, err), "")
	}
	return crmv1.Error(codes.Unknown, "plugin_error", err.Error(), "")
}

func refusal(r *Refusal) *crmv1.Refusal {
	return &crmv1.Refusal{Code: r.Code, Message: r.Message, Field: r.Field}
}

func (s *server) Manifest(context.Context, *crmv1.ManifestRequest) (resp *crmv1.ManifestResponse, err error) {
	defer guard("Manifest", &err)
	return &crmv1.ManifestResponse{Manifest: s.impl.Manifest().proto()}, nil
}

func (s *server) Configure(ctx context.Context, req *crmv1.ConfigureRequest) (resp *crmv1.ConfigureResponse, err error) {
	defer guard("Configure", &err)
	conn, err := s.broker.DialWithOptions(req.GetHostBrokerId(), grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(crmv1.MaxMessageSize), grpc.MaxCallSendMsgSize(crmv1.MaxMessageSize)))
	if err != nil {
		return nil, crmv1.Error(codes.Unavailable, "host_unreachable", fmt.Sprintf("connect to the host service: %v", err), "")
	}
	s.mu.Lock()
	old := s.conn
	s.conn, s.host = conn, &hostClient{c: crmv1.NewHostClient(conn)}
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	cfg := Config{
		Name: req.GetName(), Values: map[string]any{}, Read: req.GetRead(), Write: req.GetWrite(),
		Locale: localeFromProto(req.GetLocale()),
	}
	if raw := req.GetConfigJson(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &cfg.Values); err != nil {
			return nil, crmv1.Error(codes.InvalidArgument, "invalid_config", fmt.Sprintf("decode config: %v", err), "")
		}
	}
	if cfg.Values == nil { // the JSON null
		cfg.Values = map[string]any{}
	}
	if err := s.impl.Configure(s.withHost(ctx), cfg); err != nil {
		if r, ok := asRefusal(err); ok {
			return &crmv1.ConfigureResponse{Refusal: refusal(r)}, nil
		}
		return nil, failure("Configure", err)
	}
	return &crmv1.ConfigureResponse{}, nil
}

func (s *server) Invoke(ctx context.Context, req *crmv1.InvokeRequest) (resp *crmv1.InvokeResponse, err error) {
	defer guard("Invoke "+req.GetAction(), &err)
	call := Call{
		Action: req.GetAction(), IdempotencyKey: req.GetIdempotencyKey(), Cause: req.GetCause(),
		Args: map[string]any{}, rawArgs: req.GetArgsJson(),
	}
	if len(call.rawArgs) > 0 {
		if err := json.Unmarshal(call.rawArgs, &call.Args); err != nil {
			return &crmv1.InvokeResponse{Refusal: &crmv1.Refusal{Code: CodeInvalidArgs, Message: "the arguments are not a JSON object: " + err.Error()}}, nil
		}
	}
	if r := req.GetRecord(); r != nil && r.GetId() != "" {
		call.Record = &RecordRef{Entity: r.GetEntity(), ID: r.GetId()}
	}
	if u := req.GetUser(); u != nil && u.GetId() != "" {
		call.User = &User{ID: u.GetId(), Email: u.GetEmail(), Name: u.GetName(), Role: u.GetRole(), Extension: u.GetExtension()}
	}
	ctx = s.withHost(ctx)
	if call.User != nil || req.GetCallToken() != "" {
		ci := callInfo{token: req.GetCallToken()}
		if call.User != nil {
			ci.userID = call.User.ID
		}
		ctx = context.WithValue(ctx, callKey{}, ci)
	}
	result, err := s.impl.Invoke(ctx, call)
	if err != nil {
		if r, ok := asCallerRefusal(err); ok {
			return &crmv1.InvokeResponse{Refusal: refusal(r)}, nil
		}
		return nil, failure("Invoke "+call.Action, err)
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return nil, crmv1.Error(codes.Internal, "plugin_error", fmt.Sprintf("encode the result of %s: %v", call.Action, err), "")
	}
	return &crmv1.InvokeResponse{ResultJson: raw}, nil
}

func (s *server) HandleEvent(ctx context.Context, req *crmv1.HandleEventRequest) (resp *crmv1.HandleEventResponse, err error) {
	defer guard("HandleEvent", &err)
	events := make([]Event, 0, len(req.GetEvents()))
	for _, pe := range req.GetEvents() {
		ev, err := eventFromProto(pe)
		if err != nil {
			return nil, crmv1.Error(codes.InvalidArgument, "invalid_event", err.Error(), "")
		}
		events = append(events, ev)
	}
	if err := s.impl.HandleEvents(s.withHost(ctx), events); err != nil {
		if r, ok := asRefusal(err); ok {
			return &crmv1.HandleEventResponse{Refusal: refusal(r)}, nil
		}
		return nil, failure("HandleEvent", err)
	}
	return &crmv1.HandleEventResponse{}, nil
}

func eventFromProto(pe *crmv1.Event) (Event, error) {
	ev := Event{
		Seq: pe.GetSeq(), Name: pe.GetName(), Entity: pe.GetEntity(), ID: pe.GetId(), By: pe.GetBy(),
		IdempotencyKey: pe.GetIdempotencyKey(), Cause: pe.GetCause(),
	}
	if at := pe.GetAt(); at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return ev, fmt.Errorf("event %s: at: %w", pe.GetName(), err)
		}
		ev.At = t
	}
	if raw := pe.GetRecordJson(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &ev.Record); err != nil {
			return ev, fmt.Errorf("event %s: record: %w", pe.GetName(), err)
		}
	}
	if raw := pe.GetChangesJson(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &ev.Changes); err != nil {
			return ev, fmt.Errorf("event %s: changes: %w", pe.GetName(), err)
		}
	}
	return ev, nil
}

func (s *server) HandleWebhook(ctx context.Context, req *crmv1.HandleWebhookRequest) (resp *crmv1.HandleWebhookResponse, err error) {
	defer guard("HandleWebhook", &err)
	r := Request{
		Method: req.GetMethod(), Path: req.GetPath(), Query: req.GetQuery(), Body: req.GetBody(),
		RemoteAddr: req.GetRemoteAddr(), Header: http.Header{},
	}
	for _, h := range req.GetHeaders() {
		for _, v := range h.GetValues() {
			r.Header.Add(h.GetName(), v)
		}
	}
	out, err := s.impl.HandleWebhook(s.withHost(ctx), r)
	if err != nil {
		if rf, ok := asCallerRefusal(err); ok {
			return refusedWebhook(rf), nil
		}
		return nil, failure("HandleWebhook", err)
	}
	pr := &crmv1.HandleWebhookResponse{Status: int32(out.Status), Body: out.Body}
	if pr.Status == 0 {
		pr.Status = http.StatusOK
	}
	for name, values := range out.Header {
		pr.Headers = append(pr.Headers, &crmv1.Header{Name: name, Values: values})
	}
	return pr, nil
}

// refusedWebhook answers a refused webhook request with the refusal's
// status (webhookStatus) and the refusal as the API's error JSON.
func refusedWebhook(r *Refusal) *crmv1.HandleWebhookResponse {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": r.Code, "message": r.Message, "field": r.Field}})
	return &crmv1.HandleWebhookResponse{
		Status:  int32(webhookStatus(r)),
		Headers: []*crmv1.Header{{Name: "Content-Type", Values: []string{"application/json"}}},
		Body:    body,
	}
}

func (s *server) Health(ctx context.Context, _ *crmv1.HealthRequest) (resp *crmv1.HealthResponse, err error) {
	defer guard("Health", &err)
	hc, ok := s.impl.(HealthChecker)
	if !ok {
		return &crmv1.HealthResponse{Ok: true}, nil
	}
	if err := hc.Health(s.withHost(ctx)); err != nil {
		var d *DegradedError
		if errors.As(err, &d) {
			return &crmv1.HealthResponse{Ok: true, Warning: d.Message}, nil
		}
		return &crmv1.HealthResponse{Ok: false, Message: err.Error()}, nil
	}
	return &crmv1.HealthResponse{Ok: true}, nil
}
