package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/crmkit/crm/core/schema"
)

// ExistsError is a conditional create (CreateRequest.Unless) that found a
// record matching its filter, and so created nothing. Record is the first
// record that matched.
type ExistsError struct {
	Record *Record
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("a %s record matching the condition exists: %s", e.Record.Entity, e.Record.ID)
}

// errFound stops a scan at the first match.
var errFound = errors.New("found")

// errNoIndex: no index range the filter offers holds every record yet
// (the search index's backfill is not done).
var errNoIndex = errors.New("no complete index range")

// firstMatch finds the first record of ent that f matches, inside txn, so
// that it sees the writes planned earlier in the same batch. With an index
// the filter can use, it reads only that index range.
func (s *Badger) firstMatch(txn *badger.Txn, ent *schema.Entity, f *Filter) (*Record, error) {
	ctx := context.Background()
	var found *Record
	if f.plan != nil {
		err := s.scanIndex(ctx, txn, ent.Name, f.plan, func(id string) error {
			rec, err := s.getRecord(txn, ent.Name, id)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			ok, err := f.Eval(rec)
			if err != nil {
				return err
			}
			if ok {
				found = rec
				return errFound
			}
			return nil
		})
		switch {
		case errors.Is(err, errNoIndex): // scan below
		case err != nil && !errors.Is(err, errFound):
			return nil, err
		default:
			return found, nil
		}
	}
	prefix := recordPrefix(ent.Name)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rec, err := s.itemRecord(it.Item(), ent.Name, len(prefix))
		if err != nil {
			return nil, err
		}
		ok, err := f.Eval(rec)
		if err != nil {
			return nil, err
		}
		if ok {
			return rec, nil
		}
	}
	return nil, nil
}
