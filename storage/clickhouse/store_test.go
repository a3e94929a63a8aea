package clickhouse

import (
	"context"

	"testing"

	"github.com/vigia-noc/vigia/storage/storagetest"
	"github.com/vigia-noc/vigia/trend/trendtest"
)

// TestConformance runs the suite every store passes (storage/storagetest).
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return OpenTest(t) })
}

// TestTrends checks every trend figure of the seeded history against its
// hand-computed expectation (trend/trendtest), read from ClickHouse.
func TestTrends(t *testing.T) {
	trendtest.Run(t, func(t *testing.T) trendtest.Store { return OpenTest(t) })
}

// TestTrendsBackfill seeds a store, then drops its trend rows as if the
// incidents had been written before migration 0004: the backfill restores
// rows that give every figure again.
func TestTrendsBackfill(t *testing.T) {
	ctx := context.Background()
	s := OpenTest(t)
	if err := trendtest.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.Exec(ctx, "DROP TABLE incident_trends"); err != nil {
		t.Fatal(err)
	}
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		if m[0] == "0004_trends" {
			for _, st := range Statements(m[1]) {
				if err := s.conn.Exec(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := s.backfillTrends(ctx); err != nil {
		t.Fatal(err)
	}
	trendtest.CheckRows(t, s)
	for _, c := range trendtest.Cases {
		t.Run(c.Name, func(t *testing.T) { trendtest.Check(t, s, c) })
	}
}
