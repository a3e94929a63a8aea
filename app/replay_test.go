package app

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/vigia-noc/vigia/ingest"
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
