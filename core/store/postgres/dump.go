package postgres

// Dump and load (store.Dumper, store.Loader): the backend-neutral stream
// of package store (core/store/dump.go), for crm backup, crm restore and
// crm migrate between this store and the Badger store.
//
// A dump reads one REPEATABLE READ snapshot, section by section in key
// order (records by entity and id, history by entity, id and position,
// events by position, file chunks by file and number, system documents by
// kind and key); a cursor names the section and the last key delivered,
// so a resumed dump seeks past it. A load writes each batch, the derived
// state (unique values, search tokens, the data column, record counts,
// the feed position) and the copy state in one transaction.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

var (
	_ store.Dumper = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

// copyKey is the key of the KindCopy document (store's own, unexported).
const copyKey = "load"

// skippedKinds are the system document kinds a dump leaves out
// (store.DumpSkipsKind).
var skippedKinds = []string{store.KindSearchIndex, store.KindAggregates, store.KindCopy}

// dumpSection is one part of a dump: its count query and its rows query
// from the start and after a key (the key columns come first, in order).
type dumpSection struct {
	typ   string
	count string
	all   string
	after string
}

// fileHeld is the condition that a chunk's file has its metadata (the
// system document file/{id}) under alias f.
const fileHeld = `EXISTS (SELECT 1 FROM crm_sys s WHERE s.kind = 'file' AND s.key = f.id)`

var dumpSections = []dumpSection{
	{store.DumpRecord,
		`SELECT count(*) FROM crm_records`,
		`SELECT entity, id, enc FROM crm_records ORDER BY entity, id`,
		`SELECT entity, id, enc FROM crm_records WHERE (entity, id) > ($1, $2) ORDER BY entity, id`},
	{store.DumpHistory,
		`SELECT count(*) FROM crm_history`,
		`SELECT entity, id, seq, data FROM crm_history ORDER BY entity, id, seq`,
		`SELECT entity, id, seq, data FROM crm_history WHERE (entity, id, seq) > ($1, $2, $3) ORDER BY entity, id, seq`},
	{store.DumpEvent,
		`SELECT count(*) FROM crm_outbox`,
		`SELECT seq, data FROM crm_outbox ORDER BY seq`,
		`SELECT seq, data FROM crm_outbox WHERE seq > $1 ORDER BY seq`},
	// Chunks without metadata (a cut-off upload) are left behind, as the
	// Badger store's dump leaves them.
	{store.DumpChunk,
		`SELECT count(*) FROM crm_files f WHERE ` + fileHeld,
		`SELECT f.id, f.n, f.data FROM crm_files f WHERE ` + fileHeld + ` ORDER BY f.id, f.n`,
		`SELECT f.id, f.n, f.data FROM crm_files f WHERE ` + fileHeld + ` AND (f.id, f.n) > ($1, $2) ORDER BY f.id, f.n`},
	{store.DumpSys,
		`SELECT count(*) FROM crm_sys WHERE kind <> ALL($1)`,
		`SELECT kind, key, data::text FROM crm_sys WHERE kind <> ALL($1) ORDER BY kind, key`,
		`SELECT kind, key, data::text FROM crm_sys WHERE kind <> ALL($1) AND (kind, key) > ($2, $3) ORDER BY kind, key`},
}

// Dump reads the store in one read-only REPEATABLE READ transaction, a
// consistent snapshot even while other nodes write. Its copy id is the
// snapshot's feed position and a digest of what the feed position does
// not cover (the system documents and the files' chunks): it stays the
// same while nothing is written, across restarts and nodes too.
func (s *Store) Dump(ctx context.Context, from store.DumpCursor, head func(store.DumpHeader) error, item func(store.DumpItem) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	start := 0
	if from.Section != "" {
		start = slices.IndexFunc(dumpSections, func(d dumpSection) bool { return d.typ == from.Section })
		if start < 0 {
			return fmt.Errorf("dump: cursor names an unknown section %q", from.Section)
		}
	} else if from.Items > 0 {
		return fmt.Errorf("dump: cursor at item %d without a section: it was not made by a dump of this store", from.Items)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		h, err := s.dumpHeader(ctx, tx)
		if err != nil {
			return err
		}
		if err := head(h); err != nil {
			return err
		}
		n := from.Items
		for _, sec := range dumpSections[start:] {
			var after []byte
			if sec.typ == from.Section {
				after = from.After
			}
			err := dumpRows(ctx, tx, sec, after, func(key []byte, it store.DumpItem) error {
				n++
				it.Cursor = store.DumpCursor{Items: n, Section: sec.typ, After: key}
				return item(it)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// dumpHeader reads the snapshot's feed position, item counts and copy id.
func (s *Store) dumpHeader(ctx context.Context, tx pgx.Tx) (store.DumpHeader, error) {
	seq, err := feedPosition(ctx, tx)
	if err != nil {
		return store.DumpHeader{}, fmt.Errorf("dump: %w", err)
	}
	h := store.DumpHeader{Format: store.DumpFormat, Version: store.DumpVersion, CreatedAt: time.Now().UTC(),
		LastSeq: seq, Counts: map[string]int64{}}
	var db string
	if err := tx.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return h, fmt.Errorf("dump: %w", err)
	}
	h.Source = "postgres database " + db
	sum := sha256.New()
	for _, sec := range dumpSections {
		var args []any
		if sec.typ == store.DumpSys {
			args = append(args, skippedKinds)
		}
		var n int64
		if err := tx.QueryRow(ctx, sec.count, args...).Scan(&n); err != nil {
			return h, fmt.Errorf("dump: count %s items: %w", sec.typ, err)
		}
		h.Counts[sec.typ] = n
		fmt.Fprintf(sum, "%s=%d\n", sec.typ, n)
	}
	// Every record write moves the feed position; system documents and
	// files do not, so their content goes into the copy id.
	var sysDigest, fileDigest string
	err = tx.QueryRow(ctx, `SELECT coalesce(md5(string_agg(md5(kind || '/' || key || '=' || data::text), '' ORDER BY kind, key)), '')
		FROM crm_sys WHERE kind <> ALL($1)`, skippedKinds).Scan(&sysDigest)
	if err != nil {
		return h, fmt.Errorf("dump: digest system documents: %w", err)
	}
	err = tx.QueryRow(ctx, `SELECT coalesce(md5(string_agg(f.id || ':' || f.n || ':' || md5(f.data), ',' ORDER BY f.id, f.n)), '')
		FROM crm_files f WHERE `+fileHeld).Scan(&fileDigest)
	if err != nil {
		return h, fmt.Errorf("dump: digest files: %w", err)
	}
	fmt.Fprintf(sum, "%s\n%s\n", sysDigest, fileDigest)
	h.CopyID = fmt.Sprintf("postgres:%d:%s", seq, hex.EncodeToString(sum.Sum(nil)[:12]))
	return h, nil
}

// dumpRows walks one section after the key after (JSON of the key
// columns; nil: from its start), calling fn with each item and its key.
func dumpRows(ctx context.Context, tx pgx.Tx, sec dumpSection, after []byte, fn func(key []byte, it store.DumpItem) error) error {
	var args []any
	if sec.typ == store.DumpSys {
		args = append(args, skippedKinds)
	}
	query := sec.all
	if after != nil {
		var key []any
		d := json.NewDecoder(bytes.NewReader(after))
		d.UseNumber()
		if err := d.Decode(&key); err != nil {
			return fmt.Errorf("dump: cursor of section %s: %w", sec.typ, err)
		}
		for _, k := range key {
			if n, ok := k.(json.Number); ok {
				v, err := n.Int64()
				if err != nil {
					return fmt.Errorf("dump: cursor of section %s: %w", sec.typ, err)
				}
				k = v
			}
			args = append(args, k)
		}
		query = sec.after
	}
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("dump %s items: %w", sec.typ, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		it := store.DumpItem{Type: sec.typ}
		var key []any
		switch sec.typ {
		case store.DumpRecord:
			err = rows.Scan(&it.Entity, &it.ID, &it.Data)
			key = []any{it.Entity, it.ID}
		case store.DumpHistory:
			var seq int64
			err = rows.Scan(&it.Entity, &it.ID, &seq, &it.Data)
			it.Data = withSeq(it.Data, uint64(seq))
			key = []any{it.Entity, it.ID, seq}
		case store.DumpEvent:
			var seq int64
			err = rows.Scan(&seq, &it.Data)
			it.Data = withSeq(it.Data, uint64(seq))
			key = []any{seq}
		case store.DumpChunk:
			var n int32
			err = rows.Scan(&it.ID, &n, &it.Bytes)
			it.N = uint32(n)
			key = []any{it.ID, n}
		case store.DumpSys:
			var data string
			err = rows.Scan(&it.Kind, &it.Key, &data)
			it.Data = json.RawMessage(data)
			key = []any{it.Kind, it.Key}
		}
		if err != nil {
			return fmt.Errorf("dump %s items: %w", sec.typ, err)
		}
		kb, err := json.Marshal(key)
		if err != nil {
			return fmt.Errorf("dump %s items: %w", sec.typ, err)
		}
		if err := fn(kb, it); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dump %s items: %w", sec.typ, err)
	}
	return nil
}

// withSeq sets the "seq" of a history entry's or event's JSON to the
// row's position: writes store it as 0 (the column holds it, see
// writer.finish). JSON written by json.Marshal starts with it; other JSON
// is decoded and encoded again.
func withSeq(b []byte, seq uint64) []byte {
	const p = `{"seq":`
	if bytes.HasPrefix(b, []byte(p)) {
		rest := b[len(p):]
		i := bytes.IndexAny(rest, ",}")
		if i > 0 {
			if cur, err := strconv.ParseUint(string(rest[:i]), 10, 64); err == nil {
				if cur == seq {
					return b
				}
				out := make([]byte, 0, len(b)+20)
				out = append(out, p...)
				out = strconv.AppendUint(out, seq, 10)
				return append(out, rest[i:]...)
			}
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return b // Check refuses it with the reason
	}
	m["seq"] = json.RawMessage(strconv.FormatUint(seq, 10))
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}

// LoadState returns the copy this store received (nil: none).
func (s *Store) LoadState(ctx context.Context) (*store.LoadState, error) {
	var st store.LoadState
	err := s.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindCopy, copyKey, &st) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read copy state: %w", err)
	}
	return &st, nil
}

// StartLoad checks that the database is empty (no records, history,
// events, files or system documents but derived state, and the feed at
// position 0) and records the copy it begins, in one transaction.
func (s *Store) StartLoad(ctx context.Context, h store.DumpHeader) error {
	if h.Format != store.DumpFormat || h.Version < 1 || h.Version > store.DumpVersion {
		return fmt.Errorf("load: format %q version %d: want %q version 1 to %d", h.Format, h.Version, store.DumpFormat, store.DumpVersion)
	}
	return s.inTx(ctx, pgx.Serializable, false, func(tx pgx.Tx) error {
		for _, c := range []struct{ what, query string }{
			{"records", `SELECT 'records of ' || entity FROM crm_records LIMIT 1`},
			{"history", `SELECT 'history of ' || entity FROM crm_history LIMIT 1`},
			{"events", `SELECT 'an event at position ' || seq FROM crm_outbox LIMIT 1`},
			{"files", `SELECT 'chunks of file ' || id FROM crm_files LIMIT 1`},
			{"system documents", `SELECT 'system documents of kind ' || kind FROM crm_sys WHERE kind <> ALL($1) LIMIT 1`},
			{"feed", `SELECT 'a change feed at position ' || seq FROM crm_feed WHERE seq > 0`},
		} {
			var args []any
			if c.what == "system documents" {
				args = append(args, skippedKinds)
			}
			var found string
			err := tx.QueryRow(ctx, c.query, args...).Scan(&found)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load: check the destination's %s: %w", c.what, err)
			}
			return fmt.Errorf("%w: it holds %s", store.ErrNotEmpty, found)
		}
		t := sysTx{ctx, tx}
		var prev store.LoadState
		if err := t.Get(store.KindCopy, copyKey, &prev); err == nil {
			return fmt.Errorf("%w: it holds a copy of %s", store.ErrNotEmpty, prev.Source)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return t.Put(store.KindCopy, copyKey, store.LoadState{CopyID: h.CopyID, Source: h.Source, Counts: map[string]int64{}, Started: time.Now().UTC()})
	})
}

// Load stores a batch of items in one transaction, with the derived state
// a write keeps (the data and search columns, unique values, record
// counts, the feed position) and st. Loading a record again replaces its
// row and unique values and counts it once, so a repeated batch changes
// nothing.
//
// Load must be the database's only writer while it runs (crm restore and
// crm migrate run before the nodes start): unique values are taken
// without waiting on other writers.
func (s *Store) Load(ctx context.Context, items []store.DumpItem, st store.LoadState) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	for i := range items {
		if err := items[i].Check(); err != nil {
			return fmt.Errorf("item %d: %w", items[i].Cursor.Items, err)
		}
	}
	stJSON, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("load: encode the copy state: %w", err)
	}
	var maxSeq uint64
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var err error
		maxSeq, err = s.loadBatch(ctx, tx, items, stJSON)
		return err
	})
	if err != nil {
		return badData(err)
	}
	s.advance(maxSeq)
	return nil
}

