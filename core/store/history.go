package store

import (
	"context"
	"encoding/json"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

// HistoryBefore returns up to limit history entries of a record, newest
// first, whose feed position is below before (0: from the newest). It
// reads only the entries it returns, so a page of a long history costs a
// page.
func (s *Badger) HistoryBefore(ctx context.Context, entity, id string, before uint64, limit int) ([]HistoryEntry, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	prefix := historyPrefix(entity, id)
	seek := append(historyPrefix(entity, id), 0xFF)
	if before > 0 {
		seek = historyKey(entity, id, before-1)
	}
	var out []HistoryEntry
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true, PrefetchValues: true, PrefetchSize: min(limit, 100)})
		defer it.Close()
		for it.Seek(seek); it.Valid() && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var h HistoryEntry
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &h) }); err != nil {
				return fmt.Errorf("read history of %s %s: %w", entity, id, err)
			}
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// CursorAfter is the cursor of a list page sorted by sort (as List takes
// it) whose last item was rec: List given it goes on after rec. It lets a
// caller that merges several lists resume each one exactly after the last
// item it used.
func CursorAfter(sort string, rec *Record) string {
	keys := ParseSort(sort)
	if len(keys) == 0 || keys[len(keys)-1].Field != "id" {
		desc := len(keys) > 0 && keys[len(keys)-1].Desc
		keys = append(keys, SortKey{Field: "id", Desc: desc})
	}
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = sortKey(fieldValue(rec, k.Field))
	}
	return cursor{Sort: sortString(keys), Keys: ks}.encode()
}
