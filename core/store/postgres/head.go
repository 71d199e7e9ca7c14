package postgres

import (
	"context"
	"fmt"

	"github.com/crmkit/crm/core/store"
)

// Head reads the position of the last committed write from the database
// (store.FeedHead), with one single-row query that takes no lock: a write
// in progress holds crm_feed's row lock, and this read sees the value
// committed before it. When the head is past LastSeq (another node's
// notification is still on its way) it moves LastSeq and wakes
// Committed's waiters, so a feed reader on this node need not wait for
// the notification either.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if s.closed.Load() {
		return 0, store.ErrClosed
	}
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT seq FROM crm_feed`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read the feed head: %w", err)
	}
	s.advance(uint64(seq))
	return uint64(seq), nil
}
