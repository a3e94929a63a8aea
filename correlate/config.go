package correlate

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/vigia-noc/vigia/incident"
)

// Config configures the correlation engine. Every field has a default
// (see DefaultConfig) and is settable in the YAML config under "correlate".
type Config struct {
	// Rules are tried in order; the first whose matchers all match an alert
	// groups it. Alerts that match no rule use the default grouping.
	Rules []RuleConfig `yaml:"rules"`
	// DefaultWindow is how long before a group's first or after its last
	// event a new alert may still join it, on event time, for rules that
	// set no window of their own.
	DefaultWindow Duration `yaml:"default_window"`
	// Topology groups alerts whose CIs are linked in the dependency graph.
	Topology TopologyConfig `yaml:"topology"`
	// Similarity groups alerts that map to no CI and match no rule.
	Similarity SimilarityConfig `yaml:"similarity"`
	// Flapping keeps an alert that keeps firing and resolving in one incident.
	Flapping FlappingConfig `yaml:"flapping"`
	// ResolveDelay is how long an incident waits after its last alert
	// resolved before it is resolved itself.
	ResolveDelay Duration `yaml:"resolve_delay"`
	// ReopenWindow is how long after its resolution an incident is reopened,
	// rather than a new one opened, when its alerts fire again.
	ReopenWindow Duration `yaml:"reopen_window"`
	// DedupRetention is how long resolved episodes stay in memory so that
	// late re-sends of them are recognised as repeats.
	DedupRetention Duration `yaml:"dedup_retention"`
}

// TopologyConfig configures topology grouping and root-cause inference.
type TopologyConfig struct {
	// Window is the event-time window within which linked CIs' alerts join.
	Window Duration `yaml:"window"`
	// MaxHops bounds the dependency paths searched.
	MaxHops int `yaml:"max_hops"`
	// Labels are tried in order to map an alert to a CI (contract §4).
	Labels []string `yaml:"labels"`
	// Symptoms is a regular expression on alert names: alerts of CIs that
	// only share an ancestor join one incident (with that ancestor as the
	// inferred root cause) when they raise the same symptom alert.
	Symptoms string `yaml:"symptoms"`
}

// SimilarityConfig configures similarity grouping.
type SimilarityConfig struct {
	Window Duration `yaml:"window"`
	// Threshold is the score (0..1) from which an alert joins an incident.
	Threshold float64 `yaml:"threshold"`
	// ScopeLabels must be equal (when either alert has them) for two alerts
	// to be grouped by similarity: e.g. never across clusters.
	ScopeLabels []string `yaml:"scope_labels"`
	// CIAlerts also groups by similarity the alerts on CIs that topology
	// links to nothing (alike alerts on unrelated CIs: a storm of one
	// alert across many hosts); off, each such alert opens its own incident.
	CIAlerts bool `yaml:"ci_alerts"`
}

// FlappingConfig configures flap detection with hysteresis.
type FlappingConfig struct {
	// Changes state changes (fire or resolve) within Window make an alert flapping.
	Changes int      `yaml:"changes"`
	Window  Duration `yaml:"window"`
	// Hold is how long a flapping incident's alerts must stay quiet before
	// it resolves.
	Hold Duration `yaml:"hold"`
}

// DefaultSymptoms matches the alert names of unavailability symptoms, which
// the dependents of a failed CI raise together.
const DefaultSymptoms = `(?i)(down|unreachable|unavailable|unresponsive|timeout|timed.?out|latency|slow|error.?rate|5xx|connect|link.?down|ping|heartbeat|absent|stale|noresponse|probe.?fail)`

// RuleConfig is one grouping rule.
type RuleConfig struct {
	Name string `yaml:"name"`
	// Matchers in Alertmanager's syntax, e.g. `severity=~"critical|high"`.
	Matchers []string `yaml:"matchers"`
	GroupBy  []string `yaml:"group_by"`
	// Window defaults to the engine's DefaultWindow.
	Window Duration `yaml:"window"`
	// Title is a Go text/template over TitleData.
	Title string `yaml:"title"`
	// OpenIncident false keeps matching alerts as episodes without an
	// incident (they appear as unassigned alerts). Default true.
	OpenIncident *bool `yaml:"open_incident"`
	// Priority overrides the severity mapping (P1..P5).
	Priority string `yaml:"priority"`
}

// DefaultConfig returns the engine defaults.
func DefaultConfig() Config {
	return Config{
		DefaultWindow: Duration(5 * time.Minute),
		Topology: TopologyConfig{Window: Duration(10 * time.Minute), MaxHops: 3,
			Labels:   []string{"ci", "instance", "host", "hostname", "node", "pod", "service", "job"},
			Symptoms: DefaultSymptoms},
		Similarity: SimilarityConfig{Window: Duration(5 * time.Minute), Threshold: 0.6,
			ScopeLabels: []string{"cluster", "namespace", "datacenter", "region", "env", "environment"}},
		Flapping:       FlappingConfig{Changes: 6, Window: Duration(time.Hour), Hold: Duration(30 * time.Minute)},
		ResolveDelay:   Duration(5 * time.Minute),
		ReopenWindow:   Duration(time.Hour),
		DedupRetention: Duration(24 * time.Hour),
	}
}

// Validate checks the configuration; errors name the offending key.
func (c *Config) Validate() error {
	if _, err := c.compile(); err != nil {
		return err
	}
	return nil
}

// TitleData is what a rule's title template sees.
type TitleData struct {
	Alertname   string
	Labels      map[string]string // the first alert's labels
	Annotations map[string]string // the first alert's annotations
	GroupLabels map[string]string
	Rule        string
}

type rule struct {
	name     string
	matchers labels.Matchers
	groupBy  []string
	window   time.Duration
	title    *template.Template
	open     bool
	priority incident.Priority
}

