package incident

import (
	"fmt"
	"slices"
)

// Action is something an analyst does to an incident (contract §6, plus
// categorize, declare_major, pause and resume, which the issue needs and the
// contract does not yet name).
type Action string

// Analyst actions.
const (
	ActionConfirm     Action = "confirm"
	ActionReject      Action = "reject"
	ActionAcknowledge Action = "acknowledge"
	ActionAssign      Action = "assign"
	ActionEscalate    Action = "escalate"
	ActionStart       Action = "start"
	ActionResolve     Action = "resolve"
	ActionClose       Action = "close"
	ActionReopen      Action = "reopen"
	ActionComment     Action = "comment"
	ActionMerge       Action = "merge"
	ActionMove        Action = "move"
	// ActionCategorize sets category and subcategory.
	ActionCategorize Action = "categorize"
	// ActionDeclareMajor marks a major incident and names its coordinator
	// (again on a major incident: changes the coordinator).
	ActionDeclareMajor Action = "declare_major"
	// ActionPause stops the SLA clocks (waiting on a vendor or customer);
	// ActionResume restarts them.
	ActionPause  Action = "pause"
	ActionResume Action = "resume"
)

// Actions lists every action in a stable order (the order Allowed uses).
func Actions() []Action {
	return []Action{ActionConfirm, ActionReject, ActionAcknowledge, ActionAssign, ActionEscalate,
		ActionStart, ActionResolve, ActionClose, ActionReopen, ActionComment, ActionMerge, ActionMove,
		ActionCategorize, ActionDeclareMajor, ActionPause, ActionResume}
}

// ParseAction parses an action name as it appears in the API path.
func ParseAction(s string) (Action, error) {
	if a := Action(s); slices.Contains(Actions(), a) {
		return a, nil
	}
	return "", fmt.Errorf("%w: unknown action %q", ErrInvalidRequest, s)
}

// Timeline event kinds (Event.Kind), also the kinds of outbound notifications.
const (
	KindOpened             = "opened"
	KindConfirmed          = "confirmed"
	KindRejected           = "rejected"
	KindAcknowledged       = "acknowledged"
	KindAssigned           = "assigned"
	KindEscalated          = "escalated"
	KindEscalationNotified = "escalation_notified"
	KindStarted            = "started"
	KindResolved           = "resolved"
	KindClosed             = "closed"
	KindReopened           = "reopened"
	KindCommented          = "commented"
	KindMerged             = "merged"
	KindMoved              = "moved"
	KindCategorized        = "categorized"
	KindDeclaredMajor      = "declared_major"
	KindPaused             = "paused"
	KindResumed            = "resumed"
	KindPriorityChanged    = "priority_changed"
	KindSLAAtRisk          = "sla_at_risk"
	KindSLABreached        = "sla_breached"
	// KindMajorReviewDue marks a resolved major incident whose
	// post-incident review is due (ITIL major incident procedure).
	KindMajorReviewDue = "major_review_due"
)

// EventKinds lists every timeline event kind.
func EventKinds() []string {
	return []string{KindOpened, KindConfirmed, KindRejected, KindAcknowledged, KindAssigned,
		KindEscalated, KindEscalationNotified, KindStarted, KindResolved, KindClosed, KindReopened,
		KindCommented, KindMerged, KindMoved, KindCategorized, KindDeclaredMajor, KindPaused,
		KindResumed, KindPriorityChanged, KindSLAAtRisk, KindSLABreached, KindMajorReviewDue}
}

var actionKinds = map[Action]string{
	ActionConfirm: KindConfirmed, ActionReject: KindRejected, ActionAcknowledge: KindAcknowledged,
	ActionAssign: KindAssigned, ActionEscalate: KindEscalated, ActionStart: KindStarted,
	ActionResolve: KindResolved, ActionClose: KindClosed, ActionReopen: KindReopened,
	ActionComment: KindCommented, ActionMerge: KindMerged, ActionMove: KindMoved,
	ActionCategorize: KindCategorized, ActionDeclareMajor: KindDeclaredMajor,
	ActionPause: KindPaused, ActionResume: KindResumed,
}

// Kind returns the timeline event kind the action records ("confirmed" for confirm).
func (a Action) Kind() string { return actionKinds[a] }

// The working statuses: triage done or not, the incident is being handled.
var working = []Status{StatusNew, StatusConfirmed, StatusAcknowledged, StatusInProgress}

// transitions is the analyst lifecycle: from status, action -> to status.
// A missing entry is forbidden.
var transitions = func() map[Status]map[Action]Status {
	t := map[Status]map[Action]Status{}
	set := func(from Status, a Action, to Status) {
		if t[from] == nil {
			t[from] = map[Action]Status{}
		}
		t[from][a] = to
	}
	keep := func(a Action, from ...Status) {
		for _, s := range from {
			set(s, a, s)
		}
	}
	// Triage.
	set(StatusNew, ActionConfirm, StatusConfirmed)
	set(StatusNew, ActionReject, StatusRejected)
	// Work.
	set(StatusConfirmed, ActionAcknowledge, StatusAcknowledged)
	set(StatusAcknowledged, ActionStart, StatusInProgress)
	for _, s := range []Status{StatusConfirmed, StatusAcknowledged, StatusInProgress} {
		set(s, ActionResolve, StatusResolved)
	}
	set(StatusResolved, ActionClose, StatusClosed)
	// Reopen: a resolved incident was real, so it goes back to confirmed (to
	// be acknowledged again); a rejected one goes back to triage.
	set(StatusResolved, ActionReopen, StatusConfirmed)
	set(StatusRejected, ActionReopen, StatusNew)
	// Merge from any working status.
	for _, s := range working {
		set(s, ActionMerge, StatusMerged)
	}
	// Actions that keep the status.
	keep(ActionAssign, working...)
	keep(ActionEscalate, working...)
	keep(ActionDeclareMajor, working...)
	keep(ActionMove, append(slices.Clone(working), StatusResolved, StatusRejected)...)
	keep(ActionCategorize, append(slices.Clone(working), StatusResolved)...)
	keep(ActionPause, StatusConfirmed, StatusAcknowledged, StatusInProgress)
	keep(ActionResume, StatusConfirmed, StatusAcknowledged, StatusInProgress)
	keep(ActionComment, StatusNew, StatusConfirmed, StatusRejected, StatusAcknowledged,
		StatusInProgress, StatusResolved, StatusClosed)
	return t
}()

