package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
)

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture    string
		wantStatus int
		wantAlerts int
	}{
		{"alertmanager_v4-firing-critical-route-1alert.json", 202, 1},
		{"alertmanager_v4-firing-from-prometheus-1alert.json", 202, 1},
		{"alertmanager_v4-firing-group-grew-4alerts.json", 202, 4},
		{"alertmanager_v4-firing-mixed-2firing-2resolved.json", 202, 4},
		{"alertmanager_v4-resolved-2alerts.json", 202, 2},
		{"grafana_v1-docs-firing-2alerts.json", 202, 2},
		{"grafana_v1-from-source-resolved-2alerts.json", 202, 2},
		{"grafana_v1-integration-test-firing-1alert.json", 202, 1},
		{"events_zabbix-firing-resolved-2events.json", 202, 2},
		{"events_nagios-minimal-1event.json", 202, 1},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			env := newEnv(t, nil)
			body := readFixture(t, tc.fixture)
			w := env.do(request{path: pathFor(tc.fixture), body: body})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			var r reply
			if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if r != (reply{Accepted: tc.wantAlerts}) {
				t.Errorf("reply %+v, want %d accepted, 0 duplicates", r, tc.wantAlerts)
			}
			got := env.sink.deliveries()
			if len(got) != 1 || len(got[0].Alerts) != tc.wantAlerts {
				t.Fatalf("sink got %d deliveries (%v)", len(got), got)
			}
			d := got[0]
			checkAccepted(t, d, Limits{})
			if !d.ReceivedAt.Equal(testNow) || d.Sender != "" {
				t.Errorf("ReceivedAt %v, Sender %q", d.ReceivedAt, d.Sender)
			}
			if d.Source == correlate.SourceEvents {
				return
			}
			// Alertmanager-shaped: the payload's own receiver, group key,
			// fingerprints and timestamp text come through unchanged.
			var p struct {
				Receiver, GroupKey string
				Alerts             []struct{ Fingerprint, StartsAt, EndsAt, Status string }
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if d.Receiver != p.Receiver || d.GroupKey != p.GroupKey || d.Receiver == "" {
				t.Errorf("receiver %q groupKey %q, want %q %q", d.Receiver, d.GroupKey, p.Receiver, p.GroupKey)
			}
			for i, a := range d.Alerts {
				pa := p.Alerts[i]
				if a.Fingerprint != pa.Fingerprint || a.StartsAtRaw != pa.StartsAt || a.Status.String() != pa.Status {
					t.Errorf("alerts[%d] = %s %q %s, want %s %q %s", i, a.Fingerprint, a.StartsAtRaw, a.Status, pa.Fingerprint, pa.StartsAt, pa.Status)
				}
				if pa.Status == "resolved" && a.EndsAt.Format(time.RFC3339Nano) != mustUTC(t, pa.EndsAt) {
					t.Errorf("alerts[%d].EndsAt = %v, want %s", i, a.EndsAt, pa.EndsAt)
				}
				// Alertmanager fingerprints are those of the label set.
				if d.Source == correlate.SourceAlertmanager && a.Fingerprint != correlate.LabelsFingerprint(a.Labels) {
					t.Errorf("alerts[%d]: fingerprint %s, labels give %s", i, a.Fingerprint, correlate.LabelsFingerprint(a.Labels))
				}
			}
		})
	}
}

func mustUTC(t *testing.T, s string) string {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts.UTC().Format(time.RFC3339Nano)
}

func TestAlertmanagerFields(t *testing.T) {
	env := newEnv(t, nil)
	w := env.do(request{path: pathAlertmanager, body: readFixture(t, "alertmanager_v4-firing-critical-route-1alert.json")})
	if w.Code != 202 {
		t.Fatal(w.Code, w.Body)
	}
	d := env.sink.deliveries()[0]
	a := d.Alerts[0]
	if d.Source != correlate.SourceAlertmanager || d.Receiver != "sink-critical" ||
		d.GroupKey != `{}/{severity="critical"}:{alertname="DiskWillFillIn4Hours", cluster="prod-eu-1"}` {
		t.Errorf("delivery %+v", d)
	}
	if a.Fingerprint != "f6ab56d075f65833" || a.Status != correlate.StatusFiring {
		t.Errorf("fingerprint %s status %v", a.Fingerprint, a.Status)
	}
	if a.StartsAtRaw != "2026-11-22T01:21:52.255Z" || !a.StartsAt.Equal(time.Date(2026, 11, 22, 1, 21, 52, 255e6, time.UTC)) {
		t.Errorf("startsAt %v %q", a.StartsAt, a.StartsAtRaw)
	}
	if !a.EndsAt.IsZero() {
		t.Errorf("firing alert has EndsAt %v", a.EndsAt)
	}
	if a.Labels["mountpoint"] != "/var/lib/postgresql" || len(a.Labels) != 8 ||
		a.Annotations["summary"] != "Filesystem /var/lib/postgresql on db-1 will fill in 4 hours" {
		t.Errorf("labels %v annotations %v", a.Labels, a.Annotations)
	}
	if !strings.HasSuffix(a.GeneratorURL, "%3C+0&g0.tab=1") {
		t.Errorf("generatorURL %q", a.GeneratorURL)
	}
	if a.Extra != nil {
		t.Errorf("extra %v", a.Extra)
	}

	env = newEnv(t, nil)
	env.do(request{path: pathAlertmanager, body: readFixture(t, "alertmanager_v4-firing-mixed-2firing-2resolved.json")})
	d = env.sink.deliveries()[0]
	wantEnd := time.Date(2026, 11, 22, 1, 21, 58, 297e6, time.UTC)
	for i, a := range d.Alerts {
		resolved := i < 2
		if (a.Status == correlate.StatusResolved) != resolved || resolved && !a.EndsAt.Equal(wantEnd) || !resolved && !a.EndsAt.IsZero() {
			t.Errorf("alerts[%d]: %v endsAt %v", i, a.Status, a.EndsAt)
		}
	}
}

