package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/trend"
)

// The trend reads (package trend): each returns the rows of [from, to) that
// trend.Compute needs, from incident_trends (migration 0004), the timeline,
// the checkpoints and the feedback, all under the same visibility as every
// other read.

// trendBackfill is the mark, in schema_migrations, that the incidents
// written before migration 0004 have their incident_trends rows.
const trendBackfill = "0004_trends.backfill"

// insertIncidentTrends writes the trend row of every incident version of a
// write, with the same commit id as its incidents row. last_at takes the
// reopen moments of the write's events too.
func (s *Store) insertIncidentTrends(ctx context.Context, id uint64, incs []incident.Incident, evs []incident.Event) error {
	if len(incs) == 0 {
		return nil
	}
	reopened := map[string]time.Time{}
	for i := range evs {
		if t, ok := trend.ReopenMoment(evs[i]); ok && t.After(reopened[evs[i].IncidentID]) {
			reopened[evs[i].IncidentID] = t
		}
	}
	return s.insertTrendRows(ctx, incs, func(int) uint64 { return id }, func(in *incident.Incident) time.Time {
		return reopened[in.ID]
	})
}

// insertTrendRows writes one incident_trends row per incident in one
// insert: commit(i) is the commit id of incs[i], reopened its latest reopen
// moment known beyond the incident itself (zero: none).
func (s *Store) insertTrendRows(ctx context.Context, incs []incident.Incident, commit func(int) uint64,
	reopened func(*incident.Incident) time.Time) error {
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO incident_trends (seq, version, commit_id, id, status, opened_at,
 last_at, record, opened)`)
	if err != nil {
		return fmt.Errorf("incident trends: %w", err)
	}
	for i := range incs {
		in := &incs[i]
		r := trend.RowOf(in)
		last := r.LastMoment()
		if t := reopened(in); t.After(last) {
			last = t
		}
		if err := b.Append(in.Seq, in.Version, commit(i), in.ID, in.Status.String(), in.OpenedAt.UnixNano(),
			last.UnixNano(), trend.EncodeRecord(&r), dateTime(in.OpenedAt)); err != nil {
			b.Abort()
			return fmt.Errorf("incident trends: %s: %w", in.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("incident trends: %w", err)
	}
	return nil
}

// backfillTrends writes the incident_trends rows of the incident versions
// that have none (those written before migration 0004), each with the
// commit id of its incidents row so that it is visible exactly when that
// row is. It runs once, at start, before the store is written.
func (s *Store) backfillTrends(ctx context.Context) error {
	rows, err := s.conn.Query(ctx, `SELECT seq, version, commit_id, data FROM incidents
WHERE seq GLOBAL NOT IN (SELECT seq FROM incident_trends) ORDER BY seq, version`)
	if err != nil {
		return fmt.Errorf("backfill incident trends: %w", err)
	}
	defer rows.Close()
	const chunk = 10_000
	var incs []incident.Incident
	var commits []uint64
	flush := func() error {
		if len(incs) == 0 {
			return nil
		}
		// One insert per chunk, each row with its own commit id.
		err := s.insertTrendRows(ctx, incs, func(i int) uint64 { return commits[i] },
			func(*incident.Incident) time.Time { return time.Time{} })
		if err != nil {
			return err
		}
		incs, commits = incs[:0], commits[:0]
		return nil
	}
	n := 0
	for rows.Next() {
		var seq, version int64
		var commit uint64
		var data string
		if err := rows.Scan(&seq, &version, &commit, &data); err != nil {
			return fmt.Errorf("backfill incident trends: %w", err)
		}
		var in incident.Incident
		if err := json.Unmarshal([]byte(data), &in); err != nil {
			return fmt.Errorf("backfill incident trends: decode incident %d: %w", seq, err)
		}
		in.Seq, in.Version = seq, version
		incs, commits = append(incs, in), append(commits, commit)
		n++
		if len(incs) >= chunk {
			if err := flush(); err != nil {
				return fmt.Errorf("backfill incident trends: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill incident trends: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("backfill incident trends: %w", err)
	}
	if n > 0 {
		s.logger.Info("incident trends backfilled", "versions", n)
	}
	return nil
}

// openStatuses are the names of the open incident statuses.
func openStatuses() []string {
	var open []string
	for _, st := range incident.Statuses() {
		if st.Open() {
			open = append(open, st.String())
		}
	}
	return open
}

// TrendIncidents returns the incidents that can count in a trend over
// [from, to): those opened before to whose latest version is open or that
// have a moment at or after from (trend.IncidentRow.LastMoment), with the
// moments in [from, to) at which they were reopened.
func (s *Store) TrendIncidents(ctx context.Context, from, to time.Time) ([]trend.IncidentRow, error) {
	v, err := s.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	vis := v.visible("commit_id")
	// The sub-select finds the candidates from light columns: a version
	// that is open or has a late moment. The outer query keeps those whose
	// latest version is open or whose greatest moment is late.
	q := fmt.Sprintf(`SELECT seq, argMax(record, (version, commit_id)) AS r FROM incident_trends
WHERE %[1]s AND opened_at < ? AND seq GLOBAL IN (
 SELECT seq FROM incident_trends WHERE %[1]s AND opened_at < ? AND (last_at >= ? OR status IN ?))
GROUP BY seq
HAVING max(last_at) >= ? OR argMax(status, (version, commit_id)) IN ?
ORDER BY seq`, vis)
	open := set(openStatuses())
	rows, err := s.conn.Query(ctx, q, to.UnixNano(), to.UnixNano(), from.UnixNano(), open, from.UnixNano(), open)
	if err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	defer rows.Close()
	var packed []byte
	n := 0
	for rows.Next() {
		var seq int64
		var r string
		if err := rows.Scan(&seq, &r); err != nil {
			return nil, fmt.Errorf("trend incidents: %w", err)
		}
		packed = append(packed, r...)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	out, err := trend.DecodeRecords(packed, n)
	if err != nil {
		return nil, fmt.Errorf("trend incidents: %w", err)
	}
	if err := s.addReopens(ctx, &v, from, to, out); err != nil {
		return nil, fmt.Errorf("trend incidents: reopens: %w", err)
	}
	return out, nil
}

// addReopens sets the reopen moments in [from, to) of rows, from the
// timeline (each event once, by its key).
func (s *Store) addReopens(ctx context.Context, v *view, from, to time.Time, out []trend.IncidentRow) error {
	byID := make(map[string]int, len(out))
	for i := range out {
		byID[out[i].ID] = i
	}
	// ts (seconds) prunes the monthly partitions; at (nanoseconds) decides.
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT data FROM timeline
WHERE %s AND kind = ? AND ts >= ? AND ts <= ? AND at >= ? AND at < ?
ORDER BY at, commit_id, seq LIMIT 1 BY event_key`, v.visible("commit_id")),
		incident.KindReopened, dateTime(from.Truncate(time.Second)), dateTime(to), from.UnixNano(), to.UnixNano())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return err
		}
		var ev incident.Event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("decode timeline event: %w", err)
		}
		t, ok := trend.ReopenMoment(ev)
		if !ok {
			continue
		}
		if i, ok := byID[ev.IncidentID]; ok {
			out[i].ReopenedAt = append(out[i].ReopenedAt, t)
		}
	}
	return rows.Err()
}

