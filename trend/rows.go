package trend

import (
	"time"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
)

// IncidentRow is what the trends need of one incident: its latest version,
// flattened. Zero times mean "not (yet)". [RowOf] builds it from an
// incident; a store may keep these columns itself.
type IncidentRow struct {
	ID        string
	Status    incident.Status
	Priority  incident.Priority
	Severity  string
	Method    string
	Rule      string
	Service   string
	CI        string
	Category  string
	Level     incident.SupportLevel
	Group     string
	Assignee  string
	DecidedBy string

	OpenedAt       time.Time
	UpdatedAt      time.Time
	ConfirmedAt    time.Time
	RejectedAt     time.Time
	AcknowledgedAt time.Time
	ResolvedAt     time.Time
	ClosedAt       time.Time
	// RespondBreachedAt and ResolveBreachedAt are the breach moments the
	// SLA job recorded (SLAMarks).
	RespondBreachedAt time.Time
	ResolveBreachedAt time.Time

	Reopens         int
	EscalationCount int
	Bounces         int
	// Holds are the incident's pauses (waiting on a vendor or the
	// customer), without the time it spent resolved before a reopen.
	Holds []incident.Interval
	// ReopenedAt are the moments a resolved incident was reopened (from
	// its timeline, see [ReopenMoment]); a store returns at least those in
	// the range it is asked for.
	ReopenedAt []time.Time
}

// pauseResolved is the reason of the pause a reopen adds for the time the
// incident spent resolved (incident.Workflow.Apply).
const pauseResolved = "resolved"

// RowOf flattens an incident, without ReopenedAt (which comes from the
// timeline). Times are in UTC.
func RowOf(in *incident.Incident) IncidentRow {
	r := IncidentRow{
		ID: in.ID, Status: in.Status, Priority: in.Priority, Severity: in.Severity,
		Method: in.Method, Rule: in.Rule, Service: in.Labels["service"], CI: in.RootCauseCI,
		Category: in.Category, Level: in.Level, Group: in.AssignmentGroup, Assignee: in.Assignee,
		DecidedBy: in.DecidedBy,
		OpenedAt:  in.OpenedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC(),
		ConfirmedAt: at(in.ConfirmedAt), RejectedAt: at(in.RejectedAt), AcknowledgedAt: at(in.AcknowledgedAt),
		ResolvedAt: at(in.ResolvedAt), ClosedAt: at(in.ClosedAt),
		RespondBreachedAt: at(in.SLAMarks.RespondBreached), ResolveBreachedAt: at(in.SLAMarks.ResolveBreached),
		Reopens: in.Reopens, EscalationCount: in.EscalationCount, Bounces: in.Bounces,
	}
	if r.CI == "" {
		r.CI = in.Labels["ci"]
	}
	for _, p := range in.Pauses {
		if p.Reason == pauseResolved {
			continue
		}
		p.Start = p.Start.UTC()
		if !p.End.IsZero() {
			p.End = p.End.UTC()
		}
		r.Holds = append(r.Holds, p)
	}
	return r
}

func at(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// ReopenMoment reports whether a timeline event reopens a resolved
// incident (an analyst's reopen or the automatic one when its alerts fire
// again), and when. Undoing a rejection is not a reopen.
func ReopenMoment(ev incident.Event) (time.Time, bool) {
	if ev.Kind != incident.KindReopened || ev.From != incident.StatusResolved.String() {
		return time.Time{}, false
	}
	return ev.At.UTC(), true
}

// EndedAt is when the incident stopped being open, as far as its latest
// version tells: its resolution (resolved, closed), its rejection, or its
// last update (merged); zero while it is open. An incident resolved and
// later reopened counts as open from its opening until its last resolution.
func (r *IncidentRow) EndedAt() time.Time {
	if r.Status.Open() {
		return time.Time{}
	}
	var t time.Time
	switch r.Status {
	case incident.StatusResolved, incident.StatusClosed:
		t = first(r.ResolvedAt, r.ClosedAt)
	case incident.StatusRejected:
		t = r.RejectedAt
	}
	if t.IsZero() {
		t = r.UpdatedAt
	}
	if t.Before(r.OpenedAt) {
		t = r.OpenedAt
	}
	return t
}

// first returns the first non-zero time.
func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// LastMoment is the latest time the row records: a store that is asked for
// the rows of [from, to) must return every row opened before to whose
// LastMoment is at or after from, and every row still open.
func (r *IncidentRow) LastMoment() time.Time {
	last := r.OpenedAt
	for _, t := range []time.Time{r.UpdatedAt, r.ConfirmedAt, r.RejectedAt, r.AcknowledgedAt, r.ResolvedAt,
		r.ClosedAt, r.RespondBreachedAt, r.ResolveBreachedAt} {
		if t.After(last) {
			last = t
		}
	}
	for _, h := range r.Holds {
		if h.Start.After(last) {
			last = h.Start
		}
		if h.End.After(last) {
			last = h.End
		}
	}
	for _, t := range r.ReopenedAt {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// relevant reports whether the row can count in [from, to).
func (r *IncidentRow) relevant(from, to time.Time) bool {
	return r.OpenedAt.Before(to) && (r.Status.Open() || !r.LastMoment().Before(from))
}

// openAt reports whether the incident was open just before end: opened
// before it and not ended before it.
func (r *IncidentRow) openAt(end time.Time) bool {
	if !r.OpenedAt.Before(end) {
		return false
	}
	e := r.EndedAt()
	return e.IsZero() || !e.Before(end)
}

// heldAt reports whether a hold (pause) was running just before end.
func (r *IncidentRow) heldAt(end time.Time) bool {
	for _, h := range r.Holds {
		if h.Start.Before(end) && (h.End.IsZero() || !h.End.Before(end)) {
			return true
		}
	}
	return false
}

// Activity is what the correlation engine counted, per UTC day of
// processing (correlate.Stats by the day of the batch's clock).
type Activity struct {
	// Since is when the store started counting per day; zero when it
	// always did. Days before it are unknown, not zero.
	Since time.Time
	// Days are the days with counts, in order; a missing day counted nothing.
	Days []DayCount
}

// DayCount is one day of Activity.
type DayCount struct {
	Day        time.Time // midnight UTC
	Deliveries int64
	Alerts     int64
	// Repeats are notifications of an episode already known; Alerts -
	// Repeats are new episodes.
	Repeats int64
	// Suppressed are new episodes that a suppression kept out of incidents.
	Suppressed int64
}

// FeedbackRow is one analyst decision or correction (correlate.Feedback)
// recorded against the method and rule that grouped the incident.
type FeedbackRow struct {
	At         time.Time
	Actor      string
	IncidentID string
	Method     string
	Rule       string
	// Decision is confirm, reject, merge or move.
	Decision string
	// Alerts is how many alerts a merge or move moved.
	Alerts int
}

// Feedback decisions.
const (
	DecisionConfirm = "confirm"
	DecisionReject  = "reject"
	DecisionMerge   = "merge"
	DecisionMove    = "move"
)

// Data is the rows a query needs (see [Query.Needs]).
type Data struct {
	Incidents []IncidentRow
	Activity  Activity
	Feedback  []FeedbackRow
	Problems  []problem.Problem
}