// loadBatch writes a batch in a few set-based statements (unnest of
// arrays), sent in one round trip; it returns the highest event position.
// An item loaded twice in one batch is written once, as its last copy:
// one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
func (s *Store) loadBatch(ctx context.Context, tx pgx.Tx, items []store.DumpItem, stJSON []byte) (uint64, error) {
	// The batch's records as stored before it, read at once.
	ids := map[string][]string{}
	for _, it := range items {
		if it.Type == store.DumpRecord {
			ids[it.Entity] = append(ids[it.Entity], it.ID)
		}
	}
	stored := map[string]*store.Record{} // entity/id -> the record as stored before the batch
	for entity, list := range ids {
		ent := s.schema.Entity(entity)
		if ent == nil {
			return 0, fmt.Errorf("record %s %s: the destination's schema has no entity %q", entity, list[0], entity)
		}
		rows, err := tx.Query(ctx, `SELECT id, enc FROM crm_records WHERE entity = $1 AND id = ANY($2)`, entity, list)
		if err != nil {
			return 0, fmt.Errorf("load: read %s: %w", entity, err)
		}
		for rows.Next() {
			var id string
			var enc []byte
			if err := rows.Scan(&id, &enc); err != nil {
				rows.Close()
				return 0, fmt.Errorf("load: read %s: %w", entity, err)
			}
			rec, err := store.DecodeRecord(ent, id, enc)
			if err != nil {
				rows.Close()
				return 0, err
			}
			stored[entity+"/"+id] = rec
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("load: read %s: %w", entity, err)
		}
	}
	var (
		recs                         recordColumns
		recAt                        = map[string]int{}
		hEnt, hID                    []string
		hSeq                         []int64
		hData                        [][]byte
		hAt                          = map[string]int{}
		eSeq                         []int64
		eData                        [][]byte
		eAt                          = map[uint64]int{}
		sKind, sKey, sData           []string
		sAt                          = map[string]int{}
		counts                       = map[string]int64{}
		maxSeq                       uint64
		b                            = &pgx.Batch{}
		uEnt, uField, uValue, uOwner []string
		oldEnt, oldID                []string
	)
	for _, it := range items {
		switch it.Type {
		case store.DumpRecord:
			ent := s.schema.Entity(it.Entity)
			rec, err := store.DecodeRecord(ent, it.ID, it.Data)
			if err != nil {
				return 0, fmt.Errorf("record %s %s: %w", it.Entity, it.ID, err)
			}
			rec.Entity = ent.Name
			k := it.Entity + "/" + it.ID
			data, err := json.Marshal(ent.EncodeValues(rec.Values))
			if err != nil {
				return 0, fmt.Errorf("record %s %s: %w", it.Entity, it.ID, err)
			}
			var search *string
			if v, ok := searchText(ent, rec).(string); ok {
				search = &v
			}
			if i, ok := recAt[k]; ok {
				recs.set(i, ent, rec, string(data), it.Data, search)
				continue
			}
			recAt[k] = recs.add(ent, rec, string(data), it.Data, search)
			if stored[k] == nil {
				counts[ent.Name]++
			} else {
				oldEnt, oldID = append(oldEnt, ent.Name), append(oldID, rec.ID)
			}
		case store.DumpHistory:
			var h store.HistoryEntry
			if err := json.Unmarshal(it.Data, &h); err != nil {
				return 0, fmt.Errorf("history of %s %s: %w", it.Entity, it.ID, err)
			}
			k := it.Entity + "/" + it.ID + "/" + strconv.FormatUint(h.Seq, 10)
			if i, ok := hAt[k]; ok {
				hData[i] = it.Data
				continue
			}
			hAt[k] = len(hEnt)
			hEnt, hID, hSeq, hData = append(hEnt, it.Entity), append(hID, it.ID), append(hSeq, int64(h.Seq)), append(hData, it.Data)
		case store.DumpEvent:
			var e store.Event
			if err := json.Unmarshal(it.Data, &e); err != nil {
				return 0, fmt.Errorf("event: %w", err)
			}
			maxSeq = max(maxSeq, e.Seq)
			if i, ok := eAt[e.Seq]; ok {
				eData[i] = it.Data
				continue
			}
			eAt[e.Seq] = len(eSeq)
			eSeq, eData = append(eSeq, int64(e.Seq)), append(eData, it.Data)
		case store.DumpChunk:
			b.Queue(`INSERT INTO crm_files (id, n, data) VALUES ($1, $2, $3) ON CONFLICT (id, n) DO UPDATE SET data = EXCLUDED.data`,
				it.ID, int32(it.N), it.Bytes)
		case store.DumpSys:
			if store.DumpSkipsKind(it.Kind) {
				continue
			}
			k := it.Kind + "/" + it.Key
			if i, ok := sAt[k]; ok {
				sData[i] = string(it.Data)
				continue
			}
			sAt[k] = len(sKind)
			sKind, sKey, sData = append(sKind, it.Kind), append(sKey, it.Key), append(sData, string(it.Data))
		}
	}
	if len(recs.id) > 0 {
		b.Queue(`INSERT INTO crm_records (entity, id, version, created_at, updated_at, created_by, owner, data, enc, search)
			SELECT e, i, v, c, u, cb, o, d::jsonb, enc, s
			FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::text[])
				AS t(e, i, v, c, u, cb, o, d, enc, s)
			ON CONFLICT (entity, id) DO UPDATE SET version = EXCLUDED.version, created_at = EXCLUDED.created_at,
				updated_at = EXCLUDED.updated_at, created_by = EXCLUDED.created_by, owner = EXCLUDED.owner,
				data = EXCLUDED.data, enc = EXCLUDED.enc, search = EXCLUDED.search`,
			recs.entity, recs.id, recs.version, recs.created, recs.updated, recs.createdBy, recs.owner, recs.data, recs.enc, recs.search)
		if len(oldEnt) > 0 {
			b.Queue(`DELETE FROM crm_unique u USING unnest($1::text[], $2::text[]) AS t(e, i) WHERE u.entity = t.e AND u.id = t.i`, oldEnt, oldID)
		}
		// A value two source records share (a field made unique after
		// they were written) stays with the first, as in the source.
		for i, ent := range recs.ents {
			for _, f := range ent.Fields {
				if v := recs.values[i][f.Name]; f.Unique && !isZero(v) {
					uEnt, uField, uValue, uOwner = append(uEnt, ent.Name), append(uField, f.Name), append(uValue, uniqueValue(v)), append(uOwner, recs.id[i])
				}
			}
		}
		if len(uEnt) > 0 {
			b.Queue(`INSERT INTO crm_unique (entity, field, value, id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
				ON CONFLICT DO NOTHING`, uEnt, uField, uValue, uOwner)
		}
	}
	if len(hEnt) > 0 {
		b.Queue(`INSERT INTO crm_history (entity, id, seq, data) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[])
			ON CONFLICT (entity, id, seq) DO UPDATE SET data = EXCLUDED.data`, hEnt, hID, hSeq, hData)
	}
	if len(eSeq) > 0 {
		b.Queue(`INSERT INTO crm_outbox (seq, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])
			ON CONFLICT (seq) DO UPDATE SET data = EXCLUDED.data`, eSeq, eData)
	}
	if len(sKind) > 0 {
		b.Queue(`INSERT INTO crm_sys (kind, key, data) SELECT k, y, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS t(k, y, d)
			ON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data`, sKind, sKey, sData)
	}
	for _, e := range slices.Sorted(maps.Keys(counts)) {
		b.Queue(`INSERT INTO crm_counts (entity, n) VALUES ($1, $2)
			ON CONFLICT (entity) DO UPDATE SET n = crm_counts.n + EXCLUDED.n`, e, counts[e])
	}
	if maxSeq > 0 {
		b.Queue(`UPDATE crm_feed SET seq = greatest(seq, $1)`, int64(maxSeq))
		b.Queue(`SELECT pg_notify($1, (SELECT seq FROM crm_feed)::text)`, notifyChannel)
	}
	b.Queue(`INSERT INTO crm_sys (kind, key, data) VALUES ($1, $2, $3::text::jsonb)
		ON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data`, store.KindCopy, copyKey, string(stJSON))
	// A batch's commit need not wait for the WAL flush: a crash loses at
	// most the last batches, together with the cursor that names them, and
	// the resumed copy loads them again. FinishLoad's commit waits.
	b.Queue(`SET LOCAL synchronous_commit = off`)
	br := tx.SendBatch(ctx, b)
	for i := range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return 0, fmt.Errorf("load: statement %d of %d: %w", i+1, b.Len(), err)
		}
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	return maxSeq, nil
}

