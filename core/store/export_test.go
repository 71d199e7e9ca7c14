package store

import badger "github.com/dgraph-io/badger/v4"

// DB exposes the Badger handle to this package's benchmarks, for their raw
// baselines.
func (s *Badger) DB() *badger.DB { return s.db }

// SampleIDs returns up to n record ids of an entity.
func (s *Badger) SampleIDs(entity string, n int) []string {
	var out []string
	_ = s.db.View(func(txn *badger.Txn) error {
		p := recordPrefix(entity)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < n; it.Next() {
			out = append(out, string(it.Item().Key()[len(p):]))
		}
		return nil
	})
	return out
}

// RecordsRead returns how many records lists have read so far.
func RecordsRead() int64 { return recordsRead.Load() }

// SetSortLimit lowers MaxSortMatches for a test; the returned func restores it.
func SetSortLimit(n int) func() {
	old := sortLimit
	sortLimit = n
	return func() { sortLimit = old }
}

// SetCountCap lowers the planner's cap on counted index entries for a
// test; the returned func restores it.
func SetCountCap(n int64) func() {
	old := countCap
	countCap = n
	return func() { countCap = old }
}
