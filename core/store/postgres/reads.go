package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
)

// Get returns the current version of a record, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, entity, id string) (*store.Record, error) {
	ent := s.schema.Entity(entity)
	if ent == nil {
		return nil, store.ErrNotFound
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	return getRecord(ctx, s.pool, ent, id, "")
}

// History returns every history entry of a record, oldest first, also for
// a deleted record.
func (s *Store) History(ctx context.Context, entity, id string) ([]store.HistoryEntry, error) {
	return s.history(ctx, `SELECT seq, data FROM crm_history WHERE entity = $1 AND id = $2 ORDER BY seq`, entity, id)
}

// HistoryBefore returns up to limit history entries of a record, newest
// first, whose feed position is below before (0: from the newest).
func (s *Store) HistoryBefore(ctx context.Context, entity, id string, before uint64, limit int) ([]store.HistoryEntry, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	if before == 0 {
		return s.history(ctx, `SELECT seq, data FROM crm_history WHERE entity = $1 AND id = $2 ORDER BY seq DESC LIMIT $3`, entity, id, limit)
	}
	return s.history(ctx, `SELECT seq, data FROM crm_history WHERE entity = $1 AND id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`,
		entity, id, int64(min(before, 1<<63-1)), limit)
}

func (s *Store) history(ctx context.Context, query string, args ...any) ([]store.HistoryEntry, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read history of %s %s: %w", args[0], args[1], err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.HistoryEntry, error) {
		var seq int64
		var b []byte
		var h store.HistoryEntry
		if err := row.Scan(&seq, &b); err != nil {
			return h, err
		}
		err := json.Unmarshal(b, &h)
		h.Seq = uint64(seq) // the column is the position (see writer.finish)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("read history of %s %s: %w", args[0], args[1], err)
	}
	return out, nil
}

// Events returns up to limit outbox events after the given position, in
// order. Positions are assigned in commit order, so a later call never
// finds a position below the last one returned.
func (s *Store) Events(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, data FROM crm_outbox WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(min(after, 1<<63-1)), limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Event, error) {
		var seq int64
		var b []byte
		var e store.Event
		if err := row.Scan(&seq, &b); err != nil {
			return e, err
		}
		err := json.Unmarshal(b, &e)
		e.Seq = uint64(seq) // the column is the position (see writer.finish)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// fieldExpr is sqlfilter.FieldExpr of a field of the records table under
// alias r.
func fieldExpr(ent *schema.Entity, name string) (string, error) {
	return sqlfilter.FieldExpr(ent, name, "r")
}

// scanMatches calls fn for every record of ent that f matches (nil: all),
// in id order, until fn returns false. The database narrows the rows with
// sqlfilter.Where; what it leaves (exact false) f decides in Go.
func scanMatches(ctx context.Context, q querier, ent *schema.Entity, f *store.Filter, fn func(*store.Record) (bool, error)) error {
	args := &sqlfilter.Args{}
	pe := literal(ent.Name)
	cond, exact := sqlfilter.Where(f, "r", args)
	rows, err := q.Query(ctx, `SELECT r.id, r.enc FROM crm_records r WHERE r.entity = `+pe+` AND (`+cond+`) ORDER BY r.id`, args.List...)
	if err != nil {
		return fmt.Errorf("read %s: %w", ent.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var enc []byte
		if err := rows.Scan(&id, &enc); err != nil {
			return fmt.Errorf("read %s: %w", ent.Name, err)
		}
		rec, err := store.DecodeRecord(ent, id, enc)
		if err != nil {
			return err
		}
		if !exact {
			ok, err := f.Eval(rec)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		more, err := fn(rec)
		if err != nil || !more {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", ent.Name, err)
	}
	return nil
}

// readTx runs fn in a read-only REPEATABLE READ transaction: every query
// of fn sees one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.inTx(ctx, pgx.RepeatableRead, true, fn)
}

// feedPosition is the feed position a snapshot holds every write up to.
func feedPosition(ctx context.Context, q querier) (uint64, error) {
	var seq int64
	if err := q.QueryRow(ctx, `SELECT seq FROM crm_feed`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read feed position: %w", err)
	}
	return uint64(seq), nil
}

// Count returns the number of records of an entity that match a filter
// (all of them with a nil filter), always exactly: the database counts
// what sqlfilter translates exactly, and the rest is read and evaluated.
func (s *Store) Count(ctx context.Context, entity string, f *store.Filter) (int64, bool, error) {
	ent, err := s.entity(entity)
	if err != nil {
		return 0, false, err
	}
	var n int64
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		if f == nil {
			err := tx.QueryRow(ctx, `SELECT n FROM crm_counts WHERE entity = $1`, ent.Name).Scan(&n)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		}
		args := &sqlfilter.Args{}
		pe := literal(ent.Name)
		cond, exact := sqlfilter.Where(f, "r", args)
		if exact {
			return tx.QueryRow(ctx, `SELECT count(*) FROM crm_records r WHERE r.entity = `+pe+` AND (`+cond+`)`, args.List...).Scan(&n)
		}
		return scanMatches(ctx, tx, ent, f, func(*store.Record) (bool, error) {
			n++
			return true, nil
		})
	})
	if err != nil {
		return 0, false, wrapRead(err, "count %s", ent.Name)
	}
	return n, true, nil
}

// wrapRead adds context to a read's error, leaving the store's own error
// types (filter errors, not found) findable with errors.As.
func wrapRead(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}
