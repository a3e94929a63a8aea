package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Export is the part of the export document (contract §5) the scorer
// reads.
type Export struct {
	Incidents []struct {
		ID          string        `json:"id"`
		Status      string        `json:"status"`
		RootCauseCI string        `json:"root_cause_ci"`
		ProblemID   string        `json:"problem_id"`
		Alerts      []ExportAlert `json:"alerts"`
	} `json:"incidents"`
	UnassignedAlerts []ExportAlert `json:"unassigned_alerts"`
	Problems         []struct {
		ID          string   `json:"id"`
		Status      string   `json:"status"`
		Signature   string   `json:"signature"`
		IncidentIDs []string `json:"incident_ids"`
	} `json:"problems"`
}

// ExportAlert is one alert episode in the export.
type ExportAlert struct {
	Fingerprint string `json:"fingerprint"`
	StartsAt    string `json:"starts_at"`
}

// epKey identifies an episode: its fingerprint and the instant it started.
type epKey struct {
	fp string
	ns int64
}

func keyOf(fp, startsAt string) (epKey, error) {
	t, err := time.Parse(time.RFC3339Nano, startsAt)
	if err != nil {
		return epKey{}, fmt.Errorf("starts_at %q: %w", startsAt, err)
	}
	return epKey{strings.ToLower(fp), t.UnixNano()}, nil
}

// Partition is a grouping of the truth's episodes into predicted
// incidents.
type Partition struct {
	Method string
	Assign []int32     // per truth episode: index into Groups
	Groups []PredGroup // predicted incidents
	// Problems are the predicted problems, as lists of indexes into
	// Groups; nil when the method does not predict problems (an export
	// with an empty problems list predicts none: non-nil and empty).
	Problems [][]int
	// ProblemIDs and ProblemSignatures describe Problems (export only).
	ProblemIDs, ProblemSignatures []string

	// Export bookkeeping (zero for baselines).
	Missing, Extra, Duplicates, Unassigned, BadTimes int
}

// PredGroup is one predicted incident.
type PredGroup struct {
	ID          string
	RootCauseCI string
}

// index maps the truth's episodes to their position.
type index struct {
	t     *Truth
	byKey map[epKey]int32
	inc   []int32 // per episode: truth incident index
	byID  map[string]int32
}

func newIndex(t *Truth) (*index, error) {
	ix := &index{t: t, byKey: make(map[epKey]int32, len(t.Episodes)), inc: make([]int32, len(t.Episodes)),
		byID: make(map[string]int32, len(t.Incidents))}
	for i, in := range t.Incidents {
		ix.byID[in.ID] = int32(i)
	}
	for i, ep := range t.Episodes {
		k, err := keyOf(ep.Fingerprint, ep.StartsAt)
		if err != nil {
			return nil, fmt.Errorf("truth episode %d: %w", i, err)
		}
		if _, dup := ix.byKey[k]; dup {
			return nil, fmt.Errorf("truth episode %d (%s %s) is listed twice", i, ep.Fingerprint, ep.StartsAt)
		}
		ix.byKey[k] = int32(i)
		j, ok := ix.byID[ep.Incident]
		if !ok {
			return nil, fmt.Errorf("truth episode %d names unknown incident %q", i, ep.Incident)
		}
		ix.inc[i] = j
	}
	return ix, nil
}

// FromExport builds Vigia's partition from its export document. Unassigned
// alerts, and episodes the export misses, are singletons.
func FromExport(t *Truth, ex *Export) (*Partition, error) {
	ix, err := newIndex(t)
	if err != nil {
		return nil, err
	}
	return ix.fromExport(ex), nil
}

