package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/topology"
)

// problemStore is what problem management needs from a store.
type problemStore interface {
	Problems(ctx context.Context) ([]problem.Problem, error)
	Problem(ctx context.Context, id string) (problem.Problem, error)
	SaveProblems(ctx context.Context, ps []problem.Problem) error
	ForEachIncident(ctx context.Context, since time.Time, fn func(incident.Incident, []correlate.Episode) error) error
}

// problems runs recurrence detection and the problem managers' actions,
// and keeps the engine's known errors current. Its methods are safe for
// concurrent use; one detection or action runs at a time.
type problems struct {
	cfg    problem.Config
	signer *problem.Signer
	store  problemStore
	topo   func() *topology.Topology
	// setKnownErrors hands the known errors to the engine.
	setKnownErrors func(ctx context.Context, ke []correlate.KnownError) error
	mu             sync.Mutex
}

func newProblems(cfg problem.Config, store problemStore, topo func() *topology.Topology,
	setKE func(context.Context, []correlate.KnownError) error) (*problems, error) {
	signer, err := problem.NewSigner(cfg)
	if err != nil {
		return nil, fmt.Errorf("problem: %w", err)
	}
	return &problems{cfg: cfg, signer: signer, store: store, topo: topo, setKnownErrors: setKE}, nil
}

// Detect finds recurring incidents among those opened since since and
// saves the new and changed problems. It returns how many problems are new.
func (s *problems) Detect(ctx context.Context, now, since time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	existing, err := s.store.Problems(ctx)
	if err != nil {
		return 0, err
	}
	topo := s.topo()
	var occs []problem.Occurrence
	err = s.store.ForEachIncident(ctx, since, func(in incident.Incident, eps []correlate.Episode) error {
		if in.Status == incident.StatusMerged || in.Status == incident.StatusRejected || len(eps) == 0 {
			return nil
		}
		si := correlate.SignatureInput(&in, eps, topo)
		if in.RootCauseCI != "" && in.RootCauseInferred {
			si.RootCauseInferred = true
			si.Branches = branches(topo, si.CIs)
		}
		o := problem.Occurrence{IncidentID: in.ID, Sig: s.signer.Signature(si), Class: s.signer.Class(si),
			RootCauseCI: in.RootCauseCI, CIs: si.CIs, Services: si.Services, OpenedAt: in.OpenedAt,
			Priority: problem.Priority(in.Priority), ActiveUntil: activeUntil(eps)}
		if in.ResolvedAt != nil {
			o.ResolvedAt = *in.ResolvedAt
		}
		occs = append(occs, o)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("problem detection: %w", err)
	}
	res := problem.Detect(s.cfg, occs, existing, now)
	if res.Empty() {
		return 0, nil
	}
	var seq int64
	for _, p := range existing {
		if n, err := strconv.ParseInt(strings.TrimPrefix(p.ID, "PRB-"), 10, 64); err == nil && n > seq {
			seq = n
		}
	}
	var changed []problem.Problem
	for _, p := range res.New {
		seq++
		p.ID = problem.FormatID(seq)
		changed = append(changed, p)
	}
	for _, list := range [][]problem.Update{res.Updated, res.Recurred, res.Reproposed} {
		for _, u := range list {
			changed = append(changed, u.Problem)
		}
	}
	if err := s.store.SaveProblems(ctx, changed); err != nil {
		return 0, err
	}
	return len(res.New), s.refreshKnownErrors(ctx)
}

// branches returns the alerting CIs of an incident whose root cause was
// inferred that depend on no other of them: the CIs the root was inferred
// from (problem.SignatureInput.Branches). Without a topology, all of them.
func branches(topo *topology.Topology, cis []string) []string {
	if topo == nil || len(cis) < 2 {
		return cis
	}
	alerting := make(map[string]bool, len(cis))
	for _, ci := range cis {
		alerting[ci] = true
	}
	var out []string
	for _, ci := range cis {
		top := true
		for _, a := range topo.Ancestors(ci, topo.Len()) {
			if alerting[a.ID] {
				top = false
				break
			}
		}
		if top {
			out = append(out, ci)
		}
	}
	return out
}

// activeUntil is how long an incident's alerts are known to have fired:
// the latest end of its episodes, and for an episode still firing the
// latest notification that said so (a firing alert is notified again every
// repeat interval). An episode that is never resolved, such as a firing
// period of a flapping alert whose resolution fell between two
// notifications, so does not keep the incident active for ever.
func activeUntil(eps []correlate.Episode) time.Time {
	var until time.Time
	for i := range eps {
		end := eps[i].EndsAt
		if eps[i].Firing() || end.IsZero() {
			end = eps[i].LastSeen
		}
		if end.After(until) {
			until = end
		}
	}
	return until
}

// Act applies a problem manager's action.
func (s *problems) Act(ctx context.Context, id string, a problem.Action) (problem.Problem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.store.Problem(ctx, id)
	if err != nil {
		return p, err
	}
	if err := p.Apply(s.cfg, a); err != nil {
		return p, err
	}
	if err := s.store.SaveProblems(ctx, []problem.Problem{p}); err != nil {
		return p, err
	}
	return p, s.refreshKnownErrors(ctx)
}

// refreshKnownErrors gives the engine the problems with a workaround.
func (s *problems) refreshKnownErrors(ctx context.Context) error {
	if s.setKnownErrors == nil {
		return nil
	}
	all, err := s.store.Problems(ctx)
	if err != nil {
		return err
	}
	var ke []correlate.KnownError
	for _, p := range all {
		if p.HasWorkaround() && (p.Status == problem.StatusKnownError || p.Status == problem.StatusConfirmed) {
			ke = append(ke, correlate.KnownError{ProblemID: p.ID, SignatureKey: p.SignatureKey, Workaround: p.Workaround})
		}
	}
	return s.setKnownErrors(ctx, ke)
}

// List returns the problems, filtered by status and a search query.
func (s *problems) List(ctx context.Context, statuses []problem.Status, q string) ([]problem.Problem, error) {
	all, err := s.store.Problems(ctx)
	if err != nil {
		return nil, err
	}
	if q != "" {
		all = problem.Search(all, q)
	}
	if len(statuses) == 0 {
		return all, nil
	}
	out := all[:0]
	for _, p := range all {
		for _, st := range statuses {
			if p.Status == st {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// Get returns one problem.
func (s *problems) Get(ctx context.Context, id string) (problem.Problem, error) {
	return s.store.Problem(ctx, id)
}
