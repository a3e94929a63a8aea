package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/trend"
	"github.com/vigia-noc/vigia/trend/trendtest"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestTrends checks every trend figure of the seeded history against its
// hand-computed expectation (trend/trendtest), read from this store.
func TestTrends(t *testing.T) {
	trendtest.Run(t, func(t *testing.T) trendtest.Store { return openTest(t, t.TempDir()) })
}

// TestTrendsUpgrade opens a database written before migration 0004: the
// migration fills the reopen moments from the timeline, the first trend
// read flattens the incidents, and the engine counts kept so far (which
// have no day) leave the noise figures unknown before the upgrade.
func TestTrendsUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	if err := trendtest.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	before, err := s.TrendIncidents(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// Undo migration 0004, as if the database predated it.
	for _, q := range []string{`DROP TABLE feedback`, `DROP TABLE activity_daily`, `DROP TABLE incident_trends`,
		`DROP TABLE incident_reopens`, `DELETE FROM meta WHERE key IN ('activity_since', 'trend_backfill')`,
		`DELETE FROM schema_migrations WHERE version = '0004_trends'`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	upgradedAt := time.Now()
	s = openTest(t, dir)
	after, err := s.TrendIncidents(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonRows(after), jsonRows(before); g != w {
		t.Errorf("rows after the upgrade differ:\n got %s\nwant %s", g, w)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta WHERE key = ?`, metaTrendBackfill).Scan(&n); err != nil || n != 0 {
		t.Errorf("backfill mark left: %d, %v", n, err)
	}
	for _, c := range trendtest.Cases {
		switch c.Name {
		case "incidents/week", "mttr/priority", "sla/week", "levels/month", "analysts/month", "problems/top", "projection/month":
			t.Run(c.Name, func(t *testing.T) { trendtest.Check(t, s, c) })
		}
	}
	act, err := s.TrendActivity(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if act.Since.Before(upgradedAt.Add(-time.Minute)) || act.Since.After(time.Now().Add(time.Minute)) {
		t.Errorf("activity counted per day since %v, want about %v", act.Since, upgradedAt)
	}
	q, err := trend.Query{Name: trend.NameNoise, From: from, To: to, Step: trend.Month, Now: trendtest.Now}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	res, err := trendtest.Fetch(ctx, s, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Table.Strings()[0][1:7], []string{"", "", "", "", "", "9"}; !slices.Equal(got, want) {
		t.Errorf("noise before the upgrade: %q, want unknown engine counts and 9 incidents", got)
	}
}

func jsonRows(rows []trend.IncidentRow) string {
	slices.SortFunc(rows, func(a, b trend.IncidentRow) int { return a.OpenedAt.Compare(b.OpenedAt) })
	b, _ := json.Marshal(rows)
	return string(b)
}

// TestTrendIncidentsRange checks the rows a range selects: open ones
// whatever their age, ended ones only when a moment falls in the range.
func TestTrendIncidentsRange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	day := func(d int) time.Time { return time.Date(2026, 5, d, 12, 0, 0, 0, time.UTC) }
	mk := func(seq int64, opened time.Time, st incident.Status, resolved *time.Time) incident.Incident {
		return incident.Incident{ID: incident.FormatID(seq), Seq: seq, Status: st, Priority: incident.P3, Title: "t",
			OpenedAt: opened, UpdatedAt: opened, ResolvedAt: resolved, Version: 1}
	}
	r5, r20 := day(5), day(20)
	incs := []incident.Incident{
		mk(1, day(1), incident.StatusAcknowledged, nil), // open: always
		mk(2, day(1), incident.StatusResolved, &r5),     // ended May 5
		mk(3, day(2), incident.StatusResolved, &r20),    // ended May 20
		mk(4, day(25), incident.StatusNew, nil),         // opened after the range
		mk(5, day(11), incident.StatusRejected, nil),    // rejected, no moment: updated May 11
		mk(6, day(3), incident.StatusResolved, nil),     // resolved without a time: updated May 3
		mk(7, day(9), incident.StatusConfirmed, nil),    // open
		mk(8, day(14), incident.StatusInProgress, nil),  // opened in the range
		mk(9, day(15), incident.StatusMerged, nil),      // merged in the range
	}
	if err := s.Apply(ctx, storage.Checkpoint{Offset: 1}, correlate.Changes{Incidents: incs}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.TrendIncidents(ctx, day(10), day(16))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	want := []string{"INC-000001", "INC-000003", "INC-000005", "INC-000007", "INC-000008", "INC-000009"}
	if !slices.Equal(ids, want) {
		t.Errorf("rows of May 10-16: %v, want %v", ids, want)
	}
}

// BenchmarkTrendIncidents200k measures GET /api/v1/trends/incidents over
// 200,000 incidents opened over a year (every 2m37s, one in ten still
// open): the store read plus the computation, over the whole year (every
// incident in the range) per step and breakdown, and over its last 30 days.
func BenchmarkTrendIncidents200k(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	s := openTest(b, filepath.Join(b.TempDir(), "db"))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	every := 365 * 24 * time.Hour / n
	seedStart := time.Now()
	services := []string{"web", "db", "api", "net", "dns", "mail", "auth", "storage"}
	for batch := 0; batch < n/1000; batch++ {
		ch := correlate.Changes{Incidents: make([]incident.Incident, 0, 1000)}
		for i := range 1000 {
			seq := int64(batch*1000 + i + 1)
			op := start.Add(time.Duration(seq) * every)
			ack, res := op.Add(7*time.Minute), op.Add(time.Duration(seq%240)*time.Minute)
			in := incident.Incident{ID: incident.FormatID(seq), Seq: seq, Status: incident.StatusResolved,
				Priority: incident.Priority(seq%5 + 1), Severity: "warning", Title: fmt.Sprintf("HighCPU on host-%d", seq%500),
				Method: "rule", Rule: "by-service", GroupKey: "rule:x",
				Labels:   map[string]string{"service": services[seq%8], "instance": fmt.Sprintf("host-%d", seq%500)},
				OpenedAt: op, UpdatedAt: res, ResolvedAt: &res, AcknowledgedAt: &ack, ConfirmedAt: &ack,
				AlertCount: 3, FirstEventAt: op, LastEventAt: res, Version: 5, Category: "infra", Level: incident.L1,
				AssignmentGroup: "noc", Assignee: fmt.Sprintf("analyst-%d", seq%12), DecidedBy: "analyst"}
			if seq%10 == 0 {
				in.Status, in.ResolvedAt = incident.StatusInProgress, nil
				in.Pauses = []incident.Interval{{Start: op.Add(time.Hour), Reason: "waiting on vendor"}}
			}
			ch.Incidents = append(ch.Incidents, in)
		}
		if err := s.Apply(ctx, storage.Checkpoint{Offset: uint64(batch + 1), Clock: start}, ch); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d incidents in %v", n, time.Since(seedStart).Round(time.Millisecond))
	for _, c := range []struct {
		name string
		step trend.Step
		by   trend.Dimension
		// from is the start of the range, a year long by default.
		from, to time.Time
	}{
		{"year-month", trend.Month, trend.None, start, start.AddDate(1, 0, 0)},
		{"year-day", trend.Day, trend.None, start, start.AddDate(1, 0, 0)},
		{"year-week-by-service", trend.Week, trend.Service, start, start.AddDate(1, 0, 0)},
		{"last-30-days-day", trend.Day, trend.None, start.AddDate(1, 0, -30), start.AddDate(1, 0, 0)},
	} {
		b.Run(c.name, func(b *testing.B) {
			q, err := trend.Query{Name: trend.NameIncidents, From: c.from, To: c.to, Step: c.step, By: c.by,
				Now: start.AddDate(1, 1, 0)}.Normalize()
			if err != nil {
				b.Fatal(err)
			}
			var read, compute time.Duration
			for b.Loop() {
				t0 := time.Now()
				rows, err := s.TrendIncidents(ctx, q.From, q.To)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				res, err := trend.Compute(q, trend.Data{Incidents: rows})
				if err != nil || len(res.Table.Rows) == 0 {
					b.Fatal(err)
				}
				read, compute = read+t1.Sub(t0), compute+time.Since(t1)
			}
			b.ReportMetric(float64(read.Milliseconds())/float64(b.N), "read-ms/op")
			b.ReportMetric(float64(compute.Milliseconds())/float64(b.N), "compute-ms/op")
		})
	}
}
