package store

import (
	"bytes"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/expr-lang/expr/ast"
)

// A list sorted in memory (lister.collect) needs of each match only its
// sort keys and its id: keyReader reads the sort fields from the stored
// JSON of a record, as the filter scan reads the fields a filter names
// (scan.go), and only the records of the page are decoded in full.

// keyReader reads the sort keys of a list from stored records.
type keyReader struct {
	l      *lister
	fields []*scanField // per sort key: the declared field; nil for a system field
	vals   []any        // per sort key: the value read from the values object
	want   int          // how many sort keys are declared fields

	onlyValues bool // no sort key but id needs the envelope's members
}

func newKeyReader(l *lister) *keyReader {
	r := &keyReader{l: l, fields: make([]*scanField, len(l.keys)), vals: make([]any, len(l.keys)), onlyValues: true}
	for i, k := range l.keys {
		if _, sys := systemTypes[k.Field]; sys {
			r.onlyValues = r.onlyValues && k.Field == "id"
			continue
		}
		fd := l.ent.Field(k.Field)
		// newScanPlan makes the scanField of one name, with its fast reader.
		p := newScanPlan(l.ent, &ast.IdentifierNode{Value: fd.Name})
		if len(p.fields) != 1 || p.fields[0].field == nil {
			continue
		}
		r.fields[i] = &p.fields[0]
		r.want++
	}
	return r
}

// keys returns the encoded sort keys of the record stored as raw under id,
// equal to lister.keysOf of the decoded record.
func (r *keyReader) keys(id string, raw []byte) ([][]byte, error) {
	clear(r.vals)
	var top [5][]byte // v, c, u, cb, o
	if r.onlyValues {
		// No envelope member but the values: jump to them when what comes
		// before holds no object or list, as scanner.load does.
		if k := bytes.Index(raw, valuesKey); k > 0 && bytes.IndexAny(raw[1:k], "{[") < 0 {
			if _, err := r.values(raw, k+len(valuesKey)); err != nil {
				return nil, fmt.Errorf("decode %s %s: %w", r.l.ent.Name, id, err)
			}
			return r.encode(id, top)
		}
	}
	err := walkEnvelope(raw, &top, func(i int) (int, error) { return r.values(raw, i) })
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", r.l.ent.Name, id, err)
	}
	return r.encode(id, top)
}

// encode makes the sort keys of record id from the values read and the
// raw envelope members.
func (r *keyReader) encode(id string, top [5][]byte) ([][]byte, error) {
	ks := make([][]byte, len(r.l.keys))
	for i, k := range r.l.keys {
		v := r.vals[i]
		if r.fields[i] == nil {
			var err error
			if v, err = systemFromEnvelope(k.Field, id, top); err != nil {
				return nil, fmt.Errorf("decode %s %s: %w", r.l.ent.Name, id, err)
			}
		}
		ks[i] = sortKey(v)
	}
	return ks, nil
}

// values reads the declared sort fields from the values object at b[i]
// and returns its end. Duplicate keys: the last wins, as in encoding/json.
func (r *keyReader) values(b []byte, i int) (int, error) {
	if r.want == 0 {
		return skipValue(b, i)
	}
	return scanObject(b, i, func(key []byte, i int) (int, error) {
		end, err := skipValue(b, i)
		if err != nil {
			return 0, err
		}
		for j, sf := range r.fields {
			if sf == nil || string(key) != sf.name {
				continue
			}
			v, err := sf.value(r.l.ent, b[i:end])
			if err != nil {
				return 0, err
			}
			r.vals[j] = v
		}
		return end, nil
	})
}

// keyed is a match of a list sorted in memory: its id and sort keys, and
// the record when the source gave it decoded.
type keyed struct {
	id   string
	rec  *Record
	keys [][]byte
}

// keyedNext yields the matches of a source with their sort keys; ok is
// false at the end.
type keyedNext func() (m keyed, ok bool, err error)

// keyedSource yields the matches of a plan's source with their sort keys,
// reading the filter's fields and the sort fields from the stored form of
// each candidate, without decoding it.
func (l *lister) keyedSource(p *plan) (keyedNext, func()) {
	kr := newKeyReader(l)
	// one reads the stored record of a Badger item.
	one := func(id string, item *badger.Item) (m keyed, ok bool, err error) {
		err = item.Value(func(v []byte) error {
			matched, err := l.match.matchRaw(id, v)
			if err != nil || !matched {
				return err
			}
			ks, err := kr.keys(id, v)
			if err != nil {
				return err
			}
			m, ok = keyed{id: id, keys: ks}, true
			return nil
		})
		return m, ok, err
	}
	if p.kind == "scan" && !p.runs {
		prefix := recordPrefix(l.ent.Name)
		it := l.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		it.Rewind()
		return func() (keyed, bool, error) {
			for ; it.Valid(); it.Next() {
				if err := l.ctx.Err(); err != nil {
					return keyed{}, false, err
				}
				item := it.Item()
				recordsRead.Add(1)
				m, ok, err := one(string(item.Key()[len(prefix):]), item)
				if err != nil {
					return keyed{}, false, err
				}
				if ok {
					it.Next()
					return m, true, nil
				}
			}
			return keyed{}, false, nil
		}, it.Close
	}
	nx, done := l.source(p)
	return func() (keyed, bool, error) {
		for {
			if err := l.ctx.Err(); err != nil {
				return keyed{}, false, err
			}
			id, rec, ok, err := nx()
			if err != nil || !ok {
				return keyed{}, false, err
			}
			if rec != nil { // read and decoded by the source
				matched, err := l.match.match(rec)
				if err != nil {
					return keyed{}, false, err
				}
				if matched {
					return keyed{id: rec.ID, rec: rec, keys: l.keysOf(rec)}, true, nil
				}
				continue
			}
			item, err := l.txn.Get(recordKey(l.ent.Name, id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return keyed{}, false, ErrNotFound
			}
			if err != nil {
				return keyed{}, false, fmt.Errorf("get %s %s: %w", l.ent.Name, id, err)
			}
			recordsRead.Add(1)
			m, ok, err := one(id, item)
			if err != nil {
				return keyed{}, false, err
			}
			if ok {
				return m, true, nil
			}
		}
	}, done
}
