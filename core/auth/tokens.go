package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmkit/crm/core/store"
)

const (
	secretBytes  = 32
	secretB64Len = 43 // base64url without padding of secretBytes

	// touchEvery is how often at most Authenticate writes a token's LastUsedAt.
	touchEvery = time.Minute
	// maxTouched bounds the memory of recent LastUsedAt writes.
	maxTouched = 10_000
	// purgeEvery is how often at most Login deletes expired tokens.
	purgeEvery = time.Hour
	// maxTokenName is the longest token name, in runes.
	maxTokenName = 100
	// deleteBatch is how many tokens one transaction deletes at most.
	deleteBatch = 256
)

// tokenDoc is a token as stored: its metadata and the hash of its secret,
// so that revoking can delete the hash's document too.
type tokenDoc struct {
	Token
	Hash string `json:"hash"`
}

// newSecret returns a new secret with the prefix and its hash.
func newSecret(prefix string) (secret, hash string) {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

// hashSecret is the SHA-256 of a secret in hex, the only form it is kept in.
// A secret has 256 random bits, so a fast hash is enough.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// secretKind tells the kind of token a secret claims to be from its prefix
// and shape, or "" when it cannot be one.
func secretKind(secret string) string {
	var kind, rest string
	switch {
	case strings.HasPrefix(secret, SessionPrefix):
		kind, rest = KindSession, secret[len(SessionPrefix):]
	case strings.HasPrefix(secret, APITokenPrefix):
		kind, rest = KindAPI, secret[len(APITokenPrefix):]
	default:
		return ""
	}
	if len(rest) != secretB64Len {
		return ""
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(rest); err != nil {
		return ""
	}
	return kind
}

// expired reports whether a token no longer works at now: past its
// ExpiresAt, or, for a session, past SessionTTL from its creation (so that
// shortening SessionTTL shortens the sessions already open).
func (s *Service) expired(t *Token, now time.Time) bool {
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return true
	}
	return t.Kind == KindSession && !now.Before(t.CreatedAt.Add(s.opts.SessionTTL))
}

// issue creates a token of kind for an enabled user and returns its secret;
// also, when not nil, writes more in the same transaction.
func (s *Service) issue(ctx context.Context, userID, kind, name string, expires time.Time, also func(store.SysTx) error) (string, *Token, error) {
	prefix := SessionPrefix
	if kind == KindAPI {
		prefix = APITokenPrefix
	}
	secret, hash := newSecret(prefix)
	doc := &tokenDoc{
		Token: Token{
			ID:        store.NewID(),
			UserID:    userID,
			Name:      name,
			Kind:      kind,
			CreatedAt: s.now().UTC(),
			ExpiresAt: expires,
		},
		Hash: hash,
	}
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		u, err := getUser(tx, userID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("%w: user %s is disabled", ErrForbidden, u.Email)
		}
		if err := tx.Put(kindToken, doc.ID, doc); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		return tx.Put(kindTokenHash, hash, doc.ID)
	})
	if err != nil {
		return "", nil, err
	}
	t := doc.Token
	return secret, &t, nil
}

