package app

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

type fakeDropper struct {
	calls map[string]time.Time
	fail  string
}

func (f *fakeDropper) DropPartitionsBefore(_ context.Context, table string, t time.Time) ([]string, error) {
	if table == f.fail {
		return nil, errors.New("boom")
	}
	f.calls[table] = t
	return []string{"202401"}, nil
}

func TestEnforceRetention(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 30, 0, 0, time.UTC)
	f := &fakeDropper{calls: map[string]time.Time{}, fail: "timeline"}
	err := enforceRetention(context.Background(), f, map[string]time.Duration{
		"alert_events": 400 * 24 * time.Hour, "episodes": 0, "timeline": time.Hour}, now, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Error("a failing table was not reported")
	}
	if got := f.calls["alert_events"]; !got.Equal(now.Add(-400 * 24 * time.Hour)) {
		t.Errorf("alert_events cutoff = %v", got)
	}
	if _, ok := f.calls["episodes"]; ok {
		t.Error("a zero retention dropped partitions")
	}
}
