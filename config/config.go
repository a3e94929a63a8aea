// Package config loads Vigia's YAML configuration file. Every key has a
// default (Default), the file is decoded strictly (an unknown key is an
// error that names its line), and Validate names the offending key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/notify"
	"github.com/vigia-noc/vigia/problem"
)

// Config is the whole configuration.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string `yaml:"listen"`
	// Data is the data directory: journal and embedded store.
	Data string `yaml:"data"`
	// Store is "embedded" or a clickhouse://HOST:9000/DB DSN.
	Store string `yaml:"store"`
	// Topology is a topology file (contract §4), optional.
	Topology string        `yaml:"topology"`
	Log      LogConfig     `yaml:"log"`
	Server   ServerConfig  `yaml:"server"`
	Ingest   IngestConfig  `yaml:"ingest"`
	Journal  JournalConfig `yaml:"journal"`
	Auth     AuthConfig    `yaml:"auth"`
	// Correlate configures deduplication and grouping.
	Correlate correlate.Config `yaml:"correlate"`
	// Incident configures the workflow: lifecycle codes, the priority
	// matrix, categories, assignment, SLA policies and escalation rules.
	Incident incident.Config `yaml:"incident"`
	// Notify configures outbound webhook notifications.
	Notify notify.Config `yaml:"notify"`
	// Problem configures recurrence detection and problem management.
	Problem problem.Config `yaml:"problem"`
	// Jobs are the schedules of the periodic jobs.
	Jobs JobsConfig `yaml:"jobs"`
	// Retention of history in the store.
	Retention RetentionConfig `yaml:"retention"`
}

// JobsConfig holds the cron schedules ("*/15 * * * *" or "@every 30s").
type JobsConfig struct {
	// SLA evaluates SLA clocks and escalation rules.
	SLA string `yaml:"sla"`
	// Retention drops expired history (ClickHouse monthly partitions).
	Retention string `yaml:"retention"`
}

// RetentionConfig is how long each kind of history is kept in ClickHouse;
// 0 keeps it forever. Whole months are dropped once wholly past.
type RetentionConfig struct {
	AlertEvents correlate.Duration `yaml:"alert_events"`
	Episodes    correlate.Duration `yaml:"episodes"`
	Incidents   correlate.Duration `yaml:"incidents"`
	Timeline    correlate.Duration `yaml:"timeline"`
	Feedback    correlate.Duration `yaml:"feedback"`
}

