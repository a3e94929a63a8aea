package notify

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/vigia-noc/vigia/incident"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func testIncident() incident.Incident {
	return incident.Incident{ID: "INC-000042", Status: incident.StatusConfirmed, Priority: incident.P1,
		Title: "LinkDown on core-dc1", OpenedAt: t0, Labels: map[string]string{"alertname": "LinkDown"},
		Level: incident.L2, AssignmentGroup: "noc-l2"}
}

func intp(i int) *int { return &i }

func newNotifier(t *testing.T, cfg Config, reg prometheus.Registerer, client *http.Client) *Notifier {
	t.Helper()
	n, err := New(Options{Config: cfg, Registerer: reg, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// run starts n.Run and returns a stop function that cancels it and waits.
func run(t *testing.T, n *Notifier) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// eventually polls cond: real network I/O cannot run under synctest.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSignedDeliveryOverLoopback: a real HTTP server on loopback receives
// the event as JSON with a verifiable signature, the headers, and the
// configured extra header.
func TestSignedDeliveryOverLoopback(t *testing.T) {
	type got struct {
		header http.Header
		body   []byte
	}
	reqs := make(chan got, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- got{r.Header.Clone(), b}
	}))
	defer srv.Close()

	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Receivers = []ReceiverConfig{{Name: "itsm", URL: srv.URL + "/hook", SecretFile: secretFile,
		Events: []string{incident.KindEscalated}, Headers: map[string]string{"authorization": "Bearer x"}}}
	reg := prometheus.NewRegistry()
	n := newNotifier(t, cfg, reg, nil)
	stop := run(t, n)
	defer stop()

	in := testIncident()
	if !n.Enqueue(Event{Kind: incident.KindConfirmed, Incident: in}) {
		t.Fatal("filtered event reported as dropped")
	}
	ev := FromTimeline(&in, incident.Event{IncidentID: in.ID, At: t0, Actor: incident.ActorSystem,
		Kind: incident.KindEscalated, Comment: `escalation rule "unacked"`, Data: map[string]string{"level": "L2"}})
	if !n.Enqueue(ev) {
		t.Fatal("enqueue failed")
	}
	in.Labels["alertname"] = "changed after enqueue" // must not reach the receiver

	var g got
	select {
	case g = <-reqs:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	if !Verify([]byte("s3cret"), g.body, g.header.Get(HeaderSignature)) {
		t.Errorf("signature %q does not verify", g.header.Get(HeaderSignature))
	}
	if !strings.HasPrefix(g.header.Get(HeaderSignature), "sha256=") || len(g.header.Get(HeaderSignature)) != 7+64 {
		t.Errorf("signature format %q", g.header.Get(HeaderSignature))
	}
	if g.header.Get(HeaderEvent) != "escalated" || len(g.header.Get(HeaderDelivery)) != 32 ||
		g.header.Get(HeaderTimestamp) == "" || g.header.Get("Authorization") != "Bearer x" ||
		g.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", g.header)
	}
	var back Event
	if err := json.Unmarshal(g.body, &back); err != nil {
		t.Fatal(err)
	}
	if back.Kind != "escalated" || back.Incident.ID != "INC-000042" || back.Incident.Level != incident.L2 ||
		back.Data["level"] != "L2" || back.Incident.Labels["alertname"] != "LinkDown" || back.ID == "" || !back.At.Equal(t0) {
		t.Errorf("body %s", g.body)
	}
	eventually(t, "sent_total", func() bool { return testutil.ToFloat64(n.metrics.sent.WithLabelValues("itsm")) == 1 })
	select {
	case g := <-reqs:
		t.Errorf("filtered event delivered: %s", g.body)
	default:
	}
	if c, err := testutil.GatherAndCount(reg, "vigia_notify_sent_total", "vigia_notify_failed_total",
		"vigia_notify_retried_total", "vigia_notify_dropped_total", "vigia_notify_queue_length"); err != nil || c != 5 {
		t.Errorf("metrics registered: %d %v", c, err)
	}
}

// TestRetriesOverLoopback: 500, 500, then 200 is three attempts with the
// same delivery id; a 400 is not retried.
func TestRetriesOverLoopback(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ids = append(ids, r.Header.Get(HeaderDelivery))
		if len(ids) <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Backoff, cfg.MaxBackoff = incident.Duration(time.Millisecond), incident.Duration(10*time.Millisecond)
	cfg.Receivers = []ReceiverConfig{{Name: "flaky", URL: srv.URL}, {Name: "bad", URL: srv.URL + "/bad"}}
	n := newNotifier(t, cfg, prometheus.NewRegistry(), nil)
	stop := run(t, n)
	defer stop()
	n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()})

	m := n.metrics
	eventually(t, "delivery", func() bool {
		return testutil.ToFloat64(m.sent.WithLabelValues("flaky")) == 1 && testutil.ToFloat64(m.failed.WithLabelValues("bad")) == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("attempts %v", ids)
	}
	if r := testutil.ToFloat64(m.retried.WithLabelValues("flaky")); r != 2 {
		t.Errorf("retried %v", r)
	}
	if r := testutil.ToFloat64(m.retried.WithLabelValues("bad")); r != 0 {
		t.Errorf("4xx retried %v times", r)
	}
}

