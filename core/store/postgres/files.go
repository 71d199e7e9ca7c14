package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/oklog/ulid/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

// fileChunk is the size of one stored piece of a file.
const fileChunk = 512 << 10

// PutFile stores a blob read from r (at most max bytes) and returns its
// metadata. The chunks are written first and the metadata last, so a file
// is visible only once all of it is stored; an upload that fails has its
// chunks removed before PutFile returns, and chunks a crash leaves behind
// are removed by CollectFiles. A read error from r is an *InvalidError on
// the field "file" that also wraps the reader's error.
func (s *Store) PutFile(ctx context.Context, name, contentType, by string, r io.Reader, max int64) (f *store.File, err error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	id := store.NewID()
	f = &store.File{ID: id, Name: name, ContentType: contentType, CreatedAt: time.Now().UTC(), CreatedBy: by}
	defer func() {
		if err != nil {
			if derr := s.dropChunks(id); derr != nil {
				s.log.Error("remove the chunks of a failed upload", slog.String("file", id), slog.Any("err", derr))
			}
		}
	}()
	h := sha256.New()
	buf := make([]byte, fileChunk)
	for n := int32(0); ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, rerr := fill(r, buf)
		if k > 0 {
			f.Size += int64(k)
			if f.Size > max {
				return nil, &store.InvalidError{Field: "file", Message: fmt.Sprintf("file is larger than %d bytes", max)}
			}
			h.Write(buf[:k])
			if _, err := s.pool.Exec(ctx, `INSERT INTO crm_files (id, n, data) VALUES ($1, $2, $3)`, id, n, buf[:k]); err != nil {
				return nil, fmt.Errorf("store file %s: %w", id, err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: %w", &store.InvalidError{Field: "file", Message: "the upload was cut off before its end: " + rerr.Error()}, rerr)
		}
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	if err := s.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindFile, f.ID, f) }); err != nil {
		return nil, fmt.Errorf("store file %s: %w", f.ID, err)
	}
	return f, nil
}

// fill reads into buf until it is full or r ends; io.EOF only when r
// ended cleanly.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// dropChunks deletes every chunk of a file; it cleans up after requests
// that may have been cancelled, so it takes no context of theirs.
func (s *Store) dropChunks(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM crm_files WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete chunks of file %s: %w", id, err)
	}
	return nil
}

// FileInfo returns a file's metadata, or store.ErrNotFound.
func (s *Store) FileInfo(ctx context.Context, id string) (*store.File, error) {
	var f store.File
	if err := s.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindFile, id, &f) }); err != nil {
		return nil, err
	}
	return &f, nil
}

// WriteFile copies a file's bytes to w, one chunk at a time.
func (s *Store) WriteFile(ctx context.Context, id string, w io.Writer) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	n := int32(0)
	for {
		var chunk []byte
		err := s.pool.QueryRow(ctx, `SELECT data FROM crm_files WHERE id = $1 AND n = $2`, id, n).Scan(&chunk)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read file %s: %w", id, err)
		}
		if _, err := w.Write(chunk); err != nil {
			return fmt.Errorf("read file %s: %w", id, err)
		}
		n++
	}
}

// FileHolders returns the records whose file fields hold the file, among
// the given entities.
func (s *Store) FileHolders(ctx context.Context, id string, entities []string) ([]store.Ref, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	var refs []store.Ref
	for _, name := range entities {
		ent := s.schema.Entity(name)
		if ent == nil {
			continue
		}
		for _, f := range ent.Fields {
			if f.Type != config.TypeFile {
				continue
			}
			ids, err := fieldHolders(ctx, s.pool, ent, f.Name, id)
			if err != nil {
				return nil, err
			}
			for _, rid := range ids {
				refs = append(refs, store.Ref{Entity: ent.Name, ID: rid, Field: f.Name})
			}
		}
	}
	return refs, ctx.Err()
}

// FileUsage counts the stored files and chunks.
func (s *Store) FileUsage(ctx context.Context) (store.FileUsage, error) {
	var u store.FileUsage
	var files, chunks int64
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM crm_sys WHERE kind = $1`, store.KindFile).Scan(&files); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(length(data)), 0) FROM crm_files`).Scan(&chunks, &u.Bytes)
	})
	if err != nil {
		return store.FileUsage{}, fmt.Errorf("count files: %w", err)
	}
	u.Files, u.Chunks = int(files), int(chunks)
	return u, nil
}

// CollectFiles removes the files that no record holds and that are older
// than grace, and the chunks without metadata whose id is older than
// grace. It returns how many files (orphan chunk sets included) it
// removed. Whether a file is held is decided in the transaction that
// deletes its metadata; a record write that takes the file locks that
// metadata (FOR KEY SHARE), so one of the two waits for the other.
func (s *Store) CollectFiles(ctx context.Context, grace time.Duration) (int, error) {
	cutoff := time.Now().Add(-grace)
	var old []string
	err := s.SysList(ctx, store.KindFile, "", func(key string, data []byte) error {
		var f store.File
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("decode file %s: %w", key, err)
		}
		if f.CreatedAt.Before(cutoff) {
			old = append(old, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("collect files: %w", err)
	}
	removed := 0
	for _, id := range old {
		dropped := false
		err := s.inTx(ctx, pgx.ReadCommitted, false, func(tx pgx.Tx) error {
			dropped = false
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM crm_sys WHERE kind = $1 AND key = $2 FOR UPDATE`, store.KindFile, id).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			held, err := s.fileHeld(ctx, tx, id)
			if err != nil || held {
				return err
			}
			dropped = true
			_, err = tx.Exec(ctx, `DELETE FROM crm_sys WHERE kind = $1 AND key = $2`, store.KindFile, id)
			return err
		})
		if err != nil {
			return removed, fmt.Errorf("collect file %s: %w", id, err)
		}
		if dropped {
			if err := s.dropChunks(id); err != nil {
				return removed, err
			}
			removed++
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT f.id FROM crm_files f
		WHERE NOT EXISTS (SELECT 1 FROM crm_sys s WHERE s.kind = $1 AND s.key = f.id)`, store.KindFile)
	if err != nil {
		return removed, fmt.Errorf("find orphan chunks: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return removed, fmt.Errorf("find orphan chunks: %w", err)
	}
	for _, id := range ids {
		u, err := ulid.ParseStrict(id)
		if err != nil || !ulid.Time(u.Time()).Before(cutoff) {
			continue
		}
		if err := s.dropChunks(id); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// fileHeld reports whether a file field of any entity holds the file.
func (s *Store) fileHeld(ctx context.Context, q querier, id string) (bool, error) {
	for _, ent := range s.schema.Entities() {
		for _, f := range ent.Fields {
			if f.Type != config.TypeFile {
				continue
			}
			expr, err := fieldExpr(ent, f.Name)
			if err != nil {
				return false, err
			}
			var one int
			err = q.QueryRow(ctx, `SELECT 1 FROM crm_records r WHERE r.entity = `+literal(ent.Name)+` AND `+expr+` = $1 LIMIT 1`, id).Scan(&one)
			if err == nil {
				return true, nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return false, fmt.Errorf("find holders of file %s: %w", id, err)
			}
		}
	}
	return false, nil
}

// fileCollector runs CollectFiles every sweep until the store closes.
func (s *Store) fileCollector(ctx context.Context, grace, sweep time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.CollectFiles(ctx, grace)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("collect unreferenced files", slog.Any("err", err))
			case n > 0:
				s.log.Info("collected unreferenced files", slog.Int("count", n), slog.Duration("grace", grace))
			}
		}
	}
}
