package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

// view is what a reader may see: the rows of committed, not aborted writes.
type view struct {
	has     bool
	cp      storage.Checkpoint
	commit  uint64      // latest committed write; 0 = none
	aborted [][2]uint64 // merged, sorted ranges of aborted ids
}

// notAborted is a condition on a commit id column that excludes aborted writes.
func (v *view) notAborted(col string) string {
	var b strings.Builder
	b.WriteString("1")
	for _, r := range v.aborted {
		fmt.Fprintf(&b, " AND NOT (%s BETWEEN %d AND %d)", col, r[0], r[1])
	}
	return b.String()
}

// visible is a condition on a commit id column that selects the rows a
// reader may see.
func (v *view) visible(col string) string {
	return fmt.Sprintf("%s <= %d AND %s", col, v.commit, v.notAborted(col))
}

// view reads the visibility snapshot. The order matters: the writer records
// an abort before the checkpoint of the next write, so reading the newest
// checkpoint id first and the aborted ranges after it sees every abort that
// concerns ids up to it.
func (s *Store) view(ctx context.Context) (view, error) {
	var v view
	if err := s.ready(ctx); err != nil {
		return v, err
	}
	var upper uint64
	if err := s.conn.QueryRow(ctx, `SELECT max(commit_id) FROM checkpoints`).Scan(&upper); err != nil {
		return v, fmt.Errorf("read checkpoint: %w", err)
	}
	rows, err := s.conn.Query(ctx, `SELECT lo, hi FROM commit_ranges WHERE kind = 'aborted' ORDER BY lo`)
	if err != nil {
		return v, fmt.Errorf("read aborted writes: %w", err)
	}
	for rows.Next() {
		var r [2]uint64
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			rows.Close()
			return v, fmt.Errorf("read aborted writes: %w", err)
		}
		if n := len(v.aborted); n > 0 && r[0] <= v.aborted[n-1][1]+1 {
			v.aborted[n-1][1] = max(v.aborted[n-1][1], r[1])
			continue
		}
		v.aborted = append(v.aborted, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("read aborted writes: %w", err)
	}
	if upper == 0 {
		return v, nil
	}
	rows, err = s.conn.Query(ctx, fmt.Sprintf(`SELECT commit_id, journal_offset, clock, next_incident_seq, next_episode_id
FROM checkpoints WHERE commit_id <= %d AND %s ORDER BY commit_id DESC LIMIT 1`, upper, v.notAborted("commit_id")))
	if err != nil {
		return v, fmt.Errorf("read checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var clock int64
		if err := rows.Scan(&v.commit, &v.cp.Offset, &clock, &v.cp.NextIncidentSeq, &v.cp.NextEpisodeID); err != nil {
			return v, fmt.Errorf("read checkpoint: %w", err)
		}
		v.cp.Clock = fromNanos(clock)
		v.has = true
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("read checkpoint: %w", err)
	}
	return v, nil
}

// initWriter takes over the database as its writer: every id reserved
// after the last committed write belongs to a write that never committed
// (a crashed writer's, possibly still in flight), so it is aborted before
// the first write of this one.
func (s *Store) initWriter(ctx context.Context) error {
	v, err := s.view(ctx)
	if err != nil {
		return err
	}
	var reserved, checkpointed uint64
	if err := s.conn.QueryRow(ctx, `SELECT max(hi) FROM commit_ranges WHERE kind = 'reserved'`).Scan(&reserved); err != nil {
		return fmt.Errorf("read reserved ids: %w", err)
	}
	if err := s.conn.QueryRow(ctx, `SELECT max(commit_id) FROM checkpoints`).Scan(&checkpointed); err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	last := max(v.commit, reserved, checkpointed)
	s.w = writer{ready: true, next: last + 1, reservedHi: last, hasCheckpoint: v.has, offset: v.cp.Offset}
	if last > v.commit {
		s.w.abortLo, s.w.abortHi = v.commit+1, last
		s.logger.Warn("aborting writes that never committed", "from", v.commit+1, "to", last)
	}
	return nil
}

// Apply writes a batch of changes and then its checkpoint. The batch
// becomes visible to readers when the checkpoint row lands; a batch cut
// short stays invisible and is aborted before the next write, so the
// pipeline's retry of it counts once. Stats are counted once per journal
// position: a batch that does not move the checkpoint past the stored
// offset (the same batch applied twice) adds no counts.
func (s *Store) Apply(ctx context.Context, cp storage.Checkpoint, ch correlate.Changes) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.apply(ctx, cp, &ch); err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	return nil
}

