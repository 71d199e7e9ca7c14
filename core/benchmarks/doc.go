// Package benchmarks holds the side-by-side benchmark of the list API
// (BenchmarkCompare in compare_test.go): a real `crm serve` process against
// PocketBase and a raw Badger baseline, over the same records, in one run.
// `make bench-compare` runs it. The package has no code of its own.
package benchmarks
