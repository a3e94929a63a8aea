package incident

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Workflow is the compiled Config: it applies analyst actions and system
// triggers to incidents, prioritises and categorises them, and evaluates
// their SLAs and escalation rules.
//
// A Workflow is immutable and safe for concurrent use. Its methods that
// take an *Incident change only that incident and do no I/O; the caller
// (the correlation engine, which owns live incidents) serialises access to
// it and persists the result. No method touches UpdatedAt or Version: the
// owner does.
type Workflow struct {
	cfg         Config
	rejects     map[string]bool
	codes       map[string]bool
	categories  *Categories
	calendars   map[string]Calendar
	policies    map[Priority]Policy
	major       Policy
	levelGroups map[SupportLevel]string
}

// NewWorkflow validates and compiles cfg. Errors name the key, e.g.
// "incident.sla.policies[P1].respond: must be positive".
func NewWorkflow(cfg Config) (*Workflow, error) {
	w, err := newWorkflow(cfg)
	if err != nil {
		return nil, fmt.Errorf("incident.%w", err)
	}
	return w, nil
}

func newWorkflow(cfg Config) (*Workflow, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := &Workflow{
		cfg:         cfg,
		rejects:     map[string]bool{},
		codes:       map[string]bool{},
		calendars:   map[string]Calendar{Calendar24x7: {Name: Calendar24x7}},
		policies:    map[Priority]Policy{},
		levelGroups: map[SupportLevel]string{},
	}
	for _, r := range cfg.RejectReasons {
		w.rejects[r] = true
	}
	for _, c := range cfg.ClosureCodes {
		w.codes[c] = true
	}
	var err error
	if w.categories, err = NewCategories(cfg.Categories, cfg.CategoryRules, cfg.CategoryLabel, cfg.SubcategoryLabel); err != nil {
		return nil, err
	}
	for k, g := range cfg.Assignment.LevelGroups {
		l, _ := ParseSupportLevel(k)
		w.levelGroups[l] = g
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.SLA.Calendars)) {
		if name == "" || name == Calendar24x7 {
			return nil, fmt.Errorf("sla.calendars.%s: the name is reserved", name)
		}
		c, err := cfg.SLA.Calendars[name].Compile(name)
		if err != nil {
			return nil, fmt.Errorf("sla.calendars.%s.%w", name, err)
		}
		w.calendars[name] = c
	}
	if _, ok := w.calendars[cfg.SLA.DefaultCalendar]; !ok {
		return nil, fmt.Errorf("sla.default_calendar: unknown calendar %q", cfg.SLA.DefaultCalendar)
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.SLA.Policies)) {
		p, err := ParsePriority(k)
		if err != nil {
			return nil, fmt.Errorf("sla.policies[%s]: %w", k, err)
		}
		if w.policies[p], err = w.compilePolicy(cfg.SLA.Policies[k]); err != nil {
			return nil, fmt.Errorf("sla.policies[%s].%w", k, err)
		}
	}
	for p := P1; p <= P5; p++ {
		if _, ok := w.policies[p]; !ok {
			return nil, fmt.Errorf("sla.policies[%s]: is required", p)
		}
	}
	if w.major, err = w.compilePolicy(cfg.SLA.Major); err != nil {
		return nil, fmt.Errorf("sla.major.%w", err)
	}
	return w, nil
}

func (w *Workflow) compilePolicy(p Policy) (Policy, error) {
	switch {
	case p.Respond <= 0:
		return p, errors.New("respond: must be positive")
	case p.Resolve <= 0:
		return p, errors.New("resolve: must be positive")
	case p.Respond > p.Resolve:
		return p, errors.New("respond: must not exceed resolve")
	case p.AtRisk < 0 || p.AtRisk >= 1:
		return p, errors.New("at_risk: must be between 0 and 1 (exclusive), or 0 for sla.at_risk")
	}
	if p.AtRisk == 0 {
		p.AtRisk = w.cfg.SLA.AtRisk
	}
	if p.Calendar == "" {
		p.Calendar = w.cfg.SLA.DefaultCalendar
	}
	if _, ok := w.calendars[p.Calendar]; !ok {
		return p, fmt.Errorf("calendar: unknown calendar %q", p.Calendar)
	}
	return p, nil
}