func (s *Store) apply(ctx context.Context, cp storage.Checkpoint, ch *correlate.Changes) error {
	w := &s.w
	if !w.ready {
		if err := s.initWriter(ctx); err != nil {
			return err
		}
	}
	if w.abortLo != 0 {
		if err := s.insertRange(ctx, "aborted", w.abortLo, w.abortHi); err != nil {
			return fmt.Errorf("record aborted writes: %w", err)
		}
		w.abortLo, w.abortHi = 0, 0
	}
	if w.next > w.reservedHi {
		hi := w.next + reserveBlock - 1
		if err := s.insertRange(ctx, "reserved", w.next, hi); err != nil {
			return fmt.Errorf("reserve commit ids: %w", err)
		}
		w.reservedHi = hi
	}
	id := w.next
	w.next++
	committed := false
	defer func() {
		if committed {
			return
		}
		if w.abortLo == 0 {
			w.abortLo = id
		}
		w.abortHi = id
	}()
	// The rows of the data tables go in concurrently (each insert is a
	// round trip and a part on the server); the checkpoint strictly after.
	g, gctx := errgroup.WithContext(ctx)
	// Episodes are most of a large write: their rows are built and sent
	// in parallel chunks, one insert (one part) each.
	for _, part := range chunks(ch.Episodes, episodeChunk) {
		g.Go(func() error { return s.insertEpisodes(gctx, id, part) })
	}
	g.Go(func() error { return s.insertIncidents(gctx, id, ch.Incidents) })
	g.Go(func() error { return s.insertIncidentTrends(gctx, id, ch.Incidents, ch.Events) })
	g.Go(func() error { return s.insertEvents(gctx, id, cp.Offset, ch.Events) })
	g.Go(func() error { return s.insertFeedback(gctx, id, ch.Feedback) })
	if err := g.Wait(); err != nil {
		return err
	}
	for _, stage := range []string{"episodes", "incidents", "timeline"} {
		if err := s.step(stage, nil); err != nil {
			return err
		}
	}
	stats := ch.Stats
	if w.hasCheckpoint && cp.Offset <= w.offset {
		stats = correlate.Stats{}
	}
	if err := s.step("checkpoint", s.insertCheckpoint(ctx, id, cp, stats)); err != nil {
		return err
	}
	committed = true
	w.hasCheckpoint, w.offset = true, cp.Offset
	return nil
}

// episodeChunk is the fewest episodes per insert when a write's episodes
// are split: enough that a part is worth its overhead on the server.
const episodeChunk = 10_000

// chunks splits s into at most as many parts as there are CPUs, each of at
// least least elements (but one part when s is shorter).
func chunks[T any](s []T, least int) [][]T {
	n := max(1, min(runtime.GOMAXPROCS(0), len(s)/least))
	out := make([][]T, 0, n)
	for i := range n {
		lo, hi := len(s)*i/n, len(s)*(i+1)/n
		if hi > lo {
			out = append(out, s[lo:hi])
		}
	}
	return out
}

// step returns err, or the failure a test injects after the named stage.
func (s *Store) step(stage string, err error) error {
	if err == nil && s.failAfter != nil {
		err = s.failAfter(stage)
	}
	return err
}

