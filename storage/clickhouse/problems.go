package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
)

// SaveProblems writes problems in one insert; an older version never
// overwrites a newer one.
func (s *Store) SaveProblems(ctx context.Context, ps []problem.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("save problems: %w", err)
	}
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO problems (seq, version, saved, id, status, data)`)
	if err != nil {
		return fmt.Errorf("save problems: %w", err)
	}
	saved := time.Now().UnixNano()
	for i := range ps {
		p := &ps[i]
		seq, err := problemSeq(p.ID)
		if err != nil {
			b.Abort()
			return fmt.Errorf("save problems: %w", err)
		}
		data, err := json.Marshal(p)
		if err != nil {
			b.Abort()
			return fmt.Errorf("save problem %s: %w", p.ID, err)
		}
		if err := b.Append(seq, p.Version, saved, p.ID, p.Status.String(), string(data)); err != nil {
			b.Abort()
			return fmt.Errorf("save problem %s: %w", p.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("save problems: %w", err)
	}
	return nil
}

// problemSeq parses "PRB-000007".
func problemSeq(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "PRB-"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "PRB-") || n <= 0 {
		return 0, fmt.Errorf("invalid problem id %q", id)
	}
	return n, nil
}

const latestProblems = `SELECT seq, argMax(data, (version, saved)) FROM problems %s GROUP BY seq ORDER BY seq`

func (s *Store) queryProblems(ctx context.Context, where string, args ...any) ([]problem.Problem, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(latestProblems, where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []problem.Problem
	for rows.Next() {
		var seq int64
		var data string
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, err
		}
		var p problem.Problem
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("decode problem %d: %w", seq, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Problems returns every problem, in id order.
func (s *Store) Problems(ctx context.Context) ([]problem.Problem, error) {
	ps, err := s.queryProblems(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	return ps, nil
}

// Problem returns one problem.
func (s *Store) Problem(ctx context.Context, id string) (problem.Problem, error) {
	ps, err := s.queryProblems(ctx, "WHERE id = ?", id)
	if err != nil {
		return problem.Problem{}, fmt.Errorf("problem %s: %w", id, err)
	}
	if len(ps) == 0 {
		return problem.Problem{}, fmt.Errorf("problem %s: %w", id, storage.ErrNotFound)
	}
	return ps[0], nil
}
