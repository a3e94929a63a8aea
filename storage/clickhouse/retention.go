package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// PartitionedTables are the tables with monthly partitions, which
// DropPartitionsBefore can trim. Dropping a month of episodes or incidents
// drops every version of the episodes that started, and of the incidents
// opened, in that month.
var PartitionedTables = []string{"alert_events", "timeline", "episodes", "incidents", "incident_trends", "feedback"}

// DropPartitionsBefore drops the monthly partitions of table that lie
// wholly before t (months are those of the server's time zone, as
// toYYYYMM computes them), and returns the partitions dropped. ClickHouse
// 18.16 has no TTL: a scheduled job calls this per table with its own
// retention.
func (s *Store) DropPartitionsBefore(ctx context.Context, table string, t time.Time) ([]string, error) {
	if !slices.Contains(PartitionedTables, table) {
		return nil, fmt.Errorf("drop partitions: %q is not one of %v", table, PartitionedTables)
	}
	var cutoff uint32
	if err := s.ready(ctx); err != nil {
		return nil, fmt.Errorf("drop partitions of %s: %w", table, err)
	}
	if err := s.conn.QueryRow(ctx, `SELECT toYYYYMM(toDateTime(?))`, dateTime(t).Unix()).Scan(&cutoff); err != nil {
		return nil, fmt.Errorf("drop partitions of %s: %w", table, err)
	}
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT partition FROM system.parts
WHERE database = ? AND table = ? AND active ORDER BY partition`, s.db, table)
	if err != nil {
		return nil, fmt.Errorf("drop partitions of %s: %w", table, err)
	}
	var old []uint64
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("drop partitions of %s: %w", table, err)
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("drop partitions of %s: partition %q is not a month", table, p)
		}
		if n < uint64(cutoff) {
			old = append(old, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("drop partitions of %s: %w", table, err)
	}
	var dropped []string
	for _, p := range old {
		if err := s.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", table, p)); err != nil {
			return dropped, fmt.Errorf("drop partition %d of %s: %w", p, table, err)
		}
		dropped = append(dropped, strconv.FormatUint(p, 10))
		s.logger.Info("partition dropped", "table", table, "partition", p)
	}
	return dropped, nil
}
