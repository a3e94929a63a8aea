package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/journal"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/suppress"
	"github.com/vigia-noc/vigia/topology"
)

// core is the durable part every command shares: the data directory lock,
// the journal, the store, the engine and the pipeline between them.
type core struct {
	journal      *journal.Journal
	store        coreStore
	engine       *correlate.Engine
	pipeline     *pipeline.Pipeline
	topology     *topology.Topology
	workflow     *incident.Workflow
	suppressions *suppress.Set
	cleanups     []func()
}

// coreOptions are what commands add to the core.
type coreOptions struct {
	onCommit func(correlate.Changes)
}

type coreOption func(*coreOptions)

// withOnCommit hands every committed batch of changes to fn.
func withOnCommit(fn func(correlate.Changes)) coreOption {
	return func(o *coreOptions) { o.onCommit = fn }
}

// openCore builds the core on cfg.Data. now is nil in replay mode.
func openCore(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer, now func() time.Time, opts ...coreOption) (*core, error) {
	var co coreOptions
	for _, o := range opts {
		o(&co)
	}
	c := &core{}
	release, err := lockDataDir(cfg.Data)
	if err != nil {
		return nil, err
	}
	c.cleanups = append(c.cleanups, release)
	c.journal, err = journal.Open(journal.Options{
		Dir:          filepath.Join(cfg.Data, "journal"),
		SegmentBytes: int64(cfg.Journal.SegmentBytes),
		MaxBytes:     int64(cfg.Journal.MaxBytes),
		Logger:       logger,
		Registerer:   reg,
	})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("open journal: %w", err)
	}
	c.cleanups = append(c.cleanups, func() {
		if err := c.journal.Close(); err != nil {
			logger.Error("close journal", "err", err)
		}
	})
	// A server starts while ClickHouse is down (the journal keeps the
	// deliveries); replay and the other commands need it at once.
	c.store, err = openStore(ctx, cfg, logger, now != nil)
	if err != nil {
		c.close()
		return nil, err
	}
	c.cleanups = append(c.cleanups, func() {
		if err := c.store.Close(); err != nil {
			logger.Error("close store", "err", err)
		}
	})
	c.topology, err = loadTopology(cfg.Data, cfg.Topology)
	if err != nil {
		c.close()
		return nil, err
	}
	c.workflow, err = incident.NewWorkflow(cfg.Incident)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("incident: %w", err)
	}
	c.suppressions, err = loadSuppressions(cfg.Data)
	if err != nil {
		c.close()
		return nil, err
	}
	c.engine, err = correlate.New(correlate.Options{Config: cfg.Correlate, Topology: c.topology, Workflow: c.workflow,
		Suppressions: c.suppressions, Logger: logger})
	if err != nil {
		c.close()
		return nil, err
	}
	c.pipeline, err = pipeline.New(pipeline.Options{
		Journal: c.journal, Store: c.store, Engine: c.engine, Now: now,
		BatchRecords:    pipelineBatchRecords(cfg),
		Linger:          pipelineLinger(now),
		TruncateJournal: true, Logger: logger, Registerer: reg, OnCommit: co.onCommit,
	})
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// close tears down in reverse order of construction.
func (c *core) close() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
}

// journalSink is the ingest Sink: a delivery is acknowledged once the
// journal has fsync'd it.
type journalSink struct{ j *journal.Journal }

func (s journalSink) Put(ctx context.Context, d correlate.Delivery) error {
	b, err := correlate.EncodeDelivery(&d)
	if err != nil {
		return err
	}
	if _, err := s.j.Append(ctx, b); err != nil {
		if errors.Is(err, journal.ErrFull) {
			return fmt.Errorf("%w: %w", ingest.ErrOverloaded, err)
		}
		return err
	}
	return nil
}

func openStoreOnly(ctx context.Context, cfg config.Config) (coreStore, error) {
	return openStore(ctx, cfg, nil, false)
}