func (ix *index) fromExport(ex *Export) *Partition {
	p := &Partition{Method: "vigia", Assign: make([]int32, len(ix.t.Episodes))}
	for i := range p.Assign {
		p.Assign[i] = -1
	}
	place := func(a ExportAlert, g int32) bool {
		k, err := keyOf(a.Fingerprint, a.StartsAt)
		if err != nil {
			p.BadTimes++
			return false
		}
		i, ok := ix.byKey[k]
		switch {
		case !ok:
			p.Extra++
			return false
		case p.Assign[i] >= 0:
			p.Duplicates++
			return false
		}
		p.Assign[i] = g
		return true
	}
	byID := map[string]int{}
	for _, in := range ex.Incidents {
		g := int32(len(p.Groups))
		p.Groups = append(p.Groups, PredGroup{ID: in.ID, RootCauseCI: in.RootCauseCI})
		byID[in.ID] = int(g)
		for _, a := range in.Alerts {
			place(a, g)
		}
	}
	for _, a := range ex.UnassignedAlerts {
		g := int32(len(p.Groups))
		if place(a, g) {
			p.Groups = append(p.Groups, PredGroup{})
			p.Unassigned++
		}
	}
	for i, g := range p.Assign {
		if g < 0 {
			p.Missing++
			p.Assign[i] = int32(len(p.Groups))
			p.Groups = append(p.Groups, PredGroup{})
		}
	}
	if ex.Problems != nil {
		p.Problems = [][]int{}
		for _, pr := range ex.Problems {
			var gs []int
			for _, id := range pr.IncidentIDs {
				if g, ok := byID[id]; ok {
					gs = append(gs, g)
				}
			}
			p.Problems = append(p.Problems, gs)
			p.ProblemIDs = append(p.ProblemIDs, pr.ID)
			p.ProblemSignatures = append(p.ProblemSignatures, pr.Signature)
		}
	}
	return p
}

// Metrics are the scores of one partition.
type Metrics struct {
	Method           string         `json:"method"`
	Episodes         int            `json:"episodes"`
	TruthIncidents   int            `json:"truth_incidents"`
	PredIncidents    int            `json:"predicted_incidents"`
	Precision        float64        `json:"pairwise_precision"`
	Recall           float64        `json:"pairwise_recall"`
	F1               float64        `json:"pairwise_f1"`
	ARI              float64        `json:"ari"`
	FalseMerge       float64        `json:"false_merge_rate"`
	FalseMergeEps    float64        `json:"false_merge_rate_episodes"`
	Split            float64        `json:"split_rate"`
	Compression      float64        `json:"compression"`
	TruthCompression float64        `json:"truth_compression"`
	RootCause        *float64       `json:"root_cause_accuracy"` // nil: the method names no root causes
	RootCauseN       int            `json:"root_cause_incidents"`
	RootCauseSilent  *float64       `json:"root_cause_accuracy_silent_root"`
	RootCauseSilentN int            `json:"root_cause_incidents_silent_root"`
	FlappingInOne    *float64       `json:"flapping_in_one"`
	FlappingN        int            `json:"flapping_incidents"`
	ProblemPrecision *float64       `json:"problem_precision"` // nil: no problems predicted
	ProblemRecall    *float64       `json:"problem_recall"`    // nil: the method predicts no problems at all, or the truth has none
	PredProblems     int            `json:"predicted_problems"`
	TruthProblems    int            `json:"truth_problems"`
	Problems         []ProblemMatch `json:"problems,omitempty"` // every predicted problem and its match
	TruthFound       []TruthFound   `json:"truth_problems_found,omitempty"`
	Missing          int            `json:"missing_episodes"`
	Extra            int            `json:"extra_episodes"`
	Duplicates       int            `json:"duplicate_episodes"`
	Unassigned       int            `json:"unassigned_episodes"`
	BadTimes         int            `json:"bad_starts_at"`
	ByClass          []ClassMetrics `json:"by_class,omitempty"`
}

// ProblemMatch is one predicted problem and the truth problem it matches.
type ProblemMatch struct {
	ID        string `json:"id"`
	Signature string `json:"signature"`
	// Kind is signature, class or ci, as read from the signature text
	// ("X @ ci=..." or "X @ cluster=..." / "X @ type=..." / "any alert @ ci=...").
	Kind      string `json:"kind"`
	Incidents int    `json:"incidents"`
	Episodes  int    `json:"episodes"`
	// Truth is the truth problem most of its episodes belong to, "" when
	// no truth problem holds more than half of them; Share is that
	// problem's share of its episodes.
	Truth string  `json:"truth_problem"`
	Share float64 `json:"share"`
}

