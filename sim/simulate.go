package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Truth is the ground truth of one simulation (truth.json).
type Truth struct {
	Seed      uint64          `json:"seed"`
	Scale     string          `json:"scale"`
	Days      int             `json:"days"`
	Episodes  []TruthEpisode  `json:"episodes"`
	Incidents []TruthIncident `json:"incidents"`
	Problems  []TruthProblem  `json:"problems"`
}

// TruthEpisode is one alert episode delivered, and the incident it is
// part of.
type TruthEpisode struct {
	Fingerprint string `json:"fingerprint"`
	StartsAt    string `json:"starts_at"` // exactly the text sent
	Incident    string `json:"incident"`
	RootCauseCI string `json:"root_cause_ci"`
	Flapping    bool   `json:"flapping"`
	Problem     string `json:"problem"`
}

// TruthIncident is one fault.
type TruthIncident struct {
	ID           string `json:"id"`
	Class        string `json:"class"`
	RootCauseCI  string `json:"root_cause_ci"`
	RootAlerting bool   `json:"root_alerting"` // the root CI raised an alert itself
	Problem      string `json:"problem"`
	Flapping     bool   `json:"flapping,omitempty"`
}

// TruthProblem is one recurring fault and its occurrences.
type TruthProblem struct {
	ID          string   `json:"id"`
	Class       string   `json:"class"`
	IncidentIDs []string `json:"incident_ids"`
}

// Result is one simulation in memory.
type Result struct {
	Config     Config
	Topology   []byte
	Truth      *Truth
	Stats      Stats
	deliveries []*delivery
}

// Stats summarise a simulation.
type Stats struct {
	CIs             int
	CIsByType       map[string]int
	Incidents       int
	IncidentsByCls  map[string]int
	Episodes        int
	Deliveries      int
	BySource        map[string]int
	HADuplicates    int
	Late            int
	EpisodesBySrc   map[string]int
	SilentRoots     int
	FlappingEps     int
	Problems        int
	ProblemIncident int
}

// Generate runs one simulation.
func Generate(cfg Config) (*Result, error) {
	sh, ok := shapes[cfg.Scale]
	if !ok {
		return nil, fmt.Errorf("unknown scale %q (want small or large)", cfg.Scale)
	}
	if cfg.Days == 0 {
		cfg.Days = DefaultDays(cfg.Scale)
	}
	if cfg.Days < 2 || cfg.Days > 366 {
		return nil, fmt.Errorf("days %d: want 2 to 366", cfg.Days)
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5649474941534d31)) // "VIGIASM1"
	e := buildEstate(r, sh)
	nHosts := 0
	for _, dc := range e.dcs {
		nHosts += len(dc.hosts)
	}
	g := &gen{r: r, e: e, scale: cfg.Scale, days: cfg.Days, t0: cfg.Start.UTC(),
		tEnd: cfg.Start.UTC().Add(time.Duration(cfg.Days) * 24 * time.Hour), mult: float64(nHosts) / 200,
		occ: map[string][]span{}, count: map[string]int{}, reserved: map[string]bool{},
		oneOff: map[string][]time.Time{}, owned: map[string]string{}}
	probs := g.schedule()
	ds := g.emulate()
	res := &Result{Config: cfg, Topology: e.topologyYAML(cfg.Seed, cfg.Scale), deliveries: ds}
	t, err := buildTruth(cfg, g.faults, probs, ds)
	if err != nil {
		return nil, err
	}
	res.Truth = t
	res.Stats = stats(e, t, ds)
	return res, nil
}

// buildTruth lists every episode delivered, in the order first delivered,
// and the incidents and problems they belong to.
func buildTruth(cfg Config, faults []*fault, probs []problem, ds []*delivery) (*Truth, error) {
	t := &Truth{Seed: cfg.Seed, Scale: cfg.Scale, Days: cfg.Days, Episodes: []TruthEpisode{},
		Incidents: []TruthIncident{}, Problems: []TruthProblem{}}
	seen := map[string]*episode{}
	delivered := map[*fault]bool{}
	rootAlerting := map[*fault]bool{}
	var order []*episode
	for _, d := range ds {
		for _, a := range d.alerts {
			key := a.ep.fp + "|" + a.ep.startText
			if prev, ok := seen[key]; ok {
				if prev != a.ep {
					return nil, fmt.Errorf("sim: two episodes share fingerprint %s and startsAt %s", a.ep.fp, a.ep.startText)
				}
				continue
			}
			seen[key] = a.ep
			order = append(order, a.ep)
			delivered[a.ep.f] = true
			if a.ep.ci != "" && a.ep.ci == a.ep.f.root {
				rootAlerting[a.ep.f] = true
			}
		}
	}
	n := 0
	for _, f := range faults {
		if !delivered[f] {
			continue
		}
		n++
		f.id = fmt.Sprintf("T-%06d", n)
		t.Incidents = append(t.Incidents, TruthIncident{ID: f.id, Class: f.class, RootCauseCI: f.root,
			RootAlerting: rootAlerting[f], Problem: f.problem, Flapping: f.flapping})
	}
	for _, ep := range order {
		t.Episodes = append(t.Episodes, TruthEpisode{Fingerprint: ep.fp, StartsAt: ep.startText, Incident: ep.f.id,
			RootCauseCI: ep.f.root, Flapping: ep.f.flapping, Problem: ep.f.problem})
	}
	for _, p := range probs {
		tp := TruthProblem{ID: p.id, Class: p.class, IncidentIDs: []string{}}
		for _, f := range faults {
			if f.problem == p.id && f.id != "" {
				tp.IncidentIDs = append(tp.IncidentIDs, f.id)
			}
		}
		if len(tp.IncidentIDs) > 0 {
			t.Problems = append(t.Problems, tp)
		}
	}
	return t, nil
}

