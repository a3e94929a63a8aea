// Package notify sends outbound webhooks about incidents: opened,
// confirmed, rejected, escalated, SLA at risk or breached, resolved, …
//
// A [Notifier] owns one bounded queue per receiver and a fixed number of
// workers per receiver, started by Run. [Notifier.Enqueue] never blocks:
// when a receiver's queue is full the event is dropped for that receiver
// and counted, so a slow or failing receiver never holds up the caller (the
// correlation engine) nor the other receivers. Each delivery is a POST,
// signed with HMAC-SHA256 when the receiver has a secret, retried with
// exponential backoff on network errors, 429 and 5xx.
//
// Enqueue is safe for concurrent use. Delivery is at most once per attempt
// sequence and in memory only: events queued at shutdown are dropped.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigia-noc/vigia/incident"
)

// Headers set on every delivery.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body,
	// keyed with the receiver's secret (only when it has one).
	HeaderSignature = "X-Vigia-Signature"
	// HeaderTimestamp is the Unix time of the attempt, in seconds.
	HeaderTimestamp = "X-Vigia-Timestamp"
	// HeaderDelivery identifies the delivery; it is the same on every
	// retry, so a receiver can drop repeats.
	HeaderDelivery = "X-Vigia-Delivery"
	// HeaderEvent is the event kind.
	HeaderEvent = "X-Vigia-Event"
)

// Event is one notification: what happened to which incident. The default
// body is its JSON encoding.
type Event struct {
	// ID identifies the event; Enqueue sets one when empty.
	ID string `json:"id"`
	// Kind is a timeline event kind: opened, confirmed, rejected,
	// escalated, sla_at_risk, sla_breached, resolved, … (incident.EventKinds).
	Kind  string    `json:"kind"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor,omitempty"`
	// Comment is the analyst's comment or the system's explanation.
	Comment    string `json:"comment,omitempty"`
	Workaround string `json:"workaround,omitempty"`
	// Data are the event's details (reason, closure_code, level, rule, …).
	Data map[string]string `json:"data,omitempty"`
	// SLA is the incident's SLA evaluation, when the caller has it.
	SLA *incident.SLAState `json:"sla,omitempty"`
	// URL links to the incident, when the caller knows the UI's address.
	URL      string            `json:"url,omitempty"`
	Incident incident.Incident `json:"incident"`
}

// FromTimeline builds the notification of a timeline event of in.
func FromTimeline(in *incident.Incident, e incident.Event) Event {
	return Event{Kind: e.Kind, At: e.At, Actor: e.Actor, Comment: e.Comment, Data: e.Data, Incident: in.Clone()}
}

// Options configure a Notifier.
type Options struct {
	Config Config
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now defaults to time.Now; it stamps X-Vigia-Timestamp and events
	// without a time.
	Now func() time.Time
	// HTTPClient defaults to a client that does not follow redirects (a
	// redirect is a non-retryable failure). Per-attempt timeouts come from
	// the configuration, not from the client.
	HTTPClient *http.Client
}

// Notifier delivers events to the configured receivers.
type Notifier struct {
	receivers []*receiver
	logger    *slog.Logger
	metrics   *metrics
	now       func() time.Time
	client    *http.Client
	running   atomic.Bool
}

type delivery struct {
	id string
	ev *Event
}

// New validates the configuration, reads the secrets (secret_env,
// secret_file) and registers the metrics. It starts nothing: call Run.
func New(opts Options) (*Notifier, error) {
	rs, err := opts.Config.receivers()
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		rc := opts.Config.Receivers[i]
		key := fmt.Sprintf("notify.receivers[%d]", i)
		switch {
		case rc.Secret != "":
			r.secret = []byte(rc.Secret)
		case rc.SecretEnv != "":
			v := os.Getenv(rc.SecretEnv)
			if v == "" {
				return nil, fmt.Errorf("%s.secret_env: environment variable %s is empty or not set", key, rc.SecretEnv)
			}
			r.secret = []byte(v)
		case rc.SecretFile != "":
			b, err := os.ReadFile(rc.SecretFile)
			if err != nil {
				return nil, fmt.Errorf("%s.secret_file: %w", key, err)
			}
			s := strings.TrimRight(string(b), "\r\n")
			if s == "" {
				return nil, fmt.Errorf("%s.secret_file: %s is empty", key, rc.SecretFile)
			}
			r.secret = []byte(s)
		}
		r.queue = make(chan *delivery, r.capacity)
	}
	n := &Notifier{receivers: rs, logger: opts.Logger, now: opts.Now, client: opts.HTTPClient}
	if n.logger == nil {
		n.logger = slog.New(slog.DiscardHandler)
	}
	n.logger = n.logger.With("component", "notify")
	if n.now == nil {
		n.now = time.Now
	}
	if n.client == nil {
		n.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name
	}
	n.metrics = newMetrics(opts.Registerer, names)
	return n, nil
}

