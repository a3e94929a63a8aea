package correlate

import (
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// incAux is the engine's grouping state of one incident in memory.
type incAux struct {
	// cis counts the member episodes per alerting CI (topology).
	cis map[string]int
	// underKeys are the ancestor CIs under which this incident is indexed.
	underKeys map[string]struct{}
	// reps are up to maxReps member alerts that similarity compares with.
	reps []*simRep
	// simNames are the alert names under which it is indexed for similarity.
	simNames map[string]struct{}
	// episodes are the member episodes in memory, for merges; evicted
	// episodes leave it with the engine's memory.
	episodes map[*Episode]struct{}
	// fixedPriority is a rule's priority, which severities do not change.
	fixedPriority incident.Priority
	// allCIs and services are the CIs and business services its alerts
	// touch, for the impact of its priority.
	allCIs   map[string]struct{}
	services map[string]struct{}
	// sameCI holds the explanation of an alert that joined because its CI
	// already alerts in the incident, by CI: every such alert of one CI has
	// the same explanation, so they share one (explanations are never
	// changed once made).
	sameCI map[string]*incident.Explanation
}

const maxReps = 3

// auxOf returns the incident's aux, made on first use.
func (e *Engine) auxOf(in *incident.Incident) *incAux {
	aux := e.aux[in.ID]
	if aux == nil {
		aux = &incAux{}
		e.aux[in.ID] = aux
	}
	return aux
}

// memberJoined indexes a new member of an incident for the method that
// formed the incident.
func (e *Engine) memberJoined(in *incident.Incident, ep *Episode) {
	aux := e.auxOf(in)
	if aux.episodes == nil {
		aux.episodes = map[*Episode]struct{}{}
	}
	aux.episodes[ep] = struct{}{}
	e.indexMember(in, aux, ep)
}

// indexMember indexes a member episode for topology and similarity.
func (e *Engine) indexMember(in *incident.Incident, aux *incAux, ep *Episode) {
	switch in.Method {
	case MethodTopology:
		if ep.CI == "" {
			break
		}
		if aux.cis == nil {
			aux.cis, aux.underKeys = map[string]int{}, map[string]struct{}{}
		}
		aux.cis[ep.CI]++
		byInc := e.members[ep.CI]
		if byInc == nil {
			byInc = map[string]time.Time{}
			e.members[ep.CI] = byInc
		}
		if ep.StartsAt.After(byInc[in.ID]) {
			byInc[in.ID] = ep.StartsAt
		}
		name := ep.Labels["alertname"]
		kk := kindKey(ep.CI, e.isSymptom(name))
		byKind := e.sameKind[kk]
		if byKind == nil {
			byKind = map[string]time.Time{}
			e.sameKind[kk] = byKind
		}
		if ep.StartsAt.After(byKind[in.ID]) {
			byKind[in.ID] = ep.StartsAt
		}
		for _, h := range e.topo.Ancestors(ep.CI, e.cfg.maxHops) {
			byInc := e.under[h.ID]
			if byInc == nil {
				byInc = map[string]map[string]time.Time{}
				e.under[h.ID] = byInc
			}
			names := byInc[in.ID]
			if names == nil {
				names = map[string]time.Time{}
				byInc[in.ID] = names
			}
			if ep.StartsAt.After(names[name]) {
				names[name] = ep.StartsAt
			}
			aux.underKeys[h.ID] = struct{}{}
		}
	}
	if in.Method == MethodTopology || in.Method == MethodSimilarity {
		rep := newSimRep(ep.Labels, ep.Annotations["summary"], e.cfg.scopeLabels)
		switch {
		case len(aux.reps) < maxReps:
			aux.reps = append(aux.reps, rep)
		default:
			// Keep the first member and the latest ones.
			copy(aux.reps[1:], aux.reps[2:])
			aux.reps[len(aux.reps)-1] = rep
		}
		if aux.simNames == nil {
			aux.simNames = map[string]struct{}{}
		}
		aux.simNames[rep.name] = struct{}{}
		addSet(e.simIdx, rep.name, in.ID)
	}
}

// unindex removes an incident from every index.
func (e *Engine) unindex(in *incident.Incident) {
	aux := e.aux[in.ID]
	if aux == nil {
		return
	}
	for ci := range aux.cis {
		for _, idx := range []struct {
			m map[string]map[string]time.Time
			k string
		}{{e.members, ci}, {e.sameKind, kindKey(ci, true)}, {e.sameKind, kindKey(ci, false)}} {
			if m := idx.m[idx.k]; m != nil {
				delete(m, in.ID)
				if len(m) == 0 {
					delete(idx.m, idx.k)
				}
			}
		}
	}
	for a := range aux.underKeys {
		if m := e.under[a]; m != nil {
			delete(m, in.ID)
			if len(m) == 0 {
				delete(e.under, a)
			}
		}
	}
	for name := range aux.simNames {
		delSet(e.simIdx, name, in.ID)
	}
}

func addSet(m map[string]map[string]struct{}, k, v string) {
	s := m[k]
	if s == nil {
		s = map[string]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func delSet(m map[string]map[string]struct{}, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// kindKey indexes a CI's alerts by whether they are symptoms.
func kindKey(ci string, symptom bool) string {
	if symptom {
		return ci + "\x00s"
	}
	return ci + "\x00f"
}
