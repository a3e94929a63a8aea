package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

// latestEpisodes selects the latest visible version of each episode. The
// first %s is a condition on the stored rows (visibility and a prefilter),
// the second a condition on the latest version (l_* columns).
const latestEpisodes = `SELECT id,
 argMax(starts_at, (version, commit_id)) AS l_starts,
 argMax(ends_at, (version, commit_id)) AS l_ends,
 argMax(status, (version, commit_id)) AS l_status,
 argMax(incident_id, (version, commit_id)) AS l_incident,
 argMax(last_seen, (version, commit_id)) AS l_last_seen,
 argMax(data, (version, commit_id)) AS l_data
FROM episodes WHERE %s GROUP BY id HAVING %s ORDER BY id`

// incidentKeys selects the seqs of the incidents whose latest visible
// version matches: the first %s conditions the stored rows, the second the
// latest version (l_* columns), the third orders and limits. It reads only
// light columns, so a page of a large store reads the data of the page only.
const incidentKeys = `SELECT seq,
 any(id) AS l_id,
 argMax(status, (version, commit_id)) AS l_status,
 argMax(priority, (version, commit_id)) AS l_priority,
 argMax(title, (version, commit_id)) AS l_title,
 argMax(resolved_at, (version, commit_id)) AS l_resolved
FROM incidents WHERE %s GROUP BY seq HAVING %s %s`

// latestIncidents reads the latest visible version of the incidents that
// incidentKeys (the second %s) selects; the last %s is the order.
const latestIncidents = `SELECT seq, argMax(data, (version, commit_id)) AS l_data
FROM incidents WHERE %s AND seq GLOBAL IN (SELECT seq FROM (%s)) GROUP BY seq %s`

// episodeQuery builds a latestEpisodes query; where and having are ANDed
// with the visibility condition.
func episodeQuery(v *view, where, having string) string {
	w := v.visible("commit_id")
	if where != "" {
		w += " AND (" + where + ")"
	}
	if having == "" {
		having = "1"
	}
	return fmt.Sprintf(latestEpisodes, w, having)
}

// episodesOf is a prefilter on the episodes of which a visible version
// matches cond; the latest-version condition (HAVING) must still follow.
// GLOBAL IN computes the set once, also through Distributed tables.
func episodesOf(v *view, cond string) string {
	return fmt.Sprintf("id GLOBAL IN (SELECT id FROM episodes WHERE %s AND (%s))", v.visible("commit_id"), cond)
}

func (s *Store) queryEpisodes(ctx context.Context, q string, args ...any) ([]correlate.Episode, error) {
	var out []correlate.Episode
	err := s.eachEpisode(ctx, q, args, func(ep correlate.Episode) error {
		out = append(out, ep)
		return nil
	})
	return out, err
}

func (s *Store) eachEpisode(ctx context.Context, q string, args []any, fn func(correlate.Episode) error) error {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, starts, ends, lastSeen int64
			status, inc, data          string
		)
		if err := rows.Scan(&id, &starts, &ends, &status, &inc, &lastSeen, &data); err != nil {
			return err
		}
		var ep correlate.Episode
		if err := json.Unmarshal([]byte(data), &ep); err != nil {
			return fmt.Errorf("decode episode %d: %w", id, err)
		}
		ep.StartsAt, ep.EndsAt, ep.Status = time.Unix(0, starts).UTC(), fromNanos(ends), parseEpisodeStatus(status)
		if err := fn(ep); err != nil {
			return err
		}
	}
	return rows.Err()
}

// incidentQuery builds a latestIncidents query; where and having are ANDed
// with the visibility condition, limit (if > 0) caps the incidents.
func incidentQuery(v *view, where, having, order string, limit int) string {
	w := v.visible("commit_id")
	if where != "" {
		w += " AND (" + where + ")"
	}
	if having == "" {
		having = "1"
	}
	tail := order
	if limit > 0 {
		tail += fmt.Sprintf(" LIMIT %d", limit)
	}
	keys := fmt.Sprintf(incidentKeys, w, having, tail)
	return fmt.Sprintf(latestIncidents, v.visible("commit_id"), keys, order)
}

func (s *Store) queryIncidents(ctx context.Context, q string, args ...any) ([]incident.Incident, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []incident.Incident
	for rows.Next() {
		var seq int64
		var data string
		if err := rows.Scan(&seq, &data); err != nil {
			return nil, err
		}
		var in incident.Incident
		if err := json.Unmarshal([]byte(data), &in); err != nil {
			return nil, fmt.Errorf("decode incident %d: %w", seq, err)
		}
		in.Seq = seq
		out = append(out, in)
	}
	return out, rows.Err()
}

// Offset returns the last journal sequence applied to the store.
func (s *Store) Offset(ctx context.Context) (uint64, error) {
	v, err := s.view(ctx)
	if err != nil {
		return 0, fmt.Errorf("read offset: %w", err)
	}
	return v.cp.Offset, nil
}

