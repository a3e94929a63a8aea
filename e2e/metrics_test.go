package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// scrape is one parsed GET /metrics.
type scrape struct {
	raw      []byte
	families map[string]*dto.MetricFamily
}

// scrapeMetrics reads and parses GET /metrics in the text format.
func scrapeMetrics(t testing.TB, s *server) scrape {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url("/metrics"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Ask for the text format, the one promlint reads.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("GET /metrics: parse the exposition: %v\n%s", err, tail(string(raw), 4096))
	}
	return scrape{raw: raw, families: fams}
}

// value returns the value of the one series of name whose labels include
// lbls (counter, gauge or untyped; for a histogram its sample count), and
// whether there is exactly one.
func (sc scrape) value(name string, lbls map[string]string) (float64, bool) {
	mf, ok := sc.families[name]
	if !ok {
		return 0, false
	}
	var found []float64
series:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range lbls {
			if have[k] != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			found = append(found, m.GetCounter().GetValue())
		case m.Gauge != nil:
			found = append(found, m.GetGauge().GetValue())
		case m.Histogram != nil:
			found = append(found, float64(m.GetHistogram().GetSampleCount()))
		case m.Untyped != nil:
			found = append(found, m.GetUntyped().GetValue())
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// metricsTraffic is the known traffic of TestMetricsAfterKnownTraffic.
const (
	metricsDeliveries      = 4 // Alertmanager deliveries accepted
	metricsAlertsPer       = 3 // alerts in each
	metricsEventsPerPost   = 2 // generic events in the one events delivery
	metricsIngestToken     = "metrics-ingest-secret"
	metricsReaderToken     = "metrics-reader-secret"
	metricsCorrelateWaitUp = 30 * time.Second
)

// TestMetricsAfterKnownTraffic sends known traffic to a real `vigia serve`,
// scrapes /metrics, checks the counters of ingest, journal and correlation
// against it, and lints the exposition with promlint.
func TestMetricsAfterKnownTraffic(t *testing.T) {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	cfg := fmt.Sprintf(`auth:
  tokens:
    - name: senders
      token_sha256: %s
      roles: [ingest]
    - name: reader
      token_sha256: %s
      roles: [viewer]
`, sum(metricsIngestToken), sum(metricsReaderToken))
	dir := t.TempDir()
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: writeFile(t, dir, "vigia.yml", cfg)})

	// Before any traffic, every series of a bounded label set already exists
	// at 0 (style example 17).
	before := scrapeMetrics(t, s)
	for _, src := range []string{"alertmanager", "grafana", "events"} {
		for _, code := range []string{"202", "400", "401", "413", "503"} {
			if v, ok := before.value("vigia_ingest_requests_total", map[string]string{"source": src, "code": code}); !ok || v != 0 {
				t.Errorf("before traffic: vigia_ingest_requests_total{source=%q,code=%q} = %v (present %v), want 0", src, code, v, ok)
			}
		}
	}

	// The traffic.
	var amBytes, evBytes int
	base := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	var firstAM []byte
	for d := 0; d < metricsDeliveries; d++ {
		var alerts []amAlert
		for a := 0; a < metricsAlertsPer; a++ {
			alerts = append(alerts, firingAlert(map[string]string{
				"alertname": fmt.Sprintf("MetricsProbe%d", d), "instance": fmt.Sprintf("host-%d", a), "cluster": "m1",
			}, base))
		}
		body := mustJSON(t, amDelivery(alerts...))
		if d == 0 {
			firstAM = body
		}
		amBytes += len(body)
		mustStatus(t, doJSON(t, http.MethodPost, s.url("/api/v1/ingest/alertmanager"), metricsIngestToken, body), http.StatusAccepted)
	}
	// A re-send of the first delivery: accepted again, its alerts counted as duplicates.
	amBytes += len(firstAM)
	mustStatus(t, doJSON(t, http.MethodPost, s.url("/api/v1/ingest/alertmanager"), metricsIngestToken, firstAM), http.StatusAccepted)
	// A malformed body: 400, read but not journaled.
	bad := []byte(`{"version":"4","alerts":[`)
	amBytes += len(bad)
	mustStatus(t, doJSON(t, http.MethodPost, s.url("/api/v1/ingest/alertmanager"), metricsIngestToken, bad), http.StatusBadRequest)
	// No token: 401 before the body is read.
	mustStatus(t, doJSON(t, http.MethodPost, s.url("/api/v1/ingest/grafana"), "", firstAM), http.StatusUnauthorized)
	// One delivery of generic events.
	events := []byte(fmt.Sprintf(`{"events":[
		{"source":"zabbix","status":"firing","severity":"high","summary":"metrics probe a","labels":{"host":"zbx-1","trigger":"MetricsProbeA"},"starts_at":%q},
		{"source":"zabbix","status":"firing","severity":"high","summary":"metrics probe b","labels":{"host":"zbx-2","trigger":"MetricsProbeB"},"starts_at":%q}]}`,
		base.Format(time.RFC3339Nano), base.Format(time.RFC3339Nano)))
	evBytes += len(events)
	mustStatus(t, doJSON(t, http.MethodPost, s.url("/api/v1/ingest/events"), metricsIngestToken, events), http.StatusAccepted)

	journaled := metricsDeliveries + 1 + 1 // the AM deliveries, the re-send, the events
	alertsIn := (metricsDeliveries+1)*metricsAlertsPer + metricsEventsPerPost

	// The pipeline applies the journal in the background: wait for it.
	var sc scrape
	// The processed counter moves before the batch is committed to the
	// store, vigia_correlate_applied_seq (and the engine gauges) after it.
	eventually(t, metricsCorrelateWaitUp, "correlation to process and commit every journaled delivery", func() (bool, string) {
		sc = scrapeMetrics(t, s)
		v, _ := sc.value("vigia_correlate_deliveries_processed_total", nil)
		last, _ := sc.value("vigia_journal_last_seq", nil)
		applied, _ := sc.value("vigia_correlate_applied_seq", nil)
		return v == float64(journaled) && applied == last,
			fmt.Sprintf("vigia_correlate_deliveries_processed_total = %v (want %d), applied_seq %v, last_seq %v", v, journaled, applied, last)
	})

	type want struct {
		name string
		lbls map[string]string
		v    float64
	}
	src := func(s string) map[string]string { return map[string]string{"source": s} }
	srcCode := func(s, c string) map[string]string { return map[string]string{"source": s, "code": c} }
	srcReason := func(s, r string) map[string]string { return map[string]string{"source": s, "reason": r} }
	wants := []want{
		// ingest: requests by source and code.
		{"vigia_ingest_requests_total", srcCode("alertmanager", "202"), metricsDeliveries + 1},
		{"vigia_ingest_requests_total", srcCode("alertmanager", "400"), 1},
		{"vigia_ingest_requests_total", srcCode("alertmanager", "401"), 0},
		{"vigia_ingest_requests_total", srcCode("grafana", "401"), 1},
		{"vigia_ingest_requests_total", srcCode("grafana", "202"), 0},
		{"vigia_ingest_requests_total", srcCode("events", "202"), 1},
		{"vigia_ingest_requests_total", srcCode("events", "503"), 0},
		// ingest: alerts, duplicates, bytes, rejects, latency.
		{"vigia_ingest_alerts_total", src("alertmanager"), (metricsDeliveries + 1) * metricsAlertsPer},
		{"vigia_ingest_alerts_total", src("grafana"), 0},
		{"vigia_ingest_alerts_total", src("events"), metricsEventsPerPost},
		{"vigia_ingest_duplicate_alerts_total", src("alertmanager"), metricsAlertsPer},
		{"vigia_ingest_duplicate_alerts_total", src("events"), 0},
		{"vigia_ingest_bytes_total", src("alertmanager"), float64(amBytes)},
		{"vigia_ingest_bytes_total", src("events"), float64(evBytes)},
		{"vigia_ingest_bytes_total", src("grafana"), 0},
		{"vigia_ingest_rejected_total", srcReason("alertmanager", "malformed"), 1},
		{"vigia_ingest_rejected_total", srcReason("grafana", "unauthorized"), 1},
		{"vigia_ingest_rejected_total", srcReason("alertmanager", "overloaded"), 0},
		{"vigia_ingest_truncated_alerts_total", src("alertmanager"), 0},
		{"vigia_ingest_request_duration_seconds", src("alertmanager"), metricsDeliveries + 2},
		{"vigia_ingest_request_duration_seconds", src("grafana"), 1},
		{"vigia_ingest_request_duration_seconds", src("events"), 1},
		// journal: one record per accepted delivery, nothing corrupted.
		{"vigia_journal_appends_total", nil, float64(journaled)},
		{"vigia_journal_corrupted_records_total", nil, 0},
		// correlation: every delivery and alert processed.
		{"vigia_correlate_deliveries_processed_total", nil, float64(journaled)},
		{"vigia_correlate_alerts_processed_total", nil, float64(alertsIn)},
		{"vigia_correlate_undecodable_records_total", nil, 0},
		{"vigia_storage_write_errors_total", nil, 0},
	}
	for _, w := range wants {
		got, ok := sc.value(w.name, w.lbls)
		if !ok {
			t.Errorf("%s%s: no single series in /metrics", w.name, fmtLabels(w.lbls))
			continue
		}
		if got != w.v {
			t.Errorf("%s%s = %v, want %v", w.name, fmtLabels(w.lbls), got, w.v)
		}
	}

	if last, _ := sc.value("vigia_journal_last_seq", nil); last != float64(journaled) {
		t.Errorf("vigia_journal_last_seq = %v, want %d", last, journaled)
	}
	for _, name := range []string{"vigia_journal_bytes_total", "vigia_journal_size_bytes", "vigia_journal_segments", "vigia_journal_fsyncs_total"} {
		if v, ok := sc.value(name, nil); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0 after appends", name, v, ok)
		}
	}
	if v, ok := sc.value("vigia_journal_fsync_duration_seconds", nil); !ok || v < 1 {
		t.Errorf("vigia_journal_fsync_duration_seconds count = %v (present %v), want >= 1", v, ok)
	}
	if v, ok := sc.value("vigia_correlate_episodes_in_memory", nil); !ok || v < float64(metricsDeliveries*metricsAlertsPer+metricsEventsPerPost) {
		t.Errorf("vigia_correlate_episodes_in_memory = %v (present %v), want >= %d", v, ok, metricsDeliveries*metricsAlertsPer+metricsEventsPerPost)
	}
	if v, ok := sc.value("vigia_correlate_incidents_in_memory", nil); !ok || v < 1 {
		t.Errorf("vigia_correlate_incidents_in_memory = %v (present %v), want >= 1", v, ok)
	}
	// The Go and process collectors are registered.
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if _, ok := sc.families[name]; !ok {
			t.Errorf("%s missing: the Go and process collectors should be registered", name)
		}
	}

	// No label value comes from a payload (alertname, fingerprint, host…):
	// series counts stay bounded whatever is sent.
	for name, mf := range sc.families {
		if !strings.HasPrefix(name, "vigia_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "job" || lp.GetName() == "instance" {
					t.Errorf("%s has a %q label: it collides with Prometheus' target label (scraped as exported_%s)", name, lp.GetName(), lp.GetName())
				}
				if strings.Contains(lp.GetValue(), "MetricsProbe") || strings.Contains(lp.GetValue(), "host-") || strings.Contains(lp.GetValue(), "zbx") {
					t.Errorf("%s has label %s=%q taken from a payload: unbounded cardinality", name, lp.GetName(), lp.GetValue())
				}
			}
		}
	}

	lintExposition(t, sc.raw)
}

