package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/notify"
	"github.com/vigia-noc/vigia/scheduler"
)

// ServeOptions are the dependencies of Serve that tests replace.
type ServeOptions struct {
	Config config.Config
	Logger *slog.Logger
	// Now is the wall clock; default time.Now.
	Now func() time.Time
	// Ready, if set, receives the listener's address once it accepts.
	Ready func(addr net.Addr)
	// ReadyMaxBacklog is the journal backlog over which /readyz fails.
	ReadyMaxBacklog uint64
	// Version is reported by /healthz.
	Version string
}

// Serve runs the service until ctx is done, then shuts down gracefully:
// stop accepting, finish in-flight requests, apply every journaled
// delivery to the store, close the store and the journal.
func Serve(ctx context.Context, opts ServeOptions) error {
	cfg := opts.Config
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if opts.ReadyMaxBacklog == 0 {
		opts.ReadyMaxBacklog = 1000
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	authn, err := auth.New(cfg.Auth.Tokens, os.Getenv, os.ReadFile)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	notifier, err := notify.New(notify.Options{Config: cfg.Notify, Logger: logger, Registerer: reg, Now: now})
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	c, err := openCore(ctx, cfg, logger, reg, now, withOnCommit(notifyChanges(notifier)))
	if err != nil {
		return err
	}
	defer c.close()

	ing, err := ingest.New(ingest.Options{
		Sink: journalSink{c.journal}, Auth: authn, Logger: logger, Registerer: reg, Now: now,
		MaxBodyBytes: int64(cfg.Ingest.MaxBodyBytes), RetryAfter: time.Duration(cfg.Ingest.RetryAfter),
		Limits: ingest.Limits{UTF8LabelNames: cfg.Ingest.UTF8LabelNames},
	})
	if err != nil {
		return err
	}
	rd, err := api.New(api.Options{Store: c.store, Auth: authn, Logger: logger})
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/healthz", func(g *gin.Context) {
		g.JSON(http.StatusOK, gin.H{"status": "ok", "version": opts.Version})
	})
	r.GET("/readyz", func(g *gin.Context) {
		backlog, loaded := c.pipeline.Backlog()
		pctx, cancel := context.WithTimeout(g.Request.Context(), 2*time.Second)
		defer cancel()
		switch {
		case !loaded:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "state is being restored"})
		case c.store.Ping(pctx) != nil:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "store unreachable"})
		case backlog > opts.ReadyMaxBacklog:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "journal backlog over its bound", "backlog": backlog})
		default:
			g.JSON(http.StatusOK, gin.H{"status": "ready", "backlog": backlog})
		}
	})
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	r.GET("/metrics", gin.WrapH(metricsHandler))
	ing.Register(r)
	rd.Register(r)
	rd.RegisterTopology(r, &topologyHolder{dir: cfg.Data, p: c.pipeline, cur: c.topology})
	rd.RegisterActions(r, actions{p: c.pipeline, store: c.store}, now)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: time.Duration(cfg.Server.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.Server.ReadTimeout),
		WriteTimeout:      time.Duration(cfg.Server.WriteTimeout),
		IdleTimeout:       time.Duration(cfg.Server.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("vigia listening", "addr", ln.Addr().String(), "data", cfg.Data, "store", cfg.Store)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return c.pipeline.Run(gctx) })
	g.Go(func() error { return notifier.Run(gctx) })
	sched := scheduler.New(logger, reg)
	if err := sched.Add("sla", cfg.Jobs.SLA, func(ctx context.Context) error {
		return c.pipeline.Do(ctx, func(e *correlate.Engine) error { e.CheckSLA(now()); return nil })
	}); err != nil {
		return err
	}
	g.Go(func() error { return sched.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	var runErr error
	select {
	case <-ctx.Done():
	case <-gctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Server.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("http shutdown", "err", err)
		srv.Close()
	}
	stopRun()
	if err := g.Wait(); err != nil {
		runErr = err
	}
	if err := c.pipeline.CatchUp(shutCtx); err != nil {
		logger.Error("final catch-up", "err", err)
		runErr = errors.Join(runErr, err)
	}
	return runErr
}

// notifyChanges hands the timeline events of every committed batch to the
// notifier, with the incident as it stands after the batch.
func notifyChanges(n *notify.Notifier) func(correlate.Changes) {
	return func(ch correlate.Changes) {
		if len(ch.Events) == 0 {
			return
		}
		byID := make(map[string]*incident.Incident, len(ch.Incidents))
		for i := range ch.Incidents {
			byID[ch.Incidents[i].ID] = &ch.Incidents[i]
		}
		for _, ev := range ch.Events {
			if in := byID[ev.IncidentID]; in != nil {
				n.Enqueue(notify.FromTimeline(in, ev))
			}
		}
	}
}
