package store

// Dump and load: a backend-neutral stream of everything a store holds, for
// backups (crm backup, crm restore) and for copies between backends (crm
// migrate). docs/operations.md describes the file form.
//
// A dump is a header and then items, in an order fixed by the source:
//
//	record   one record's current version: entity, id, and its stored
//	         encoding (data: the JSON Event.After holds, with id, version,
//	         owner and timestamps)
//	history  one history entry of a record (data: a HistoryEntry), also of
//	         deleted records
//	event    one change-feed event with its position (data: an Event)
//	chunk    one piece of a stored file's bytes (id: the file, n: its number)
//	sys      one system document (kind, key, data: its JSON), every kind
//	         but the destination's own derived state (DumpSkipsKind)
//
// Derived state is not dumped: indexes, unique values, the search index,
// counters, record counts and the feed position are rebuilt by the loader
// from the items (the feed position from the header's last_seq and the
// events), so that the destination answers exactly as the source did.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// DumpFormat and DumpVersion identify the dump's form: the header's format
// and version. A reader refuses a version newer than its own.
const (
	DumpFormat  = "crm-dump"
	DumpVersion = 1
)

// Types of dump items (DumpItem.Type), in the order a dump holds them.
const (
	DumpRecord  = "record"
	DumpHistory = "history"
	DumpEvent   = "event"
	DumpChunk   = "chunk"
	DumpSys     = "sys"
)

// DumpTypes are the item types in dump order.
var DumpTypes = []string{DumpRecord, DumpHistory, DumpEvent, DumpChunk, DumpSys}

// KindCopy is the system document (key "load") in which a loaded store
// keeps the copy it received: its id, how far it got and whether it
// finished (LoadState). It is never dumped.
const KindCopy = "copy"

const copyKey = "load"

// DumpSkipsKind reports whether system documents of a kind stay out of a
// dump: the state a backend derives from the rest (the search index's and
// the counters' progress marks) and a loaded store's copy state.
func DumpSkipsKind(kind string) bool {
	return kind == KindSearchIndex || kind == KindAggregates || kind == KindCopy
}

// DumpHeader describes a dump: the first line of a dump file.
type DumpHeader struct {
	Format  string `json:"format"`  // DumpFormat
	Version int    `json:"version"` // DumpVersion
	// CopyID names the snapshot the dump reads: the same id means the same
	// content, so a copy is resumed only from a source with its copy id.
	CopyID    string    `json:"copy_id"`
	Source    string    `json:"source"` // what was dumped, e.g. "badger /var/lib/crm"
	CreatedAt time.Time `json:"created_at"`
	// LastSeq is the source's feed position: the loaded store's LastSeq.
	LastSeq uint64 `json:"last_seq"`
	// Counts is the number of items of each type the dump holds.
	Counts map[string]int64 `json:"counts"`
}

// DumpItem is one item of a dump; Type says which fields it uses (see the
// list at the top of this file).
type DumpItem struct {
	Type   string          `json:"t"`
	Entity string          `json:"entity,omitempty"` // record, history
	ID     string          `json:"id,omitempty"`     // record, history; chunk: the file
	Kind   string          `json:"kind,omitempty"`   // sys
	Key    string          `json:"key,omitempty"`    // sys
	N      uint32          `json:"n,omitempty"`      // chunk: its number, from 0
	Data   json.RawMessage `json:"data,omitempty"`   // record, history, event, sys
	Bytes  []byte          `json:"bytes,omitempty"`  // chunk
	// Cursor is where a dump resumes to deliver what follows this item.
	Cursor DumpCursor `json:"-"`
}

// DumpCursor is a position in a dump: Items is how many items were
// delivered before it; Section and After are a hint the source that made
// the cursor may use to seek there (Badger: the last key read).
type DumpCursor struct {
	Items   int64  `json:"items"`
	Section string `json:"section,omitempty"`
	After   []byte `json:"after,omitempty"`
}

