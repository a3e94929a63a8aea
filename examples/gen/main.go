// Command gen regenerates examples/sample.jsonl, a replay file (contract §3)
// made of the real webhook payloads kept in shared/fixtures, plus a few
// generic events deliveries. Run it from the repository root:
//
//	go run ./examples/gen
//	go run ./examples/gen -fixtures ../shared/fixtures -out examples/sample.jsonl
//
// Every fixture body is copied as the same JSON value, compacted to one line
// (Alertmanager's own escapes such as \u0026 are kept). Its received_at is two
// seconds after the latest startsAt/endsAt in the body, which is about when
// Alertmanager (group_wait/group_interval 1s) or Grafana would have sent it.
// One Alertmanager delivery is sent a second time one repeat_interval (1m)
// later, byte for byte, to show deduplication. Lines are sorted by
// received_at. The output depends on the fixtures only, never on the clock.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// sendDelay is how long after the latest timestamp of a body it is received.
const sendDelay = 2 * time.Second

// resend names the fixture delivered twice, and how much later.
const (
	resendFixture = "alertmanager/webhook-v4-firing-critical-route-1alert.json"
	resendAfter   = time.Minute // the fixtures' repeat_interval
)

// delivery is one line of the replay file.
type delivery struct {
	receivedAt time.Time
	source     string
	body       []byte // compact JSON
	origin     string // for the sort tie-break and messages
}

func main() {
	fixtures := flag.String("fixtures", filepath.Join("..", "shared", "fixtures"), "directory holding alertmanager/ and grafana/ fixture payloads")
	out := flag.String("out", filepath.Join("examples", "sample.jsonl"), "replay file to write")
	flag.Parse()
	if err := run(*fixtures, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(fixtures, out string) error {
	var ds []delivery
	for _, source := range []string{"alertmanager", "grafana"} {
		files, err := filepath.Glob(filepath.Join(fixtures, source, "*.json"))
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("no %s fixtures in %s", source, filepath.Join(fixtures, source))
		}
		sort.Strings(files)
		for _, f := range files {
			d, err := fixtureDelivery(source, f)
			if err != nil {
				return err
			}
			d.origin = source + "/" + filepath.Base(f)
			ds = append(ds, d)
		}
	}

	resent := false
	for _, d := range ds {
		if d.origin == resendFixture {
			again := d
			again.receivedAt = d.receivedAt.Add(resendAfter)
			again.origin += " (repeat)"
			ds = append(ds, again)
			resent = true
			break
		}
	}
	if !resent {
		return fmt.Errorf("fixture %s not found: it is the one re-sent", resendFixture)
	}

	evs, err := eventDeliveries()
	if err != nil {
		return err
	}
	ds = append(ds, evs...)

	sort.SliceStable(ds, func(i, j int) bool {
		if !ds[i].receivedAt.Equal(ds[j].receivedAt) {
			return ds[i].receivedAt.Before(ds[j].receivedAt)
		}
		return ds[i].origin < ds[j].origin
	})

	var buf bytes.Buffer
	for _, d := range ds {
		// Written by hand so the body is exactly the compacted fixture:
		// json.Marshal would re-escape it.
		fmt.Fprintf(&buf, `{"received_at":%q,"source":%q,"body":%s}`+"\n",
			d.receivedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), d.source, d.body)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %d deliveries to %s\n", len(ds), out)
	return nil
}

// fixtureDelivery reads one webhook payload and dates its delivery.
func fixtureDelivery(source, path string) (delivery, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return delivery{}, err
	}
	var body bytes.Buffer
	if err := json.Compact(&body, raw); err != nil {
		return delivery{}, fmt.Errorf("%s: %w", path, err)
	}
	var payload struct {
		Alerts []struct {
			StartsAt string `json:"startsAt"`
			EndsAt   string `json:"endsAt"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(raw, &payload); err != nil {
		return delivery{}, fmt.Errorf("%s: %w", path, err)
	}
	var stamps []string
	for _, a := range payload.Alerts {
		stamps = append(stamps, a.StartsAt, a.EndsAt)
	}
	latest, err := latestOf(stamps)
	if err != nil {
		return delivery{}, fmt.Errorf("%s: %w", path, err)
	}
	return delivery{receivedAt: latest.Add(sendDelay), source: source, body: body.Bytes()}, nil
}

// latestOf returns the latest of RFC3339 timestamps, ignoring empty ones and
// Go's zero time ("0001-01-01T00:00:00Z", a firing alert's endsAt).
func latestOf(stamps []string) (time.Time, error) {
	var latest time.Time
	for _, s := range stamps {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, err
		}
		if t.Year() > 1 && t.After(latest) {
			latest = t
		}
	}
	if latest.IsZero() {
		return time.Time{}, errors.New("no timestamp in body")
	}
	return latest, nil
}

// event is one generic event (contract §2, POST /api/v1/ingest/events).
type event struct {
	Source      string            `json:"source"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at,omitempty"`
}

// eventDeliveries are what a Zabbix bridge posts during the HighCPUUsage
// storm of the Alertmanager fixtures: the uplink of sw-eu1-b goes down just
// before it, node-4 (behind that switch) stops answering ping, and both
// recover a few seconds after it.
func eventDeliveries() ([]delivery, error) {
	linkDown := event{
		Source:   "zabbix",
		Status:   "firing",
		Severity: "high",
		Summary:  "Interface xe-0/0/48(uplink to core-eu1): Link down",
		Labels: map[string]string{
			"alertname": "Link down",
			"host":      "sw-eu1-b",
			"interface": "xe-0/0/48",
			"cluster":   "prod-eu-1",
		},
		Annotations: map[string]string{
			"description": "ifOperStatus is down(2) while ifAdminStatus is up(1).",
			"zabbix_url":  "https://zabbix.example.com/tr_events.php?triggerid=23891&eventid=4410127",
		},
		StartsAt: "2026-11-22T01:21:50.512Z",
	}
	noPing := event{
		Source:   "zabbix",
		Status:   "firing",
		Severity: "high",
		Summary:  "node-4 is unavailable by ICMP ping",
		Labels: map[string]string{
			"alertname": "Unavailable by ICMP ping",
			"host":      "node-4",
			"cluster":   "prod-eu-1",
		},
		Annotations: map[string]string{
			"description": "Last three attempts returned timeout.",
			"zabbix_url":  "https://zabbix.example.com/tr_events.php?triggerid=24117&eventid=4410131",
		},
		StartsAt: "2026-11-22T01:21:52.800Z",
	}
	linkUp, pingOK := linkDown, noPing
	linkUp.Status, linkUp.EndsAt = "resolved", "2026-11-22T01:22:05.004Z"
	pingOK.Status, pingOK.EndsAt = "resolved", "2026-11-22T01:22:05.900Z"

	var ds []delivery
	for i, batch := range [][]event{{linkDown}, {noPing}, {linkUp, pingOK}} {
		body, err := json.Marshal(map[string][]event{"events": batch})
		if err != nil {
			return nil, err
		}
		var stamps []string
		for _, e := range batch {
			stamps = append(stamps, e.StartsAt, e.EndsAt)
		}
		latest, err := latestOf(stamps)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(batch))
		for _, e := range batch {
			names = append(names, e.Labels["alertname"])
		}
		ds = append(ds, delivery{
			receivedAt: latest.Add(sendDelay),
			source:     "events",
			body:       body,
			origin:     fmt.Sprintf("events/%d %s", i, strings.Join(names, ",")),
		})
	}
	return ds, nil
}
