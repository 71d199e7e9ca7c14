// Package postgres is the PostgreSQL implementation of store.Store, for
// running several crm nodes on one database. It keeps the invariants of
// the embedded Badger store (package store): a write's record, history
// entry and outbox event commit in one transaction; unique values, refs
// and versions are decided inside that transaction; the change feed is
// dense and ordered by commit.
//
// # Tables
//
//	crm_records  one row per live record (layout in package sqlfilter): data is
//	             the field values in API JSON form, enc the record in package
//	             store's own encoding (store.EncodeRecord), search its folded
//	             search tokens (" tok1 tok2 ")
//	crm_history  one row per write of a record: (entity, id, seq) -> HistoryEntry JSON
//	crm_outbox   the change feed: seq -> Event JSON (After/Before in store's encoding)
//	crm_feed     one row: the last position given out
//	crm_counts   live records per entity
//	crm_unique   (entity, field, value) -> the id of the record that holds a unique value
//	crm_sys      system documents (kind, key) -> jsonb; idempotency keys are kind "idem"
//	crm_files    file chunks (id, n) -> bytea; a file's metadata is the sys document file/{id}
//
// Per-entity indexes over sqlfilter.FieldExpr cover every field that the
// Badger store indexes (index, unique, ref, user and file fields, owner),
// so translated filters, sorts and reference lookups use them; an indexed
// string or money field has a second over its sort expression (sortExpr).
//
// # Feed order across nodes
//
// A write takes its feed positions at the end of its transaction: after
// every check and record row, UPDATE crm_feed SET seq = seq + n RETURNING
// seq, then only the history and outbox rows that carry those positions
// and the notify, none of which can wait on another transaction. The row
// lock of crm_feed is held until the transaction commits, so a second
// writer waits there and reads the first one's value only once the first
// has committed (write transactions are READ COMMITTED, so the waiting
// UPDATE sees the committed row). Positions are therefore handed out in
// commit order: a reader that has seen position N (in crm_outbox, or in a
// list's Page.Seq, which reads crm_feed in the same snapshot as the page)
// never later finds a smaller one, on any node; and a rolled-back write
// gives its positions back, so the feed stays dense. The price is that
// the tail of every write runs under one global lock; everything before
// it (checks, record rows, unique values) runs concurrently.
//
// Each write transaction also sends pg_notify('crm_commit', seq); every
// Store listens on a dedicated connection, so Committed and LastSeq follow
// the commits of other processes too.
//
// # Concurrency of the other invariants
//
//   - Unique values: crm_unique's primary key (entity, field, value); a
//     writer inserts the value and, when another transaction holds it,
//     waits for that one to end, so of concurrent writers one wins and
//     the others get a ConflictError (duplicate, Field). A side table
//     rather than a UNIQUE index on the records keeps a schema change
//     that makes a field unique from failing on old duplicates.
//   - References: a write reads the records, users and files it names
//     FOR KEY SHARE and a delete locks its record FOR UPDATE before it
//     looks for references, so a reference and the delete of its target
//     cannot both commit.
//   - Conditional creates (CreateRequest.Unless) of one entity take turns
//     on a transaction advisory lock; a plain create concurrent with them
//     is not held back (the Badger store serialises every write).
//   - SysUpdate runs SERIALIZABLE and again after a serialization failure,
//     so a read-modify-write of a document is safe across nodes.
//   - A transaction that fails to serialize or deadlocks runs again; a
//     Check may therefore run more than once.
//
// # Where it answers differently from the Badger store
//
//   - Count is always exact and Totals takes any filter: what sqlfilter.Where
//     translates exactly is counted and summed (numeric, exact) by the
//     database, the rest is read and evaluated in Go; there is no scan limit.
//   - Page.Plan is "sql" (the database found the page) or "sql+go filter"
//     (the filter was evaluated in Go on the rows the database narrowed).
//   - A record's created_at and updated_at are kept to the microsecond,
//     PostgreSQL's precision (the store truncates them when it writes, so
//     Get, List and the feed agree). Datetime fields are kept exactly in
//     the stored form (enc) and data's text; their SQL timestamptz,
//     which filters and the index use, is rounded to the microsecond, so
//     filters narrow by it and decide the edge in Go (sqlfilter), and a
//     sort breaks its ties by the exact text (nanoText): lists order
//     datetimes by their nanoseconds, as the Badger store does.
package postgres

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
)

// notifyChannel is the LISTEN/NOTIFY channel of commits; the payload is
// the last feed position of the transaction.
const notifyChannel = "crm_commit"