func TestGrafanaFields(t *testing.T) {
	env := newEnv(t, nil)
	env.do(request{path: pathGrafana, body: readFixture(t, "grafana_v1-docs-firing-2alerts.json")})
	d := env.sink.deliveries()[0]
	a := d.Alerts[0]
	if d.Source != correlate.SourceGrafana || d.Receiver != "My Super Webhook" || d.GroupKey != "{}:{}" {
		t.Errorf("delivery %+v", d)
	}
	// The offset and the microseconds are kept in the raw text; StartsAt is UTC.
	if a.StartsAtRaw != "2021-10-12T09:51:03.157076+02:00" || !a.StartsAt.Equal(time.Date(2021, 10, 12, 7, 51, 3, 157076000, time.UTC)) || a.StartsAt.Location() != time.UTC {
		t.Errorf("startsAt %v %q", a.StartsAt, a.StartsAtRaw)
	}
	if a.Fingerprint != "c6eadffa33fcdf37" {
		t.Errorf("fingerprint %s", a.Fingerprint)
	}
	wantExtra := map[string]string{
		"silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
		"values":     `{"B":44.23943737541908,"C":1}`,
		"orgId":      "1", // from the top level
	}
	if fmt.Sprint(a.Extra) != fmt.Sprint(wantExtra) {
		t.Errorf("extra\n got %v\nwant %v", a.Extra, wantExtra)
	}

	env = newEnv(t, nil)
	env.do(request{path: pathGrafana, body: readFixture(t, "grafana_v1-from-source-resolved-2alerts.json")})
	d = env.sink.deliveries()[0]
	a = d.Alerts[1]
	if a.Fingerprint != "bb848ea8672b97a8" || a.Fingerprint == correlate.LabelsFingerprint(a.Labels) {
		t.Errorf("fingerprint %s: must be Grafana's (private labels included), not recomputed", a.Fingerprint)
	}
	if a.Status != correlate.StatusResolved || !a.EndsAt.Equal(time.Date(2026, 11, 21, 22, 31, 40, 0, time.UTC)) || a.StartsAtRaw != "2026-11-21T22:15:40Z" {
		t.Errorf("status %v endsAt %v startsAt %q", a.Status, a.EndsAt, a.StartsAtRaw)
	}
	for k, want := range map[string]string{
		"dashboardURL": "http://grafana.example.com/d/node-exporter-full?from=1795295740000&orgId=1&to=1795300300000",
		"panelURL":     "http://grafana.example.com/d/node-exporter-full?from=1795295740000&orgId=1&to=1795300300000&viewPanel=3",
		"valueString":  "[ var='B' labels={instance=node-2:9100} value=38.2 ], [ var='C' labels={instance=node-2:9100} value=0 ]",
		"values":       `{"B":38.2,"C":0}`,
		"orgId":        "1",
	} {
		if a.Extra[k] != want {
			t.Errorf("extra[%s] = %q, want %q", k, a.Extra[k], want)
		}
	}
	if _, ok := a.Extra["imageURL"]; ok {
		t.Error("empty imageURL kept")
	}
}

func TestGrafanaValues(t *testing.T) {
	body := readFixture(t, "grafana_v1-integration-test-firing-1alert.json")
	for _, tc := range []struct {
		values any
		want   string // "" = rejected
	}{
		{map[string]any{"A": nil, "B": 2.5}, `{"A":null,"B":2.5}`},
		{map[string]any{"A": "NaN", "B": "+Inf", "C": "-Inf"}, `{"A":"NaN","B":"+Inf","C":"-Inf"}`},
		{map[string]any{"A": 1e300}, `{"A":1e+300}`},
		{map[string]any{"A": true}, ""},
		{map[string]any{"A": "high"}, ""},
		{map[string]any{"A": map[string]any{}}, ""},
	} {
		b := edit(t, body, func(m map[string]any) { alertAt(m, "alerts", 0)["values"] = tc.values })
		d, err := Decode(correlate.SourceGrafana, b, testNow, Limits{})
		if tc.want == "" {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "alerts[0].values.A" {
				t.Errorf("values %v: err %v, want field alerts[0].values.A", tc.values, err)
			}
			continue
		}
		if err != nil || d.Alerts[0].Extra["values"] != tc.want {
			t.Errorf("values %v: %v %q, want %q", tc.values, err, d.Alerts[0].Extra["values"], tc.want)
		}
	}
}