// recordColumns are the crm_records columns of a batch's records, one
// array per column, with each record's entity and values for its unique
// values.
type recordColumns struct {
	ents                               []*schema.Entity
	values                             []map[string]any
	entity, id, createdBy, owner, data []string
	version                            []int64
	created, updated                   []time.Time
	enc                                [][]byte
	search                             []*string
}

// add appends a record's row and returns its index.
func (c *recordColumns) add(ent *schema.Entity, rec *store.Record, data string, enc []byte, search *string) int {
	c.ents, c.values = append(c.ents, nil), append(c.values, nil)
	c.entity, c.id, c.createdBy, c.owner, c.data = append(c.entity, ""), append(c.id, ""), append(c.createdBy, ""), append(c.owner, ""), append(c.data, "")
	c.version, c.created, c.updated = append(c.version, 0), append(c.created, time.Time{}), append(c.updated, time.Time{})
	c.enc, c.search = append(c.enc, nil), append(c.search, nil)
	i := len(c.id) - 1
	c.set(i, ent, rec, data, enc, search)
	return i
}

// set fills row i with a record.
func (c *recordColumns) set(i int, ent *schema.Entity, rec *store.Record, data string, enc []byte, search *string) {
	c.ents[i], c.values[i] = ent, rec.Values
	c.entity[i], c.id[i], c.createdBy[i], c.owner[i], c.data[i] = ent.Name, rec.ID, rec.CreatedBy, rec.Owner, data
	// The columns hold microseconds, as a write here truncates them; enc
	// keeps a Badger record's nanoseconds.
	c.version[i], c.created[i], c.updated[i] = rec.Version, rec.CreatedAt.Truncate(time.Microsecond), rec.UpdatedAt.Truncate(time.Microsecond)
	c.enc[i], c.search[i] = enc, search
}

// FinishLoad raises the feed position to the source's and marks the copy
// done; the store's LastSeq and other nodes' follow.
func (s *Store) FinishLoad(ctx context.Context, h store.DumpHeader, st store.LoadState) error {
	st.Done, st.Finished = true, time.Now().UTC()
	stJSON, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("load: encode the copy state: %w", err)
	}
	err = s.inTx(ctx, pgx.ReadCommitted, false, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`UPDATE crm_feed SET seq = greatest(seq, $1)`, int64(h.LastSeq))
		b.Queue(`SELECT pg_notify($1, (SELECT seq FROM crm_feed)::text)`, notifyChannel)
		b.Queue(`INSERT INTO crm_sys (kind, key, data) VALUES ($1, $2, $3::text::jsonb)
			ON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data`, store.KindCopy, copyKey, string(stJSON))
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("finish load: %w", err)
	}
	s.advance(h.LastSeq)
	return nil
}
