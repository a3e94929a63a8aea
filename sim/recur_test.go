package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	vproblem "github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/topology"
)

// recurCase is one simulation checked against the recurrence rule.
type recurCase struct {
	cfg   Config
	large bool
}

func recurCases() []recurCase {
	var cs []recurCase
	for _, seed := range []uint64{1, 2, 3} {
		cs = append(cs, recurCase{cfg: Config{Seed: seed, Scale: "small"}})
	}
	cs = append(cs, recurCase{cfg: smallCfg}, recurCase{cfg: Config{Seed: 1, Scale: "large"}, large: true})
	return cs
}

// truthIncident is a true incident seen as Vigia would see it if it
// grouped perfectly: its delivered episodes' labels and CIs.
type truthIncident struct {
	TruthIncident
	opened time.Time
	labels []map[string]string
	cis    []string
	types  map[string]string
}

var (
	incMu    sync.Mutex
	incCache = map[Config]*incidentsOf{}
)

type incidentsOf struct {
	once  sync.Once
	incs  []*truthIncident
	truth *Truth
	err   error
}

// truthIncidents reads a simulation's truth, topology and replay file
// (once per configuration) into its true incidents as delivered.
func truthIncidents(t *testing.T, cfg Config) ([]*truthIncident, *Truth) {
	t.Helper()
	incMu.Lock()
	c := incCache[cfg]
	if c == nil {
		c = &incidentsOf{}
		incCache[cfg] = c
	}
	incMu.Unlock()
	c.once.Do(func() { c.incs, c.truth, c.err = readIncidents(simulate(t, cfg)) })
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.incs, c.truth
}

