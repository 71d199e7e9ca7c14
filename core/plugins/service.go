package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// grants are the entities a plugin's HCL block lets it read and write.
// Writing implies reading; "*" is every entity. They are the plugin's
// records.Grants.
type grants struct {
	read, write       map[string]bool
	readAll, writeAll bool
	desc              string
}

func newGrants(c *config.Plugin) grants {
	g := grants{read: map[string]bool{}, write: map[string]bool{},
		desc: fmt.Sprintf("read = [%s], write = [%s]", strings.Join(c.Read, ", "), strings.Join(c.Write, ", "))}
	for _, e := range c.Read {
		g.read[e], g.readAll = true, g.readAll || e == "*"
	}
	for _, e := range c.Write {
		g.write[e], g.writeAll = true, g.writeAll || e == "*"
	}
	return g
}

// CanRead reports whether the block lets the plugin read entity.
func (g grants) CanRead(entity string) bool {
	return g.readAll || g.writeAll || g.read[entity] || g.write[entity]
}

// CanWrite reports whether the block lets the plugin write entity.
func (g grants) CanWrite(entity string) bool { return g.writeAll || g.write[entity] }

// Describe is what the block grants, as it says it.
func (g grants) Describe() string { return g.desc }

// hostService is the Host service one plugin reaches through the broker.
// Its record calls are adapters over the record service, acting as the
// plugin (and, during an Invoke for a user, for that user too); every call
// runs under the host's call deadline.
type hostService struct {
	crmv1.UnimplementedHostServer
	m     *managed
	by    string // "plugin:NAME": the author of the plugin's writes
	emits map[string]bool
	man   *Manifest
}

func newHostService(m *managed, man *Manifest) *hostService {
	s := &hostService{m: m, by: "plugin:" + m.cfg.Name, emits: map[string]bool{}, man: man}
	for _, ev := range man.Emits {
		s.emits[ev] = true
	}
	return s
}

// server is the gRPC server the broker serves the service on.
func (s *hostService) server(opts []grpc.ServerOption) *grpc.Server {
	srv := grpc.NewServer(append(opts,
		grpc.MaxRecvMsgSize(crmv1.MaxMessageSize),
		grpc.MaxSendMsgSize(crmv1.MaxMessageSize))...)
	crmv1.RegisterHostServer(srv, s)
	return srv
}

func (s *hostService) store() store.Store        { return s.m.host.opts.Store }
func (s *hostService) schema() *schema.Schema    { return s.m.host.opts.Schema }
func (s *hostService) records() *records.Service { return s.m.host.opts.Records }

func (s *hostService) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.m.host.opts.CallTimeout)
}

// denied logs a refused call and answers it with PermissionDenied.
func (s *hostService) denied(op, entity, message string) error {
	s.m.log.Warn("plugin call denied", slog.String("op", op), slog.String("entity", entity), slog.String("reason", message))
	return crmv1.Error(codes.PermissionDenied, records.CodePluginDenied, message, "")
}

// invocation is an Invoke in flight for a user: who the user is, and the
// first denial that user's role met during it (so that the action is
// answered 403 when the plugin gives up because of it).
type invocation struct {
	user   string
	mu     sync.Mutex
	denial *records.Error
}

func (iv *invocation) denied(e *records.Error) {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	if iv.denial == nil {
		iv.denial = e
	}
}

// roleDenialOrNil is the first denial by the user's role, or nil (also
// for a nil invocation).
func (iv *invocation) roleDenialOrNil() *records.Error {
	if iv == nil {
		return nil
	}
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return iv.denial
}

