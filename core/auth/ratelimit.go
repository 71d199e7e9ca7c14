package auth

import (
	"net"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Login rate limits. An account may fail accountBurst logins in a row, then
// one more every accountEvery; a success resets it. An address may try
// addrBurst logins, then one every addrEvery, whatever their outcome.
const (
	accountBurst = 5
	accountEvery = 30 * time.Second
	addrBurst    = 20
	addrEvery    = 3 * time.Second

	// sweepEvery is how often Login drops the limiters that have refilled
	// (they are the same as new ones); maxLimiters bounds each map even
	// when an attacker keeps many of them busy.
	sweepEvery  = time.Minute
	maxLimiters = 50_000
)

// limiters are the in-memory login limiters, guarded by Service.mu.
type limiters struct {
	account   map[string]*rate.Limiter // normalised e-mail
	addr      map[string]*rate.Limiter // host part of the remote address
	lastSweep time.Time
}

func newLimiters() limiters {
	return limiters{account: map[string]*rate.Limiter{}, addr: map[string]*rate.Limiter{}}
}

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

// admitLogin takes one attempt from the address's and the account's
// limiters, or returns a *RateLimitError without taking from the account's
// when the address is limited. Every attempt counts against the address;
// against the account every attempt counts too, but a success resets it
// (loginSucceeded), so that only failures add up.
func (s *Service) admitLogin(email, addr string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)

	al := s.limits.addr[addr]
	if al == nil {
		al = rate.NewLimiter(rate.Every(addrEvery), addrBurst)
		s.limits.addr[addr] = al
	}
	if !al.AllowN(now, 1) {
		return &RateLimitError{RetryAfter: retryAfter(al, now)}
	}
	el := s.limits.account[email]
	if el == nil {
		el = rate.NewLimiter(rate.Every(accountEvery), accountBurst)
		s.limits.account[email] = el
	}
	if !el.AllowN(now, 1) {
		return &RateLimitError{RetryAfter: retryAfter(el, now)}
	}
	return nil
}

// loginSucceeded resets the account's limiter.
func (s *Service) loginSucceeded(email string) {
	s.mu.Lock()
	delete(s.limits.account, email)
	s.mu.Unlock()
}

// sweepLocked drops the limiters that have refilled, once a sweepEvery or
// when a map is over maxLimiters; if a map is still over maxLimiters it
// drops arbitrary ones (letting those keys start afresh) to stay bounded.
// It also forgets old LastUsedAt writes. s.mu is held.
func (s *Service) sweepLocked(now time.Time) {
	over := len(s.limits.account) > maxLimiters || len(s.limits.addr) > maxLimiters
	if since := now.Sub(s.limits.lastSweep); !over && since >= 0 && since < sweepEvery {
		return
	}
	s.limits.lastSweep = now
	for _, m := range []map[string]*rate.Limiter{s.limits.account, s.limits.addr} {
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
