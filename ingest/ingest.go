// Package ingest receives webhooks (contract §2): Alertmanager (version 4),
// Grafana (version 1) and generic events. It decodes each body into one
// correlate.Delivery, validates every alert, and hands the delivery to a
// [Sink] (the journal); the 202 goes out only once the Sink has it. A body
// with any invalid alert is refused whole with 400, and nothing of it is
// handed on.
//
// A [Handler] owns two pieces of state: a pool of read buffers and a bounded
// index of recently accepted alerts, which only serves to count the
// duplicates of a reply. Both are safe for concurrent use, as is the Handler:
// gin calls it from many goroutines at once.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
)

// Sink takes accepted deliveries. Put returns once d is durable (the
// journal's fsync); its error decides the reply: ErrOverloaded (wrapped or
// not) and context errors give 503 with Retry-After, anything else 500.
type Sink interface {
	Put(ctx context.Context, d correlate.Delivery) error
}

// ErrOverloaded is what a Sink returns (wrapped or not) when it cannot take
// more right now; the sender is told to retry later.
var ErrOverloaded = errors.New("ingest: overloaded")

// Options configure a Handler. Only Sink is required.
type Options struct {
	Sink Sink
	// Auth checks bearer tokens; nil or one without tokens lets everyone in.
	Auth *auth.Authenticator
	// Logger defaults to one that discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock of ReceivedAt; time.Now by default.
	Now func() time.Time
	// MaxBodyBytes caps a request body; 10 MiB by default. Larger: 413.
	MaxBodyBytes int64
	// RetryAfter is what a 503 tells senders to wait; 5s by default.
	RetryAfter time.Duration
	// SeenCapacity bounds the index of accepted alerts behind the
	// duplicates count of replies; 65536 entries by default.
	SeenCapacity int
	// Limits bound each body's content.
	Limits
	// RateLimit bounds each sender's requests (429 over it); off when zero.
	RateLimit RateLimit
	// MaxInflightBytes bounds the bytes of bodies being read and decoded at
	// once; past it, 503. DefaultMaxInflightFactor × MaxBodyBytes by default.
	MaxInflightBytes int64
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 10 << 20
	DefaultRetryAfter   = 5 * time.Second
	DefaultSeenCapacity = 1 << 16
)

// Handler serves the ingest endpoints.
type Handler struct {
	sink       Sink
	auth       *auth.Authenticator
	log        *slog.Logger
	now        func() time.Time
	maxBody    int64
	retryAfter string // seconds, for the Retry-After header
	limits     Limits
	metrics    *metrics
	seen       *seenIndex
	bufs       sync.Pool
	limiter    *rateLimiter // nil: no rate limit
	inflight   *byteBudget
}

