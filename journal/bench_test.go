package journal

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func BenchmarkAppend(b *testing.B) {
	j, reg := open(b, Options{Dir: b.TempDir()})
	p := make([]byte, 1024)
	ctx := context.Background()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := j.Append(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, reg)
}

// BenchmarkAppendParallel models concurrent webhook requests: 32 goroutines
// per CPU, each appending 1 KiB and waiting for its fsync.
func BenchmarkAppendParallel(b *testing.B) {
	j, reg := open(b, Options{Dir: b.TempDir()})
	b.SetParallelism(32)
	b.SetBytes(1024)
	b.RunParallel(func(pb *testing.PB) {
		p := make([]byte, 1024)
		for pb.Next() {
			if _, err := j.Append(context.Background(), p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportRates(b, reg)
}

func reportRates(b *testing.B, reg *prometheus.Registry) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/metricValue(b, reg, "vigia_journal_fsyncs_total"), "records/fsync")
}