// TruthFound is one truth problem and the predicted problems matching it.
type TruthFound struct {
	ID        string   `json:"id"`
	Class     string   `json:"class"`
	Incidents int      `json:"incidents"`
	Predicted []string `json:"predicted"` // ids of the matching predicted problems
}

// problemKind reads a predicted problem's kind from its signature text
// (problem.Signature, ClassSignature and CISignature): a per-CI problem is
// "any alert @ ci=...", a class "... @ type=..." or scoped by the class
// labels alone; a signature names a CI or the alert's cluster.
func problemKind(sig string) string {
	_, scope, ok := strings.Cut(sig, " @ ")
	switch {
	case strings.HasPrefix(sig, "any alert @ ci="):
		return "ci"
	case !ok:
		return "unknown"
	case strings.HasPrefix(scope, "ci="), strings.Contains(" "+scope, " cluster="):
		return "signature"
	}
	return "class"
}

// ClassMetrics break the scores down by fault class.
type ClassMetrics struct {
	Class     string   `json:"class"`
	Incidents int      `json:"incidents"`
	Episodes  int      `json:"episodes"`
	Split     float64  `json:"split_rate"`
	Merged    float64  `json:"merged_rate"` // share whose main predicted incident also holds other incidents' episodes
	RootCause *float64 `json:"root_cause_accuracy"`
}

func comb2(n int) float64 { return float64(n) * float64(n-1) / 2 }

// Evaluate scores partition p against the truth.
func Evaluate(t *Truth, p *Partition) (*Metrics, error) {
	ix, err := newIndex(t)
	if err != nil {
		return nil, err
	}
	return ix.evaluate(p, true), nil
}

func (ix *index) evaluate(p *Partition, hasRoots bool) *Metrics {
	t := ix.t
	n := len(t.Episodes)
	m := &Metrics{Method: p.Method, Episodes: n, TruthIncidents: len(t.Incidents), Missing: p.Missing, Extra: p.Extra,
		Duplicates: p.Duplicates, Unassigned: p.Unassigned, BadTimes: p.BadTimes, TruthProblems: len(t.Problems)}

	// The contingency table, as sparse cells.
	type cell struct{ i, j int32 }
	cont := make(map[cell]int, n)
	a := make([]int, len(t.Incidents))
	b := make([]int, len(p.Groups))
	for e := 0; e < n; e++ {
		i, j := ix.inc[e], p.Assign[e]
		cont[cell{i, j}]++
		a[i]++
		b[j]++
	}
	var tp, sa, sb float64
	truthParts := make([]int, len(a)) // predicted incidents a truth incident is spread over
	predParts := make([]int, len(b))  // truth incidents a predicted incident mixes
	best := make([]int32, len(a))     // the predicted incident holding most of a truth incident
	bestN := make([]int, len(a))
	for c, v := range cont {
		tp += comb2(v)
		truthParts[c.i]++
		predParts[c.j]++
		if v > bestN[c.i] || (v == bestN[c.i] && c.j < best[c.i]) {
			best[c.i], bestN[c.i] = c.j, v
		}
	}
	for _, v := range a {
		sa += comb2(v)
	}
	nonEmpty := 0
	for _, v := range b {
		sb += comb2(v)
		if v > 0 {
			nonEmpty++
		}
	}
	m.PredIncidents = nonEmpty
	m.Precision, m.Recall = 1, 1
	if sb > 0 {
		m.Precision = tp / sb
	}
	if sa > 0 {
		m.Recall = tp / sa
	}
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	m.ARI = ari(tp, sa, sb, comb2(n))

	fm, fmEps := 0, 0
	for j, v := range b {
		if predParts[j] >= 2 {
			fm++
			fmEps += v
		}
	}
	if nonEmpty > 0 {
		m.FalseMerge = float64(fm) / float64(nonEmpty)
		m.Compression = float64(n) / float64(nonEmpty)
	}
	if n > 0 {
		m.FalseMergeEps = float64(fmEps) / float64(n)
	}
	split := 0
	for i := range a {
		if truthParts[i] >= 2 {
			split++
		}
	}
	if len(a) > 0 {
		m.Split = float64(split) / float64(len(a))
		m.TruthCompression = float64(n) / float64(len(a))
	}

	type acc struct{ n, ok, split, merged, eps int }
	classes := map[string]*acc{}
	var rc, rcOK, silent, silentOK, flap, flapOK int
	for i, in := range t.Incidents {
		c := classes[in.Class]
		if c == nil {
			c = &acc{}
			classes[in.Class] = c
		}
		c.n++
		c.eps += a[i]
		if truthParts[i] >= 2 {
			c.split++
		}
		if a[i] > 0 && predParts[best[i]] >= 2 {
			c.merged++
		}
		if in.RootCauseCI != "" && a[i] > 0 {
			ok := p.Groups[best[i]].RootCauseCI == in.RootCauseCI
			rc++
			if !in.RootAlerting {
				silent++
			}
			if ok {
				rcOK++
				c.ok++
				if !in.RootAlerting {
					silentOK++
				}
			}
		}
		if in.Flapping && a[i] > 0 {
			flap++
			if truthParts[i] == 1 {
				flapOK++
			}
		}
	}
	ratio := func(x, y int) *float64 {
		if y == 0 {
			return nil
		}
		v := float64(x) / float64(y)
		return &v
	}
	m.RootCauseN, m.RootCauseSilentN, m.FlappingN = rc, silent, flap
	if hasRoots {
		m.RootCause, m.RootCauseSilent = ratio(rcOK, rc), ratio(silentOK, silent)
	}
	m.FlappingInOne = ratio(flapOK, flap)
	for _, name := range sortedKeys(classes) {
		c := classes[name]
		cm := ClassMetrics{Class: name, Incidents: c.n, Episodes: c.eps, Split: float64(c.split) / float64(c.n),
			Merged: float64(c.merged) / float64(c.n)}
		if hasRoots {
			nroot := 0
			for _, in := range t.Incidents {
				if in.Class == name && in.RootCauseCI != "" {
					nroot++
				}
			}
			cm.RootCause = ratio(c.ok, nroot)
		}
		m.ByClass = append(m.ByClass, cm)
	}

	if p.Problems != nil {
		ix.scoreProblems(p, m)
	}
	return m
}

