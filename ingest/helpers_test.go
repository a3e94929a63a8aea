package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)

// fakeSink records the deliveries it accepts; with err set it accepts none.
type fakeSink struct {
	mu   sync.Mutex
	got  []correlate.Delivery
	ctxs []context.Context
	err  error
}

func (s *fakeSink) Put(ctx context.Context, d correlate.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.got = append(s.got, d)
	s.ctxs = append(s.ctxs, ctx)
	return nil
}

func (s *fakeSink) deliveries() []correlate.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]correlate.Delivery(nil), s.got...)
}

type testEnv struct {
	h      *Handler
	engine *gin.Engine
	sink   *fakeSink
	reg    *prometheus.Registry
}

func newEnv(t testing.TB, mod func(*Options)) *testEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	env := &testEnv{sink: &fakeSink{}, reg: prometheus.NewRegistry()}
	opts := Options{
		Sink:       env.sink,
		Registerer: env.reg,
		Now:        func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	env.h = h
	env.engine = gin.New()
	h.Register(env.engine)
	return env
}

func testAuth(t testing.TB) *auth.Authenticator {
	t.Helper()
	a, err := auth.New([]auth.TokenConfig{
		{Name: "alertmanager-prod", Token: "am-secret", Roles: []auth.Role{auth.RoleIngest}},
		{Name: "alice", Token: "alice-secret", Roles: []auth.Role{auth.RoleAnalyst}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type request struct {
	path    string
	body    []byte
	headers map[string]string
	chunked bool // no Content-Length
}

func (e *testEnv) do(r request) *httptest.ResponseRecorder {
	var body = bytes.NewReader(r.body)
	req := httptest.NewRequest(http.MethodPost, r.path, body)
	if r.chunked {
		req.ContentLength = -1
		req.Body = io.NopCloser(struct{ io.Reader }{body}) // hide the length
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range r.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, req)
	return w
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtures returns the testdata files whose names start with prefix.
func fixtures(t testing.TB, prefix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join("testdata", prefix+"*.json"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no fixtures %s*: %v", prefix, err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func pathFor(name string) string {
	switch {
	case strings.HasPrefix(name, "alertmanager_"):
		return pathAlertmanager
	case strings.HasPrefix(name, "grafana_"):
		return pathGrafana
	}
	return pathEvents
}

// edit decodes a JSON body into generic values, lets f change them, and
// encodes the result.
func edit(t testing.TB, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func alertAt(m map[string]any, key string, i int) map[string]any {
	return m[key].([]any)[i].(map[string]any)
}

var (
	fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)
	labelNameRE   = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// checkAccepted re-checks, independently of the code under test, what an
// accepted delivery must satisfy.
func checkAccepted(t testing.TB, d correlate.Delivery, lim Limits) {
	t.Helper()
	lim = lim.withDefaults()
	if !d.Source.Valid() {
		t.Errorf("source %q", d.Source)
	}
	if len(d.Alerts) == 0 || len(d.Alerts) > lim.MaxAlerts {
		t.Errorf("%d alerts", len(d.Alerts))
	}
	for i, a := range d.Alerts {
		if !fingerprintRE.MatchString(a.Fingerprint) {
			t.Errorf("alerts[%d]: fingerprint %q", i, a.Fingerprint)
		}
		if a.Status != correlate.StatusFiring && a.Status != correlate.StatusResolved {
			t.Errorf("alerts[%d]: status %v", i, a.Status)
		}
		if a.Labels["alertname"] == "" {
			t.Errorf("alerts[%d]: no alertname", i)
		}
		if len(a.Labels) > lim.MaxLabels {
			t.Errorf("alerts[%d]: %d labels", i, len(a.Labels))
		}
		for k, v := range a.Labels {
			if !labelNameRE.MatchString(k) {
				t.Errorf("alerts[%d]: label name %q", i, k)
			}
			if len(v) > lim.MaxLabelValueLength {
				t.Errorf("alerts[%d]: label %s is %d bytes", i, k, len(v))
			}
		}
		for k, v := range a.Annotations {
			if k == "" || len(v) > lim.MaxAnnotationValueLength {
				t.Errorf("alerts[%d]: annotation %q (%d bytes)", i, k, len(v))
			}
		}
		st, err := time.Parse(time.RFC3339Nano, a.StartsAtRaw)
		if err != nil || !st.Equal(a.StartsAt) || a.StartsAt.IsZero() {
			t.Errorf("alerts[%d]: StartsAt %v, StartsAtRaw %q (%v)", i, a.StartsAt, a.StartsAtRaw, err)
		}
		switch a.Status {
		case correlate.StatusFiring:
			if !a.EndsAt.IsZero() {
				t.Errorf("alerts[%d]: firing with EndsAt %v", i, a.EndsAt)
			}
		case correlate.StatusResolved:
			if a.EndsAt.IsZero() || a.EndsAt.Before(a.StartsAt) {
				t.Errorf("alerts[%d]: resolved with EndsAt %v, StartsAt %v", i, a.EndsAt, a.StartsAt)
			}
		}
	}
}
