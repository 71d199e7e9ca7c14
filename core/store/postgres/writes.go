package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Record writes run in READ COMMITTED transactions: each reads the rows
// it depends on with a lock (the record written FOR UPDATE, the records,
// users and files it names FOR KEY SHARE, unique values by inserting
// them), so two writers that touch the same rows take turns and the
// second sees what the first committed; the feed positions come last
// (see the package doc).

// errRetry makes a write run again from the start: a concurrent write
// took the same idempotency key first.
var errRetry = errors.New("retry the write")

// writer is the state of one write transaction.
type writer struct {
	s       *Store
	ctx     context.Context
	tx      pgx.Tx
	now     time.Time
	pending []*pending
	counts  map[string]int64
}

// pending is one history entry and outbox event to write at the end of
// the transaction, once its position is known.
type pending struct {
	ent     *schema.Entity // nil for an emitted event
	rec     *store.Record  // the record as the write left it (emit: entity and id)
	before  *store.Record
	op      string
	by      string
	cause   string
	changes map[string]store.Change
	payload []byte // an emitted event's payload
	seq     uint64 // set by finish
}

// write runs fn in a write transaction, finishes it (positions, history,
// outbox, notify) and commits; it runs it again after a serialization
// failure, a deadlock or errRetry. Once started, the transaction is
// committed or refused whatever the caller's context does, as the Badger
// store's queued writes are, so a caller never mistakes a committed write
// for a failed one.
func (s *Store) write(ctx context.Context, fn func(w *writer) (*store.Record, error)) (*store.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	ctx = context.WithoutCancel(ctx)
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Millisecond)
		}
		var rec *store.Record
		var last uint64
		err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			w := &writer{s: s, ctx: ctx, tx: tx, now: time.Now().UTC().Truncate(time.Microsecond), counts: map[string]int64{}}
			var err error
			if rec, err = fn(w); err != nil {
				return err
			}
			last, err = w.finish()
			return err
		})
		if err == nil {
			s.advance(last)
			return rec, nil
		}
		if !retryable(err) && !errors.Is(err, errRetry) {
			return nil, badData(err)
		}
		lastErr = err
	}
	return nil, fmt.Errorf("write: gave up after %d attempts: %w", maxAttempts, lastErr)
}

// badData turns PostgreSQL's refusal of a value (a data exception, such
// as a NUL character in text, which the schema's normalisation already
// keeps out of fields) into an *store.InvalidError; other errors are
// returned as they are.
func badData(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
		return fmt.Errorf("%w: %w", &store.InvalidError{Message: "a value cannot be stored: " + pe.Message}, err)
	}
	return err
}

// finish counts, takes the transaction's feed positions (the row lock of
// crm_feed is held until commit: positions follow commit order), writes
// the history entries and events and notifies the listeners, all in one
// round trip, so that the lock is held for about that round trip and the
// commit. The rows' seq column is the position; the JSON they hold is
// written before the position is known and has seq 0 (the reads set it
// from the column). It returns the last position, 0 when nothing was
// written.
func (w *writer) finish() (uint64, error) {
	if len(w.pending) == 0 {
		return 0, nil
	}
	b := &pgx.Batch{}
	counted := 0
	for _, e := range slices.Sorted(maps.Keys(w.counts)) {
		if d := w.counts[e]; d != 0 {
			b.Queue(`INSERT INTO crm_counts (entity, n) VALUES ($1, $2)
				ON CONFLICT (entity) DO UPDATE SET n = crm_counts.n + EXCLUDED.n`, e, d)
			counted++
		}
	}
	n := len(w.pending)
	b.Queue(`UPDATE crm_feed SET seq = seq + $1 RETURNING seq`, n)
	for i, p := range w.pending {
		back := n - 1 - i // this write's position is the last one minus back
		var e store.Event
		if p.ent == nil {
			name, event, _ := strings.Cut(p.op, ".")
			e = store.Event{At: w.now, Entity: name, ID: p.rec.ID, Op: event, By: p.by, Cause: p.cause, After: p.payload}
		} else {
			after, err := store.EncodeRecord(p.ent, p.rec)
			if err != nil {
				return 0, err
			}
			var before []byte
			if p.before != nil {
				if before, err = store.EncodeRecord(p.ent, p.before); err != nil {
					return 0, err
				}
			}
			h, err := json.Marshal(store.HistoryEntry{At: w.now, By: p.by, Action: p.op, Version: p.rec.Version, Changes: p.changes})
			if err != nil {
				return 0, fmt.Errorf("encode history: %w", err)
			}
			b.Queue(`INSERT INTO crm_history (entity, id, seq, data) VALUES ($1, $2, (SELECT seq FROM crm_feed) - $3, $4)`, p.ent.Name, p.rec.ID, back, h)
			e = store.Event{At: w.now, Entity: p.ent.Name, ID: p.rec.ID, Op: p.op, Version: p.rec.Version,
				By: p.by, Cause: p.cause, Changes: p.changes, After: after, Before: before}
		}
		ev, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("encode event: %w", err)
		}
		b.Queue(`INSERT INTO crm_outbox (seq, data) VALUES ((SELECT seq FROM crm_feed) - $1, $2)`, back, ev)
	}
	b.Queue(`SELECT pg_notify($1, (SELECT seq FROM crm_feed)::text)`, notifyChannel)
	br := w.tx.SendBatch(w.ctx, b)
	for range counted {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return 0, fmt.Errorf("count: %w", err)
		}
	}
	var last int64
	if err := br.QueryRow().Scan(&last); err != nil {
		br.Close()
		return 0, fmt.Errorf("take feed positions: %w", err)
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("write history and events: %w", err)
	}
	first := uint64(last) - uint64(n) + 1
	for i, p := range w.pending {
		p.seq = first + uint64(i)
	}
	return uint64(last), nil
}

