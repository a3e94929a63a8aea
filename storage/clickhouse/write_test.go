package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/storage/storagetest"
)

var errInjected = errors.New("injected failure")

type batch struct {
	cp storage.Checkpoint
	ch correlate.Changes
}

// batches returns a first batch, a second one, and a variant of the second
// that a restarted pipeline could produce instead (other batch boundaries:
// fewer deliveries, and episode 9 not yet seen).
func batches() (b1, b2, b2alt batch) {
	T0 := storagetest.T0
	b1 = batch{storage.Checkpoint{Offset: 2, Clock: T0, NextIncidentSeq: 2, NextEpisodeID: 3}, correlate.Changes{
		Episodes:  []correlate.Episode{storagetest.Episode(1, "INC-000001", correlate.StatusFiring), storagetest.Episode(2, "", correlate.StatusFiring)},
		Incidents: []incident.Incident{storagetest.Incident(1, incident.StatusNew, T0)},
		Events:    []incident.Event{{IncidentID: "INC-000001", At: T0, Actor: "vigia", Kind: "opened"}},
		Stats:     correlate.Stats{Deliveries: 2, Alerts: 2},
	}}
	e1 := storagetest.Episode(1, "INC-000001", correlate.StatusResolved)
	e1.Version, e1.Notifications = 2, 2
	in1 := storagetest.Incident(1, incident.StatusResolved, T0)
	in1.Version = 2
	resolved := incident.Event{IncidentID: "INC-000001", At: T0.Add(time.Minute), Actor: "vigia", Kind: "resolved"}
	b2 = batch{storage.Checkpoint{Offset: 6, Clock: T0.Add(time.Minute), NextIncidentSeq: 3, NextEpisodeID: 10}, correlate.Changes{
		Episodes:  []correlate.Episode{e1, storagetest.Episode(9, "INC-000002", correlate.StatusFiring)},
		Incidents: []incident.Incident{in1, storagetest.Incident(2, incident.StatusNew, T0.Add(time.Minute))},
		Events:    []incident.Event{resolved, {IncidentID: "INC-000002", At: T0.Add(time.Minute), Actor: "vigia", Kind: "opened"}},
		Stats:     correlate.Stats{Deliveries: 4, Alerts: 6, Repeats: 1},
	}}
	b2alt = batch{storage.Checkpoint{Offset: 4, Clock: T0.Add(time.Minute), NextIncidentSeq: 2, NextEpisodeID: 3}, correlate.Changes{
		Episodes:  []correlate.Episode{e1},
		Incidents: []incident.Incident{in1},
		Events:    []incident.Event{resolved},
		Stats:     correlate.Stats{Deliveries: 2, Alerts: 2, Repeats: 1},
	}}
	return b1, b2, b2alt
}