func TestEvents(t *testing.T) {
	env := newEnv(t, nil)
	w := env.do(request{path: pathEvents, body: readFixture(t, "events_zabbix-firing-resolved-2events.json")})
	if w.Code != 202 {
		t.Fatal(w.Code, w.Body)
	}
	d := env.sink.deliveries()[0]
	if d.Source != correlate.SourceEvents || d.Receiver != "" || d.GroupKey != "" {
		t.Errorf("delivery %+v", d)
	}
	a, b := d.Alerts[0], d.Alerts[1]
	wantLabels := map[string]string{"alertname": "DiskSpaceLow", "host": "db-1", "mountpoint": "/var", "source": "zabbix", "severity": "high"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", a.Labels, wantLabels)
	}
	if a.Annotations["summary"] != "Disk space low on db-1" || a.Annotations["description"] == "" {
		t.Errorf("annotations %v", a.Annotations)
	}
	if a.Fingerprint != correlate.LabelsFingerprint(wantLabels) || a.Extra != nil {
		t.Errorf("fingerprint %s extra %v: want that of source + labels", a.Fingerprint, a.Extra)
	}
	if a.StartsAtRaw != "2026-11-22T01:20:00.500Z" || !a.EndsAt.IsZero() {
		t.Errorf("startsAt %q endsAt %v", a.StartsAtRaw, a.EndsAt)
	}
	// No alertname: the summary stands in. A sender ID that is not a
	// fingerprint is hashed with the source and kept in Extra.
	if b.Labels["alertname"] != "Ping loss on sw-dc1-a" || b.Labels["severity"] != "warning" {
		t.Errorf("labels %v", b.Labels)
	}
	wantFP := correlate.LabelsFingerprint(map[string]string{"source": "zabbix", "fingerprint": "zbx-event-48213"})
	if b.Fingerprint != wantFP || b.Extra["fingerprint"] != "zbx-event-48213" {
		t.Errorf("fingerprint %s extra %v, want %s", b.Fingerprint, b.Extra, wantFP)
	}
	if !b.EndsAt.Equal(time.Date(2026, 11, 22, 1, 15, 30, 0, time.UTC)) {
		t.Errorf("endsAt %v", b.EndsAt)
	}

	// A 16-hex fingerprint is used as is (lowercased); a resolved event
	// without ends_at ends when it was received.
	env.do(request{path: pathEvents, body: readFixture(t, "events_nagios-minimal-1event.json")})
	c := env.sink.deliveries()[1].Alerts[0]
	if c.Fingerprint != "0123456789abcdef" || c.Extra != nil || !c.EndsAt.Equal(testNow) || c.Labels["source"] != "nagios" {
		t.Errorf("alert %+v", c)
	}
	// labels.severity and annotations.summary win over the fields.
	body := []byte(`{"events":[{"source":"s","status":"firing","severity":"info","summary":"sum","labels":{"alertname":"A","severity":"page"},"annotations":{"summary":"mine"},"starts_at":"2026-01-01T00:00:00Z"}]}`)
	dd, err := Decode(correlate.SourceEvents, body, testNow, Limits{})
	if err != nil || dd.Alerts[0].Labels["severity"] != "page" || dd.Alerts[0].Annotations["summary"] != "mine" || dd.Alerts[0].Labels["alertname"] != "A" {
		t.Errorf("%v %+v", err, dd)
	}
}

