package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/correlate"
)

// body100 is an Alertmanager body of 100 firing alerts shaped like the
// fixtures (6 labels, 3 annotations each).
func body100(testing.TB) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"receiver":"sink","status":"firing","alerts":[`)
	for i := range 100 {
		if i > 0 {
			buf.WriteByte(',')
		}
		labels := map[string]string{
			"alertname": "HighCPUUsage", "cluster": "prod-eu-1", "instance": fmt.Sprintf("node-%d:9100", i),
			"job": "node", "severity": "warning", "team": "infra",
		}
		fmt.Fprintf(&buf, `{"status":"firing","labels":{"alertname":"HighCPUUsage","cluster":"prod-eu-1","instance":"node-%d:9100","job":"node","severity":"warning","team":"infra"},`+
			`"annotations":{"description":"node_cpu utilisation has been above 90%% for 5 minutes.","runbook_url":"https://runbooks.example.com/HighCPUUsage","summary":"CPU usage above 90%% on node-%d"},`+
			`"startsAt":"2026-11-22T01:21:52.255Z","endsAt":"0001-01-01T00:00:00Z",`+
			`"generatorURL":"http://prometheus.example.com:9090/graph?g0.expr=instance%%3Anode_cpu_utilisation%%3Arate5m+%%3E+0.9\u0026g0.tab=1","fingerprint":"%s"}`,
			i, i, correlate.LabelsFingerprint(labels))
	}
	buf.WriteString(`],"groupLabels":{"alertname":"HighCPUUsage","cluster":"prod-eu-1"},"commonLabels":{"alertname":"HighCPUUsage","cluster":"prod-eu-1","job":"node","severity":"warning","team":"infra"},` +
		`"commonAnnotations":{},"externalURL":"http://vm:19093","version":"4","groupKey":"{}:{alertname=\"HighCPUUsage\", cluster=\"prod-eu-1\"}","truncatedAlerts":0}`)
	return buf.Bytes()
}

func BenchmarkDecodeAlertmanager100(b *testing.B) {
	body := body100(b)
	lim := Limits{}.withDefaults()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := lim.decodeAlertmanager(body, testNow)
		if err != nil || len(d.Alerts) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

// grafanaBody100 is a Grafana body of 100 firing alerts shaped like the
// fixtures: labels, annotations, values, and the URLs Grafana adds, with
// the \u0026 escapes Go's encoder writes.
func grafanaBody100(testing.TB) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"receiver":"webhook_recv","status":"firing","orgId":1,"alerts":[`)
	for i := range 100 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"status":"firing","labels":{"alertname":"HighCPUUsage","grafana_folder":"infra","instance":"node-%d:9100","severity":"warning"},`+
			`"annotations":{"summary":"CPU usage above 90%% on node-%d"},"startsAt":"2026-11-22T01:21:50Z","endsAt":"0001-01-01T00:00:00Z",`+
			`"generatorURL":"http://grafana:3000/alerting/grafana/cpu-high/view?orgId=1","fingerprint":"%016x",`+
			`"silenceURL":"http://grafana:3000/alerting/silence/new?alertmanager=grafana\u0026matcher=__alert_rule_uid__%%3Dcpu-high\u0026orgId=1",`+
			`"dashboardURL":"http://grafana:3000/d/node?from=1763774210000\u0026orgId=1","panelURL":"http://grafana:3000/d/node?orgId=1\u0026viewPanel=4",`+
			`"values":{"B":%d.25,"C":1},"valueString":"[ var='B' labels={instance=node-%d:9100} value=%d.25 ]","orgId":1}`,
			i, i, 0xfac0861a85de0000+uint64(i), 90+i%10, i, 90+i%10)
	}
	buf.WriteString(`],"groupLabels":{"alertname":"HighCPUUsage"},"commonLabels":{"alertname":"HighCPUUsage","grafana_folder":"infra","severity":"warning"},` +
		`"commonAnnotations":{},"externalURL":"http://grafana:3000/","version":"1","groupKey":"{}:{alertname=\"HighCPUUsage\"}","truncatedAlerts":0,` +
		`"title":"[FIRING:100] HighCPUUsage (infra warning)","state":"alerting","message":"**Firing**\n\nValue: B=90.25, C=1\n"}`)
	return buf.Bytes()
}

func BenchmarkDecodeGrafana100(b *testing.B) {
	body := grafanaBody100(b)
	lim := Limits{}.withDefaults()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := lim.decodeGrafana(body, testNow)
		if err != nil || len(d.Alerts) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

type nopSink struct{}

func (nopSink) Put(context.Context, correlate.Delivery) error { return nil }

// BenchmarkReceiveAlertmanager100 is the whole request path through gin,
// with a Sink that returns at once.
func BenchmarkReceiveAlertmanager100(b *testing.B) {
	body := body100(b)
	gin.SetMode(gin.TestMode)
	h, err := New(Options{Sink: nopSink{}})
	if err != nil {
		b.Fatal(err)
	}
	r := gin.New()
	h.Register(r)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, pathAlertmanager, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Fatal(w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}