// LoadState is the copy a store is receiving or received, kept in the
// destination (KindCopy) with every loaded batch.
type LoadState struct {
	CopyID   string           `json:"copy_id"`
	Source   string           `json:"source"`
	Cursor   DumpCursor       `json:"cursor"`
	Counts   map[string]int64 `json:"counts"` // items loaded per type
	Started  time.Time        `json:"started"`
	Finished time.Time        `json:"finished,omitzero"`
	Done     bool             `json:"done"`
}

// Dumper is a store (or a dump file) that can be read as a dump.
type Dumper interface {
	// Dump reads one consistent snapshot: it calls head once with the
	// snapshot's header, then item for every item after from, in order.
	// An error from head or item stops the dump and is returned.
	Dump(ctx context.Context, from DumpCursor, head func(DumpHeader) error, item func(DumpItem) error) error
}

// Loader is a store (or a dump file being written) that can receive a dump.
//
// A store that implements it keeps the contract Badger's does: Load writes
// the items' own data as given (records' stored encoding, events with
// their positions), derives what the store derives from records (indexes,
// unique values, search, counters, counts) as a write would, and saves st
// in the same transaction (system document KindCopy, key "load"), so that
// a resumed copy starts exactly after the last batch; the feed position
// after FinishLoad is the source's, and the next write takes the next one.
type Loader interface {
	// LoadState is the copy the destination holds (nil: none started).
	LoadState(ctx context.Context) (*LoadState, error)
	// StartLoad begins a copy: it refuses a destination that is not empty.
	StartLoad(ctx context.Context, h DumpHeader) error
	// Load stores a batch of items and st (the cursor after them and the
	// counts so far) together. Loading an item again is harmless.
	Load(ctx context.Context, items []DumpItem, st LoadState) error
	// FinishLoad completes the copy: the feed position is at least
	// h.LastSeq and the state is marked done.
	FinishLoad(ctx context.Context, h DumpHeader, st LoadState) error
}

// ErrNotEmpty is returned by StartLoad for a destination that holds data.
var ErrNotEmpty = errors.New("the destination store is not empty")

// Progress is how far a Copy got: items copied and in all, per type.
type Progress struct {
	Source   string
	Done     map[string]int64
	Total    map[string]int64
	Resumed  bool // the copy continued one a previous run began
	Finished bool
}

// Copy batch limits: a batch is loaded (and its cursor saved) in one
// transaction of the destination.
const (
	copyBatchItems = 256
	copyBatchBytes = 1 << 20
)