// Login checks an e-mail and password and opens a session, returning its
// secret (a "crms_" token, shown to the client once) and the user.
//
// An unknown e-mail, a wrong password and a disabled user all give
// ErrBadCredentials, after the same work (an unknown e-mail is checked
// against a dummy hash). Before any of that, the attempt must pass the rate
// limits of ratelimit.go: for the address (the host of remoteAddr), for
// the account from that address (a success starts it afresh), and for the
// account from addresses it has not logged in from lately; otherwise Login returns a *RateLimitError without checking the password.
func (s *Service) Login(ctx context.Context, email, password, remoteAddr string) (secret string, u *User, err error) {
	now := s.now()
	email = normEmail(email)
	addr := addrKey(remoteAddr)
	if limit, err := s.admitLogin(ctx, email, addr, now); err != nil {
		var rl *RateLimitError
		if !errors.As(err, &rl) {
			return "", nil, err
		}
		s.log.WarnContext(ctx, "login rate limited", "email", email, "remote_addr", addr, "limit", limit,
			"retry_after", rl.RetryAfter.Round(time.Second).String())
		return "", nil, err
	}
	u, reason, err := s.verify(ctx, email, password)
	if err != nil {
		return "", nil, err
	}
	if reason != "" {
		s.log.WarnContext(ctx, "login failed", "email", email, "remote_addr", addr, "reason", reason)
		return "", nil, ErrBadCredentials
	}
	secret, t, err := s.issue(ctx, u.ID, KindSession, "login from "+addr, now.Add(s.opts.SessionTTL).UTC(),
		func(tx store.SysTx) error { return loginSucceeded(tx, email, addr, now) })
	if err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "login succeeded", "user", u.ID, "email", email, "remote_addr", addr, "session", t.ID)
	s.rehash(ctx, u, password)
	s.maybePurge(ctx, now)
	return secret, u, nil
}

// verify finds the user and checks the password; reason says why a login
// fails ("" when it succeeds).
func (s *Service) verify(ctx context.Context, email, password string) (*User, string, error) {
	if len(password) > MaxPasswordLen {
		return nil, "password too long", nil
	}
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_, _ = s.check(ctx, s.dummy(), password)
		return nil, "unknown e-mail", nil
	}
	if err != nil {
		return nil, "", err
	}
	ok, err := s.check(ctx, u.PasswordHash, password)
	if err != nil {
		return nil, "", fmt.Errorf("user %s: %w", u.ID, err)
	}
	switch {
	case !ok:
		return nil, "wrong password", nil
	case u.Disabled:
		return nil, "user disabled", nil
	}
	return u, "", nil
}

// rehash stores a new hash of a just-verified password when the stored one
// was made at another cost than the service's, unless the password changed
// in the meantime. Failures are only logged.
func (s *Service) rehash(ctx context.Context, u *User, password string) {
	if !s.needsRehash(u.PasswordHash) {
		return
	}
	old := u.PasswordHash
	hash, err := s.hash(ctx, password)
	if err == nil {
		err = s.st.SysUpdate(ctx, func(tx store.SysTx) error {
			cur, err := getUser(tx, u.ID)
			if err != nil || cur.PasswordHash != old {
				return err
			}
			cur.PasswordHash = hash
			return tx.Put(kindUser, cur.ID, cur)
		})
	}
	if err != nil {
		s.log.WarnContext(ctx, "password rehash failed", "user", u.ID, "err", err)
		return
	}
	u.PasswordHash = hash
}

// maybePurge deletes expired tokens at most once a purgeEvery.
func (s *Service) maybePurge(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastPurge) >= purgeEvery || now.Before(s.lastPurge)
	if due {
		s.lastPurge = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	if _, err := s.PurgeExpired(ctx); err != nil {
		s.log.WarnContext(ctx, "purging expired tokens failed", "err", err)
	}
}

// Logout ends the session whose secret is given. A secret that is not a
// live session (unknown, already ended, or an API token, which only
// RevokeToken ends) is left alone without an error.
func (s *Service) Logout(ctx context.Context, secret string) error {
	if secretKind(secret) != KindSession {
		return nil
	}
	defer s.creds.invalidate() // after the commit: see credcache.go
	hash := hashSecret(secret)
	var ended *Token
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		ended = nil
		var id string
		if err := tx.Get(kindTokenHash, hash, &id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		var doc tokenDoc
		if err := tx.Get(kindToken, id, &doc); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if doc.Kind != "" && doc.Kind != KindSession {
			return nil
		}
		if err := tx.Delete(kindTokenHash, hash); err != nil {
			return err
		}
		ended = &doc.Token
		return tx.Delete(kindToken, id)
	})
	if err != nil {
		return err
	}
	if ended != nil {
		s.announce(ctx, Revocation{Tokens: []string{ended.ID}})
		s.log.InfoContext(ctx, "logged out", "user", ended.UserID, "session", ended.ID)
	}
	return nil
}

