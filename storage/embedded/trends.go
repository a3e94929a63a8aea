package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/trend"
)

// The trend reads (package trend): each returns the rows of [from, to) that
// trend.Compute needs, from the tables of migration 0004.

const (
	metaActivitySince = "activity_since"
	metaTrendBackfill = "trend_backfill"
)

const upsertIncidentTrend = `INSERT INTO incident_trends(seq, id, version, status, opened_at, last_at, record)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(seq) DO UPDATE SET version=excluded.version, status=excluded.status, opened_at=excluded.opened_at,
 last_at=MAX(excluded.last_at, incident_trends.last_at), record=excluded.record
WHERE excluded.version >= incident_trends.version`

// trendArgs are the values of upsertIncidentTrend for one incident.
func trendArgs(in *incident.Incident, reopened []time.Time) []any {
	r := trend.RowOf(in)
	r.ReopenedAt = reopened
	return []any{in.Seq, r.ID, in.Version, r.Status.String(), r.OpenedAt.UnixNano(), r.LastMoment().UnixNano(), trend.EncodeRecord(&r)}
}

func reopenKey(incidentID string, at time.Time) string {
	return incidentID + "@" + strconv.FormatInt(at.UnixNano(), 10)
}

// applyIncidentTrends flattens the batch's incidents (an older version
// never overwrites a newer one) and records the reopenings among its events.
func applyIncidentTrends(ctx context.Context, tx *sql.Tx, incs []incident.Incident, evs []incident.Event) error {
	reopened := map[string][]time.Time{}
	for _, ev := range evs {
		if t, ok := trend.ReopenMoment(ev); ok {
			reopened[ev.IncidentID] = append(reopened[ev.IncidentID], t)
		}
	}
	if len(incs) > 0 {
		stmt, err := tx.PrepareContext(ctx, upsertIncidentTrend)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range incs {
			if _, err := stmt.ExecContext(ctx, trendArgs(&incs[i], reopened[incs[i].ID])...); err != nil {
				return fmt.Errorf("incident %s: %w", incs[i].ID, err)
			}
		}
	}
	for id, ts := range reopened {
		for _, t := range ts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO incident_reopens(reopen_key, incident_id, at) VALUES (?, ?, ?)
ON CONFLICT(reopen_key) DO NOTHING`, reopenKey(id, t), id, t.UnixNano()); err != nil {
				return fmt.Errorf("reopen of %s: %w", id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE incident_trends SET last_at = MAX(last_at, ?)
WHERE seq = (SELECT seq FROM incidents WHERE id = ?)`, t.UnixNano(), id); err != nil {
				return fmt.Errorf("reopen of %s: %w", id, err)
			}
		}
	}
	return nil
}

// backfillTrends flattens the incidents written before migration 0004,
// once: the migration leaves a mark in meta when there are some.
func (s *Store) backfillTrends(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM meta WHERE key = ?`, metaTrendBackfill).Scan(&n); err != nil || n == 0 {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	incs, err := queryIncidentsTx(ctx, tx, `SELECT seq, data FROM incidents WHERE seq NOT IN (SELECT seq FROM incident_trends)`)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, upsertIncidentTrend)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range incs {
		if _, err := stmt.ExecContext(ctx, trendArgs(&incs[i], nil)...); err != nil {
			return fmt.Errorf("incident %s: %w", incs[i].ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incident_trends SET last_at = MAX(last_at,
 (SELECT MAX(at) FROM incident_reopens WHERE incident_id = incident_trends.id))
WHERE seq IN (SELECT i.seq FROM incidents i JOIN incident_reopens r ON r.incident_id = i.id)`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, metaTrendBackfill); err != nil {
		return err
	}
	return tx.Commit()
}

func queryIncidentsTx(ctx context.Context, tx *sql.Tx, q string) ([]incident.Incident, error) {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.Incident
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, err
		}
		var in incident.Incident
		if err := json.Unmarshal(data, &in); err != nil {
			return nil, fmt.Errorf("decode incident %d: %w", seq, err)
		}
		in.Seq = seq
		out = append(out, in)
	}
	return out, rows.Err()
}