// Tables maps the ClickHouse tables to their retention (incident_trends,
// the incidents flattened for the trends, follows incidents).
func (r RetentionConfig) Tables() map[string]time.Duration {
	return map[string]time.Duration{"alert_events": time.Duration(r.AlertEvents), "episodes": time.Duration(r.Episodes),
		"incidents": time.Duration(r.Incidents), "incident_trends": time.Duration(r.Incidents), "timeline": time.Duration(r.Timeline), "feedback": time.Duration(r.Feedback)}
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// ServerConfig configures the HTTP server.
type ServerConfig struct {
	ReadHeaderTimeout correlate.Duration `yaml:"read_header_timeout"`
	ReadTimeout       correlate.Duration `yaml:"read_timeout"`
	WriteTimeout      correlate.Duration `yaml:"write_timeout"`
	IdleTimeout       correlate.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   correlate.Duration `yaml:"shutdown_timeout"`
	// TLSCertFile and TLSKeyFile, both set, make the server speak HTTPS
	// (PEM files, read at start: restart to rotate). Both empty: plain HTTP.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

// IngestConfig configures the webhook endpoints.
type IngestConfig struct {
	MaxBodyBytes ByteSize           `yaml:"max_body_bytes"`
	RetryAfter   correlate.Duration `yaml:"retry_after"`
	// UTF8LabelNames accepts any UTF-8 label name, as Prometheus 3 and
	// Alertmanager 0.28+ may send; false keeps to [a-zA-Z_][a-zA-Z0-9_]*.
	UTF8LabelNames bool `yaml:"utf8_label_names"`
	// RateLimit bounds each sender's requests; off by default.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
}

// RateLimitConfig is a token bucket per sender: a token's name when tokens
// are configured, else the client address. Over it ingest answers 429 with
// Retry-After.
type RateLimitConfig struct {
	// RequestsPerSecond is the steady rate allowed to one sender; 0 is off.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Burst is how many requests a sender may make at once; 0 means
	// requests_per_second rounded up.
	Burst int `yaml:"burst"`
}

// JournalConfig configures the on-disk journal.
type JournalConfig struct {
	SegmentBytes ByteSize `yaml:"segment_bytes"`
	// MaxBytes is the journal's disk budget; over it ingest answers 503.
	MaxBytes ByteSize `yaml:"max_bytes"`
}

// AuthConfig configures bearer tokens. No tokens: no authentication.
type AuthConfig struct {
	Tokens []auth.TokenConfig `yaml:"tokens"`
	// FailedLogins locks out client addresses that present too many
	// invalid tokens.
	FailedLogins FailedLoginsConfig `yaml:"failed_logins"`
}

// FailedLoginsConfig: after Max invalid tokens from one client address,
// every request from it gets 429 with Retry-After until its allowance,
// which refills at Max per Window, allows one more. Max 0 turns it off.
type FailedLoginsConfig struct {
	Max    int                `yaml:"max"`
	Window correlate.Duration `yaml:"window"`
}

// Default returns the configuration used when a key is absent.
func Default() Config {
	return Config{
		Listen: "127.0.0.1:8080",
		Data:   "./vigia-data",
		Store:  "embedded",
		Log:    LogConfig{Level: "info", Format: "text"},
		Server: ServerConfig{
			ReadHeaderTimeout: correlate.Duration(5 * time.Second),
			ReadTimeout:       correlate.Duration(30 * time.Second),
			WriteTimeout:      correlate.Duration(30 * time.Second),
			IdleTimeout:       correlate.Duration(2 * time.Minute),
			ShutdownTimeout:   correlate.Duration(15 * time.Second),
		},
		Ingest:    IngestConfig{MaxBodyBytes: 10 << 20, RetryAfter: correlate.Duration(5 * time.Second), UTF8LabelNames: true},
		Journal:   JournalConfig{SegmentBytes: 64 << 20, MaxBytes: 4 << 30},
		Auth:      AuthConfig{FailedLogins: FailedLoginsConfig{Max: 100, Window: correlate.Duration(time.Minute)}},
		Correlate: correlate.DefaultConfig(),
		Incident:  incident.DefaultConfig(),
		Notify:    notify.DefaultConfig(),
		Problem:   defaultProblem(),
		Jobs:      JobsConfig{SLA: "@every 30s", Retention: "30 3 * * *"},
	}
}

// Load reads and validates the file at path on top of the defaults.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML strictly on top of the defaults and validates it.
// Errors start with the line and the key path they are about:
// "line 12: correlate.rules[0].matchers[0]: …".
func Parse(b []byte) (Config, error) {
	cfg, err := parse(b)
	return cfg, oneLine(err)
}

func parse(b []byte) (Config, error) {
	cfg := Default()
	// The node tree gives the errors their lines; a syntax error fails here,
	// with its line.
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return Config{}, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		if lerr := locateDecodeError(&root, reflect.TypeFor[Config]()); lerr != nil {
			return Config{}, lerr
		}
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, withLine(&root, err)
	}
	return cfg, nil
}

// oneLine keeps an error on one line (`vigia config check` prints one): a
// value quoted in it may hold line breaks. Found by FuzzParse.
func oneLine(err error) error {
	if err == nil || !strings.ContainsAny(err.Error(), "\r\n") {
		return err
	}
	return oneLineError{err}
}

type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(e.err.Error())
}

func (e oneLineError) Unwrap() error { return e.err }

