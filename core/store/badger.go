package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/core/schema"
	badger "github.com/dgraph-io/badger/v4"
)

// Options tunes the Badger backend.
type Options struct {
	// Logger receives Badger's own warnings and the store's events; nil for slog.Default().
	Logger *slog.Logger
	// NoSync turns off the fsync of every commit. Acknowledged writes may then
	// be lost on a power cut or kill -9; only benchmarks of the sync cost use it.
	NoSync bool
	// InMemory keeps everything in memory (for benchmarks' baselines only).
	InMemory bool
	// FileGrace is how old a file no record holds must be before the
	// collector removes it (default DefaultFileGrace); FileSweepEvery is
	// how often the collector runs (default DefaultFileSweepEvery).
	FileGrace, FileSweepEvery time.Duration
}

// Badger is the embedded Store backend.
type Badger struct {
	db     *badger.DB
	schema *schema.Schema
	log    *slog.Logger

	writes chan *writeOp
	stop   chan struct{}
	wg     sync.WaitGroup

	closeMu sync.RWMutex
	closed  bool

	seq    atomic.Uint64
	counts sync.Map            // entity -> *atomic.Int64
	aggs   map[string]*aggSpec // entity -> what its counters count (aggregates.go)

	commitMu sync.Mutex
	commitCh chan struct{} // closed and replaced at every commit

	searchReady chan struct{} // closed when the search backfill is done
}

var _ Store = (*Badger)(nil)

