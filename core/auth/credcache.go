package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
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
// the cached documents and the roles in force.
//
// Several nodes may share one store: a revocation on one node must end
// the entries of every other. Each such write is announced in the change
// feed (RevokedEvent, after its commit), and every node follows the feed
// (FollowRevocations) and bumps its generation when it reads one. Until a
// node's follower has read the whole feed (its position is behind the
// committed head, which a store shared by several processes reads from
// its storage: store.FeedHead), the node does not use its cache, so that
// an announced revocation is in force on every node as soon as its
// announcement has committed. The head is read after the entry is found
// and the entry's generation checked again after it, so that an entry
// the follower ended in between is not used. credCacheTTL bounds an entry's life all the same (and is the
// bound when an announcement could not be written).
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

// RevokedEvent is the change-feed event that announces a write that may
// end or narrow a credential (a logout, a revoked token, a changed user),
// so that every node drops its cached credentials and closes the
// websockets of what it ended. Its payload is a Revocation's fields
// (tokens, user, ended); rules and plugins do not see it.
const RevokedEvent = "_auth.revoked"

// maxRevokedIDs bounds the token ids one RevokedEvent carries (a purge of
// many expired tokens); past it the ids are left out, and websockets of
// the tokens left out close at their periodic re-check.
const maxRevokedIDs = 1000

// Revocation is what a RevokedEvent says ended: sessions or API tokens by
// id, and a user whose every credential ended (UserEnded: disabled or
// deleted) or changed (a role, a password: the caches drop it, sockets
// stay and are re-checked).
type Revocation struct {
	Tokens    []string
	User      string
	UserEnded bool
}

// Payload is the RevokedEvent's payload of r.
func (r Revocation) Payload() map[string]any {
	ids := r.Tokens
	if len(ids) > maxRevokedIDs {
		ids = nil
	}
	list := make([]any, len(ids))
	for i, id := range ids {
		list[i] = id
	}
	return map[string]any{"tokens": list, "user": r.User, "ended": r.UserEnded}
}

// RevocationOf reads a RevokedEvent's payload (the values of its record);
// what is missing or of another type is left empty.
func RevocationOf(values map[string]any) Revocation {
	var r Revocation
	if list, ok := values["tokens"].([]any); ok {
		for _, v := range list {
			if id, ok := v.(string); ok && id != "" {
				r.Tokens = append(r.Tokens, id)
			}
		}
	}
	r.User, _ = values["user"].(string)
	r.UserEnded, _ = values["ended"].(bool)
	return r
}

// announce drops this node's cached credentials and tells the other nodes
// (and every node's websocket hub) what ended: call it after a write that
// may end or narrow a credential has committed. A failure is logged; the
// cache's TTL still bounds how long other nodes may use what they cached.
func (s *Service) announce(ctx context.Context, r Revocation) {
	s.creds.invalidate()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.st.Emit(ctx, store.EmitRequest{Name: RevokedEvent, Payload: r.Payload()}); err != nil {
		s.log.ErrorContext(ctx, "announce a revocation to the other nodes", "err", err)
	}
}

// FollowRevocations reads the change feed from now until ctx is done and
// drops the cached credentials at every RevokedEvent, from whichever node
// it came. Until it runs, the cache trusts its generation alone (right
// for one node); a server runs it on every node. sch decodes the feed.
func (s *Service) FollowRevocations(ctx context.Context, sch *schema.Schema) error {
	c := feed.New(s.st, sch, func(_ context.Context, batch []feed.Event) error {
		for i := range batch {
			if batch[i].Entity+"."+batch[i].Op == RevokedEvent {
				s.creds.invalidate()
				break
			}
		}
		return nil
	}, feed.Options{From: s.st.LastSeq(), Batch: 1024, Logger: s.log.With(slog.String("component", "auth"))})
	s.follow.Store(c)
	defer s.follow.Store(nil)
	if err := c.Run(ctx); err != nil {
		return fmt.Errorf("follow revocations: %w", err)
	}
	return nil
}

// cacheCurrent reports whether the cache may be used: no follower runs,
// or it has read every event committed so far. When the store can read
// the committed head from its shared storage (store.FeedHead: PostgreSQL,
// one query), that head is the bound, so that a revocation another node
// has committed is in force here before this node's notification of it
// arrives; otherwise (Badger, one process) LastSeq is. A failure to read
// the head does not use the cache.
func (s *Service) cacheCurrent(ctx context.Context) bool {
	f := s.follow.Load()
	if f == nil {
		return true
	}
	head := s.st.LastSeq()
	if h, ok := s.st.(store.FeedHead); ok {
		var err error
		if head, err = h.Head(ctx); err != nil {
			s.log.WarnContext(ctx, "read the feed head; the credential cache is not used", "err", err)
			return false
		}
	}
	return f.Position() >= head
}
