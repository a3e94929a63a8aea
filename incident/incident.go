package incident

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Sentinel errors.
var (
	ErrNotFound          = errors.New("incident not found")
	ErrInvalidTransition = errors.New("invalid incident transition")
	// ErrInvalidRequest is a malformed action: a required field is missing
	// or a value is not in the configured lists (an API answers 400).
	ErrInvalidRequest = errors.New("invalid incident request")
)

// Status is an incident's lifecycle state.
type Status int

// Incident statuses (contract §5).
const (
	StatusNew Status = iota + 1
	StatusConfirmed
	StatusRejected
	StatusAcknowledged
	StatusInProgress
	StatusResolved
	StatusClosed
	StatusMerged
)

var statusNames = map[Status]string{
	StatusNew:          "new",
	StatusConfirmed:    "confirmed",
	StatusRejected:     "rejected",
	StatusAcknowledged: "acknowledged",
	StatusInProgress:   "in_progress",
	StatusResolved:     "resolved",
	StatusClosed:       "closed",
	StatusMerged:       "merged",
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusNew, StatusConfirmed, StatusRejected, StatusAcknowledged,
		StatusInProgress, StatusResolved, StatusClosed, StatusMerged}
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ParseStatus parses a status name such as "in_progress".
func ParseStatus(name string) (Status, error) {
	for s, n := range statusNames {
		if n == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown incident status %q", name)
}

// MarshalJSON writes the status name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a status name.
func (s *Status) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseStatus(name)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Open reports whether the incident still takes new alerts without reopening.
func (s Status) Open() bool {
	switch s {
	case StatusResolved, StatusClosed, StatusMerged, StatusRejected:
		return false
	}
	return true
}

// Priority is an ITIL priority, P1 (critical) to P5 (planning).
type Priority int

// Priorities.
const (
	P1 Priority = iota + 1
	P2
	P3
	P4
	P5
)

func (p Priority) String() string {
	if p < P1 || p > P5 {
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

// MarshalJSON writes "P1".."P5".
func (p Priority) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// UnmarshalJSON reads "P1".."P5".
func (p *Priority) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParsePriority(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// UnmarshalYAML reads "P1".."P5".
func (p *Priority) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParsePriority(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalYAML writes "P1".."P5".
func (p Priority) MarshalYAML() (any, error) { return p.String(), nil }

// Incident is one incident: a group of alert episodes that analysts work as one case.
type Incident struct {
	ID       string   `json:"id"`
	Seq      int64    `json:"-"`
	Status   Status   `json:"status"`
	Priority Priority `json:"priority"`
	Severity string   `json:"severity,omitempty"`
	Title    string   `json:"title"`
	// Method and Rule name how the incident was formed ("rule", "default", …).
	Method   string `json:"method"`
	Rule     string `json:"rule,omitempty"`
	GroupKey string `json:"group_key"`
	// Labels are the labels shared by the group (the group-by values).
	Labels map[string]string `json:"labels,omitempty"`

	OpenedAt   time.Time  `json:"opened_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`

	RootCauseCI string `json:"root_cause_ci,omitempty"`
	// RootCauseInferred is true when the root-cause CI raised no alert
	// itself and was inferred from its alerting dependents.
	RootCauseInferred bool `json:"root_cause_inferred,omitempty"`
	// Flapping is set while one of the incident's alerts keeps firing and
	// resolving; the incident then resolves only after a quiet hold time.
	Flapping  bool   `json:"flapping,omitempty"`
	ProblemID string `json:"problem_id,omitempty"`
	// Workaround is the known error's workaround when the incident matches one.
	Workaround string `json:"workaround,omitempty"`
	MergedInto string `json:"merged_into,omitempty"`

	// Counters kept by the correlation engine.
	AlertCount  int `json:"alert_count"`
	FiringCount int `json:"firing_count"`
	Reopens     int `json:"reopens"`
	// FirstEventAt and LastEventAt bound the event times (starts and ends)
	// of the member episodes.
	FirstEventAt time.Time `json:"first_event_at"`
	LastEventAt  time.Time `json:"last_event_at"`
	// Version increases with every change; stores keep the highest.
	Version int64 `json:"version"`

	// The analyst workflow (see Workflow). Zero values mean "not set".

	// Urgency and Impact are the ITIL inputs of Priority (see Matrix).
	Urgency Level `json:"urgency,omitempty"`
	Impact  Level `json:"impact,omitempty"`
	// Category and Subcategory come from the configured tree.
	Category    string `json:"category,omitempty"`
	Subcategory string `json:"subcategory,omitempty"`
	// Major marks a major incident: its own SLA policy and a coordinator.
	Major       bool       `json:"major,omitempty"`
	MajorAt     *time.Time `json:"major_at,omitempty"`
	Coordinator string     `json:"coordinator,omitempty"`

	// Level is the support level working the incident (L0..L4).
	Level           SupportLevel `json:"level,omitempty"`
	AssignmentGroup string       `json:"assignment_group,omitempty"`
	Assignee        string       `json:"assignee,omitempty"`
	// EscalationCount counts moves up a level; Bounces counts moves back down.
	EscalationCount int `json:"escalation_count,omitempty"`
	Bounces         int `json:"bounces,omitempty"`
	// Escalations records every escalation, manual (Rule empty) or by rule;
	// a rule that has a record here is never due again (DueEscalations).
	Escalations []EscalationRecord `json:"escalations,omitempty"`

	// DecidedBy is the actor who confirmed or rejected the incident.
	DecidedBy    string `json:"decided_by,omitempty"`
	RejectReason string `json:"reject_reason,omitempty"`
	ClosureCode  string `json:"closure_code,omitempty"`

	// Lifecycle moments, set the first time each happens (MTTA is
	// AcknowledgedAt-OpenedAt; MTTR is ResolvedAt-OpenedAt).
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
	RejectedAt     *time.Time `json:"rejected_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	StartedAt      *time.Time `json:"started_at,omitempty"`

	// Pauses stop the SLA clocks (waiting on a vendor or the customer, and
	// the time spent resolved before a reopen). The last may be open (End zero).
	Pauses []Interval `json:"pauses,omitempty"`
	// SLAMarks records which SLA warnings were already raised (CheckSLA).
	SLAMarks SLAMarks `json:"sla_marks,omitzero"`
}

// Clone returns a deep copy: the copy shares no map, slice or pointer with in,
// so it can be handed to another goroutine while the owner keeps changing in.
func (in *Incident) Clone() Incident {
	out := *in
	out.Labels = maps.Clone(in.Labels)
	out.ResolvedAt = cloneTime(in.ResolvedAt)
	out.ClosedAt = cloneTime(in.ClosedAt)
	out.MajorAt = cloneTime(in.MajorAt)
	out.ConfirmedAt = cloneTime(in.ConfirmedAt)
	out.RejectedAt = cloneTime(in.RejectedAt)
	out.AcknowledgedAt = cloneTime(in.AcknowledgedAt)
	out.StartedAt = cloneTime(in.StartedAt)
	out.Escalations = slices.Clone(in.Escalations)
	out.Pauses = slices.Clone(in.Pauses)
	out.SLAMarks = SLAMarks{
		RespondAtRisk:   cloneTime(in.SLAMarks.RespondAtRisk),
		RespondBreached: cloneTime(in.SLAMarks.RespondBreached),
		ResolveAtRisk:   cloneTime(in.SLAMarks.ResolveAtRisk),
		ResolveBreached: cloneTime(in.SLAMarks.ResolveBreached),
	}
	return out
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

// Paused reports whether the incident's SLA clocks are stopped by an open pause.
func (in *Incident) Paused() bool {
	return len(in.Pauses) > 0 && in.Pauses[len(in.Pauses)-1].End.IsZero()
}

// Validate checks the fields every stored incident must have.
func (in *Incident) Validate() error {
	switch {
	case in.ID == "":
		return errors.New("incident: id is required")
	case statusNames[in.Status] == "":
		return fmt.Errorf("incident %s: invalid status %d", in.ID, in.Status)
	case in.Priority < P1 || in.Priority > P5:
		return fmt.Errorf("incident %s: invalid priority %d", in.ID, in.Priority)
	case in.OpenedAt.IsZero():
		return fmt.Errorf("incident %s: opened_at is required", in.ID)
	}
	return nil
}

// FormatID formats an incident sequence number as "INC-000123".
func FormatID(seq int64) string { return fmt.Sprintf("INC-%06d", seq) }

// Explanation records why an alert episode joined its incident.
type Explanation struct {
	// Method is how the episode was grouped: "rule", "default", "topology",
	// "similarity", "flapping", "manual".
	Method string `json:"method"`
	Rule   string `json:"rule,omitempty"`
	// Window is the grouping window on event time.
	Window string `json:"window,omitempty"`
	// SharedLabels are the label values the episode shares with its incident.
	SharedLabels map[string]string `json:"shared_labels,omitempty"`
	CIPath       []string          `json:"ci_path,omitempty"`
	Score        float64           `json:"score"`
	// Reason is one human sentence.
	Reason string `json:"reason"`
}

// Event is one entry of an incident's append-only timeline.
type Event struct {
	IncidentID string            `json:"incident_id"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	Kind       string            `json:"kind"`
	From       string            `json:"from,omitempty"`
	To         string            `json:"to,omitempty"`
	Comment    string            `json:"comment,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
}

// Actor names for changes made by Vigia itself.
const ActorSystem = "vigia"