// migrationLock is the pg_advisory_lock key held while a node migrates,
// so that nodes starting together do not race on DDL.
const migrationLock = 0x63726d_6d6967 // "crm mig"

// Options tunes the PostgreSQL backend.
type Options struct {
	// Logger receives the store's events; nil for slog.Default().
	Logger *slog.Logger
	// MaxConns bounds the connection pool (0: the URL's pool_max_conns,
	// else DefaultMaxConns). A callback that reads the store while it
	// holds a connection (a write's Check, a SysList or SysView function)
	// takes a second one, so the pool must be larger than the number of
	// such callbacks that may run at once.
	MaxConns int32
	// FileGrace is how old a file no record holds must be before the
	// collector removes it (default store.DefaultFileGrace); FileSweepEvery
	// is how often each node's collector runs (default
	// store.DefaultFileSweepEvery). Collectors on several nodes may run at
	// once: each removal is decided in its own transaction.
	FileGrace, FileSweepEvery time.Duration
}

// DefaultMaxConns is the size of the connection pool when neither
// Options.MaxConns nor the URL's pool_max_conns sets it (pgxpool's own
// default, the number of CPUs but at least 4, is too few for callbacks
// that read the store while a transaction holds a connection).
const DefaultMaxConns = 32

// Store is the PostgreSQL Store backend.
type Store struct {
	pool   *pgxpool.Pool
	schema *schema.Schema
	log    *slog.Logger

	seq      atomic.Uint64
	commitMu sync.Mutex
	commitCh chan struct{} // closed and replaced at every commit seen

	stop   context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	searchReady chan struct{}

	// retrying holds a transaction run again after a serialization
	// failure or deadlock (one token): this node's losers of a contention
	// run one at a time, so a hot document does not starve them.
	retrying chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a PostgreSQL URL or DSN), creates
// or updates the tables and the schema's indexes, and starts listening
// for commits.
func Open(ctx context.Context, url string, sch *schema.Schema, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	// Timestamps as text (cursors) in UTC whatever the server's setting.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	s := &Store{pool: pool, schema: sch, log: log, commitCh: make(chan struct{}), searchReady: make(chan struct{}), retrying: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	var seq int64
	if err := pool.QueryRow(ctx, `SELECT seq FROM crm_feed`).Scan(&seq); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store: read feed position: %w", err)
	}
	s.seq.Store(uint64(seq))
	close(s.searchReady) // the search column is kept by every write: nothing to backfill
	lctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	ready := make(chan struct{})
	s.wg.Add(2)
	go s.listen(lctx, cfg.ConnConfig.Copy(), ready)
	go s.fileCollector(lctx, cmp.Or(opts.FileGrace, store.DefaultFileGrace), cmp.Or(opts.FileSweepEvery, store.DefaultFileSweepEvery))
	select {
	case <-ready:
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("open postgres store: %w", ctx.Err())
	}
	return s, nil
}

// tables is the DDL of the tables and their fixed indexes.
const tables = `
CREATE TABLE IF NOT EXISTS crm_records (
	entity     text NOT NULL,
	id         text COLLATE "C" NOT NULL,
	version    bigint NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	created_by text COLLATE "C" NOT NULL DEFAULT '',
	owner      text COLLATE "C" NOT NULL DEFAULT '',
	data       jsonb NOT NULL,
	enc        bytea NOT NULL,
	search     text,
	PRIMARY KEY (entity, id)
);
CREATE TABLE IF NOT EXISTS crm_history (
	entity text NOT NULL,
	id     text COLLATE "C" NOT NULL,
	seq    bigint NOT NULL,
	data   bytea NOT NULL,
	PRIMARY KEY (entity, id, seq)
);
CREATE TABLE IF NOT EXISTS crm_outbox (
	seq  bigint PRIMARY KEY,
	data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS crm_feed (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq bigint NOT NULL
);
INSERT INTO crm_feed (one, seq) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS crm_counts (
	entity text PRIMARY KEY,
	n      bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS crm_unique (
	entity text NOT NULL,
	field  text NOT NULL,
	value  text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	PRIMARY KEY (entity, field, value)
);
CREATE INDEX IF NOT EXISTS crm_unique_id ON crm_unique (entity, id);
CREATE TABLE IF NOT EXISTS crm_sys (
	kind text NOT NULL,
	key  text COLLATE "C" NOT NULL,
	data jsonb NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS crm_files (
	id   text COLLATE "C" NOT NULL,
	n    integer NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (id, n)
);
`