// Enqueue queues ev for every receiver whose filters match, without
// blocking. It reports false when the queue of at least one matching
// receiver was full and ev was dropped for it (counted in dropped_total).
// The incident is deep-copied, so the caller may keep changing its own.
func (n *Notifier) Enqueue(ev Event) bool {
	if ev.ID == "" {
		ev.ID = newID()
	}
	if ev.At.IsZero() {
		ev.At = n.now()
	}
	ev.Incident = ev.Incident.Clone()
	ev.Data = cloneMap(ev.Data)
	ok := true
	for _, r := range n.receivers {
		if !r.wants(&ev) {
			continue
		}
		select {
		case r.queue <- &delivery{id: newID(), ev: &ev}:
			n.metrics.queueLength.WithLabelValues(r.name).Inc()
		default:
			ok = false
			n.metrics.dropped.WithLabelValues(r.name).Inc()
			n.logger.Warn("queue full, notification dropped", "receiver", r.name, "kind", ev.Kind,
				"incident", ev.Incident.ID)
		}
	}
	return ok
}

func (r *receiver) wants(ev *Event) bool {
	if len(r.events) > 0 && !r.events[ev.Kind] {
		return false
	}
	return len(r.priorities) == 0 || slices.Contains(r.priorities, ev.Incident.Priority)
}

// Run delivers queued events until ctx is done, with each receiver's fixed
// number of workers. A delivery in flight at shutdown is abandoned (counted
// as failed); events still queued are counted as dropped. Run returns nil
// after a shutdown, or an error if it is already running.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("notify: already running")
	}
	defer n.running.Store(false)
	var wg sync.WaitGroup
	for _, r := range n.receivers {
		for range r.workers {
			wg.Go(func() {
				for {
					select {
					case <-ctx.Done():
						return
					case d := <-r.queue:
						n.metrics.queueLength.WithLabelValues(r.name).Dec()
						if ctx.Err() != nil { // select picked the queue over Done
							n.metrics.dropped.WithLabelValues(r.name).Inc()
							return
						}
						n.deliver(ctx, r, d)
					}
				}
			})
		}
	}
	<-ctx.Done()
	wg.Wait()
	for _, r := range n.receivers {
		for left := true; left; {
			select {
			case <-r.queue:
				n.metrics.queueLength.WithLabelValues(r.name).Dec()
				n.metrics.dropped.WithLabelValues(r.name).Inc()
			default:
				left = false
			}
		}
	}
	return nil
}

// deliver sends one delivery with retries.
func (n *Notifier) deliver(ctx context.Context, r *receiver, d *delivery) {
	log := n.logger.With("receiver", r.name, "delivery", d.id, "kind", d.ev.Kind, "incident", d.ev.Incident.ID)
	body, err := r.render(d.ev)
	if err != nil {
		n.metrics.failed.WithLabelValues(r.name).Inc()
		log.Error("render body", "err", err)
		return
	}
	for attempt := 0; ; attempt++ {
		retryAfter, err := n.attempt(ctx, r, d, body)
		if err == nil {
			n.metrics.sent.WithLabelValues(r.name).Inc()
			log.Debug("delivered", "attempts", attempt+1)
			return
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt >= r.maxRetries || ctx.Err() != nil {
			n.metrics.failed.WithLabelValues(r.name).Inc()
			log.Warn("delivery failed", "attempts", attempt+1, "err", err)
			return
		}
		wait := r.backoffFor(attempt, retryAfter)
		log.Debug("retrying", "attempt", attempt+1, "wait", wait, "err", err)
		n.metrics.retried.WithLabelValues(r.name).Inc()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			n.metrics.failed.WithLabelValues(r.name).Inc()
			log.Warn("delivery abandoned at shutdown", "attempts", attempt+1)
			return
		case <-t.C:
		}
	}
}

// backoffFor is the wait after attempt (0-based): backoff doubled per
// attempt, at least Retry-After, at most maxBackoff.
func (r *receiver) backoffFor(attempt int, retryAfter time.Duration) time.Duration {
	wait := r.backoff
	for i := 0; i < attempt && wait < r.maxBackoff; i++ {
		wait *= 2
	}
	wait = max(wait, retryAfter)
	return min(wait, r.maxBackoff)
}

type permanentError struct{ error }

// attempt makes one HTTP request. It returns nil on 2xx; a permanentError
// on answers not worth retrying; otherwise the error and the Retry-After
// the receiver asked for, if any.
func (n *Notifier) attempt(ctx context.Context, r *receiver, d *delivery, body []byte) (time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		return 0, permanentError{err}
	}
	for k, v := range r.headers {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("User-Agent", "vigia-notify/1")
	req.Header.Set(HeaderEvent, d.ev.Kind)
	req.Header.Set(HeaderDelivery, d.id)
	start := n.now()
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(start.Unix(), 10))
	if len(r.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(r.secret, body))
	}
	resp, err := n.client.Do(req)
	n.metrics.duration.WithLabelValues(r.name).Observe(n.now().Sub(start).Seconds())
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), n.now()), fmt.Errorf("receiver answered %s", resp.Status)
	}
	return 0, permanentError{fmt.Errorf("receiver answered %s", resp.Status)}
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// render makes the request body: the template's output, or the JSON event.
func (r *receiver) render(ev *Event) ([]byte, error) {
	if r.body == nil {
		return json.Marshal(ev)
	}
	var b bytes.Buffer
	if err := r.body.Execute(&b, ev); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Sign returns the X-Vigia-Signature value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is the X-Vigia-Signature of body, in
// constant time. Receivers written in Go can use it.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