func TestResolvedWithoutEndsAt(t *testing.T) {
	body := edit(t, readFixture(t, "alertmanager_v4-resolved-2alerts.json"), func(m map[string]any) {
		alertAt(m, "alerts", 0)["endsAt"] = "0001-01-01T00:00:00Z"
		delete(alertAt(m, "alerts", 1), "endsAt")
	})
	d, err := Decode(correlate.SourceAlertmanager, body, testNow, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range d.Alerts {
		if !a.EndsAt.Equal(testNow) {
			t.Errorf("alerts[%d].EndsAt = %v, want now", i, a.EndsAt)
		}
	}
	// Received before it started (sender's clock ahead): ends as it starts.
	early := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	d, err = Decode(correlate.SourceAlertmanager, body, early, Limits{})
	if err != nil || !d.Alerts[0].EndsAt.Equal(d.Alerts[0].StartsAt) {
		t.Errorf("%v: endsAt %v", err, d.Alerts[0].EndsAt)
	}
}

func TestFingerprintFallback(t *testing.T) {
	body := edit(t, readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json"), func(m map[string]any) {
		alertAt(m, "alerts", 0)["fingerprint"] = "C9A3E09E6404317B"
		alertAt(m, "alerts", 1)["fingerprint"] = "not-a-fingerprint"
		delete(alertAt(m, "alerts", 2), "fingerprint")
	})
	d, err := Decode(correlate.SourceAlertmanager, body, testNow, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	a := d.Alerts
	if a[0].Fingerprint != "c9a3e09e6404317b" || a[0].Extra != nil {
		t.Errorf("alerts[0]: %s %v", a[0].Fingerprint, a[0].Extra)
	}
	if a[1].Fingerprint != correlate.LabelsFingerprint(a[1].Labels) || a[1].Extra["fingerprint"] != "not-a-fingerprint" {
		t.Errorf("alerts[1]: %s %v", a[1].Fingerprint, a[1].Extra)
	}
	if a[2].Fingerprint != "a378d99c09098261" || a[2].Extra != nil {
		t.Errorf("alerts[2]: %s %v", a[2].Fingerprint, a[2].Extra)
	}
}

// errSinkBroken is a sink failure that is not overload.
var errSinkBroken = errors.New("disk on fire")

func TestRejections(t *testing.T) {
	am := readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")
	gf := readFixture(t, "grafana_v1-docs-firing-2alerts.json")
	ev := readFixture(t, "events_zabbix-firing-resolved-2events.json")
	amEdit := func(f func(m map[string]any)) []byte { return edit(t, am, f) }
	amAlert := func(i int, f func(a map[string]any)) []byte {
		return amEdit(func(m map[string]any) { f(alertAt(m, "alerts", i)) })
	}
	evEdit := func(f func(m map[string]any)) []byte { return edit(t, ev, f) }
	evEvent := func(i int, f func(e map[string]any)) []byte {
		return evEdit(func(m map[string]any) { f(alertAt(m, "events", i)) })
	}
	amToken := map[string]string{"Authorization": "Bearer am-secret"}
	withAuth := func(o *Options) { o.Auth = testAuth(t) }

	for _, tc := range []struct {
		name       string
		opts       func(*Options)
		sinkErr    error
		req        request
		wantStatus int
		wantField  string // for 400s
		wantReason string
	}{
		// Malformed JSON and wrong types.
		{name: "malformed", req: request{path: pathAlertmanager, body: am[:len(am)/2]}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "trailing garbage", req: request{path: pathAlertmanager, body: append(append([]byte{}, am...), "}"...)}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "not an object", req: request{path: pathAlertmanager, body: []byte(`[1,2]`)}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "empty body", req: request{path: pathAlertmanager}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "invalid UTF-8", req: request{path: pathAlertmanager, body: bytes.Replace(am, []byte("node-2"), []byte("node-\xff"), 1)}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "labels as a list", req: request{path: pathAlertmanager, body: amAlert(2, func(a map[string]any) { a["labels"] = []any{"alertname", "x"} })}, wantStatus: 400, wantField: "alerts[2].labels", wantReason: "malformed"},
		{name: "label value a number", req: request{path: pathAlertmanager, body: amAlert(1, func(a map[string]any) { a["labels"].(map[string]any)["job"] = 3 })}, wantStatus: 400, wantField: "alerts[1].labels", wantReason: "malformed"},
		{name: "startsAt a number", req: request{path: pathAlertmanager, body: amAlert(3, func(a map[string]any) { a["startsAt"] = 1763774512 })}, wantStatus: 400, wantField: "alerts[3].startsAt", wantReason: "malformed"},
		{name: "alerts an object", req: request{path: pathAlertmanager, body: amEdit(func(m map[string]any) { m["alerts"] = map[string]any{} })}, wantStatus: 400, wantField: "alerts", wantReason: "malformed"},
		{name: "version a number", req: request{path: pathAlertmanager, body: amEdit(func(m map[string]any) { m["version"] = 4 })}, wantStatus: 400, wantField: "version", wantReason: "malformed"},
		// Versions.
		{name: "version missing", req: request{path: pathAlertmanager, body: amEdit(func(m map[string]any) { delete(m, "version") })}, wantStatus: 400, wantField: "version", wantReason: "version"},
		{name: "grafana body to alertmanager", req: request{path: pathAlertmanager, body: gf}, wantStatus: 400, wantField: "version", wantReason: "version"},
		{name: "alertmanager body to grafana", req: request{path: pathGrafana, body: am}, wantStatus: 400, wantField: "version", wantReason: "version"},
		// Validation.
		{name: "no alerts", req: request{path: pathAlertmanager, body: amEdit(func(m map[string]any) { m["alerts"] = []any{} })}, wantStatus: 400, wantField: "alerts", wantReason: "invalid"},
		{name: "bad timestamp", req: request{path: pathAlertmanager, body: amAlert(2, func(a map[string]any) { a["startsAt"] = "2026-11-22 01:21:52" })}, wantStatus: 400, wantField: "alerts[2].startsAt", wantReason: "invalid"},
		{name: "startsAt missing", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { delete(a, "startsAt") })}, wantStatus: 400, wantField: "alerts[0].startsAt", wantReason: "invalid"},
		{name: "startsAt zero", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["startsAt"] = "0001-01-01T00:00:00Z" })}, wantStatus: 400, wantField: "alerts[0].startsAt", wantReason: "invalid"},
		{name: "bad endsAt", req: request{path: pathAlertmanager, body: amAlert(1, func(a map[string]any) { a["endsAt"] = "soon" })}, wantStatus: 400, wantField: "alerts[1].endsAt", wantReason: "invalid"},
		{name: "endsAt before startsAt", req: request{path: pathAlertmanager, body: amAlert(1, func(a map[string]any) { a["status"] = "resolved"; a["endsAt"] = "2026-11-22T01:00:00Z" })}, wantStatus: 400, wantField: "alerts[1].endsAt", wantReason: "invalid"},
		{name: "bad status", req: request{path: pathAlertmanager, body: amAlert(3, func(a map[string]any) { a["status"] = "pending" })}, wantStatus: 400, wantField: "alerts[3].status", wantReason: "invalid"},
		{name: "invalid label name", req: request{path: pathAlertmanager, body: amAlert(1, func(a map[string]any) { a["labels"].(map[string]any)["bad-name"] = "x" })}, wantStatus: 400, wantField: `alerts[1].labels["bad-name"]`, wantReason: "invalid"},
		{name: "label name starts with digit", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["labels"].(map[string]any)["1x"] = "x" })}, wantStatus: 400, wantField: `alerts[0].labels["1x"]`, wantReason: "invalid"},
		{name: "missing alertname", req: request{path: pathAlertmanager, body: amAlert(2, func(a map[string]any) { delete(a["labels"].(map[string]any), "alertname") })}, wantStatus: 400, wantField: "alerts[2].labels.alertname", wantReason: "invalid"},
		{name: "labels null", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["labels"] = nil })}, wantStatus: 400, wantField: "alerts[0].labels.alertname", wantReason: "invalid"},
		{name: "empty annotation name", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["annotations"].(map[string]any)[""] = "x" })}, wantStatus: 400, wantField: `alerts[0].annotations[""]`, wantReason: "invalid"},
		// Limits.
		{name: "too many alerts", opts: func(o *Options) { o.MaxAlerts = 3 }, req: request{path: pathAlertmanager, body: am}, wantStatus: 400, wantField: "alerts", wantReason: "limit"},
		{name: "too many labels", opts: func(o *Options) { o.MaxLabels = 5 }, req: request{path: pathAlertmanager, body: am}, wantStatus: 400, wantField: "alerts[0].labels", wantReason: "limit"},
		{name: "label value too long", req: request{path: pathAlertmanager, body: amAlert(3, func(a map[string]any) { a["labels"].(map[string]any)["team"] = strings.Repeat("x", 4097) })}, wantStatus: 400, wantField: "alerts[3].labels.team", wantReason: "limit"},
		{name: "annotation too long", req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["annotations"].(map[string]any)["description"] = strings.Repeat("x", 32769) })}, wantStatus: 400, wantField: "alerts[0].annotations.description", wantReason: "limit"},
		// Grafana.
		{name: "grafana values not numbers", req: request{path: pathGrafana, body: edit(t, gf, func(m map[string]any) { alertAt(m, "alerts", 1)["values"] = map[string]any{"B": false} })}, wantStatus: 400, wantField: "alerts[1].values.B", wantReason: "invalid"},
		{name: "grafana values a list", req: request{path: pathGrafana, body: edit(t, gf, func(m map[string]any) { alertAt(m, "alerts", 1)["values"] = []any{1} })}, wantStatus: 400, wantField: "alerts[1].values", wantReason: "malformed"},
		// Events.
		{name: "events unknown top-level field", req: request{path: pathEvents, body: evEdit(func(m map[string]any) { m["version"] = "1" })}, wantStatus: 400, wantField: "version", wantReason: "malformed"},
		{name: "events unknown event field", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { e["colour"] = "red" })}, wantStatus: 400, wantField: "events[1].colour", wantReason: "malformed"},
		{name: "events wrong type", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { e["labels"] = "host=a" })}, wantStatus: 400, wantField: "events[1].labels", wantReason: "malformed"},
		{name: "events trailing data", req: request{path: pathEvents, body: append(append([]byte{}, ev...), `{}`...)}, wantStatus: 400, wantField: "body", wantReason: "malformed"},
		{name: "events missing", req: request{path: pathEvents, body: []byte(`{}`)}, wantStatus: 400, wantField: "events", wantReason: "invalid"},
		{name: "events bad severity", req: request{path: pathEvents, body: evEvent(0, func(e map[string]any) { e["severity"] = "disaster" })}, wantStatus: 400, wantField: "events[0].severity", wantReason: "invalid"},
		{name: "events no source", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { delete(e, "source") })}, wantStatus: 400, wantField: "events[1].source", wantReason: "invalid"},
		{name: "events source conflict", req: request{path: pathEvents, body: evEvent(0, func(e map[string]any) { e["labels"].(map[string]any)["source"] = "nagios" })}, wantStatus: 400, wantField: "events[0].labels.source", wantReason: "invalid"},
		{name: "events no alertname nor summary", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { delete(e, "summary") })}, wantStatus: 400, wantField: "events[1].labels.alertname", wantReason: "invalid"},
		{name: "events bad starts_at", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { e["starts_at"] = "yesterday" })}, wantStatus: 400, wantField: "events[1].starts_at", wantReason: "invalid"},
		{name: "events ends_at before starts_at", req: request{path: pathEvents, body: evEvent(1, func(e map[string]any) { e["ends_at"] = "2026-11-22T01:09:59Z" })}, wantStatus: 400, wantField: "events[1].ends_at", wantReason: "invalid"},
		// HTTP edge.
		{name: "oversized body", opts: func(o *Options) { o.MaxBodyBytes = 1000 }, req: request{path: pathAlertmanager, body: am}, wantStatus: 413, wantReason: "too_large"},
		{name: "oversized chunked body", opts: func(o *Options) { o.MaxBodyBytes = 1000 }, req: request{path: pathAlertmanager, body: am, chunked: true}, wantStatus: 413, wantReason: "too_large"},
		{name: "text/plain", req: request{path: pathAlertmanager, body: am, headers: map[string]string{"Content-Type": "text/plain"}}, wantStatus: 415, wantReason: "media_type"},
		{name: "form", req: request{path: pathEvents, body: ev, headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, wantStatus: 415, wantReason: "media_type"},
		{name: "gzip", req: request{path: pathAlertmanager, body: am, headers: map[string]string{"Content-Encoding": "gzip"}}, wantStatus: 415, wantReason: "media_type"},
		{name: "no token", opts: withAuth, req: request{path: pathAlertmanager, body: am}, wantStatus: 401, wantReason: "unauthorized"},
		{name: "bad token", opts: withAuth, req: request{path: pathAlertmanager, body: am, headers: map[string]string{"Authorization": "Bearer nope"}}, wantStatus: 401, wantReason: "unauthorized"},
		{name: "wrong role", opts: withAuth, req: request{path: pathGrafana, body: gf, headers: map[string]string{"Authorization": "Bearer alice-secret"}}, wantStatus: 403, wantReason: "forbidden"},
		{name: "token ok, body bad", opts: withAuth, req: request{path: pathAlertmanager, body: amAlert(0, func(a map[string]any) { a["status"] = "ok" }), headers: amToken}, wantStatus: 400, wantField: "alerts[0].status", wantReason: "invalid"},
		// Sink failures.
		{name: "sink overloaded", sinkErr: ErrOverloaded, req: request{path: pathAlertmanager, body: am}, wantStatus: 503, wantReason: "overloaded"},
		{name: "sink overloaded wrapped", sinkErr: fmt.Errorf("journal: %w: disk budget spent", ErrOverloaded), req: request{path: pathGrafana, body: gf}, wantStatus: 503, wantReason: "overloaded"},
		{name: "sink canceled", sinkErr: fmt.Errorf("append: %w", context.Canceled), req: request{path: pathEvents, body: ev}, wantStatus: 503, wantReason: "canceled"},
		{name: "sink deadline", sinkErr: context.DeadlineExceeded, req: request{path: pathEvents, body: ev}, wantStatus: 503, wantReason: "canceled"},
		{name: "sink broken", sinkErr: errSinkBroken, req: request{path: pathAlertmanager, body: am}, wantStatus: 500, wantReason: "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.opts)
			env.sink.err = tc.sinkErr
			w := env.do(tc.req)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if n := len(env.sink.deliveries()); n != 0 {
				t.Fatalf("sink received %d deliveries from a rejected request", n)
			}
			var body struct{ Error, Field string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Fatalf("body %q: want {\"error\":...}", w.Body)
			}
			if body.Field != tc.wantField {
				t.Errorf("field %q, want %q (error: %s)", body.Field, tc.wantField, body.Error)
			}
			if tc.wantField != "" && !strings.HasPrefix(body.Error, tc.wantField+": ") {
				t.Errorf("error %q does not start with its field", body.Error)
			}
			switch tc.wantStatus {
			case 503:
				if got := w.Header().Get("Retry-After"); got != "5" {
					t.Errorf("Retry-After %q, want 5", got)
				}
			case 500:
				if body.Error != "internal error" || strings.Contains(w.Body.String(), errSinkBroken.Error()) {
					t.Errorf("500 body %q leaks details", w.Body)
				}
			case 401:
				if w.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			}
			src := strings.TrimPrefix(tc.req.path, "/api/v1/ingest/")
			if got := testutil.ToFloat64(env.h.metrics.rejected.WithLabelValues(src, tc.wantReason)); got != 1 {
				t.Errorf("rejected_total{%s,%s} = %v, want 1", src, tc.wantReason, got)
			}
			if got := testutil.ToFloat64(env.h.metrics.requests.WithLabelValues(src, fmt.Sprint(tc.wantStatus))); got != 1 {
				t.Errorf("requests_total{%s,%d} = %v, want 1", src, tc.wantStatus, got)
			}
			if got := testutil.ToFloat64(env.h.metrics.alerts.WithLabelValues(src)); got != 0 {
				t.Errorf("alerts_total = %v", got)
			}
		})
	}
}