// migrate creates the tables, sqlfilter's functions and the indexes of
// the schema, under an advisory lock so that nodes starting at once take
// turns.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	// Wait for the lock by trying, not in pg_advisory_lock: a session
	// blocked in a statement holds a snapshot, which another node's CREATE
	// INDEX CONCURRENTLY would wait for while holding the lock.
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(migrationLock)).Scan(&got); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: wait for another node's migration: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)); err != nil {
			s.log.Error("postgres store: release the migration lock", slog.Any("err", err))
		}
	}()
	if _, err := conn.Exec(ctx, tables); err != nil {
		return fmt.Errorf("migrate: tables: %w", err)
	}
	if _, err := conn.Exec(ctx, sqlfilter.Functions); err != nil {
		return fmt.Errorf("migrate: functions: %w", err)
	}
	// Infix search uses trigrams when the extension is there (it is a
	// trusted extension since PostgreSQL 13); without it search scans.
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm`); err != nil {
		s.log.Warn("postgres store: no pg_trgm; search scans each entity's rows", slog.Any("err", err))
	} else if _, err := conn.Exec(ctx, `CREATE INDEX CONCURRENTLY IF NOT EXISTS crm_records_search ON crm_records USING gin (search gin_trgm_ops)`); err != nil {
		return fmt.Errorf("migrate: search index: %w", err)
	}
	if err := s.migrateIndexes(ctx, conn); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// indexed reports whether a field has an index (as the Badger store
// indexes it).
func indexed(f *schema.Field) bool {
	return f.Index || f.Unique || f.Type == config.TypeRef || f.Type == config.TypeUser || f.Type == config.TypeFile
}

// fieldIndex is one per-entity index of crm_records.
type fieldIndex struct {
	name string
	ddl  string
}

// fieldIndexes are the indexes of every indexed field of every entity,
// and of owner: ((FieldExpr), id) WHERE entity = 'x', which filters and
// reference lookups use. A field indexed by the schema (index, unique)
// whose sort expression (sortExpr: strings with "" as missing, money by
// minor units) is not its FieldExpr gets a second, ((sortExpr), id), so
// that its sorts walk an index too.
func (s *Store) fieldIndexes() []fieldIndex {
	var out []fieldIndex
	add := func(ent *schema.Entity, name, expr string) {
		ix := indexName(ent.Name, name, expr)
		out = append(out, fieldIndex{name: ix, ddl: fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON crm_records ((%s), id) WHERE entity = %s`,
			ix, expr, literal(ent.Name))})
	}
	for _, ent := range s.schema.Entities() {
		if expr, err := sqlfilter.FieldExpr(ent, "owner", ""); err == nil {
			add(ent, "owner", expr)
		}
		for _, f := range ent.Fields {
			if !indexed(f) {
				continue
			}
			expr, err := sqlfilter.FieldExpr(ent, f.Name, "")
			if err != nil {
				continue
			}
			add(ent, f.Name, expr)
			if sx, err := sortExpr(ent, f.Name, ""); err == nil && sx != expr && (f.Index || f.Unique) {
				add(ent, f.Name, sx)
			}
		}
	}
	return out
}

