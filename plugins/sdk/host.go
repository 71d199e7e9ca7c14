package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// Host is the CRM as a plugin sees it: records, events, the log and stored
// files, within what the plugin's HCL block grants (`read = [...]`,
// `write = [...]`). A call outside the grant fails with an error that
// matches ErrDenied and changes nothing.
//
// Get one from the ctx of any Plugin method with HostFrom. Writes are
// recorded in the record's history as made by "plugin:NAME".
type Host interface {
	// Get returns one record; ErrNotFound when there is none.
	Get(ctx context.Context, entity, id string) (Record, error)
	// List returns one page of an entity's records.
	List(ctx context.Context, q Query) (*Page, error)
	// Create creates a record from field values (API JSON forms: money as
	// {"amount": "12.50", "currency": "AMD"}, dates as "2026-03-21").
	Create(ctx context.Context, entity string, values map[string]any, opts ...Option) (Record, error)
	// CreateUnless creates a record unless a record of the entity matches
	// filter (an expr filter; build it with the Filter helpers), decided
	// inside the CRM's write transaction, so that "one open claim per
	// vehicle" holds however many calls race. It returns the record it
	// created (created true) or the first one that matched (created
	// false). Give filter an indexed field: the check runs in the writer.
	CreateUnless(ctx context.Context, entity, filter string, values map[string]any, opts ...Option) (rec Record, created bool, err error)
	// Update sets the given fields of a record; a nil value clears a field.
	Update(ctx context.Context, entity, id string, values map[string]any, opts ...Option) (Record, error)
	// Emit emits an event the manifest declares in Emits, with a payload
	// that encodes to a JSON object. Rules and subscribed plugins get it.
	Emit(ctx context.Context, name string, payload any, opts ...Option) error
	// Log writes a line into the CRM's log, tagged with the plugin's name.
	// args are slog-style key/value pairs.
	Log(ctx context.Context, level slog.Level, msg string, args ...any)
	// ReadFile opens a file the CRM stores (a template, an uploaded
	// contract). The caller closes the reader.
	ReadFile(ctx context.Context, id string) (FileInfo, io.ReadCloser, error)
	// WriteFile stores a file the plugin produced (a generated document),
	// reading r to its end and streaming it to the CRM in chunks; put the
	// returned FileInfo.ID in a record's file field to attach it. The
	// plugin's block must let it write an entity with a file field (else
	// ErrDenied); a file over MaxFileSize is ErrInvalid and stores nothing.
	// A stored file no record holds is readable by this plugin only.
	WriteFile(ctx context.Context, name, contentType string, r io.Reader) (FileInfo, error)
	// Schema describes an entity the plugin may read: its fields, with the
	// HCL types, as this instance's configuration declares them (an
	// admin's added fields included). ErrNotFound for no such entity,
	// ErrDenied for one outside the block's grants.
	Schema(ctx context.Context, entity string) (Entity, error)
}

// MaxFileSize is the largest file WriteFile stores.
const MaxFileSize = 32 << 20

// Record is a record in its API form: system fields (id, entity, version,
// created_at, updated_at, created_by, owner) and field values side by side.
type Record map[string]any

// ID returns the record's id.
func (r Record) ID() string { return r.String("id") }

// Entity returns the record's entity.
func (r Record) Entity() string { return r.String("entity") }

// Version returns the record's version (as If-Version for Update).
func (r Record) Version() int64 {
	switch v := r["version"].(type) {
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	case int64:
		return v
	}
	return 0
}

// String returns a field's value when it is a string, else "".
func (r Record) String(field string) string {
	s, _ := r[field].(string)
	return s
}

// Decode decodes the record into v, a pointer to a struct with json tags.
func (r Record) Decode(v any) error { return Decode(r, v) }

// Query lists records of one entity.
type Query struct {
	Entity string
	// Filter is an expr expression over the entity's fields, as in the
	// API's ?filter=: "stage == 'won' && amount.amount > 1000".
	Filter string
	// Sort is as in the API: "-created_at,name".
	Sort string
	// Limit is the page size (default 50, at most 1000).
	Limit int
	// Cursor is a previous Page's NextCursor.
	Cursor string
}

// Page is one page of a list; NextCursor is "" on the last page.
type Page struct {
	Items      []Record
	NextCursor string
}

// FileInfo is a stored file's metadata.
type FileInfo struct {
	ID          string
	Name        string
	Size        int64
	ContentType string
	SHA256      string
}

// Option tunes one host call.
type Option func(*callOptions)

type callOptions struct {
	idempotencyKey string
	ifVersion      int64
	record         *RecordRef
}

// IdempotencyKey makes a write happen at most once: a write repeated with
// the same key (e.g. Call.IdempotencyKey + ":invoice") answers the record
// the first one wrote.
func IdempotencyKey(key string) Option { return func(o *callOptions) { o.idempotencyKey = key } }

// IfVersion makes an Update fail with ErrConflict unless the record's
// current version is v.
func IfVersion(v int64) Option { return func(o *callOptions) { o.ifVersion = v } }

