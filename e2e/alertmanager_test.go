package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// alertmanagerBin finds a real Alertmanager: $VIGIA_ALERTMANAGER_BIN, then
// PATH, then <repo>/.tools/bin/alertmanager (where scripts/test.sh installs it).
func alertmanagerBin() (string, bool) {
	if p := os.Getenv("VIGIA_ALERTMANAGER_BIN"); p != "" {
		return p, true
	}
	if p, err := exec.LookPath("alertmanager"); err == nil {
		return p, true
	}
	p := filepath.Join(repoRoot, ".tools", "bin", "alertmanager")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p, true
	}
	return "", false
}

// authConfig is the vigia config file text that turns on bearer tokens:
// ingestToken may only ingest, readToken may only read.
// Kept in one place so that a change of config keys is one edit.
func authConfig(ingestToken, readToken string) string {
	return fmt.Sprintf(`auth:
  tokens:
    - name: am
      token: %s
      roles: [ingest]
    - name: reader
      token: %s
      roles: [viewer]
`, ingestToken, readToken)
}

// alertmanagerConfig routes every alert to vigia's webhook, grouped by
// alertname and cluster, sending resolved notifications.
func alertmanagerConfig(webhookURL, bearer string) string {
	var httpConfig string
	if bearer != "" {
		httpConfig = fmt.Sprintf(`
        http_config:
          authorization:
            credentials: %s`, bearer)
	}
	return fmt.Sprintf(`route:
  receiver: vigia
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: vigia
    webhook_configs:
      - url: %s
        send_resolved: true%s
`, webhookURL, httpConfig)
}