// actor is who a call from the plugin acts as: the plugin, and during an
// Invoke for a user that user too, known from the Invoke's call token, not
// from what the plugin says. A plugin acting for a user may do only what
// both may.
func (s *hostService) actor(ctx context.Context, op string, cc *crmv1.CallContext) (records.Actor, *invocation, error) {
	a := records.PluginActor(s.m.cfg.Name, s.m.grants, nil)
	users := s.m.host.opts.Users
	tok := cc.GetCallToken()
	if users == nil || tok == "" {
		return a, nil, nil
	}
	v, ok := s.m.host.onBehalf.Load(tok)
	if !ok {
		return a, nil, s.denied(op, "", "the call token does not belong to an action in progress")
	}
	iv := v.(*invocation)
	p := users(ctx, iv.user)
	if p == nil {
		e := &records.Error{Kind: records.KindForbidden, Code: "forbidden",
			Message: fmt.Sprintf("plugin %q acts for user %s, who is unknown or disabled", s.m.cfg.Name, iv.user)}
		iv.denied(e)
		return a, iv, s.fail(op, e, iv)
	}
	a.User = p
	return a, iv, nil
}

// idempotencyKey namespaces a plugin's key, so that two plugins cannot
// collide.
func (s *hostService) idempotencyKey(cc *crmv1.CallContext) string {
	if k := cc.GetIdempotencyKey(); k != "" {
		return s.by + ":" + k
	}
	return ""
}

// recordJSON is a record's API form.
func (s *hostService) recordJSON(ctx context.Context, r *store.Record) ([]byte, error) {
	raw, err := json.Marshal(s.records().APIForm(ctx, r))
	if err != nil {
		return nil, s.internal("encode record", err)
	}
	return raw, nil
}

func (s *hostService) record(ctx context.Context, r *store.Record) (*crmv1.RecordResponse, error) {
	raw, err := s.recordJSON(ctx, r)
	if err != nil {
		return nil, err
	}
	return &crmv1.RecordResponse{RecordJson: raw}, nil
}

// internal logs an unexpected error and answers a generic one: a plugin
// learns nothing of the host's internals.
func (s *hostService) internal(op string, err error) error {
	s.m.log.Error("plugin call failed in the host", slog.String("op", op), slog.Any("err", err))
	return crmv1.Error(codes.Internal, "internal", op+": internal error in the host", "")
}

// codeOf is the gRPC code of each kind of record error: the one place where
// the record service's errors meet the plugin protocol.
var codeOf = map[records.Kind]codes.Code{
	records.KindInvalid:     codes.InvalidArgument,
	records.KindBadRequest:  codes.InvalidArgument,
	records.KindNotFound:    codes.NotFound,
	records.KindForbidden:   codes.PermissionDenied,
	records.KindConflict:    codes.Aborted,
	records.KindUnavailable: codes.Unavailable,
}

// fail answers an error of a record call in the protocol's terms. A denial
// is logged; one by the role of the user the plugin acts for is remembered
// on the Invoke in flight.
func (s *hostService) fail(op string, err error, iv *invocation) error {
	if _, ok := status.FromError(err); ok {
		return err // already in the protocol's terms
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return crmv1.Error(codes.DeadlineExceeded, "deadline", fmt.Sprintf("%s: no answer within %s", op, s.m.host.opts.CallTimeout), "")
	case errors.Is(err, context.Canceled), errors.Is(err, store.ErrClosed):
		return crmv1.Error(codes.Unavailable, "unavailable", op+": the host is shutting down", "")
	}
	re := records.ErrorOf(err)
	if re == nil {
		return s.internal(op, err)
	}
	if re.Kind == records.KindForbidden {
		verb, rest, _ := strings.Cut(op, " ")
		entity, _, _ := strings.Cut(rest, " ")
		s.m.log.Warn("plugin call denied", slog.String("op", verb), slog.String("entity", entity),
			slog.String("code", re.Code), slog.String("reason", re.Message))
		if iv != nil && re.Code != records.CodePluginDenied {
			iv.denied(re)
		}
	}
	return crmv1.Error(codeOf[re.Kind], re.Code, re.Error(), re.Field)
}

// GetRecord returns one record the plugin may read.
func (s *hostService) GetRecord(ctx context.Context, req *crmv1.GetRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	op := fmt.Sprintf("get %s %s", req.GetEntity(), req.GetId())
	a, iv, err := s.actor(ctx, op, req.GetContext())
	if err != nil {
		return nil, err
	}
	rec, err := s.records().Get(ctx, a, req.GetEntity(), req.GetId())
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	return s.record(ctx, rec)
}

