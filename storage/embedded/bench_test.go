package embedded

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// BenchmarkApply measures the store writer: batches of 1,000 new episodes
// in one transaction with their checkpoint.
func BenchmarkApply(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batch = 1000
	ch := correlate.Changes{Episodes: make([]correlate.Episode, batch)}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range ch.Episodes {
			id := int64(n*batch + i + 1)
			ls := map[string]string{"alertname": "HighCPUUsage", "instance": fmt.Sprintf("host-%d:9100", id), "job": "node"}
			ch.Episodes[i] = correlate.Episode{ID: id, Fingerprint: correlate.LabelsFingerprint(ls), StartsAt: t0,
				StartsAtRaw: "2026-01-05T10:00:00Z", Status: correlate.StatusFiring, Labels: ls, IncidentID: "INC-000001",
				FirstSeen: t0, LastSeen: t0, Notifications: 1, Version: 1,
				Explanation: &incident.Explanation{Method: "similarity", Score: 0.9, Reason: "joined INC-000001: similar"}}
		}
		if err := s.Apply(context.Background(), storage.Checkpoint{Offset: uint64(n)}, ch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "episodes/s")
}
