package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigia-noc/vigia/auth"
)

func rateAuth(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := auth.New([]auth.TokenConfig{
		{Name: "flood", Token: "flood-secret", Roles: []auth.Role{auth.RoleIngest}},
		{Name: "calm", Token: "calm-secret", Roles: []auth.Role{auth.RoleIngest}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRateLimitPerToken: a token over its limit gets 429 with Retry-After,
// counted as rate_limited, and another token is not affected. The clock is
// fixed, so no bucket refills.
func TestRateLimitPerToken(t *testing.T) {
	env := newEnv(t, func(o *Options) {
		o.Auth = rateAuth(t)
		o.RateLimit = RateLimit{PerSecond: 0.5, Burst: 3}
	})
	am := readFixture(t, "alertmanager_v4-firing-critical-route-1alert.json")
	as := func(tok string) request {
		return request{path: pathAlertmanager, body: am, headers: map[string]string{"Authorization": "Bearer " + tok}}
	}
	for i := range 3 {
		if w := env.do(as("flood-secret")); w.Code != 202 {
			t.Fatalf("request %d within the burst: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := env.do(as("flood-secret"))
	if w.Code != 429 {
		t.Fatalf("request over the burst: %d %s, want 429", w.Code, w.Body)
	}
	if got := w.Header().Get("Retry-After"); got != "2" { // one request per 2s
		t.Errorf("Retry-After = %q, want \"2\"", got)
	}
	if w := env.do(as("calm-secret")); w.Code != 202 {
		t.Errorf("another token while the first is limited: %d %s, want 202", w.Code, w.Body)
	}
	if got := testutil.ToFloat64(env.h.metrics.rejected.WithLabelValues("alertmanager", reasonRateLimited)); got != 1 {
		t.Errorf("rejected_total{reason=rate_limited} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(env.h.metrics.requests.WithLabelValues("alertmanager", "429")); got != 1 {
		t.Errorf("requests_total{code=429} = %v, want 1", got)
	}
	if n := len(env.sink.deliveries()); n != 4 {
		t.Errorf("%d deliveries reached the sink, want 4 (the 429 must not)", n)
	}
	// An invalid token is refused by auth (401) before it can use a bucket.
	if w := env.do(as("nope")); w.Code != 401 {
		t.Errorf("invalid token: %d, want 401", w.Code)
	}
}

// TestRateLimitByAddress: without tokens the sender is the client address.
func TestRateLimitByAddress(t *testing.T) {
	env := newEnv(t, func(o *Options) { o.RateLimit = RateLimit{PerSecond: 1} }) // burst 1
	body := readFixture(t, "events_nagios-minimal-1event.json")
	from := func(addr string) int {
		req := request{path: pathEvents, body: body}
		w := env.doFrom(req, addr)
		return w.Code
	}
	if c := from("192.0.2.1:1000"); c != 202 {
		t.Fatalf("first request: %d", c)
	}
	if c := from("192.0.2.1:1001"); c != 429 {
		t.Errorf("second request from the same address: %d, want 429", c)
	}
	if c := from("192.0.2.2:1000"); c != 202 {
		t.Errorf("first request from another address: %d, want 202", c)
	}
}

// TestRateLimitOffByDefault: no limit unless configured.
func TestRateLimitOffByDefault(t *testing.T) {
	env := newEnv(t, nil)
	body := readFixture(t, "events_nagios-minimal-1event.json")
	for i := range 200 {
		if w := env.do(request{path: pathEvents, body: body}); w.Code != 202 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
}

// TestRateLimitKeysBounded: a flood of distinct senders does not grow the
// table past maxRateKeys; idle ones are forgotten.
func TestRateLimitKeysBounded(t *testing.T) {
	now := testNow
	l := newRateLimiter(RateLimit{PerSecond: 10, Burst: 1}, func() time.Time { return now })
	for i := range maxRateKeys + 500 {
		l.allow(fmt.Sprintf("k%d", i))
	}
	if n := len(l.buckets); n > maxRateKeys {
		t.Fatalf("%d buckets, want at most %d", n, maxRateKeys)
	}
	now = now.Add(time.Second) // every bucket full again: idle
	l.allow("fresh")
	if _, ok := l.buckets["fresh"]; !ok || len(l.buckets) > maxRateKeys {
		t.Errorf("after the idle ones refilled: %d buckets, fresh kept %v", len(l.buckets), ok)
	}
}

func TestNewRejectsNegativeRateLimit(t *testing.T) {
	if _, err := New(Options{Sink: &fakeSink{}, RateLimit: RateLimit{PerSecond: -1}}); err == nil {
		t.Error("New accepted a negative rate")
	}
}

// doFrom is do with the request coming from addr.
func (e *testEnv) doFrom(r request, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w
}

// TestInflightBudget: a body that does not fit in what is left of the
// in-flight budget gets 503 with Retry-After, whether its length is known
// or not; once the budget is free again it is accepted.
func TestInflightBudget(t *testing.T) {
	env := newEnv(t, func(o *Options) { o.MaxBodyBytes = 64 << 10; o.MaxInflightBytes = 64 << 10 })
	body := readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")
	release, err := env.h.inflight.reserve(64<<10 - int64(len(body)) + 1) // a large body being decoded
	if err != nil {
		t.Fatal(err)
	}
	for _, chunked := range []bool{false, true} {
		w := env.do(request{path: pathAlertmanager, body: body, chunked: chunked})
		if w.Code != 503 || w.Header().Get("Retry-After") == "" {
			t.Errorf("chunked=%v, budget spent: %d (Retry-After %q), want 503 with Retry-After", chunked, w.Code, w.Header().Get("Retry-After"))
		}
	}
	if got := testutil.ToFloat64(env.h.metrics.rejected.WithLabelValues("alertmanager", reasonOverloaded)); got != 2 {
		t.Errorf("rejected_total{reason=overloaded} = %v, want 2", got)
	}
	release()
	for _, chunked := range []bool{false, true} {
		if w := env.do(request{path: pathAlertmanager, body: body, chunked: chunked}); w.Code != 202 {
			t.Errorf("chunked=%v, budget free: %d %s, want 202", chunked, w.Code, w.Body)
		}
	}
	if used := env.h.inflight.used.Load(); used != 0 {
		t.Errorf("%d bytes still reserved after the requests", used)
	}
}