// migrateIndexes creates the schema's field indexes and drops those of
// fields no longer indexed, or whose expression changed with their type
// (an index over (data->>'f')::bigint would refuse a field that became
// text). Indexes are built CONCURRENTLY, so other nodes keep writing
// while a new indexed field's index is built; one left invalid by a build
// that failed is dropped and built again.
func (s *Store) migrateIndexes(ctx context.Context, conn *pgxpool.Conn) error {
	want := map[string]bool{}
	for _, ix := range s.fieldIndexes() {
		want[ix.name] = true
		var valid bool
		err := conn.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, ix.name).Scan(&valid)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("index %s: %w", ix.name, err)
		case !valid:
			if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{ix.name}.Sanitize()); err != nil {
				return fmt.Errorf("drop invalid index %s: %w", ix.name, err)
			}
		}
		if _, err := conn.Exec(ctx, ix.ddl); err != nil {
			return fmt.Errorf("%s: %w", ix.ddl, err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT indexname FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'crm_records' AND indexname LIKE 'crm\_x\_%'`)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for _, name := range have {
		if want[name] {
			continue
		}
		if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("drop index %s: %w", name, err)
		}
		s.log.Info("postgres store: dropped the index of a field no longer indexed so", slog.String("index", name))
	}
	return nil
}

// indexName is a valid identifier (at most 63 bytes) for the index of
// entity.field over expr: another expression gets another name.
func indexName(entity, field, expr string) string {
	sum := sha256.Sum256([]byte(entity + "\x00" + field + "\x00" + expr))
	base := "crm_x_" + entity + "_" + field
	var b strings.Builder
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 48 {
		name = name[:48]
	}
	return name + "_" + hex.EncodeToString(sum[:4])
}

// literal is a SQL string literal. Queries name their entity with one,
// not with a parameter: the per-entity indexes are partial (WHERE entity
// = 'x'), and a generic plan over a parameter could not use them.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// listen keeps a dedicated connection LISTENing for commits, moving
// LastSeq and waking Committed's waiters at each; it reconnects after a
// failure, reading the feed position again so nothing is missed.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, ready chan struct{}) {
	defer s.wg.Done()
	once := sync.Once{}
	signalReady := func() { once.Do(func() { close(ready) }) }
	defer signalReady()
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		started := time.Now()
		err := s.listenOnce(ctx, cfg, signalReady)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			wait = 100 * time.Millisecond // it had been working: retry soon
		}
		s.log.Warn("postgres store: commit listener failed; reconnecting", slog.Any("err", err), slog.Duration("in", wait))
		signalReady()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, ready func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var seq int64
	if err := conn.QueryRow(ctx, `SELECT seq FROM crm_feed`).Scan(&seq); err != nil {
		return fmt.Errorf("read feed position: %w", err)
	}
	s.advance(uint64(seq))
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		v, err := strconv.ParseUint(n.Payload, 10, 64)
		if err != nil {
			s.log.Warn("postgres store: bad commit notification", slog.String("payload", n.Payload))
			continue
		}
		s.advance(v)
	}
}

// advance records that the feed reached seq, waking Committed's waiters
// when it moved.
func (s *Store) advance(seq uint64) {
	for {
		cur := s.seq.Load()
		if seq <= cur {
			return
		}
		if s.seq.CompareAndSwap(cur, seq) {
			break
		}
	}
	s.commitMu.Lock()
	close(s.commitCh)
	s.commitCh = make(chan struct{})
	s.commitMu.Unlock()
}

// Close stops the listener and closes the connection pool.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.stop()
	s.wg.Wait()
	s.pool.Close()
	return nil
}

// Schema is the schema the store was opened with.
func (s *Store) Schema() *schema.Schema { return s.schema }

// SearchReady is closed once search answers for every record: at once,
// since every write keeps a record's search tokens.
func (s *Store) SearchReady() <-chan struct{} { return s.searchReady }

// LastSeq is the position of the last commit this store has seen: its
// own, and other nodes' as their notifications arrive.
func (s *Store) LastSeq() uint64 { return s.seq.Load() }

// Committed returns a channel closed at the next commit seen, by this
// node or another one.
func (s *Store) Committed() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.commitCh
}

// Counts returns the number of live records per entity.
func (s *Store) Counts() map[string]int64 {
	out := map[string]int64{}
	if s.closed.Load() {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT entity, n FROM crm_counts`)
	if err != nil {
		s.log.Error("postgres store: read counts", slog.Any("err", err))
		return out
	}
	for rows.Next() {
		var e string
		var n int64
		if err := rows.Scan(&e, &n); err == nil {
			out[e] = n
		}
	}
	if err := rows.Err(); err != nil {
		s.log.Error("postgres store: read counts", slog.Any("err", err))
	}
	return out
}

// Size is the size of the database on disk, in bytes.
func (s *Store) Size() int64 {
	if s.closed.Load() {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		s.log.Error("postgres store: database size", slog.Any("err", err))
		return 0
	}
	return n
}

// retryable reports a serialization failure or a deadlock: the
// transaction is run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// maxAttempts bounds the runs of one transaction that keeps failing to
// serialize.
const maxAttempts = 30

// inTx runs fn in a transaction of the given isolation, committing when
// it returns nil and running it again after a serialization failure or a
// deadlock.
func (s *Store) inTx(ctx context.Context, iso pgx.TxIsoLevel, readOnly bool, fn func(pgx.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	mode := pgx.ReadWrite
	if readOnly {
		mode = pgx.ReadOnly
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: iso, AccessMode: mode}, fn)
	if !retryable(err) {
		return err
	}
	// Run again, one retrying transaction of this node at a time: the
	// losers of a contention (many writers of one document) then do not
	// keep failing against each other, only against first attempts.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case s.retrying <- struct{}{}:
	}
	defer func() { <-s.retrying }()
	for attempt := 1; attempt < maxAttempts; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Millisecond):
			}
		}
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: iso, AccessMode: mode}, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}