// Authenticate returns the principal of a session or API token secret.
// It is ErrUnauthenticated (wrapped with the reason) when the secret is
// malformed, unknown, revoked or expired, or its user is disabled or gone.
// It records when the token was last used, writing at most once a minute
// per token.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	kind := secretKind(secret)
	if kind == "" {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	hash := hashSecret(secret)
	now := s.now()
	var (
		doc tokenDoc
		u   *User
	)
	// The generation is checked again after cacheCurrent: the follower
	// may have ended the entry while the head was read.
	if e := s.creds.get(hash, now); e != nil && s.cacheCurrent(ctx) && e.gen == s.creds.generation() {
		doc = e.doc
		uc := e.user
		u = &uc
	} else {
		gen := s.creds.generation() // before the reads: see credcache.go
		err := s.st.SysView(ctx, func(tx store.SysTx) error {
			var id string
			if err := tx.Get(kindTokenHash, hash, &id); err != nil {
				return err
			}
			if err := tx.Get(kindToken, id, &doc); err != nil {
				return err
			}
			var err error
			u, err = getUser(tx, doc.UserID)
			return err
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("%w: unknown or revoked token", ErrUnauthenticated)
		case errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("%w: the token's user no longer exists", ErrUnauthenticated)
		case err != nil:
			return nil, err
		}
		s.creds.put(hash, &credEntry{gen: gen, at: now, doc: doc, user: *u})
	}
	switch {
	case doc.Kind != kind || doc.Hash != hash:
		return nil, fmt.Errorf("%w: unknown or revoked token", ErrUnauthenticated)
	case s.expired(&doc.Token, now):
		return nil, fmt.Errorf("%w: token expired", ErrUnauthenticated)
	case u.Disabled:
		return nil, fmt.Errorf("%w: user disabled", ErrUnauthenticated)
	}
	perms := s.permsOf(u)
	if perms == nil {
		s.log.WarnContext(ctx, "user has a role that is not configured; it may do nothing", "user", u.ID, "role", u.Role)
	}
	t := doc.Token
	s.touch(ctx, &t, now)
	return &Principal{User: u, Token: &t, perms: perms}, nil
}

// touch writes t.LastUsedAt = now unless it was written less than
// touchEvery ago (by this process or, as the stored value says, another).
func (s *Service) touch(ctx context.Context, t *Token, now time.Time) {
	if d := now.Sub(t.LastUsedAt); d >= 0 && d < touchEvery {
		return
	}
	s.mu.Lock()
	if at, ok := s.touched[t.ID]; ok {
		if d := now.Sub(at); d >= 0 && d < touchEvery {
			s.mu.Unlock()
			return
		}
	}
	if len(s.touched) >= maxTouched {
		for id, at := range s.touched {
			if d := now.Sub(at); d < 0 || d >= touchEvery || len(s.touched) >= maxTouched {
				delete(s.touched, id)
			}
		}
	}
	s.touched[t.ID] = now
	s.mu.Unlock()

	at := now.UTC()
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		var cur tokenDoc
		if err := tx.Get(kindToken, t.ID, &cur); err != nil {
			if errors.Is(err, store.ErrNotFound) { // revoked meanwhile
				return nil
			}
			return err
		}
		if d := at.Sub(cur.LastUsedAt); d >= 0 && d < touchEvery {
			return nil
		}
		cur.LastUsedAt = at
		return tx.Put(kindToken, cur.ID, &cur)
	})
	if err != nil {
		s.log.WarnContext(ctx, "recording token use failed", "token", t.ID, "err", err)
		return
	}
	t.LastUsedAt = at
}

