package app

import (
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the soft limit on the Go runtime's memory (heap,
// stacks and runtime structures, not the store's memory-mapped table files)
// that `crm serve` sets unless the GOMEMLIMIT environment variable sets
// another. Under it the garbage collector runs more often instead of letting
// the heap grow to twice what is live, which keeps the server's resident
// memory under 300 MB at 1M contacts (issue 15, point 5). It is soft: when
// more than this is live, the server takes it rather than failing.
const DefaultMemoryLimit = 192 << 20

// SetMemoryLimit sets the Go runtime's soft memory limit to
// DefaultMemoryLimit unless GOMEMLIMIT is set, and returns the limit in
// effect.
func SetMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(DefaultMemoryLimit)
	return DefaultMemoryLimit
}
