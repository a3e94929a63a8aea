package dashboards

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	chgo "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/storage/clickhouse"
)

// BenchmarkAlertPanels runs the service desk dashboard's queries on alert
// events (the "Alerts per day" panel: new alerts and notifications per
// day, exact and under the visibility condition) for a 30-day range over a
// store of VIGIA_BENCH_EVENTS alert events (default 50,000,000), all in
// those 30 days, so that the query reads every one of them. The events are
// written by SQL (INSERT ... SELECT FROM numbers): five notifications per
// alert episode, 20 alert names, 4 severities, about 1,000 writes (commit
// ids), and one aborted range to exclude. Needs VIGIA_CLICKHOUSE_DSN; the
// seeding takes about a minute on this machine.
//
//	VIGIA_CLICKHOUSE_DSN=clickhouse://127.0.0.1:9000/bench go test -run '^$' -bench AlertPanels -benchtime 5x ./dashboards
func BenchmarkAlertPanels(b *testing.B) {
	n := int64(50_000_000)
	if v := os.Getenv("VIGIA_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			b.Fatalf("VIGIA_BENCH_EVENTS=%q: want a positive count", v)
		}
	}
	d := load(b, serviceDesk, clickhouseType)
	dsn, co := freshDSN(b)
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, clickhouse.Options{DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(30 * 24 * time.Hour)
	const writes = 1000
	// One committed write for the checkpoint, so that the rows below it are
	// visible; the rows carry commit ids 1..writes.
	if err := s.Apply(ctx, storage.Checkpoint{Offset: 1, Clock: to, NextIncidentSeq: 1, NextEpisodeID: n/5 + 1},
		correlate.Changes{Stats: correlate.Stats{Deliveries: n / 100, Alerts: n}}); err != nil {
		b.Fatal(err)
	}
	s.Close()
	conn, err := chgo.Open(co)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// Seed with a generous timeout: tens of millions of rows.
	seedCtx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	span := int64(to.Sub(from) / time.Second)
	start := time.Now()
	seed := fmt.Sprintf(`INSERT INTO alert_events (ts, starts, episode_id, version, commit_id, fingerprint, alertname, severity,
 source, status, incident_id, notifications, label_keys, label_values)
SELECT toDateTime(%[1]d + intDiv(number * %[2]d, %[3]d)) AS t, t - 60 * (number %% 5), intDiv(number, 5), number %% 5 + 1,
 1 + number %% %[4]d, toString(intDiv(number, 5) %% 200000), concat('Alert', toString(intDiv(number, 5) %% 20)),
 ['critical', 'warning', 'info', 'none'][intDiv(number, 5) %% 4 + 1], 'alertmanager',
 if(number %% 5 = 4, 'resolved', 'firing'), concat('INC-', toString(intDiv(number, 50))), toUInt32(number %% 5 + 1),
 ['alertname', 'instance', 'severity'], [concat('Alert', toString(intDiv(number, 5) %% 20)), concat('host-', toString(intDiv(number, 5) %% 5000)), 'warning']
FROM numbers(%[3]d)`, from.Unix(), span, n, writes)
	if err := conn.Exec(seedCtx, seed); err != nil {
		b.Fatalf("seed: %v", err)
	}
	// An aborted write among them, which the panels exclude.
	if err := conn.Exec(ctx, `INSERT INTO commit_ranges (kind, lo, hi, written_at) SELECT 'aborted', 500, 500, now()`); err != nil {
		b.Fatal(err)
	}
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM alert_events").Scan(&stored); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d alert events in %s", stored, time.Since(start).Round(time.Second))
	for _, p := range flatten(d.Panels) {
		for _, tg := range p.Targets {
			if !strings.Contains(tg.RawSQL, "alert_events") {
				continue
			}
			q := expand(tg.RawSQL, from, to)
			b.Run(strings.ReplaceAll(p.Title, " ", "_")+"/"+tg.RefID, func(b *testing.B) {
				for b.Loop() {
					rows, err := conn.Query(ctx, q)
					if err != nil {
						b.Fatalf("%v\n%s", err, q)
					}
					days := 0
					for rows.Next() {
						days++
					}
					rows.Close()
					if err := rows.Err(); err != nil {
						b.Fatal(err)
					}
					if days < 30 {
						b.Fatalf("%d days, want 30", days)
					}
				}
				b.ReportMetric(float64(stored), "events")
			})
		}
	}
}