// About names the record an emitted event is about.
func About(entity, id string) Option {
	return func(o *callOptions) { o.record = &RecordRef{Entity: entity, ID: id} }
}

type hostKey struct{}
type callKey struct{}

// HostFrom returns the Host of the ctx that a Plugin method received. It
// panics when ctx does not come from the host: that is a programming error.
func HostFrom(ctx context.Context) Host {
	h, ok := ctx.Value(hostKey{}).(Host)
	if !ok {
		panic("sdk.HostFrom: the context does not come from the CRM host (use the ctx a Plugin method received)")
	}
	return h
}

// WithHost returns a ctx that carries h, for tests that call a Plugin's
// methods directly with a fake Host.
func WithHost(ctx context.Context, h Host) context.Context {
	return context.WithValue(ctx, hostKey{}, h)
}

// callInfo is what a host call made during an Invoke carries of it.
type callInfo struct {
	userID string
	token  string // the Invoke's call token: the host checks the user's rights with it
}

// hostClient is the Host over gRPC, through the go-plugin broker.
type hostClient struct {
	c crmv1.HostClient
}

var _ Host = (*hostClient)(nil)

func apply(opts []Option) callOptions {
	var o callOptions
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

func callContext(ctx context.Context, o callOptions) *crmv1.CallContext {
	cc := &crmv1.CallContext{IdempotencyKey: o.idempotencyKey}
	if ci, ok := ctx.Value(callKey{}).(callInfo); ok {
		cc.UserId, cc.CallToken = ci.userID, ci.token
	}
	return cc
}

func decodeRecord(raw []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode record from the host: %w", err)
	}
	return r, nil
}

func (h *hostClient) Get(ctx context.Context, entity, id string) (Record, error) {
	resp, err := h.c.GetRecord(ctx, &crmv1.GetRecordRequest{Entity: entity, Id: id, Context: callContext(ctx, callOptions{})})
	if err != nil {
		return nil, hostError(ctx, fmt.Sprintf("get %s %s", entity, id), err)
	}
	return decodeRecord(resp.GetRecordJson())
}

func (h *hostClient) List(ctx context.Context, q Query) (*Page, error) {
	resp, err := h.c.ListRecords(ctx, &crmv1.ListRecordsRequest{
		Entity: q.Entity, Filter: q.Filter, Sort: q.Sort, Limit: int32(min(q.Limit, 1<<30)), Cursor: q.Cursor,
		Context: callContext(ctx, callOptions{}),
	})
	if err != nil {
		return nil, hostError(ctx, "list "+q.Entity, err)
	}
	page := &Page{NextCursor: resp.GetNextCursor(), Items: make([]Record, 0, len(resp.GetRecordsJson()))}
	for _, raw := range resp.GetRecordsJson() {
		r, err := decodeRecord(raw)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, r)
	}
	return page, nil
}

func (h *hostClient) Create(ctx context.Context, entity string, values map[string]any, opts ...Option) (Record, error) {
	raw, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("create %s: encode values: %w", entity, err)
	}
	resp, err := h.c.CreateRecord(ctx, &crmv1.CreateRecordRequest{
		Entity: entity, ValuesJson: raw, Context: callContext(ctx, apply(opts)),
	})
	if err != nil {
		return nil, hostError(ctx, "create "+entity, err)
	}
	return decodeRecord(resp.GetRecordJson())
}

func (h *hostClient) CreateUnless(ctx context.Context, entity, filter string, values map[string]any, opts ...Option) (Record, bool, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, false, fmt.Errorf("create %s unless: the filter is empty", entity)
	}
	raw, err := json.Marshal(values)
	if err != nil {
		return nil, false, fmt.Errorf("create %s: encode values: %w", entity, err)
	}
	resp, err := h.c.CreateRecord(ctx, &crmv1.CreateRecordRequest{
		Entity: entity, ValuesJson: raw, Unless: filter, Context: callContext(ctx, apply(opts)),
	})
	if err != nil {
		return nil, false, hostError(ctx, "create "+entity, err)
	}
	rec, err := decodeRecord(resp.GetRecordJson())
	return rec, !resp.GetExisting(), err
}

func (h *hostClient) Update(ctx context.Context, entity, id string, values map[string]any, opts ...Option) (Record, error) {
	raw, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("update %s %s: encode values: %w", entity, id, err)
	}
	o := apply(opts)
	resp, err := h.c.UpdateRecord(ctx, &crmv1.UpdateRecordRequest{
		Entity: entity, Id: id, ValuesJson: raw, IfVersion: o.ifVersion, Context: callContext(ctx, o),
	})
	if err != nil {
		return nil, hostError(ctx, fmt.Sprintf("update %s %s", entity, id), err)
	}
	return decodeRecord(resp.GetRecordJson())
}

