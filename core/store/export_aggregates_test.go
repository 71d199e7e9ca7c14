package store

// SetCountScanLimit lowers how many records a count or totals query reads
// when the counters cannot answer it; the returned func restores it.
func SetCountScanLimit(n int) (restore func()) {
	old := countScanLimit
	countScanLimit = n
	return func() { countScanLimit = old }
}