// selectIncidentTrends concatenates the records of a range into one value:
// a row at a time, the driver costs about 1.5µs per row; group_concat
// returns 200,000 records in about a tenth of the time.
const selectIncidentTrends = `SELECT COUNT(*), group_concat(record, '') FROM incident_trends
WHERE opened_at < ? AND (last_at >= ? OR status IN (%s))`

// TrendIncidents returns the incidents that can count in a trend over
// [from, to): those opened before to that are still open or have a moment
// at or after from (trend.IncidentRow.LastMoment), with the moments in
// [from, to) at which they were reopened.
func (s *Store) TrendIncidents(ctx context.Context, from, to time.Time) ([]trend.IncidentRow, error) {
	if err := s.backfillTrends(ctx); err != nil {
		return nil, fmt.Errorf("trend incidents: backfill: %w", err)
	}
	args := []any{to.UnixNano(), from.UnixNano()}
	var ph []string
	for _, st := range incident.Statuses() {
		if st.Open() {
			args = append(args, st.String())
			ph = append(ph, "?")
		}
	}
	var n int
	var packed []byte
	if err := s.db.QueryRowContext(ctx, fmt.Sprintf(selectIncidentTrends, strings.Join(ph, ",")), args...).Scan(&n, &packed); err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	out, err := trend.DecodeRecords(packed, n)
	if err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	byID := make(map[string]int, len(out))
	for i := range out {
		byID[out[i].ID] = i
	}
	reopens, err := s.db.QueryContext(ctx, `SELECT incident_id, at FROM incident_reopens WHERE at >= ? AND at < ? ORDER BY at`,
		from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("trend incidents: reopens: %w", err)
	}
	defer reopens.Close()
	for reopens.Next() {
		var id string
		var at int64
		if err := reopens.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("trend incidents: reopens: %w", err)
		}
		if i, ok := byID[id]; ok {
			out[i].ReopenedAt = append(out[i].ReopenedAt, time.Unix(0, at).UTC())
		}
	}
	if err := reopens.Err(); err != nil {
		return nil, fmt.Errorf("trend incidents: reopens: %w", err)
	}
	return out, nil
}

// TrendActivity returns the engine's counts per UTC day for the days in
// [from, to), and since when the store counts per day.
func (s *Store) TrendActivity(ctx context.Context, from, to time.Time) (trend.Activity, error) {
	var act trend.Activity
	var since string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaActivitySince).Scan(&since)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return act, fmt.Errorf("trend activity: %w", err)
	default:
		n, err := strconv.ParseInt(since, 10, 64)
		if err != nil {
			return act, fmt.Errorf("trend activity: %s: %w", metaActivitySince, err)
		}
		act.Since = time.Unix(0, n).UTC()
	}
	// Days overlapping [from, to).
	lo, hi := dayOf(from), dayOf(to.Add(-1))
	rows, err := s.db.QueryContext(ctx, `SELECT day, deliveries, alerts, repeats, suppressed FROM activity_daily
WHERE day >= ? AND day <= ? ORDER BY day`, lo, hi)
	if err != nil {
		return act, fmt.Errorf("trend activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d trend.DayCount
		var day int64
		if err := rows.Scan(&day, &d.Deliveries, &d.Alerts, &d.Repeats, &d.Suppressed); err != nil {
			return act, fmt.Errorf("trend activity: %w", err)
		}
		d.Day = time.Unix(day*(nanosPerDay/int64(time.Second)), 0).UTC()
		act.Days = append(act.Days, d)
	}
	if err := rows.Err(); err != nil {
		return act, fmt.Errorf("trend activity: %w", err)
	}
	return act, nil
}

// TrendFeedback returns the analysts' feedback given in [from, to), in
// time order.
func (s *Store) TrendFeedback(ctx context.Context, from, to time.Time) ([]trend.FeedbackRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, incident_id, method, rule, decision, alerts FROM feedback
WHERE at >= ? AND at < ? ORDER BY at, id`, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("trend feedback: %w", err)
	}
	defer rows.Close()
	var out []trend.FeedbackRow
	for rows.Next() {
		var f trend.FeedbackRow
		var at int64
		if err := rows.Scan(&at, &f.Actor, &f.IncidentID, &f.Method, &f.Rule, &f.Decision, &f.Alerts); err != nil {
			return nil, fmt.Errorf("trend feedback: %w", err)
		}
		f.At = time.Unix(0, at).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trend feedback: %w", err)
	}
	return out, nil
}
