package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/store"
)

// backupBatchTimeout is how long the client may take to receive one batch
// of a backup: a backup outlasts the server's write timeout, so each batch
// gets its own deadline.
const backupBatchTimeout = time.Minute

// backup streams a dump of the whole store (crm restore reads it), read
// from one consistent snapshot while the server goes on writing. It is how
// a running server is backed up: crm backup needs the store to itself.
// A dump cut off by an error has no end line, and crm restore refuses it.
func (s *Server) backup(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	d, ok := s.opts.Store.(store.Dumper)
	if !ok {
		writeError(w, http.StatusNotImplemented, "not_implemented", "this store cannot be backed up through the API; use the database's own tools", "")
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="crm-backup-%s.jsonl.gz"`, time.Now().UTC().Format("20060102-150405")))
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(backupBatchTimeout))
	var done store.Progress
	err := store.Copy(r.Context(), d, store.NewDumpWriter(w), func(pr store.Progress) {
		done = pr
		_ = rc.SetWriteDeadline(time.Now().Add(backupBatchTimeout))
	})
	if err != nil {
		// The status is sent; the dump lacks its end line, which restore checks.
		s.log.Error("backup cut off", slog.String("by", p.User.ID), slog.Any("err", err))
		return
	}
	s.log.Info("backup sent", slog.String("by", p.User.ID), slog.Any("items", done.Done))
}