// Copy copies everything src holds into dst, in batches, calling progress
// after each. A copy that was cut short (killed, cancelled) continues
// where the destination's stored cursor says, provided the source still
// has the same content (copy id); a finished copy is not done again.
func Copy(ctx context.Context, src Dumper, dst Loader, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	prev, err := dst.LoadState(ctx)
	if err != nil {
		return fmt.Errorf("copy: read the destination's state: %w", err)
	}
	st := LoadState{Counts: map[string]int64{}}
	var from DumpCursor
	if prev != nil {
		st = *prev
		st.Counts = maps.Clone(prev.Counts)
		if st.Counts == nil {
			st.Counts = map[string]int64{}
		}
		from = prev.Cursor
	}
	var hdr DumpHeader
	var batch []DumpItem
	size := 0
	report := func(finished bool) {
		progress(Progress{Source: hdr.Source, Done: maps.Clone(st.Counts), Total: hdr.Counts, Resumed: prev != nil, Finished: finished})
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		st.Cursor = batch[len(batch)-1].Cursor
		if err := dst.Load(ctx, batch, st); err != nil {
			return fmt.Errorf("copy: load items %d to %d: %w", batch[0].Cursor.Items, st.Cursor.Items, err)
		}
		batch, size = batch[:0], 0
		report(false)
		return nil
	}
	done := errors.New("already copied")
	head := func(h DumpHeader) error {
		hdr = h
		switch {
		case prev == nil:
			if err := dst.StartLoad(ctx, h); err != nil {
				return err
			}
			st.CopyID, st.Source, st.Started = h.CopyID, h.Source, time.Now().UTC()
		case prev.CopyID != h.CopyID:
			state := "an unfinished"
			if prev.Done {
				state = "a finished"
			}
			return fmt.Errorf("%w: it holds %s copy of %s (copy %s), and this source is %s (copy %s); start again with an empty destination",
				ErrNotEmpty, state, prev.Source, prev.CopyID, h.Source, h.CopyID)
		case prev.Done:
			return done
		}
		report(false)
		return nil
	}
	item := func(it DumpItem) error {
		batch = append(batch, it)
		st.Counts[it.Type]++
		size += len(it.Data) + len(it.Bytes) + 64
		if len(batch) >= copyBatchItems || size >= copyBatchBytes {
			return flush()
		}
		return nil
	}
	err = src.Dump(ctx, from, head, item)
	if errors.Is(err, done) {
		report(true)
		return nil
	}
	if err == nil && hdr.Format == "" {
		err = errors.New("copy: the source gave no header")
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if err := dst.FinishLoad(ctx, hdr, st); err != nil {
		return fmt.Errorf("copy: finish: %w", err)
	}
	report(true)
	return nil
}

// VerifyDump reads a whole dump without loading it, checking every item;
// it returns the header and the items per type.
func VerifyDump(ctx context.Context, src Dumper) (DumpHeader, map[string]int64, error) {
	var h DumpHeader
	counts := map[string]int64{}
	err := src.Dump(ctx, DumpCursor{}, func(x DumpHeader) error { h = x; return nil },
		func(it DumpItem) error { counts[it.Type]++; return nil })
	return h, counts, err
}

var (
	dumpNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dumpKindRe = regexp.MustCompile(`^[a-z0-9_:.-]+$`)
)

// Check checks an item's shape: its type, the fields its type needs, and
// its data as its type's JSON.
func (it *DumpItem) Check() error {
	needID := func() error {
		if !ValidID(it.ID) {
			return fmt.Errorf("%s: id %q is not a record or file id", it.Type, it.ID)
		}
		return nil
	}
	needEntity := func() error {
		if !dumpNameRe.MatchString(it.Entity) {
			return fmt.Errorf("%s: entity %q is not an entity name", it.Type, it.Entity)
		}
		return needID()
	}
	switch it.Type {
	case DumpRecord:
		if err := needEntity(); err != nil {
			return err
		}
		var env envelope
		if err := json.Unmarshal(it.Data, &env); err != nil {
			return fmt.Errorf("record %s %s: data: %w", it.Entity, it.ID, err)
		}
		if env.Version < 1 {
			return fmt.Errorf("record %s %s: data has no version", it.Entity, it.ID)
		}
	case DumpHistory:
		if err := needEntity(); err != nil {
			return err
		}
		var h HistoryEntry
		if err := json.Unmarshal(it.Data, &h); err != nil {
			return fmt.Errorf("history of %s %s: data: %w", it.Entity, it.ID, err)
		}
		if h.Seq == 0 {
			return fmt.Errorf("history of %s %s: data has no seq", it.Entity, it.ID)
		}
	case DumpEvent:
		var e Event
		if err := json.Unmarshal(it.Data, &e); err != nil {
			return fmt.Errorf("event: data: %w", err)
		}
		if e.Seq == 0 {
			return errors.New("event: data has no seq")
		}
	case DumpChunk:
		if err := needID(); err != nil {
			return err
		}
		if len(it.Bytes) == 0 || len(it.Bytes) > fileChunk {
			return fmt.Errorf("chunk %d of file %s: %d bytes, want 1 to %d", it.N, it.ID, len(it.Bytes), fileChunk)
		}
	case DumpSys:
		if !dumpKindRe.MatchString(it.Kind) {
			return fmt.Errorf("sys: kind %q is not a document kind", it.Kind)
		}
		if !json.Valid(it.Data) {
			return fmt.Errorf("sys %s %s: data is not JSON", it.Kind, it.Key)
		}
	default:
		return fmt.Errorf("unknown item type %q (want one of %s)", it.Type, strings.Join(DumpTypes, ", "))
	}
	return nil
}

// dumpSection is one part of a Badger dump: the keys under a prefix.
type dumpSection struct {
	typ    string
	prefix string
}

var dumpSections = []dumpSection{
	{DumpRecord, prefixRecord},
	{DumpHistory, prefixHistory},
	{DumpEvent, prefixOutbox},
	{DumpChunk, prefixBlob},
	{DumpSys, prefixSys},
}

// Dump reads the store in one read transaction, a consistent snapshot even
// while the store is written. Its copy id is the snapshot's feed position
// and Badger read timestamp: both stay the same while nothing is written,
// across restarts too.
func (s *Badger) Dump(ctx context.Context, from DumpCursor, head func(DumpHeader) error, item func(DumpItem) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		seq, err := getUint64(txn, seqKey)
		if err != nil {
			return err
		}
		h := DumpHeader{Format: DumpFormat, Version: DumpVersion, Source: "badger " + s.db.Opts().Dir,
			CopyID: fmt.Sprintf("badger:%d:%d", seq, txn.ReadTs()), CreatedAt: time.Now().UTC(), LastSeq: seq,
			Counts: map[string]int64{}}
		for _, sec := range dumpSections {
			err := s.dumpSection(ctx, txn, sec, nil, false, func(_ []byte, it DumpItem) error {
				h.Counts[it.Type]++
				return nil
			})
			if err != nil {
				return err
			}
		}
		if err := head(h); err != nil {
			return err
		}
		n := from.Items
		start := 0
		if from.Section != "" {
			start = slices.IndexFunc(dumpSections, func(d dumpSection) bool { return d.typ == from.Section })
			if start < 0 {
				return fmt.Errorf("dump: cursor names an unknown section %q", from.Section)
			}
		} else if from.Items > 0 {
			return fmt.Errorf("dump: cursor at item %d without a section: it was not made by a Badger dump", from.Items)
		}
		for _, sec := range dumpSections[start:] {
			var after []byte
			if sec.typ == from.Section {
				after = from.After
			}
			err := s.dumpSection(ctx, txn, sec, after, true, func(suffix []byte, it DumpItem) error {
				n++
				it.Cursor = DumpCursor{Items: n, Section: sec.typ, After: suffix}
				return item(it)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// dumpSection walks the keys of one section after the key suffix after
// (nil: from its start), calling fn with each item; without values, only
// the item's type is set (for counting).
func (s *Badger) dumpSection(ctx context.Context, txn *badger.Txn, sec dumpSection, after []byte, values bool, fn func(suffix []byte, it DumpItem) error) error {
	p := []byte(sec.prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: values, PrefetchSize: 16})
	defer it.Close()
	seek := p
	if after != nil {
		seek = append(bytes.Clone(p), after...)
	}
	lastFile, lastHeld := "", false
	for it.Seek(seek); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := it.Item().Key()
		suffix := key[len(p):]
		if after != nil && bytes.Equal(suffix, after) {
			continue
		}
		d := DumpItem{Type: sec.typ}
		switch sec.typ {
		case DumpRecord:
			i := bytes.IndexByte(suffix, '/')
			if i < 0 {
				continue
			}
			d.Entity, d.ID = string(suffix[:i]), string(suffix[i+1:])
		case DumpHistory:
			i := bytes.IndexByte(suffix, '/')
			if i < 0 || len(suffix) < i+1+idLen+9 {
				continue
			}
			d.Entity, d.ID = string(suffix[:i]), string(suffix[i+1:len(suffix)-9])
		case DumpChunk:
			if len(suffix) != idLen+5 {
				continue
			}
			d.ID, d.N = string(suffix[:idLen]), binary.BigEndian.Uint32(suffix[idLen+1:])
			if d.ID != lastFile { // chunks without metadata (a cut-off upload) are left behind
				lastFile = d.ID
				_, err := txn.Get(sysKey(KindFile, d.ID))
				if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
					return fmt.Errorf("dump: read file %s: %w", d.ID, err)
				}
				lastHeld = err == nil
			}
			if !lastHeld {
				continue
			}
		case DumpSys:
			i := bytes.IndexByte(suffix, '/')
			if i < 0 {
				continue
			}
			d.Kind, d.Key = string(suffix[:i]), string(suffix[i+1:])
			if DumpSkipsKind(d.Kind) {
				continue
			}
		}
		if values {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("dump: read %q: %w", key, err)
			}
			if sec.typ == DumpChunk {
				d.Bytes = v
			} else {
				d.Data = v
			}
		}
		if err := fn(bytes.Clone(suffix), d); err != nil {
			return err
		}
	}
	return nil
}

// LoadState returns the copy this store received (nil: none).
func (s *Badger) LoadState(ctx context.Context) (*LoadState, error) {
	var st LoadState
	err := s.SysView(ctx, func(tx SysTx) error { return tx.Get(KindCopy, copyKey, &st) })
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read copy state: %w", err)
	}
	return &st, nil
}