func readIncidents(f *simFiles) ([]*truthIncident, *Truth, error) {
	topo, err := topology.Parse(f.topo)
	if err != nil {
		return nil, nil, err
	}
	var tr Truth
	if err := json.Unmarshal(f.truthJSON, &tr); err != nil {
		return nil, nil, err
	}
	// The labels of every episode as first delivered.
	labels := map[string]map[string]string{}
	add := func(fp, start string, l map[string]string) {
		if k := fp + " " + start; labels[k] == nil {
			labels[k] = l
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(f.replay))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l struct {
			Source string `json:"source"`
			Body   struct {
				replayWebhook
				replayEvents
			} `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, nil, err
		}
		for _, a := range l.Body.Alerts {
			add(a.Fingerprint, a.StartsAt, a.Labels)
		}
		for _, e := range l.Body.Events {
			fp := e.Fingerprint
			if fp == "" {
				fp = EventFingerprint(e.Source, e.Severity, e.Summary, e.Labels)
			}
			add(fp, e.StartsAt, e.Labels)
		}
	}
	byID := map[string]*truthIncident{}
	var out []*truthIncident
	for _, in := range tr.Incidents {
		x := &truthIncident{TruthIncident: in, types: map[string]string{}}
		byID[in.ID] = x
		out = append(out, x)
	}
	for _, ep := range tr.Episodes {
		x := byID[ep.Incident]
		l := labels[ep.Fingerprint+" "+ep.StartsAt]
		if l == nil {
			return nil, nil, fmt.Errorf("episode %s %s is not in the replay file", ep.Fingerprint, ep.StartsAt)
		}
		at, err := time.Parse(time.RFC3339Nano, ep.StartsAt)
		if err != nil {
			return nil, nil, err
		}
		if x.opened.IsZero() || at.Before(x.opened) {
			x.opened = at
		}
		x.labels = append(x.labels, l)
		if ci, _ := topo.Map(l); ci != "" && !slices.Contains(x.cis, ci) {
			x.cis = append(x.cis, ci)
			if c, ok := topo.Get(ci); ok {
				x.types[ci] = c.Type
			}
		}
	}
	return out, &tr, nil
}

func (x *truthIncident) sigInput() vproblem.SignatureInput {
	return vproblem.SignatureInput{Labels: x.labels, CIs: x.cis, CITypes: x.types, RootCauseCI: x.RootCauseCI}
}

// TestOneOffFaultsDoNotRecur checks the truth against the definition of
// a recurring problem (package documentation), independently of the
// generator's own bookkeeping: with Vigia's signatures and the labels as
// delivered, no alert of a one-off fault occurs on one target in 3 or more
// one-off incidents, none on the target of a recurring problem, and the
// signatures of one-off incidents do not recur either.
func TestOneOffFaultsDoNotRecur(t *testing.T) {
	t.Parallel()
	for _, c := range recurCases() {
		t.Run(fmt.Sprintf("%s-%d", c.cfg.Scale, c.cfg.Seed), func(t *testing.T) {
			if c.large && testing.Short() {
				t.Skip("large simulation")
			}
			t.Parallel()
			incs, _ := truthIncidents(t, c.cfg)
			type use struct {
				oneOff   []time.Time
				problems map[string]bool
			}
			uses := map[string]*use{}
			count := func(key string, x *truthIncident) {
				u := uses[key]
				if u == nil {
					u = &use{problems: map[string]bool{}}
					uses[key] = u
				}
				if x.Problem != "" {
					u.problems[x.Problem] = true
				} else {
					u.oneOff = append(u.oneOff, x.opened)
				}
			}
			for _, x := range incs {
				keys := map[string]bool{"incident " + vproblem.Signature(x.sigInput()).Text: true}
				for _, l := range x.labels {
					// One alert on its target: the incident's root CI,
					// else its own labels.
					in := vproblem.SignatureInput{Labels: []map[string]string{l}, RootCauseCI: x.RootCauseCI}
					keys["alert "+vproblem.Signature(in).Text] = true
				}
				for k := range keys {
					count(k, x)
				}
			}
			checked := 0
			for _, k := range sortedKeys(uses) {
				u := uses[k]
				slices.SortFunc(u.oneOff, func(a, b time.Time) int { return a.Compare(b) })
				for i := 0; i+RecurMin-1 < len(u.oneOff); i++ {
					if u.oneOff[i+RecurMin-1].Sub(u.oneOff[i]) <= RecurWindow {
						t.Errorf("%s: %d one-off incidents from %s to %s", k, len(u.oneOff),
							u.oneOff[i].Format(time.DateTime), u.oneOff[len(u.oneOff)-1].Format(time.DateTime))
						break
					}
				}
				if len(u.problems) > 1 || len(u.problems) == 1 && len(u.oneOff) > 0 {
					t.Errorf("%s: in problems %v and in %d one-off incidents", k, sortedKeys(u.problems), len(u.oneOff))
				}
				checked++
			}
			t.Logf("%d incidents, %d alert and incident keys", len(incs), checked)
		})
	}
}

// TestPerfectGroupingFindsTheTruthProblems runs Vigia's recurrence
// detection (signatures, the default min_incidents and window) on the
// truth's own incidents: it must propose exactly the truth's problems,
// each candidate holding occurrences of one problem only, and every
// problem found.
func TestPerfectGroupingFindsTheTruthProblems(t *testing.T) {
	t.Parallel()
	for _, c := range recurCases() {
		t.Run(fmt.Sprintf("%s-%d", c.cfg.Scale, c.cfg.Seed), func(t *testing.T) {
			if c.large && testing.Short() {
				t.Skip("large simulation")
			}
			t.Parallel()
			incs, tr := truthIncidents(t, c.cfg)
			occs := make([]vproblem.Occurrence, 0, len(incs))
			byID := map[string]*truthIncident{}
			var last time.Time
			for _, x := range incs {
				byID[x.ID] = x
				occs = append(occs, vproblem.Occurrence{IncidentID: x.ID, Sig: vproblem.Signature(x.sigInput()),
					RootCauseCI: x.RootCauseCI, CIs: x.cis, OpenedAt: x.opened, ResolvedAt: x.opened.Add(time.Minute)})
				if x.opened.After(last) {
					last = x.opened
				}
			}
			cfg := vproblem.DefaultConfig()
			cfg.ByClass, cfg.ByCI = false, false
			res := vproblem.Detect(cfg, occs, nil, last.Add(time.Hour))
			found := map[string][]string{}
			for _, p := range res.New {
				var of []string
				for _, id := range p.IncidentIDs {
					if pr := byID[id].Problem; !slices.Contains(of, pr) {
						of = append(of, pr)
					}
				}
				if len(of) != 1 || of[0] == "" {
					t.Errorf("candidate %q (%d incidents) holds occurrences of %q", p.Signature, len(p.IncidentIDs), of)
					continue
				}
				found[of[0]] = append(found[of[0]], p.Signature)
			}
			if len(tr.Problems) < 3 {
				t.Errorf("%d truth problems", len(tr.Problems))
			}
			for _, p := range tr.Problems {
				if len(found[p.ID]) == 0 {
					t.Errorf("truth problem %s (%s, %d occurrences) is not found", p.ID, p.Class, len(p.IncidentIDs))
				}
			}
			t.Logf("%d truth problems, %d candidates: %v", len(tr.Problems), len(res.New), found)
		})
	}
}
