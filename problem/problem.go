package problem

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ActorSystem is the actor of changes Vigia makes itself (detection,
// recurrence, re-scoring); it matches incident.ActorSystem.
const ActorSystem = "vigia"

// Problem is a (candidate) problem: the incidents of one signature, class
// or CI that keep recurring, and what the problem manager decided about them.
//
// IncidentIDs, FirstSeen, LastSeen, Series, CIs, Services and OpenTime are
// derived from Members; Detect keeps them consistent.
type Problem struct {
	// ID is "PRB-000007"; empty on a new candidate until the caller assigns
	// one (see [FormatID]).
	ID     string `json:"id"`
	Status Status `json:"status"`
	Kind   Kind   `json:"kind"`
	// SignatureKey is the Sig.Key of the signature, class or CI.
	SignatureKey string `json:"signature_key"`
	// Signature is the human text (the export's "signature").
	Signature string `json:"signature"`

	// IncidentIDs are the member incidents, in order of opening.
	IncidentIDs []string `json:"incident_ids"`
	// Members are the member incidents with what the problem's figures need.
	Members   []Member  `json:"members"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Series counts member incidents per UTC day and per ISO week.
	Series   Series   `json:"series"`
	CIs      []string `json:"cis,omitempty"`
	Services []string `json:"services,omitempty"`
	// OpenTime is the total time the member incidents were open.
	OpenTime Duration `json:"open_time"`

	// Urgency, Impact and Priority come from [Assess]; a set_priority action
	// overrides Priority and sets PriorityManual, after which re-scoring
	// updates Urgency and Impact but leaves Priority alone.
	Urgency        Level    `json:"urgency,omitzero"`
	Impact         Level    `json:"impact,omitzero"`
	Priority       Priority `json:"priority,omitzero"`
	PriorityManual bool     `json:"priority_manual,omitempty"`

	RootCause  string `json:"root_cause,omitempty"`
	Workaround string `json:"workaround,omitempty"`

	RejectReason string    `json:"reject_reason,omitempty"`
	RejectedAt   time.Time `json:"rejected_at,omitzero"`
	QuietUntil   time.Time `json:"quiet_until,omitzero"`

	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Recurrences counts the times the problem recurred after resolution;
	// RecurredAt is the latest.
	Recurrences int       `json:"recurrences,omitempty"`
	RecurredAt  time.Time `json:"recurred_at,omitzero"`

	ClosureCode ClosureCode `json:"closure_code,omitempty"`
	ClosedAt    time.Time   `json:"closed_at,omitzero"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Timeline is append-only: every change, with actor and time.
	Timeline []Event `json:"timeline"`
	// Version increases with every change; stores keep the highest.
	Version int64 `json:"version"`
}

// Member is one incident of a problem.
type Member struct {
	IncidentID string    `json:"incident_id"`
	OpenedAt   time.Time `json:"opened_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// OpenDuration is how long it was open (for an incident still open:
	// until the detection that last updated the member).
	OpenDuration Duration `json:"open_duration"`
	Priority     Priority `json:"priority,omitzero"`
	CIs          []string `json:"cis,omitempty"`
	Services     []string `json:"services,omitempty"`
}

// Series is a recurrence series: member incidents per UTC day and per ISO
// week (starting Monday 00:00 UTC). Only non-empty buckets are listed, in
// time order.
type Series struct {
	Day  []Bucket `json:"day"`
	Week []Bucket `json:"week"`
}

// Bucket is one period of a series.
type Bucket struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// Event is one entry of a problem's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Kind is the action name ("confirm", "reject", …) for actions, or one
	// of the EventXxx kinds for changes Vigia makes.
	Kind    string `json:"kind"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Data carries details: "incidents" (comma-separated ids that joined),
	// "priority", "quiet_until", …
	Data map[string]string `json:"data,omitempty"`
}

// Event kinds for changes made by Vigia itself.
const (
	EventProposed   = "proposed"        // a new candidate
	EventIncidents  = "incidents_added" // new member incidents
	EventRecurred   = "recurred"        // a resolved problem recurred and was reopened
	EventReproposed = "reproposed"      // a rejected candidate was proposed again
	EventRescored   = "rescored"        // the computed priority changed
)

// ClosureCode says how a problem ended.
type ClosureCode string

// Closure codes.
const (
	ClosureFixed           ClosureCode = "fixed"            // permanent fix applied
	ClosureWorkaround      ClosureCode = "workaround"       // accepted with the workaround only
	ClosureWontFix         ClosureCode = "wont_fix"         // the risk is accepted
	ClosureDuplicate       ClosureCode = "duplicate"        // another problem covers it
	ClosureCannotReproduce ClosureCode = "cannot_reproduce" // no cause found, stopped recurring
	ClosureObsolete        ClosureCode = "obsolete"         // the CI or service is gone
)

// ClosureCodes lists the valid closure codes.
func ClosureCodes() []ClosureCode {
	return []ClosureCode{ClosureFixed, ClosureWorkaround, ClosureWontFix, ClosureDuplicate, ClosureCannotReproduce, ClosureObsolete}
}

// Valid reports whether c is one of ClosureCodes.
func (c ClosureCode) Valid() bool { return slices.Contains(ClosureCodes(), c) }

// Action is one lifecycle action with its fields (the API's JSON body plus
// who and when).
type Action struct {
	Kind    ActionKind `json:"action"`
	Actor   string     `json:"actor"`
	At      time.Time  `json:"at"`
	Comment string     `json:"comment,omitempty"`
	// Reject: Reason is required; QuietFor 0 means Config.QuietFor.
	Reason   string   `json:"reason,omitempty"`
	QuietFor Duration `json:"quiet_for,omitempty"`
	// KnownError: both are required to enter known_error; on a known
	// error, a non-empty field replaces the recorded one.
	RootCause  string `json:"root_cause,omitempty"`
	Workaround string `json:"workaround,omitempty"`
	// Close: required.
	ClosureCode ClosureCode `json:"closure_code,omitempty"`
	// SetPriority: required, P1..P5.
	Priority Priority `json:"priority,omitzero"`
}

// Apply performs a on p: it checks the transition ([Next]) and the action's
// fields, changes p and appends one event to its timeline. On error p is
// unchanged. cfg supplies the default quiet period.
func (p *Problem) Apply(cfg Config, a Action) error {
	to, err := Next(p.Status, a.Kind)
	if err != nil {
		return err
	}
	if a.Actor == "" {
		return fmt.Errorf("%w: actor is required", ErrInvalidAction)
	}
	if a.At.IsZero() {
		return fmt.Errorf("%w: time is required", ErrInvalidAction)
	}
	ev := Event{At: a.At, Actor: a.Actor, Kind: a.Kind.String(), From: p.Status.String(), To: to.String(), Comment: a.Comment}
	switch a.Kind {
	case ActReject:
		if strings.TrimSpace(a.Reason) == "" {
			return fmt.Errorf("%w: reject: reason is required", ErrInvalidAction)
		}
		quiet := a.QuietFor
		if quiet < 0 {
			return fmt.Errorf("%w: reject: quiet_for must not be negative", ErrInvalidAction)
		}
		if quiet == 0 {
			quiet = cfg.withDefaults().QuietFor
		}
		p.RejectReason, p.RejectedAt, p.QuietUntil = a.Reason, a.At, a.At.Add(quiet.D())
		ev.Data = map[string]string{"reason": a.Reason, "quiet_until": p.QuietUntil.UTC().Format(time.RFC3339)}
	case ActKnownError:
		rc, wa := strings.TrimSpace(a.RootCause), strings.TrimSpace(a.Workaround)
		if p.Status != StatusKnownError && (rc == "" || wa == "") {
			return fmt.Errorf("%w: known_error: root_cause and workaround are required", ErrInvalidAction)
		}
		if p.Status == StatusKnownError && rc == "" && wa == "" {
			return fmt.Errorf("%w: known_error: root_cause or workaround is required", ErrInvalidAction)
		}
		if rc != "" {
			p.RootCause = rc
		}
		if wa != "" {
			p.Workaround = wa
		}
	case ActResolve:
		p.ResolvedAt = a.At
	case ActClose:
		if !a.ClosureCode.Valid() {
			return fmt.Errorf("%w: close: closure_code %q must be one of %v", ErrInvalidAction, a.ClosureCode, ClosureCodes())
		}
		p.ClosureCode, p.ClosedAt = a.ClosureCode, a.At
		ev.Data = map[string]string{"closure_code": string(a.ClosureCode)}
	case ActReopen:
		p.ResolvedAt, p.ClosedAt, p.ClosureCode = time.Time{}, time.Time{}, ""
		p.RejectReason, p.RejectedAt, p.QuietUntil = "", time.Time{}, time.Time{}
	case ActSetPriority:
		if !a.Priority.Valid() {
			return fmt.Errorf("%w: set_priority: priority must be P1..P5", ErrInvalidAction)
		}
		ev.Data = map[string]string{"from": p.Priority.String(), "priority": a.Priority.String()}
		p.Priority, p.PriorityManual = a.Priority, true
	}
	p.Status = to
	p.event(ev)
	return nil
}

// event appends e and bumps the version.
func (p *Problem) event(e Event) {
	p.Timeline = append(p.Timeline, e)
	if e.At.After(p.UpdatedAt) {
		p.UpdatedAt = e.At
	}
	p.Version++
}

// Validate checks the fields every stored problem must have.
func (p *Problem) Validate() error {
	switch {
	case p.ID == "":
		return errors.New("problem: id is required")
	case !p.Status.Valid():
		return fmt.Errorf("problem %s: invalid status %d", p.ID, p.Status)
	case !p.Kind.Valid():
		return fmt.Errorf("problem %s: invalid kind %d", p.ID, p.Kind)
	case p.SignatureKey == "":
		return fmt.Errorf("problem %s: signature_key is required", p.ID)
	case len(p.IncidentIDs) == 0:
		return fmt.Errorf("problem %s: at least one incident is required", p.ID)
	case p.LastSeen.Before(p.FirstSeen):
		return fmt.Errorf("problem %s: last_seen is before first_seen", p.ID)
	case p.Priority != 0 && !p.Priority.Valid():
		return fmt.Errorf("problem %s: invalid priority %d", p.ID, p.Priority)
	case p.Status == StatusRejected && p.RejectReason == "":
		return fmt.Errorf("problem %s: rejected without reason", p.ID)
	case p.Status == StatusKnownError && p.Workaround == "":
		return fmt.Errorf("problem %s: known error without workaround", p.ID)
	case p.Status == StatusClosed && !p.ClosureCode.Valid():
		return fmt.Errorf("problem %s: closed without a valid closure code", p.ID)
	}
	return nil
}

// HasWorkaround reports whether the problem hands a workaround to new
// matching incidents: a known error, or a confirmed problem with one.
func (p *Problem) HasWorkaround() bool {
	return p.Workaround != "" && (p.Status == StatusKnownError || p.Status == StatusConfirmed)
}

// FormatID formats a problem sequence number as "PRB-000007".
func FormatID(seq int64) string { return fmt.Sprintf("PRB-%06d", seq) }

// Clone returns a deep copy of p.
func (p Problem) Clone() Problem {
	p.IncidentIDs = slices.Clone(p.IncidentIDs)
	p.Members = slices.Clone(p.Members)
	for i := range p.Members {
		p.Members[i].CIs = slices.Clone(p.Members[i].CIs)
		p.Members[i].Services = slices.Clone(p.Members[i].Services)
	}
	p.Series.Day = slices.Clone(p.Series.Day)
	p.Series.Week = slices.Clone(p.Series.Week)
	p.CIs = slices.Clone(p.CIs)
	p.Services = slices.Clone(p.Services)
	p.Timeline = slices.Clone(p.Timeline)
	for i := range p.Timeline {
		if d := p.Timeline[i].Data; d != nil {
			m := make(map[string]string, len(d))
			for k, v := range d {
				m[k] = v
			}
			p.Timeline[i].Data = m
		}
	}
	return p
}

// Refresh recomputes the derived fields (IncidentIDs, FirstSeen, LastSeen,
// Series, CIs, Services, OpenTime) from Members, sorting them by opening.
// Incidents listed in IncidentIDs without a Member stay listed, last.
func (p *Problem) Refresh() {
	slices.SortFunc(p.Members, func(a, b Member) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(a.IncidentID, b.IncidentID)
	})
	old := p.IncidentIDs
	p.IncidentIDs = make([]string, 0, max(len(p.Members), len(old)))
	p.Series = Series{}
	var open time.Duration
	var cis, svcs []string
	for i := range p.Members {
		m := &p.Members[i]
		p.IncidentIDs = append(p.IncidentIDs, m.IncidentID)
		open += m.OpenDuration.D()
		cis = append(cis, m.CIs...)
		svcs = append(svcs, m.Services...)
		t := m.OpenedAt.UTC()
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		week := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		p.Series.Day = addBucket(p.Series.Day, day)
		p.Series.Week = addBucket(p.Series.Week, week)
	}
	if len(old) > 0 {
		// Keep the listed incidents that have no member details, after the others.
		listed := make(map[string]struct{}, len(p.Members))
		for i := range p.Members {
			listed[p.Members[i].IncidentID] = struct{}{}
		}
		for _, id := range old {
			if _, ok := listed[id]; !ok {
				listed[id] = struct{}{}
				p.IncidentIDs = append(p.IncidentIDs, id)
			}
		}
	}
	if n := len(p.Members); n > 0 {
		p.FirstSeen, p.LastSeen = p.Members[0].OpenedAt, p.Members[n-1].OpenedAt
	}
	slices.Sort(cis)
	slices.Sort(svcs)
	p.CIs, p.Services = slices.Compact(cis), slices.Compact(svcs)
	p.OpenTime = Duration(open)
}

// addBucket counts one at start; starts arrive in non-decreasing order.
func addBucket(bs []Bucket, start time.Time) []Bucket {
	if n := len(bs); n > 0 && bs[n-1].Start.Equal(start) {
		bs[n-1].Count++
		return bs
	}
	return append(bs, Bucket{Start: start, Count: 1})
}

// Rescore recomputes urgency, impact and (unless set manually) priority with
// [Assess] and reports whether any of them changed.
func (p *Problem) Rescore(window time.Duration, now time.Time) bool {
	a := Assess(p.Members, window, now)
	changed := a.Urgency != p.Urgency || a.Impact != p.Impact
	p.Urgency, p.Impact = a.Urgency, a.Impact
	if !p.PriorityManual && a.Priority != p.Priority {
		p.Priority, changed = a.Priority, true
	}
	return changed
}