// StartLoad checks that the store is empty (no records, history, events,
// files or system documents other than its own derived state) and records
// the copy it begins, in one write.
func (s *Badger) StartLoad(ctx context.Context, h DumpHeader) error {
	if h.Format != DumpFormat || h.Version < 1 || h.Version > DumpVersion {
		return fmt.Errorf("load: format %q version %d: want %q version 1 to %d", h.Format, h.Version, DumpFormat, DumpVersion)
	}
	// The search backfill of a store just opened writes its marks, which
	// the check below reads: it finishes first, so that neither conflicts.
	select {
	case <-s.searchReady:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The check reads in a transaction of its own: the writer's would
	// conflict with the backfills' writes of their marks.
	var what string
	if err := s.db.View(func(txn *badger.Txn) error { what = s.holds(txn); return nil }); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if what != "" {
		return fmt.Errorf("%w: it holds %s", ErrNotEmpty, what)
	}
	return s.SysUpdate(ctx, func(tx SysTx) error {
		var prev LoadState
		if err := tx.Get(KindCopy, copyKey, &prev); err == nil {
			return fmt.Errorf("%w: it holds a copy of %s", ErrNotEmpty, prev.Source)
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		return tx.Put(KindCopy, copyKey, LoadState{CopyID: h.CopyID, Source: h.Source, Counts: map[string]int64{}, Started: time.Now().UTC()})
	})
}

// holds names the first thing a store holds that a load would add to, or
// "" for an empty store.
func (s *Badger) holds(txn *badger.Txn) string {
	for _, sec := range dumpSections {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(sec.prefix)})
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if sec.typ == DumpSys {
				kind, _, _ := strings.Cut(string(k[len(sec.prefix):]), "/")
				if DumpSkipsKind(kind) {
					continue
				}
			}
			it.Close()
			return fmt.Sprintf("%s data (%q)", sec.typ, k[:min(len(k), 40)])
		}
		it.Close()
	}
	if seq, _ := getUint64(txn, seqKey); seq > 0 {
		return fmt.Sprintf("a change feed at position %d", seq)
	}
	return ""
}

