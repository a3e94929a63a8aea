package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The real chain: Prometheus evaluates an always-firing rule and sends to a
// real Alertmanager, which sends to a real `vigia serve`. It needs a
// Prometheus binary, which `go install` cannot build (scripts/e2e-prometheus.sh
// builds one into .tools/bin and runs this test), so it runs only when
// VIGIA_PROMETHEUS_BIN names one.

const (
	chainAlertname   = "VigiaE2EAlwaysFiring"
	chainIngestToken = "chain-ingest-token-from-a-file"
	chainReadToken   = "chain-reader-token-from-a-file"
)

// chainRules is the rule file with the always-firing rule.
const chainRules = `groups:
  - name: vigia-e2e
    interval: 1s
    rules:
      - alert: ` + chainAlertname + `
        expr: vector(1)
        labels:
          severity: critical
          service: e2e-chain
        annotations:
          summary: "Always firing: the chain Prometheus -> Alertmanager -> Vigia works"
`

// chainRulesRemoved is the same file without the rule.
const chainRulesRemoved = `groups:
  - name: vigia-e2e
    interval: 1s
    rules: []
`

func TestPrometheusChain(t *testing.T) {
	promBin := os.Getenv("VIGIA_PROMETHEUS_BIN")
	if promBin == "" {
		t.Skip("VIGIA_PROMETHEUS_BIN is not set: run scripts/e2e-prometheus.sh (it builds Prometheus into .tools/bin)")
	}
	amBin, ok := alertmanagerBin()
	if !ok {
		t.Skip("no Alertmanager binary: set VIGIA_ALERTMANAGER_BIN or run scripts/test.sh")
	}
	dir := t.TempDir()

	// Vigia, with tokens read from files and a short resolve delay.
	ingestFile := writeFile(t, dir, "ingest-token", chainIngestToken+"\n")
	readFile := writeFile(t, dir, "read-token", chainReadToken+"\n")
	vigiaCfg := writeFile(t, dir, "vigia.yml", fmt.Sprintf(`log:
  level: debug
  format: json
auth:
  tokens:
    - name: alertmanager
      token_file: %s
      roles: [ingest]
    - name: reader
      token_file: %s
      roles: [viewer]
correlate:
  resolve_delay: 1s
`, ingestFile, readFile))
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: vigiaCfg, Name: "vigia serve"})

	// Alertmanager: the receiver of deploy/alertmanager/vigia-receiver.yml
	// with short timers, the token from a file.
	amCfg := fmt.Sprintf(`route:
  receiver: vigia
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vigia
    webhook_configs:
      - url: %s
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials_file: %s
`, s.url("/api/v1/ingest/alertmanager"), ingestFile)
	amURL := startAlertmanager(t, amBin, amCfg)

	// Prometheus: the always-firing rule plus Vigia's own health rules,
	// alerting to Alertmanager, scraping Vigia.
	promDir := t.TempDir()
	rulesFile := writeFile(t, promDir, "chain-rules.yml", chainRules)
	healthRules, err := filepath.Abs(filepath.Join(repoRoot, "deploy", "prometheus", "vigia-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	amHost := strings.TrimPrefix(amURL, "http://")
	promCfg := writeFile(t, promDir, "prometheus.yml", fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
  - %s
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: vigia
    static_configs:
      - targets: [%q]
`, rulesFile, healthRules, amHost, s.addr))
	promAddr := freeAddr(t)
	prom := startProc(t, "prometheus", promBin,
		"--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(promDir, "tsdb"),
		"--web.listen-address="+promAddr,
		"--web.enable-lifecycle",
		"--rules.alert.resend-delay=1s",
		"--log.level=debug",
	)
	promURL := "http://" + promAddr
	client := &http.Client{Timeout: 2 * time.Second}
	eventually(t, 60*time.Second, "prometheus /-/ready", func() (bool, string) {
		if prom.exited() {
			t.Fatalf("prometheus exited: %v", prom.waitErr)
		}
		resp, err := client.Get(promURL + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	started := time.Now()

	// The alert becomes an incident in Vigia.
	var incidentID string
	eventually(t, 90*time.Second, "an incident for "+chainAlertname, func() (bool, string) {
		var state []string
		for _, in := range listIncidents(t, s, chainReadToken) {
			d := getIncident(t, s, chainReadToken, in.ID)
			for _, a := range d.Alerts {
				if a.Labels["alertname"] == chainAlertname {
					incidentID = in.ID
					return true, ""
				}
			}
			state = append(state, in.ID+" "+in.Title)
		}
		return false, fmt.Sprintf("incidents: %v", state)
	})
	t.Logf("%v after Prometheus was ready: incident %s", time.Since(started).Round(time.Millisecond), incidentID)
	d := getIncident(t, s, chainReadToken, incidentID)
	if d.Incident.Status == "resolved" || d.Incident.Status == "closed" {
		t.Errorf("incident %s is %s while its alert fires", incidentID, d.Incident.Status)
	}
	for _, a := range d.Alerts {
		if a.Labels["alertname"] == chainAlertname {
			if a.Status != "firing" {
				t.Errorf("alert %s: status %q, want firing", a.Fingerprint, a.Status)
			}
			if a.Labels["severity"] != "critical" || a.Labels["service"] != "e2e-chain" {
				t.Errorf("alert %s: labels %v lack the rule's labels", a.Fingerprint, a.Labels)
			}
		}
	}

	// Prometheus scrapes Vigia, and sees the deliveries Alertmanager made.
	eventually(t, 30*time.Second, "prometheus to scrape vigia's ingest counters", func() (bool, string) {
		v, err := promQuery(client, promURL, `sum(vigia_ingest_requests_total{job="vigia",source="alertmanager",code="202"})`)
		if err != nil {
			return false, err.Error()
		}
		return v >= 1, fmt.Sprintf("value %v", v)
	})
	if v, err := promQuery(client, promURL, `up{job="vigia"}`); err != nil || v != 1 {
		t.Errorf(`up{job="vigia"} = %v (%v), want 1`, v, err)
	}

	// Remove the rule and reload Prometheus: the alert is no longer sent,
	// Alertmanager resolves it once its endsAt passes and sends the resolve,
	// and the incident resolves after correlate.resolve_delay.
	writeFile(t, promDir, "chain-rules.yml", chainRulesRemoved)
	r := doJSON(t, http.MethodPost, promURL+"/-/reload", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /-/reload: status %d: %s", r.Status, r.Body)
	}
	reloaded := time.Now()
	eventually(t, 90*time.Second, "incident "+incidentID+" to resolve", func() (bool, string) {
		d := getIncident(t, s, chainReadToken, incidentID)
		var alerts []string
		for _, a := range d.Alerts {
			alerts = append(alerts, a.Labels["alertname"]+"="+a.Status)
		}
		ok := d.Incident.Status == "resolved" || d.Incident.Status == "closed"
		return ok, fmt.Sprintf("incident %s: %s; alerts %v", incidentID, d.Incident.Status, alerts)
	})
	t.Logf("%v after the reload: incident %s resolved", time.Since(reloaded).Round(time.Millisecond), incidentID)

	// No secret reached the logs.
	for _, p := range []*proc{s.proc, prom} {
		out := p.out.String()
		for _, secret := range []string{chainIngestToken, chainReadToken} {
			if strings.Contains(out, secret) {
				t.Errorf("the output of %s contains a token", p.name)
			}
		}
	}
	prom.term()
	s.term()
}

// promQuery runs an instant query and returns the value of its one sample.
func promQuery(client *http.Client, promURL, q string) (float64, error) {
	resp, err := client.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", q, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d samples, want 1", q, len(body.Data.Result))
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		return 0, fmt.Errorf("query %s: value %q: %v", q, s, err)
	}
	return v, nil
}
