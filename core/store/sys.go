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
	return s.view(func(txn *badger.Txn) error { return fn(sysTx{txn}) })
}

// SysUpdate runs fn in a read-write transaction over system documents. It
// goes through the writer like record writes, so concurrent updates share
// one fsynced commit and never conflict; fn's writes are applied only if it
// returns nil. fn runs on the writer goroutine: it must be quick and must
// not call the store's write methods.
func (s *Badger) SysUpdate(ctx context.Context, fn func(SysTx) error) error {
	_, err := s.submit(ctx, &writeOp{sys: fn})
	return err
}

// bufferedSys is the SysTx of a SysUpdate inside a write batch: reads see
// the batch and the writes made so far, writes are collected and applied
// together when the function succeeds.
type bufferedSys struct {
	txn  *badger.Txn
	muts []mutation
	own  map[string]int // key -> index in muts of its latest write
}

func (t *bufferedSys) Get(kind, key string, v any) error {
	k := string(sysKey(kind, key))
	if i, ok := t.own[k]; ok {
		if t.muts[i].val == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(t.muts[i].val, v); err != nil {
			return fmt.Errorf("decode %s %s: %w", kind, key, err)
		}
		return nil
	}
	return sysTx{t.txn}.Get(kind, key, v)
}

func (t *bufferedSys) Put(kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	t.add(sysKey(kind, key), b)
	return nil
}

func (t *bufferedSys) Delete(kind, key string) error {
	t.add(sysKey(kind, key), nil)
	return nil
}

func (t *bufferedSys) add(k, v []byte) {
	t.own[string(k)] = len(t.muts)
	t.muts = append(t.muts, mutation{key: k, val: v})
}

func (s *Badger) planSys(b *batch, fn func(SysTx) error) (*Record, []mutation, error) {
	t := &bufferedSys{txn: b.txn, own: map[string]int{}}
	if err := fn(t); err != nil {
		return nil, nil, err
	}
	return nil, t.muts, nil
}

// SysList calls fn for every system document of a kind whose key has the prefix.
func (s *Badger) SysList(ctx context.Context, kind, prefix string, fn func(key string, data []byte) error) error {
	return s.view(func(txn *badger.Txn) error {
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