// Load stores a batch of items in one write, with the derived state a
// write keeps (indexes, unique values, the search index, counters, record
// counts, the feed position) and st. Loading a record again moves its
// derived state from what is stored, so a repeated batch changes nothing.
//
// Load must be the destination's only writer while it runs (crm restore
// and crm migrate open the destination alone): record counts and the feed
// position are set from the stored values. A batch too large for one
// transaction is split.
func (s *Badger) Load(ctx context.Context, items []DumpItem, st LoadState) error {
	for i := range items {
		if err := items[i].Check(); err != nil {
			return fmt.Errorf("item %d: %w", items[i].Cursor.Items, err)
		}
	}
	return s.load(ctx, items, st)
}

// load is Load of checked items.
func (s *Badger) load(ctx context.Context, items []DumpItem, st LoadState) error {
	size := 0
	for i := range items {
		size += len(items[i].Data) + len(items[i].Bytes)
	}
	var counts map[string]int64
	var maxSeq uint64
	err := errLoadTooBig
	if size <= maxBatchBytes || len(items) == 1 {
		err = s.SysUpdate(ctx, func(tx SysTx) error {
			bt, ok := tx.(*bufferedSys)
			if !ok {
				return errors.New("load: not inside the writer")
			}
			var err error
			counts, maxSeq, err = s.planLoad(bt, items)
			if err != nil {
				return err
			}
			return tx.Put(KindCopy, copyKey, st)
		})
	}
	if (errors.Is(err, errLoadTooBig) || errors.Is(err, badger.ErrTxnTooBig)) && len(items) > 1 {
		half := len(items) / 2
		first := st
		first.Cursor = items[half-1].Cursor
		first.Counts = maps.Clone(st.Counts)
		for _, it := range items[half:] {
			first.Counts[it.Type]--
		}
		if err := s.load(ctx, items[:half], first); err != nil {
			return err
		}
		return s.load(ctx, items[half:], st)
	}
	if err != nil {
		return err
	}
	for entity, d := range counts {
		s.counter(entity).Add(d)
	}
	s.raiseSeq(maxSeq)
	return nil
}