// lintExposition runs promlint over a scrape and fails on any problem with
// Vigia's own metrics.
func lintExposition(t *testing.T, raw []byte) {
	t.Helper()
	problems, err := promlint.New(bytes.NewReader(raw)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "vigia_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		} else {
			// The Go and process collectors are client_golang's; report only.
			t.Logf("promlint (not ours): %s: %s", p.Metric, p.Text)
		}
	}
}

var metricRefRE = regexp.MustCompile(`\bvigia_[a-z0-9_]+`)

// TestMetricsNamedInRulesExist checks that every vigia_* metric the
// alerting rules of deploy/prometheus use is served by /metrics (histograms
// by their _bucket, _sum and _count series).
func TestMetricsNamedInRulesExist(t *testing.T) {
	path := filepath.Join(repoRoot, "deploy", "prometheus", "vigia-rules.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read rules: %v", err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// One notification receiver, so that the vigia_notify_* series exist
	// (they are created per configured receiver). Nothing is sent to it.
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigia.yml", `notify:
  receivers:
    - name: probe
      url: http://127.0.0.1:9/never-called
`)
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: cfg})
	sc := scrapeMetrics(t, s)
	recorded := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	used := map[string][]string{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			for _, name := range metricRefRE.FindAllString(r.Expr, -1) {
				used[name] = append(used[name], r.Alert+r.Record)
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("the rules use no vigia_* metric")
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suffix); ok {
				if mf, ok := sc.families[b]; ok && mf.GetType() == dto.MetricType_HISTOGRAM {
					base = b
				}
			}
		}
		if sc.families[base] == nil && !recorded[name] {
			t.Errorf("%s, used by rules %v, is not served by /metrics", name, used[name])
		}
	}
}

func mustStatus(t testing.TB, r httpResult, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
}

func fmtLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	var parts []string
	for k, v := range l {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}
