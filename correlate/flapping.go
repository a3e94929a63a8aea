package correlate

import (
	"fmt"
	"slices"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// fpState is the recent history of one alert (fingerprint).
type fpState struct {
	// incident is the incident of the alert's latest episode.
	incident string
	// changes are the event times of recent state changes, within the flap
	// window. The times here are Unix nanoseconds (0: none): one of these
	// is kept per alert, so it is kept small.
	changes   []int64
	lastStart int64
	prevStart int64
	lastEnd   int64
	last      int64
	flapping  bool
}

// recordChange notes a state change of ep's alert at t: a start, or an end.
func (e *Engine) recordChange(ep *Episode, t time.Time, start bool) {
	st := e.fps[ep.Fingerprint]
	if st == nil {
		st = &fpState{}
		e.fps[ep.Fingerprint] = st
	}
	n := t.UnixNano()
	if start {
		if n > st.lastStart {
			st.prevStart, st.lastStart = st.lastStart, n
		}
	} else if n > st.lastEnd {
		st.lastEnd = n
	}
	st.last = max(st.last, n)
	st.changes = append(st.changes, n)
	slices.Sort(st.changes)
	cut := st.last - int64(e.cfg.flapWindow)
	i := 0
	for i < len(st.changes) && st.changes[i] < cut {
		i++
	}
	st.changes = st.changes[i:]
	if n := 2 * e.cfg.flapChanges; len(st.changes) > n {
		st.changes = st.changes[len(st.changes)-n:]
	}
	st.flapping = len(st.changes) >= e.cfg.flapChanges
	if st.flapping {
		if in := e.incidents[ep.IncidentID]; in != nil && !in.Flapping {
			e.markFlapping(in, ep)
		}
	}
}

// fpIncident remembers the incident of an alert's latest episode.
func (e *Engine) fpIncident(ep *Episode, in *incident.Incident) {
	st := e.fps[ep.Fingerprint]
	if st == nil {
		return
	}
	st.incident = in.ID
	if st.flapping && !in.Flapping {
		e.markFlapping(in, ep)
	}
}

func (e *Engine) markFlapping(in *incident.Incident, ep *Episode) {
	in.Flapping = true
	e.event(in, incident.Event{Kind: "flapping", Comment: fmt.Sprintf(
		"alert %s changed state %d times within %s: the incident resolves only after %s of quiet",
		ep.Labels["alertname"], e.cfg.flapChanges, formatWindow(e.cfg.flapWindow), formatWindow(e.cfg.flapHold))})
}

// groupRepeat joins a new episode of an alert to the incident of the
// alert's previous episode when the alert is flapping, or fired again
// while that incident is open or within its reopen window.
func (e *Engine) groupRepeat(ep *Episode) bool {
	st := e.fps[ep.Fingerprint]
	if st == nil || st.incident == "" {
		return false
	}
	in := e.incidents[st.incident]
	if in == nil || !(in.Status.Open() || e.reopenable(in)) {
		return false
	}
	gap := ep.StartsAt.Sub(time.Unix(0, max(st.prevStart, st.lastEnd)))
	if !st.flapping && gap > e.cfg.reopenWindow {
		return false
	}
	expl := &incident.Explanation{Method: MethodRepeat, Score: 1, Window: formatWindow(e.cfg.reopenWindow),
		SharedLabels: map[string]string{"alertname": ep.Labels["alertname"]},
		Reason: fmt.Sprintf("joined %s: the same alert (fingerprint %s) fired again %s after its previous episode",
			in.ID, ep.Fingerprint, formatWindow(gap.Round(time.Second)))}
	if st.flapping {
		expl.Method = MethodFlapping
		expl.Window = formatWindow(e.cfg.flapWindow)
		expl.Reason = fmt.Sprintf("joined %s: the alert is flapping (%d state changes within %s), so all its episodes stay in one incident",
			in.ID, len(st.changes), formatWindow(e.cfg.flapWindow))
		if !in.Flapping {
			e.markFlapping(in, ep)
		}
	}
	e.join(in, ep, expl)
	return true
}
