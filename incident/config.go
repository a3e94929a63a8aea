package incident

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Config configures the analyst workflow; it is the "incident" key of the
// YAML config. Every field has a default (DefaultConfig). Decode YAML on
// top of DefaultConfig: a struct merges field by field (impact.medium:
// {cis: 5} keeps the default services), a map key given in the file (a
// severity, an SLA policy) replaces that entry whole, and a list replaces
// the whole list.
type Config struct {
	// RejectReasons are the reasons an analyst may give to reject.
	RejectReasons []string `yaml:"reject_reasons" json:"reject_reasons"`
	// ClosureCodes are the codes an analyst may give to resolve or close.
	ClosureCodes []string `yaml:"closure_codes" json:"closure_codes"`

	// PriorityMatrix maps urgency x impact to P1..P5.
	PriorityMatrix Matrix        `yaml:"priority_matrix" json:"priority_matrix"`
	Urgency        UrgencyConfig `yaml:"urgency" json:"urgency"`
	Impact         ImpactConfig  `yaml:"impact" json:"impact"`

	Major       MajorConfig       `yaml:"major" json:"major"`
	AutoConfirm AutoConfirmConfig `yaml:"auto_confirm" json:"auto_confirm"`

	// Categories is the category/subcategory tree; CategoryRules set them
	// from alert labels. When no rule matches, the alert labels named by
	// CategoryLabel and SubcategoryLabel are used if they name a node of
	// the tree (empty disables).
	Categories       []Category     `yaml:"categories" json:"categories"`
	CategoryRules    []CategoryRule `yaml:"category_rules" json:"category_rules,omitempty"`
	CategoryLabel    string         `yaml:"category_label" json:"category_label,omitempty"`
	SubcategoryLabel string         `yaml:"subcategory_label" json:"subcategory_label,omitempty"`

	Assignment AssignmentConfig `yaml:"assignment" json:"assignment"`
	SLA        SLAConfig        `yaml:"sla" json:"sla"`
	// EscalationRules are evaluated by a scheduled job (DueEscalations).
	EscalationRules []EscalationRule `yaml:"escalation_rules" json:"escalation_rules,omitempty"`
}

// MajorConfig says which incidents are major without an analyst declaring them.
type MajorConfig struct {
	// Priorities are declared major automatically (default P1).
	Priorities []Priority `yaml:"priorities" json:"priorities"`
}

// AutoConfirm skips triage: matching incidents are confirmed when opened.
type AutoConfirmConfig struct {
	Priorities []Priority `yaml:"priorities" json:"priorities,omitempty"`
	// Rules are correlation rule names (Incident.Rule) whose incidents are
	// confirmed on opening. The caller checks that they exist.
	Rules []string `yaml:"rules" json:"rules,omitempty"`
}

// AssignmentConfig configures support levels and groups.
type AssignmentConfig struct {
	// DefaultLevel is the level of a new incident (default L1).
	DefaultLevel SupportLevel `yaml:"default_level" json:"default_level"`
	// DefaultGroup is the assignment group of a new incident.
	DefaultGroup string `yaml:"default_group" json:"default_group,omitempty"`
	// LevelGroups maps a level ("L2") to the group an escalation to it
	// assigns; escalating to a level with a group clears the assignee.
	LevelGroups map[string]string `yaml:"level_groups" json:"level_groups,omitempty"`
}

// SLAConfig configures SLA policies and calendars (incident.sla).
type SLAConfig struct {
	// AtRisk is the default at-risk share of a target, in (0, 1).
	AtRisk float64 `yaml:"at_risk" json:"at_risk"`
	// DefaultCalendar is used by policies that name none; "24x7" is built in.
	DefaultCalendar string                    `yaml:"default_calendar" json:"default_calendar"`
	Calendars       map[string]CalendarConfig `yaml:"calendars" json:"calendars,omitempty"`
	// Policies has one entry per priority, keyed "P1".."P5".
	Policies map[string]Policy `yaml:"policies" json:"policies"`
	// Major is the (faster) policy of major incidents.
	Major Policy `yaml:"major" json:"major"`
}