// startAlertmanager runs a single, unclustered Alertmanager with cfg and
// waits for GET /-/ready.
func startAlertmanager(t *testing.T, bin, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	cfgFile := writeFile(t, dir, "alertmanager.yml", cfg)
	addr := freeAddr(t)
	p := startProc(t, "alertmanager", bin,
		"--config.file="+cfgFile,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	client := &http.Client{Timeout: 2 * time.Second}
	eventually(t, 30*time.Second, "alertmanager /-/ready", func() (bool, string) {
		if p.exited() {
			t.Fatalf("alertmanager exited: %v", p.waitErr)
		}
		resp, err := client.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return "http://" + addr
}

// postAlertsToAM posts alerts to Alertmanager's API (POST /api/v2/alerts),
// the way Prometheus does.
func postAlertsToAM(t *testing.T, amURL string, labels []map[string]string, startsAt time.Time, endsAt *time.Time) {
	t.Helper()
	type postable struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt,omitempty"`
		GeneratorURL string            `json:"generatorURL"`
	}
	var body []postable
	for _, l := range labels {
		p := postable{
			Labels:       l,
			Annotations:  map[string]string{"summary": "Disk full on " + l["instance"]},
			StartsAt:     startsAt.Format(time.RFC3339Nano),
			GeneratorURL: "http://prometheus.e2e.invalid/graph?g0.expr=disk_free+%3D%3D+0",
		}
		if endsAt != nil {
			p.EndsAt = endsAt.Format(time.RFC3339Nano)
		}
		body = append(body, p)
	}
	r := doJSON(t, http.MethodPost, amURL+"/api/v2/alerts", "", mustJSON(t, body))
	if r.Status != http.StatusOK {
		t.Fatalf("POST %s/api/v2/alerts: status %d, body %s", amURL, r.Status, r.Body)
	}
}

// TestAlertmanagerRealWebhook: a real Alertmanager v0.31 delivers firing and
// resolved notifications to vigia, which turns them into one incident whose
// episodes then resolve (contract §2, §6).
func TestAlertmanagerRealWebhook(t *testing.T) {
	bin, ok := alertmanagerBin()
	if !ok {
		t.Skip("no Alertmanager binary: set VIGIA_ALERTMANAGER_BIN, put alertmanager on PATH, " +
			"or run scripts/test.sh (it installs .tools/bin/alertmanager)")
	}
	t.Run("no-auth", func(t *testing.T) { testAlertmanagerWebhook(t, bin, false) })
	t.Run("bearer-token", func(t *testing.T) { testAlertmanagerWebhook(t, bin, true) })
}

func testAlertmanagerWebhook(t *testing.T, amBin string, withAuth bool) {
	const ingestToken, readToken = "s3cret", "r3ad"
	opts := serveOpts{DataDir: t.TempDir()}
	amToken, apiToken := "", ""
	if withAuth {
		opts.ConfigFile = writeFile(t, t.TempDir(), "vigia.yml", authConfig(ingestToken, readToken))
		amToken, apiToken = ingestToken, readToken
	}
	s := startServe(t, opts)
	webhook := s.url("/api/v1/ingest/alertmanager")

	if withAuth {
		// Tokens are enforced: none, a wrong one, or a read-only one may not ingest;
		// reading needs a token too.
		body := mustJSON(t, amDelivery(firingAlert(map[string]string{"alertname": "AuthProbe", "instance": "probe"}, time.Now())))
		for _, c := range []struct{ name, token string }{{"no token", ""}, {"wrong token", "nope"}, {"viewer token", readToken}} {
			r := doJSON(t, http.MethodPost, webhook, c.token, body)
			if c.token == readToken {
				if r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
					t.Errorf("POST %s with the %s: status %d, want 401 or 403; body %s", webhook, c.name, r.Status, r.Body)
				}
			} else if r.Status != http.StatusUnauthorized {
				t.Errorf("POST %s with %s: status %d, want 401; body %s", webhook, c.name, r.Status, r.Body)
			}
		}
		if r := doJSON(t, http.MethodGet, s.url("/api/v1/incidents"), "", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("GET /api/v1/incidents without a token: status %d, want 401", r.Status)
		}
	}

	amURL := startAlertmanager(t, amBin, alertmanagerConfig(webhook, amToken))

	labels := []map[string]string{
		{"alertname": "DiskFull", "cluster": "c1", "instance": "db-1", "severity": "critical"},
		{"alertname": "DiskFull", "cluster": "c1", "instance": "db-2", "severity": "critical"},
	}
	want := map[string]string{} // fingerprint → instance
	for _, l := range labels {
		want[fingerprint(l)] = l["instance"]
	}
	startsAt := time.Now().UTC().Add(-time.Second).Truncate(time.Millisecond)
	postAlertsToAM(t, amURL, labels, startsAt, nil)
	posted := time.Now()

	// Both alerts show up, in one incident.
	var incidentID string
	eventually(t, 30*time.Second, "one incident holding both DiskFull alerts", func() (bool, string) {
		var state []string
		for _, in := range listIncidents(t, s, apiToken) {
			d := getIncident(t, s, apiToken, in.ID)
			found := 0
			for _, a := range d.Alerts {
				if _, ok := want[a.Fingerprint]; ok {
					found++
				}
			}
			state = append(state, fmt.Sprintf("%s %q: %d alerts, %d of ours", in.ID, in.Title, len(d.Alerts), found))
			if found == len(want) {
				incidentID = in.ID
				return true, ""
			}
		}
		return false, fmt.Sprintf("incidents: %v", state)
	})

	t.Logf("%v after posting to Alertmanager: incident %s holds both alerts", time.Since(posted).Round(time.Millisecond), incidentID)
	d := getIncident(t, s, apiToken, incidentID)
	for _, a := range d.Alerts {
		if _, ok := want[a.Fingerprint]; !ok {
			continue
		}
		if a.Status != "firing" {
			t.Errorf("incident %s: alert %s (%s) has status %q, want firing", incidentID, a.Fingerprint, want[a.Fingerprint], a.Status)
		}
		if a.Explanation == nil || a.Explanation.Method == "" || a.Explanation.Reason == "" {
			t.Errorf("incident %s: alert %s has no explanation (method and reason), got %+v", incidentID, a.Fingerprint, a.Explanation)
		}
		if ts, err := time.Parse(time.RFC3339Nano, a.StartsAt); err != nil || !ts.Equal(startsAt) {
			t.Errorf("incident %s: alert %s starts_at %q, want %s", incidentID, a.Fingerprint, a.StartsAt, startsAt.Format(time.RFC3339Nano))
		}
	}

	// Resolve both: Alertmanager sends a resolved notification; the episodes
	// resolve (the incident itself may wait for a resolve delay).
	endsAt := time.Now().UTC()
	postAlertsToAM(t, amURL, labels, startsAt, &endsAt)
	resolvedAt := time.Now()
	eventually(t, 30*time.Second, "both DiskFull episodes resolved", func() (bool, string) {
		d := getIncident(t, s, apiToken, incidentID)
		var state []string
		resolved := 0
		for _, a := range d.Alerts {
			if inst, ok := want[a.Fingerprint]; ok {
				state = append(state, inst+"="+a.Status)
				if a.Status == "resolved" {
					resolved++
				}
			}
		}
		sort.Strings(state)
		return resolved == len(want), fmt.Sprintf("incident %s (%s): %s", incidentID, d.Incident.Status, strings.Join(state, ", "))
	})

	t.Logf("%v after posting the resolve: both episodes resolved", time.Since(resolvedAt).Round(time.Millisecond))

	// Still one episode per alert: the resolve did not open new ones.
	d = getIncident(t, s, apiToken, incidentID)
	n := 0
	for _, a := range d.Alerts {
		if _, ok := want[a.Fingerprint]; ok {
			n++
		}
	}
	if n != len(want) {
		t.Errorf("incident %s lists %d episodes of our %d alerts after the resolve, want %d", incidentID, n, len(want), len(want))
	}
}
