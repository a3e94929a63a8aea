package clickhouse

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigia-noc/vigia/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Scheme is the DSN scheme that selects this store.
const Scheme = "clickhouse://"

// reserveBlock is how many commit ids a writer reserves at a time.
const reserveBlock = 1000

// Options configure a Store.
type Options struct {
	// DSN is clickhouse://[user[:password]@]HOST:9000/DATABASE[?options],
	// native protocol. The database is created if missing.
	DSN string
	// DialTimeout bounds connecting; default 5s.
	DialTimeout time.Duration
	// MaxOpenConns caps the connection pool; default 8.
	MaxOpenConns int
	Logger       *slog.Logger
}

var dbName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// redacted returns dsn with its password, if any, as "xxxxx": errors and
// logs never show it.
func redacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

func (o *Options) parse() (*clickhouse.Options, error) {
	if !strings.HasPrefix(o.DSN, Scheme) {
		return nil, fmt.Errorf("dsn %q: want %sHOST:9000/DATABASE", redacted(o.DSN), Scheme)
	}
	co, err := clickhouse.ParseDSN(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("dsn %q: invalid", redacted(o.DSN))
	}
	if co.Protocol != clickhouse.Native {
		return nil, errors.New("dsn: only the native protocol (port 9000) is supported")
	}
	if !dbName.MatchString(co.Auth.Database) {
		return nil, fmt.Errorf("dsn %q: the path must name a database ([A-Za-z_][A-Za-z0-9_]*)", redacted(o.DSN))
	}
	co.DialTimeout = o.DialTimeout
	if co.DialTimeout <= 0 {
		co.DialTimeout = 5 * time.Second
	}
	co.MaxOpenConns = o.MaxOpenConns
	if co.MaxOpenConns <= 0 {
		co.MaxOpenConns = 8
	}
	co.MaxIdleConns = min(co.MaxOpenConns, 4)
	return co, nil
}

// Store is the ClickHouse store. Apply is called from one goroutine; the
// read methods are safe for concurrent use.
type Store struct {
	conn   driver.Conn
	opts   clickhouse.Options
	db     string
	logger *slog.Logger

	// setupMu serializes the set-up (database and migrations); isSetUp is
	// set once it succeeded.
	setupMu sync.Mutex
	isSetUp atomic.Bool

	// mu serializes writes; w is the writer's state.
	mu sync.Mutex
	w  writer
	// failAfter, set by tests, fails a write after a stage of it.
	failAfter func(stage string) error
	// exportChunk is how many incident sequences ForEachIncident reads at a time.
	exportChunk int
}

// writer is what the single writer of a database remembers between writes.
type writer struct {
	ready bool
	// next is the commit id of the next write; ids up to reservedHi are
	// reserved in commit_ranges.
	next, reservedHi uint64
	// abortLo..abortHi are ids of writes that failed and are not yet
	// recorded as aborted; abortLo == 0 when there are none.
	abortLo, abortHi uint64
	// hasCheckpoint and offset describe the last committed checkpoint.
	hasCheckpoint bool
	offset        uint64
}

// Open connects to ClickHouse, creates the database if needed and applies
// the migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	s, err := newStore(opts)
	if err != nil {
		return nil, err
	}
	if err := s.setUp(ctx); err != nil {
		s.conn.Close()
		return nil, err
	}
	return s, nil
}

// OpenWaiting is Open for a server that must start while ClickHouse is
// down (a host whose ClickHouse comes up after Vigia, an outage during a
// restart): only a bad DSN fails it. When ClickHouse cannot be set up, it
// logs why and returns the store anyway; every call then tries the set-up
// again and fails with storage.ErrUnavailable until it succeeds, so the
// journal keeps the deliveries and the pipeline applies them once
// ClickHouse answers.
func OpenWaiting(ctx context.Context, opts Options) (*Store, error) {
	s, err := newStore(opts)
	if err != nil {
		return nil, err
	}
	if err := s.setUp(ctx); err != nil {
		s.logger.Warn("ClickHouse is not available yet; the journal keeps the deliveries until it is", "err", err)
	}
	return s, nil
}