// OpenBadger opens (or creates) the store in dir for the given schema.
// Every commit is fsynced before it is acknowledged unless opts.NoSync.
func OpenBadger(dir string, sch *schema.Schema, opts Options) (*Badger, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(!opts.NoSync).
		WithLogger(badgerLogger{log}).
		WithNumVersionsToKeep(1).
		WithCompactL0OnClose(true).
		WithInMemory(opts.InMemory).
		// Memory (issue 15, point 5). Badger's defaults take up to 5 memtables
		// of 64 MiB, a 256 MiB block cache that a scan of a large entity fills,
		// and every table's index and bloom filter unbounded in memory. These
		// bound Badger's own share to about 32*2 + 32 + 16 MiB. The memtable
		// stays at 32 MiB because a transaction may hold 15% of it (4.8 MiB)
		// and the writer groups up to maxBatchBytes (4 MiB) in one. Cost,
		// measured with core/store BenchmarkCreate and core/benchmarks: see
		// the commit message; reads of a hot working set larger than 32 MiB
		// go to the OS page cache (the tables are mmapped) and decompress again.
		// Two compactors instead of four: each compaction builds up to 8+
		// tables at once in memory (uncompressed and compressed), which
		// held 216 MB of heap while 100k contacts were created over HTTP;
		// with two the peak RSS fell from 1067 to 413 MB (with crm serve's
		// memory limit, app.DefaultMemoryLimit) and creates did not slow.
		WithMemTableSize(32 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2)
	// Every level's tables at BaseTableSize (2 MiB), where Badger doubles
	// them per level below the base level (to 64 MiB at L6). A compaction
	// builds its tables in memory, about twice each table's size with the
	// compressed copy, up to 8 and more at once: in a heap profile after
	// 150k contacts were created (core/benchmarks BenchmarkMemoryProfile),
	// compactions' table builders held 216 MB of a 320 MB heap. Cost: about 4 times as many files at the deepest levels
	// (each mmapped, with its own index in the index cache).
	bo.TableSizeMultiplier = 1
	if opts.InMemory {
		bo = bo.WithDir("").WithValueDir("")
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Badger{
		db:       db,
		schema:   sch,
		log:      log,
		writes:   make(chan *writeOp, 1024),
		stop:     make(chan struct{}),
		commitCh: make(chan struct{}),
		aggs:     aggregateSpecs(sch),

		searchReady: make(chan struct{}),
	}
	if err := s.loadMeta(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if err := s.backfillAggregates(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	pending, err := s.prepareSearch()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.wg.Add(4)
	go s.backfillSearch(pending)
	go s.writer()
	go s.gcLoop()
	go s.fileCollector(cmp.Or(opts.FileGrace, DefaultFileGrace), cmp.Or(opts.FileSweepEvery, DefaultFileSweepEvery))
	return s, nil
}

func (s *Badger) loadMeta() error {
	return s.view(func(txn *badger.Txn) error {
		seq, err := getUint64(txn, seqKey)
		if err != nil {
			return err
		}
		s.seq.Store(seq)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixCount), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			entity := string(it.Item().Key()[len(prefixCount):])
			v, err := it.Item().ValueCopy(nil)
			if err != nil || len(v) != 8 {
				return fmt.Errorf("read count of %s: bad value", entity)
			}
			s.counter(entity).Store(int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
}

func getUint64(txn *badger.Txn, key []byte) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("read %s: want 8 bytes, got %d", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func (s *Badger) counter(entity string) *atomic.Int64 {
	c, _ := s.counts.LoadOrStore(entity, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// Close stops the writer after it has committed every write already queued,
// and closes the database.
func (s *Badger) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.closeMu.Unlock()
	s.wg.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// isClosed reports whether Close was called.
func (s *Badger) isClosed() bool {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	return s.closed
}

// view runs fn in a read transaction; after Close (or while it runs) it
// is ErrClosed, as every call made after Close is.
func (s *Badger) view(fn func(txn *badger.Txn) error) error {
	if s.isClosed() {
		return ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, badger.ErrDBClosed) {
		return ErrClosed
	}
	return err
}

// gcLoop runs Badger's value-log garbage collection every few minutes.
func (s *Badger) gcLoop() {
	defer s.wg.Done()
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for s.db.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// Schema is the schema the store was opened with.
func (s *Badger) Schema() *schema.Schema { return s.schema }

// LastSeq returns the position of the last committed write.
func (s *Badger) LastSeq() uint64 { return s.seq.Load() }

// Head is LastSeq: one process owns a Badger store, so what it has seen
// is what has committed (store.FeedHead).
func (s *Badger) Head(context.Context) (uint64, error) { return s.seq.Load(), nil }

// Committed returns a channel that is closed at the next commit; consumers
// of the change feed wait on it instead of polling.
func (s *Badger) Committed() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.commitCh
}

func (s *Badger) signalCommit() {
	s.commitMu.Lock()
	close(s.commitCh)
	s.commitCh = make(chan struct{})
	s.commitMu.Unlock()
}

// Counts returns the number of live records per entity.
func (s *Badger) Counts() map[string]int64 {
	out := map[string]int64{}
	s.counts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Size returns the size of the LSM tree and value log on disk, in bytes.
func (s *Badger) Size() int64 {
	lsm, vlog := s.db.Size()
	return lsm + vlog
}

// Get returns the current version of a record, or ErrNotFound.
func (s *Badger) Get(ctx context.Context, entity, id string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rec *Record
	err := s.view(func(txn *badger.Txn) error {
		var err error
		rec, err = s.getRecord(txn, entity, id)
		return err
	})
	return rec, err
}

func (s *Badger) getRecord(txn *badger.Txn, entity, id string) (*Record, error) {
	ent := s.schema.Entity(entity)
	if ent == nil {
		return nil, ErrNotFound
	}
	item, err := txn.Get(recordKey(entity, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", entity, id, err)
	}
	var rec *Record
	err = item.Value(func(v []byte) error {
		var err error
		rec, err = decodeRecord(ent, id, v)
		return err
	})
	return rec, err
}

// History returns every history entry of a record, oldest first, also for a
// deleted record.
func (s *Badger) History(ctx context.Context, entity, id string) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: historyPrefix(entity, id), PrefetchValues: true, PrefetchSize: 50})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
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

// Events returns up to limit outbox events after the given position.
func (s *Badger) Events(ctx context.Context, after uint64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []Event
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: outboxPrefix, PrefetchValues: true})
		defer it.Close()
		for it.Seek(outboxKey(after + 1)); it.Valid() && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var e Event
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// badgerLogger sends Badger's log lines to slog; its info and debug chatter
// is dropped.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("badger", slog.String("msg", fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("badger", slog.String("msg", fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Infof(string, ...any)  {}
func (l badgerLogger) Debugf(string, ...any) {}
