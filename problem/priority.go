package problem

import (
	"fmt"
	"time"
)

// Priority is an ITIL priority, P1 (critical) to P5 (planning). It reads and
// writes as "P1".."P5"; the zero value means unknown and writes as "".
// Its numbers match incident.Priority, so the caller converts with
// problem.Priority(inc.Priority).
type Priority int

// Priorities.
const (
	P1 Priority = iota + 1
	P2
	P3
	P4
	P5
)

// Valid reports whether p is P1..P5.
func (p Priority) Valid() bool { return p >= P1 && p <= P5 }

func (p Priority) String() string {
	if p == 0 {
		return ""
	}
	if !p.Valid() {
		return fmt.Sprintf("priority(%d)", int(p))
	}
	return fmt.Sprintf("P%d", int(p))
}

// ParsePriority parses "P1".."P5".
func ParsePriority(s string) (Priority, error) {
	if len(s) == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '5' {
		return Priority(s[1] - '0'), nil
	}
	return 0, fmt.Errorf("unknown priority %q: want P1..P5", s)
}

// MarshalText writes "P1".."P5", or "" for unknown.
func (p Priority) MarshalText() ([]byte, error) {
	if p != 0 && !p.Valid() {
		return nil, fmt.Errorf("invalid priority %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads "P1".."P5" ("" is unknown).
func (p *Priority) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = 0
		return nil
	}
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Level is an urgency or impact level: high, medium or low.
type Level int

// Levels. The numbers add up in the priority matrix (see [PriorityOf]).
const (
	High Level = iota + 1
	Medium
	Low
)

var levelNames = [...]string{High: "high", Medium: "medium", Low: "low"}

func (l Level) String() string {
	if l >= High && l <= Low {
		return levelNames[l]
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// MarshalText writes "high", "medium" or "low" ("" for unset).
func (l Level) MarshalText() ([]byte, error) {
	if l == 0 {
		return []byte{}, nil
	}
	if l < High || l > Low {
		return nil, fmt.Errorf("invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads "high", "medium" or "low".
func (l *Level) UnmarshalText(b []byte) error {
	for v := High; v <= Low; v++ {
		if levelNames[v] == string(b) {
			*l = v
			return nil
		}
	}
	if len(b) == 0 {
		*l = 0
		return nil
	}
	return fmt.Errorf("unknown level %q: want high, medium or low", b)
}

// PriorityOf is the ITIL urgency x impact matrix:
//
//	            impact high  medium  low
//	urgency high        P1      P2   P3
//	        medium      P2      P3   P4
//	        low         P3      P4   P5
func PriorityOf(urgency, impact Level) Priority {
	u, i := clampLevel(urgency), clampLevel(impact)
	return Priority(int(u) + int(i) - 1)
}

func clampLevel(l Level) Level {
	if l < High || l > Low {
		return Low
	}
	return l
}

// Assessment is the computed urgency, impact and priority of a problem, with
// the figures they come from.
type Assessment struct {
	Urgency  Level    `json:"urgency"`
	Impact   Level    `json:"impact"`
	Priority Priority `json:"priority"`
	// PerWeek is the member incidents opened in the window ending at the
	// assessment time, scaled to a week.
	PerWeek float64 `json:"per_week"`
	// Worst is the highest priority among the member incidents (0: none known).
	Worst Priority `json:"worst_incident_priority,omitempty"`
	// Services and CIs count what the member incidents touched.
	Services int `json:"services"`
	CIs      int `json:"cis"`
}

// Assess scores a problem from its member incidents. It is the one scoring
// function: Detect, the re-scoring job and the tests all call it.
//
// Urgency comes from frequency, the members opened in (now-window, now]
// scaled to a week: high at 3.5 or more a week (every other day or more
// often), medium at 1 or more, low below.
//
// Impact comes from the member incidents' priorities: high when any was P1
// or P2, medium when the worst was P3, low otherwise (P4, P5 or unknown);
// it rises one level when the members touched 3 or more services or 5 or
// more CIs.
//
// The priority is [PriorityOf](urgency, impact).
func Assess(members []Member, window time.Duration, now time.Time) Assessment {
	if window <= 0 {
		window = 14 * 24 * time.Hour
	}
	var a Assessment
	recent := 0
	from := now.Add(-window)
	services, cis := map[string]struct{}{}, map[string]struct{}{}
	for i := range members {
		m := &members[i]
		if m.OpenedAt.After(from) && !m.OpenedAt.After(now) {
			recent++
		}
		if m.Priority.Valid() && (a.Worst == 0 || m.Priority < a.Worst) {
			a.Worst = m.Priority
		}
		for _, s := range m.Services {
			services[s] = struct{}{}
		}
		for _, c := range m.CIs {
			cis[c] = struct{}{}
		}
	}
	a.Services, a.CIs = len(services), len(cis)
	a.PerWeek = float64(recent) * float64(7*24*time.Hour) / float64(window)
	switch {
	case a.PerWeek >= 3.5:
		a.Urgency = High
	case a.PerWeek >= 1:
		a.Urgency = Medium
	default:
		a.Urgency = Low
	}
	switch {
	case a.Worst == P1 || a.Worst == P2:
		a.Impact = High
	case a.Worst == P3:
		a.Impact = Medium
	default:
		a.Impact = Low
	}
	if a.Impact > High && (a.Services >= 3 || a.CIs >= 5) {
		a.Impact--
	}
	a.Priority = PriorityOf(a.Urgency, a.Impact)
	return a
}
