package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// partitionDropper is a store with monthly partitions (ClickHouse).
type partitionDropper interface {
	DropPartitionsBefore(ctx context.Context, table string, t time.Time) ([]string, error)
}

// enforceRetention drops, per table, the partitions wholly older than its
// retention; a zero retention keeps everything.
func enforceRetention(ctx context.Context, s partitionDropper, tables map[string]time.Duration, now time.Time, logger *slog.Logger) error {
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		keep := tables[name]
		if keep <= 0 {
			continue
		}
		dropped, err := s.DropPartitionsBefore(ctx, name, now.Add(-keep))
		if err != nil {
			errs = append(errs, fmt.Errorf("retention of %s: %w", name, err))
			continue
		}
		if len(dropped) > 0 {
			logger.Info("retention: partitions dropped", "table", name, "partitions", dropped)
		}
	}
	return errors.Join(errs...)
}