// Config returns the configuration the workflow was built from.
func (w *Workflow) Config() Config { return w.cfg }

// Categories returns the compiled category tree.
func (w *Workflow) Categories() *Categories { return w.categories }

// Calendar returns a calendar by name ("24x7" is built in).
func (w *Workflow) Calendar(name string) (Calendar, bool) {
	c, ok := w.calendars[name]
	return c, ok
}

// Priority returns the priority, urgency and impact of an incident whose
// highest severity is severity and which affects cis configuration items
// and services business services (0 and 0 when unknown).
func (w *Workflow) Priority(severity string, cis, services int) (Priority, Urgency, Impact) {
	u := w.cfg.Urgency.Urgency(severity)
	i := w.cfg.Impact.Impact(cis, services)
	return w.cfg.PriorityMatrix.Priority(u, i), u, i
}

// Request is one analyst action. An API decodes the JSON body into it and
// sets Action, Actor and At itself.
type Request struct {
	Action Action    `json:"-"`
	Actor  string    `json:"-"`
	At     time.Time `json:"-"`
	// Comment is optional on every action; comment requires it, and so
	// does reject with reason "other".
	Comment string `json:"comment,omitempty"`
	// Reason is required by reject (one of reject_reasons).
	Reason string `json:"reason,omitempty"`
	// ClosureCode is required by resolve, and by close when resolve left none.
	ClosureCode string `json:"closure_code,omitempty"`
	// Group, Assignee and Level: assign takes at least one; escalate takes
	// an optional Level (above the current one) and Group.
	Group    string       `json:"group,omitempty"`
	Assignee string       `json:"assignee,omitempty"`
	Level    SupportLevel `json:"level,omitempty"`
	// Into is the target incident of merge (required) and move (optional:
	// without it the caller opens a new incident).
	Into string `json:"into,omitempty"`
	// Alerts are the fingerprints move takes out of the incident.
	Alerts []string `json:"alerts,omitempty"`
	// Category (required) and Subcategory for categorize.
	Category    string `json:"category,omitempty"`
	Subcategory string `json:"subcategory,omitempty"`
	// Coordinator for declare_major.
	Coordinator string `json:"coordinator,omitempty"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}

// Apply applies an analyst action to in and returns the timeline events to
// append. On error in is unchanged; the error wraps ErrInvalidTransition
// (the action is not allowed now: 409, answer in.Allowed()) or
// ErrInvalidRequest (a field is missing or unknown: 400).
//
// Besides the status (Next), Apply keeps the workflow fields:
//
//   - confirm sets ConfirmedAt and DecidedBy; reject sets RejectReason,
//     RejectedAt and DecidedBy.
//   - acknowledge sets AcknowledgedAt (the first time only, for MTTA) and
//     makes the actor the assignee when there is none; start sets StartedAt.
//   - resolve sets ResolvedAt and ClosureCode; close sets ClosedAt.
//   - reopen of a resolved incident clears ResolvedAt and ClosureCode,
//     counts Reopens, and adds the time spent resolved to Pauses so that the
//     SLA clocks do not count it; reopen of a rejected one clears the decision.
//   - assign sets group, assignee and level; a higher level counts as an
//     escalation (EscalationCount), a lower one as a bounce (Bounces). A new
//     group without an assignee clears the assignee.
//   - escalate moves up one level (or to Level), assigns the level's group
//     from assignment.level_groups (or Group), counts and records it.
//   - merge sets MergedInto; move only records (the caller moves the alerts,
//     and checks targets with ValidTarget).
//   - resolve and merge end an open pause.
func (w *Workflow) Apply(in *Incident, r Request) ([]Event, error) {
	if r.Actor == "" {
		return nil, invalid("actor is required")
	}
	if r.At.IsZero() {
		return nil, invalid("time is required")
	}
	to, err := Next(in.Status, r.Action)
	if err != nil {
		return nil, err
	}
	if err := in.check(r.Action); err != nil {
		return nil, err
	}
	if err := w.checkRequest(in, r); err != nil {
		return nil, err
	}

	from, at := in.Status, r.At
	ev := Event{IncidentID: in.ID, At: at, Actor: r.Actor, Kind: r.Action.Kind(), Comment: r.Comment,
		Data: map[string]string{}}
	if to != from {
		ev.From, ev.To = from.String(), to.String()
	}
	switch r.Action {
	case ActionConfirm:
		setOnce(&in.ConfirmedAt, at)
		in.DecidedBy = r.Actor
	case ActionReject:
		in.RejectReason = r.Reason
		in.RejectedAt = &at
		in.DecidedBy = r.Actor
		ev.Data["reason"] = r.Reason
	case ActionAcknowledge:
		setOnce(&in.AcknowledgedAt, at)
		if in.Assignee == "" && r.Actor != ActorSystem {
			in.Assignee = r.Actor
			ev.Data["assignee"] = r.Actor
		}
	case ActionStart:
		setOnce(&in.StartedAt, at)
	case ActionResolve:
		in.ResolvedAt = &at
		in.ClosureCode = r.ClosureCode
		ev.Data["closure_code"] = r.ClosureCode
	case ActionClose:
		if r.ClosureCode != "" {
			in.ClosureCode = r.ClosureCode
		}
		in.ClosedAt = &at
		ev.Data["closure_code"] = in.ClosureCode
	case ActionReopen:
		if from == StatusRejected {
			ev.Data["reason"] = in.RejectReason
			in.RejectReason, in.RejectedAt, in.DecidedBy = "", nil, ""
		} else {
			in.reopen(at)
			setOnce(&in.ConfirmedAt, at)
		}
	case ActionMerge:
		in.MergedInto = r.Into
		ev.Data["into"] = r.Into
	case ActionMove:
		ev.Data["alerts"] = strconv.Itoa(len(r.Alerts))
		if r.Into != "" {
			ev.Data["into"] = r.Into
		}
	case ActionAssign:
		w.assign(in, r, ev.Data)
	case ActionEscalate:
		target := r.Level
		if target == 0 {
			target = w.level(in) + 1
		}
		w.raise(in, target, r.Group, r.Actor, "", at, ev.Data)
	case ActionCategorize:
		in.Category, in.Subcategory = r.Category, r.Subcategory
		ev.Data["category"], ev.Data["subcategory"] = r.Category, r.Subcategory
	case ActionDeclareMajor:
		in.Major = true
		setOnce(&in.MajorAt, at)
		if r.Coordinator != "" {
			in.Coordinator = r.Coordinator
			ev.Data["coordinator"] = r.Coordinator
		}
	case ActionPause:
		in.Pauses = append(in.Pauses, Interval{Start: at, Reason: r.Comment})
	case ActionResume:
		in.endPause(at)
	}
	in.Status = to
	if to == StatusResolved || to == StatusMerged {
		in.endPause(at)
	}
	if len(ev.Data) == 0 {
		ev.Data = nil
	}
	return append([]Event{ev}, majorReview(in, from, at)...), nil
}

// majorReview returns the review record a major incident needs once resolved.
func majorReview(in *Incident, from Status, at time.Time) []Event {
	if !in.Major || in.Status != StatusResolved || from == StatusResolved {
		return nil
	}
	return []Event{{IncidentID: in.ID, At: at, Actor: ActorSystem, Kind: KindMajorReviewDue,
		Comment: "major incident resolved: a post-incident review is due (record it as a comment)"}}
}

// checkRequest checks the fields an action needs, before anything changes.
func (w *Workflow) checkRequest(in *Incident, r Request) error {
	switch r.Action {
	case ActionReject:
		if !w.rejects[r.Reason] {
			return invalid("reason %q must be one of %v", r.Reason, w.cfg.RejectReasons)
		}
		if r.Reason == "other" && r.Comment == "" {
			return invalid("reason \"other\" needs a comment")
		}
	case ActionResolve:
		if !w.codes[r.ClosureCode] {
			return invalid("closure_code %q must be one of %v", r.ClosureCode, w.cfg.ClosureCodes)
		}
	case ActionClose:
		if r.ClosureCode == "" && in.ClosureCode == "" {
			return invalid("closure_code is required: the incident was resolved without one")
		}
		if r.ClosureCode != "" && !w.codes[r.ClosureCode] {
			return invalid("closure_code %q must be one of %v", r.ClosureCode, w.cfg.ClosureCodes)
		}
	case ActionComment:
		if r.Comment == "" {
			return invalid("comment is required")
		}
	case ActionMerge:
		if r.Into == "" {
			return invalid("into is required")
		}
		if r.Into == in.ID {
			return invalid("cannot merge %s into itself", in.ID)
		}
	case ActionMove:
		if len(r.Alerts) == 0 {
			return invalid("alerts is required")
		}
		if r.Into == in.ID {
			return invalid("cannot move alerts of %s into itself", in.ID)
		}
	case ActionAssign:
		if r.Group == "" && r.Assignee == "" && r.Level == 0 {
			return invalid("assign needs group, assignee or level")
		}
		if r.Level != 0 && !r.Level.Valid() {
			return invalid("level must be L0..L4")
		}
	case ActionEscalate:
		cur := w.level(in)
		if r.Level == 0 && cur >= L4 {
			return fmt.Errorf("%w: %s is already at the top support level L4", ErrInvalidTransition, in.ID)
		}
		if r.Level != 0 && (!r.Level.Valid() || r.Level <= cur) {
			return invalid("level %s must be above the current level %s", r.Level, cur)
		}
	case ActionCategorize:
		if r.Category == "" {
			return invalid("category is required")
		}
		if err := w.categories.Check(r.Category, r.Subcategory); err != nil {
			return err
		}
	case ActionDeclareMajor:
		if in.Major && r.Coordinator == "" {
			return invalid("%s is already major: give a coordinator to change it", in.ID)
		}
	}
	return nil
}

// level is the incident's support level, the default when not set.
func (w *Workflow) level(in *Incident) SupportLevel {
	if in.Level.Valid() {
		return in.Level
	}
	return w.cfg.Assignment.DefaultLevel
}

func (w *Workflow) assign(in *Incident, r Request, data map[string]string) {
	if r.Level != 0 {
		cur := w.level(in)
		switch {
		case r.Level > cur:
			in.EscalationCount++
		case r.Level < cur:
			in.Bounces++
		}
		in.Level = r.Level
		data["from_level"], data["level"] = cur.String(), r.Level.String()
	}
	if r.Group != "" {
		if r.Group != in.AssignmentGroup && r.Assignee == "" {
			in.Assignee = ""
		}
		in.AssignmentGroup = r.Group
		data["group"] = r.Group
	}
	if r.Assignee != "" {
		in.Assignee = r.Assignee
		data["assignee"] = r.Assignee
	}
}

// raise moves in up to level target (assumed above the current one),
// assigning group or the level's configured group, and records it.
func (w *Workflow) raise(in *Incident, target SupportLevel, group, actor, rule string, at time.Time, data map[string]string) {
	cur := w.level(in)
	in.Level = target
	in.EscalationCount++
	if group == "" {
		group = w.levelGroups[target]
	}
	if group != "" && group != in.AssignmentGroup {
		in.AssignmentGroup, in.Assignee = group, ""
	}
	in.Escalations = append(in.Escalations, EscalationRecord{Rule: rule, Action: EscalateLevel, At: at,
		Actor: actor, From: cur, To: target})
	data["from_level"], data["level"] = cur.String(), target.String()
	if group != "" {
		data["group"] = group
	}
}

func setOnce(p **time.Time, at time.Time) {
	if *p == nil {
		*p = &at
	}
}

// endPause closes an open pause at at.
func (in *Incident) endPause(at time.Time) {
	if !in.Paused() {
		return
	}
	p := &in.Pauses[len(in.Pauses)-1]
	if at.Before(p.Start) {
		at = p.Start
	}
	p.End = at
}

// reopen undoes a resolution at at.
func (in *Incident) reopen(at time.Time) {
	if in.ResolvedAt != nil && in.ResolvedAt.Before(at) {
		in.Pauses = append(in.Pauses, Interval{Start: *in.ResolvedAt, End: at, Reason: "resolved"})
	}
	in.ResolvedAt = nil
	in.ClosureCode = ""
	in.Reopens++
}

// ApplyAuto applies a system trigger (Incident.NextAuto) at at, with actor
// ActorSystem, and returns the timeline events. Auto-resolve sets
// ResolvedAt to at and no closure code (close then asks for one); auto-reopen
// works like an analyst's reopen but goes back to new when the incident was
// never confirmed.
func (w *Workflow) ApplyAuto(in *Incident, t Trigger, at time.Time) ([]Event, error) {
	to, err := in.NextAuto(t)
	if err != nil {
		return nil, err
	}
	ev := Event{IncidentID: in.ID, At: at, Actor: ActorSystem, From: in.Status.String(), To: to.String()}
	switch t {
	case TriggerAlertsResolved:
		ev.Kind, ev.Comment = KindResolved, "all its alerts resolved"
		in.ResolvedAt = &at
		in.endPause(at)
	case TriggerAlertsFiring:
		ev.Kind, ev.Comment = KindReopened, "its alerts fired again"
		in.reopen(at)
	}
	from := in.Status
	in.Status = to
	return append([]Event{ev}, majorReview(in, from, at)...), nil
}

// Init completes a newly opened incident (Priority already set): the
// default level (assignment.default_level) and group (the level's group in
// assignment.level_groups, else assignment.default_group), the category
// from the labels of its first alert, major
// when its priority is in major.priorities, and confirmation when
// auto_confirm applies. It returns the timeline events beyond "opened".
func (w *Workflow) Init(in *Incident, labels map[string]string, at time.Time) []Event {
	if !in.Level.Valid() {
		in.Level = w.cfg.Assignment.DefaultLevel
	}
	if in.AssignmentGroup == "" {
		in.AssignmentGroup = w.cfg.Assignment.DefaultGroup
		if g := w.levelGroups[in.Level]; g != "" {
			in.AssignmentGroup = g
		}
	}
	var evs []Event
	if in.Category == "" {
		if cat, sub, ok := w.categories.Match(labels); ok {
			in.Category, in.Subcategory = cat, sub
			evs = append(evs, Event{IncidentID: in.ID, At: at, Actor: ActorSystem, Kind: KindCategorized,
				Data: map[string]string{"category": cat, "subcategory": sub}})
		}
	}
	evs = append(evs, w.checkMajor(in, at)...)
	ac := w.cfg.AutoConfirm
	if in.Status == StatusNew && (slices.Contains(ac.Priorities, in.Priority) || (in.Rule != "" && slices.Contains(ac.Rules, in.Rule))) {
		e, err := w.Apply(in, Request{Action: ActionConfirm, Actor: ActorSystem, At: at, Comment: "auto-confirmed"})
		if err == nil {
			evs = append(evs, e...)
		}
	}
	return evs
}

// SetPriority changes the priority (recording "priority_changed") and
// declares the incident major when the new priority is in major.priorities.
// A major incident stays major when its priority drops.
func (w *Workflow) SetPriority(in *Incident, p Priority, at time.Time) []Event {
	var evs []Event
	if p != in.Priority {
		if in.Priority != 0 {
			evs = append(evs, Event{IncidentID: in.ID, At: at, Actor: ActorSystem, Kind: KindPriorityChanged,
				From: in.Priority.String(), To: p.String()})
		}
		in.Priority = p
	}
	return append(evs, w.checkMajor(in, at)...)
}

// Prioritize sets Urgency, Impact and, through the matrix, Priority (see
// Priority and SetPriority).
func (w *Workflow) Prioritize(in *Incident, severity string, cis, services int, at time.Time) []Event {
	p, u, i := w.Priority(severity, cis, services)
	in.Urgency, in.Impact = u, i
	return w.SetPriority(in, p, at)
}

func (w *Workflow) checkMajor(in *Incident, at time.Time) []Event {
	if in.Major || !slices.Contains(w.cfg.Major.Priorities, in.Priority) || !slices.Contains(working, in.Status) {
		return nil
	}
	in.Major = true
	setOnce(&in.MajorAt, at)
	return []Event{{IncidentID: in.ID, At: at, Actor: ActorSystem, Kind: KindDeclaredMajor,
		Comment: fmt.Sprintf("priority %s is major", in.Priority)}}
}

// Policy returns the SLA policy of an incident and its calendar: the major
// policy ("major") for major incidents, else the policy of its priority.
func (w *Workflow) Policy(in *Incident) (name string, p Policy, cal Calendar) {
	if in.Major {
		return "major", w.major, w.calendars[w.major.Calendar]
	}
	pr := in.Priority
	if _, ok := w.policies[pr]; !ok {
		pr = P3
	}
	p = w.policies[pr]
	return pr.String(), p, w.calendars[p.Calendar]
}

// SLA evaluates the incident's SLA at now (see Evaluate). Rejected and
// merged incidents have no SLA: both clocks are ClockNone.
func (w *Workflow) SLA(in *Incident, now time.Time) SLAState {
	name, p, cal := w.Policy(in)
	if in.Status == StatusRejected || in.Status == StatusMerged {
		return SLAState{Policy: name, Calendar: p.Calendar,
			Respond: Clock{State: ClockNone}, Resolve: Clock{State: ClockNone}}
	}
	st := Evaluate(p, cal, in.OpenedAt, in.AcknowledgedAt, in.ResolvedAt, in.Pauses, now)
	st.Policy = name
	return st
}

// CheckSLA evaluates the SLA at now and records, once each, the at-risk and
// breach moments of both targets on in.SLAMarks, returning a "sla_at_risk"
// or "sla_breached" event (At now; Data target, policy, and the moment as
// "due" or "at_risk_at") for each new mark. A clock first seen breached
// records its at-risk mark silently. Call it from a scheduled job.
func (w *Workflow) CheckSLA(in *Incident, now time.Time) []Event {
	st := w.SLA(in, now)
	var evs []Event
	check := func(target string, c Clock, atRisk, breached **time.Time) {
		mk := func(kind, key string, moment time.Time) Event {
			return Event{IncidentID: in.ID, At: now, Actor: ActorSystem, Kind: kind,
				Comment: fmt.Sprintf("%s target %s of policy %s", target, c.Target, st.Policy),
				Data:    map[string]string{"target": target, "policy": st.Policy, key: moment.UTC().Format(time.RFC3339)}}
		}
		switch c.State {
		case ClockBreached:
			if *breached == nil {
				setOnce(breached, c.Due)
				setOnce(atRisk, c.AtRiskAt)
				evs = append(evs, mk(KindSLABreached, "due", c.Due))
			}
		case ClockAtRisk:
			if *atRisk == nil {
				setOnce(atRisk, c.AtRiskAt)
				evs = append(evs, mk(KindSLAAtRisk, "at_risk_at", c.AtRiskAt))
			}
		}
	}
	check("respond", st.Respond, &in.SLAMarks.RespondAtRisk, &in.SLAMarks.RespondBreached)
	check("resolve", st.Resolve, &in.SLAMarks.ResolveAtRisk, &in.SLAMarks.ResolveBreached)
	return evs
}

// DueEscalations returns the configured escalation rules due for in at now.
func (w *Workflow) DueEscalations(in *Incident, now time.Time) []Escalation {
	return DueEscalations(w.cfg.EscalationRules, in, now)
}

// Escalate carries out a due escalation at at and records it on
// in.Escalations, so that it is not due again. Action escalate moves the
// incident up (see Apply's escalate) and records "escalated"; when it
// cannot go higher, or for action notify, it records "escalation_notified".
// An escalation already recorded returns no events.
func (w *Workflow) Escalate(in *Incident, e Escalation, at time.Time) ([]Event, error) {
	if slices.ContainsFunc(in.Escalations, func(r EscalationRecord) bool { return r.Rule == e.Rule }) {
		return nil, nil
	}
	if !slices.Contains(working, in.Status) {
		return nil, fmt.Errorf("%w: cannot escalate a %s incident", ErrInvalidTransition, in.Status)
	}
	ev := Event{IncidentID: in.ID, At: at, Actor: ActorSystem,
		Comment: fmt.Sprintf("escalation rule %q", e.Rule),
		Data:    map[string]string{"rule": e.Rule, "due": e.Due.UTC().Format(time.RFC3339)}}
	cur := w.level(in)
	target := e.ToLevel
	if target == 0 {
		target = cur + 1
	}
	if e.Action != EscalateNotify && target > cur && target <= L4 {
		ev.Kind = KindEscalated
		w.raise(in, target, "", ActorSystem, e.Rule, at, ev.Data)
		return []Event{ev}, nil
	}
	ev.Kind = KindEscalationNotified
	ev.Data["level"] = cur.String()
	in.Escalations = append(in.Escalations, EscalationRecord{Rule: e.Rule, Action: EscalateNotify, At: at,
		Actor: ActorSystem, From: cur, To: cur})
	return []Event{ev}, nil
}