// Next returns the status an analyst action leads to from status from, or an
// error wrapping ErrInvalidTransition.
//
// The lifecycle:
//
//	new          confirm -> confirmed, reject -> rejected
//	confirmed    acknowledge -> acknowledged
//	acknowledged start -> in_progress
//	confirmed, acknowledged, in_progress   resolve -> resolved
//	resolved     close -> closed, reopen -> confirmed
//	rejected     reopen -> new (undo a rejection: back to triage)
//	new, confirmed, acknowledged, in_progress   merge -> merged
//
// Actions that keep the status: assign, escalate and declare_major on the
// working statuses (new, confirmed, acknowledged, in_progress); pause and
// resume once triaged (confirmed, acknowledged, in_progress); categorize on
// the working statuses and resolved; move (alerts out of this incident) on
// the working statuses, resolved and rejected; comment everywhere except
// merged. closed takes only comments and merged takes nothing.
//
// A resolve from new is not an analyst action: new incidents are triaged
// first. The system may still resolve them (see Incident.NextAuto).
func Next(from Status, a Action) (Status, error) {
	if to, ok := transitions[from][a]; ok {
		return to, nil
	}
	if _, ok := actionKinds[a]; !ok {
		return 0, fmt.Errorf("%w: unknown action %q", ErrInvalidTransition, a)
	}
	return 0, fmt.Errorf("%w: cannot %s a %s incident", ErrInvalidTransition, a, from)
}

// Allowed returns the actions Next accepts from status from, in Actions order.
func Allowed(from Status) []Action {
	var out []Action
	for _, a := range Actions() {
		if _, ok := transitions[from][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Allowed refines the package-level Allowed with the incident's own state:
// pause only when not paused, resume only when paused, escalate only below L4.
// A forbidden action answers 409 with this list.
func (in *Incident) Allowed() []Action {
	out := Allowed(in.Status)
	return slices.DeleteFunc(out, func(a Action) bool {
		return in.check(a) != nil
	})
}

// check applies the incident-specific refinements of Allowed.
func (in *Incident) check(a Action) error {
	switch a {
	case ActionPause:
		if in.Paused() {
			return fmt.Errorf("%w: %s is already paused", ErrInvalidTransition, in.ID)
		}
	case ActionResume:
		if !in.Paused() {
			return fmt.Errorf("%w: %s is not paused", ErrInvalidTransition, in.ID)
		}
	case ActionEscalate:
		if in.Level == L4 {
			return fmt.Errorf("%w: %s is already at the top support level L4", ErrInvalidTransition, in.ID)
		}
	}
	return nil
}

// Trigger is a change the system makes on its own, not an analyst.
type Trigger string

// System triggers.
const (
	// TriggerAlertsResolved: every alert of the incident resolved and the
	// resolve delay passed (auto-resolve).
	TriggerAlertsResolved Trigger = "alerts_resolved"
	// TriggerAlertsFiring: alerts of a resolved incident fired again within
	// the reopen window (auto-reopen).
	TriggerAlertsFiring Trigger = "alerts_firing"
)

// NextAuto returns the status a system trigger leads to, or an error
// wrapping ErrInvalidTransition. The system may:
//
//   - resolve an incident in any working status (new, confirmed,
//     acknowledged, in_progress) when its alerts resolve; a new incident
//     resolved this way was never triaged;
//   - reopen a resolved incident when its alerts fire again: to confirmed
//     if an analyst had confirmed it (ConfirmedAt set), else to new.
//
// It never touches rejected, closed or merged incidents: alerts of those
// open a new incident.
func (in *Incident) NextAuto(t Trigger) (Status, error) {
	switch t {
	case TriggerAlertsResolved:
		if slices.Contains(working, in.Status) {
			return StatusResolved, nil
		}
	case TriggerAlertsFiring:
		if in.Status == StatusResolved {
			if in.ConfirmedAt != nil {
				return StatusConfirmed, nil
			}
			return StatusNew, nil
		}
	default:
		return 0, fmt.Errorf("%w: unknown trigger %q", ErrInvalidTransition, t)
	}
	return 0, fmt.Errorf("%w: %s cannot happen to a %s incident", ErrInvalidTransition, t, in.Status)
}

// ValidTarget checks that an incident in status s can receive alerts from
// a merge or a move: it must be in a working status.
func ValidTarget(s Status) error {
	if !slices.Contains(working, s) {
		return fmt.Errorf("%w: the target incident is %s", ErrInvalidTransition, s)
	}
	return nil
}
