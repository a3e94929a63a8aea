package correlate

import (
	"fmt"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/topology"
)

// KnownError is a problem with a recorded workaround, as the engine needs it
// to link new incidents of the same signature at once.
type KnownError struct {
	ProblemID    string
	SignatureKey string
	Workaround   string
}

// SetKnownErrors replaces the known errors new incidents are matched with.
func (e *Engine) SetKnownErrors(list []KnownError) {
	m := make(map[string]KnownError, len(list))
	for _, k := range list {
		m[k.SignatureKey] = k
	}
	e.kedb = m
}

// SignatureInput describes an incident for its problem signature. The
// problem detection job and the engine use it, so both compute the same key.
func SignatureInput(in *incident.Incident, eps []Episode, topo *topology.Topology) problem.SignatureInput {
	si := problem.SignatureInput{RootCauseCI: in.RootCauseCI, CITypes: map[string]string{}}
	names, cis, svcs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range eps {
		ep := &eps[i]
		if n := ep.Labels["alertname"]; n != "" && !names[n] {
			names[n] = true
			si.AlertNames = append(si.AlertNames, n)
		}
		si.Labels = append(si.Labels, ep.Labels)
		if ep.CI != "" && !cis[ep.CI] {
			cis[ep.CI] = true
			si.CIs = append(si.CIs, ep.CI)
			if c, ok := topo.Get(ep.CI); ok {
				si.CITypes[ep.CI] = c.Type
				if c.Service != "" && !svcs[c.Service] {
					svcs[c.Service] = true
					si.Services = append(si.Services, c.Service)
				}
			}
		}
	}
	return si
}

// matchKnownError links a new incident to a known error whose signature its
// first alert matches, and gives it the workaround.
func (e *Engine) matchKnownError(in *incident.Incident, ep *Episode) {
	if len(e.kedb) == 0 || in.ProblemID != "" {
		return
	}
	sig := e.signer.Signature(SignatureInput(in, []Episode{*ep}, e.topo))
	k, ok := e.kedb[sig.Key]
	if !ok {
		return
	}
	in.ProblemID, in.Workaround = k.ProblemID, k.Workaround
	e.event(in, incident.Event{Kind: "known_error", Comment: fmt.Sprintf("matches known error %s: workaround: %s", k.ProblemID, k.Workaround),
		Data: map[string]string{"problem_id": k.ProblemID}})
}
