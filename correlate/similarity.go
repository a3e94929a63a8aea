package correlate

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/topology"
)

// simRep is an alert reduced to what similarity compares.
type simRep struct {
	name   string
	scope  map[string]string
	labels map[string]string // normalized values, alertname and scope left out
	raw    map[string]string
	words  map[string]struct{}
}

func newSimRep(labels map[string]string, summary string, scope []string) *simRep {
	r := &simRep{name: labels["alertname"], scope: map[string]string{}, labels: map[string]string{}, raw: labels,
		words: map[string]struct{}{}}
	inScope := map[string]bool{}
	for _, k := range scope {
		inScope[k] = true
		if v, ok := labels[k]; ok {
			r.scope[k] = v
		}
	}
	for k, v := range labels {
		if k == "alertname" || inScope[k] {
			continue
		}
		r.labels[k] = normalizeValue(v)
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(summary), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	}) {
		r.words[normalizeValue(w)] = struct{}{}
	}
	return r
}

// normalizeValue folds the volatile parts of a label value: ports, digit
// runs and long hex runs (pod hashes, ids), so node-1 and node-2 compare equal.
func normalizeValue(v string) string {
	v = strings.ToLower(topology.StripPort(v))
	var b strings.Builder
	run := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= '0' && c <= '9' {
			if run == 0 {
				b.WriteByte('#')
			}
			run++
			continue
		}
		run = 0
		b.WriteByte(c)
	}
	return b.String()
}

// similarity scores two alerts in [0,1]: 0 when their scope labels differ;
// otherwise 0.4 for the same alert name, 0.4 times the share of labels
// with equal normalized values, 0.2 times the share of shared summary
// words (the summary weight goes to the others when neither has one).
func similarity(a, b *simRep) float64 {
	for k, v := range a.scope {
		if w, ok := b.scope[k]; ok && w != v {
			return 0
		}
	}
	name := 0.0
	if a.name == b.name {
		name = 1
	}
	labels := jaccardMap(a.labels, b.labels)
	if len(a.words) == 0 && len(b.words) == 0 {
		return (0.4*name + 0.4*labels) / 0.8
	}
	return 0.4*name + 0.4*labels + 0.2*jaccardSet(a.words, b.words)
}

func jaccardMap(a, b map[string]string) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for k, v := range a {
		if w, ok := b[k]; ok && w == v {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func jaccardSet(a, b map[string]struct{}) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for k := range a {
		if _, ok := b[k]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// groupSimilarity joins an alert to the open incident whose members it
// resembles most, if the score reaches the threshold within the window, or
// opens one: a topology incident for an alert on a CI, else a similarity one.
func (e *Engine) groupSimilarity(ep *Episode) {
	rep := newSimRep(ep.Labels, ep.Annotations["summary"], e.cfg.scopeLabels)
	t, w := ep.StartsAt, e.cfg.simWindow
	var best *incident.Incident
	var bestScore float64
	var bestRep *simRep
	for id := range e.simIdx[rep.name] {
		in := e.incidents[id]
		if in == nil || !in.Status.Open() || !e.inWindow(in, t, w) {
			continue
		}
		for _, r := range e.aux[id].reps {
			s := similarity(rep, r)
			if s > bestScore || (s == bestScore && best != nil && in.Seq < best.Seq) {
				best, bestScore, bestRep = in, s, r
			}
		}
	}
	window := formatWindow(w)
	if (best == nil || bestScore < e.cfg.simThreshold) && ep.CI != "" {
		e.openTopology(ep)
		return
	}
	if best == nil || bestScore < e.cfg.simThreshold {
		in := e.open(ep, MethodSimilarity, "", defaultTitle(ep, rep.scope), rep.scope)
		e.join(in, ep, &incident.Explanation{Method: MethodSimilarity, Window: window, Score: 1, SharedLabels: rep.scope,
			Reason: fmt.Sprintf("opened %s: no open incident within %s resembles this alert (threshold %.2f)",
				in.ID, window, e.cfg.simThreshold)})
		return
	}
	shared := map[string]string{}
	for k, v := range ep.Labels {
		if bestRep.raw[k] == v {
			shared[k] = v
		}
	}
	names := make([]string, 0, len(shared))
	for k := range shared {
		names = append(names, k)
	}
	sort.Strings(names)
	e.join(best, ep, &incident.Explanation{Method: MethodSimilarity, Window: window, Score: round2(bestScore), SharedLabels: shared,
		Reason: fmt.Sprintf("joined %s: similarity %.2f (threshold %.2f) with its alerts, sharing %s, within %s",
			best.ID, bestScore, e.cfg.simThreshold, strings.Join(names, ", "), window)})
	e.unlinkedCI(best, ep)
}

// unlinkedCI clears the root cause of an incident that an alert joined by
// similarity from a CI unrelated to that root in the dependency graph: alike
// symptoms on unrelated CIs do not tell which one is the cause.
func (e *Engine) unlinkedCI(in *incident.Incident, ep *Episode) {
	r := in.RootCauseCI
	if r == "" || ep.CI == "" || ep.CI == r {
		return
	}
	hops := e.cfg.maxHops + 2
	if e.topo.Path(ep.CI, r, hops) != nil || e.topo.Path(r, ep.CI, hops) != nil {
		return
	}
	in.RootCauseCI, in.RootCauseInferred = "", false
	e.event(in, incident.Event{Kind: "root_cause", Comment: fmt.Sprintf(
		"root cause unknown: alike alerts on %s and %s, which do not depend on one another", r, ep.CI)})
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