func TestErrorsAreDeterministic(t *testing.T) {
	// Several faulty labels: always the first in sorted order.
	body := edit(t, readFixture(t, "alertmanager_v4-firing-critical-route-1alert.json"), func(m map[string]any) {
		l := alertAt(m, "alerts", 0)["labels"].(map[string]any)
		for _, k := range []string{"z-z", "m-m", "b-b", "x.y", "c c"} {
			l[k] = "v"
		}
	})
	for range 20 {
		_, err := Decode(correlate.SourceAlertmanager, body, testNow, Limits{})
		if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Field != `alerts[0].labels["b-b"]` {
			t.Fatalf("err %v", err)
		}
	}
	if _, err := Decode(correlate.SourceAlertmanager, body, testNow, Limits{UTF8LabelNames: true}); err != nil {
		t.Errorf("UTF8LabelNames: %v", err)
	}
}

func TestAcceptedContentTypes(t *testing.T) {
	am := readFixture(t, "alertmanager_v4-firing-from-prometheus-1alert.json")
	for _, ct := range []string{"", "application/json", "application/json; charset=utf-8", "Application/JSON"} {
		env := newEnv(t, nil)
		w := env.do(request{path: pathAlertmanager, body: am, headers: map[string]string{"Content-Type": ct}})
		if w.Code != 202 {
			t.Errorf("Content-Type %q: %d %s", ct, w.Code, w.Body)
		}
	}
}