// ari is the Adjusted Rand Index from the pair counts: tp pairs together in
// both partitions, sa pairs together in the truth, sb in the prediction,
// all pairs.
func ari(tp, sa, sb, all float64) float64 {
	if all == 0 {
		return 1
	}
	expected := sa * sb / all
	maxIdx := (sa + sb) / 2
	if maxIdx == expected {
		if tp == maxIdx {
			return 1
		}
		return 0
	}
	return (tp - expected) / (maxIdx - expected)
}

// scoreProblems matches predicted problems with the truth's recurring
// problems: a predicted problem matches the truth problem that most (more
// than half) of its incidents' episodes belong to. Precision is the share
// of predicted problems that match a truth problem; recall the share of
// truth problems matched by at least one predicted problem. So when Vigia
// splits one truth problem into two predicted problems (DiskFull and
// DiskWillFillIn4Hours apart), both count as right for precision and the
// truth problem counts once for recall.
func (ix *index) scoreProblems(p *Partition, m *Metrics) {
	t := ix.t
	m.PredProblems = len(p.Problems)
	members := make([][]int, len(p.Groups))
	for e, g := range p.Assign {
		members[g] = append(members[g], e)
	}
	found := map[string][]string{}
	matched := 0
	for i, gs := range p.Problems {
		count := map[string]int{}
		total := 0
		for _, g := range gs {
			for _, e := range members[g] {
				count[t.Episodes[e].Problem]++
				total++
			}
		}
		bestP, bestN := "", 0
		for _, name := range sortedKeys(count) {
			if name != "" && count[name] > bestN {
				bestP, bestN = name, count[name]
			}
		}
		pm := ProblemMatch{Incidents: len(gs), Episodes: total}
		if i < len(p.ProblemIDs) {
			pm.ID, pm.Signature, pm.Kind = p.ProblemIDs[i], p.ProblemSignatures[i], problemKind(p.ProblemSignatures[i])
		}
		if bestP != "" && 2*bestN > total {
			matched++
			pm.Truth = bestP
			pm.Share = float64(bestN) / float64(total)
			found[bestP] = append(found[bestP], pm.ID)
		}
		m.Problems = append(m.Problems, pm)
	}
	if len(p.Problems) > 0 {
		prec := float64(matched) / float64(len(p.Problems))
		m.ProblemPrecision = &prec
	}
	if len(t.Problems) > 0 {
		rec := float64(len(found)) / float64(len(t.Problems))
		m.ProblemRecall = &rec
	}
	for _, tp := range t.Problems {
		m.TruthFound = append(m.TruthFound, TruthFound{ID: tp.ID, Class: tp.Class, Incidents: len(tp.IncidentIDs),
			Predicted: found[tp.ID]})
	}
}

