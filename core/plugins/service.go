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

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// grants are the entities a plugin's HCL block lets it read and write.
// Writing implies reading; "*" is every entity.
type grants struct {
	read, write       map[string]bool
	readAll, writeAll bool
}

func newGrants(c *config.Plugin) grants {
	g := grants{read: map[string]bool{}, write: map[string]bool{}}
	for _, e := range c.Read {
		g.read[e], g.readAll = true, g.readAll || e == "*"
	}
	for _, e := range c.Write {
		g.write[e], g.writeAll = true, g.writeAll || e == "*"
	}
	return g
}

func (g grants) canRead(entity string) bool {
	return g.readAll || g.writeAll || g.read[entity] || g.write[entity]
}

func (g grants) canWrite(entity string) bool { return g.writeAll || g.write[entity] }

// hostService is the Host service one plugin reaches through the broker.
// Every call is checked against the plugin's grants before it touches the
// store, and runs under the host's call deadline.
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

func (s *hostService) store() store.Store     { return s.m.host.opts.Store }
func (s *hostService) schema() *schema.Schema { return s.m.host.opts.Schema }

func (s *hostService) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.m.host.opts.CallTimeout)
}

// denied logs a refused call and answers it with PermissionDenied.
func (s *hostService) denied(op, entity, message string) error {
	s.m.log.Warn("plugin call denied", slog.String("op", op), slog.String("entity", entity), slog.String("reason", message))
	return crmv1.Error(codes.PermissionDenied, "denied", message, "")
}

// entity resolves an entity the plugin may read (or write).
func (s *hostService) entity(op, name string, write bool) (*schema.Entity, error) {
	switch {
	case write && !s.m.grants.canWrite(name):
		return nil, s.denied(op, name, fmt.Sprintf("plugin %q may not write %s records: its plugin block grants write = [%s]",
			s.m.cfg.Name, name, strings.Join(s.m.cfg.Write, ", ")))
	case !write && !s.m.grants.canRead(name):
		return nil, s.denied(op, name, fmt.Sprintf("plugin %q may not read %s records: its plugin block grants read = [%s], write = [%s]",
			s.m.cfg.Name, name, strings.Join(s.m.cfg.Read, ", "), strings.Join(s.m.cfg.Write, ", ")))
	}
	ent := s.schema().Entity(name)
	if ent == nil {
		return nil, crmv1.Error(codes.NotFound, "unknown_entity", fmt.Sprintf("no entity %q", name), "entity")
	}
	return ent, nil
}

// onBehalf checks a call made during an Invoke for a user against that
// user's rights too: a plugin acting for a user may do only what both it
// and the user may. The user is known from the Invoke's call token, not
// from what the plugin says.
func (s *hostService) onBehalf(ctx context.Context, cc *crmv1.CallContext, op, entity string, write bool) (string, error) {
	users := s.m.host.opts.Users
	tok := cc.GetCallToken()
	if users == nil || tok == "" {
		return "", nil
	}
	v, ok := s.m.host.onBehalf.Load(tok)
	if !ok {
		return "", s.denied(op, entity, "the call token does not belong to an action in progress")
	}
	user := v.(string)
	if write && !users.CanWrite(ctx, user, entity) || !write && !users.CanRead(ctx, user, entity) {
		verb := map[bool]string{true: "change", false: "read"}[write]
		return "", s.denied(op, entity, fmt.Sprintf("plugin %q acts for user %s, whose role may not %s %s records", s.m.cfg.Name, user, verb, entity))
	}
	return user, nil
}

// mayChange is the store-side check that the user a plugin acts for may
// change the record (own_only roles: only their own); nil without a user.
func (s *hostService) mayChange(ctx context.Context, user, entity string) store.Check {
	if user == "" {
		return nil
	}
	return func(cur *store.Record) error {
		if !s.m.host.opts.Users.CanChange(ctx, user, entity, cur.Owner) {
			return s.denied("update", entity, fmt.Sprintf("plugin %q acts for user %s, who may change only the %s records they own", s.m.cfg.Name, user, entity))
		}
		return nil
	}
}