func TestDuplicates(t *testing.T) {
	env := newEnv(t, nil)
	grew := readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")
	mixed := readFixture(t, "alertmanager_v4-firing-mixed-2firing-2resolved.json")
	for i, tc := range []struct {
		body []byte
		want reply
	}{
		{grew, reply{4, 0}},
		{grew, reply{4, 4}},  // a repeat notification
		{mixed, reply{4, 2}}, // two resolved now, two still firing
		{mixed, reply{4, 4}},
	} {
		w := env.do(request{path: pathAlertmanager, body: tc.body})
		var got reply
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got != tc.want {
			t.Errorf("post %d: %s, want %+v", i, w.Body, tc.want)
		}
	}
	if got := testutil.ToFloat64(env.h.metrics.duplicates.WithLabelValues("alertmanager")); got != 10 {
		t.Errorf("duplicate_alerts_total = %v", got)
	}
	if got := testutil.ToFloat64(env.h.metrics.alerts.WithLabelValues("alertmanager")); got != 16 {
		t.Errorf("alerts_total = %v", got)
	}
	// A rejected body is not remembered.
	env.sink.err = ErrOverloaded
	other := readFixture(t, "alertmanager_v4-firing-critical-route-1alert.json")
	env.do(request{path: pathAlertmanager, body: other})
	env.sink.err = nil
	w := env.do(request{path: pathAlertmanager, body: other})
	if !strings.Contains(w.Body.String(), `"duplicates":0`) {
		t.Errorf("after a 503: %s", w.Body)
	}
}

