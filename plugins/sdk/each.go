package sdk

import (
	"context"
	"errors"
)

// ErrStop, returned by Each's fn, ends the walk early without an error.
var ErrStop = errors.New("sdk: stop")

// Each calls fn for every record of q, page by page through the host of
// ctx (q.Limit is the page size; 0 is the host's default), in q.Sort's
// order. It stops at the first error fn returns, and answers it, or nil
// when that error is ErrStop.
func Each(ctx context.Context, q Query, fn func(Record) error) error {
	host := HostFrom(ctx)
	for {
		page, err := host.List(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range page.Items {
			if err := fn(r); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}
