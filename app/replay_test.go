package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/sim"
	"github.com/vigia-noc/vigia/topology"
)

func TestDecodeReplayLineRejects(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager"}`, "body: is required"},
		{`{"source":"alertmanager","body":{}}`, "received_at: is required"},
		{`{"received_at":"2026-01-05T10:00:00Z","source":"nagios","body":{}}`, `source: "nagios"`},
		{`{"received_at":"yesterday","source":"events","body":{}}`, "invalid JSON"},
		{`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[]},"extra":1}`, "unknown field"},
		{`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"3","alerts":[]}}`, "body:"},
		{`not json`, "invalid JSON"},
	} {
		_, err := DecodeReplayLine([]byte(tc.line), ingest.Limits{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeReplayLine(%s) = %v, want an error with %q", tc.line, err, tc.want)
		}
	}
}

func FuzzDecodeReplayLine(f *testing.F) {
	file, err := os.Open("../examples/sample.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := DecodeReplayLine(line, ingest.Limits{})
		if err != nil {
			return
		}
		if d.ReceivedAt.IsZero() || !d.Source.Valid() || len(d.Alerts) == 0 {
			t.Fatalf("accepted an invalid delivery: %+v", d)
		}
		for _, a := range d.Alerts {
			if a.Fingerprint == "" || a.StartsAt.IsZero() || a.Labels["alertname"] == "" {
				t.Fatalf("accepted an invalid alert: %+v", a)
			}
		}
	})
}

