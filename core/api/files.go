package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/store"
)

// MaxFileBytes is the largest file accepted by POST /api/v1/files.
const MaxFileBytes = 32 << 20

// uploadFile stores the "file" part of a multipart body and answers its
// file JSON; a record's file field then takes its id. Only a user who may
// write some entity with a file field may upload: the file is for such a
// record. An upload refused or cut off leaves nothing stored (PutFile).
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if !s.mayUpload(p) {
		writeError(w, http.StatusForbidden, "forbidden", "uploading a file needs write permission on an entity with a file field", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFileBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "send the file as multipart/form-data in a part named \"file\": "+err.Error(), "file")
		return
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.fail(w, r, err)
				return
			}
			writeError(w, http.StatusBadRequest, "invalid_body", "no part named \"file\" in the multipart body", "file")
			return
		}
		if part.FormName() != "file" {
			continue
		}
		name := filepath.Base(part.FileName())
		if name == "." || name == "/" || len(name) > 255 {
			name = "file"
		}
		ct := part.Header.Get("Content-Type")
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			ct = "application/octet-stream"
		}
		f, err := s.opts.Store.PutFile(r.Context(), name, ct, p.User.ID, part, MaxFileBytes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, f.APIForm())
		return
	}
}

// mayUpload reports whether p may write some entity that has a file field.
func (s *Server) mayUpload(p *auth.Principal) bool {
	for _, name := range s.opts.Schema.EntityNames() {
		if !p.CanWrite(name) {
			continue
		}
		for _, f := range s.opts.Schema.Entity(name).Fields {
			if f.Type == config.TypeFile {
				return true
			}
		}
	}
	return false
}

// downloadFile sends a file to its uploader, an admin, or a user who sees
// a record that holds it (the record service decides).
func (s *Server) downloadFile(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	id := r.PathValue("id")
	f, err := s.opts.Store.FileInfo(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok, err := s.records.MayReadFile(r.Context(), records.UserActor(p), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, store.ErrNotFound) // do not tell that the file exists
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", strconv.Quote(f.SHA256))
	if err := s.opts.Store.WriteFile(r.Context(), id, w); err != nil {
		s.log.WarnContext(r.Context(), "file download interrupted", "file", id, "err", fmt.Sprint(err))
	}
}