func TestSeenIndexBounded(t *testing.T) {
	s := newSeenIndex(64)
	alerts := make([]correlate.Alert, 1000)
	for i := range alerts {
		alerts[i] = correlate.Alert{Fingerprint: fmt.Sprintf("%016x", i*7919), StartsAt: testNow, Status: correlate.StatusFiring}
	}
	if d := s.observe(alerts); d != 0 {
		t.Errorf("dups %d", d)
	}
	total := 0
	for i := range s.shards {
		total += len(s.shards[i].m)
	}
	if total > 64 {
		t.Errorf("index holds %d entries, capacity 64", total)
	}
	if d := s.observe(alerts[len(alerts)-1:]); d != 1 {
		t.Errorf("latest alert forgotten: dups %d", d)
	}
}

func TestSenderAndContext(t *testing.T) {
	env := newEnv(t, func(o *Options) { o.Auth = testAuth(t) })
	w := env.do(request{path: pathEvents, body: readFixture(t, "events_nagios-minimal-1event.json"), headers: map[string]string{"Authorization": "Bearer am-secret"}})
	if w.Code != 202 {
		t.Fatal(w.Code, w.Body)
	}
	if d := env.sink.deliveries()[0]; d.Sender != "alertmanager-prod" {
		t.Errorf("sender %q", d.Sender)
	}
	// The Sink gets the request's context, identity included.
	if id := auth.IdentityFrom(env.sink.ctxs[0]); id.Name != "alertmanager-prod" {
		t.Errorf("sink context identity %v", id)
	}
}

