package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/crmkit/crm/core/store"
)

// Login rate limits, three of them, so that someone hammering an account
// cannot lock its owner out:
//
//   - an address may try addrBurst logins, then one every addrEvery,
//     whatever their outcome;
//   - an account may be tried from one address pairBurst times, then once
//     every pairEvery; a success from that address starts it afresh;
//   - an account may be tried accountBurst times from all the addresses it
//     has not logged in from lately (knownFor), then once every
//     accountEvery. This slower limit stops a guess spread over many
//     addresses; an address the owner logged in from is exempt, and one
//     attacker's address cannot drain it (its own pair limit bites first).
//
// The limits live in the store (system documents, one token bucket per
// limit and key, read and written in one SysUpdate per attempt), so every
// crm node that shares the store counts the same attempts: a guesser
// spreading attempts over nodes behind a load balancer meets the same
// limits as against one node. A login pays one small store write for
// them, next to the password hash it computes anyway.
//
// Stored documents (store kinds):
//
//	login_limit  key "addr/ADDR", "pair/ADDR/EMAIL", "account/EMAIL" -> bucket
//	login_known  key "ADDR/EMAIL" -> when the owner last logged in from ADDR
const (
	addrBurst    = 20
	addrEvery    = 3 * time.Second
	pairBurst    = 5
	pairEvery    = 30 * time.Second
	accountBurst = 50
	accountEvery = 10 * time.Second
	knownFor     = 30 * 24 * time.Hour

	// sweepEvery is how often a node's Login drops the buckets that have
	// refilled (they are the same as none) and the known addresses that
	// are too old.
	sweepEvery = time.Minute

	kindLoginLimit = "login_limit"
	kindLoginKnown = "login_known"
)

// limits are the login limits' parts that stay in memory: when this node
// last swept the stored ones. Guarded by Service.mu.
type limiters struct {
	lastSweep time.Time
}

func newLimiters() limiters { return limiters{} }

// limit is one of the three login limits.
type limit struct {
	name   string // as logged
	prefix string // of its buckets' keys
	every  time.Duration
	burst  int
}

var (
	addrLimit    = limit{"address", "addr/", addrEvery, addrBurst}
	pairLimit    = limit{"account and address", "pair/", pairEvery, pairBurst}
	accountLimit = limit{"account", "account/", accountEvery, accountBurst}
	allLimits    = []limit{addrLimit, pairLimit, accountLimit}
)

// bucket is a limit's stored token bucket for one key: Tokens at At.
type bucket struct {
	Tokens float64   `json:"tokens"`
	At     time.Time `json:"at"`
}

// tokensAt is how many tokens the bucket holds at now, refilled one every
// l.every up to l.burst.
func (b *bucket) tokensAt(l limit, now time.Time) float64 {
	t := b.Tokens
	if now.After(b.At) {
		t += now.Sub(b.At).Seconds() / l.every.Seconds()
	}
	return min(t, float64(l.burst))
}

// pairKey names an account tried from an address (an address has no '/').
func pairKey(email, addr string) string { return addr + "/" + email }

// addrKey is the host part of a remote address ("203.0.113.7:5123" ->
// "203.0.113.7"), or the address itself when it has no port.
func addrKey(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return strings.TrimSpace(remoteAddr)
}

