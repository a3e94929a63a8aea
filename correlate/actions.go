package correlate

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// TransitionError is returned when an action is not allowed in the
// incident's status; Allowed lists what is.
type TransitionError struct {
	Err     error
	Allowed []incident.Action
}

func (e *TransitionError) Error() string { return e.Err.Error() }
func (e *TransitionError) Unwrap() error { return e.Err }

// Feedback is an analyst decision or correction recorded against the
// method and rule that grouped the incident, to measure their precision.
type Feedback struct {
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	IncidentID string    `json:"incident_id"`
	Method     string    `json:"method"`
	Rule       string    `json:"rule,omitempty"`
	// Decision is confirm, reject, merge or move.
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	// Alerts is how many alerts a merge or move moved.
	Alerts int `json:"alerts,omitempty"`
}

// Stored is an incident with its alerts as a store holds them, handed to
// Act so the engine can work on incidents it no longer keeps in memory.
type Stored struct {
	Incident incident.Incident
	Alerts   []Episode
}

// MethodManual marks alerts placed by an analyst (merge, move).
const MethodManual = "manual"

// Act applies an analyst action to an incident. src is the incident as
// stored; into is the target of a merge or move, when the request names
// one. The engine's own copy wins where it has one. Errors: a
// *TransitionError (409), incident.ErrInvalidRequest (400).
func (e *Engine) Act(r incident.Request, src Stored, into *Stored) error {
	in := e.adopt(src)
	var dst *incident.Incident
	if r.Action == incident.ActionMerge || (r.Action == incident.ActionMove && r.Into != "") {
		if into == nil || into.Incident.ID != r.Into {
			return fmt.Errorf("%w: into: incident %q not found", incident.ErrInvalidRequest, r.Into)
		}
		if r.Into == in.ID {
			return fmt.Errorf("%w: into: an incident cannot be merged or moved into itself", incident.ErrInvalidRequest)
		}
		dst = e.adopt(*into)
		if err := incident.ValidTarget(dst.Status); err != nil {
			return fmt.Errorf("%w: into: %v", incident.ErrInvalidRequest, err)
		}
	}
	var moving []*Episode
	if r.Action == incident.ActionMerge || r.Action == incident.ActionMove {
		for i := range src.Alerts {
			ep := e.adoptEpisode(src.Alerts[i])
			if ep.IncidentID != in.ID {
				continue
			}
			if r.Action == incident.ActionMerge || slices.Contains(r.Alerts, ep.Fingerprint) ||
				slices.Contains(r.Alerts, strconv.FormatInt(ep.ID, 10)) {
				moving = append(moving, ep)
			}
		}
		if r.Action == incident.ActionMove {
			if len(r.Alerts) == 0 {
				return fmt.Errorf("%w: alerts: name the alerts to move (fingerprints or alert ids)", incident.ErrInvalidRequest)
			}
			if len(moving) == 0 {
				return fmt.Errorf("%w: alerts: none of them belongs to %s", incident.ErrInvalidRequest, in.ID)
			}
			if len(moving) == in.AlertCount && dst == nil {
				return fmt.Errorf("%w: alerts: moving every alert to a new incident changes nothing", incident.ErrInvalidRequest)
			}
		}
	}
	evs, err := e.wf.Apply(in, r)
	if err != nil {
		if errors.Is(err, incident.ErrInvalidTransition) {
			return &TransitionError{Err: err, Allowed: in.Allowed()}
		}
		return err
	}
	e.emit(in, evs...)
	fb := Feedback{At: r.At, Actor: r.Actor, IncidentID: in.ID, Method: in.Method, Rule: in.Rule, Reason: r.Reason}
	switch r.Action {
	case incident.ActionConfirm, incident.ActionReject:
		fb.Decision = string(r.Action)
		e.feedback = append(e.feedback, fb)
	case incident.ActionMerge, incident.ActionMove:
		if dst == nil {
			dst = e.openManual(in, moving[0], r)
		}
		e.moveEpisodes(in, dst, moving, r)
		fb.Decision, fb.Alerts = string(r.Action), len(moving)
		e.feedback = append(e.feedback, fb)
	}
	return nil
}

