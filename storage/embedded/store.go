package embedded

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "vigia.db"

// Store is the embedded store.
type Store struct {
	db *sql.DB
	// w is the connection every Apply writes through. SQLite takes one
	// writer at a time anyway; keeping it one connection keeps its page
	// cache, which holds what batch after batch updates (the ends of the
	// tables, the indexes), warm. wmu serializes its transactions.
	w   *sql.Conn
	wmu sync.Mutex
}

// writerCacheMiB is the page cache of the writer connection (SQLite's
// default is 2 MiB, which makes every batch read back the index pages it
// updates); SetWriterCache changes it.
const writerCacheMiB = 64

// Open opens (creating if needed) the store in dir and applies migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	dsn := "file:" + filepath.Join(dir, FileName) +
		// synchronous(FULL): a committed batch is on disk before the
		// pipeline deletes the journal segments it came from, so even a
		// power loss cannot lose an acknowledged delivery.
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open embedded store: %w", err)
	}
	if s.w, err = db.Conn(ctx); err == nil {
		err = s.SetWriterCache(ctx, writerCacheMiB)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open embedded store: writer: %w", err)
	}
	return s, nil
}

// SetWriterCache sets the page cache of the connection Apply writes
// through, in MiB. A replay, which writes batches of tens of thousands of
// rows into indexes of millions, sets it larger than the default.
func (s *Store) SetWriterCache(ctx context.Context, mib int) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.w.ExecContext(ctx, "PRAGMA cache_size = -"+strconv.Itoa(mib*1024))
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return errors.Join(s.w.Close(), s.db.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, version, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", version, err)
		}
	}
	return nil
}

const (
	metaOffset     = "offset"
	metaClock      = "clock"
	metaNextInc    = "next_incident_seq"
	metaNextEp     = "next_episode_id"
	metaDeliveries = "deliveries"
	metaAlerts     = "alerts"
	metaRepeats    = "repeats"
	metaSuppressed = "suppressed"
)

// Apply writes a batch of changes and the checkpoint in one transaction.
func (s *Store) Apply(ctx context.Context, cp storage.Checkpoint, ch correlate.Changes) error {
	return s.ApplyBatches(ctx, []Batch{{Checkpoint: cp, Changes: ch}})
}

// Batch is one batch of the pipeline: the engine's changes and the
// checkpoint after them.
type Batch struct {
	Checkpoint storage.Checkpoint
	Changes    correlate.Changes
}

// ApplyBatches writes consecutive batches in one transaction, with the same
// result as Apply writing them one after the other. A replay hands it the
// batches the engine made while the previous transaction was written, so
// that the table and index pages they have in common are written once.
func (s *Store) ApplyBatches(ctx context.Context, bs []Batch) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("apply changes: %w", err)
	}
	defer tx.Rollback()
	for i := range bs {
		if err := applyTx(ctx, tx, bs[i].Checkpoint, &bs[i].Changes); err != nil {
			return fmt.Errorf("apply changes: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply changes: commit: %w", err)
	}
	return nil
}