func (s *Store) entity(name string) (*schema.Entity, error) {
	ent := s.schema.Entity(name)
	if ent == nil {
		return nil, &store.InvalidError{Message: fmt.Sprintf("unknown entity %q", name)}
	}
	return ent, nil
}

// Create stores a new record, its history entry and its outbox event in
// one transaction.
func (s *Store) Create(ctx context.Context, req store.CreateRequest) (*store.Record, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, err
	}
	return s.write(ctx, func(w *writer) (*store.Record, error) {
		if done, rec, err := w.idempotent(req.IdempotencyKey); done || err != nil {
			return rec, err
		}
		if req.Unless != nil {
			found, err := w.firstMatch(ent, req.Unless)
			if err != nil {
				return nil, err
			}
			if found != nil {
				return nil, &store.ExistsError{Record: found}
			}
		}
		owner := req.Owner
		if owner == "" && !strings.Contains(req.By, ":") {
			owner = req.By // a user; "rule:NAME" and other actors own nothing
		}
		rec := &store.Record{
			ID: store.NewID(), Entity: ent.Name, Version: 1, CreatedAt: w.now, UpdatedAt: w.now,
			CreatedBy: req.By, Owner: owner, Values: req.Values,
		}
		if rec.Values == nil {
			rec.Values = map[string]any{}
		}
		if err := w.checkOwner(owner); err != nil {
			return nil, err
		}
		if err := w.checkRefs(ent, rec.Values, nil); err != nil {
			return nil, err
		}
		if err := w.moveUnique(ent, rec.ID, nil, rec); err != nil {
			return nil, err
		}
		if err := w.putRecord(ent, rec, true); err != nil {
			return nil, err
		}
		changes := map[string]store.Change{}
		for name, v := range rec.Values {
			if f := ent.Field(name); f != nil {
				changes[name] = store.Change{New: f.EncodeValue(v)}
			}
		}
		if owner != "" {
			changes["owner"] = store.Change{New: owner}
		}
		w.pending = append(w.pending, &pending{ent: ent, rec: rec, op: store.OpCreated, by: req.By, cause: req.Cause, changes: changes})
		w.counts[ent.Name]++
		if err := w.claimIdempotency(req.IdempotencyKey, rec); err != nil {
			return nil, err
		}
		return rec, nil
	})
}