// adopt returns the engine's incident, bringing a stored one into memory
// when the engine no longer holds it.
func (e *Engine) adopt(s Stored) *incident.Incident {
	if in := e.incidents[s.Incident.ID]; in != nil {
		return in
	}
	c := s.Incident.Clone()
	in := &c
	e.incidents[in.ID] = in
	e.aux[in.ID] = &incAux{}
	return in
}

// adoptEpisode returns the engine's episode, bringing a stored one into memory.
func (e *Engine) adoptEpisode(ep Episode) *Episode {
	if p := e.episodes[ep.Key()]; p != nil {
		return p
	}
	p := &ep
	e.episodes[ep.Key()] = p
	if !p.Firing() {
		e.queueExpiry(p)
	}
	return p
}

// openManual opens the incident that a move without a target creates.
func (e *Engine) openManual(from *incident.Incident, first *Episode, r incident.Request) *incident.Incident {
	in := e.open(first, MethodManual, "", fmt.Sprintf("%s (split from %s)", alertnameOr(first), from.ID), nil)
	in.FirstEventAt, in.LastEventAt = first.StartsAt, first.EventTime()
	in.Severity = first.Labels["severity"]
	e.emit(in, e.wf.Prioritize(in, in.Severity, 0, 0, e.clock)...)
	e.emit(in, e.wf.Init(in, first.Labels, e.clock)...)
	return in
}

// moveEpisodes moves episodes from one incident to another and keeps both
// incidents' counters.
func (e *Engine) moveEpisodes(from, to *incident.Incident, eps []*Episode, r incident.Request) {
	if aux := e.aux[from.ID]; aux != nil {
		for _, ep := range eps {
			delete(aux.episodes, ep)
		}
	}
	if aux := e.aux[to.ID]; aux != nil {
		if aux.episodes == nil {
			aux.episodes = map[*Episode]struct{}{}
		}
		for _, ep := range eps {
			aux.episodes[ep] = struct{}{}
		}
	}
	for _, ep := range eps {
		from.AlertCount--
		to.AlertCount++
		if ep.Firing() {
			from.FiringCount--
			to.FiringCount++
		}
		if ep.StartsAt.Before(to.FirstEventAt) || to.FirstEventAt.IsZero() {
			to.FirstEventAt = ep.StartsAt
		}
		if et := ep.EventTime(); et.After(to.LastEventAt) {
			to.LastEventAt = et
		}
		verb := "merged"
		if r.Action == incident.ActionMove {
			verb = "moved"
		}
		ep.Explanation = &incident.Explanation{Method: MethodManual, Score: 1,
			Reason: fmt.Sprintf("%s from %s into %s by %s", verb, from.ID, to.ID, r.Actor)}
		ep.IncidentID = to.ID
		ep.JoinedAt = e.clock
		ep.Version++
		e.dirtyEp[ep] = struct{}{}
		if st := e.fps[ep.Fingerprint]; st != nil && st.incident == from.ID {
			st.incident = to.ID
		}
	}
	from.AlertCount, from.FiringCount = max(from.AlertCount, 0), max(from.FiringCount, 0)
	for _, in := range []*incident.Incident{from, to} {
		if in.Status.Open() && in.FiringCount == 0 {
			e.pending[in.ID] = in
		} else {
			delete(e.pending, in.ID)
		}
		e.touch(in)
	}
	e.emit(to, incident.Event{At: r.At, Actor: r.Actor, Kind: "alerts_received",
		Comment: fmt.Sprintf("%d alerts from %s", len(eps), from.ID), Data: map[string]string{"from": from.ID}})
}

// Incident returns a copy of an incident the engine holds, or false.
func (e *Engine) Incident(id string) (incident.Incident, bool) {
	in := e.incidents[id]
	if in == nil {
		return incident.Incident{}, false
	}
	return in.Clone(), true
}

// CheckSLA evaluates the SLA clocks of every open incident at now, records
// at-risk and breach moments, and runs the escalation rules that are due.
func (e *Engine) CheckSLA(now time.Time) {
	for _, in := range e.incidents {
		if !in.Status.Open() {
			continue
		}
		e.emit(in, e.wf.CheckSLA(in, now)...)
		for _, esc := range e.wf.DueEscalations(in, now) {
			evs, err := e.wf.Escalate(in, esc, now)
			if err != nil {
				continue
			}
			e.emit(in, evs...)
		}
	}
}
