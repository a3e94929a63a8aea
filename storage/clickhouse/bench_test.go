package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/storage/storagetest"
)

// BenchmarkApply measures writes into ClickHouse: each op is one Apply of
// a batch of new episodes (one per alert), one incident and one timeline
// event per 10 episodes, and the checkpoint. rows/s counts episode,
// incident and timeline rows. Needs VIGIA_CLICKHOUSE_DSN.
func BenchmarkApply(b *testing.B) {
	for _, size := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("episodes=%d", size), func(b *testing.B) {
			ctx := context.Background()
			s := OpenTest(b)
			var nextEp, nextInc int64 = 1, 1
			var offset uint64
			rows := 0
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				var ch correlate.Changes
				for i := 0; i < size; i++ {
					if i%10 == 0 {
						in := storagetest.Incident(nextInc, incident.StatusNew, storagetest.T0)
						ch.Incidents = append(ch.Incidents, in)
						ch.Events = append(ch.Events, incident.Event{IncidentID: in.ID, At: storagetest.T0, Actor: "vigia", Kind: "opened"})
						nextInc++
					}
					ch.Episodes = append(ch.Episodes, storagetest.Episode(nextEp, incident.FormatID(nextInc-1), correlate.StatusFiring))
					nextEp++
				}
				ch.Stats = correlate.Stats{Deliveries: int64(size), Alerts: int64(size)}
				offset += uint64(size)
				if err := s.Apply(ctx, storage.Checkpoint{Offset: offset, Clock: storagetest.T0, NextIncidentSeq: nextInc, NextEpisodeID: nextEp}, ch); err != nil {
					b.Fatal(err)
				}
				rows += len(ch.Episodes) + len(ch.Incidents) + len(ch.Events)
			}
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64(size), "episodes/op")
		})
	}
}
