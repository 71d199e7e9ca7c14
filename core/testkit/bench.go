package testkit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// RunConcurrent runs fn(0..n-1) over `workers` goroutines and returns the
// time taken, or the first error.
func RunConcurrent(n, workers int, fn func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// RawBadgerWrites is the baseline of a record write: n fsynced Badger
// transactions, each setting values of the given sizes (record, history
// entry, outbox event), from the same number of concurrent writers.
func RawBadgerWrites(b testing.TB, n, workers int, sizes []int) time.Duration {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithSyncWrites(true).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	vals := make([][]byte, len(sizes))
	for i, sz := range sizes {
		vals[i] = make([]byte, sz)
	}
	d, err := RunConcurrent(n, workers, func(i int) error {
		return db.Update(func(txn *badger.Txn) error {
			for k, v := range vals {
				if err := txn.Set(fmt.Appendf(nil, "k/%d/%d", k, i), v); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}