// fastLineCases are replay lines that probe the fast path's edges: each must
// decode exactly as the general path decodes it, or be left to it.
var fastLineCases = []string{
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// escapes, in values and keys
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","groupKey":"{}:{a=\"b\"}","alerts":[{"st\u0061tus":"firing","labels":{"alertname":"A\u00e9\ud83d\ude00\n\t\/\\","k\u0065y":"v"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// a lone surrogate, which encoding/json replaces
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A\ud83d"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// case variants of keys, which encoding/json matches
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"Version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"Received_At":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"STATUS":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","ALERTS":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// repeated keys: the last wins, maps merge
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","alertname":"B"},"labels":{"x":"y"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","source":"grafana","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// nulls and wrong types
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","receiver":null,"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","x":null},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","truncatedAlerts":-1,"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","truncatedAlerts":2,"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":4,"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":1},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// unknown fields of every kind are skipped in bodies, refused in lines
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","x":[1,-2.5e3,true,false,null,{"a":[{}]},"s\u0041"],"alerts":[{"status":"firing","y":{},"labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","x":01,"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","x":[1,],"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","extra":1,"body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// order: the body before the source
	`{"body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]},"received_at":"2026-01-05T10:00:00Z","source":"alertmanager"}`,
	// after the line's object
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}} {"x":1}`,
	`  {"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}  ` + "\r",
	// times: offsets, precision, escapes, out of range
	`{"received_at":"2026-01-05T12:00:00.123456789+02:00","source":"alertmanager","body":{"version":"4","alerts":[{"status":"resolved","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00.1+01:00"}]}}`,
	`{"received_at":"2026-01-05T10:00:00\u005a","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00\u005a"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"resolved","labels":{"alertname":"A"},"startsAt":"1500-01-05T09:59:00Z","endsAt":"3000-01-01T00:00:00Z"}]}}`,
	// validation failures
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":""},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A","bad-name":"x"},"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"ABCDEF0123456789","startsAt":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":"mine","startsAt":"2026-01-05T09:59:00Z"}]}}`,
	"{\"received_at\":\"2026-01-05T10:00:00Z\",\"source\":\"alertmanager\",\"body\":{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\xff\"},\"startsAt\":\"2026-01-05T09:59:00Z\"}]}}",
	"{\"received_at\":\"2026-01-05T10:00:00Z\",\"source\":\"alertmanager\",\"body\":{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\x01\"},\"startsAt\":\"2026-01-05T09:59:00Z\"}]}}",
	// Grafana
	`{"received_at":"2026-01-05T10:00:00Z","source":"grafana","body":{"version":"1","orgId":3,"title":"t","state":"alerting","message":"m","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z","values":{"B":44.2,"A":null,"C":-1e3},"valueString":"[x]","dashboardURL":"d","panelURL":"p","silenceURL":"s","imageURL":"i"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"grafana","body":{"version":"1","orgId":"3","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z","orgId":7,"values":{"B":"NaN"}}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"grafana","body":{"version":"1","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-01-05T09:59:00Z","values":{"B":true}}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","orgId":"x","alerts":[{"status":"firing","labels":{"alertname":"A"},"values":[1],"startsAt":"2026-01-05T09:59:00Z"}]}}`,
	// events
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"source":"zabbix","status":"firing","severity":"high","summary":"Link down","labels":{"host":"sw-1"},"annotations":{"x":"y"},"starts_at":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"source":"zabbix","fingerprint":"ticket-1","status":"resolved","summary":"Link down","starts_at":"2026-01-05T09:59:00Z","ends_at":"2026-01-05T10:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"source":"zabbix","status":"firing","severity":"urgent","summary":"x","starts_at":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"Source":"zabbix","status":"firing","summary":"x","starts_at":"2026-01-05T09:59:00Z"}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"source":"zabbix","status":"firing","summary":"x","starts_at":"2026-01-05T09:59:00Z","extra":1}]}}`,
	`{"received_at":"2026-01-05T10:00:00Z","source":"events","body":{"events":[{"source":"zabbix","status":"firing","summary":"x","labels":{"source":"nagios"},"starts_at":"2026-01-05T09:59:00Z"}]}}`,
	// not lines at all
	``, `{}`, `[]`, `{"received_at":"2026-01-05T10:00:00Z","source":"alertmanager","body":{"version":"4","alerts":[{`,
}

// checkFastLine checks that the fast path decodes line as the general path
// does, or leaves it to it. It reports whether the fast path took it.
func checkFastLine(t *testing.T, line []byte, lim ingest.Limits) bool {
	t.Helper()
	slow, serr := decodeLineGeneral(line, lim)
	fast, ok := decodeLineFast(line, lim)
	if !ok {
		return false
	}
	if serr != nil {
		t.Fatalf("fast path took a line the general path rejects (%v):\n%s", serr, line)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path and general path differ on\n%s\nfast:    %+v\ngeneral: %+v", line, fast, slow)
	}
	return true
}

func TestDecodeLineFastPath(t *testing.T) {
	lim := ingest.Limits{}
	took := 0
	for _, line := range fastLineCases {
		if checkFastLine(t, []byte(line), lim) {
			took++
		}
	}
	t.Logf("fast path took %d of %d probe lines", took, len(fastLineCases))
	if took < 10 {
		t.Errorf("the fast path took %d of %d probe lines; want most of the valid ones", took, len(fastLineCases))
	}
	// Every line of the example and of a simulated estate takes the fast
	// path, with the same result.
	dir := t.TempDir()
	if _, err := sim.WriteDir(sim.Config{Seed: 7, Scale: "small", Days: 2}, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../examples/sample.jsonl", filepath.Join(dir, sim.ReplayFile)} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		n, fast := 0, 0
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			n++
			if checkFastLine(t, line, lim) {
				fast++
			}
		}
		if fast != n {
			t.Errorf("%s: the fast path took %d of %d lines, want all", name, fast, n)
		}
	}
}

func FuzzDecodeLineFastPath(f *testing.F) {
	for _, line := range fastLineCases {
		f.Add([]byte(line))
	}
	lim := ingest.Limits{MaxAlerts: 3, MaxLabels: 4, MaxLabelValueLength: 16, MaxAnnotationValueLength: 32}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkFastLine(t, line, lim)
	})
}

// BenchmarkDecodeReplayLine decodes the lines of a simulated estate with the
// fast path (with the general path for what it leaves) and with the general
// path alone.
func BenchmarkDecodeReplayLine(b *testing.B) {
	dir := b.TempDir()
	if _, err := sim.WriteDir(sim.Config{Seed: 1, Scale: "small", Days: 2}, dir); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, sim.ReplayFile))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	lim := ingest.Limits{}
	for _, bc := range []struct {
		name   string
		decode func(line []byte, lim ingest.Limits) (correlate.Delivery, error)
	}{
		{"fast", DecodeReplayLine},
		{"general", decodeLineGeneral},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				for _, line := range lines {
					if _, err := bc.decode(line, lim); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
		})
	}
}