func TestMetricsPreinitialized(t *testing.T) {
	env := newEnv(t, nil)
	want := map[string]int{
		"vigia_ingest_requests_total":           3 * len(metricCodes),
		"vigia_ingest_rejected_total":           3 * len(metricReasons),
		"vigia_ingest_alerts_total":             3,
		"vigia_ingest_bytes_total":              3,
		"vigia_ingest_request_duration_seconds": 3,
		"vigia_ingest_duplicate_alerts_total":   3,
		"vigia_ingest_truncated_alerts_total":   3,
	}
	for name, n := range want {
		if got := testutil.CollectAndCount(env.reg, name); got != n {
			t.Errorf("%s: %d series, want %d", name, got, n)
		}
	}
	body := readFixture(t, "grafana_v1-docs-firing-2alerts.json")
	env.do(request{path: pathGrafana, body: body})
	if got := testutil.ToFloat64(env.h.metrics.bytes.WithLabelValues("grafana")); got != float64(len(body)) {
		t.Errorf("bytes_total = %v, want %d", got, len(body))
	}
	if got := testutil.ToFloat64(env.h.metrics.requests.WithLabelValues("grafana", "202")); got != 1 {
		t.Errorf("requests_total = %v", got)
	}
	// Two handlers in one process, each on its own registry: no panic.
	newEnv(t, nil)
	// And a nil registerer works too.
	if _, err := New(Options{Sink: &fakeSink{}}); err != nil {
		t.Fatal(err)
	}
}

func TestTruncated(t *testing.T) {
	env := newEnv(t, nil)
	body := edit(t, readFixture(t, "alertmanager_v4-resolved-2alerts.json"), func(m map[string]any) { m["truncatedAlerts"] = 3 })
	if w := env.do(request{path: pathAlertmanager, body: body}); w.Code != 202 {
		t.Fatal(w.Code, w.Body)
	}
	if got := testutil.ToFloat64(env.h.metrics.truncated.WithLabelValues("alertmanager")); got != 3 {
		t.Errorf("truncated_alerts_total = %v", got)
	}
}

func TestNewOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{Sink: &fakeSink{}, MaxBodyBytes: -1},
		{Sink: &fakeSink{}, RetryAfter: -time.Second},
		{Sink: &fakeSink{}, Limits: Limits{MaxLabels: -1}},
	} {
		if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "Options.") {
			t.Errorf("New(%+v) = %v, want an Options error", o, err)
		}
	}
	h, err := New(Options{Sink: &fakeSink{}, RetryAfter: 1500 * time.Millisecond})
	if err != nil || h.retryAfter != "2" || h.maxBody != DefaultMaxBodyBytes || h.limits.MaxAlerts != DefaultMaxAlerts {
		t.Errorf("%v %+v", err, h)
	}
}

// TestRealHTTP goes through a real server on loopback: what Alertmanager
// and Grafana talk to.
func TestRealHTTP(t *testing.T) {
	env := newEnv(t, func(o *Options) { o.Auth = testAuth(t); o.MaxBodyBytes = 64 << 10 })
	srv := httptest.NewServer(env.engine)
	defer srv.Close()

	post := func(path string, body io.Reader, token string) (*http.Response, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Alertmanager/0.31.1")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	for _, name := range append(fixtures(t, "alertmanager_"), fixtures(t, "grafana_")...) {
		resp, body := post(pathFor(name), bytes.NewReader(readFixture(t, name)), "am-secret")
		if resp.StatusCode != 202 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s: %d %s %s", name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if n := len(env.sink.deliveries()); n != 8 {
		t.Errorf("sink got %d deliveries, want 8", n)
	}
	resp, _ := post(pathAlertmanager, bytes.NewReader(readFixture(t, "alertmanager_v4-resolved-2alerts.json")), "")
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	// A streamed body over the cap, without Content-Length.
	big := io.MultiReader(strings.NewReader(`{"version":"4","alerts":[`), strings.NewReader(strings.Repeat(" ", 128<<10)))
	resp, body := post(pathAlertmanager, big, "am-secret")
	if resp.StatusCode != 413 {
		t.Errorf("oversized: %d %s", resp.StatusCode, body)
	}
	if n := len(env.sink.deliveries()); n != 8 {
		t.Errorf("sink got %d deliveries after rejections, want 8", n)
	}
}