// DefaultConfig returns the workflow defaults: ITIL's matrix, 24x7 SLAs,
// level L1, no escalation rules.
func DefaultConfig() Config {
	return Config{
		RejectReasons: []string{"false_positive", "noise", "maintenance", "duplicate", "test", "other"},
		ClosureCodes: []string{"resolved", "workaround_applied", "no_fault_found", "duplicate", "vendor",
			"change_caused", "user_error", "other"},
		PriorityMatrix: DefaultMatrix(),
		Urgency: UrgencyConfig{
			Severity: map[string]Level{
				"critical": High, "disaster": High, "page": High, "high": High, "major": High, "error": High,
				"warning": Medium, "average": Medium, "minor": Medium, "medium": Medium,
				"low": Low, "info": Low, "information": Low, "none": Low, "debug": Low,
			},
			Default: Medium,
		},
		Impact: ImpactConfig{
			High:    Threshold{CIs: 10, Services: 2},
			Medium:  Threshold{CIs: 3, Services: 1},
			Default: Medium,
		},
		Major: MajorConfig{Priorities: []Priority{P1}},
		Categories: []Category{
			{Name: "network", Subcategories: []string{"connectivity", "routing", "switching", "hardware", "performance"}},
			{Name: "compute", Subcategories: []string{"availability", "cpu", "memory", "disk", "hardware"}},
			{Name: "storage", Subcategories: []string{"availability", "capacity", "performance"}},
			{Name: "database", Subcategories: []string{"availability", "performance", "replication"}},
			{Name: "application", Subcategories: []string{"availability", "errors", "latency"}},
			{Name: "security", Subcategories: []string{"certificate", "access", "intrusion"}},
			{Name: "other"},
		},
		CategoryLabel:    "category",
		SubcategoryLabel: "subcategory",
		Assignment:       AssignmentConfig{DefaultLevel: L1},
		SLA: SLAConfig{
			AtRisk:          0.8,
			DefaultCalendar: Calendar24x7,
			Policies: map[string]Policy{
				"P1": {Respond: Duration(15 * time.Minute), Resolve: Duration(4 * time.Hour)},
				"P2": {Respond: Duration(30 * time.Minute), Resolve: Duration(8 * time.Hour)},
				"P3": {Respond: Duration(time.Hour), Resolve: Duration(24 * time.Hour)},
				"P4": {Respond: Duration(4 * time.Hour), Resolve: Duration(72 * time.Hour)},
				"P5": {Respond: Duration(24 * time.Hour), Resolve: Duration(7 * 24 * time.Hour)},
			},
			Major: Policy{Respond: Duration(5 * time.Minute), Resolve: Duration(2 * time.Hour)},
		},
	}
}

// Validate checks the configuration; errors name the key, e.g.
// "incident.sla.policies[P1].respond: must be positive".
func (c *Config) Validate() error {
	_, err := NewWorkflow(*c)
	return err
}