// New checks opts and builds a Handler. It starts nothing.
func New(opts Options) (*Handler, error) {
	switch {
	case opts.Sink == nil:
		return nil, errors.New("Options.Sink is required")
	case opts.MaxBodyBytes < 0:
		return nil, fmt.Errorf("Options.MaxBodyBytes: %d is negative", opts.MaxBodyBytes)
	case opts.RetryAfter < 0:
		return nil, fmt.Errorf("Options.RetryAfter: %v is negative", opts.RetryAfter)
	case opts.SeenCapacity < 0:
		return nil, fmt.Errorf("Options.SeenCapacity: %d is negative", opts.SeenCapacity)
	case opts.MaxAlerts < 0, opts.MaxLabels < 0, opts.MaxLabelValueLength < 0, opts.MaxAnnotationValueLength < 0:
		return nil, errors.New("Options.Limits: a limit is negative")
	case opts.RateLimit.PerSecond < 0, opts.RateLimit.Burst < 0:
		return nil, errors.New("Options.RateLimit: a value is negative")
	case opts.MaxInflightBytes < 0:
		return nil, fmt.Errorf("Options.MaxInflightBytes: %d is negative", opts.MaxInflightBytes)
	}
	h := &Handler{
		sink:    opts.Sink,
		auth:    opts.Auth,
		log:     opts.Logger,
		now:     opts.Now,
		maxBody: opts.MaxBodyBytes,
		limits:  opts.Limits.withDefaults(),
		metrics: newMetrics(opts.Registerer),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "ingest")
	if h.now == nil {
		h.now = time.Now
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	retry := opts.RetryAfter
	if retry == 0 {
		retry = DefaultRetryAfter
	}
	h.retryAfter = strconv.Itoa(max(1, int(math.Ceil(retry.Seconds()))))
	seen := opts.SeenCapacity
	if seen == 0 {
		seen = DefaultSeenCapacity
	}
	h.seen = newSeenIndex(seen)
	h.limiter = newRateLimiter(opts.RateLimit, h.now)
	h.inflight = &byteBudget{max: opts.MaxInflightBytes}
	if h.inflight.max == 0 {
		h.inflight.max = DefaultMaxInflightFactor * h.maxBody
	}
	h.inflight.max = max(h.inflight.max, h.maxBody)
	h.bufs.New = func() any { return new(bytes.Buffer) }
	return h, nil
}

// Register mounts POST /api/v1/ingest/{alertmanager,grafana,events} on r.
// When tokens are configured, each requires the role ingest.
func (h *Handler) Register(r gin.IRouter) {
	for _, e := range []struct {
		path string
		src  correlate.Source
		dec  decoder
	}{
		{pathAlertmanager, correlate.SourceAlertmanager, h.limits.decodeAlertmanager},
		{pathGrafana, correlate.SourceGrafana, h.limits.decodeGrafana},
		{pathEvents, correlate.SourceEvents, h.limits.decodeEvents},
	} {
		chain := []gin.HandlerFunc{h.instrument(e.src)}
		if h.auth.Enabled() {
			chain = append(chain, h.auth.Require(auth.RoleIngest))
		}
		if h.limiter != nil {
			chain = append(chain, h.limiter.middleware(h.auth.Enabled()))
		}
		src, dec := e.src, e.dec
		chain = append(chain, func(c *gin.Context) { h.receive(c, src, dec) })
		r.POST(e.path, chain...)
	}
}

// instrument counts and times every request of one source, those that the
// auth middleware turns away included.
func (h *Handler) instrument(src correlate.Source) gin.HandlerFunc {
	s := string(src)
	duration := h.metrics.duration.WithLabelValues(s)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		code := c.Writer.Status()
		h.metrics.requests.WithLabelValues(s, strconv.Itoa(code)).Inc()
		duration.Observe(time.Since(start).Seconds())
		switch code {
		case http.StatusUnauthorized:
			h.metrics.rejected.WithLabelValues(s, reasonUnauthorized).Inc()
		case http.StatusForbidden:
			h.metrics.rejected.WithLabelValues(s, reasonForbidden).Inc()
		case http.StatusTooManyRequests:
			h.metrics.rejected.WithLabelValues(s, reasonRateLimited).Inc()
		}
	}
}

type reply struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// receive is the one receive path of every source: check the media type,
// read the capped body, decode and validate it with decode, hand it to the
// Sink, and answer 202 once the Sink has it.
func (h *Handler) receive(c *gin.Context, src correlate.Source, decode decoder) {
	if err := checkMediaType(c.Request); err != nil {
		h.fail(c, src, err)
		return
	}
	// The body's bytes count against the in-flight budget: before reading
	// when its length is known, else once read.
	known := c.Request.ContentLength
	if known <= 0 || known > h.maxBody {
		known = 0
	}
	release, err := h.inflight.reserve(known)
	if err != nil {
		h.fail(c, src, err)
		return
	}
	defer release()
	buf, err := h.readBody(c.Writer, c.Request)
	if buf != nil {
		defer h.putBuffer(buf)
	}
	if err != nil {
		h.fail(c, src, err)
		return
	}
	if known == 0 {
		release, err := h.inflight.reserve(int64(buf.Len()))
		if err != nil {
			h.fail(c, src, err)
			return
		}
		defer release()
	}
	s := string(src)
	h.metrics.bytes.WithLabelValues(s).Add(float64(buf.Len()))

	now := h.now().UTC()
	d, err := decode(buf.Bytes(), now)
	if err != nil {
		h.fail(c, src, err)
		return
	}
	ctx := c.Request.Context()
	if h.auth.Enabled() {
		d.Sender = auth.IdentityFrom(ctx).Name
	}
	if err := h.sink.Put(ctx, d.Delivery); err != nil {
		h.fail(c, src, fmt.Errorf("put %s delivery of %d alerts: %w", src, len(d.Alerts), err))
		return
	}

	dups := h.seen.observe(d.Alerts)
	h.metrics.alerts.WithLabelValues(s).Add(float64(len(d.Alerts)))
	h.metrics.duplicates.WithLabelValues(s).Add(float64(dups))
	if d.Truncated > 0 {
		h.metrics.truncated.WithLabelValues(s).Add(float64(d.Truncated))
		h.log.Warn("sender truncated alerts: raise its max_alerts", "source", s,
			"receiver", d.Receiver, "group_key", d.GroupKey, "truncated", d.Truncated, "sender", d.Sender)
	}
	c.JSON(http.StatusAccepted, reply{Accepted: len(d.Alerts), Duplicates: dups})
}

