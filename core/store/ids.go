package store

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new time-sortable identifier: a 26-character ULID whose
// first 10 characters are the current millisecond. IDs made in one process
// are strictly increasing.
func NewID() string {
	idMu.Lock()
	defer idMu.Unlock()
	for {
		id, err := ulid.New(ulid.Timestamp(time.Now()), idEntropy)
		if err == nil {
			return id.String()
		}
		// The monotonic entropy ran out within one millisecond: wait for the next.
		time.Sleep(time.Millisecond)
	}
}

// ValidID reports whether s has the shape of an ID made by NewID.
func ValidID(s string) bool {
	if len(s) != idLen {
		return false
	}
	_, err := ulid.ParseStrict(s)
	return err == nil
}
