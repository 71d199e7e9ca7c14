package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// WriteFile stores a file a plugin produced, read from the stream as it
// arrives, through the record service: the plugin (and the user it acts
// for) must be allowed to write an entity with a file field, and the file
// may be at most records.MaxFileBytes. A stream cut off or over the limit
// stores nothing.
func (s *hostService) WriteFile(stream grpc.ClientStreamingServer[crmv1.WriteFileChunk, crmv1.FileInfo]) error {
	ctx, cancel := s.deadline(stream.Context())
	defer cancel()
	first, err := stream.Recv()
	if err != nil {
		return crmv1.Error(codes.InvalidArgument, "invalid_argument", "write file: the stream ended before its header: "+err.Error(), "")
	}
	hdr := first.GetHeader()
	if hdr == nil {
		return crmv1.Error(codes.InvalidArgument, "invalid_argument", "write file: the first chunk carries no header", "")
	}
	op := "write file " + hdr.GetName()
	a, iv, err := s.actor(ctx, op, hdr.GetContext())
	if err != nil {
		return err
	}
	body := &streamReader{ctx: ctx, stream: stream, buf: first.GetData()}
	f, err := s.records().PutFile(ctx, a, records.PutFileRequest{Name: hdr.GetName(), ContentType: hdr.GetContentType(), Body: body})
	if err != nil {
		return s.fail(op, err, iv)
	}
	return stream.SendAndClose(&crmv1.FileInfo{Id: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType, Sha256: f.SHA256})
}

// streamReader reads the data of a WriteFile stream.
type streamReader struct {
	ctx    context.Context
	stream grpc.ClientStreamingServer[crmv1.WriteFileChunk, crmv1.FileInfo]
	buf    []byte
	err    error
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		chunk, err := r.stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			r.err = io.EOF
		case err != nil:
			r.err = fmt.Errorf("receive file chunk: %w", err)
		default:
			r.buf = chunk.GetData()
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// GetSchema describes an entity the plugin may read, with the fields the
// instance's configuration gives it.
func (s *hostService) GetSchema(ctx context.Context, req *crmv1.GetSchemaRequest) (*crmv1.GetSchemaResponse, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	op := "schema " + req.GetEntity()
	a, iv, err := s.actor(ctx, op, req.GetContext())
	if err != nil {
		return nil, err
	}
	ent, err := s.records().Entity(a, req.GetEntity(), false)
	if err != nil {
		return nil, s.fail(op, err, iv)
	}
	out := &crmv1.Entity{Name: ent.Name, Label: ent.Label, Labels: ent.Labels}
	for _, f := range ent.Fields {
		out.Fields = append(out.Fields, &crmv1.Field{Name: f.Name, Label: f.Label, Labels: f.Labels, Type: f.Type,
			Required: f.Required, Unique: f.Unique, Index: f.Index, Values: f.Values, To: f.To})
	}
	return &crmv1.GetSchemaResponse{Entity: out}, nil
}