// --- baselines ---------------------------------------------------------------

// Baselines groups the truth's episodes as two simple methods would, from
// the replay file: "none" (every episode alone) and "groupKey" (one
// incident per Alertmanager group).
//
// groupKey follows each Alertmanager groupKey the way a paging tool keyed
// on it does: an incident opens with the first new episode of the key and
// closes when a notification of the group says "resolved"; the next
// episode of the key opens a new one. Deliveries that are not from
// Alertmanager group by source and alertname instead, an incident closing
// once all its alerts resolved. With perKey, each key is one incident for
// the whole replay.
func Baselines(t *Truth, replay io.Reader, perKey bool) ([]*Partition, error) {
	ix, err := newIndex(t)
	if err != nil {
		return nil, err
	}
	return ix.baselines(replay, perKey)
}

type replayLine struct {
	ReceivedAt string          `json:"received_at"`
	Source     string          `json:"source"`
	Body       json.RawMessage `json:"body"`
}

type replayWebhook struct {
	Status   string `json:"status"`
	GroupKey string `json:"groupKey"`
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		StartsAt    string            `json:"startsAt"`
		Fingerprint string            `json:"fingerprint"`
	} `json:"alerts"`
}

type replayEvents struct {
	Events []struct {
		Source      string            `json:"source"`
		Fingerprint string            `json:"fingerprint"`
		Status      string            `json:"status"`
		Severity    string            `json:"severity"`
		Summary     string            `json:"summary"`
		Labels      map[string]string `json:"labels"`
		StartsAt    string            `json:"starts_at"`
	} `json:"events"`
}

func (ix *index) baselines(replay io.Reader, perKey bool) ([]*Partition, error) {
	n := len(ix.t.Episodes)
	none := &Partition{Method: "none", Assign: make([]int32, n), Groups: make([]PredGroup, n)}
	gk := &Partition{Method: "groupKey", Assign: make([]int32, n)}
	for i := range none.Assign {
		none.Assign[i] = int32(i)
		gk.Assign[i] = -1
	}
	open := map[string]int32{}            // key -> open incident
	firing := map[string]map[epKey]bool{} // non-Alertmanager key -> its firing episodes
	see := func(key string, k epKey) {
		i, ok := ix.byKey[k]
		if ok && gk.Assign[i] < 0 {
			g, isOpen := open[key]
			if !isOpen {
				g = int32(len(gk.Groups))
				gk.Groups = append(gk.Groups, PredGroup{ID: key})
				open[key] = g
			}
			gk.Assign[i] = g
		}
	}
	sc := bufio.NewScanner(replay)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var l replayLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("replay line %d: %w", line, err)
		}
		switch l.Source {
		case SourceAlertmanager, SourceGrafana:
			var w replayWebhook
			if err := json.Unmarshal(l.Body, &w); err != nil {
				return nil, fmt.Errorf("replay line %d: %w", line, err)
			}
			for _, a := range w.Alerts {
				k, err := keyOf(a.Fingerprint, a.StartsAt)
				if err != nil {
					return nil, fmt.Errorf("replay line %d: %w", line, err)
				}
				if l.Source == SourceAlertmanager {
					see(w.Receiver+"\x00"+w.GroupKey, k)
					continue
				}
				key := l.Source + "|" + a.Labels["alertname"]
				see(key, k)
				trackFiring(firing, open, key, k, a.Status == "resolved", perKey)
			}
			if l.Source == SourceAlertmanager && w.Status == "resolved" && !perKey {
				delete(open, w.Receiver+"\x00"+w.GroupKey)
			}
		case SourceEvents:
			var ev replayEvents
			if err := json.Unmarshal(l.Body, &ev); err != nil {
				return nil, fmt.Errorf("replay line %d: %w", line, err)
			}
			for _, e := range ev.Events {
				fp := e.Fingerprint
				if fp == "" {
					fp = EventFingerprint(e.Source, e.Severity, e.Summary, e.Labels)
				}
				k, err := keyOf(fp, e.StartsAt)
				if err != nil {
					return nil, fmt.Errorf("replay line %d: %w", line, err)
				}
				name := e.Labels["alertname"]
				if name == "" {
					name = e.Summary
				}
				key := "events|" + e.Source + "|" + name
				see(key, k)
				trackFiring(firing, open, key, k, e.Status == "resolved", perKey)
			}
		default:
			return nil, fmt.Errorf("replay line %d: unknown source %q", line, l.Source)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i, g := range gk.Assign {
		if g < 0 { // not in the replay: alone
			gk.Missing++
			gk.Assign[i] = int32(len(gk.Groups))
			gk.Groups = append(gk.Groups, PredGroup{})
		}
	}
	return []*Partition{none, gk}, nil
}