// Update changes fields of a record; a write that changes nothing returns
// the current version and writes nothing.
func (s *Store) Update(ctx context.Context, req store.UpdateRequest) (*store.Record, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, err
	}
	return s.write(ctx, func(w *writer) (*store.Record, error) {
		if done, rec, err := w.idempotent(req.IdempotencyKey); done || err != nil {
			return rec, err
		}
		cur, err := w.current(ent, req.ID, req.IfVersion, req.Check)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.Values = make(map[string]any, len(cur.Values)+len(req.Set))
		maps.Copy(next.Values, cur.Values)
		maps.Copy(next.Values, req.Set)
		for _, k := range req.Clear {
			delete(next.Values, k)
		}
		if req.Owner != "" {
			next.Owner = req.Owner
		}
		if err := ent.CheckRecord(next.Values); err != nil {
			return nil, err
		}
		changes := store.Diff(ent, cur, &next)
		if len(changes) == 0 {
			return cur, nil
		}
		if _, ok := changes["owner"]; ok {
			if err := w.checkOwner(next.Owner); err != nil {
				return nil, err
			}
		}
		if err := w.checkRefs(ent, next.Values, changes); err != nil {
			return nil, err
		}
		if err := w.moveUnique(ent, cur.ID, cur, &next); err != nil {
			return nil, err
		}
		next.Version++
		next.UpdatedAt = w.now
		if err := w.putRecord(ent, &next, false); err != nil {
			return nil, err
		}
		w.pending = append(w.pending, &pending{ent: ent, rec: &next, before: cur, op: store.OpUpdated, by: req.By, cause: req.Cause, changes: changes})
		if err := w.claimIdempotency(req.IdempotencyKey, &next); err != nil {
			return nil, err
		}
		return &next, nil
	})
}

// Delete removes a record. Its history stays. A record that others
// reference is refused with a ConflictError unless req.Force, which clears
// those references, each in its record's own history.
func (s *Store) Delete(ctx context.Context, req store.DeleteRequest) (*store.Record, error) {
	ent, err := s.entity(req.Entity)
	if err != nil {
		return nil, err
	}
	return s.write(ctx, func(w *writer) (*store.Record, error) {
		cur, err := w.current(ent, req.ID, req.IfVersion, req.Check)
		if err != nil {
			return nil, err
		}
		refs, count, err := w.referencing(ent.Name, cur.ID, req.Force)
		if err != nil {
			return nil, err
		}
		if count > 0 && !req.Force {
			return nil, store.ReferencedError(ent.Name, cur.ID, refs, count)
		}
		fields := map[store.Ref][]string{} // referencing record (Field empty) -> its fields to clear
		var order []store.Ref
		for _, ref := range refs {
			r := store.Ref{Entity: ref.Entity, ID: ref.ID}
			if _, seen := fields[r]; !seen {
				order = append(order, r)
			}
			fields[r] = append(fields[r], ref.Field)
		}
		for _, r := range order {
			if err := w.clearRefs(r, fields[r], req.By); err != nil {
				return nil, err
			}
		}
		if _, err := w.tx.Exec(w.ctx, `DELETE FROM crm_records WHERE entity = $1 AND id = $2`, ent.Name, cur.ID); err != nil {
			return nil, fmt.Errorf("delete %s %s: %w", ent.Name, cur.ID, err)
		}
		if _, err := w.tx.Exec(w.ctx, `DELETE FROM crm_unique WHERE entity = $1 AND id = $2`, ent.Name, cur.ID); err != nil {
			return nil, fmt.Errorf("delete %s %s: %w", ent.Name, cur.ID, err)
		}
		changes := map[string]store.Change{}
		for name, v := range cur.Values {
			if f := ent.Field(name); f != nil {
				changes[name] = store.Change{Old: f.EncodeValue(v)}
			}
		}
		if cur.Owner != "" {
			changes["owner"] = store.Change{Old: cur.Owner}
		}
		gone := *cur
		gone.Version++
		gone.UpdatedAt = w.now
		w.pending = append(w.pending, &pending{ent: ent, rec: &gone, op: store.OpDeleted, by: req.By, changes: changes})
		w.counts[ent.Name]--
		return &gone, nil
	})
}

// Emit puts a non-record event into the change feed. Its prefix may be an
// entity (a plugin's event about its own records, "invoice.overdue"), but
// not with the name of a record event: those come from writes.
func (s *Store) Emit(ctx context.Context, req store.EmitRequest) (*store.Event, error) {
	if err := store.CheckEmitName(s.schema, req.Name); err != nil {
		return nil, err
	}
	name, event, _ := strings.Cut(req.Name, ".")
	payload, err := json.Marshal(req.Payload)
	if err != nil {
		return nil, &store.InvalidError{Field: "payload", Message: "payload: " + err.Error()}
	}
	var p *pending
	rec, err := s.write(ctx, func(w *writer) (*store.Record, error) {
		p = nil
		if done, _, err := w.idempotent(req.IdempotencyKey); done || err != nil {
			if err != nil {
				return nil, err
			}
			return &store.Record{ID: req.ID}, nil
		}
		id := req.ID
		if id == "" {
			id = store.NewID()
		}
		rec := &store.Record{ID: id, Entity: name}
		p = &pending{rec: rec, op: req.Name, by: req.By, cause: req.Cause, payload: payload}
		w.pending = append(w.pending, p)
		if err := w.claimIdempotency(req.IdempotencyKey, rec); err != nil {
			return nil, err
		}
		return rec, nil
	})
	if err != nil {
		return nil, err
	}
	var seq uint64
	if p != nil {
		seq = p.seq
	}
	return &store.Event{Seq: seq, Entity: name, ID: rec.ID, Op: event, By: req.By, Cause: req.Cause}, nil
}