// admitLogin takes one attempt from the address's limit, then from the
// account-and-address limit, then (unless the owner logged in from this
// address lately) from the account's, and returns a *RateLimitError and
// the name of the limit at the first that is exhausted; a refused attempt
// takes nothing from the limits after it, so an attacker held back by his
// address's limits does not use up the account's. The limits are read and
// taken in one store transaction.
func (s *Service) admitLogin(ctx context.Context, email, addr string, now time.Time) (string, error) {
	s.sweep(ctx, now)
	pk := pairKey(email, addr)
	var refused string
	var rl *RateLimitError
	err := s.st.SysUpdate(ctx, func(tx store.SysTx) error {
		refused, rl = "", nil
		take := func(l limit, key string) (bool, error) {
			var b bucket
			if err := tx.Get(kindLoginLimit, l.prefix+key, &b); err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					return false, err
				}
				b = bucket{Tokens: float64(l.burst), At: now}
			}
			tokens := b.tokensAt(l, now)
			if tokens < 1 {
				refused = l.name
				rl = &RateLimitError{RetryAfter: time.Duration((1 - tokens) * float64(l.every))}
				return false, nil
			}
			return true, tx.Put(kindLoginLimit, l.prefix+key, bucket{Tokens: tokens - 1, At: now.UTC()})
		}
		if ok, err := take(addrLimit, addr); !ok || err != nil {
			return err
		}
		if ok, err := take(pairLimit, pk); !ok || err != nil {
			return err
		}
		var at time.Time
		err := tx.Get(kindLoginKnown, pk, &at)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && now.Sub(at) < knownFor && !at.After(now) {
			return nil
		}
		_, err = take(accountLimit, email)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("login limits: %w", err)
	}
	if rl != nil {
		return refused, rl
	}
	return "", nil
}

// loginSucceeded starts the account's limit for the address afresh and
// remembers the address as one the owner logs in from, in the transaction
// that opens the session.
func loginSucceeded(tx store.SysTx, email, addr string, now time.Time) error {
	pk := pairKey(email, addr)
	if err := tx.Delete(kindLoginLimit, pairLimit.prefix+pk); err != nil {
		return err
	}
	return tx.Put(kindLoginKnown, pk, now.UTC())
}

// sweep drops, once a sweepEvery on this node, the stored buckets that
// have refilled and the known addresses that are too old, and forgets old
// LastUsedAt writes. Failures are only logged.
func (s *Service) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if since := now.Sub(s.limits.lastSweep); since >= 0 && since < sweepEvery {
		s.mu.Unlock()
		return
	}
	s.limits.lastSweep = now
	for id, at := range s.touched {
		if now.Sub(at) >= touchEvery || at.After(now) {
			delete(s.touched, id)
		}
	}
	s.mu.Unlock()
	var limits, known []string
	err := s.st.SysList(ctx, kindLoginLimit, "", func(key string, data []byte) error {
		var b bucket
		if json.Unmarshal(data, &b) != nil {
			limits = append(limits, key)
			return nil
		}
		for _, l := range allLimits {
			if strings.HasPrefix(key, l.prefix) && b.tokensAt(l, now) >= float64(l.burst) {
				limits = append(limits, key)
			}
		}
		return nil
	})
	if err == nil {
		err = s.st.SysList(ctx, kindLoginKnown, "", func(key string, data []byte) error {
			var at time.Time
			if json.Unmarshal(data, &at) != nil || now.Sub(at) >= knownFor {
				known = append(known, key)
			}
			return nil
		})
	}
	for err == nil && len(limits)+len(known) > 0 {
		nl, nk := min(len(limits), deleteBatch), min(len(known), deleteBatch)
		bl, bk := limits[:nl], known[:nk]
		limits, known = limits[nl:], known[nk:]
		err = s.st.SysUpdate(ctx, func(tx store.SysTx) error {
			for _, k := range bl {
				var b bucket
				// Read again: another node may have taken from it since.
				if e := tx.Get(kindLoginLimit, k, &b); e == nil && !refilled(k, &b, now) {
					continue
				}
				if err := tx.Delete(kindLoginLimit, k); err != nil {
					return err
				}
			}
			for _, k := range bk {
				var at time.Time
				if e := tx.Get(kindLoginKnown, k, &at); e == nil && now.Sub(at) < knownFor {
					continue
				}
				if err := tx.Delete(kindLoginKnown, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "sweeping login limits failed", "err", err)
	}
}

// refilled reports whether the bucket under key is full at now.
func refilled(key string, b *bucket, now time.Time) bool {
	for _, l := range allLimits {
		if strings.HasPrefix(key, l.prefix) {
			return b.tokensAt(l, now) >= float64(l.burst)
		}
	}
	return true
}
