package app

import (
	"context"
	"crypto/tls"
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
	"github.com/vigia-noc/vigia/ui"
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
	authn.LimitFailures(cfg.Auth.FailedLogins.Max, time.Duration(cfg.Auth.FailedLogins.Window))
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
		Limits:    ingest.Limits{UTF8LabelNames: cfg.Ingest.UTF8LabelNames},
		RateLimit: ingest.RateLimit{PerSecond: cfg.Ingest.RateLimit.RequestsPerSecond, Burst: cfg.Ingest.RateLimit.Burst},
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
		var pingErr error
		if loaded {
			pingErr = c.store.Ping(pctx)
		}
		switch {
		case !loaded:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "state is being restored"})
		case pingErr != nil:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "store unreachable", "detail": config.Redact(pingErr.Error())})
		case backlog > opts.ReadyMaxBacklog:
			g.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "journal backlog over its bound", "backlog": backlog, "max_backlog": opts.ReadyMaxBacklog})
		default:
			g.JSON(http.StatusOK, gin.H{"status": "ready", "backlog": backlog})
		}
	})
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	r.GET("/metrics", gin.WrapH(metricsHandler))
	ing.Register(r)
	rd.Register(r)
	rd.RegisterOpenAPI(r)
	rd.RegisterPprof(r)
	rd.RegisterWhoAmI(r, cfg.Incident)
	ui.Register(r)
	topoHolder := &topologyHolder{dir: cfg.Data, p: c.pipeline, cur: c.topology}
	rd.RegisterTopology(r, topoHolder)
	supp := &suppressions{dir: cfg.Data, p: c.pipeline, set: c.suppressions}
	rd.RegisterSuppressions(r, supp, now)
	rd.RegisterActions(r, actions{p: c.pipeline, store: c.store, supp: supp}, now)
	if ts, ok := c.store.(api.TrendSource); ok {
		rd.RegisterTrends(r, ts, now)
	}

	tlsConfig, err := loadTLS(cfg.Server)
	if err != nil {
		return err
	}
	// startup runs once the pipeline runs.
	var startup []func(context.Context)
	sched := scheduler.New(logger, reg)
	if err := sched.Add("sla", cfg.Jobs.SLA, func(ctx context.Context) error {
		return c.pipeline.Do(ctx, func(e *correlate.Engine) error { e.CheckSLA(now()); return nil })
	}); err != nil {
		return err
	}
	if rs, ok := c.store.(partitionDropper); ok {
		if err := sched.Add("retention", cfg.Jobs.Retention, func(ctx context.Context) error {
			return enforceRetention(ctx, rs, cfg.Retention.Tables(), now(), logger)
		}); err != nil {
			return err
		}
	}
	if ps, ok := c.store.(problemStore); ok {
		th := &topologyHolderRef{h: topoHolder}
		probs, err := newProblems(cfg.Problem, ps, th.get, func(ctx context.Context, ke []correlate.KnownError) error {
			return c.pipeline.Do(ctx, func(e *correlate.Engine) error { e.SetKnownErrors(ke); return nil })
		})
		if err != nil {
			return err
		}
		rd.RegisterProblems(r, probs, now)
		lookBack := 2 * cfg.Problem.Window.D()
		if err := sched.Add("problems", cfg.Problem.Schedule, func(ctx context.Context) error {
			n, err := probs.Detect(ctx, now(), now().Add(-lookBack))
			if n > 0 {
				logger.Info("candidate problems proposed", "count", n)
			}
			return err
		}); err != nil {
			return err
		}
		startup = append(startup, func(ctx context.Context) {
			// Until it succeeds: the store may be down at start.
			for backoff := time.Second; ; backoff = min(2*backoff, time.Minute) {
				err := probs.refreshKnownErrors(ctx)
				if err == nil || ctx.Err() != nil {
					return
				}
				logger.Error("loading known errors; retrying", "err", err, "backoff", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
			}
		})
	} else {
		logger.Warn("this store keeps no problems: problem management is off")
	}
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
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("vigia listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "data", cfg.Data, "store", config.Redact(cfg.Store))
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return c.pipeline.Run(gctx) })
	g.Go(func() error { return notifier.Run(gctx) })
	g.Go(func() error { return sched.Run(gctx) })
	for _, fn := range startup {
		g.Go(func() error { fn(gctx); return nil })
	}
	g.Go(func() error {
		serve := srv.Serve
		if tlsConfig != nil {
			// The certificate is in srv.TLSConfig; ServeTLS adds HTTP/2.
			serve = func(l net.Listener) error { return srv.ServeTLS(l, "", "") }
		}
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
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

// loadTLS loads server.tls_cert_file and server.tls_key_file, or returns
// nil for plain HTTP. The pair is read once, at start: restart to rotate.
func loadTLS(sc config.ServerConfig) (*tls.Config, error) {
	if sc.TLSCertFile == "" && sc.TLSKeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(sc.TLSCertFile, sc.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("server.tls_cert_file, server.tls_key_file: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
