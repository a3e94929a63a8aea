// Package trendtest is the trend suite every store passes: it writes a
// small history with known moments through the store's Apply and
// SaveProblems (History), reads it back through the store's trend reads,
// and checks each figure of package trend against an expectation computed
// by hand (Cases). Memory is the reference store the trend package's own
// tests use.
//
// A store's test calls Run with a function that opens a fresh, empty store:
//
//	trendtest.Run(t, func(t *testing.T) trendtest.Store { return openStore(t) })
package trendtest

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/trend"
)

// Source is the trend reads of a store (what GET /api/v1/trends needs).
type Source interface {
	TrendIncidents(ctx context.Context, from, to time.Time) ([]trend.IncidentRow, error)
	TrendActivity(ctx context.Context, from, to time.Time) (trend.Activity, error)
	TrendFeedback(ctx context.Context, from, to time.Time) ([]trend.FeedbackRow, error)
	Problems(ctx context.Context) ([]problem.Problem, error)
}

// Store is a store's writes and its trend reads.
type Store interface {
	Apply(ctx context.Context, cp storage.Checkpoint, ch correlate.Changes) error
	SaveProblems(ctx context.Context, ps []problem.Problem) error
	Source
}

// Seed writes the history into s.
func Seed(ctx context.Context, s Store) error {
	batches, _, problems := History()
	for _, b := range batches {
		if err := s.Apply(ctx, b.Checkpoint, b.Changes); err != nil {
			return err
		}
	}
	return s.SaveProblems(ctx, problems)
}

// Fetch reads what q (normalized) needs from src and computes it.
func Fetch(ctx context.Context, src Source, q trend.Query) (trend.Result, error) {
	var d trend.Data
	var err error
	n := q.Needs()
	if n.Incidents {
		if d.Incidents, err = src.TrendIncidents(ctx, n.From, n.To); err != nil {
			return trend.Result{}, err
		}
	}
	if n.Activity {
		if d.Activity, err = src.TrendActivity(ctx, n.From, n.To); err != nil {
			return trend.Result{}, err
		}
	}
	if n.Feedback {
		if d.Feedback, err = src.TrendFeedback(ctx, n.From, n.To); err != nil {
			return trend.Result{}, err
		}
	}
	if n.Problems {
		if d.Problems, err = src.Problems(ctx); err != nil {
			return trend.Result{}, err
		}
	}
	return trend.Compute(q, d)
}

// Run seeds a store that open returns fresh and checks its rows and every Case.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	s := open(t)
	if err := Seed(ctx, s); err != nil {
		t.Fatalf("seed: %v", err)
	}
	t.Run("Rows", func(t *testing.T) { CheckRows(t, s) })
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) { Check(t, s, c) })
	}
}

// CheckRows checks the rows the store returns for March 2026.
func CheckRows(t *testing.T, s Source) {
	t.Helper()
	ctx := context.Background()
	from, to := tm("2026-03-01 00:00"), tm("2026-04-01 00:00")
	rows, err := s.TrendIncidents(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	_, final, _ := History()
	got := map[string]trend.IncidentRow{}
	for _, r := range rows {
		got[r.ID] = r
	}
	for _, id := range slices.Sorted(maps.Keys(final)) {
		in := final[id]
		want := trend.RowOf(&in)
		if id == "INC-001003" {
			want.ReopenedAt = []time.Time{tm("2026-03-05 08:00")}
		}
		r, ok := got[id]
		switch {
		case id == "INC-001012":
			// Closed in January: it may be returned, but need not be.
		case !ok:
			t.Errorf("TrendIncidents(March) lacks %s", id)
		default:
			if g, w := jsonOf(r), jsonOf(want); g != w {
				t.Errorf("%s:\n got %s\nwant %s", id, g, w)
			}
		}
	}

	act, err := s.TrendActivity(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	wantAct := trend.Activity{Days: []trend.DayCount{
		{Day: tm("2026-03-02 00:00"), Deliveries: 10, Alerts: 25, Repeats: 15, Suppressed: 2},
		{Day: tm("2026-03-03 00:00"), Deliveries: 4, Alerts: 8, Repeats: 3},
		{Day: tm("2026-03-10 00:00"), Deliveries: 6, Alerts: 9, Repeats: 4, Suppressed: 1},
		{Day: tm("2026-03-17 00:00"), Deliveries: 2, Alerts: 2},
	}}
	if g, w := jsonOf(act), jsonOf(wantAct); g != w {
		t.Errorf("TrendActivity(March):\n got %s\nwant %s", g, w)
	}

	fbs, err := s.TrendFeedback(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var got2 []string
	for _, f := range fbs {
		got2 = append(got2, f.At.Format("01-02 15:04")+" "+f.Actor+" "+f.Decision+" "+f.IncidentID+" "+f.Method+"/"+f.Rule)
	}
	want2 := []string{
		"03-02 10:05 ana confirm INC-001001 rule/by-service",
		"03-02 11:30 bob confirm INC-001002 rule/by-service",
		"03-03 09:02 carla confirm INC-001003 topology/",
		"03-03 09:30 carla move INC-001003 topology/",
		"03-04 15:30 ana reject INC-001004 similarity/",
		"03-16 10:30 ana merge INC-001007 rule/by-host",
		"03-17 14:05 ana confirm INC-001008 rule/by-service",
		"03-26 00:05 bob reject INC-001009 topology/",
		"03-26 00:10 bob confirm INC-001009 topology/",
	}
	if !slices.Equal(got2, want2) {
		t.Errorf("TrendFeedback(March):\n got %q\nwant %q", got2, want2)
	}
}

// Check computes c on s and compares it with the expectation.
func Check(t *testing.T, s Source, c Case) {
	t.Helper()
	q, err := c.Query.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Fetch(context.Background(), s, q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Table.Columns, c.Columns) {
		t.Errorf("columns:\n got %q\nwant %q", res.Table.Columns, c.Columns)
	}
	got := res.Table.Strings()
	for i := range max(len(got), len(c.Rows)) {
		switch {
		case i >= len(got):
			t.Errorf("row %d missing: want %q", i, c.Rows[i])
		case i >= len(c.Rows):
			t.Errorf("row %d extra: %q", i, got[i])
		case !slices.Equal(got[i], c.Rows[i]):
			t.Errorf("row %d:\n got %q\nwant %q", i, got[i], c.Rows[i])
		}
	}
	for key, want := range c.Series {
		i := slices.IndexFunc(res.Series, func(s trend.Series) bool { return s.Key == key })
		if i < 0 {
			t.Errorf("no series %q", key)
			continue
		}
		var pts []string
		for _, p := range res.Series[i].Points {
			pts = append(pts, trend.Cell(p.Value))
		}
		if !slices.Equal(pts, want) {
			t.Errorf("series %q: got %q, want %q", key, pts, want)
		}
	}
	if c.Models != nil {
		if g, w := jsonOf(res.Models), jsonOf(c.Models); g != w {
			t.Errorf("models:\n got %s\nwant %s", g, w)
		}
	}
	if res.Method == "" {
		t.Error("no method stated")
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
