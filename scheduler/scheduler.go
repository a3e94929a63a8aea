// Package scheduler runs Vigia's periodic jobs (SLA clocks and escalation,
// problem detection, retention) on cron schedules with robfig/cron: a job
// that panics is recovered and logged, a job still running when its next
// turn comes is skipped, and every run is counted.
//
// Add jobs before Run; Run blocks until its context ends and waits for the
// jobs in flight.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/robfig/cron/v3"
)

// Job is one periodic task.
type Job func(ctx context.Context) error

// Scheduler runs jobs on cron schedules.
type Scheduler struct {
	logger   *slog.Logger
	cron     *cron.Cron
	jobs     []entry
	runs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

type entry struct {
	name, spec string
	job        Job
}

// New returns an empty scheduler.
func New(logger *slog.Logger, reg prometheus.Registerer) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "scheduler")
	f := promauto.With(reg)
	cl := cronLogger{logger}
	// The label is "name", not "job": a "job" label collides with the
	// target label Prometheus adds and would be renamed exported_job.
	return &Scheduler{
		logger: logger,
		cron:   cron.New(cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl))),
		runs: f.NewCounterVec(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "scheduler", Name: "jobs_total",
			Help: "Scheduled job runs."}, []string{"name"}),
		failures: f.NewCounterVec(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "scheduler", Name: "job_failures_total",
			Help: "Scheduled job runs that failed."}, []string{"name"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{Namespace: "vigia", Subsystem: "scheduler", Name: "job_duration_seconds",
			Help: "Scheduled job run time.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"name"}),
	}
}

// Add schedules a job. spec is a cron spec ("*/15 * * * *") or a
// descriptor ("@every 30s").
func (s *Scheduler) Add(name, spec string, job Job) error {
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("schedule of job %s: %w", name, err)
	}
	s.jobs = append(s.jobs, entry{name, spec, job})
	s.runs.WithLabelValues(name).Add(0)
	s.failures.WithLabelValues(name).Add(0)
	return nil
}

// Run runs the jobs until ctx ends, then waits for those in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	for _, e := range s.jobs {
		if _, err := s.cron.AddFunc(e.spec, func() { s.run(ctx, e) }); err != nil {
			return fmt.Errorf("schedule of job %s: %w", e.name, err)
		}
	}
	s.cron.Start()
	<-ctx.Done()
	<-s.cron.Stop().Done()
	return nil
}

func (s *Scheduler) run(ctx context.Context, e entry) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	err := e.job(ctx)
	s.runs.WithLabelValues(e.name).Inc()
	s.duration.WithLabelValues(e.name).Observe(time.Since(start).Seconds())
	if err != nil && ctx.Err() == nil {
		s.failures.WithLabelValues(e.name).Inc()
		s.logger.Error("job failed", "job", e.name, "err", err)
	}
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append(kv, "err", err)...)
}