func (r *rule) matches(ls map[string]string) bool {
	for _, m := range r.matchers {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

type compiled struct {
	rules        []*rule
	resolveDelay time.Duration
	reopenWindow time.Duration
	retention    time.Duration
	topoWindow   time.Duration
	maxHops      int
	topoLabels   []string
	simWindow    time.Duration
	simThreshold float64
	scopeLabels  []string
	simCIAlerts  bool
	flapChanges  int
	flapWindow   time.Duration
	flapHold     time.Duration
	symptoms     *regexp.Regexp
}

func (c *Config) compile() (*compiled, error) {
	out := &compiled{
		resolveDelay: time.Duration(c.ResolveDelay),
		reopenWindow: time.Duration(c.ReopenWindow),
		retention:    time.Duration(c.DedupRetention),
	}
	for name, d := range map[string]Duration{
		"correlate.default_window": c.DefaultWindow, "correlate.resolve_delay": c.ResolveDelay,
		"correlate.reopen_window": c.ReopenWindow, "correlate.dedup_retention": c.DedupRetention,
	} {
		if d < 0 {
			return nil, fmt.Errorf("%s: must not be negative", name)
		}
	}
	if c.DefaultWindow <= 0 {
		return nil, errors.New("correlate.default_window: must be positive")
	}
	var err error
	if err := checkLabelNames("correlate.topology.labels", c.Topology.Labels); err != nil {
		return nil, err
	}
	if err := checkLabelNames("correlate.similarity.scope_labels", c.Similarity.ScopeLabels); err != nil {
		return nil, err
	}
	switch {
	case c.Topology.Window <= 0:
		return nil, errors.New("correlate.topology.window: must be positive")
	case c.Topology.MaxHops < 1 || c.Topology.MaxHops > 16:
		return nil, errors.New("correlate.topology.max_hops: must be from 1 to 16")
	case c.Similarity.Window <= 0:
		return nil, errors.New("correlate.similarity.window: must be positive")
	case c.Similarity.Threshold <= 0 || c.Similarity.Threshold > 1:
		return nil, errors.New("correlate.similarity.threshold: must be in (0, 1]")
	case c.Flapping.Changes < 2:
		return nil, errors.New("correlate.flapping.changes: must be at least 2")
	case c.Flapping.Window <= 0:
		return nil, errors.New("correlate.flapping.window: must be positive")
	case c.Flapping.Hold < 0:
		return nil, errors.New("correlate.flapping.hold: must not be negative")
	}
	if out.symptoms, err = regexp.Compile(c.Topology.Symptoms); err != nil {
		return nil, fmt.Errorf("correlate.topology.symptoms: %w", err)
	}
	out.topoWindow, out.maxHops, out.topoLabels = time.Duration(c.Topology.Window), c.Topology.MaxHops, c.Topology.Labels
	out.simWindow, out.simThreshold, out.scopeLabels = time.Duration(c.Similarity.Window), c.Similarity.Threshold, c.Similarity.ScopeLabels
	out.simCIAlerts = c.Similarity.CIAlerts
	out.flapChanges, out.flapWindow, out.flapHold = c.Flapping.Changes, time.Duration(c.Flapping.Window), time.Duration(c.Flapping.Hold)
	seen := map[string]bool{}
	for i, rc := range c.Rules {
		field := fmt.Sprintf("correlate.rules[%d]", i)
		if rc.Name == "" {
			return nil, fmt.Errorf("%s.name: is required", field)
		}
		if seen[rc.Name] {
			return nil, fmt.Errorf("%s.name: duplicate rule name %q", field, rc.Name)
		}
		seen[rc.Name] = true
		r := &rule{name: rc.Name, groupBy: rc.GroupBy, window: time.Duration(rc.Window), open: true}
		if rc.OpenIncident != nil {
			r.open = *rc.OpenIncident
		}
		if r.window < 0 {
			return nil, fmt.Errorf("%s.window: must not be negative", field)
		}
		if r.window == 0 {
			r.window = time.Duration(c.DefaultWindow)
		}
		if len(rc.Matchers) == 0 {
			return nil, fmt.Errorf("%s.matchers: at least one matcher is required", field)
		}
		for j, s := range rc.Matchers {
			ms, err := labels.ParseMatchers(s)
			if err != nil {
				return nil, fmt.Errorf("%s.matchers[%d]: %w", field, j, err)
			}
			r.matchers = append(r.matchers, ms...)
		}
		if err := checkLabelNames(field+".group_by", rc.GroupBy); err != nil {
			return nil, err
		}
		if rc.Title != "" {
			if r.title, err = template.New(rc.Name).Option("missingkey=zero").Parse(rc.Title); err != nil {
				return nil, fmt.Errorf("%s.title: %w", field, err)
			}
			if _, err := renderTitle(r.title, TitleData{}); err != nil {
				return nil, fmt.Errorf("%s.title: %w", field, err)
			}
		}
		if rc.Priority != "" {
			if r.priority, err = incident.ParsePriority(rc.Priority); err != nil {
				return nil, fmt.Errorf("%s.priority: %w", field, err)
			}
		}
		out.rules = append(out.rules, r)
	}
	return out, nil
}

func checkLabelNames(field string, names []string) error {
	for i, n := range names {
		if !validLabelName(n) {
			return fmt.Errorf("%s[%d]: %q is not a valid label name", field, i, n)
		}
	}
	return nil
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

func renderTitle(t *template.Template, d TitleData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Duration is a time.Duration that reads and writes as "5m" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string, or days as "7d".
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

func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses a Go duration, also accepting a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		var n int
		if _, err := fmt.Sscanf(s, "%dd", &n); err == nil && fmt.Sprintf("%dd", n) == s {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return v, nil
}
