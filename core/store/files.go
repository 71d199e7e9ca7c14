package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/crmkit/crm/config"
	badger "github.com/dgraph-io/badger/v4"
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
// metadata. The chunks are written first and the metadata last, in its own
// transaction, so a file is visible only once all of it is stored.
func (s *Badger) PutFile(ctx context.Context, name, contentType, by string, r io.Reader, max int64) (*File, error) {
	f := &File{ID: NewID(), Name: name, ContentType: contentType, CreatedAt: time.Now().UTC(), CreatedBy: by}
	h := sha256.New()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	buf := make([]byte, fileChunk)
	for n := uint32(0); ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k, err := io.ReadFull(r, buf)
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
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return nil, fmt.Errorf("store file %s: %w", f.ID, err)
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	err := s.SysUpdate(ctx, func(tx SysTx) error { return tx.Put(KindFile, f.ID, f) })
	if err != nil {
		return nil, err
	}
	return f, nil
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
	return s.db.View(func(txn *badger.Txn) error {
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
	err := s.db.View(func(txn *badger.Txn) error {
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