// TestDownReceiverDoesNotBlock: a receiver whose port refuses connections
// never blocks Enqueue; what does not fit in its queue is dropped and
// counted, and a healthy receiver still gets everything.
func TestDownReceiverDoesNotBlock(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + ln.Addr().String()
	ln.Close()
	var got sync.WaitGroup
	const total = 50
	got.Add(total)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Done() }))
	defer srv.Close()

	cfg := DefaultConfig()
	cfg.Backoff, cfg.MaxBackoff = incident.Duration(time.Hour), incident.Duration(time.Hour)
	cfg.Receivers = []ReceiverConfig{
		{Name: "down", URL: downURL, QueueCapacity: 5},
		{Name: "up", URL: srv.URL, QueueCapacity: total},
	}
	n := newNotifier(t, cfg, prometheus.NewRegistry(), nil)
	stop := run(t, n)
	start := time.Now()
	for range total {
		n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Enqueue took %s", d)
	}
	got.Wait() // the healthy receiver got every event
	m := n.metrics
	eventually(t, "the down receiver's worker to back off", func() bool {
		return testutil.ToFloat64(m.retried.WithLabelValues("down")) == 1
	})
	// One delivery is backing off, at most 5 queued, the rest dropped.
	dropped := testutil.ToFloat64(m.dropped.WithLabelValues("down"))
	queued := testutil.ToFloat64(m.queueLength.WithLabelValues("down"))
	if dropped+queued+1 != total || queued < 4 || queued > 5 {
		t.Errorf("dropped %v queued %v of %d", dropped, queued, total)
	}
	if d := testutil.ToFloat64(m.dropped.WithLabelValues("up")); d != 0 {
		t.Errorf("healthy receiver dropped %v", d)
	}
	stop() // shutdown abandons the backing-off delivery and drops the queue
	if f, d := testutil.ToFloat64(m.failed.WithLabelValues("down")), testutil.ToFloat64(m.dropped.WithLabelValues("down")); f != 1 || d != total-1 {
		t.Errorf("after shutdown failed %v dropped %v", f, d)
	}
}

// handlerTransport serves requests with an in-memory handler, so that a
// synctest bubble sees no real I/O.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestBackoffSchedule checks the exact retry times under a fake clock:
// backoff 1s doubling, capped at 3s, Retry-After honoured, gives up after
// max_retries.
func TestBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var times []time.Duration
		var stamps []string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Since(start))
			stamps = append(stamps, r.Header.Get(HeaderTimestamp))
			if len(times) == 2 {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		})
		cfg := DefaultConfig()
		cfg.Backoff, cfg.MaxBackoff = incident.Duration(time.Second), incident.Duration(3*time.Second)
		cfg.Receivers = []ReceiverConfig{{Name: "r", URL: "http://receiver.invalid/", MaxRetries: intp(4)}}
		n := newNotifier(t, cfg, nil, &http.Client{Transport: handlerTransport{h}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- n.Run(ctx) }()
		n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()})
		time.Sleep(time.Minute) // fake time: all retries happen
		synctest.Wait()
		// Waits: 1s, then max(2s, Retry-After 2s)=2s, then 3s (capped), 3s.
		want := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second, 9 * time.Second}
		if len(times) != len(want) {
			t.Fatalf("attempts at %v, want %v", times, want)
		}
		for i := range want {
			if times[i] != want[i] {
				t.Errorf("attempt %d at %s, want %s", i, times[i], want[i])
			}
		}
		if stamps[1] == stamps[0] || stamps[0] == "" {
			t.Errorf("timestamps %v", stamps)
		}
		m := n.metrics
		if testutil.ToFloat64(m.failed.WithLabelValues("r")) != 1 || testutil.ToFloat64(m.retried.WithLabelValues("r")) != 4 {
			t.Errorf("failed %v retried %v", testutil.ToFloat64(m.failed.WithLabelValues("r")), testutil.ToFloat64(m.retried.WithLabelValues("r")))
		}
		cancel()
		<-done
	})
}

