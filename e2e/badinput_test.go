package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestIngestBadInputRealHTTP: malformed and invalid bodies are refused with
// 400 (413 when too large), keep nothing, and change nothing (contract §2).
func TestIngestBadInputRealHTTP(t *testing.T) {
	dataDir := t.TempDir()
	s := startServe(t, serveOpts{DataDir: dataDir})
	amURL := s.url("/api/v1/ingest/alertmanager")
	now := time.Now().UTC().Truncate(time.Millisecond)

	// A valid delivery first, so there is something that must stay as it is.
	good := firingAlert(map[string]string{"alertname": "BadInputBaseline", "instance": "base-1:9100", "severity": "warning"}, now.Add(-time.Minute))
	r := doJSON(t, http.MethodPost, amURL, "", mustJSON(t, amDelivery(good)))
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST a valid delivery: status %d, want 202; body %s", r.Status, r.Body)
	}
	var rep ingestReply
	if err := json.Unmarshal(r.Body, &rep); err != nil || rep.Accepted == nil || *rep.Accepted != 1 || rep.Duplicates == nil || *rep.Duplicates != 0 {
		t.Errorf("POST a valid delivery of 1 new alert: reply %s, want {\"accepted\":1,\"duplicates\":0}", r.Body)
	}
	s.waitApplied(readyTimeout) // the engine has applied it
	before := snapshotIncidents(t, s)
	if len(before) == 0 {
		t.Fatalf("the valid delivery made no incident")
	}

	// A valid alert inside an invalid body: it must not be kept either.
	smuggled := firingAlert(map[string]string{"alertname": "BadInputSmuggled", "instance": "smuggled-1:9100"}, now)
	badTime := firingAlert(map[string]string{"alertname": "BadInputSmuggled", "instance": "smuggled-2:9100"}, now)
	badTime.StartsAt = "yesterday at noon"

	valid := mustJSON(t, amDelivery(good))
	cases := []struct {
		name, path string
		body       []byte
		want       int
	}{
		{"malformed JSON", "alertmanager", []byte(`{"version":"4","status":"firing","alerts":[{"status":"firing",`), 400},
		{"not JSON at all", "alertmanager", []byte("alertname=Foo"), 400},
		{"wrong type: alerts is a string", "alertmanager", []byte(`{"version":"4","status":"firing","alerts":"DiskFull"}`), 400},
		{"wrong type: labels is a number", "alertmanager", bytes.Replace(valid, []byte(`"labels":{`), []byte(`"labels":42,"x":{`), 1), 400},
		{"bad timestamp, next to a valid alert", "alertmanager", mustJSON(t, amDelivery(smuggled, badTime)), 400},
		{"bad status", "alertmanager", bytes.Replace(valid, []byte(`"status":"firing","labels"`), []byte(`"status":"burning","labels"`), 1), 400},
		{"grafana: malformed JSON", "grafana", []byte(`{"receiver":"x","alerts":[`), 400},
		{"events: bad status", "events", []byte(`{"events":[{"source":"zabbix","status":"burning","severity":"high","summary":"x","labels":{"host":"smuggled-3"},"starts_at":"2026-01-05T10:00:00Z"}]}`), 400},
		{"events: bad timestamp", "events", []byte(`{"events":[{"source":"zabbix","status":"firing","severity":"high","summary":"x","labels":{"host":"smuggled-4"},"starts_at":"2026-13-45T99:00:00Z"}]}`), 400},
		{"oversize body (11 MiB)", "alertmanager", oversizeDelivery(t, 11<<20), 413},
	}
	for _, c := range cases {
		url := s.url("/api/v1/ingest/" + c.path)
		status, body, err := postRaw(url, c.body)
		if err != nil {
			t.Errorf("%s: POST %s (%d bytes): %v", c.name, url, len(c.body), err)
			continue
		}
		if status != c.want {
			t.Errorf("%s: POST %s: status %d, want %d; body %s", c.name, url, status, c.want, tail(string(body), 512))
			continue
		}
		if status == http.StatusBadRequest {
			var e errorReply
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Errorf("%s: 400 body %q, want {\"error\":\"...\",\"field\":\"...\"}", c.name, tail(string(body), 512))
			}
		}
	}

	// Still alive, still ready, nothing changed.
	s.waitApplied(readyTimeout)
	after := snapshotIncidents(t, s)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("bad requests changed the incidents:\n before: %v\n after:  %v", before, after)
	}
	s.term()

	out := filepath.Join(t.TempDir(), "export.json")
	mustRunVigia(t, "", "export", "--data", dataDir, "--out", out)
	doc, _ := readExport(t, out)
	counts := episodeCounts(t, doc)
	wantKey := newEpisodeKey(t, good.Fingerprint, good.StartsAt)
	if counts[wantKey] != 1 || len(counts) != 1 {
		t.Errorf("export after bad requests: episodes %v, want only %s once", counts, wantKey)
	}
}

// snapshotIncidents returns, per incident id, its alerts' fingerprints.
func snapshotIncidents(t *testing.T, s *server) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, in := range listIncidents(t, s, "") {
		d := getIncident(t, s, "", in.ID)
		var fps []string
		for _, a := range d.Alerts {
			fps = append(fps, a.Fingerprint+"@"+a.StartsAt)
		}
		m[in.ID] = fmt.Sprintf("%d alerts %v", in.AlertCount, fps)
	}
	return m
}

// oversizeDelivery is a well-formed webhook payload of at least n bytes.
func oversizeDelivery(t *testing.T, n int) []byte {
	a := firingAlert(map[string]string{"alertname": "BadInputHuge", "instance": "huge-1:9100"}, time.Now())
	a.Annotations["description"] = strings.Repeat("x", n)
	return mustJSON(t, amDelivery(a))
}

// postRaw posts body as JSON and returns the status and reply. A server that
// answers before reading the whole body (413) may reset the connection while
// the client still writes; the reply is still returned when it arrived.
func postRaw(url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := testClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}