// ListRecords lists records of an entity the plugin may read.
func (s *hostService) ListRecords(ctx context.Context, req *crmv1.ListRecordsRequest) (*crmv1.ListRecordsResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	op := "list " + req.GetEntity()
	a, iv, err := s.actor(ctx, op, req.GetContext())
	if err != nil {
		return nil, err
	}
	page, err := s.records().List(ctx, a, records.ListRequest{Entity: req.GetEntity(), Filter: req.GetFilter(),
		Sort: req.GetSort(), Limit: int(req.GetLimit()), Cursor: req.GetCursor()})
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	resp := &crmv1.ListRecordsResponse{NextCursor: page.NextCursor, RecordsJson: make([][]byte, 0, len(page.Items))}
	for _, rec := range page.Items {
		raw, err := s.recordJSON(ctx, rec)
		if err != nil {
			return nil, err
		}
		resp.RecordsJson = append(resp.RecordsJson, raw)
	}
	return resp, nil
}

// CreateRecord creates a record as the plugin (and the user it acts for).
func (s *hostService) CreateRecord(ctx context.Context, req *crmv1.CreateRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	op := "create " + req.GetEntity()
	a, iv, err := s.actor(ctx, op, req.GetContext())
	if err != nil {
		return nil, err
	}
	ent, err := s.records().Entity(a, req.GetEntity(), true)
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	values, err := records.Decode(ent, req.GetValuesJson())
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	out, err := s.records().Create(ctx, a, records.CreateRequest{Entity: ent.Name, Values: values,
		IdempotencyKey: s.idempotencyKey(req.GetContext()), Unless: req.GetUnless()})
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	resp, err := s.record(ctx, out.Record)
	if err != nil {
		return nil, err
	}
	resp.Existing = out.Existing
	return resp, nil
}

// UpdateRecord changes a record as the plugin (and the user it acts for).
func (s *hostService) UpdateRecord(ctx context.Context, req *crmv1.UpdateRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	op := fmt.Sprintf("update %s %s", req.GetEntity(), req.GetId())
	a, iv, err := s.actor(ctx, op, req.GetContext())
	if err != nil {
		return nil, err
	}
	ent, err := s.records().Entity(a, req.GetEntity(), true)
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	values, err := records.Decode(ent, req.GetValuesJson())
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	rec, err := s.records().Update(ctx, a, records.UpdateRequest{Entity: ent.Name, ID: req.GetId(), Values: values,
		IfVersion: req.GetIfVersion(), IdempotencyKey: s.idempotencyKey(req.GetContext())})
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	return s.record(ctx, rec)
}

// EmitEvent puts one of the events the plugin's manifest declares into the
// change feed, where rules and subscribed plugins see it.
func (s *hostService) EmitEvent(ctx context.Context, req *crmv1.EmitEventRequest) (*crmv1.EmitEventResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	name := req.GetName()
	if !s.emits[name] {
		return nil, s.denied("emit", name, fmt.Sprintf("plugin %q may emit only the events its manifest declares in emits; %q is not one of them", s.m.cfg.Name, name))
	}
	var payload map[string]any
	if raw := req.GetPayloadJson(); len(raw) > 0 {
		if err := json.Unmarshal(raw, &payload); err != nil {
			return nil, crmv1.Error(codes.InvalidArgument, "invalid_json", "the payload of "+name+" is not a JSON object: "+err.Error(), "payload")
		}
	}
	if err := s.checkEmit(ctx, s.man.Event(name), payload, req.GetRecord()); err != nil {
		return nil, err // events.go
	}
	_, err := s.store().Emit(ctx, store.EmitRequest{
		Name: name, ID: req.GetRecord().GetId(), Payload: payload, By: s.by,
		IdempotencyKey: s.idempotencyKey(req.GetContext()),
	})
	if err != nil {
		return nil, s.fail("emit "+name, err, nil)
	}
	return &crmv1.EmitEventResponse{}, nil
}

