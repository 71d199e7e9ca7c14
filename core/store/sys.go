package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
)

type sysTx struct{ txn *badger.Txn }

func (t sysTx) Get(kind, key string, v any) error {
	item, err := t.txn.Get(sysKey(kind, key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, key, err)
	}
	return item.Value(func(b []byte) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("decode %s %s: %w", kind, key, err)
		}
		return nil
	})
}

func (t sysTx) Put(kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	return wrapf(t.txn.Set(sysKey(kind, key), b), "put %s %s", kind, key)
}

func (t sysTx) Delete(kind, key string) error {
	return wrapf(t.txn.Delete(sysKey(kind, key)), "delete %s %s", kind, key)
}

// SysView runs fn in a read-only transaction over system documents.
func (s *Badger) SysView(ctx context.Context, fn func(SysTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(txn *badger.Txn) error { return fn(sysTx{txn}) })
}

// SysUpdate runs fn in a read-write transaction over system documents,
// retrying it when a concurrent transaction conflicts with it.
func (s *Badger) SysUpdate(ctx context.Context, fn func(SysTx) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := s.db.Update(func(txn *badger.Txn) error { return fn(sysTx{txn}) })
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		return err
	}
}

// SysList calls fn for every system document of a kind whose key has the prefix.
func (s *Badger) SysList(ctx context.Context, kind, prefix string, fn func(key string, data []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		p := sysPrefix(kind, prefix)
		strip := len(sysPrefix(kind, ""))
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			key := string(it.Item().Key()[strip:])
			if err := it.Item().Value(func(b []byte) error { return fn(key, b) }); err != nil {
				return err
			}
		}
		return nil
	})
}