func (h *hostClient) Emit(ctx context.Context, name string, payload any, opts ...Option) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("emit %s: encode payload: %w", name, err)
	}
	o := apply(opts)
	req := &crmv1.EmitEventRequest{Name: name, PayloadJson: raw, Context: callContext(ctx, o)}
	if o.record != nil {
		req.Record = &crmv1.RecordRef{Entity: o.record.Entity, Id: o.record.ID}
	}
	if _, err := h.c.EmitEvent(ctx, req); err != nil {
		return hostError(ctx, "emit "+name, err)
	}
	return nil
}

func (h *hostClient) Log(ctx context.Context, level slog.Level, msg string, args ...any) {
	attrs := map[string]any{}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(args...)
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve().Any()
		return true
	})
	raw, err := json.Marshal(attrs)
	if err != nil {
		raw = []byte(`{}`)
	}
	_, err = h.c.Log(ctx, &crmv1.LogRequest{Level: strings.ToLower(level.String()), Message: msg, AttrsJson: raw})
	if err != nil {
		// The log is best effort; stderr still reaches the host's log.
		slog.Error("log to the host failed", slog.String("message", msg), slog.Any("err", err))
	}
}

func (h *hostClient) ReadFile(ctx context.Context, id string) (FileInfo, io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := h.c.ReadFile(ctx, &crmv1.ReadFileRequest{Id: id, Context: callContext(ctx, callOptions{})})
	if err != nil {
		err = hostError(ctx, "read file "+id, err)
		cancel()
		return FileInfo{}, nil, err
	}
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("read file %s: the host sent no data", id)
		} else {
			err = hostError(ctx, "read file "+id, err)
		}
		cancel()
		return FileInfo{}, nil, err
	}
	pi := first.GetInfo()
	info := FileInfo{ID: pi.GetId(), Name: pi.GetName(), Size: pi.GetSize(), ContentType: pi.GetContentType(), SHA256: pi.GetSha256()}
	return info, &fileReader{stream: stream, buf: first.GetData(), cancel: cancel, ctx: ctx, id: id}, nil
}

func (h *hostClient) WriteFile(ctx context.Context, name, contentType string, r io.Reader) (FileInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream if we give up before CloseAndRecv
	op := "write file " + name
	stream, err := h.c.WriteFile(ctx)
	if err != nil {
		return FileInfo{}, hostError(ctx, op, err)
	}
	chunk := &crmv1.WriteFileChunk{Header: &crmv1.WriteFileHeader{Name: name, ContentType: contentType, Context: callContext(ctx, callOptions{})}}
	buf := make([]byte, crmv1.FileChunkSize)
	var sent int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			sent += int64(n)
			if sent > MaxFileSize {
				return FileInfo{}, &HostError{Code: "invalid_value", Field: "file", Message: fmt.Sprintf("%s: the file is larger than %d bytes", op, MaxFileSize), kind: kindInvalid}
			}
			chunk.Data = buf[:n]
		}
		if n > 0 || chunk.Header != nil {
			if err := stream.Send(chunk); err != nil {
				if errors.Is(err, io.EOF) {
					break // the host answered early (a refusal): CloseAndRecv has it
				}
				return FileInfo{}, hostError(ctx, op, err)
			}
			chunk = &crmv1.WriteFileChunk{}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return FileInfo{}, fmt.Errorf("%s: read the file: %w", op, rerr)
		}
	}
	pi, err := stream.CloseAndRecv()
	if err != nil {
		return FileInfo{}, hostError(ctx, op, err)
	}
	return FileInfo{ID: pi.GetId(), Name: pi.GetName(), Size: pi.GetSize(), ContentType: pi.GetContentType(), SHA256: pi.GetSha256()}, nil
}

func (h *hostClient) Schema(ctx context.Context, entity string) (Entity, error) {
	resp, err := h.c.GetSchema(ctx, &crmv1.GetSchemaRequest{Entity: entity, Context: callContext(ctx, callOptions{})})
	if err != nil {
		return Entity{}, hostError(ctx, "schema "+entity, err)
	}
	pe := resp.GetEntity()
	out := Entity{Name: pe.GetName(), Label: pe.GetLabel(), Labels: pe.GetLabels()}
	for _, f := range pe.GetFields() {
		out.Fields = append(out.Fields, Field{Name: f.GetName(), Label: f.GetLabel(), Labels: f.GetLabels(), Type: f.GetType(),
			Required: f.GetRequired(), Unique: f.GetUnique(), Index: f.GetIndex(), Values: f.GetValues(), To: f.GetTo()})
	}
	return out, nil
}

// fileReader reads a ReadFile stream.
type fileReader struct {
	stream interface {
		Recv() (*crmv1.FileChunk, error)
	}
	buf    []byte
	ctx    context.Context
	cancel context.CancelFunc
	id     string
	err    error
}

func (f *fileReader) Read(p []byte) (int, error) {
	for len(f.buf) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		chunk, err := f.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				f.err = io.EOF
			} else {
				f.err = hostError(f.ctx, "read file "+f.id, err)
			}
			continue
		}
		f.buf = chunk.GetData()
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

func (f *fileReader) Close() error {
	f.cancel()
	return nil
}
