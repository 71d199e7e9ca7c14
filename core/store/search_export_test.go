package store

import (
	"bytes"

	badger "github.com/dgraph-io/badger/v4"
)

// SearchKeys counts the search entries of an entity, or of one record of
// it when id is given.
func (s *Badger) SearchKeys(entity, id string) int {
	n := 0
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: searchPrefix(entity)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if id == "" || bytes.HasSuffix(it.Item().Key(), []byte(id)) {
				n++
			}
		}
		return nil
	})
	return n
}

// SearchIndexBytes is the size of an entity's search entries (keys, as
// stored before compression).
func (s *Badger) SearchIndexBytes(entity string) int {
	n := 0
	_ = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: searchPrefix(entity)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n += len(it.Item().Key())
		}
		return nil
	})
	return n
}

// ForgetSearch makes the store look like one from before search: no
// search entries and no mark for the entity (call before Close).
func (s *Badger) ForgetSearch(entity string) error {
	return s.dropSearch(entity, nil)
}

// SetSearchMark records a backfill of the entity stopped after the record
// id, as a crash would leave it.
func (s *Badger) SetSearchMark(entity, after string) error {
	return s.dropSearch(entity, &searchMark{Fields: searchSignature(s.schema.Entity(entity)), After: after})
}