func applyTx(ctx context.Context, tx *sql.Tx, cp storage.Checkpoint, ch *correlate.Changes) error {
	if len(ch.Episodes) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO episodes(id, fingerprint, starts_at, ends_at, status, incident_id, last_seen, version, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET ends_at=excluded.ends_at, status=excluded.status, incident_id=excluded.incident_id,
 last_seen=excluded.last_seen, version=excluded.version, data=excluded.data WHERE excluded.version >= episodes.version`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		var buf []byte
		for i := range ch.Episodes {
			ep := &ch.Episodes[i]
			data, err := marshalEpisode(buf, ep)
			if err != nil {
				return err
			}
			buf = data
			if _, err := stmt.ExecContext(ctx, ep.ID, ep.Fingerprint, ep.StartsAt.UnixNano(), nanos(ep.EndsAt), int(ep.Status),
				ep.IncidentID, ep.LastSeen.UnixNano(), ep.Version, data); err != nil {
				return fmt.Errorf("episode %d: %w", ep.ID, err)
			}
		}
	}
	if len(ch.Incidents) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO incidents(seq, id, status, priority, title, opened_at, updated_at, resolved_at, version, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(seq) DO UPDATE SET status=excluded.status, priority=excluded.priority, title=excluded.title,
 updated_at=excluded.updated_at, resolved_at=excluded.resolved_at, version=excluded.version, data=excluded.data
 WHERE excluded.version >= incidents.version`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range ch.Incidents {
			in := &ch.Incidents[i]
			data, err := json.Marshal(in)
			if err != nil {
				return err
			}
			var resolved any
			if in.ResolvedAt != nil {
				resolved = in.ResolvedAt.UnixNano()
			}
			if _, err := stmt.ExecContext(ctx, in.Seq, in.ID, in.Status.String(), int(in.Priority), in.Title,
				in.OpenedAt.UnixNano(), in.UpdatedAt.UnixNano(), resolved, in.Version, data); err != nil {
				return fmt.Errorf("incident %s: %w", in.ID, err)
			}
		}
	}
	if len(ch.Events) > 0 {
		datas := make([][]byte, len(ch.Events))
		for i := range ch.Events {
			var err error
			if datas[i], err = marshalEvent(nil, &ch.Events[i]); err != nil {
				return err
			}
		}
		keys := eventKeys(cp.Offset, datas)
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO timeline(incident_id, at, event_key, data) VALUES (?, ?, ?, ?)
ON CONFLICT(event_key) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range ch.Events {
			ev := &ch.Events[i]
			if _, err := stmt.ExecContext(ctx, ev.IncidentID, ev.At.UnixNano(), timelineKey(cp.Offset, keys[i]), datas[i]); err != nil {
				return fmt.Errorf("timeline of %s: %w", ev.IncidentID, err)
			}
		}
	}
	// Stats are counted once per journal position: a batch that does not
	// move the checkpoint past the stored offset was counted already (the
	// same batch applied twice).
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, metaOffset).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("checkpoint: %w", err)
	default:
		n, err := strconv.ParseUint(stored, 10, 64)
		if err != nil {
			return fmt.Errorf("checkpoint: stored offset: %w", err)
		}
		if cp.Offset <= n {
			ch.Stats = correlate.Stats{}
		}
	}
	if err := applyTrends(ctx, tx, cp, ch); err != nil {
		return err
	}
	set := func(k, v string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, k, v)
		return err
	}
	add := func(k string, n int64) error {
		if n == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+CAST(excluded.value AS INTEGER)`, k, strconv.FormatInt(n, 10))
		return err
	}
	for _, kv := range [][2]string{
		{metaOffset, strconv.FormatUint(cp.Offset, 10)},
		{metaClock, strconv.FormatInt(nanos(cp.Clock), 10)},
		{metaNextInc, strconv.FormatInt(cp.NextIncidentSeq, 10)},
		{metaNextEp, strconv.FormatInt(cp.NextEpisodeID, 10)},
	} {
		if err := set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	for k, n := range map[string]int64{metaDeliveries: ch.Stats.Deliveries, metaAlerts: ch.Stats.Alerts,
		metaRepeats: ch.Stats.Repeats, metaSuppressed: ch.Stats.Suppressed} {
		if err := add(k, n); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
	}
	return nil
}

// timelineKey is the event_key of an event: its key (storage.EventKeys)
// led by the batch's journal offset in fixed-width hex. The keys alone are
// random; led so, those of a batch sort after every key written before, and
// the unique index on them grows at its end instead of being rewritten all
// over by every batch. (Rows written before this change hold the bare key.)
func timelineKey(offset uint64, key string) string {
	var b [16]byte
	const digits = "0123456789abcdef"
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[offset&15]
		offset >>= 4
	}
	return string(b[:]) + key
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

func (s *Store) meta(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM meta`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("meta %s: %w", k, err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Offset returns the last journal sequence applied to the store.
func (s *Store) Offset(ctx context.Context) (uint64, error) {
	m, err := s.meta(ctx)
	if err != nil {
		return 0, fmt.Errorf("read offset: %w", err)
	}
	return uint64(m[metaOffset]), nil
}

// LoadState returns the checkpoint and the engine state needed to resume:
// firing episodes, episodes resolved within epRetention of the clock,
// incidents that are open or resolved within incRetention, and the
// incidents those episodes belong to.
func (s *Store) LoadState(ctx context.Context, epRetention, incRetention time.Duration) (storage.Checkpoint, correlate.State, error) {
	var cp storage.Checkpoint
	var st correlate.State
	m, err := s.meta(ctx)
	if err != nil {
		return cp, st, fmt.Errorf("load state: %w", err)
	}
	cp = storage.Checkpoint{Offset: uint64(m[metaOffset]), Clock: fromNanos(m[metaClock]), NextIncidentSeq: m[metaNextInc], NextEpisodeID: m[metaNextEp]}
	st.Clock, st.NextIncidentSeq, st.NextEpisodeID = cp.Clock, cp.NextIncidentSeq, cp.NextEpisodeID
	epSince := cp.Clock.Add(-epRetention).UnixNano()
	st.Episodes, err = s.queryEpisodes(ctx, `WHERE status = ? OR ends_at >= ? OR last_seen >= ?`, int(correlate.StatusFiring), epSince, epSince)
	if err != nil {
		return cp, st, fmt.Errorf("load state: %w", err)
	}
	incSince := cp.Clock.Add(-incRetention).UnixNano()
	open := []any{}
	var ph []string
	for _, s := range incident.Statuses() {
		if s.Open() {
			open = append(open, s.String())
			ph = append(ph, "?")
		}
	}
	args := append(open, incSince)
	incs, err := s.queryIncidents(ctx, `WHERE status IN (`+strings.Join(ph, ",")+`) OR resolved_at >= ? OR id IN (SELECT DISTINCT incident_id FROM episodes WHERE status = ?) ORDER BY seq`,
		append(args, int(correlate.StatusFiring))...)
	if err != nil {
		return cp, st, fmt.Errorf("load state: %w", err)
	}
	st.Incidents = incs
	return cp, st, nil
}

const episodeCols = `SELECT starts_at, ends_at, status, data FROM episodes `

func (s *Store) queryEpisodes(ctx context.Context, where string, args ...any) ([]correlate.Episode, error) {
	rows, err := s.db.QueryContext(ctx, episodeCols+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.Episode
	for rows.Next() {
		ep, err := scanEpisode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, rows.Err()
}

func scanEpisode(rows *sql.Rows) (correlate.Episode, error) {
	var ep correlate.Episode
	var starts, ends int64
	var status int
	var data []byte
	if err := rows.Scan(&starts, &ends, &status, &data); err != nil {
		return ep, err
	}
	if err := decodeEpisode(data, &ep); err != nil {
		return ep, fmt.Errorf("decode episode: %w", err)
	}
	ep.StartsAt, ep.EndsAt, ep.Status = time.Unix(0, starts).UTC(), fromNanos(ends), correlate.Status(status)
	return ep, nil
}

func (s *Store) queryIncidents(ctx context.Context, where string, args ...any) ([]incident.Incident, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, data FROM incidents `+where, args...)
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
		if err := decodeIncident(data, &in); err != nil {
			return nil, fmt.Errorf("decode incident %d: %w", seq, err)
		}
		in.Seq = seq
		out = append(out, in)
	}
	return out, rows.Err()
}

// ListIncidents returns one page of incidents, newest first.
func (s *Store) ListIncidents(ctx context.Context, f storage.IncidentFilter) (storage.IncidentPage, error) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		ph := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ph[i] = "?"
			args = append(args, st.String())
		}
		where = append(where, "status IN ("+strings.Join(ph, ",")+")")
	}
	if len(f.Priorities) > 0 {
		ph := make([]string, len(f.Priorities))
		for i, p := range f.Priorities {
			ph[i] = "?"
			args = append(args, int(p))
		}
		where = append(where, "priority IN ("+strings.Join(ph, ",")+")")
	}
	if !f.From.IsZero() {
		where = append(where, "opened_at >= ?")
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		where = append(where, "opened_at < ?")
		args = append(args, f.To.UnixNano())
	}
	if f.Q != "" {
		where = append(where, "(instr(lower(title), lower(?)) > 0 OR instr(lower(id), lower(?)) > 0)")
		args = append(args, f.Q, f.Q)
	}
	if f.Cursor != "" {
		seq, err := storage.DecodeCursor(f.Cursor)
		if err != nil {
			return storage.IncidentPage{}, err
		}
		where = append(where, "seq < ?")
		args = append(args, seq)
	}
	limit := f.PageLimit()
	q := ""
	if len(where) > 0 {
		q = "WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)
	incs, err := s.queryIncidents(ctx, q, args...)
	if err != nil {
		return storage.IncidentPage{}, fmt.Errorf("list incidents: %w", err)
	}
	return storage.NewIncidentPage(incs, limit), nil
}

// GetIncident returns one incident with its alerts and timeline.
func (s *Store) GetIncident(ctx context.Context, id string) (storage.IncidentDetail, error) {
	var d storage.IncidentDetail
	incs, err := s.queryIncidents(ctx, `WHERE id = ?`, id)
	if err != nil {
		return d, fmt.Errorf("get incident %s: %w", id, err)
	}
	if len(incs) == 0 {
		return d, fmt.Errorf("get incident %s: %w", id, storage.ErrNotFound)
	}
	d.Incident = incs[0]
	if d.Alerts, err = s.queryEpisodes(ctx, `WHERE incident_id = ? ORDER BY id`, id); err != nil {
		return d, fmt.Errorf("get incident %s: alerts: %w", id, err)
	}
	if d.Alerts == nil {
		d.Alerts = []correlate.Episode{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM timeline WHERE incident_id = ? ORDER BY id`, id)
	if err != nil {
		return d, fmt.Errorf("get incident %s: timeline: %w", id, err)
	}
	defer rows.Close()
	d.Timeline = []incident.Event{}
	for rows.Next() {
		var data []byte
		var ev incident.Event
		if err := rows.Scan(&data); err != nil {
			return d, err
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return d, fmt.Errorf("decode timeline event: %w", err)
		}
		d.Timeline = append(d.Timeline, ev)
	}
	return d, rows.Err()
}

// ForEachIncident calls fn for every incident opened at or after since, in
// id order, with its alerts. It reads ahead: pages of incidents and their
// alerts are read and decoded on other goroutines while fn runs, and only a
// few pages are in memory at a time.
func (s *Store) ForEachIncident(ctx context.Context, since time.Time, fn func(incident.Incident, []correlate.Episode) error) error {
	seqs, err := s.incidentSeqs(ctx, since)
	if err != nil {
		return fmt.Errorf("export incidents: %w", err)
	}
	// The alerts of a page of incidents come in one query.
	const page = 500
	load := func(ctx context.Context, i int) (incidentPage, error) {
		return s.incidentPage(ctx, seqs[i*page:min((i+1)*page, len(seqs))])
	}
	err = readAhead(ctx, (len(seqs)+page-1)/page, load, func(p incidentPage) error {
		for i := range p.incs {
			if err := fn(p.incs[i], p.eps[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export incidents: %w", err)
	}
	return nil
}

// incidentSeqs returns the seqs of the incidents opened at or after since,
// in order. They come from the index on opened_at alone (which holds the
// seqs), not from a scan of the table and its rows' data.
func (s *Store) incidentSeqs(ctx context.Context, since time.Time) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq FROM incidents INDEXED BY incidents_opened WHERE opened_at >= ?`, nanos(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, rows.Err()
}

// incidentPage is some incidents, in seq order, with their alerts.
type incidentPage struct {
	incs []incident.Incident
	eps  [][]correlate.Episode
}

func (s *Store) incidentPage(ctx context.Context, seqs []int64) (incidentPage, error) {
	var p incidentPage
	if len(seqs) == 0 {
		return p, nil
	}
	in := `(?` + strings.Repeat(",?", len(seqs)-1) + `)`
	args := make([]any, len(seqs))
	for i, seq := range seqs {
		args[i] = seq
	}
	incs, err := s.queryIncidents(ctx, `WHERE seq IN `+in+` ORDER BY seq`, args...)
	if err != nil || len(incs) == 0 {
		return p, err
	}
	for i := range incs {
		args[i] = incs[i].ID
	}
	// In the order of the index on (incident_id, id): each incident's
	// alerts come by id, without sorting them all.
	eps, err := s.queryEpisodes(ctx, `WHERE incident_id IN `+in[:2*len(incs)]+`) ORDER BY incident_id, id`, args[:len(incs)]...)
	if err != nil {
		return p, err
	}
	byIncident := make(map[string][]correlate.Episode, len(incs))
	for _, ep := range eps {
		byIncident[ep.IncidentID] = append(byIncident[ep.IncidentID], ep)
	}
	p.incs, p.eps = incs, make([][]correlate.Episode, len(incs))
	for i := range incs {
		p.eps[i] = byIncident[incs[i].ID]
	}
	return p, nil
}

// readAhead loads parts 0..n-1 with load, on readers goroutines and at
// most ahead parts in advance, and hands them to use in order. It returns
// the first error, and returns only once every load has returned.
func readAhead[T any](ctx context.Context, n int, load func(context.Context, int) (T, error), use func(T) error) error {
	const ahead = 4
	readers := max(1, min(runtime.GOMAXPROCS(0), 4))
	type part struct {
		i    int
		v    T
		err  error
		done chan struct{}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	todo, ordered := make(chan *part), make(chan *part, ahead)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(todo)
		defer close(ordered)
		for i := range n {
			p := &part{i: i, done: make(chan struct{})}
			select {
			case ordered <- p:
			case <-ctx.Done():
				return
			}
			select {
			case todo <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range todo {
				p.v, p.err = load(ctx, p.i)
				close(p.done)
			}
		}()
	}
	for p := range ordered {
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.err != nil {
			return p.err
		}
		if err := use(p.v); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// ForEachUnassigned calls fn for every episode with no incident that
// started at or after since, a page at a time.
func (s *Store) ForEachUnassigned(ctx context.Context, since time.Time, fn func(correlate.Episode) error) error {
	const page = 1000
	var last int64 = -1 << 63
	for {
		eps, err := s.queryEpisodes(ctx, `WHERE incident_id = '' AND id > ? AND starts_at >= ? ORDER BY id LIMIT ?`, last, nanos(since), page)
		if err != nil {
			return fmt.Errorf("export unassigned alerts: %w", err)
		}
		for _, ep := range eps {
			if err := fn(ep); err != nil {
				return err
			}
		}
		if len(eps) < page {
			return nil
		}
		last = eps[len(eps)-1].ID
	}
}

// Totals returns the store's counters.
func (s *Store) Totals(ctx context.Context) (storage.Totals, error) {
	var t storage.Totals
	m, err := s.meta(ctx)
	if err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	t.Deliveries, t.Alerts, t.Repeats, t.Suppressed = m[metaDeliveries], m[metaAlerts], m[metaRepeats], m[metaSuppressed]
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM episodes`).Scan(&t.Episodes); err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents`).Scan(&t.Incidents); err != nil {
		return t, fmt.Errorf("totals: %w", err)
	}
	return t, nil
}
