package scheduler

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRunCountsRunsAndFailures(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(nil, reg)
	var ok, bad atomic.Int32
	if err := s.Add("ok", "@every 1s", func(context.Context) error { ok.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("bad", "@every 1s", func(context.Context) error { bad.Add(1); return errors.New("boom") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("panics", "@every 1s", func(context.Context) error { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("broken", "not a spec", nil); err == nil {
		t.Fatal("bad spec accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for (ok.Load() < 2 || bad.Load() < 1) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if ok.Load() < 2 {
		t.Fatalf("ok ran %d times", ok.Load())
	}
	if got := testutil.ToFloat64(s.failures.WithLabelValues("bad")); got < 1 {
		t.Errorf("failures = %v", got)
	}
	if got := testutil.ToFloat64(s.runs.WithLabelValues("ok")); got < 2 {
		t.Errorf("runs = %v", got)
	}
}