func newStore(opts Options) (*Store, error) {
	co, err := opts.parse()
	if err != nil {
		return nil, fmt.Errorf("open clickhouse store: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := co.Auth.Database
	conn, err := clickhouse.Open(co) // dials on first use
	if err != nil {
		return nil, fmt.Errorf("open clickhouse store: %w", err)
	}
	return &Store{conn: conn, opts: *co, db: db, logger: logger.With("component", "clickhouse", "database", db), exportChunk: 10000}, nil
}

// setUp creates the database if needed and applies the migrations, once.
func (s *Store) setUp(ctx context.Context) error {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.isSetUp.Load() {
		return nil
	}
	if err := createDatabase(ctx, s.opts, s.db); err != nil {
		return fmt.Errorf("open clickhouse store: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("open clickhouse store %s: %w", s.db, err)
	}
	s.isSetUp.Store(true)
	return nil
}

// ready sets the store up if an OpenWaiting could not, or says it is
// unavailable.
func (s *Store) ready(ctx context.Context) error {
	if s.isSetUp.Load() {
		return nil
	}
	if err := s.setUp(ctx); err != nil {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	s.logger.Info("ClickHouse is available")
	return nil
}

// createDatabase connects without a database and creates db.
func createDatabase(ctx context.Context, co clickhouse.Options, db string) error {
	co.Auth.Database = ""
	co.MaxOpenConns, co.MaxIdleConns = 1, 1
	conn, err := clickhouse.Open(&co)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		return fmt.Errorf("create database %s: %w", db, err)
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// Ping checks that ClickHouse answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return fmt.Errorf("ping clickhouse: %w", err)
	}
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse: %w", err)
	}
	return nil
}

// Database returns the database the store uses.
func (s *Store) Database() string { return s.db }

// Migrations returns the embedded migration files in the order they are
// applied, as name and SQL text.
func Migrations() ([][2]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([][2]string, 0, len(names))
	for _, name := range names {
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{strings.TrimSuffix(path.Base(name), ".sql"), string(body)})
	}
	return out, nil
}

// Statements splits a migration into its statements: "--" comment lines
// are dropped and statements end with ";".
func Statements(sql string) []string {
	var b strings.Builder
	for line := range strings.Lines(sql) {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
	}
	var out []string
	for st := range strings.SplitSeq(b.String(), ";") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}

// migrate applies, in lexical order, the migrations not recorded in
// schema_migrations. Every statement is idempotent (IF NOT EXISTS), so two
// processes migrating at once, or a migration cut short, are harmless.
func (s *Store) migrate(ctx context.Context) error {
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime)
ENGINE = MergeTree ORDER BY version`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	applied := map[string]bool{}
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	migs, err := Migrations()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, m := range migs {
		version, body := m[0], m[1]
		if applied[version] {
			continue
		}
		for i, st := range Statements(body) {
			if err := s.conn.Exec(ctx, st); err != nil {
				return fmt.Errorf("migration %s, statement %d: %w", version, i+1, err)
			}
		}
		if err := s.recordMigration(ctx, version); err != nil {
			return err
		}
		s.logger.Info("migration applied", "version", version)
	}
	if !applied[trendBackfill] {
		if err := s.backfillTrends(ctx); err != nil {
			return err
		}
		if err := s.recordMigration(ctx, trendBackfill); err != nil {
			return err
		}
	}
	return nil
}

// recordMigration records in schema_migrations that version is applied.
func (s *Store) recordMigration(ctx context.Context, version string) error {
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO schema_migrations (version, applied_at)`)
	if err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := b.Append(version, time.Now()); err != nil {
		b.Abort()
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("migration %s: record: %w", version, err)
	}
	return nil
}