// Validate checks every key; errors name the key.
func (c *Config) Validate() error {
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port", c.Listen)
	} else if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return fmt.Errorf("listen: %q: port %q is not a number from 0 to 65535", c.Listen, port)
	}
	if c.Data == "" {
		return errors.New("data: is required")
	}
	if c.Store != "embedded" && !strings.HasPrefix(c.Store, "clickhouse://") {
		return fmt.Errorf("store: %q must be \"embedded\" or clickhouse://HOST:9000/DB", c.Store)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q must be debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q must be text or json", c.Log.Format)
	}
	for name, d := range map[string]correlate.Duration{
		"server.read_header_timeout": c.Server.ReadHeaderTimeout, "server.read_timeout": c.Server.ReadTimeout,
		"server.write_timeout": c.Server.WriteTimeout, "server.idle_timeout": c.Server.IdleTimeout,
		"server.shutdown_timeout": c.Server.ShutdownTimeout, "ingest.retry_after": c.Ingest.RetryAfter,
	} {
		if d <= 0 {
			return fmt.Errorf("%s: must be positive", name)
		}
	}
	if (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == "") {
		if c.Server.TLSCertFile == "" {
			return errors.New("server.tls_key_file: server.tls_cert_file is required too (set both or neither)")
		}
		return errors.New("server.tls_cert_file: server.tls_key_file is required too (set both or neither)")
	}
	if c.Ingest.MaxBodyBytes < 1024 {
		return errors.New("ingest.max_body_bytes: must be at least 1KiB")
	}
	switch rl := c.Ingest.RateLimit; {
	case rl.RequestsPerSecond < 0 || math.IsNaN(rl.RequestsPerSecond) || math.IsInf(rl.RequestsPerSecond, 0):
		return fmt.Errorf("ingest.rate_limit.requests_per_second: %v must be 0 (off) or a positive number", rl.RequestsPerSecond)
	case rl.Burst < 0:
		return fmt.Errorf("ingest.rate_limit.burst: %d must not be negative", rl.Burst)
	case rl.Burst > 0 && rl.RequestsPerSecond == 0:
		return errors.New("ingest.rate_limit.burst: has no effect without ingest.rate_limit.requests_per_second")
	}
	if c.Journal.SegmentBytes < 1<<20 {
		return errors.New("journal.segment_bytes: must be at least 1MiB")
	}
	if c.Journal.MaxBytes != 0 && c.Journal.MaxBytes < 2*c.Journal.SegmentBytes {
		return errors.New("journal.max_bytes: must be 0 (unlimited) or at least twice journal.segment_bytes")
	}
	names := make(map[string]int, len(c.Auth.Tokens))
	for i, t := range c.Auth.Tokens {
		// Only the configuration is checked: secrets in token_env and
		// token_file are read by serve, and never logged.
		if err := t.Validate(); err != nil {
			return fmt.Errorf("auth.tokens[%d].%w", i, err)
		}
		if j, ok := names[t.Name]; ok {
			return fmt.Errorf("auth.tokens[%d].name: %q is already used by auth.tokens[%d]", i, t.Name, j)
		}
		names[t.Name] = i
	}
	if fl := c.Auth.FailedLogins; fl.Max < 0 {
		return fmt.Errorf("auth.failed_logins.max: %d must be 0 (off) or positive", fl.Max)
	} else if fl.Max > 0 && fl.Window <= 0 {
		return errors.New("auth.failed_logins.window: must be positive")
	}
	if _, err := cron.ParseStandard(c.Jobs.SLA); err != nil {
		return fmt.Errorf("jobs.sla: %w", err)
	}
	if _, err := cron.ParseStandard(c.Jobs.Retention); err != nil {
		return fmt.Errorf("jobs.retention: %w", err)
	}
	for name, d := range c.Retention.Tables() {
		if d < 0 {
			return fmt.Errorf("retention.%s: must not be negative", name)
		}
	}
	if err := c.Correlate.Validate(); err != nil {
		return err
	}
	if err := c.Incident.Validate(); err != nil {
		return err
	}
	if err := c.Notify.Validate(); err != nil {
		return err
	}
	return c.Problem.Validate()
}

// ByteSize is a size in bytes, written as a number or with a unit (10MiB, 1GB).
type ByteSize int64

// UnmarshalYAML parses a size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses "1048576", "10MiB", "64MB", "1GiB".
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with KiB, MiB, GiB, KB, MB, GB", s)
	}
	return n * mult, nil
}

// defaultProblem is the problem package's default with recurrence by class
// and by CI off: on a large estate alike faults on many CIs of one type, or
// many kinds of fault on one busy CI, recur constantly without one cause.
// Signature recurrence (the same fault on the same target) stays on.
func defaultProblem() problem.Config {
	c := problem.DefaultConfig()
	c.ByClass, c.ByCI = false, false
	return c
}