// Errors of the HTTP edge, before decoding.
var (
	errTooLarge = errors.New("request body too large")
)

type mediaTypeError struct{ msg string }

func (e *mediaTypeError) Error() string { return e.msg }

// checkMediaType accepts application/json (with any parameters) or no
// Content-Type at all, and no Content-Encoding other than identity.
func checkMediaType(r *http.Request) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return &mediaTypeError{fmt.Sprintf("Content-Encoding %q is not supported: send the body uncompressed", ce)}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &mediaTypeError{fmt.Sprintf("Content-Type %q is not supported: send application/json", ct)}
	}
	return nil
}

// readBody reads the request body into a pooled buffer, at most h.maxBody
// bytes. The buffer is returned even with an error, to go back to the pool.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, error) {
	if r.ContentLength > h.maxBody {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, fieldErr(reasonMalformed, "body", "empty body")
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // ReadFrom wants MinRead spare to see EOF
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return buf, errTooLarge
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// server.read_timeout cut a slow body: the sender may retry.
			return buf, fmt.Errorf("reading the body: %w", context.DeadlineExceeded)
		}
		return buf, fieldErr(reasonMalformed, "body", "reading the body: %v", err)
	}
	return buf, nil
}

// putBuffer keeps buffers up to 1 MiB for reuse. Decoding copies every
// string out of the body, so nothing refers to the buffer any more.
func (h *Handler) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		h.bufs.Put(b)
	}
}

type errorReply struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fail maps err to the reply, in one place: what the client may see, the
// status code (Alertmanager retries 5xx and drops 4xx), the metric reason,
// and the log.
func (h *Handler) fail(c *gin.Context, src correlate.Source, err error) {
	var (
		status int
		reason string
		body   errorReply
	)
	fe, isField := errors.AsType[*FieldError](err)
	_, isMedia := errors.AsType[*mediaTypeError](err)
	switch {
	case isField:
		status, reason = http.StatusBadRequest, fe.reason
		body = errorReply{Error: fe.Error(), Field: fe.Field}
	case errors.Is(err, errTooLarge):
		status, reason = http.StatusRequestEntityTooLarge, reasonTooLarge
		body.Error = fmt.Sprintf("body larger than %d bytes", h.maxBody)
	case isMedia:
		status, reason = http.StatusUnsupportedMediaType, reasonMediaType
		body.Error = err.Error()
	case errors.Is(err, ErrOverloaded):
		status, reason = http.StatusServiceUnavailable, reasonOverloaded
		body.Error = "overloaded: retry later"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, reason = http.StatusServiceUnavailable, reasonCanceled
		body.Error = "request canceled before the delivery was stored: retry"
	default:
		status, reason = http.StatusInternalServerError, reasonInternal
		body.Error = "internal error"
	}
	h.metrics.rejected.WithLabelValues(string(src), reason).Inc()
	switch status {
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", h.retryAfter)
		h.log.Warn("delivery not stored", "source", src, "reason", reason, "err", err)
	case http.StatusInternalServerError:
		h.log.Error("delivery not stored", "source", src, "err", err)
	default:
		h.log.Debug("request rejected", "source", src, "status", status, "reason", reason, "err", err)
	}
	c.AbortWithStatusJSON(status, body)
}