// TestQueueFullDrops: with nobody consuming, a queue of 3 takes 3 events
// and drops the rest, counting them; Enqueue returns at once.
func TestQueueFullDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.QueueCapacity = 3
		cfg.Receivers = []ReceiverConfig{{Name: "r", URL: "http://receiver.invalid/"}}
		reg := prometheus.NewRegistry()
		n := newNotifier(t, cfg, reg, &http.Client{Transport: handlerTransport{http.NotFoundHandler()}})
		var oks int
		for range 10 {
			if n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()}) {
				oks++
			}
		}
		if oks != 3 {
			t.Errorf("%d accepted, want 3", oks)
		}
		if d := testutil.ToFloat64(n.metrics.dropped.WithLabelValues("r")); d != 7 {
			t.Errorf("dropped %v", d)
		}
		if q := testutil.ToFloat64(n.metrics.queueLength.WithLabelValues("r")); q != 3 {
			t.Errorf("queue length %v", q)
		}
	})
}

// TestBlockedReceiverKeepsEnqueueFree: a receiver that hangs holds one
// worker; Enqueue keeps returning immediately (fake time does not move).
func TestBlockedReceiverKeepsEnqueueFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		cfg := DefaultConfig()
		cfg.QueueCapacity = 2
		cfg.Timeout = incident.Duration(time.Hour)
		cfg.Receivers = []ReceiverConfig{{Name: "slow", URL: "http://receiver.invalid/"}}
		n := newNotifier(t, cfg, nil, &http.Client{Transport: handlerTransport{h}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- n.Run(ctx) }()
		n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()})
		synctest.Wait() // the worker is inside the hanging request
		start := time.Now()
		for range 100 {
			n.Enqueue(Event{Kind: incident.KindOpened, Incident: testIncident()})
		}
		if time.Since(start) != 0 {
			t.Error("Enqueue waited")
		}
		if d := testutil.ToFloat64(n.metrics.dropped.WithLabelValues("slow")); d != 98 {
			t.Errorf("dropped %v, want 98", d)
		}
		close(release)
		synctest.Wait()
		if s := testutil.ToFloat64(n.metrics.sent.WithLabelValues("slow")); s != 3 {
			t.Errorf("sent %v, want 3", s)
		}
		cancel()
		<-done
	})
}

func TestTemplateBodyAndPriorityFilter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var bodies []string
		var types []string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, string(b))
			types = append(types, r.Header.Get("Content-Type"))
			if r.Header.Get(HeaderSignature) != "" {
				t.Error("signed without a secret")
			}
		})
		cfg := DefaultConfig()
		cfg.Receivers = []ReceiverConfig{{Name: "chat", URL: "http://chat.invalid/",
			Priorities: []incident.Priority{incident.P1}, ContentType: "text/plain",
			Body: `{{.Incident.ID}} {{.Kind}} {{.Incident.Priority}} by {{.Actor}}: {{json .Incident.Title}}`}}
		n := newNotifier(t, cfg, nil, &http.Client{Transport: handlerTransport{h}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- n.Run(ctx) }()
		in := testIncident()
		n.Enqueue(Event{Kind: incident.KindResolved, Actor: "alice", Incident: in})
		in.Priority = incident.P3
		n.Enqueue(Event{Kind: incident.KindResolved, Actor: "alice", Incident: in})
		synctest.Wait()
		if len(bodies) != 1 || bodies[0] != `INC-000042 resolved P1 by alice: "LinkDown on core-dc1"` || types[0] != "text/plain" {
			t.Errorf("bodies %q types %q", bodies, types)
		}
		cancel()
		<-done
	})
}