// idempotencyKey namespaces a plugin's key, so that two plugins cannot
// collide.
func (s *hostService) idempotencyKey(cc *crmv1.CallContext) string {
	if k := cc.GetIdempotencyKey(); k != "" {
		return s.by + ":" + k
	}
	return ""
}

// recordJSON is a record's API form: system fields and field values side
// by side; a file field shows the file's metadata.
func (s *hostService) recordJSON(ctx context.Context, ent *schema.Entity, r *store.Record) ([]byte, error) {
	out := store.APIForm(ctx, s.store(), ent, r)
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, s.internal("encode record", err)
	}
	return raw, nil
}

func (s *hostService) record(ctx context.Context, ent *schema.Entity, r *store.Record) (*crmv1.RecordResponse, error) {
	raw, err := s.recordJSON(ctx, ent, r)
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

// storeErr answers an error from the store or the schema in the same terms
// as the API does.
func (s *hostService) storeErr(op string, err error) error {
	var (
		fe  *schema.FieldError
		ce  *store.ConflictError
		ie  *store.InvalidError
		flt *store.FilterError
		qe  *store.QueryError
	)
	if st, ok := status.FromError(err); ok && st.Code() == codes.PermissionDenied {
		return err // a denial from a check inside the write, already logged
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return crmv1.Error(codes.NotFound, "not_found", op+": not found", "")
	case errors.As(err, &fe):
		return crmv1.Error(codes.InvalidArgument, fe.Code, fe.Message, fe.Field)
	case errors.As(err, &ce):
		return crmv1.Error(codes.Aborted, ce.Code, ce.Message, ce.Field)
	case errors.As(err, &ie):
		return crmv1.Error(codes.InvalidArgument, "invalid_value", ie.Message, ie.Field)
	case errors.As(err, &flt):
		return crmv1.Error(codes.InvalidArgument, "invalid_filter", flt.Error(), "filter")
	case errors.As(err, &qe):
		return crmv1.Error(codes.InvalidArgument, "invalid_query", qe.Message, qe.Param)
	case errors.Is(err, context.DeadlineExceeded):
		return crmv1.Error(codes.DeadlineExceeded, "deadline", fmt.Sprintf("%s: no answer within %s", op, s.m.host.opts.CallTimeout), "")
	case errors.Is(err, context.Canceled), errors.Is(err, store.ErrClosed):
		return crmv1.Error(codes.Unavailable, "unavailable", op+": the host is shutting down", "")
	}
	return s.internal(op, err)
}

// GetRecord returns one record the plugin may read.
func (s *hostService) GetRecord(ctx context.Context, req *crmv1.GetRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	ent, err := s.entity("get", req.GetEntity(), false)
	if err != nil {
		return nil, err
	}
	if _, err := s.onBehalf(ctx, req.GetContext(), "get", ent.Name, false); err != nil {
		return nil, err
	}
	rec, err := s.store().Get(ctx, ent.Name, req.GetId())
	if err != nil {
		return nil, s.storeErr(fmt.Sprintf("get %s %s", ent.Name, req.GetId()), err)
	}
	return s.record(ctx, ent, rec)
}

// ListRecords lists records of an entity the plugin may read.
func (s *hostService) ListRecords(ctx context.Context, req *crmv1.ListRecordsRequest) (*crmv1.ListRecordsResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	ent, err := s.entity("list", req.GetEntity(), false)
	if err != nil {
		return nil, err
	}
	if _, err := s.onBehalf(ctx, req.GetContext(), "list", ent.Name, false); err != nil {
		return nil, err
	}
	if req.GetLimit() < 0 {
		return nil, crmv1.Error(codes.InvalidArgument, "invalid_query", "limit must not be negative", "limit")
	}
	q := store.Query{Entity: ent.Name, Sort: store.ParseSort(req.GetSort()), Limit: int(req.GetLimit()), Cursor: req.GetCursor()}
	if f := strings.TrimSpace(req.GetFilter()); f != "" {
		if q.Filter, err = store.CompileFilter(ent, f); err != nil {
			return nil, s.storeErr("list "+ent.Name, err)
		}
	}
	page, err := s.store().List(ctx, q)
	if err != nil {
		return nil, s.storeErr("list "+ent.Name, err)
	}
	resp := &crmv1.ListRecordsResponse{NextCursor: page.NextCursor, RecordsJson: make([][]byte, 0, len(page.Items))}
	for _, rec := range page.Items {
		raw, err := s.recordJSON(ctx, ent, rec)
		if err != nil {
			return nil, err
		}
		resp.RecordsJson = append(resp.RecordsJson, raw)
	}
	return resp, nil
}

// CreateRecord creates a record of an entity the plugin may write,
// validated as the API validates a POST.
func (s *hostService) CreateRecord(ctx context.Context, req *crmv1.CreateRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	ent, err := s.entity("create", req.GetEntity(), true)
	if err != nil {
		return nil, err
	}
	if _, err := s.onBehalf(ctx, req.GetContext(), "create", ent.Name, true); err != nil {
		return nil, err
	}
	op := "create " + ent.Name
	in, err := ent.DecodeInput(req.GetValuesJson())
	if err != nil {
		return nil, s.storeErr(op, err)
	}
	if err := ent.CheckRecord(in.Values); err != nil {
		return nil, s.storeErr(op, err)
	}
	rec, err := s.store().Create(ctx, store.CreateRequest{
		Entity: ent.Name, Values: in.Values, Owner: in.Owner, By: s.by,
		IdempotencyKey: s.idempotencyKey(req.GetContext()),
	})
	if err != nil {
		return nil, s.storeErr(op, err)
	}
	s.m.log.Debug("plugin created a record", slog.String("entity", ent.Name), slog.String("id", rec.ID),
		slog.String("on_behalf_of", req.GetContext().GetUserId()))
	return s.record(ctx, ent, rec)
}

// UpdateRecord changes a record of an entity the plugin may write,
// validated as the API validates a PATCH.
func (s *hostService) UpdateRecord(ctx context.Context, req *crmv1.UpdateRecordRequest) (*crmv1.RecordResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	ent, err := s.entity("update", req.GetEntity(), true)
	if err != nil {
		return nil, err
	}
	user, err := s.onBehalf(ctx, req.GetContext(), "update", ent.Name, true)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("update %s %s", ent.Name, req.GetId())
	in, err := ent.DecodeInput(req.GetValuesJson())
	if err != nil {
		return nil, s.storeErr(op, err)
	}
	rec, err := s.store().Update(ctx, store.UpdateRequest{
		Entity: ent.Name, ID: req.GetId(), Set: in.Values, Clear: in.Nulls, Owner: in.Owner,
		IfVersion: req.GetIfVersion(), By: s.by, IdempotencyKey: s.idempotencyKey(req.GetContext()),
		Check: s.mayChange(ctx, user, ent.Name),
	})
	if err != nil {
		return nil, s.storeErr(op, err)
	}
	return s.record(ctx, ent, rec)
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
		return nil, s.storeErr("emit "+name, err)
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

// ReadFile streams a stored file the plugin may read: one it stored, or
// one held by a record of an entity it may read.
func (s *hostService) ReadFile(req *crmv1.ReadFileRequest, stream grpc.ServerStreamingServer[crmv1.FileChunk]) error {
	ctx, cancel := s.deadline(stream.Context())
	defer cancel()
	id := req.GetId()
	op := "read file " + id
	info, err := s.store().FileInfo(ctx, id)
	if err != nil {
		return s.storeErr(op, err)
	}
	if info.CreatedBy != s.by {
		holders, err := s.store().FileHolders(ctx, id, s.readable())
		if err != nil {
			return s.storeErr(op, err)
		}
		if len(holders) == 0 {
			return s.denied("read_file", "", fmt.Sprintf("plugin %q may not read file %s: no record it may read holds it", s.m.cfg.Name, id))
		}
	}
	w := &chunkWriter{stream: stream, first: &crmv1.FileChunk{Info: &crmv1.FileInfo{
		Id: info.ID, Name: info.Name, Size: info.Size, ContentType: info.ContentType, Sha256: info.SHA256,
	}}}
	if err := s.store().WriteFile(ctx, id, w); err != nil {
		return s.storeErr(op, err)
	}
	return w.flush()
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
