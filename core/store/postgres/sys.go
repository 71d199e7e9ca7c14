package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/core/store"
)

// sysTx is the SysTx of one transaction.
type sysTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t sysTx) Get(kind, key string, v any) error {
	var b []byte
	err := t.tx.QueryRow(t.ctx, `SELECT data::text FROM crm_sys WHERE kind = $1 AND key = $2`, kind, key).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", kind, key, err)
	}
	return nil
}

func (t sysTx) Put(kind, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO crm_sys (kind, key, data) VALUES ($1, $2, $3::text::jsonb)
		ON CONFLICT (kind, key) DO UPDATE SET data = EXCLUDED.data`, kind, key, string(b))
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, key, err)
	}
	return nil
}

func (t sysTx) Delete(kind, key string) error {
	if _, err := t.tx.Exec(t.ctx, `DELETE FROM crm_sys WHERE kind = $1 AND key = $2`, kind, key); err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, key, err)
	}
	return nil
}

// SysView runs fn in a read-only transaction (one snapshot) over system
// documents.
func (s *Store) SysView(ctx context.Context, fn func(store.SysTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.readTx(ctx, func(tx pgx.Tx) error { return fn(sysTx{ctx, tx}) })
}

// SysUpdate runs fn in a SERIALIZABLE transaction over system documents,
// committing its writes when it returns nil. A read-modify-write is safe
// across nodes (leases are built on it): when another transaction got in
// between, PostgreSQL refuses one of the two and fn runs again, so fn may
// run more than once and must not have effects outside the SysTx.
func (s *Store) SysUpdate(ctx context.Context, fn func(store.SysTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.inTx(ctx, pgx.Serializable, false, func(tx pgx.Tx) error { return fn(sysTx{ctx, tx}) })
}

// SysList calls fn for every system document of a kind whose key has the
// prefix, in key (byte) order.
func (s *Store) SysList(ctx context.Context, kind, prefix string, fn func(key string, data []byte) error) error {
	return s.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT key, data::text FROM crm_sys WHERE kind = $1 AND key LIKE $2 ORDER BY key`, kind, likePrefix(prefix))
		if err != nil {
			return fmt.Errorf("list %s: %w", kind, err)
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var data []byte
			if err := rows.Scan(&key, &data); err != nil {
				return fmt.Errorf("list %s: %w", kind, err)
			}
			if err := fn(key, data); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// likePrefix is a LIKE pattern of the strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