// validate checks what NewWorkflow does not compile; errors lack the
// "incident." prefix.
func (c *Config) validate() error {
	if err := checkCodes("reject_reasons", c.RejectReasons); err != nil {
		return err
	}
	if err := checkCodes("closure_codes", c.ClosureCodes); err != nil {
		return err
	}
	if err := c.PriorityMatrix.Validate(); err != nil {
		return fmt.Errorf("priority_matrix.%w", err)
	}
	for sev, u := range c.Urgency.Severity {
		if !u.valid() {
			return fmt.Errorf("urgency.severity.%s: must be high, medium or low", sev)
		}
	}
	if !c.Urgency.Default.valid() {
		return fmt.Errorf("urgency.default: must be high, medium or low")
	}
	for name, t := range map[string]Threshold{"impact.high": c.Impact.High, "impact.medium": c.Impact.Medium} {
		if t.CIs < 0 || t.Services < 0 {
			return fmt.Errorf("%s: counts must not be negative", name)
		}
	}
	if !c.Impact.Default.valid() {
		return fmt.Errorf("impact.default: must be high, medium or low")
	}
	for i, p := range c.Major.Priorities {
		if p < P1 || p > P5 {
			return fmt.Errorf("major.priorities[%d]: must be P1..P5", i)
		}
	}
	for i, p := range c.AutoConfirm.Priorities {
		if p < P1 || p > P5 {
			return fmt.Errorf("auto_confirm.priorities[%d]: must be P1..P5", i)
		}
	}
	for i, r := range c.AutoConfirm.Rules {
		if r == "" {
			return fmt.Errorf("auto_confirm.rules[%d]: must not be empty", i)
		}
	}
	if !c.Assignment.DefaultLevel.Valid() {
		return fmt.Errorf("assignment.default_level: must be L0..L4")
	}
	for k, g := range c.Assignment.LevelGroups {
		if _, err := ParseSupportLevel(k); err != nil {
			return fmt.Errorf("assignment.level_groups.%s: %w", k, err)
		}
		if g == "" {
			return fmt.Errorf("assignment.level_groups.%s: group must not be empty", k)
		}
	}
	if c.SLA.AtRisk <= 0 || c.SLA.AtRisk >= 1 {
		return fmt.Errorf("sla.at_risk: must be between 0 and 1 (exclusive), e.g. 0.8")
	}
	seen := map[string]bool{}
	for i, r := range c.EscalationRules {
		key := fmt.Sprintf("escalation_rules[%d]", i)
		switch {
		case r.Name == "":
			return fmt.Errorf("%s.name: is required", key)
		case seen[r.Name]:
			return fmt.Errorf("%s.name: duplicate rule name %q", key, r.Name)
		case (r.NotAcknowledgedWithin > 0) == (r.NotResolvedWithin > 0):
			return fmt.Errorf("%s: set exactly one of not_acknowledged_within and not_resolved_within", key)
		case r.NotAcknowledgedWithin < 0 || r.NotResolvedWithin < 0:
			return fmt.Errorf("%s: durations must not be negative", key)
		case r.Action != "" && r.Action != EscalateLevel && r.Action != EscalateNotify:
			return fmt.Errorf("%s.action: %q must be escalate or notify", key, r.Action)
		case r.ToLevel != 0 && !r.ToLevel.Valid():
			return fmt.Errorf("%s.to_level: must be L0..L4", key)
		case r.ToLevel != 0 && r.Action == EscalateNotify:
			return fmt.Errorf("%s.to_level: only applies to action escalate", key)
		}
		for j, p := range r.Priorities {
			if p < P1 || p > P5 {
				return fmt.Errorf("%s.priorities[%d]: must be P1..P5", key, j)
			}
		}
		seen[r.Name] = true
	}
	return nil
}

// checkCodes checks a list of snake_case codes.
func checkCodes(key string, codes []string) error {
	if len(codes) == 0 {
		return fmt.Errorf("%s: at least one is required", key)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !validCode(c) {
			return fmt.Errorf("%s[%d]: %q must be lower-case letters, digits and _", key, i, c)
		}
		if seen[c] {
			return fmt.Errorf("%s[%d]: duplicate %q", key, i, c)
		}
		seen[c] = true
	}
	return nil
}

func validCode(s string) bool {
	if s == "" {
		return false
	}
	for _, b := range []byte(s) {
		if !(b == '_' || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')) {
			return false
		}
	}
	return true
}

// Duration is a time.Duration that reads and writes as "15m" in YAML and
// JSON; it also reads whole days ("7d"). It is correlate.Duration's twin
// (incident imports nothing internal).
type Duration time.Duration

// ParseDuration parses a Go duration, also accepting a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return v, nil
}

// String writes "15m", "4h", "1h30m", "-2m5s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// UnmarshalYAML parses a duration string.
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

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
