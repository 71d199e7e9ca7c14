package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/crmkit/crm/config"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
)

// File is the metadata of a stored blob (an uploaded contract, a generated
// document). Its bytes are kept in chunks beside it.
type File struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

// fileChunk is the size of one stored piece of a file.
const fileChunk = 512 << 10

func fileChunkKey(id string, n uint32) []byte {
	return binary.BigEndian.AppendUint32(blobPrefix(id), n)
}

// PutFile stores a blob read from r (at most max bytes) and returns its
// metadata. The chunks are written first and the metadata last, through the
// writer, so a file is visible only once all of it is stored. An upload that
// fails for any reason (too large, cut off, cancelled, a store error) has
// its chunks removed before PutFile returns; chunks a crash leaves behind
// have no metadata and are removed by CollectFiles.
//
// A read error from r (a cut-off upload) is an *InvalidError on the field
// "file" that also wraps the reader's error, so a caller can still tell,
// say, a body over its limit.
func (s *Badger) PutFile(ctx context.Context, name, contentType, by string, r io.Reader, max int64) (f *File, err error) {
	if s.isClosed() {
		return nil, ErrClosed // a write batch's flush on a closed database never returns
	}
	id := NewID()
	f = &File{ID: id, Name: name, ContentType: contentType, CreatedAt: time.Now().UTC(), CreatedBy: by}
	wb := s.db.NewWriteBatch()
	defer func() {
		wb.Cancel()
		if err != nil {
			if derr := s.dropChunks(id); derr != nil {
				s.log.Error("remove the chunks of a failed upload", slog.String("file", id), slog.Any("err", derr))
			}
		}
	}()
	h := sha256.New()
	buf := make([]byte, fileChunk)
	for n := uint32(0); ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, rerr := fill(r, buf)
		if k > 0 {
			f.Size += int64(k)
			if f.Size > max {
				return nil, &InvalidError{Field: "file", Message: fmt.Sprintf("file is larger than %d bytes", max)}
			}
			h.Write(buf[:k])
			if err := wb.Set(fileChunkKey(f.ID, n), bytes.Clone(buf[:k])); err != nil {
				return nil, fmt.Errorf("store file %s: %w", f.ID, err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: %w", &InvalidError{Field: "file", Message: "the upload was cut off before its end: " + rerr.Error()}, rerr)
		}
	}
	if err := wb.Flush(); err != nil {
		return nil, fmt.Errorf("store file %s: %w", f.ID, err)
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	if err := s.SysUpdate(ctx, func(tx SysTx) error { return tx.Put(KindFile, f.ID, f) }); err != nil {
		return nil, fmt.Errorf("store file %s: %w", f.ID, err)
	}
	return f, nil
}

// fill reads into buf until it is full or r ends. It returns io.EOF only
// when r ended cleanly (io.EOF); any other error, io.ErrUnexpectedEOF
// included, is a cut-off read and returned as is.
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

// dropChunks deletes every chunk of a file. It does not take a context: it
// cleans up after a request that may have been cancelled.
func (s *Badger) dropChunks(id string) error {
	var keys [][]byte
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: blobPrefix(id)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list chunks of file %s: %w", id, err)
	}
	if len(keys) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			return fmt.Errorf("delete chunks of file %s: %w", id, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("delete chunks of file %s: %w", id, err)
	}
	return nil
}

// FileInfo returns a file's metadata, or ErrNotFound.
func (s *Badger) FileInfo(ctx context.Context, id string) (*File, error) {
	var f File
	if err := s.SysView(ctx, func(tx SysTx) error { return tx.Get(KindFile, id, &f) }); err != nil {
		return nil, err
	}
	return &f, nil
}

// WriteFile copies a file's bytes to w.
func (s *Badger) WriteFile(ctx context.Context, id string, w io.Writer) error {
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: blobPrefix(id), PrefetchValues: true, PrefetchSize: 4})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := it.Item().Value(func(v []byte) error { _, err := w.Write(v); return err }); err != nil {
				return fmt.Errorf("read file %s: %w", id, err)
			}
		}
		return nil
	})
}