// getRecord reads a record in the transaction; lock is "" or a locking
// clause ("FOR UPDATE").
func getRecord(ctx context.Context, q querier, ent *schema.Entity, id, lock string) (*store.Record, error) {
	var enc []byte
	err := q.QueryRow(ctx, `SELECT enc FROM crm_records WHERE entity = $1 AND id = $2 `+lock, ent.Name, id).Scan(&enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", ent.Name, id, err)
	}
	return store.DecodeRecord(ent, id, enc)
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// current reads and locks the record a write applies to and runs its
// preconditions.
func (w *writer) current(ent *schema.Entity, id string, ifVersion int64, check store.Check) (*store.Record, error) {
	cur, err := getRecord(w.ctx, w.tx, ent, id, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(cur); err != nil {
			return nil, err
		}
	}
	if ifVersion > 0 && cur.Version != ifVersion {
		return nil, &store.ConflictError{Code: store.CodeVersion, Message: fmt.Sprintf("%s %s is at version %d, not %d: reload it and try again", ent.Name, id, cur.Version, ifVersion)}
	}
	return cur, nil
}

// putRecord inserts or updates a record's row.
func (w *writer) putRecord(ent *schema.Entity, rec *store.Record, insert bool) error {
	enc, err := store.EncodeRecord(ent, rec)
	if err != nil {
		return err
	}
	data, err := json.Marshal(ent.EncodeValues(rec.Values))
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", ent.Name, rec.ID, err)
	}
	search := searchText(ent, rec)
	if insert {
		_, err = w.tx.Exec(w.ctx, `INSERT INTO crm_records (entity, id, version, created_at, updated_at, created_by, owner, data, enc, search)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10)`,
			ent.Name, rec.ID, rec.Version, rec.CreatedAt, rec.UpdatedAt, rec.CreatedBy, rec.Owner, string(data), enc, search)
	} else {
		_, err = w.tx.Exec(w.ctx, `UPDATE crm_records SET version = $3, updated_at = $4, owner = $5, data = $6::text::jsonb, enc = $7, search = $8
			WHERE entity = $1 AND id = $2`,
			ent.Name, rec.ID, rec.Version, rec.UpdatedAt, rec.Owner, string(data), enc, search)
	}
	if err != nil {
		return fmt.Errorf("write %s %s: %w", ent.Name, rec.ID, err)
	}
	return nil
}

// searchText is a record's search tokens as the search column keeps them:
// " tok1 tok2 ", or nil without any.
func searchText(ent *schema.Entity, rec *store.Record) any {
	if len(ent.SearchFields()) == 0 {
		return nil
	}
	toks := store.SearchTokens(ent, rec)
	if len(toks) == 0 {
		return nil
	}
	return " " + strings.Join(toks, " ") + " "
}

// uniqueValue is the key of a unique value: equal values (as the Badger
// store compares them) have equal keys.
func uniqueValue(v any) string {
	switch x := v.(type) {
	case string:
		return "s" + x
	case int64:
		return "i" + strconv.FormatInt(x, 10)
	case schema.Decimal:
		return "f" + strconv.FormatFloat(x.Float64(), 'g', -1, 64)
	case float64:
		return "f" + strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return "t" + strconv.FormatInt(x.UnixNano(), 10)
	case schema.Money:
		return "m" + strconv.FormatInt(x.Minor, 10)
	}
	return "v" + fmt.Sprint(v)
}

func isZero(v any) bool { return v == nil || v == "" }