// LoadState returns the checkpoint and the engine state needed to resume:
// firing episodes, episodes resolved within epRetention of the clock,
// incidents that are open or resolved within incRetention, and the
// incidents those episodes belong to.
func (s *Store) LoadState(ctx context.Context, epRetention, incRetention time.Duration) (storage.Checkpoint, correlate.State, error) {
	var st correlate.State
	v, err := s.view(ctx)
	if err != nil {
		return storage.Checkpoint{}, st, fmt.Errorf("load state: %w", err)
	}
	cp := v.cp
	st.Clock, st.NextIncidentSeq, st.NextEpisodeID = cp.Clock, cp.NextIncidentSeq, cp.NextEpisodeID
	epSince := cp.Clock.Add(-epRetention).UnixNano()
	cond := "status = 'firing' OR ends_at >= ? OR last_seen >= ?"
	q := episodeQuery(&v, episodesOf(&v, cond), "l_status = 'firing' OR l_ends >= ? OR l_last_seen >= ?")
	if st.Episodes, err = s.queryEpisodes(ctx, q, epSince, epSince, epSince, epSince); err != nil {
		return cp, st, fmt.Errorf("load state: episodes: %w", err)
	}
	incSince := cp.Clock.Add(-incRetention).UnixNano()
	var open []string
	for _, s := range incident.Statuses() {
		if s.Open() {
			open = append(open, s.String())
		}
	}
	firingIncidents := fmt.Sprintf(`SELECT inc FROM (SELECT id, argMax(status, (version, commit_id)) AS s,
 argMax(incident_id, (version, commit_id)) AS inc FROM episodes WHERE %s GROUP BY id) WHERE s = 'firing'`, v.visible("commit_id"))
	q = incidentQuery(&v, "", "l_status IN ? OR (l_resolved != 0 AND l_resolved >= ?) OR l_id GLOBAL IN ("+firingIncidents+")", "ORDER BY seq", 0)
	if st.Incidents, err = s.queryIncidents(ctx, q, set(open), incSince); err != nil {
		return cp, st, fmt.Errorf("load state: incidents: %w", err)
	}
	return cp, st, nil
}

// ListIncidents returns one page of incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context, f storage.IncidentFilter) (storage.IncidentPage, error) {
	var where, having []string
	var wargs, hargs []any
	if len(f.Statuses) > 0 {
		names := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			names[i] = st.String()
		}
		having = append(having, "l_status IN ?")
		hargs = append(hargs, set(names))
	}
	if len(f.Priorities) > 0 {
		ps := make([]string, len(f.Priorities))
		for i, p := range f.Priorities {
			ps[i] = strconv.Itoa(int(p))
		}
		having = append(having, "l_priority IN ("+strings.Join(ps, ",")+")")
	}
	if !f.From.IsZero() {
		where = append(where, "opened_at >= ?")
		wargs = append(wargs, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		where = append(where, "opened_at < ?")
		wargs = append(wargs, f.To.UnixNano())
	}
	if f.Q != "" {
		having = append(having, "(position(lower(l_title), lower(?)) > 0 OR position(lower(l_id), lower(?)) > 0)")
		hargs = append(hargs, f.Q, f.Q)
	}
	if f.Cursor != "" {
		seq, err := storage.DecodeCursor(f.Cursor)
		if err != nil {
			return storage.IncidentPage{}, err
		}
		where = append(where, "seq < ?")
		wargs = append(wargs, seq)
	}
	limit := f.PageLimit()
	v, err := s.view(ctx)
	if err != nil {
		return storage.IncidentPage{}, fmt.Errorf("list incidents: %w", err)
	}
	q := incidentQuery(&v, strings.Join(where, " AND "), strings.Join(having, " AND "), "ORDER BY seq DESC", limit+1)
	incs, err := s.queryIncidents(ctx, q, append(wargs, hargs...)...)
	if err != nil {
		return storage.IncidentPage{}, fmt.Errorf("list incidents: %w", err)
	}
	return storage.NewIncidentPage(incs, limit), nil
}