func stats(e *estate, t *Truth, ds []*delivery) Stats {
	s := Stats{CIs: len(e.nodes), CIsByType: map[string]int{}, Incidents: len(t.Incidents), IncidentsByCls: map[string]int{},
		Episodes: len(t.Episodes), Deliveries: len(ds), BySource: map[string]int{}, EpisodesBySrc: map[string]int{},
		Problems: len(t.Problems)}
	for _, n := range e.nodes {
		s.CIsByType[n.typ]++
	}
	for _, in := range t.Incidents {
		s.IncidentsByCls[in.Class]++
		if in.RootCauseCI != "" && !in.RootAlerting {
			s.SilentRoots++
		}
		if in.Problem != "" {
			s.ProblemIncident++
		}
	}
	for _, ep := range t.Episodes {
		if ep.Flapping {
			s.FlappingEps++
		}
	}
	seen := map[*episode]bool{}
	for _, d := range ds {
		s.BySource[d.source]++
		if d.dup {
			s.HADuplicates++
		}
		if d.late {
			s.Late++
		}
		for _, a := range d.alerts {
			if !seen[a.ep] {
				seen[a.ep] = true
				s.EpisodesBySrc[d.source]++
			}
		}
	}
	return s
}

// WriteReplay writes the replay file (contract §3), deliveries in received
// order.
func (r *Result) WriteReplay(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf bytes.Buffer
	for _, d := range r.deliveries {
		buf.Reset()
		if err := d.replayLine(&buf); err != nil {
			return err
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteTruth writes truth.json: one episode, incident or problem a line.
func (r *Result) WriteTruth(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	t := r.Truth
	fmt.Fprintf(bw, "{\"seed\":%d,\"scale\":%q,\"days\":%d,\n", t.Seed, t.Scale, t.Days)
	if err := writeList(bw, "episodes", t.Episodes); err != nil {
		return err
	}
	bw.WriteString(",\n")
	if err := writeList(bw, "incidents", t.Incidents); err != nil {
		return err
	}
	bw.WriteString(",\n")
	if err := writeList(bw, "problems", t.Problems); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func writeList[T any](w *bufio.Writer, name string, list []T) error {
	fmt.Fprintf(w, "%q:[", name)
	for i, v := range list {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n")
		w.Write(b)
	}
	w.WriteString("]")
	return nil
}

// Files written by WriteDir.
const (
	TopologyFile = "topology.yaml"
	ReplayFile   = "replay.jsonl"
	TruthFile    = "truth.json"
)

// WriteDir runs one simulation and writes topology.yaml, replay.jsonl and
// truth.json into dir, which it creates if needed.
func WriteDir(cfg Config, dir string) (*Result, error) {
	res, err := Generate(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	write := func(name string, fn func(io.Writer) error) error {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return f.Close()
	}
	if err := write(TopologyFile, func(w io.Writer) error { _, err := w.Write(res.Topology); return err }); err != nil {
		return nil, err
	}
	if err := write(ReplayFile, res.WriteReplay); err != nil {
		return nil, err
	}
	if err := write(TruthFile, res.WriteTruth); err != nil {
		return nil, err
	}
	return res, nil
}

// Summary writes a human summary of the simulation.
func (r *Result) Summary(w io.Writer) {
	s := r.Stats
	fmt.Fprintf(w, "estate: %d CIs (%s)\n", s.CIs, kv(s.CIsByType))
	fmt.Fprintf(w, "incidents: %d (%s); %d with a silent root CI\n", s.Incidents, kv(s.IncidentsByCls), s.SilentRoots)
	fmt.Fprintf(w, "problems: %d recurring, %d occurrences\n", s.Problems, s.ProblemIncident)
	fmt.Fprintf(w, "episodes: %d (%s); %d flapping\n", s.Episodes, kv(s.EpisodesBySrc), s.FlappingEps)
	fmt.Fprintf(w, "deliveries: %d (%s); %d HA duplicates, %d late\n", s.Deliveries, kv(s.BySource), s.HADuplicates, s.Late)
}

func kv(m map[string]int) string {
	keys := sortedKeys(m)
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}
