package auth

import (
	"net"
	"strings"
	"time"

	"golang.org/x/time/rate"
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
const (
	addrBurst    = 20
	addrEvery    = 3 * time.Second
	pairBurst    = 5
	pairEvery    = 30 * time.Second
	accountBurst = 50
	accountEvery = 10 * time.Second
	knownFor     = 30 * 24 * time.Hour

	// sweepEvery is how often Login drops the limiters that have refilled
	// (they are the same as new ones) and the known addresses that are
	// too old; maxLimiters bounds each map even when an attacker keeps
	// many of them busy.
	sweepEvery  = time.Minute
	maxLimiters = 50_000
)

// limiters are the in-memory login limiters, guarded by Service.mu.
type limiters struct {
	addr      map[string]*rate.Limiter // host part of the remote address
	pair      map[string]*rate.Limiter // pairKey(e-mail, address)
	account   map[string]*rate.Limiter // normalised e-mail
	known     map[string]time.Time     // pairKey -> last successful login
	lastSweep time.Time
}

func newLimiters() limiters {
	return limiters{
		addr: map[string]*rate.Limiter{}, pair: map[string]*rate.Limiter{},
		account: map[string]*rate.Limiter{}, known: map[string]time.Time{},
	}
}

func pairKey(email, addr string) string { return email + "\x00" + addr }

// addrKey is the host part of a remote address ("203.0.113.7:5123" ->
// "203.0.113.7"), or the address itself when it has no port.
func addrKey(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return strings.TrimSpace(remoteAddr)
}

// retryAfter is how long until lim has one token at now.
func retryAfter(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
}

// admitLogin takes one attempt from the address's limiter, then from the
// account-and-address limiter, then (unless the owner logged in from this
// address lately) from the account's, and returns a *RateLimitError and
// the name of the limit at the first that is exhausted; a refused attempt
// takes nothing from the limits after it, so an attacker held back by his
// address's limits does not use up the account's.
func (s *Service) admitLogin(email, addr string, now time.Time) (limit string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)

	take := func(m map[string]*rate.Limiter, key string, every time.Duration, burst int) error {
		lim := m[key]
		if lim == nil {
			lim = rate.NewLimiter(rate.Every(every), burst)
			m[key] = lim
		}
		if !lim.AllowN(now, 1) {
			return &RateLimitError{RetryAfter: retryAfter(lim, now)}
		}
		return nil
	}
	pk := pairKey(email, addr)
	if err := take(s.limits.addr, addr, addrEvery, addrBurst); err != nil {
		return "address", err
	}
	if err := take(s.limits.pair, pk, pairEvery, pairBurst); err != nil {
		return "account and address", err
	}
	if at, ok := s.limits.known[pk]; ok && now.Sub(at) < knownFor {
		return "", nil
	}
	if err := take(s.limits.account, email, accountEvery, accountBurst); err != nil {
		return "account", err
	}
	return "", nil
}

// loginSucceeded starts the account's limiter for the address afresh and
// remembers the address as one the owner logs in from.
func (s *Service) loginSucceeded(email, addr string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pk := pairKey(email, addr)
	delete(s.limits.pair, pk)
	if _, ok := s.limits.known[pk]; ok || len(s.limits.known) < maxLimiters {
		s.limits.known[pk] = now
	}
}

// sweepLocked drops the limiters that have refilled, once a sweepEvery or
// when a map is over maxLimiters; if a map is still over maxLimiters it
// drops arbitrary ones (letting those keys start afresh) to stay bounded.
// It also forgets old LastUsedAt writes. s.mu is held.
func (s *Service) sweepLocked(now time.Time) {
	over := len(s.limits.account) > maxLimiters || len(s.limits.addr) > maxLimiters || len(s.limits.pair) > maxLimiters
	if since := now.Sub(s.limits.lastSweep); !over && since >= 0 && since < sweepEvery {
		return
	}
	s.limits.lastSweep = now
	for k, at := range s.limits.known {
		if now.Sub(at) >= knownFor || at.After(now) {
			delete(s.limits.known, k)
		}
	}
	for _, m := range []map[string]*rate.Limiter{s.limits.addr, s.limits.pair, s.limits.account} {
		for k, lim := range m {
			if lim.TokensAt(now) >= float64(lim.Burst()) {
				delete(m, k)
			}
		}
		if len(m) > maxLimiters {
			s.log.Warn("login limiters over capacity; dropping some", "count", len(m), "max", maxLimiters)
			for k := range m {
				if len(m) <= maxLimiters*9/10 {
					break
				}
				delete(m, k)
			}
		}
	}
	for id, at := range s.touched {
		if now.Sub(at) >= touchEvery || at.After(now) {
			delete(s.touched, id)
		}
	}
}