const nanosPerDay = int64(24 * time.Hour)

// TrendActivity returns the engine's counts per UTC day for the days in
// [from, to): the counts of each committed write, on the day of its
// batch's clock. The checkpoints always carried their clock, so Since is
// zero.
func (s *Store) TrendActivity(ctx context.Context, from, to time.Time) (trend.Activity, error) {
	var act trend.Activity
	v, err := s.view(ctx)
	if err != nil {
		return act, fmt.Errorf("trend activity: %w", err)
	}
	lo, hi := floorDiv(from.UnixNano(), nanosPerDay), floorDiv(to.Add(-1).UnixNano(), nanosPerDay)
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT intDiv(clock, %[2]d) - (clock < 0 AND clock %% %[2]d != 0) AS day,
 sum(deliveries), sum(alerts), sum(repeats), sum(suppressed)
FROM checkpoints WHERE %[1]s GROUP BY day HAVING day >= ? AND day <= ?
 AND (sum(deliveries) != 0 OR sum(alerts) != 0 OR sum(repeats) != 0 OR sum(suppressed) != 0)
ORDER BY day`, v.visible("commit_id"), nanosPerDay), lo, hi)
	if err != nil {
		return act, fmt.Errorf("trend activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, deliveries, alerts, repeats, suppressed int64
		if err := rows.Scan(&day, &deliveries, &alerts, &repeats, &suppressed); err != nil {
			return act, fmt.Errorf("trend activity: %w", err)
		}
		act.Days = append(act.Days, trend.DayCount{Day: time.Unix(0, day*nanosPerDay).UTC(), Deliveries: deliveries,
			Alerts: alerts, Repeats: repeats, Suppressed: suppressed})
	}
	if err := rows.Err(); err != nil {
		return act, fmt.Errorf("trend activity: %w", err)
	}
	return act, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// TrendFeedback returns the analysts' feedback given in [from, to), in
// time order, each decision once (by its key).
func (s *Store) TrendFeedback(ctx context.Context, from, to time.Time) ([]trend.FeedbackRow, error) {
	v, err := s.view(ctx)
	if err != nil {
		return nil, fmt.Errorf("trend feedback: %w", err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT at, actor, incident_id, method, rule, decision, alerts FROM feedback
WHERE %s AND ts >= ? AND ts <= ? AND at >= ? AND at < ?
ORDER BY at, commit_id, feedback_key LIMIT 1 BY feedback_key`, v.visible("commit_id")),
		dateTime(from.Truncate(time.Second)), dateTime(to), from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("trend feedback: %w", err)
	}
	defer rows.Close()
	var out []trend.FeedbackRow
	for rows.Next() {
		var f trend.FeedbackRow
		var at, alerts int64
		if err := rows.Scan(&at, &f.Actor, &f.IncidentID, &f.Method, &f.Rule, &f.Decision, &alerts); err != nil {
			return nil, fmt.Errorf("trend feedback: %w", err)
		}
		f.At, f.Alerts = time.Unix(0, at).UTC(), int(alerts)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trend feedback: %w", err)
	}
	return out, nil
}