// replayThroughPipeline replays files as Replay did before the feed
// (replay_feed.go): every line journaled, 1,024 at a time, each time applied
// by the pipeline, then drained; problem detection and export as Replay.
func replayThroughPipeline(t *testing.T, cfg config.Config, files []string, export string) {
	t.Helper()
	ctx := context.Background()
	c, err := openCore(ctx, cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var recs [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			d, err := DecodeReplayLine(line, ingest.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := correlate.EncodeDelivery(&d)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
	}
	for i := 0; i < len(recs); i += 1024 {
		if _, err := c.journal.AppendBatch(ctx, recs[i:min(i+1024, len(recs))]); err != nil {
			t.Fatal(err)
		}
		if err := c.pipeline.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.pipeline.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.pipeline.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	probs, err := newProblems(cfg.Problem, c.store.(problemStore), func() *topology.Topology { return c.topology }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probs.Detect(ctx, c.engine.Clock(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := writeExportFile(ctx, export, c.store, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// TestReplayFeedMatchesPipeline: the feed gives the export the pipeline
// gives, whatever its batching: large batches, and batches of a few
// deliveries grouped into transactions.
func TestReplayFeedMatchesPipeline(t *testing.T) {
	dir := t.TempDir()
	// Seven days: the journal holds 4 MB of them, over the budget of the
	// last case.
	if _, err := sim.WriteDir(sim.Config{Seed: 3, Scale: "small", Days: 7}, dir); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, sim.ReplayFile)}
	cfg := config.Default()
	cfg.Topology = filepath.Join(dir, sim.TopologyFile)
	cfg.Data = t.TempDir()
	want := filepath.Join(dir, "pipeline.json")
	replayThroughPipeline(t, cfg, files, want)
	wantDoc, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		min, max int
		// budget is journal.max_bytes, with 1 MiB segments
		budget config.ByteSize
	}{
		{"default batches", feedMinBatch, feedMaxBatch, 0},
		{"small batches", 3, 40, 0},
		{"one delivery", 1, 1, 0},
		{"journal budget smaller than the replay", feedMinBatch, feedMaxBatch, 2 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := cfg
			cfg.Data = t.TempDir()
			if tc.budget > 0 {
				cfg.Journal.SegmentBytes, cfg.Journal.MaxBytes = 1<<20, tc.budget
			}
			got := filepath.Join(t.TempDir(), "feed.json")
			sum, err := replay(context.Background(), ReplayOptions{Config: cfg, Files: files, Export: got}, func(f *feeder) {
				f.minBatch, f.maxBatch = tc.min, tc.max
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Episodes == 0 || sum.Incidents == 0 {
				t.Fatalf("summary %+v", sum)
			}
			gotDoc, err := os.ReadFile(got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotDoc, wantDoc) {
				t.Fatalf("the feed exported %d bytes that differ from the pipeline's %d", len(gotDoc), len(wantDoc))
			}
		})
	}
}

// TestReplayBadLine: a bad line is reported with its file and line number,
// and into a data directory that is kept, nothing is fed before every line
// is checked (into a scratch one, the replay stops at it).
func TestReplayBadLine(t *testing.T) {
	sample, err := os.ReadFile("../examples/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	content := append(bytes.Clone(sample), "\n\n{\"received_at\":\"2026-01-05T10:00:03Z\",\"source\":\"alertmanager\",\"body\":{\n"...)
	if err := os.WriteFile(bad, content, 0o644); err != nil {
		t.Fatal(err)
	}
	badLine := bytes.Count(sample, []byte("\n")) + 3
	for _, scratch := range []bool{false, true} {
		cfg := config.Default()
		cfg.Data = t.TempDir()
		_, err := Replay(context.Background(), ReplayOptions{Config: cfg, Files: []string{bad}, Scratch: scratch})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("bad.jsonl:%d:", badLine)) {
			t.Fatalf("scratch %v: error %v, want one naming bad.jsonl:%d", scratch, err, badLine)
		}
		st, err := openStoreOnly(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		tot, err := st.Totals(context.Background())
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !scratch && tot.Deliveries > 0 {
			t.Errorf("%d deliveries in the store after a replay that found a bad line", tot.Deliveries)
		}
	}
}
