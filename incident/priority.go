package incident

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Level is a point on ITIL's three-point urgency and impact scales:
// High (1), Medium (2), Low (3). The zero value means "not set".
type Level int

// Levels of urgency and impact.
const (
	High Level = iota + 1
	Medium
	Low
)

// Urgency is how fast the business needs the fault fixed (from severity).
type Urgency = Level

// Impact is how much of the business the fault touches (from the number of
// affected configuration items and business services).
type Impact = Level

var levelNames = map[Level]string{High: "high", Medium: "medium", Low: "low"}

func (l Level) String() string {
	if n, ok := levelNames[l]; ok {
		return n
	}
	if l == 0 {
		return ""
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// ParseLevel parses "high", "medium" or "low".
func ParseLevel(s string) (Level, error) {
	for l, n := range levelNames {
		if strings.EqualFold(n, s) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q: want high, medium or low", s)
}

// MarshalJSON writes the level name.
func (l Level) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// UnmarshalJSON reads a level name.
func (l *Level) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseLevel(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalYAML reads a level name.
func (l *Level) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseLevel(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// MarshalYAML writes the level name.
func (l Level) MarshalYAML() (any, error) { return l.String(), nil }

func (l Level) valid() bool { return l >= High && l <= Low }

// MatrixRow gives the priority for each impact at one urgency.
type MatrixRow struct {
	High   Priority `yaml:"high" json:"high"`
	Medium Priority `yaml:"medium" json:"medium"`
	Low    Priority `yaml:"low" json:"low"`
}

func (r MatrixRow) get(i Impact) Priority {
	switch i {
	case High:
		return r.High
	case Medium:
		return r.Medium
	}
	return r.Low
}

// Matrix is the ITIL priority matrix, urgency (rows) by impact (columns),
// configured as incident.priority_matrix:
//
//	priority_matrix:
//	  high:   {high: P1, medium: P2, low: P3}   # urgency high
//	  medium: {high: P2, medium: P3, low: P4}
//	  low:    {high: P3, medium: P4, low: P5}
type Matrix struct {
	High   MatrixRow `yaml:"high" json:"high"`
	Medium MatrixRow `yaml:"medium" json:"medium"`
	Low    MatrixRow `yaml:"low" json:"low"`
}

// DefaultMatrix returns the standard ITIL 3x3 matrix.
func DefaultMatrix() Matrix {
	return Matrix{
		High:   MatrixRow{High: P1, Medium: P2, Low: P3},
		Medium: MatrixRow{High: P2, Medium: P3, Low: P4},
		Low:    MatrixRow{High: P3, Medium: P4, Low: P5},
	}
}

// Priority looks up urgency u and impact i. A level that is not set counts
// as Medium.
func (m Matrix) Priority(u Urgency, i Impact) Priority {
	if !u.valid() {
		u = Medium
	}
	if !i.valid() {
		i = Medium
	}
	switch u {
	case High:
		return m.High.get(i)
	case Medium:
		return m.Medium.get(i)
	}
	return m.Low.get(i)
}

// Validate checks that every cell holds P1..P5 and that the matrix is
// monotonic: a higher urgency or impact never gives a lower priority.
func (m Matrix) Validate() error {
	levels := []Level{High, Medium, Low}
	for _, u := range levels {
		for _, i := range levels {
			p := m.Priority(u, i)
			if p < P1 || p > P5 {
				return fmt.Errorf("%s.%s: must be P1..P5", u, i)
			}
			if u > High {
				if up := m.Priority(u-1, i); up > p {
					return fmt.Errorf("%s.%s: %s ranks above %s.%s (%s)", u, i, p, u-1, i, up)
				}
			}
			if i > High {
				if ip := m.Priority(u, i-1); ip > p {
					return fmt.Errorf("%s.%s: %s ranks above %s.%s (%s)", u, i, p, u, i-1, ip)
				}
			}
		}
	}
	return nil
}

// UrgencyConfig derives urgency from the severity label.
type UrgencyConfig struct {
	// Severity maps a severity value (matched case-insensitively) to an urgency.
	Severity map[string]Level `yaml:"severity" json:"severity"`
	// Default is the urgency of unknown or missing severities.
	Default Level `yaml:"default" json:"default"`
}

// Urgency returns the urgency of a severity value.
func (c UrgencyConfig) Urgency(severity string) Urgency {
	if u, ok := c.Severity[strings.ToLower(severity)]; ok && u.valid() {
		return u
	}
	for k, u := range c.Severity {
		if strings.EqualFold(k, severity) && u.valid() {
			return u
		}
	}
	if c.Default.valid() {
		return c.Default
	}
	return Medium
}

// Threshold is reached when either count is at least its value; a zero
// value does not take part.
type Threshold struct {
	CIs      int `yaml:"cis" json:"cis,omitempty"`
	Services int `yaml:"services" json:"services,omitempty"`
}

func (t Threshold) reached(cis, services int) bool {
	return (t.CIs > 0 && cis >= t.CIs) || (t.Services > 0 && services >= t.Services)
}

// ImpactConfig derives impact from how many configuration items and
// business services an incident affects (from the topology when present).
type ImpactConfig struct {
	High   Threshold `yaml:"high" json:"high"`
	Medium Threshold `yaml:"medium" json:"medium"`
	// Default is the impact when neither count is known (both zero).
	Default Level `yaml:"default" json:"default"`
}

// Impact returns High when the High threshold is reached, else Medium when
// the Medium one is, else Low; Default when both counts are zero.
func (c ImpactConfig) Impact(cis, services int) Impact {
	switch {
	case cis <= 0 && services <= 0:
		if c.Default.valid() {
			return c.Default
		}
		return Medium
	case c.High.reached(cis, services):
		return High
	case c.Medium.reached(cis, services):
		return Medium
	}
	return Low
}

// SupportLevel is the support tier working an incident, L0 (self-service
// and automation) to L4 (vendor). The zero value means "not set"; use the
// constants, not the numbers.
type SupportLevel int

// Support levels.
const (
	L0 SupportLevel = iota + 1
	L1
	L2
	L3
	L4
)

// SupportLevels lists L0..L4.
func SupportLevels() []SupportLevel { return []SupportLevel{L0, L1, L2, L3, L4} }

func (l SupportLevel) String() string {
	if l >= L0 && l <= L4 {
		return fmt.Sprintf("L%d", int(l-L0))
	}
	if l == 0 {
		return ""
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Valid reports whether l is one of L0..L4.
func (l SupportLevel) Valid() bool { return l >= L0 && l <= L4 }

// ParseSupportLevel parses "L0".."L4".
func ParseSupportLevel(s string) (SupportLevel, error) {
	if len(s) == 2 && (s[0] == 'L' || s[0] == 'l') && s[1] >= '0' && s[1] <= '4' {
		return L0 + SupportLevel(s[1]-'0'), nil
	}
	return 0, fmt.Errorf("unknown support level %q: want L0..L4", s)
}

// MarshalJSON writes "L0".."L4".
func (l SupportLevel) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// UnmarshalJSON reads "L0".."L4"; an empty string is "not set".
func (l *SupportLevel) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*l = 0
		return nil
	}
	v, err := ParseSupportLevel(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalYAML reads "L0".."L4".
func (l *SupportLevel) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseSupportLevel(s)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// MarshalYAML writes "L0".."L4".
func (l SupportLevel) MarshalYAML() (any, error) { return l.String(), nil }
