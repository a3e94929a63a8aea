package correlate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// topoCandidate is an open topology incident a new alert is linked to.
type topoCandidate struct {
	in    *incident.Incident
	score float64
	kind  string // same, upstream, downstream, sibling
	via   string // the CI through which it is linked
	hops  int
}

// groupTopology joins an alert on a CI to an open topology incident with
// an alerting CI linked to it in the dependency graph within the window and
// the hop bound. Alerts on CIs that share only an ancestor are linked when
// they raise the same symptom alert (a cascade whose root may be silent).
// It reports whether it found a link.
func (e *Engine) groupTopology(ep *Episode) bool {
	if e.topo == nil {
		return false
	}
	x, t, w := ep.CI, ep.StartsAt, e.cfg.topoWindow
	name := ep.Labels["alertname"]
	var best *topoCandidate
	// strong are the incidents linked through a dependency path (not only
	// a shared ancestor): an alert that links several of them shows they
	// are one cascade, and they are merged.
	strong := map[string]*topoCandidate{}
	// consider weighs a link to an incident; at is the start of the
	// linked alert, which must lie within the window of this one: a
	// cascade's alerts start together, so an incident that keeps taking
	// alerts does not stretch its links.
	consider := func(id string, at time.Time, score float64, kind, via string, hops int) {
		if d := t.Sub(at); d > w || d < -w {
			return
		}
		in := e.incidents[id]
		if in == nil || !in.Status.Open() {
			return
		}
		c := &topoCandidate{in: in, score: score, kind: kind, via: via, hops: hops}
		if kind == "downstream" || kind == "same" {
			if strong[id] == nil || score > strong[id].score {
				strong[id] = c
			}
		}
		if best == nil || score > best.score || (score == best.score && in.Seq < best.in.Seq) {
			best = c
		}
	}
	// On one CI, symptoms join symptoms and faults join faults: a host
	// that becomes unreachable with its switch has nothing to do with the
	// disk that was filling up on it.
	symptom := e.isSymptom(name)
	for id, at := range e.sameKind[kindKey(x, symptom)] {
		consider(id, at, 1, "same", x, 0)
	}
	// Across CIs, only symptoms link: the alerts of the dependent CIs must
	// look like the consequence of a failure upstream (unreachable, down,
	// errors, latency), not faults of their own (a disk filling up).
	for id, names := range e.under[x] {
		if !symptom {
			// A fault of x's own (a disk filling up) explains nothing downstream.
			break
		}
		var latest time.Time
		for n, at := range names {
			if at.After(latest) && e.isSymptom(n) {
				latest = at
			}
		}
		if !latest.IsZero() {
			consider(id, latest, 0.95, "downstream", x, 0)
		}
	}
	ancestors := e.topo.Ancestors(x, e.cfg.maxHops)
	for _, a := range ancestors {
		if !symptom {
			break
		}
		// Only an unavailability of the upstream CI explains x's symptom.
		for id, at := range e.sameKind[kindKey(a.ID, true)] {
			consider(id, at, 1-0.05*float64(a.Hops), "upstream", a.ID, a.Hops)
		}
	}
	for _, a := range ancestors {
		if !symptom {
			break
		}
		for id, names := range e.under[a.ID] {
			if at, ok := names[name]; ok {
				consider(id, at, 0.8-0.1*float64(a.Hops-1), "sibling", a.ID, a.Hops)
			}
		}
	}
	window := formatWindow(w)
	if best == nil {
		return false
	}
	in := best.in
	expl := &incident.Explanation{Method: MethodTopology, Window: window, Score: best.score}
	switch best.kind {
	case "same":
		aux := e.auxOf(in)
		if prev := aux.sameCI[x]; prev != nil && prev.Window == window && prev.Score == best.score {
			expl = prev
			break
		}
		expl.CIPath = []string{x}
		expl.Reason = fmt.Sprintf("joined %s: CI %s already alerts in it, within %s", in.ID, x, window)
		if aux.sameCI == nil {
			aux.sameCI = map[string]*incident.Explanation{}
		}
		aux.sameCI[x] = expl
	case "upstream":
		expl.CIPath = e.topo.Path(x, best.via, e.cfg.maxHops)
		expl.Reason = fmt.Sprintf("joined %s: %s depends on alerting CI %s (%s: %s), within %s",
			in.ID, x, best.via, hopsText(best.hops), strings.Join(expl.CIPath, " -> "), window)
	case "downstream":
		expl.CIPath = e.pathFromMember(in, x)
		expl.Reason = fmt.Sprintf("joined %s: alerting CIs of the incident depend on %s (%s), within %s",
			in.ID, x, strings.Join(expl.CIPath, " -> "), window)
	case "sibling":
		expl.CIPath = e.topo.Path(x, best.via, e.cfg.maxHops)
		expl.SharedLabels = map[string]string{"alertname": ep.Labels["alertname"]}
		expl.Reason = fmt.Sprintf("joined %s: %s and other CIs of the incident depend on %s (%s) and raise the same alert %s, within %s",
			in.ID, x, best.via, hopsText(best.hops), ep.Labels["alertname"], window)
	}
	e.join(in, ep, expl)
	e.updateRoot(in, ep)
	if len(strong) > 1 || (len(strong) == 1 && strong[in.ID] == nil) {
		ids := make([]string, 0, len(strong))
		for id, c := range strong {
			// Only an alert upstream of another incident's alerts explains
			// them: it merges that incident.
			if id != in.ID && c.kind == "downstream" {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			e.mergeCascade(e.incidents[id], in, ep, strong[id])
		}
	}
	return true
}

// pathFromMember returns a dependency path from one of the incident's
// alerting CIs up to ci.
func (e *Engine) pathFromMember(in *incident.Incident, ci string) []string {
	aux := e.aux[in.ID]
	if aux == nil {
		return []string{ci}
	}
	for m := range aux.cis {
		if p := e.topo.Path(m, ci, e.cfg.maxHops); p != nil {
			return p
		}
	}
	return []string{ci}
}

// updateRoot keeps the incident's root cause the most upstream alerting CI,
// or the nearest CI that all of them depend on when none is upstream of
// the others (inferred: it raises no alert of its own).
func (e *Engine) updateRoot(in *incident.Incident, ep *Episode) {
	e.updateRootCI(in, ep.CI, alertnameOr(ep))
}

// updateRootCI updates the root cause for a CI x that alerts in the incident.
func (e *Engine) updateRootCI(in *incident.Incident, x, alertname string) {
	r := in.RootCauseCI
	hops := e.cfg.maxHops + 2
	aux := e.aux[in.ID]
	alerting := func(ci string) bool { return aux != nil && aux.cis[ci] > 0 }
	newRoot, inferred := r, in.RootCauseInferred
	switch {
	case r == "":
		newRoot, inferred = x, false
	case r == x:
		inferred = false
	case e.topo.Path(x, r, hops) != nil:
		// The root is upstream of the new CI: it stays.
	case e.topo.Path(r, x, hops) != nil:
		newRoot, inferred = x, false
	default:
		if lca, ok := e.topo.CommonAncestor([]string{r, x}, hops); ok {
			newRoot, inferred = lca, !alerting(lca)
		}
	}
	if newRoot == r && inferred == in.RootCauseInferred {
		return
	}
	in.RootCauseCI, in.RootCauseInferred = newRoot, inferred
	how := "the most upstream alerting CI"
	if inferred {
		how = "inferred: several CIs that depend on it alert, and it does not"
	}
	e.event(in, incident.Event{Kind: "root_cause", Comment: fmt.Sprintf("root cause CI %s (%s)", newRoot, how),
		Data: map[string]string{"ci": newRoot}})
	if in.Method == MethodTopology {
		title := fmt.Sprintf("%s on %s", alertname, newRoot)
		if inferred {
			title = fmt.Sprintf("%s suspected: alerts on CIs that depend on it", newRoot)
		}
		in.Title = title
	}
}

func alertnameOr(ep *Episode) string {
	if n := ep.Labels["alertname"]; n != "" {
		return n
	}
	return "Alert"
}

// openTopology opens a topology incident for an alert on a CI that is
// linked to no open incident.
func (e *Engine) openTopology(ep *Episode) {
	x, window := ep.CI, formatWindow(e.cfg.topoWindow)
	in := e.open(ep, MethodTopology, "", fmt.Sprintf("%s on %s", alertnameOr(ep), x), map[string]string{"ci": x})
	in.RootCauseCI = x
	e.join(in, ep, &incident.Explanation{Method: MethodTopology, Window: window, CIPath: []string{x}, Score: 1,
		Reason: fmt.Sprintf("opened %s: first alert on CI %s, with no alerting CI linked to it within %d hops and %s, and no similar open incident",
			in.ID, x, e.cfg.maxHops, window)})
}

func hopsText(n int) string {
	if n == 1 {
		return "1 hop"
	}
	return fmt.Sprintf("%d hops", n)
}

// isSymptom reports whether an alert name looks like a consequence of an
// upstream failure; answers are cached per name.
func (e *Engine) isSymptom(name string) bool {
	v, ok := e.symptomCache[name]
	if !ok {
		v = e.cfg.symptoms.MatchString(name)
		if len(e.symptomCache) < 100000 {
			e.symptomCache[name] = v
		}
	}
	return v
}

// mergeCascade merges src into dst: an alert of dst (ep) is linked through
// the dependency graph to src's alerts as well, so both are one cascade.
func (e *Engine) mergeCascade(src, dst *incident.Incident, ep *Episode, link *topoCandidate) {
	if src == nil || src == dst || !src.Status.Open() || src.Method != MethodTopology {
		return
	}
	reason := fmt.Sprintf("%s on %s links it to both incidents (via %s)", alertnameOr(ep), ep.CI, link.via)
	req := incident.Request{Action: incident.ActionMerge, Actor: incident.ActorSystem, At: e.clock, Into: dst.ID,
		Comment: "one cascade: " + reason}
	evs, err := e.wf.Apply(src, req)
	if err != nil {
		return
	}
	e.emit(src, evs...)
	aux := e.aux[src.ID]
	moving := make([]*Episode, 0, len(aux.episodes))
	for m := range aux.episodes {
		moving = append(moving, m)
	}
	// Deterministic order: the order of the episodes' arrival.
	sort.Slice(moving, func(i, j int) bool { return moving[i].ID < moving[j].ID })
	e.moveEpisodes(src, dst, moving, req)
	for _, m := range moving {
		m.Explanation = &incident.Explanation{Method: MethodTopology, Window: formatWindow(e.cfg.topoWindow), Score: link.score,
			CIPath: []string{m.CI}, Reason: fmt.Sprintf("merged from %s into %s: %s", src.ID, dst.ID, reason)}
		e.indexMember(dst, e.aux[dst.ID], m)
	}
	if src.RootCauseCI != "" {
		e.updateRootCI(dst, src.RootCauseCI, alertnameOr(ep))
	}
}
