package incident

import (
	"slices"
	"time"
)

// EscalationAction is what an escalation rule does when it is due.
type EscalationAction string

// Escalation actions.
const (
	// EscalateLevel moves the incident up a support level (or to the rule's
	// ToLevel) and notifies ("escalated"). At L4 it only notifies.
	EscalateLevel EscalationAction = "escalate"
	// EscalateNotify only notifies ("escalation_notified").
	EscalateNotify EscalationAction = "notify"
)

// EscalationRule escalates incidents left unattended (incident.escalation_rules):
//
//   - name: p1-unacknowledged
//     not_acknowledged_within: 15m
//     priorities: [P1, P2]
//     action: escalate
//
// Exactly one of NotAcknowledgedWithin and NotResolvedWithin is set. Times
// run from OpenedAt on the wall clock (24x7), without the pauses.
type EscalationRule struct {
	Name string `yaml:"name" json:"name"`
	// NotAcknowledgedWithin: due when the incident is still new or confirmed
	// (never acknowledged) this long after it opened.
	NotAcknowledgedWithin Duration `yaml:"not_acknowledged_within" json:"not_acknowledged_within,omitempty"`
	// NotResolvedWithin: due when the incident is still in a working status
	// this long after it opened.
	NotResolvedWithin Duration `yaml:"not_resolved_within" json:"not_resolved_within,omitempty"`
	// Priorities restricts the rule; empty is every priority.
	Priorities []Priority `yaml:"priorities" json:"priorities,omitempty"`
	// MajorOnly restricts the rule to major incidents.
	MajorOnly bool `yaml:"major_only" json:"major_only,omitempty"`
	// Action defaults to escalate.
	Action EscalationAction `yaml:"action" json:"action,omitempty"`
	// ToLevel, for escalate, is the level to move to instead of the next
	// one; an incident already at or above it is only notified.
	ToLevel SupportLevel `yaml:"to_level" json:"to_level,omitempty"`
}

// Escalation is an escalation rule that is due for an incident.
type Escalation struct {
	Rule    string           `json:"rule"`
	Action  EscalationAction `json:"action"`
	ToLevel SupportLevel     `json:"to_level,omitempty"`
	// Due is when the rule's condition was met.
	Due time.Time `json:"due"`
}

// EscalationRecord is one escalation that happened, on Incident.Escalations.
type EscalationRecord struct {
	// Rule is the escalation rule's name; empty for an analyst's escalate.
	Rule   string           `json:"rule,omitempty"`
	Action EscalationAction `json:"action"`
	At     time.Time        `json:"at"`
	Actor  string           `json:"actor"`
	From   SupportLevel     `json:"from,omitempty"`
	To     SupportLevel     `json:"to,omitempty"`
}

// DueEscalations returns the rules due for incident in at now, in rule
// order. It is idempotent: a rule already recorded on in.Escalations is
// never due again, so a scheduler can call it every tick.
func DueEscalations(rules []EscalationRule, in *Incident, now time.Time) []Escalation {
	var out []Escalation
	for _, r := range rules {
		if len(r.Priorities) > 0 && !slices.Contains(r.Priorities, in.Priority) {
			continue
		}
		if r.MajorOnly && !in.Major {
			continue
		}
		if slices.ContainsFunc(in.Escalations, func(e EscalationRecord) bool { return e.Rule == r.Name }) {
			continue
		}
		var after time.Duration
		switch {
		case r.NotAcknowledgedWithin > 0:
			if in.AcknowledgedAt != nil || (in.Status != StatusNew && in.Status != StatusConfirmed) {
				continue
			}
			after = time.Duration(r.NotAcknowledgedWithin)
		case r.NotResolvedWithin > 0:
			if !slices.Contains(working, in.Status) {
				continue
			}
			after = time.Duration(r.NotResolvedWithin)
		default:
			continue
		}
		due := deadline(Calendar{}, in.OpenedAt, after, clipPauses(in.Pauses, in.OpenedAt, now))
		if now.Before(due) {
			continue
		}
		action := r.Action
		if action == "" {
			action = EscalateLevel
		}
		out = append(out, Escalation{Rule: r.Name, Action: action, ToLevel: r.ToLevel, Due: due})
	}
	return out
}