// errLoadTooBig is a batch whose items alone exceed what the writer puts
// in one transaction: Load splits it without trying.
var errLoadTooBig = errors.New("load: batch too big for one transaction")

// raiseSeq moves the in-memory feed position up to seq.
func (s *Badger) raiseSeq(seq uint64) {
	for {
		cur := s.seq.Load()
		if seq <= cur || s.seq.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// planLoad adds the mutations of a batch of items to bt: the items' own
// keys, then the derived state. It returns the record count changes and
// the highest event position.
func (s *Badger) planLoad(bt *bufferedSys, items []DumpItem) (map[string]int64, uint64, error) {
	txn := bt.txn
	counts := map[string]int64{}
	acc := map[string]*aggAcc{}
	seen := map[string]*Record{} // records of this batch, as loaded
	var maxSeq uint64
	put := func(k, v []byte) { bt.muts = append(bt.muts, mutation{key: k, val: v}) }
	for _, it := range items {
		switch it.Type {
		case DumpRecord:
			ent := s.schema.Entity(it.Entity)
			if ent == nil {
				return nil, 0, fmt.Errorf("record %s %s: the destination's schema has no entity %q", it.Entity, it.ID, it.Entity)
			}
			rec, err := decodeRecord(ent, it.ID, it.Data)
			if err != nil {
				return nil, 0, fmt.Errorf("record %s %s: %w", it.Entity, it.ID, err)
			}
			rec.Entity = ent.Name
			k := it.Entity + "/" + it.ID
			old, ok := seen[k]
			if !ok {
				old, err = s.getRecord(txn, ent.Name, it.ID)
				if errors.Is(err, ErrNotFound) {
					old, err = nil, nil
				}
				if err != nil {
					return nil, 0, err
				}
			}
			idx, err := s.indexMutations(txn, ent, old, rec)
			if err != nil {
				return nil, 0, fmt.Errorf("record %s %s: %w", it.Entity, it.ID, err)
			}
			bt.muts = append(bt.muts, idx...)
			bt.muts = append(bt.muts, s.searchMutations(ent, old, rec)...)
			for _, m := range s.aggregateMutations(ent, old, rec) {
				addAcc(acc, m.key, m.add)
			}
			if old == nil {
				counts[ent.Name]++
			}
			seen[k] = rec
			put(recordKey(ent.Name, it.ID), bytes.Clone(it.Data))
		case DumpHistory:
			var h HistoryEntry
			if err := json.Unmarshal(it.Data, &h); err != nil {
				return nil, 0, fmt.Errorf("history of %s %s: %w", it.Entity, it.ID, err)
			}
			put(historyKey(it.Entity, it.ID, h.Seq), bytes.Clone(it.Data))
		case DumpEvent:
			var e Event
			if err := json.Unmarshal(it.Data, &e); err != nil {
				return nil, 0, fmt.Errorf("event: %w", err)
			}
			maxSeq = max(maxSeq, e.Seq)
			put(outboxKey(e.Seq), bytes.Clone(it.Data))
		case DumpChunk:
			put(fileChunkKey(it.ID, it.N), bytes.Clone(it.Bytes))
		case DumpSys:
			if DumpSkipsKind(it.Kind) {
				continue
			}
			bt.add(sysKey(it.Kind, it.Key), bytes.Clone(it.Data))
		}
	}
	for k, a := range acc {
		if a.n == 0 && a.sum.Sign() == 0 {
			continue
		}
		n, sum, err := readCounter(txn, []byte(k))
		if err != nil {
			return nil, 0, err
		}
		n += a.n
		sum.Add(sum, &a.sum)
		if n <= 0 {
			put([]byte(k), nil)
			continue
		}
		put([]byte(k), encodeCounter(n, sum))
	}
	for entity, d := range counts {
		n, err := getUint64(txn, countKey(entity))
		if err != nil {
			return nil, 0, err
		}
		put(countKey(entity), binary.BigEndian.AppendUint64(nil, uint64(int64(n)+d)))
	}
	cur, err := getUint64(txn, seqKey)
	if err != nil {
		return nil, 0, err
	}
	if maxSeq > cur {
		put(seqKey, binary.BigEndian.AppendUint64(nil, maxSeq))
	}
	return counts, maxSeq, nil
}

// FinishLoad raises the feed position to the source's and marks the copy
// done.
func (s *Badger) FinishLoad(ctx context.Context, h DumpHeader, st LoadState) error {
	st.Done, st.Finished = true, time.Now().UTC()
	err := s.SysUpdate(ctx, func(tx SysTx) error {
		bt, ok := tx.(*bufferedSys)
		if !ok {
			return errors.New("load: not inside the writer")
		}
		cur, err := getUint64(bt.txn, seqKey)
		if err != nil {
			return err
		}
		if h.LastSeq > cur {
			bt.muts = append(bt.muts, mutation{key: seqKey, val: binary.BigEndian.AppendUint64(nil, h.LastSeq)})
		}
		return tx.Put(KindCopy, copyKey, st)
	})
	if err != nil {
		return err
	}
	s.raiseSeq(h.LastSeq)
	return nil
}

// dumpEnd is the last line of a dump file: the items it holds per type.
type dumpEnd struct {
	Type   string           `json:"t"` // "end"
	Counts map[string]int64 `json:"counts"`
}

// DumpWriter writes a dump file: gzip-compressed JSON lines, the header,
// one line per item and an end line with the counts (docs/operations.md).
// It is a Loader that always starts a new file.
type DumpWriter struct {
	w      io.Writer
	gz     *gzip.Writer
	enc    *json.Encoder
	counts map[string]int64
}

// NewDumpWriter writes a dump file to w; FinishLoad completes it (w is not
// closed).
func NewDumpWriter(w io.Writer) *DumpWriter {
	return &DumpWriter{w: w, counts: map[string]int64{}}
}

// LoadState is always nil: a dump file is written whole.
func (d *DumpWriter) LoadState(context.Context) (*LoadState, error) { return nil, nil }

// StartLoad writes the header line.
func (d *DumpWriter) StartLoad(_ context.Context, h DumpHeader) error {
	d.gz = gzip.NewWriter(d.w)
	d.enc = json.NewEncoder(d.gz)
	d.enc.SetEscapeHTML(false)
	return wrapf(d.enc.Encode(h), "write dump header")
}

// Load writes one line per item.
func (d *DumpWriter) Load(_ context.Context, items []DumpItem, _ LoadState) error {
	if d.enc == nil {
		return errors.New("write dump: no header written")
	}
	for i := range items {
		if err := d.enc.Encode(&items[i]); err != nil {
			return fmt.Errorf("write dump item %d: %w", items[i].Cursor.Items, err)
		}
		d.counts[items[i].Type]++
	}
	return nil
}

// FinishLoad writes the end line and closes the compression.
func (d *DumpWriter) FinishLoad(_ context.Context, _ DumpHeader, _ LoadState) error {
	if d.enc == nil {
		return errors.New("write dump: no header written")
	}
	if err := d.enc.Encode(dumpEnd{Type: "end", Counts: d.counts}); err != nil {
		return fmt.Errorf("write dump end: %w", err)
	}
	return wrapf(d.gz.Close(), "write dump")
}

// maxDumpLine bounds one line of a dump file (a chunk's line is about
// 700 KB).
const maxDumpLine = 64 << 20

// DumpReader reads a dump file written by DumpWriter; it is a Dumper.
// Errors name the file and the line.
type DumpReader struct {
	name string
	open func() (io.ReadCloser, error)
}

// OpenDumpFile reads the dump file at path, opened anew by every Dump (so
// that one can verify it, then load it).
func OpenDumpFile(path string) *DumpReader {
	return &DumpReader{name: path, open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// NewDumpReader reads a dump from r, once; name is for errors.
func NewDumpReader(name string, r io.Reader) *DumpReader {
	var used atomic.Bool
	return &DumpReader{name: name, open: func() (io.ReadCloser, error) {
		if used.Swap(true) {
			return nil, fmt.Errorf("%s can be read once", name)
		}
		return io.NopCloser(r), nil
	}}
}

// Dump reads the file: it checks the header, every item and the end line
// (the counts, and that nothing follows), and calls item for the items
// after from.Items. The copy id is the file's ("file:" and the source's).
func (d *DumpReader) Dump(ctx context.Context, from DumpCursor, head func(DumpHeader) error, item func(DumpItem) error) error {
	f, err := d.open()
	if err != nil {
		return fmt.Errorf("read dump: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: not a gzip-compressed crm dump: %w", d.name, err)
	}
	br := bufio.NewReaderSize(gz, 1<<20)
	line := 0
	var buf []byte
	next := func() ([]byte, error) {
		line++
		buf = buf[:0]
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if len(buf) > maxDumpLine {
				return nil, fmt.Errorf("%s line %d: longer than %d bytes", d.name, line, maxDumpLine)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) && len(buf) == 0 {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s line %d: cut off (no end of line): the file is truncated", d.name, line)
			}
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w (the file is truncated or corrupt)", d.name, line, err)
			}
			return buf, nil
		}
	}
	b, err := next()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty: no header line", d.name)
	}
	if err != nil {
		return err
	}
	var h DumpHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("%s line 1: not a crm dump header: %w", d.name, err)
	}
	if h.Format != DumpFormat {
		return fmt.Errorf("%s line 1: format %q, want %q", d.name, h.Format, DumpFormat)
	}
	if h.Version < 1 || h.Version > DumpVersion {
		return fmt.Errorf("%s line 1: dump version %d; this crm reads versions 1 to %d", d.name, h.Version, DumpVersion)
	}
	h.CopyID = "file:" + h.CopyID
	h.Source = "file " + d.name + " (" + h.Source + ")"
	if err := head(h); err != nil {
		return err
	}
	counts := map[string]int64{}
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: truncated after line %d: no end line", d.name, line-1)
		}
		if err != nil {
			return err
		}
		var it struct {
			DumpItem
			Counts map[string]int64 `json:"counts"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("%s line %d: %w", d.name, line, err)
		}
		if it.Type == "end" {
			if !maps.Equal(it.Counts, counts) {
				return fmt.Errorf("%s line %d: the end line counts %v items, the file holds %v", d.name, line, it.Counts, counts)
			}
			if _, err := next(); !errors.Is(err, io.EOF) {
				if err != nil {
					return err
				}
				return fmt.Errorf("%s line %d: data after the end line", d.name, line)
			}
			return nil
		}
		if err := it.DumpItem.Check(); err != nil {
			return fmt.Errorf("%s line %d: %w", d.name, line, err)
		}
		counts[it.Type]++
		n++
		if n <= from.Items {
			continue
		}
		it.DumpItem.Cursor = DumpCursor{Items: n}
		if err := item(it.DumpItem); err != nil {
			return err
		}
	}
}