// FileHolders returns the records whose file fields hold the file, among
// the given entities.
func (s *Badger) FileHolders(ctx context.Context, id string, entities []string) ([]Ref, error) {
	var refs []Ref
	enc := encodeValue(id)
	err := s.view(func(txn *badger.Txn) error {
		for _, name := range entities {
			ent := s.schema.Entity(name)
			if ent == nil {
				continue
			}
			for _, f := range ent.Fields {
				if f.Type != config.TypeFile {
					continue
				}
				it := txn.NewIterator(badger.IteratorOptions{Prefix: append(indexPrefix(ent.Name, f.Name), enc...)})
				for it.Rewind(); it.Valid(); it.Next() {
					k := it.Item().Key()
					refs = append(refs, Ref{Entity: ent.Name, ID: string(k[len(k)-idLen:]), Field: f.Name})
				}
				it.Close()
			}
		}
		return ctx.Err()
	})
	return refs, err
}

// Defaults of the file collector (Options.FileGrace, Options.FileSweepEvery).
const (
	DefaultFileGrace      = 24 * time.Hour
	DefaultFileSweepEvery = time.Hour
)

// FileUsage is what the stored files take: the files with metadata, and
// the chunks and their bytes, orphans (chunks without metadata) included.
type FileUsage struct {
	Files  int
	Chunks int
	Bytes  int64
}

// FileUsage counts the stored files and chunks.
func (s *Badger) FileUsage(ctx context.Context) (FileUsage, error) {
	var u FileUsage
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: sysPrefix(KindFile, "")})
		for it.Rewind(); it.Valid(); it.Next() {
			u.Files++
		}
		it.Close()
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlob)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			u.Chunks++
			u.Bytes += it.Item().ValueSize()
		}
		return nil
	})
	if err != nil {
		return FileUsage{}, fmt.Errorf("count files: %w", err)
	}
	return u, nil
}

// CollectFiles removes the files that no record holds and that are older
// than grace, and the chunks without metadata (left by a crash during an
// upload) whose id is older than grace. It returns how many files (orphan
// chunk sets included) it removed.
//
// Whether a file is held is decided inside the writer, in the same
// transaction that deletes its metadata, so a record write that takes the
// file either commits first (and the file stays) or is refused as naming
// no file; the grace period keeps a fresh upload for the record that is
// about to take it.
func (s *Badger) CollectFiles(ctx context.Context, grace time.Duration) (int, error) {
	cutoff := time.Now().Add(-grace)
	var old []string
	err := s.SysList(ctx, KindFile, "", func(key string, data []byte) error {
		var f File
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
		err := s.SysUpdate(ctx, func(tx SysTx) error {
			dropped = false
			bt, ok := tx.(*bufferedSys)
			if !ok {
				return fmt.Errorf("collect file %s: not inside the writer", id)
			}
			held, err := s.fileHeld(bt.txn, id)
			if err != nil || held {
				return err
			}
			var f File
			if err := tx.Get(KindFile, id, &f); err != nil {
				return err
			}
			dropped = true
			return tx.Delete(KindFile, id)
		})
		if errors.Is(err, ErrNotFound) {
			continue
		}
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
	orphans, err := s.orphanChunks(ctx, cutoff)
	if err != nil {
		return removed, err
	}
	for _, id := range orphans {
		if err := s.dropChunks(id); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// fileHeld reports whether a file field of any entity holds the file.
func (s *Badger) fileHeld(txn *badger.Txn, id string) (bool, error) {
	enc := encodeValue(id)
	for _, name := range s.schema.EntityNames() {
		ent := s.schema.Entity(name)
		for _, f := range ent.Fields {
			if f.Type != config.TypeFile {
				continue
			}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: append(indexPrefix(ent.Name, f.Name), enc...)})
			it.Rewind()
			held := it.Valid()
			it.Close()
			if held {
				return true, nil
			}
		}
	}
	return false, nil
}

// orphanChunks returns the ids of chunk sets that have no metadata and
// whose id was made before cutoff.
func (s *Badger) orphanChunks(ctx context.Context, cutoff time.Time) ([]string, error) {
	var ids []string
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlob)})
		defer it.Close()
		last := ""
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := it.Item().Key()
			if len(k) < 2+idLen {
				continue
			}
			id := string(k[2 : 2+idLen])
			if id == last {
				continue
			}
			last = id
			u, err := ulid.ParseStrict(id)
			if err != nil || !ulid.Time(u.Time()).Before(cutoff) {
				continue
			}
			if err := s.exists(txn, sysKey(KindFile, id)); errors.Is(err, ErrNotFound) {
				ids = append(ids, id)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find orphan chunks: %w", err)
	}
	return ids, nil
}

// fileCollector runs CollectFiles every sweep until the store closes.
func (s *Badger) fileCollector(grace, sweep time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(sweep)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	for {
		select {
		case <-s.stop:
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