// Log writes a plugin's line into the host's log.
func (s *hostService) Log(ctx context.Context, req *crmv1.LogRequest) (*crmv1.LogResponse, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(req.GetLevel())); err != nil {
		level = slog.LevelInfo
	}
	var attrs map[string]any
	_ = json.Unmarshal(req.GetAttrsJson(), &attrs)
	args := make([]any, 0, len(attrs))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		args = append(args, slog.Any(k, attrs[k]))
	}
	s.m.log.Log(ctx, level, req.GetMessage(), args...)
	return &crmv1.LogResponse{}, nil
}

// ReadFile streams a stored file the plugin may read: one it stored, one
// held by a record of an entity it may read, or, during an action for a
// user, one that user uploaded (a file argument: a template to check).
func (s *hostService) ReadFile(req *crmv1.ReadFileRequest, stream grpc.ServerStreamingServer[crmv1.FileChunk]) error {
	ctx, cancel := s.deadline(stream.Context())
	defer cancel()
	id := req.GetId()
	op := "read file " + id
	info, err := s.store().FileInfo(ctx, id)
	if err != nil {
		return s.fail(op, err, nil)
	}
	if info.CreatedBy != s.by && !s.uploadedByCaller(ctx, op, req.GetContext(), info.CreatedBy) {
		holders, err := s.store().FileHolders(ctx, id, s.readable())
		if err != nil {
			return s.fail(op, err, nil)
		}
		if len(holders) == 0 {
			return s.denied("read_file", "", fmt.Sprintf("plugin %q may not read file %s: no record it may read holds it", s.m.cfg.Name, id))
		}
	}
	w := &chunkWriter{stream: stream, first: &crmv1.FileChunk{Info: &crmv1.FileInfo{
		Id: info.ID, Name: info.Name, Size: info.Size, ContentType: info.ContentType, Sha256: info.SHA256,
	}}}
	if err := s.store().WriteFile(ctx, id, w); err != nil {
		return s.fail(op, err, nil)
	}
	return w.flush()
}

// uploadedByCaller reports whether the call is part of an Invoke for the
// user who uploaded the file.
func (s *hostService) uploadedByCaller(ctx context.Context, op string, cc *crmv1.CallContext, createdBy string) bool {
	if createdBy == "" || cc.GetCallToken() == "" {
		return false
	}
	_, iv, err := s.actor(ctx, op, cc)
	return err == nil && iv != nil && iv.user == createdBy
}

// readable lists the entities the plugin may read.
func (s *hostService) readable() []string {
	if s.m.grants.readAll || s.m.grants.writeAll {
		return s.schema().EntityNames()
	}
	return slices.Compact(slices.Sorted(slices.Values(slices.Concat(s.m.cfg.Read, s.m.cfg.Write))))
}

// chunkWriter sends what is written to it as FileChunks of FileChunkSize;
// the first chunk carries the file's info.
type chunkWriter struct {
	stream grpc.ServerStreamingServer[crmv1.FileChunk]
	first  *crmv1.FileChunk
	buf    []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for len(w.buf) >= crmv1.FileChunkSize {
		if err := w.send(w.buf[:crmv1.FileChunkSize]); err != nil {
			return 0, err
		}
		w.buf = w.buf[crmv1.FileChunkSize:]
	}
	return len(p), nil
}

func (w *chunkWriter) send(data []byte) error {
	chunk := &crmv1.FileChunk{Data: slices.Clone(data)}
	if w.first != nil {
		chunk.Info, w.first = w.first.Info, nil
	}
	if err := w.stream.Send(chunk); err != nil {
		return fmt.Errorf("send file chunk: %w", err)
	}
	return nil
}

// flush sends what is left, and the info when the file was empty.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.first == nil {
		return nil
	}
	return w.send(w.buf)
}