// moveUnique moves a record's unique values from old to next (either may
// be nil), refusing a value another record holds. The insert into
// crm_unique waits for a concurrent writer of the same value to finish,
// so of two concurrent writers exactly one gets it.
func (w *writer) moveUnique(ent *schema.Entity, id string, old, next *store.Record) error {
	for _, f := range ent.Fields {
		if !f.Unique {
			continue
		}
		var ov, nv any
		if old != nil {
			ov = old.Values[f.Name]
		}
		if next != nil {
			nv = next.Values[f.Name]
		}
		if isZero(ov) && isZero(nv) {
			continue
		}
		if !isZero(ov) && !isZero(nv) && uniqueValue(ov) == uniqueValue(nv) {
			continue
		}
		if !isZero(ov) {
			if _, err := w.tx.Exec(w.ctx, `DELETE FROM crm_unique WHERE entity = $1 AND field = $2 AND value = $3 AND id = $4`,
				ent.Name, f.Name, uniqueValue(ov), id); err != nil {
				return fmt.Errorf("check unique %s.%s: %w", ent.Name, f.Name, err)
			}
		}
		if isZero(nv) {
			continue
		}
		key := uniqueValue(nv)
		tag, err := w.tx.Exec(w.ctx, `INSERT INTO crm_unique (entity, field, value, id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			ent.Name, f.Name, key, id)
		if err != nil {
			return fmt.Errorf("check unique %s.%s: %w", ent.Name, f.Name, err)
		}
		if tag.RowsAffected() == 1 {
			continue
		}
		var other string
		err = w.tx.QueryRow(w.ctx, `SELECT id FROM crm_unique WHERE entity = $1 AND field = $2 AND value = $3`, ent.Name, f.Name, key).Scan(&other)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRetry // its holder let it go meanwhile
		}
		if err != nil {
			return fmt.Errorf("check unique %s.%s: %w", ent.Name, f.Name, err)
		}
		if other != id {
			return &store.ConflictError{Code: store.CodeDuplicate, Field: f.Name,
				Message: fmt.Sprintf("%s: another %s (%s) already has %v", f.Name, ent.Name, other, f.EncodeValue(nv))}
		}
	}
	return nil
}

// exists reports whether a row is there, locking it against a delete
// until the transaction ends (FOR KEY SHARE).
func (w *writer) exists(query string, args ...any) (bool, error) {
	var one int
	err := w.tx.QueryRow(w.ctx, query+" FOR KEY SHARE", args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

const (
	recordExists = `SELECT 1 FROM crm_records WHERE entity = $1 AND id = $2`
	sysExists    = `SELECT 1 FROM crm_sys WHERE kind = $1 AND key = $2`
)

func (w *writer) checkOwner(owner string) error {
	if owner == "" {
		return nil
	}
	ok, err := w.exists(sysExists, store.KindUser, owner)
	if err != nil {
		return fmt.Errorf("check owner %s: %w", owner, err)
	}
	if !ok {
		return &store.InvalidError{Field: "owner", Message: fmt.Sprintf("owner: no user with id %q", owner)}
	}
	return nil
}

// checkRefs checks that every ref, user and file value names something
// that exists; with changes, only the changed fields are checked.
func (w *writer) checkRefs(ent *schema.Entity, values map[string]any, changes map[string]store.Change) error {
	for _, f := range ent.Fields {
		v, ok := values[f.Name].(string)
		if !ok || v == "" {
			continue
		}
		if changes != nil {
			if _, changed := changes[f.Name]; !changed {
				continue
			}
		}
		var found bool
		var err error
		var what string
		switch f.Type {
		case config.TypeRef:
			what = "no " + f.To + " with id"
			found, err = w.exists(recordExists, f.To, v)
		case config.TypeUser:
			what = "no user with id"
			found, err = w.exists(sysExists, store.KindUser, v)
		case config.TypeFile:
			what = "no file with id"
			found, err = w.exists(sysExists, store.KindFile, v)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", f.Name, err)
		}
		if !found {
			return &store.InvalidError{Field: f.Name, Message: fmt.Sprintf("%s: %s %q", f.Name, what, v)}
		}
	}
	return nil
}

// referencing finds the records whose ref fields point at entity/id: all
// of them when all is set, else the first few; count is always the total.
// The record itself is locked (current), so no new reference to it can
// commit meanwhile: a writer adding one waits on its FOR KEY SHARE.
func (w *writer) referencing(entity, id string, all bool) ([]store.Ref, int, error) {
	var refs []store.Ref
	count := 0
	for _, e := range w.s.schema.Entities() {
		for _, f := range e.Fields {
			if f.Type != config.TypeRef || f.To != entity {
				continue
			}
			ids, err := w.holders(e, f.Name, id)
			if err != nil {
				return nil, 0, err
			}
			for _, rid := range ids {
				if e.Name == entity && rid == id {
					continue // a record's reference to itself goes with it
				}
				count++
				if all || len(refs) < store.MaxRefsShown {
					refs = append(refs, store.Ref{Entity: e.Name, ID: rid, Field: f.Name})
				}
			}
		}
	}
	return refs, count, nil
}

// holders are the ids of the records of ent whose field holds value, in
// id order (through the field's index).
func (w *writer) holders(ent *schema.Entity, field, value string) ([]string, error) {
	return fieldHolders(w.ctx, w.tx, ent, field, value)
}

func fieldHolders(ctx context.Context, q querier, ent *schema.Entity, field, value string) ([]string, error) {
	expr, err := fieldExpr(ent, field)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id FROM crm_records r WHERE entity = `+literal(ent.Name)+` AND `+expr+` = $1 ORDER BY id`, value)
	if err != nil {
		return nil, fmt.Errorf("find %s by %s: %w", ent.Name, field, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find %s by %s: %w", ent.Name, field, err)
	}
	return ids, nil
}

// clearRefs removes the references of one record to a record being
// deleted, as an update of the referencing record with its own history
// entry and event.
func (w *writer) clearRefs(ref store.Ref, clear []string, by string) error {
	ent, err := w.s.entity(ref.Entity)
	if err != nil {
		return err
	}
	cur, err := getRecord(w.ctx, w.tx, ent, ref.ID, "FOR UPDATE")
	if err != nil {
		return fmt.Errorf("clear reference from %s %s: %w", ref.Entity, ref.ID, err)
	}
	next := *cur
	next.Values = maps.Clone(cur.Values)
	for _, f := range clear {
		delete(next.Values, f)
	}
	if err := w.moveUnique(ent, cur.ID, cur, &next); err != nil {
		return err
	}
	changes := store.Diff(ent, cur, &next)
	next.Version++
	next.UpdatedAt = w.now
	if err := w.putRecord(ent, &next, false); err != nil {
		return err
	}
	w.pending = append(w.pending, &pending{ent: ent, rec: &next, before: cur, op: store.OpUpdated, by: by, changes: changes})
	return nil
}

// idempotent looks up an idempotency key: done is true when a write with
// that key was already made, and rec is the record as it left it.
func (w *writer) idempotent(key string) (bool, *store.Record, error) {
	if key == "" {
		return false, nil, nil
	}
	var data []byte
	err := w.tx.QueryRow(w.ctx, `SELECT data::text FROM crm_sys WHERE kind = $1 AND key = $2`, store.KindIdempotency, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("read idempotency key %s: %w", key, err)
	}
	var ref store.Ref
	if err := json.Unmarshal(data, &ref); err != nil {
		return false, nil, fmt.Errorf("read idempotency key %s: %w", key, err)
	}
	ent := w.s.schema.Entity(ref.Entity)
	if ent == nil {
		return true, &store.Record{ID: ref.ID, Entity: ref.Entity}, nil // an emitted event's key
	}
	rec, err := getRecord(w.ctx, w.tx, ent, ref.ID, "")
	if errors.Is(err, store.ErrNotFound) {
		return true, &store.Record{ID: ref.ID, Entity: ref.Entity}, nil // made, and deleted since
	}
	return true, rec, err
}

// claimIdempotency stores an idempotency key with the write that made it.
// A concurrent write that stored it first makes this one start again, and
// so find it.
func (w *writer) claimIdempotency(key string, rec *store.Record) error {
	if key == "" {
		return nil
	}
	v, _ := json.Marshal(store.Ref{Entity: rec.Entity, ID: rec.ID})
	tag, err := w.tx.Exec(w.ctx, `INSERT INTO crm_sys (kind, key, data) VALUES ($1, $2, $3::text::jsonb) ON CONFLICT DO NOTHING`,
		store.KindIdempotency, key, string(v))
	if err != nil {
		return fmt.Errorf("store idempotency key %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return errRetry
	}
	return nil
}

// firstMatch finds the first record of ent (in id order) that f matches,
// for CreateRequest.Unless. Conditional creates of one entity take turns
// (a transaction advisory lock), so two of them cannot both miss each
// other's record; a plain create is not held back by it.
func (w *writer) firstMatch(ent *schema.Entity, f *store.Filter) (*store.Record, error) {
	if _, err := w.tx.Exec(w.ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "crm_unless:"+ent.Name); err != nil {
		return nil, fmt.Errorf("lock %s for a conditional create: %w", ent.Name, err)
	}
	var found *store.Record
	err := scanMatches(w.ctx, w.tx, ent, f, func(r *store.Record) (bool, error) {
		found = r
		return false, nil
	})
	return found, err
}
