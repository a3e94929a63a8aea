package clickhouse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/app"
	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/storage/clickhouse"
)

// TestReplayExportEqualsEmbedded replays the same recordings into the
// embedded store and into ClickHouse through the real commands: the export
// documents must be byte for byte equal. The two stores also get different
// pipeline batch sizes, so the result must not depend on batch boundaries.
func TestReplayExportEqualsEmbedded(t *testing.T) {
	clickhouse.FreshDSN(t) // skips the test without ClickHouse
	gen := filepath.Join(t.TempDir(), "generated.jsonl")
	writeRecording(t, gen, 1200)
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"sample", []string{"../../examples/sample.jsonl"}},
		{"generated", []string{gen}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			emb := config.Default()
			emb.Data = filepath.Join(dir, "embedded")
			ch := config.Default()
			ch.Data, ch.Store = filepath.Join(dir, "clickhouse"), clickhouse.FreshDSN(t)
			embOut, chOut := filepath.Join(dir, "embedded.json"), filepath.Join(dir, "clickhouse.json")
			start := time.Now()
			embSum, err := app.Replay(ctx, app.ReplayOptions{Config: emb, Files: tc.files, Export: embOut})
			if err != nil {
				t.Fatal(err)
			}
			embTook, start := time.Since(start), time.Now()
			chSum, err := app.Replay(ctx, app.ReplayOptions{Config: ch, Files: tc.files, Export: chOut})
			if err != nil {
				t.Fatal(err)
			}
			chTook := time.Since(start)
			if embSum != chSum {
				t.Errorf("summaries differ: embedded %+v, clickhouse %+v", embSum, chSum)
			}
			if embSum.Incidents == 0 || embSum.Episodes == 0 {
				t.Errorf("nothing replayed: %+v", embSum)
			}
			sameFile(t, embOut, chOut)
			// vigia export reopens the data directory and the store.
			again := filepath.Join(dir, "clickhouse-export.json")
			if err := app.Export(ctx, app.ExportOptions{Config: ch, Out: again}); err != nil {
				t.Fatal(err)
			}
			sameFile(t, embOut, again)
			t.Logf("%s: %+v; replay took %v embedded, %v clickhouse", tc.name, chSum, embTook, chTook)
		})
	}
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(x) != string(y) {
		t.Errorf("%s and %s differ:\n%s\n---\n%s", filepath.Base(a), filepath.Base(b), head(x), head(y))
	}
}

func head(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}

// writeRecording writes a replay file of n Alertmanager deliveries: a few
// days of alerts on 60 hosts that fire, repeat and resolve, so that
// incidents open, grow, resolve and reopen.
func writeRecording(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(7, 11))
	type alert struct {
		labels      map[string]string
		startsAt    time.Time
		fingerprint string
	}
	names := []string{"HighCPU", "DiskFull", "NodeDown", "HighLatency", "ErrorRate"}
	sev := []string{"critical", "warning", "info"}
	firing := map[string]*alert{}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		now = now.Add(time.Duration(r.IntN(180)) * time.Second)
		var alerts []map[string]any
		for k := 1 + r.IntN(4); k > 0; k-- {
			host := fmt.Sprintf("node-%d", r.IntN(60))
			name := names[r.IntN(len(names))]
			key := name + host
			a := firing[key]
			status := "firing"
			endsAt := "0001-01-01T00:00:00Z"
			switch {
			case a == nil:
				a = &alert{labels: map[string]string{"alertname": name, "instance": host, "cluster": fmt.Sprintf("c%d", r.IntN(3)),
					"severity": sev[r.IntN(len(sev))], "service": fmt.Sprintf("svc-%d", r.IntN(8))}, startsAt: now.Add(-time.Minute),
					fingerprint: fmt.Sprintf("%016x", r.Uint64())}
				firing[key] = a
			case r.IntN(3) == 0:
				status = "resolved"
				endsAt = now.Format(time.RFC3339Nano)
				delete(firing, key)
			}
			alerts = append(alerts, map[string]any{"status": status, "labels": a.labels, "annotations": map[string]string{"summary": name + " on " + host},
				"startsAt": a.startsAt.Format(time.RFC3339Nano), "endsAt": endsAt, "generatorURL": "http://prometheus:9090/graph",
				"fingerprint": a.fingerprint})
		}
		body := map[string]any{"receiver": "vigia", "status": "firing", "alerts": alerts, "groupLabels": map[string]string{},
			"commonLabels": map[string]string{}, "commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093",
			"version": "4", "groupKey": fmt.Sprintf("{}:{g=\"%d\"}", i%17), "truncatedAlerts": 0}
		line, err := json.Marshal(map[string]any{"received_at": now.Add(2 * time.Second).Format(time.RFC3339Nano), "source": "alertmanager", "body": body})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