func TestConfigValidate(t *testing.T) {
	ok := ReceiverConfig{Name: "a", URL: "https://example.com/hook"}
	cases := []struct {
		mod func(*Config)
		key string
	}{
		{func(c *Config) { c.QueueCapacity = 0 }, "notify.queue_capacity"},
		{func(c *Config) { c.Workers = 0 }, "notify.workers"},
		{func(c *Config) { c.MaxBackoff = 1 }, "notify.max_backoff"},
		{func(c *Config) { c.Receivers[0].Name = "a b" }, "notify.receivers[0].name"},
		{func(c *Config) { c.Receivers = append(c.Receivers, ok) }, "notify.receivers[1].name: duplicate"},
		{func(c *Config) { c.Receivers[0].URL = "ftp://x" }, "notify.receivers[0].url"},
		{func(c *Config) { c.Receivers[0].URL = "/relative" }, "notify.receivers[0].url"},
		{func(c *Config) { c.Receivers[0].Events = []string{"opened", "exploded"} }, "notify.receivers[0].events[1]"},
		{func(c *Config) { c.Receivers[0].Priorities = []incident.Priority{9} }, "notify.receivers[0].priorities[0]"},
		{func(c *Config) { c.Receivers[0].Body = "{{.Nope" }, "notify.receivers[0].body"},
		{func(c *Config) { c.Receivers[0].Secret, c.Receivers[0].SecretEnv = "x", "Y" }, "notify.receivers[0]: set at most one"},
		{func(c *Config) { c.Receivers[0].Headers = map[string]string{"X-Vigia-Signature": "x"} }, "notify.receivers[0].headers.X-Vigia-Signature: reserved"},
		{func(c *Config) { c.Receivers[0].Headers = map[string]string{"bad header": "x"} }, "notify.receivers[0].headers.bad header"},
		{func(c *Config) { c.Receivers[0].MaxRetries = intp(-1) }, "notify.receivers[0].max_retries"},
		{func(c *Config) { c.Receivers[0].Workers = 100 }, "notify.receivers[0].workers"},
		{func(c *Config) { c.Receivers[0].Timeout = -1 }, "notify.receivers[0].timeout"},
	}
	for i, c := range cases {
		cfg := DefaultConfig()
		cfg.Receivers = []ReceiverConfig{ok}
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("case %d: got %v, want %q", i, err, c.key)
		}
	}
	cfg := DefaultConfig()
	cfg.Receivers = []ReceiverConfig{{Name: "a", URL: "http://x/", SecretEnv: "VIGIA_TEST_UNSET_SECRET"}}
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "notify.receivers[0].secret_env") {
		t.Errorf("unset secret env: %v", err)
	}
	t.Setenv("VIGIA_TEST_SECRET", "abc")
	cfg.Receivers[0].SecretEnv = "VIGIA_TEST_SECRET"
	n, err := New(Options{Config: cfg})
	if err != nil || string(n.receivers[0].secret) != "abc" {
		t.Errorf("secret env: %v", err)
	}
	cfg.Receivers[0].SecretEnv, cfg.Receivers[0].SecretFile = "", filepath.Join(t.TempDir(), "missing")
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "secret_file") {
		t.Errorf("missing secret file: %v", err)
	}
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNotifier(t, DefaultConfig(), nil, nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- n.Run(ctx) }()
		synctest.Wait()
		if err := n.Run(ctx); err == nil {
			t.Error("second Run accepted")
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestSignVerify(t *testing.T) {
	// Known HMAC-SHA256 vector (RFC 4231 test case 2).
	got := Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("Sign = %s", got)
	}
	if Verify([]byte("Jefe"), []byte("tampered"), got) {
		t.Error("verified a tampered body")
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
notify:
  max_retries: 3
  receivers:
    - name: itsm
      url: https://itsm.example.com/api/vigia
      events: [opened, escalated, sla_breached, resolved]
      priorities: [P1, P2]
      secret_env: ITSM_SECRET
      headers: {Authorization: "Bearer abc"}
      timeout: 5s
      max_retries: 0
      backoff: 2s
      max_backoff: 1m
    - name: chat
      url: http://chat.example.com/hook
      body: '{"text": {{json .Incident.Title}}}'
`
	var f struct {
		Notify Config `yaml:"notify"`
	}
	f.Notify = DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	if err := f.Notify.Validate(); err != nil {
		t.Fatal(err)
	}
	rs, _ := f.Notify.receivers()
	if rs[0].maxRetries != 0 || rs[1].maxRetries != 3 || rs[0].timeout != 5*time.Second || rs[1].timeout != 10*time.Second ||
		len(rs[0].priorities) != 2 || !rs[0].events["sla_breached"] || rs[0].headers.Get("Authorization") != "Bearer abc" {
		t.Errorf("receivers: %+v %+v", rs[0], rs[1])
	}
}
