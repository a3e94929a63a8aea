package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Config configures problem management. It is the "problem:" section of the
// YAML configuration; every field has a default (see DefaultConfig).
type Config struct {
	// Schedule is when the detection job runs, a standard 5-field cron spec
	// or a descriptor such as "@every 15m" (robfig/cron ParseStandard).
	Schedule string `yaml:"schedule"`
	// MinIncidents is N: a signature (or CI) whose incidents number at least
	// N within Window becomes a candidate problem. For a signature they are
	// counted as occurrences: incidents open at the same time count once.
	MinIncidents int `yaml:"min_incidents"`
	// Window is D, the length of the rolling window (e.g. "14d").
	Window Duration `yaml:"window"`
	// QuietFor is how long a rejected candidate stays quiet when the reject
	// action does not say.
	QuietFor Duration `yaml:"quiet_for"`
	// RemarkableFactor: during its quiet period a rejected candidate is
	// proposed again only if it recurs markedly more, that is when some
	// Window holds at least RemarkableFactor times as many of its incidents
	// as the busiest Window before it was rejected.
	RemarkableFactor float64 `yaml:"remarkable_factor"`
	// ByClass enables recurrence of class signatures (same alert names on
	// CIs of one type, across CIs).
	ByClass bool `yaml:"by_class"`
	// ByCI enables per-CI recurrence (same CI, any alerts).
	ByCI bool `yaml:"by_ci"`
	// ScopeLabels are the identifying labels a signature uses as its scope
	// when the incident has no CI.
	ScopeLabels []string `yaml:"scope_labels"`
	// ClassLabels scope a class signature when no CI type is known.
	ClassLabels []string `yaml:"class_labels"`
	// VolatilePatterns are extra regular expressions (RE2) over label
	// values; every match is replaced by "*" before signing, on top of the
	// built-in rules (ports, pod hashes, UUIDs, timestamps, long numbers).
	VolatilePatterns []string `yaml:"volatile_patterns"`
}

// DefaultConfig returns the defaults: every 15 minutes, 3 incidents within
// 14 days, 30 days quiet after a rejection, factor 2, class and CI
// recurrence on.
func DefaultConfig() Config {
	return Config{
		Schedule:         "*/15 * * * *",
		MinIncidents:     3,
		Window:           Duration(14 * 24 * time.Hour),
		QuietFor:         Duration(30 * 24 * time.Hour),
		RemarkableFactor: 2,
		ByClass:          true,
		ByCI:             true,
		ScopeLabels:      []string{"cluster", "namespace", "service", "job", "instance", "host", "hostname", "node", "pod"},
		ClassLabels:      []string{"job"},
	}
}

// Validate checks the configuration; errors name the offending key.
func (c *Config) Validate() error {
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		return fmt.Errorf("problem.schedule: %q: %w", c.Schedule, err)
	}
	if c.MinIncidents < 2 {
		return errors.New("problem.min_incidents: must be at least 2")
	}
	if c.Window <= 0 {
		return errors.New("problem.window: must be positive")
	}
	if c.QuietFor < 0 {
		return errors.New("problem.quiet_for: must not be negative")
	}
	if c.RemarkableFactor < 1 {
		return errors.New("problem.remarkable_factor: must be at least 1")
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"problem.scope_labels", c.ScopeLabels}, {"problem.class_labels", c.ClassLabels}} {
		for i, n := range l.names {
			if !validLabelName(n) {
				return fmt.Errorf("%s[%d]: %q is not a valid label name", l.key, i, n)
			}
		}
	}
	if _, err := NewSigner(*c); err != nil {
		return err
	}
	return nil
}

// withDefaults fills what a zero or invalid value would break in Detect.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MinIncidents < 1 {
		c.MinIncidents = d.MinIncidents
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.QuietFor <= 0 {
		c.QuietFor = d.QuietFor
	}
	if c.RemarkableFactor < 1 {
		c.RemarkableFactor = d.RemarkableFactor
	}
	return c
}

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, b := range []byte(s) {
		if !(b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9' && i > 0)) {
			return false
		}
	}
	return true
}

// Duration is a time.Duration that reads and writes as text: a Go duration
// ("36h", "90m") or a whole number of days ("14d"), in YAML and JSON.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes whole days as "14d", anything else as a Go duration.
func (d Duration) String() string {
	if d > 0 && time.Duration(d)%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", time.Duration(d)/(24*time.Hour))
	}
	return time.Duration(d).String()
}

// ParseDuration parses a Go duration, also accepting a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok && allDigits(n) && len(n) <= 5 {
		var days int64
		for _, c := range n {
			days = days*10 + int64(c-'0')
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want e.g. 14d, 36h or 90m", s)
	}
	return v, nil
}

// UnmarshalYAML parses a duration (yaml.v2 and yaml.v3 both call it).
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration written as text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30d\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