func (s *Store) insertRange(ctx context.Context, kind string, lo, hi uint64) error {
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO commit_ranges (kind, lo, hi, written_at)`)
	if err != nil {
		return err
	}
	if err := b.Append(kind, lo, hi, time.Now()); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

func (s *Store) insertCheckpoint(ctx context.Context, id uint64, cp storage.Checkpoint, st correlate.Stats) error {
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO checkpoints (commit_id, journal_offset, clock, next_incident_seq,
 next_episode_id, deliveries, alerts, repeats, suppressed, written_at)`)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := b.Append(id, cp.Offset, nanos(cp.Clock), cp.NextIncidentSeq, cp.NextEpisodeID,
		st.Deliveries, st.Alerts, st.Repeats, st.Suppressed, time.Now()); err != nil {
		b.Abort()
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func episodeStatus(s correlate.Status) (string, error) {
	switch s {
	case correlate.StatusFiring:
		return "firing", nil
	case correlate.StatusResolved:
		return "resolved", nil
	}
	return "", fmt.Errorf("unknown episode status %d", s)
}

func parseEpisodeStatus(s string) correlate.Status {
	if s == "resolved" {
		return correlate.StatusResolved
	}
	return correlate.StatusFiring
}

func (s *Store) insertEpisodes(ctx context.Context, id uint64, eps []correlate.Episode) error {
	if len(eps) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO episodes (id, version, commit_id, fingerprint, starts_at, ends_at,
 status, incident_id, first_seen, last_seen, notifications, source, alertname, severity, label_keys, label_values, data, starts)`)
	if err != nil {
		return fmt.Errorf("episodes: %w", err)
	}
	for i := range eps {
		ep := &eps[i]
		data, err := json.Marshal(ep)
		if err != nil {
			b.Abort()
			return fmt.Errorf("episode %d: %w", ep.ID, err)
		}
		status, err := episodeStatus(ep.Status)
		if err != nil {
			b.Abort()
			return fmt.Errorf("episode %d: %w", ep.ID, err)
		}
		keys, values := labelArrays(ep.Labels)
		if err := b.Append(ep.ID, ep.Version, id, ep.Fingerprint, ep.StartsAt.UnixNano(), nanos(ep.EndsAt),
			status, ep.IncidentID, nanos(ep.FirstSeen), ep.LastSeen.UnixNano(), uint32(max(ep.Notifications, 0)),
			string(ep.Source), ep.Labels["alertname"], ep.Labels["severity"], keys, values, string(data),
			dateTime(ep.StartsAt)); err != nil {
			b.Abort()
			return fmt.Errorf("episode %d: %w", ep.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("episodes: %w", err)
	}
	return nil
}

func (s *Store) insertIncidents(ctx context.Context, id uint64, incs []incident.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO incidents (seq, version, commit_id, id, status, priority, severity,
 title, method, opened_at, updated_at, resolved_at, data, opened)`)
	if err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	for i := range incs {
		in := &incs[i]
		data, err := json.Marshal(in)
		if err != nil {
			b.Abort()
			return fmt.Errorf("incident %s: %w", in.ID, err)
		}
		var resolved int64
		if in.ResolvedAt != nil {
			resolved = in.ResolvedAt.UnixNano()
		}
		if err := b.Append(in.Seq, in.Version, id, in.ID, in.Status.String(), uint8(max(min(in.Priority, 255), 0)),
			in.Severity, in.Title, in.Method, in.OpenedAt.UnixNano(), in.UpdatedAt.UnixNano(), resolved, string(data),
			dateTime(in.OpenedAt)); err != nil {
			b.Abort()
			return fmt.Errorf("incident %s: %w", in.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	return nil
}

func (s *Store) insertEvents(ctx context.Context, id, offset uint64, evs []incident.Event) error {
	if len(evs) == 0 {
		return nil
	}
	keys, err := storage.EventKeys(offset, evs)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO timeline (incident_id, event_key, commit_id, seq, at, kind, actor, data, ts)`)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	for i := range evs {
		ev := &evs[i]
		data, err := json.Marshal(ev)
		if err != nil {
			b.Abort()
			return fmt.Errorf("timeline of %s: %w", ev.IncidentID, err)
		}
		if err := b.Append(ev.IncidentID, keys[i], id, uint32(i), ev.At.UnixNano(), ev.Kind, ev.Actor, string(data),
			dateTime(ev.At)); err != nil {
			b.Abort()
			return fmt.Errorf("timeline of %s: %w", ev.IncidentID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

func (s *Store) insertFeedback(ctx context.Context, id uint64, fbs []correlate.Feedback) error {
	if len(fbs) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO feedback (feedback_key, commit_id, at, actor, incident_id, method, rule,
 decision, reason, alerts, ts)`)
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	for i := range fbs {
		f := &fbs[i]
		if err := b.Append(storage.FeedbackKey(f), id, f.At.UnixNano(), f.Actor, f.IncidentID, f.Method, f.Rule,
			f.Decision, f.Reason, int64(f.Alerts), dateTime(f.At)); err != nil {
			b.Abort()
			return fmt.Errorf("feedback %s on %s: %w", f.Decision, f.IncidentID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	return nil
}

// labelArrays returns the label names, sorted, and their values.
func labelArrays(ls map[string]string) ([]string, []string) {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = ls[k]
	}
	return keys, values
}

// DateTime's range (seconds, unsigned 32 bits).
var (
	minDateTime = time.Unix(0, 0).UTC()
	maxDateTime = time.Unix(1<<32-1, 0).UTC()
)

// dateTime clamps t to what a DateTime column holds.
func dateTime(t time.Time) time.Time {
	if t.Before(minDateTime) {
		return minDateTime
	}
	if t.After(maxDateTime) {
		return maxDateTime
	}
	return t.UTC()
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