// GetIncident returns one incident with its alerts and timeline.
func (s *Store) GetIncident(ctx context.Context, id string) (storage.IncidentDetail, error) {
	var d storage.IncidentDetail
	v, err := s.view(ctx)
	if err != nil {
		return d, fmt.Errorf("get incident %s: %w", id, err)
	}
	incs, err := s.queryIncidents(ctx, incidentQuery(&v, "id = ?", "", "", 0), id)
	if err != nil {
		return d, fmt.Errorf("get incident %s: %w", id, err)
	}
	if len(incs) == 0 {
		return d, fmt.Errorf("get incident %s: %w", id, storage.ErrNotFound)
	}
	d.Incident = incs[0]
	q := episodeQuery(&v, episodesOf(&v, "incident_id = ?"), "l_incident = ?")
	if d.Alerts, err = s.queryEpisodes(ctx, q, id, id); err != nil {
		return d, fmt.Errorf("get incident %s: alerts: %w", id, err)
	}
	if d.Alerts == nil {
		d.Alerts = []correlate.Episode{}
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT data FROM timeline WHERE incident_id = ? AND %s
ORDER BY commit_id, seq LIMIT 1 BY event_key`, v.visible("commit_id")), id)
	if err != nil {
		return d, fmt.Errorf("get incident %s: timeline: %w", id, err)
	}
	defer rows.Close()
	d.Timeline = []incident.Event{}
	for rows.Next() {
		var data string
		var ev incident.Event
		if err := rows.Scan(&data); err != nil {
			return d, fmt.Errorf("get incident %s: timeline: %w", id, err)
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return d, fmt.Errorf("decode timeline event: %w", err)
		}
		d.Timeline = append(d.Timeline, ev)
	}
	if err := rows.Err(); err != nil {
		return d, fmt.Errorf("get incident %s: timeline: %w", id, err)
	}
	return d, nil
}

// set binds strings as a set, ('a', 'b'), for IN: a hashed lookup, where
// a bound slice (an array) would need has(), a scan of the array per row.
func set(ss []string) clickhouse.GroupSet {
	v := make([]any, len(ss))
	for i, s := range ss {
		v[i] = s
	}
	return clickhouse.GroupSet{Value: v}
}

// ForEachIncident calls fn for every incident opened at or after since, in
// id order, with its alerts. It reads one snapshot in chunks of sequence
// ranges (primary-key ranges), so memory stays bounded and the work linear
// however large the store.
func (s *Store) ForEachIncident(ctx context.Context, since time.Time, fn func(incident.Incident, []correlate.Episode) error) error {
	v, err := s.view(ctx)
	if err != nil {
		return fmt.Errorf("export incidents: %w", err)
	}
	var lo, hi int64
	if err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT min(seq), max(seq) FROM incidents WHERE %s`,
		v.visible("commit_id"))).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("export incidents: %w", err)
	}
	step := int64(s.exportChunk)
	for from := lo; from <= hi && hi > 0; from += step {
		incs, err := s.queryIncidents(ctx, incidentQuery(&v, "opened_at >= ? AND seq >= ? AND seq < ?", "", "ORDER BY seq", 0),
			nanos(since), from, from+step)
		if err != nil {
			return fmt.Errorf("export incidents: %w", err)
		}
		if len(incs) == 0 {
			continue
		}
		// The chunk's incidents by a sub-select, not a list of ids: a list
		// of thousands would pass max_query_size (256 KiB).
		chunk := fmt.Sprintf("SELECT id FROM incidents WHERE %s AND seq >= ? AND seq < ?", v.visible("commit_id"))
		byIncident := map[string][]correlate.Episode{}
		q := episodeQuery(&v, episodesOf(&v, "incident_id GLOBAL IN ("+chunk+")"), "l_incident GLOBAL IN ("+chunk+")")
		args := []any{from, from + step, from, from + step}
		err = s.eachEpisode(ctx, q, args, func(ep correlate.Episode) error {
			byIncident[ep.IncidentID] = append(byIncident[ep.IncidentID], ep)
			return nil
		})
		if err != nil {
			return fmt.Errorf("export incidents: alerts: %w", err)
		}
		for _, in := range incs {
			if err := fn(in, byIncident[in.ID]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ForEachUnassigned calls fn for every episode with no incident that
// started at or after since.
func (s *Store) ForEachUnassigned(ctx context.Context, since time.Time, fn func(correlate.Episode) error) error {
	v, err := s.view(ctx)
	if err != nil {
		return fmt.Errorf("export unassigned alerts: %w", err)
	}
	q := episodeQuery(&v, "starts_at >= ? AND "+episodesOf(&v, "incident_id = ''"), "l_incident = ''")
	if err := s.eachEpisode(ctx, q, []any{nanos(since)}, fn); err != nil {
		return fmt.Errorf("export unassigned alerts: %w", err)
	}
	return nil
}

// Totals returns the store's counters.
func (s *Store) Totals(ctx context.Context) (storage.Totals, error) {
	var t storage.Totals
	v, err := s.view(ctx)
	if err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	if err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT sum(deliveries), sum(alerts), sum(repeats), sum(suppressed) FROM checkpoints WHERE %s`,
		v.visible("commit_id"))).Scan(&t.Deliveries, &t.Alerts, &t.Repeats, &t.Suppressed); err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	var eps, incs uint64
	if err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT uniqExact(id) FROM episodes WHERE %s`,
		v.visible("commit_id"))).Scan(&eps); err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	if err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT uniqExact(seq) FROM incidents WHERE %s`,
		v.visible("commit_id"))).Scan(&incs); err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	t.Episodes, t.Incidents = int64(eps), int64(incs)
	return t, nil
}