// CreateToken creates an API token (a "crmt_" secret, returned once) for
// an enabled user, expiring after ttl (0: never). name defaults to
// "API token".
func (s *Service) CreateToken(ctx context.Context, userID, name string, ttl time.Duration) (secret string, t *Token, err error) {
	if ttl < 0 {
		return "", nil, invalid("ttl", "ttl must not be negative")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxTokenName {
		return "", nil, invalid("name", "token name must be valid text of at most %d characters", maxTokenName)
	}
	var expires time.Time
	if ttl > 0 {
		expires = s.now().Add(ttl).UTC()
	}
	secret, t, err = s.issue(ctx, userID, KindAPI, name, expires, nil)
	if err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "api token created", "user", userID, "token", t.ID, "name", name)
	return secret, t, nil
}

// listTokens calls fn for every stored token.
func (s *Service) listTokens(ctx context.Context, fn func(*tokenDoc) error) error {
	return s.st.SysList(ctx, kindToken, "", func(key string, data []byte) error {
		var doc tokenDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("decode token %s: %w", key, err)
		}
		return fn(&doc)
	})
}

// Tokens lists the live (unexpired) sessions and API tokens of a user, or of
// every user when userID is "", oldest first.
func (s *Service) Tokens(ctx context.Context, userID string) ([]*Token, error) {
	now := s.now()
	var out []*Token
	err := s.listTokens(ctx, func(doc *tokenDoc) error {
		if (userID == "" || doc.UserID == userID) && !s.expired(&doc.Token, now) {
			t := doc.Token
			out = append(out, &t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeToken ends a session or API token by id; ErrNotFound if there is
// no such token.
func (s *Service) RevokeToken(ctx context.Context, tokenID string) error {
	defer s.creds.invalidate() // after the commit: see credcache.go
	var doc tokenDoc
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		if err := tx.Get(kindToken, tokenID, &doc); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token %s: %w", tokenID, ErrNotFound)
			}
			return err
		}
		if err := tx.Delete(kindTokenHash, doc.Hash); err != nil {
			return err
		}
		return tx.Delete(kindToken, tokenID)
	})
	if err != nil {
		return err
	}
	s.announce(ctx, Revocation{Tokens: []string{tokenID}})
	s.log.InfoContext(ctx, "token revoked", "user", doc.UserID, "token", tokenID, "kind", doc.Kind)
	return nil
}

// RevokeUserSessions ends every session of a user (not its API tokens),
// e.g. after a password change.
func (s *Service) RevokeUserSessions(ctx context.Context, userID string) error {
	var docs []*tokenDoc
	err := s.listTokens(ctx, func(doc *tokenDoc) error {
		if doc.UserID == userID && doc.Kind == KindSession {
			docs = append(docs, doc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.deleteTokens(ctx, docs); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "sessions revoked", "user", userID, "count", len(docs))
	return nil
}

// PurgeExpired deletes the expired sessions and API tokens and says how
// many. Login calls it at most once an hour; expired tokens do not work
// whether or not they have been purged.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	now := s.now()
	var docs []*tokenDoc
	err := s.listTokens(ctx, func(doc *tokenDoc) error {
		if s.expired(&doc.Token, now) {
			docs = append(docs, doc)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := s.deleteTokens(ctx, docs); err != nil {
		return 0, err
	}
	if len(docs) > 0 {
		s.log.InfoContext(ctx, "expired tokens purged", "count", len(docs))
	}
	return len(docs), nil
}

// deleteTokens deletes tokens and their hashes, a batch per transaction.
// Deleting one already gone is harmless.
func (s *Service) deleteTokens(ctx context.Context, docs []*tokenDoc) error {
	defer s.creds.invalidate() // after the commit: see credcache.go
	if len(docs) > 0 {
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		defer s.announce(ctx, Revocation{Tokens: ids})
	}
	for len(docs) > 0 {
		batch := docs[:min(len(docs), deleteBatch)]
		docs = docs[len(batch):]
		err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
			for _, d := range batch {
				if err := tx.Delete(kindTokenHash, d.Hash); err != nil {
					return err
				}
				if err := tx.Delete(kindToken, d.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