// trackFiring closes a non-Alertmanager key's incident once none of its
// alerts fires any more.
func trackFiring(firing map[string]map[epKey]bool, open map[string]int32, key string, k epKey, resolved, perKey bool) {
	if perKey {
		return
	}
	set := firing[key]
	if set == nil {
		set = map[epKey]bool{}
		firing[key] = set
	}
	if resolved {
		delete(set, k)
		if len(set) == 0 {
			delete(open, key)
		}
		return
	}
	set[k] = true
}

// --- the whole report ----------------------------------------------------------

// Report is the score of one export, with the baselines when a replay file
// was given.
type Report struct {
	Seed         uint64     `json:"seed"`
	Scale        string     `json:"scale"`
	Days         int        `json:"days"`
	Episodes     int        `json:"episodes"`
	Incidents    int        `json:"truth_incidents"`
	Problems     int        `json:"truth_problems"`
	Methods      []*Metrics `json:"methods"`
	GroupKeyMode string     `json:"groupkey_mode,omitempty"`
}

// ScoreOptions name the files to score.
type ScoreOptions struct {
	Truth, Export, Replay string
	PerKey                bool // groupKey baseline: one incident per key for the whole replay
}

// Score reads the truth, the export and optionally the replay file, and
// scores Vigia and the baselines.
func Score(o ScoreOptions) (*Report, error) {
	var t Truth
	if err := readJSON(o.Truth, &t); err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	var ex Export
	if err := readJSON(o.Export, &ex); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	ix, err := newIndex(&t)
	if err != nil {
		return nil, fmt.Errorf("truth %s: %w", o.Truth, err)
	}
	rep := &Report{Seed: t.Seed, Scale: t.Scale, Days: t.Days, Episodes: len(t.Episodes), Incidents: len(t.Incidents),
		Problems: len(t.Problems)}
	rep.Methods = append(rep.Methods, ix.evaluate(ix.fromExport(&ex), true))
	if o.Replay != "" {
		f, err := os.Open(o.Replay)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		bs, err := ix.baselines(bufio.NewReaderSize(f, 1<<20), o.PerKey)
		if err != nil {
			return nil, fmt.Errorf("replay %s: %w", o.Replay, err)
		}
		for _, b := range bs {
			rep.Methods = append(rep.Methods, ix.evaluate(b, false))
		}
		rep.GroupKeyMode = "thread"
		if o.PerKey {
			rep.GroupKeyMode = "key"
		}
	}
	return rep, nil
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%s: bad JSON at byte %d: %w", path, se.Offset, err)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