func mustApply(t *testing.T, s *Store, b batch) {
	t.Helper()
	if err := s.Apply(context.Background(), b.cp, b.ch); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// failOnce makes the next write fail after stage, once.
func failOnce(s *Store, stage string) {
	s.failAfter = func(got string) error {
		if got != stage {
			return nil
		}
		s.failAfter = nil
		return fmt.Errorf("after %s: %w", stage, errInjected)
	}
}

// A write that fails part-way (ClickHouse went down, or the checkpoint's
// reply was lost) is invisible, and the pipeline's retry of it counts once.
func TestWriteRetriedAfterFailure(t *testing.T) {
	b1, b2, _ := batches()
	ref := OpenTest(t)
	mustApply(t, ref, b1)
	before := storagetest.Snapshot(t, ref)
	mustApply(t, ref, b2)
	want := storagetest.Snapshot(t, ref)
	for _, stage := range []string{"episodes", "incidents", "timeline", "checkpoint"} {
		t.Run(stage, func(t *testing.T) {
			t.Parallel()
			s := OpenTest(t)
			mustApply(t, s, b1)
			failOnce(s, stage)
			if err := s.Apply(context.Background(), b2.cp, b2.ch); !errors.Is(err, errInjected) {
				t.Fatalf("apply with a failure after %s: %v", stage, err)
			}
			if stage != "checkpoint" {
				if got := storagetest.Snapshot(t, s); got != before {
					t.Errorf("a write cut short after %s is visible:\n%s\n--- want\n%s", stage, got, before)
				}
			}
			mustApply(t, s, b2)
			if got := storagetest.Snapshot(t, s); got != want {
				t.Errorf("retry after a failure after %s:\n%s\n--- want\n%s", stage, got, want)
			}
		})
	}
}

// A writer that crashed between its rows and its checkpoint leaves rows
// that no reader sees; the next writer aborts them, and its own version of
// the batch (which may differ: other batch boundaries) is what counts.
func TestCrashedWriterRowsStayInvisible(t *testing.T) {
	b1, b2, b2alt := batches()
	ref := OpenTest(t)
	mustApply(t, ref, b1)
	before := storagetest.Snapshot(t, ref)
	mustApply(t, ref, b2alt)
	want := storagetest.Snapshot(t, ref)

	dsn := FreshDSN(t)
	crashed := open(t, dsn)
	mustApply(t, crashed, b1)
	failOnce(crashed, "timeline")
	if err := crashed.Apply(context.Background(), b2.cp, b2.ch); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	// The crashed writer is gone; its rows stay. A reader sees none of them.
	reader := open(t, dsn)
	if got := storagetest.Snapshot(t, reader); got != before {
		t.Fatalf("a crashed write is visible:\n%s\n--- want\n%s", got, before)
	}
	next := open(t, dsn)
	mustApply(t, next, b2alt)
	for name, s := range map[string]*Store{"writer": next, "reader": reader} {
		if got := storagetest.Snapshot(t, s); got != want {
			t.Errorf("%s after the next writer's batch:\n%s\n--- want\n%s", name, got, want)
		}
	}
	// And a writer that takes over after it continues where it left off.
	third := open(t, dsn)
	mustApply(t, third, b2)
	mustApply(t, ref, b2)
	if got, want := storagetest.Snapshot(t, third), storagetest.Snapshot(t, ref); got != want {
		t.Errorf("third writer:\n%s\n--- want\n%s", got, want)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	dsn := FreshDSN(t)
	a := open(t, dsn)
	open(t, dsn) // applies nothing: all recorded
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := a.conn.QueryRow(context.Background(), `SELECT count() FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(migs))+1 { // and the mark of the trend backfill
		t.Errorf("schema_migrations has %d rows, want %d", n, len(migs)+1)
	}
	// Every statement is idempotent: running them all again is harmless.
	for _, m := range migs {
		for _, st := range Statements(m[1]) {
			if err := a.conn.Exec(context.Background(), st); err != nil {
				t.Errorf("migration %s again: %v", m[0], err)
			}
		}
	}
}

func TestDropPartitionsBefore(t *testing.T) {
	ctx := context.Background()
	s := OpenTest(t)
	var ch correlate.Changes
	for i, month := range []time.Month{time.November, time.December, time.January} {
		year := 2025
		if month == time.January {
			year = 2026
		}
		ep := storagetest.Episode(int64(i+1), "", correlate.StatusFiring)
		ep.StartsAt = time.Date(year, month, 15, 0, 0, 0, 0, time.UTC)
		ep.LastSeen = ep.StartsAt
		ch.Episodes = append(ch.Episodes, ep)
	}
	mustApply(t, s, batch{storage.Checkpoint{Offset: 1}, ch})
	dropped, err := s.DropPartitionsBefore(ctx, "episodes", time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dropped) != "[202511 202512]" {
		t.Errorf("dropped %v", dropped)
	}
	if tot, err := s.Totals(ctx); err != nil || tot.Episodes != 1 {
		t.Errorf("totals after retention = %+v, %v", tot, err)
	}
	if dropped, err := s.DropPartitionsBefore(ctx, "alert_events", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)); err != nil || fmt.Sprint(dropped) != "[202511]" {
		t.Errorf("alert_events: dropped %v, %v", dropped, err)
	}
	if _, err := s.DropPartitionsBefore(ctx, "checkpoints; DROP TABLE x", time.Now()); err == nil {
		t.Error("an unknown table is accepted")
	}
}

// ForEachIncident reads in chunks of sequence ranges: chunk boundaries,
// gaps in the sequences and the since filter must not change the result.
func TestExportChunks(t *testing.T) {
	ctx := context.Background()
	s := OpenTest(t)
	var ch correlate.Changes
	for seq := int64(3); seq <= 60; seq += 1 + seq%3 {
		ch.Incidents = append(ch.Incidents, storagetest.Incident(seq, incident.StatusNew, storagetest.T0.Add(time.Duration(seq)*time.Minute)))
		ch.Episodes = append(ch.Episodes, storagetest.Episode(seq, incident.FormatID(seq), correlate.StatusFiring))
	}
	mustApply(t, s, batch{storage.Checkpoint{Offset: 1}, ch})
	walk := func(since time.Time) string {
		var out []string
		err := s.ForEachIncident(ctx, since, func(in incident.Incident, eps []correlate.Episode) error {
			out = append(out, fmt.Sprintf("%s:%d", in.ID, len(eps)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out)
	}
	for _, since := range []time.Time{{}, storagetest.T0.Add(30 * time.Minute)} {
		s.exportChunk = 10000
		want := walk(since)
		for _, chunk := range []int{1, 2, 7, 58} {
			s.exportChunk = chunk
			if got := walk(since); got != want {
				t.Errorf("chunk %d, since %v:\n got %s\nwant %s", chunk, since, got, want)
			}
		}
	}
}

// Feedback rows are written with their batch: visible once committed, and
// a batch applied twice leaves one distinct key per entry.
func TestFeedbackStoredOnce(t *testing.T) {
	ctx := context.Background()
	s := OpenTest(t)
	fb := []correlate.Feedback{
		{At: storagetest.T0, Actor: "ana", IncidentID: "INC-000001", Method: "rule", Rule: "r1", Decision: "confirm"},
		{At: storagetest.T0, Actor: "ana", IncidentID: "INC-000002", Method: "default", Decision: "merge", Alerts: 3},
	}
	b := batch{storage.Checkpoint{Offset: 3, Clock: storagetest.T0}, correlate.Changes{Feedback: fb}}
	failOnce(s, "timeline")
	if err := s.Apply(ctx, b.cp, b.ch); !errors.Is(err, errInjected) {
		t.Fatal(err)
	}
	mustApply(t, s, b)
	mustApply(t, s, b)
	v, err := s.view(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows, keys uint64
	if err := s.conn.QueryRow(ctx, `SELECT count(), uniqExact(feedback_key) FROM feedback WHERE `+v.visible("commit_id")).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if keys != 2 || rows != 4 {
		t.Errorf("visible feedback: %d rows, %d keys; want 4 rows (applied twice), 2 keys", rows, keys)
	}
}

func TestChunks(t *testing.T) {
	s := make([]int, 25)
	for i := range s {
		s[i] = i
	}
	for _, least := range []int{1, 10, 12, 13, 100} {
		parts := chunks(s, least)
		var got []int
		for _, p := range parts {
			if len(p) < least && len(parts) > 1 {
				t.Errorf("least %d: part of %d", least, len(p))
			}
			got = append(got, p...)
		}
		if len(parts) > runtime.GOMAXPROCS(0) || !slices.Equal(got, s) {
			t.Errorf("least %d: %d parts, %v", least, len(parts), got)
		}
	}
	if got := chunks([]int{}, 10); len(got) != 0 {
		t.Errorf("empty: %v", got)
	}
}
