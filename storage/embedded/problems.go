package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
)

// SaveProblems upserts problems; an older version never overwrites a newer one.
func (s *Store) SaveProblems(ctx context.Context, ps []problem.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save problems: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO problems(seq, id, status, version, data) VALUES (?, ?, ?, ?, ?)
ON CONFLICT(seq) DO UPDATE SET status=excluded.status, version=excluded.version, data=excluded.data
WHERE excluded.version >= problems.version`)
	if err != nil {
		return fmt.Errorf("save problems: %w", err)
	}
	defer stmt.Close()
	for i := range ps {
		p := &ps[i]
		seq, err := problemSeq(p.ID)
		if err != nil {
			return fmt.Errorf("save problems: %w", err)
		}
		data, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("save problem %s: %w", p.ID, err)
		}
		if _, err := stmt.ExecContext(ctx, seq, p.ID, p.Status.String(), p.Version, data); err != nil {
			return fmt.Errorf("save problem %s: %w", p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
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

// Problems returns every problem, in id order.
func (s *Store) Problems(ctx context.Context) ([]problem.Problem, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM problems ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("problems: %w", err)
	}
	defer rows.Close()
	var out []problem.Problem
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("problems: %w", err)
		}
		var p problem.Problem
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("decode problem: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Problem returns one problem.
func (s *Store) Problem(ctx context.Context, id string) (problem.Problem, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM problems WHERE id = ?`, id).Scan(&data)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return problem.Problem{}, fmt.Errorf("problem %s: %w", id, storage.ErrNotFound)
		}
		return problem.Problem{}, fmt.Errorf("problem %s: %w", id, err)
	}
	var p problem.Problem
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("decode problem: %w", err)
	}
	return p, nil
}
