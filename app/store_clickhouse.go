package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/storage/clickhouse"
	"github.com/vigia-noc/vigia/storage/embedded"
)

// coreStore is what the commands need from a store: the pipeline writes
// it, the API and exports read it. storage/embedded and storage/clickhouse
// both satisfy it.
type coreStore interface {
	pipeline.Store
	api.Store
	export.Source
	Totals(ctx context.Context) (storage.Totals, error)
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ coreStore = (*embedded.Store)(nil)
	_ coreStore = (*clickhouse.Store)(nil)
)

// isClickHouse reports whether the configured store is a ClickHouse DSN.
func isClickHouse(cfg config.Config) bool { return strings.HasPrefix(cfg.Store, clickhouse.Scheme) }

// openStore opens the configured store: "embedded" (the default) in the
// data directory, or ClickHouse at a clickhouse://HOST:9000/DB DSN. With
// ClickHouse the journal and the data directory's lock stay in cfg.Data;
// wait opens ClickHouse even while it cannot be reached (clickhouse.OpenWaiting).
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger, wait bool) (coreStore, error) {
	switch {
	case cfg.Store == "" || cfg.Store == "embedded":
		s, err := embedded.Open(ctx, cfg.Data)
		if err != nil {
			return nil, err
		}
		return s, nil
	case isClickHouse(cfg):
		open := clickhouse.Open
		if wait {
			open = clickhouse.OpenWaiting
		}
		s, err := open(ctx, clickhouse.Options{DSN: cfg.Store, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("store: %q must be \"embedded\" or %sHOST:9000/DB", cfg.Store, clickhouse.Scheme)
}

// serveLinger is how long a server's pipeline lets the journal fill after
// a partial batch (pipeline.Options.Linger): at most 50 store writes a
// second under a steady stream, for 20 ms more from delivery to incident.
const serveLinger = 20 * time.Millisecond

// pipelineLinger is serveLinger for a server (now set), nothing for a
// replay, which reads a full journal.
func pipelineLinger(now func() time.Time) time.Duration {
	if now == nil {
		return 0
	}
	return serveLinger
}

// pipelineBatchRecords is how many journal records the pipeline applies in
// one store write: ClickHouse wants fewer, larger inserts (each insert is a
// part on disk), so it takes bigger batches when there is a backlog.
func pipelineBatchRecords(cfg config.Config) int {
	if isClickHouse(cfg) {
		return 4096
	}
	return 2048
}
