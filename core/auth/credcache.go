package auth

import (
	"sync"
	"sync/atomic"
	"time"
)

// The credential cache spares a request the store reads of Authenticate
// (the token's hash, the token, its user, each a JSON document) when the
// same secret was authenticated a moment ago.
//
// It never lets a revoked credential through: every write of this package
// that can end or narrow a credential (logout, token revocation, a purge,
// any change of a user: disabling, a role, a password) bumps the cache's
// generation when its transaction has committed, and an entry is used
// only when it was read in the current generation. A reader takes the
// generation before it reads the store, so an entry read before a
// revocation committed can never be used after it. Expiry, a disabled
// user and the role's permissions are still checked on every request from
// the cached documents and the roles in force. The store is written only
// through this package within one process (Badger locks its directory), so
// the generation sees every change; credCacheTTL bounds an entry's life
// all the same.
const (
	// credCacheTTL is how long an authenticated credential is kept.
	credCacheTTL = 10 * time.Second
	// credCacheMax is how many credentials are kept; past it the cache
	// starts afresh.
	credCacheMax = 10_000
)

// credEntry is what Authenticate read for a secret's hash.
type credEntry struct {
	gen  uint64    // the generation it was read in
	at   time.Time // when it was read, by the service's clock
	doc  tokenDoc
	user User
}

// credCache maps the hashes of secrets to what Authenticate read for them.
type credCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[string]*credEntry
}

func newCredCache() *credCache { return &credCache{m: map[string]*credEntry{}} }

// generation is the generation to read the store in; take it before
// reading.
func (c *credCache) generation() uint64 { return c.gen.Load() }

// get returns the entry for hash if it is of the current generation and
// younger than credCacheTTL at now.
func (c *credCache) get(hash string, now time.Time) *credEntry {
	c.mu.RLock()
	e := c.m[hash]
	c.mu.RUnlock()
	if e == nil || e.gen != c.gen.Load() {
		return nil
	}
	if age := now.Sub(e.at); age < 0 || age >= credCacheTTL {
		return nil
	}
	return e
}

// put keeps what was read for hash in generation gen.
func (c *credCache) put(hash string, e *credEntry) {
	c.mu.Lock()
	if len(c.m) >= credCacheMax {
		c.m = make(map[string]*credEntry)
	}
	c.m[hash] = e
	c.mu.Unlock()
}

// invalidate ends every entry: call it after a write that may end or
// narrow a credential has committed (or failed).
func (c *credCache) invalidate() {
	c.gen.Add(1)
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
