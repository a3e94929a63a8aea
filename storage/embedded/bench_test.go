package embedded

import (
	"context"
	"testing"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/storage"
)

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
			ch.Episodes[i] = episode(int64(n*batch+i+1), "INC-000001", correlate.StatusFiring)
		}
		if err := s.Apply(context.Background(), storage.Checkpoint{Offset: uint64(n)}, ch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "episodes/s")
}
