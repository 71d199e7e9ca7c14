package records

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

// MaxFileBytes is the largest file the record service stores for an actor
// (an upload, a document a plugin generated).
const MaxFileBytes = 32 << 20

// PutFileRequest is a file to store: its name, content type and bytes.
type PutFileRequest struct {
	Name        string
	ContentType string
	Body        io.Reader
	// Max bounds the size; 0 or more than MaxFileBytes is MaxFileBytes.
	Max int64
}

// PutFile stores a blob for the actor, who must be allowed to write some
// entity with a file field: a file is stored to be held by such a record.
// The file is recorded as made by the actor (By), so a plugin may read back
// what it stored. Too large a body is an invalid "file" and stores nothing.
func (s *Service) PutFile(ctx context.Context, a Actor, req PutFileRequest) (*store.File, error) {
	if !s.mayHoldFiles(a) {
		if a.Grants != nil {
			return nil, &Error{Kind: KindForbidden, Code: CodePluginDenied, Field: "file",
				Message: fmt.Sprintf("plugin %q may not store files: its plugin block grants %s, and none of those entities has a file field", a.Plugin, a.Grants.Describe())}
		}
		return nil, forbidden("file", "%s may not store files: storing one needs write permission on an entity with a file field", a.describe())
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "/\\\x00") {
		return nil, &Error{Kind: KindInvalid, Code: "invalid_value", Field: "name",
			Message: fmt.Sprintf("file name %q must be 1 to 255 characters without a slash", req.Name)}
	}
	ct := req.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	max := req.Max
	if max <= 0 || max > MaxFileBytes {
		max = MaxFileBytes
	}
	return s.st.PutFile(ctx, name, ct, a.By(), req.Body, max)
}

// mayHoldFiles reports whether the actor may write some entity that has a
// file field.
func (s *Service) mayHoldFiles(a Actor) bool {
	for _, name := range s.sch.EntityNames() {
		if !a.CanWrite(name) {
			continue
		}
		for _, f := range s.sch.Entity(name).Fields {
			if f.Type == config.TypeFile {
				return true
			}
		}
	}
	return false
}
