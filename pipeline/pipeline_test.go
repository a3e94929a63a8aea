package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/journal"
	"github.com/vigia-noc/vigia/storage/embedded"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

type rig struct {
	j *journal.Journal
	s *embedded.Store
	p *Pipeline
	e *correlate.Engine
}

func newRig(t *testing.T, dir string) *rig {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: filepath.Join(dir, "journal")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := correlate.New(correlate.Options{Config: correlate.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Journal: j, Store: s, Engine: e, Tick: 10 * time.Millisecond, BatchRecords: 7, TruncateJournal: true})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{j: j, s: s, p: p, e: e}
}

func (r *rig) close() {
	r.s.Close()
	r.j.Close()
}

func (r *rig) append(t *testing.T, i int, status correlate.Status) {
	t.Helper()
	ls := map[string]string{"alertname": "A", "instance": fmt.Sprintf("h%d", i%10), "cluster": "c1"}
	a := correlate.Alert{Fingerprint: correlate.LabelsFingerprint(ls), Status: status, Labels: ls,
		StartsAt: t0, StartsAtRaw: t0.Format(time.RFC3339)}
	if status == correlate.StatusResolved {
		a.EndsAt = t0.Add(time.Minute)
	}
	b, err := correlate.EncodeDelivery(&correlate.Delivery{Source: correlate.SourceAlertmanager,
		ReceivedAt: t0.Add(time.Duration(i) * time.Second), Alerts: []correlate.Alert{a}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.j.Append(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func waitApplied(t *testing.T, p *Pipeline, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Applied() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("applied %d, want %d", p.Applied(), seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunAppliesAndResumesExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.p.Run(ctx) }()
	for i := range 30 {
		r.append(t, i, correlate.StatusFiring)
	}
	waitApplied(t, r.p, 30)
	// A command runs on the engine's goroutine and is committed.
	var clock time.Time
	if err := r.p.Do(ctx, func(e *correlate.Engine) error { clock = e.Clock(); return nil }); err != nil {
		t.Fatal(err)
	}
	if !clock.Equal(t0.Add(29 * time.Second)) {
		t.Errorf("engine clock = %v", clock)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// More records arrive while nothing runs; a new pipeline resumes.
	for i := 30; i < 45; i++ {
		r.append(t, i, correlate.StatusResolved)
	}
	r.close()
	r2 := newRig(t, dir)
	defer r2.close()
	if err := r2.p.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	tot, err := r2.s.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deliveries != 45 || tot.Alerts != 45 || tot.Repeats != 35 || tot.Episodes != 10 || tot.Incidents != 1 {
		t.Errorf("totals = %+v, want 45 deliveries, 10 episodes, 1 incident", tot)
	}
	if backlog, loaded := r2.p.Backlog(); backlog != 0 || !loaded {
		t.Errorf("backlog = %d loaded = %v", backlog, loaded)
	}
	// Applied records were truncated from the journal (whole segments only).
	if r2.j.LastSeq() != 45 {
		t.Errorf("journal last seq = %d", r2.j.LastSeq())
	}
}

func TestDoWaitsForContext(t *testing.T) {
	r := newRig(t, t.TempDir())
	defer r.close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	// Nothing runs the pipeline: Do gives up with the context.
	if err := r.p.Do(ctx, func(*correlate.Engine) error { return nil }); err == nil {
		t.Fatal("Do returned without a running pipeline")
	}
}

// TestLingerBatchesAndServesCommands streams records into a pipeline that
// lingers long after each partial batch: every record is applied, and a
// command sent meanwhile is served without waiting for the linger to end.
func TestLingerBatchesAndServesCommands(t *testing.T) {
	r := newRig(t, t.TempDir())
	defer r.close()
	const linger = 3 * time.Second
	r.p.opts.Linger = linger
	r.p.opts.BatchRecords = 1000
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	r.append(t, 0, correlate.StatusFiring)
	waitApplied(t, r.p, 1)
	// The pipeline now lingers after that partial batch of one.
	for i := 1; i <= 30; i++ {
		r.append(t, i, correlate.StatusFiring)
	}
	start := time.Now()
	if err := r.p.Do(ctx, func(*correlate.Engine) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= linger {
		t.Errorf("a command waited %v: the linger held it back", d)
	}
	waitApplied(t, r.p, 31)
}
