package auth

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxFailureKeys bounds the client addresses tracked at once. Past it,
// addresses with a full allowance are forgotten, and if none has, every new
// address shares one allowance: a flood of fresh addresses cannot grow
// memory.
const maxFailureKeys = 10000

// failureLimiter counts invalid tokens per client address. Each address has
// an allowance of max failures that refills at max per window; once it is
// spent, every request from that address is refused with 429 (whatever its
// token, so that the limit leaves no oracle) until the allowance refills.
type failureLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu       sync.Mutex
	addrs    map[string]*rate.Limiter
	overflow *rate.Limiter
}

// LimitFailures turns on the limit of failed logins: after max invalid
// tokens from one client address, requests from that address get 429 with
// Retry-After until the allowance, which refills at max per window, allows
// one more. max <= 0 or window <= 0 turns it off. Call it before serving.
func (a *Authenticator) LimitFailures(max int, window time.Duration) {
	if a == nil {
		return
	}
	if max <= 0 || window <= 0 {
		a.failures = nil
		return
	}
	lim := rate.Limit(float64(max) / window.Seconds())
	a.failures = &failureLimiter{
		limit:    lim,
		burst:    max,
		now:      time.Now,
		addrs:    make(map[string]*rate.Limiter),
		overflow: rate.NewLimiter(lim, max),
	}
}

func (l *failureLimiter) bucket(addr string, now time.Time, create bool) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.addrs[addr]; ok || !create {
		return b
	}
	if len(l.addrs) >= maxFailureKeys {
		for k, b := range l.addrs {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.addrs, k)
			}
		}
		if len(l.addrs) >= maxFailureKeys {
			return l.overflow
		}
	}
	b := rate.NewLimiter(l.limit, l.burst)
	l.addrs[addr] = b
	return b
}

// locked reports whether addr has spent its allowance, and if so how long
// until it may try again.
func (l *failureLimiter) locked(addr string) (time.Duration, bool) {
	now := l.now()
	b := l.bucket(addr, now, false)
	if b == nil {
		l.mu.Lock()
		full := len(l.addrs) >= maxFailureKeys
		l.mu.Unlock()
		if !full {
			return 0, false
		}
		b = l.overflow
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return 0, false
	}
	return time.Duration((1 - tokens) / float64(l.limit) * float64(time.Second)), true
}

// failed counts one invalid token from addr. It reports whether that spent
// the allowance (the address is locked out from now on).
func (l *failureLimiter) failed(addr string) bool {
	now := l.now()
	b := l.bucket(addr, now, true)
	b.AllowN(now, 1)
	return b.TokensAt(now) < 1
}

// retryAfter is the Retry-After value for a wait: whole seconds, at least 1.
func retryAfter(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }
