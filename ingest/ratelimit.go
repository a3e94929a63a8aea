package ingest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/vigia-noc/vigia/auth"
)

// RateLimit bounds the requests of each sender (config ingest.rate_limit).
// A sender is a token's name when tokens are configured, else the client's
// address. Over the limit a request gets 429 with Retry-After, before its
// body is read. The zero value is no limit.
type RateLimit struct {
	// PerSecond is the steady rate of requests allowed to one sender; 0 is
	// no limit.
	PerSecond float64
	// Burst is how many requests a sender may make at once above the steady
	// rate; 0 means ceil(PerSecond).
	Burst int
}

// maxRateKeys bounds the senders tracked at once. Past it, idle senders
// (full buckets) are forgotten, and if none is idle every new sender shares
// one bucket: a flood of fresh client addresses cannot grow memory.
const maxRateKeys = 10000

// rateLimiter holds one token bucket per sender.
type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	overflow *rate.Limiter
}

func newRateLimiter(rl RateLimit, now func() time.Time) *rateLimiter {
	if rl.PerSecond <= 0 {
		return nil
	}
	burst := rl.Burst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rl.PerSecond)))
	}
	return &rateLimiter{
		limit:    rate.Limit(rl.PerSecond),
		burst:    burst,
		now:      now,
		buckets:  make(map[string]*rate.Limiter),
		overflow: rate.NewLimiter(rate.Limit(rl.PerSecond), burst),
	}
}

// bucket returns key's bucket, creating it if needed.
func (l *rateLimiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if len(l.buckets) >= maxRateKeys {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= maxRateKeys {
			return l.overflow
		}
	}
	b := rate.NewLimiter(l.limit, l.burst)
	l.buckets[key] = b
	return b
}

// allow takes one request from key's bucket, or returns how long until
// one is available.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	now := l.now()
	b := l.bucket(key, now)
	if b.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.TokensAt(now)
	return false, time.Duration(missing / float64(l.limit) * float64(time.Second))
}

// middleware answers 429 with Retry-After to a sender over its limit. It
// runs after authentication, so the identity is known.
func (l *rateLimiter) middleware(authOn bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.RemoteIP()
		if authOn {
			key = "token:" + auth.IdentityFrom(c.Request.Context()).Name
		}
		ok, wait := l.allow(key)
		if ok {
			c.Next()
			return
		}
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, errorReply{Error: "rate limit of this sender exceeded: retry later"})
	}
}

// DefaultMaxInflightFactor sets the default of Options.MaxInflightBytes:
// this many times MaxBodyBytes.
const DefaultMaxInflightFactor = 4

// byteBudget bounds the bytes of request bodies held and decoded at once.
// Decoding takes several times a body's size (a map of a million tiny
// labels, ten times), so without it a few dozen concurrent 10 MiB bodies
// would take gigabytes. Past the budget a request gets 503 with
// Retry-After, which senders retry.
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// reserve takes n bytes of the budget and returns the function that gives
// them back, or an error wrapping ErrOverloaded.
func (b *byteBudget) reserve(n int64) (func(), error) {
	if b == nil || n <= 0 {
		return func() {}, nil
	}
	if used := b.used.Add(n); used > b.max {
		b.used.Add(-n)
		return nil, fmt.Errorf("%w: %d bytes of request bodies in flight, at most %d", ErrOverloaded, used-n, b.max)
	}
	return func() { b.used.Add(-n) }, nil
}
