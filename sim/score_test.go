package sim

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyTruth: incidents A (3 episodes, root sw-1, silent), B (2 episodes,
// root host-1, flapping, an occurrence of problem P-1) and C (1 episode,
// no CI).
func tinyTruth() *Truth {
	ep := func(fp, inc, root string, flap bool, prob string) TruthEpisode {
		return TruthEpisode{Fingerprint: fp, StartsAt: "2026-03-02T00:00:00.5Z", Incident: inc, RootCauseCI: root, Flapping: flap, Problem: prob}
	}
	return &Truth{Seed: 1, Scale: "tiny",
		Episodes: []TruthEpisode{
			ep("000000000000000a", "A", "sw-1", false, ""),
			ep("000000000000000b", "A", "sw-1", false, ""),
			ep("000000000000000c", "A", "sw-1", false, ""),
			ep("000000000000000d", "B", "host-1", true, "P-1"),
			ep("000000000000000e", "B", "host-1", true, "P-1"),
			ep("000000000000000f", "C", "", false, ""),
		},
		Incidents: []TruthIncident{
			{ID: "A", Class: "switch_cascade", RootCauseCI: "sw-1"},
			{ID: "B", Class: "flapping", RootCauseCI: "host-1", RootAlerting: true, Flapping: true, Problem: "P-1"},
			{ID: "C", Class: "noci_single"},
		},
		Problems: []TruthProblem{{ID: "P-1", Class: "recurring", IncidentIDs: []string{"B"}}},
	}
}

func partition(assign []int32, roots ...string) *Partition {
	n := 0
	for _, g := range assign {
		n = max(n, int(g)+1)
	}
	p := &Partition{Method: "test", Assign: assign, Groups: make([]PredGroup, n)}
	for i := range p.Groups {
		if i < len(roots) {
			p.Groups[i].RootCauseCI = roots[i]
		}
	}
	return p
}

func near(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func eval(t *testing.T, tr *Truth, p *Partition) *Metrics {
	t.Helper()
	m, err := Evaluate(tr, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScorePerfect(t *testing.T) {
	m := eval(t, tinyTruth(), partition([]int32{0, 0, 0, 1, 1, 2}, "sw-1", "host-1"))
	near(t, "precision", m.Precision, 1)
	near(t, "recall", m.Recall, 1)
	near(t, "F1", m.F1, 1)
	near(t, "ARI", m.ARI, 1)
	near(t, "false-merge", m.FalseMerge, 0)
	near(t, "split", m.Split, 0)
	near(t, "compression", m.Compression, 2)
	near(t, "truth compression", m.TruthCompression, 2)
	near(t, "root cause", *m.RootCause, 1)
	near(t, "root cause (silent)", *m.RootCauseSilent, 1)
	near(t, "flapping", *m.FlappingInOne, 1)
	if m.RootCauseN != 2 || m.RootCauseSilentN != 1 || m.FlappingN != 1 {
		t.Errorf("counts: %+v", m)
	}
}

func TestScoreAllSingletons(t *testing.T) {
	m := eval(t, tinyTruth(), partition([]int32{0, 1, 2, 3, 4, 5}, "sw-1"))
	near(t, "precision", m.Precision, 1) // no predicted pairs
	near(t, "recall", m.Recall, 0)
	near(t, "F1", m.F1, 0)
	near(t, "ARI", m.ARI, 0)
	near(t, "false-merge", m.FalseMerge, 0)
	near(t, "split", m.Split, 2.0/3) // A and B are split, C cannot be
	near(t, "compression", m.Compression, 1)
	near(t, "root cause", *m.RootCause, 0.5) // A: tie, the lowest index names sw-1; B: nothing names host-1
	near(t, "flapping", *m.FlappingInOne, 0)
}

func TestScoreAllMerged(t *testing.T) {
	m := eval(t, tinyTruth(), partition([]int32{0, 0, 0, 0, 0, 0}, "sw-1"))
	// 4 true pairs (3 in A, 1 in B) of 15.
	near(t, "precision", m.Precision, 4.0/15)
	near(t, "recall", m.Recall, 1)
	near(t, "F1", m.F1, 2*(4.0/15)/(4.0/15+1))
	near(t, "ARI", m.ARI, 0)
	near(t, "false-merge", m.FalseMerge, 1)
	near(t, "false-merge (episodes)", m.FalseMergeEps, 1)
	near(t, "split", m.Split, 0)
	near(t, "compression", m.Compression, 6)
	near(t, "root cause", *m.RootCause, 0.5)
	near(t, "flapping", *m.FlappingInOne, 1)
}

// TestScoreARIKnownValue: truth {0,0,0,1,1,1}, prediction {0,0,1,1,2,2}
// has ARI 0.8/3.3 = 0.242424... (scikit-learn's adjusted_rand_score agrees).
func TestScoreARIKnownValue(t *testing.T) {
	tr := &Truth{Incidents: []TruthIncident{{ID: "X"}, {ID: "Y"}}}
	for i, inc := range []string{"X", "X", "X", "Y", "Y", "Y"} {
		tr.Episodes = append(tr.Episodes, TruthEpisode{Fingerprint: string(rune('a'+i)) + "000000000000000", StartsAt: "2026-03-02T00:00:00Z", Incident: inc})
	}
	m := eval(t, tr, partition([]int32{0, 0, 1, 1, 2, 2}))
	near(t, "ARI", m.ARI, 0.8/3.3)
	near(t, "precision", m.Precision, 2.0/3)
	near(t, "recall", m.Recall, 2.0/6)
	near(t, "false-merge", m.FalseMerge, 1.0/3)
	near(t, "false-merge (episodes)", m.FalseMergeEps, 2.0/6)
	near(t, "split", m.Split, 1)
	if m.RootCause != nil {
		t.Errorf("root cause over no rooted incident: %v", *m.RootCause)
	}
}

func TestFromExport(t *testing.T) {
	tr := tinyTruth()
	var ex Export
	doc := `{"incidents":[
	  {"id":"INC-1","status":"new","root_cause_ci":"sw-1","alerts":[
	    {"fingerprint":"000000000000000A","starts_at":"2026-03-02T01:00:00.500+01:00","labels":{}},
	    {"fingerprint":"000000000000000b","starts_at":"2026-03-02T00:00:00.500000Z","labels":{}},
	    {"fingerprint":"000000000000000b","starts_at":"2026-03-02T00:00:00.5Z","labels":{}},
	    {"fingerprint":"00000000000000ff","starts_at":"2026-03-02T00:00:00.5Z","labels":{}}]},
	  {"id":"INC-2","status":"merged","alerts":[]},
	  {"id":"INC-3","status":"new","root_cause_ci":"host-1","problem_id":"PRB-1","alerts":[
	    {"fingerprint":"000000000000000d","starts_at":"2026-03-02T00:00:00.5Z","labels":{}},
	    {"fingerprint":"000000000000000e","starts_at":"2026-03-02T00:00:00.5Z","labels":{}}]}],
	 "unassigned_alerts":[{"fingerprint":"000000000000000f","starts_at":"2026-03-02T00:00:00.5Z","labels":{}}],
	 "problems":[{"id":"PRB-1","status":"candidate","signature":"x","incident_ids":["INC-3"]},
	             {"id":"PRB-2","status":"candidate","signature":"y","incident_ids":["INC-1"]}]}`
	if err := json.Unmarshal([]byte(doc), &ex); err != nil {
		t.Fatal(err)
	}
	p, err := FromExport(tr, &ex)
	if err != nil {
		t.Fatal(err)
	}
	if p.Missing != 1 || p.Extra != 1 || p.Duplicates != 1 || p.Unassigned != 1 {
		t.Errorf("missing %d extra %d duplicates %d unassigned %d, want 1 each", p.Missing, p.Extra, p.Duplicates, p.Unassigned)
	}
	m := eval(t, tr, p)
	// A is split (c is missing, so alone) but its main part names sw-1.
	near(t, "split", m.Split, 1.0/3)
	near(t, "root cause", *m.RootCause, 1)
	near(t, "flapping", *m.FlappingInOne, 1)
	near(t, "problem precision", *m.ProblemPrecision, 0.5)
	near(t, "problem recall", *m.ProblemRecall, 1)
	if m.PredIncidents != 4 { // INC-1, INC-3, the unassigned f, the missing c
		t.Errorf("predicted incidents %d, want 4", m.PredIncidents)
	}

	ex.Problems = nil
	p, _ = FromExport(tr, &ex)
	if m := eval(t, tr, p); m.ProblemPrecision != nil || m.ProblemRecall != nil {
		t.Error("problem scores of an export without a problems list")
	}
	// An export that lists no problems finds none of the truth's.
	if err := json.Unmarshal([]byte(`{"problems":[]}`), &ex); err != nil || ex.Problems == nil {
		t.Fatal(err)
	}
	p, _ = FromExport(tr, &ex)
	if m := eval(t, tr, p); m.ProblemPrecision != nil || m.ProblemRecall == nil || *m.ProblemRecall != 0 {
		t.Errorf("empty problems list: precision %v recall %v, want n/a and 0", m.ProblemPrecision, m.ProblemRecall)
	}
}

// TestScoreProblemsSplit: one truth problem split into two predicted
// problems (as DiskWillFillIn4Hours and DiskFull apart) counts once for
// recall and twice as right for precision; a predicted problem that is
// mostly one-off incidents matches nothing.
func TestScoreProblemsSplit(t *testing.T) {
	ep := func(fp, inc, prob string) TruthEpisode {
		return TruthEpisode{Fingerprint: fp, StartsAt: "2026-03-02T00:00:00.5Z", Incident: inc, Problem: prob}
	}
	tr := &Truth{
		Episodes: []TruthEpisode{
			ep("01", "D1", "P-disk"), ep("02", "D1", "P-disk"), ep("03", "D2", "P-disk"), ep("04", "D3", "P-disk"),
			ep("05", "B1", "P-bgp"), ep("06", "B2", "P-bgp"), ep("07", "B3", "P-bgp"),
			ep("08", "X1", ""), ep("09", "X2", ""), ep("0a", "X3", ""),
		},
		Incidents: []TruthIncident{{ID: "D1", Problem: "P-disk"}, {ID: "D2", Problem: "P-disk"}, {ID: "D3", Problem: "P-disk"},
			{ID: "B1", Problem: "P-bgp"}, {ID: "B2", Problem: "P-bgp"}, {ID: "B3", Problem: "P-bgp"},
			{ID: "X1"}, {ID: "X2"}, {ID: "X3"}},
		Problems: []TruthProblem{{ID: "P-disk", IncidentIDs: []string{"D1", "D2", "D3"}},
			{ID: "P-bgp", IncidentIDs: []string{"B1", "B2", "B3"}}},
	}
	// Vigia splits D1 (its two alerts apart): groups 0 (01), 1 (02), 2 (D2),
	// 3 (D3), 4-6 (B1-B3), 7-9 (X1-X3).
	p := partition([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	p.Problems = [][]int{
		{1, 2, 3}, // DiskFull @ host
		{0, 2},    // DiskWillFillIn4Hours @ host
		{7, 8, 4}, // mostly one-offs, with one BGP drop
	}
	p.ProblemIDs = []string{"PRB-1", "PRB-2", "PRB-3"}
	p.ProblemSignatures = []string{"DiskFull @ ci=h", "DiskWillFillIn4Hours @ ci=h", "X @ type=host"}
	m := eval(t, tr, p)
	near(t, "problem precision", *m.ProblemPrecision, 2.0/3)
	near(t, "problem recall", *m.ProblemRecall, 0.5)
	if m.Problems[0].Truth != "P-disk" || m.Problems[1].Truth != "P-disk" || m.Problems[2].Truth != "" {
		t.Errorf("matches %+v", m.Problems)
	}
	if m.Problems[0].Kind != "signature" || m.Problems[2].Kind != "class" {
		t.Errorf("kinds %q %q", m.Problems[0].Kind, m.Problems[2].Kind)
	}
	if len(m.TruthFound) != 2 || len(m.TruthFound[0].Predicted) != 2 || len(m.TruthFound[1].Predicted) != 0 {
		t.Errorf("truth found %+v", m.TruthFound)
	}
}

func TestProblemKind(t *testing.T) {
	for sig, want := range map[string]string{
		"DiskFull, DiskWillFillIn4Hours @ ci=host-dc1-f-15":                                "signature",
		"BackupJobFailed @ cluster=dc1 job=backup-exporter instance=backup-dc1-03":         "signature",
		"CronJobFailed @ cluster=dc1 namespace=data job=kube-state-metrics instance=ksm-1": "signature",
		"DiskFull @ type=host":          "class",
		"CertificateExpiringSoon @ any": "class",
		"BackupJobFailed @ job=backup":  "class",
		"any alert @ ci=core-dc1":       "ci",
		"no scope":                      "unknown",
	} {
		if got := problemKind(sig); got != want {
			t.Errorf("problemKind(%q) = %q, want %q", sig, got, want)
		}
	}
}

func TestBaselines(t *testing.T) {
	tr := &Truth{Incidents: []TruthIncident{{ID: "A"}, {ID: "B"}}}
	add := func(fp, start, inc string) {
		tr.Episodes = append(tr.Episodes, TruthEpisode{Fingerprint: fp, StartsAt: start, Incident: inc})
	}
	add("0000000000000001", "2026-03-02T00:00:00Z", "A")
	add("0000000000000002", "2026-03-02T00:00:01Z", "A")
	add("0000000000000001", "2026-03-02T01:00:00Z", "B")
	add("0000000000000003", "2026-03-02T01:00:00Z", "B")
	add("b6b2b4e9a5d8c7f1", "2026-03-02T01:00:02.000+01:00", "B")
	wh := func(status string, alerts ...string) string {
		var as []string
		for i := 0; i+2 < len(alerts); i += 3 {
			as = append(as, `{"status":"`+alerts[i+2]+`","labels":{"alertname":"X"},"startsAt":"`+alerts[i+1]+`","fingerprint":"`+alerts[i]+`"}`)
		}
		return `{"received_at":"2026-03-02T00:00:00.000Z","source":"alertmanager","body":{"receiver":"r","status":"` + status +
			`","groupKey":"{}:{alertname=\"X\"}","alerts":[` + strings.Join(as, ",") + `]}}`
	}
	replay := strings.Join([]string{
		wh("firing", "0000000000000001", "2026-03-02T00:00:00Z", "firing"),
		wh("firing", "0000000000000001", "2026-03-02T00:00:00Z", "firing", "0000000000000002", "2026-03-02T00:00:01Z", "firing"),
		wh("resolved", "0000000000000001", "2026-03-02T00:00:00Z", "resolved", "0000000000000002", "2026-03-02T00:00:01Z", "resolved"),
		wh("firing", "0000000000000001", "2026-03-02T01:00:00Z", "firing", "0000000000000003", "2026-03-02T01:00:00Z", "firing"),
		`{"received_at":"2026-03-02T00:00:03.000Z","source":"events","body":{"events":[{"source":"zabbix","fingerprint":"b6b2b4e9a5d8c7f1","status":"firing","severity":"high","summary":"s","labels":{"alertname":"Y"},"starts_at":"2026-03-02T00:00:02Z"}]}}`,
	}, "\n") + "\n"
	ps, err := Baselines(tr, strings.NewReader(replay), false)
	if err != nil {
		t.Fatal(err)
	}
	none, gk := eval(t, tr, ps[0]), eval(t, tr, ps[1])
	near(t, "none precision", none.Precision, 1)
	near(t, "none recall", none.Recall, 0)
	if gk.PredIncidents != 3 || ps[1].Missing != 0 {
		t.Errorf("groupKey: %d incidents (%d missing), want 3: two threads of X and the event", gk.PredIncidents, ps[1].Missing)
	}
	near(t, "groupKey precision", gk.Precision, 1)
	near(t, "groupKey recall", gk.Recall, 2.0/4)
	if gk.RootCause != nil || none.RootCause != nil {
		t.Error("baselines name no root causes")
	}

	ps, err = Baselines(tr, strings.NewReader(replay), true)
	if err != nil {
		t.Fatal(err)
	}
	if m := eval(t, tr, ps[1]); m.PredIncidents != 2 {
		t.Errorf("groupKey per key: %d incidents, want 2", m.PredIncidents)
	}
}

// oracleExport writes the export document a perfect correlator would.
func oracleExport(t *testing.T, tr *Truth) []byte {
	type alert struct {
		Fingerprint string            `json:"fingerprint"`
		StartsAt    string            `json:"starts_at"`
		Labels      map[string]string `json:"labels"`
	}
	type inc struct {
		ID          string  `json:"id"`
		Status      string  `json:"status"`
		RootCauseCI string  `json:"root_cause_ci,omitempty"`
		Alerts      []alert `json:"alerts"`
	}
	byID := map[string]*inc{}
	var list []*inc
	for _, in := range tr.Incidents {
		x := &inc{ID: "INC-" + in.ID, Status: "new", RootCauseCI: in.RootCauseCI}
		byID[in.ID] = x
		list = append(list, x)
	}
	for _, ep := range tr.Episodes {
		x := byID[ep.Incident]
		x.Alerts = append(x.Alerts, alert{ep.Fingerprint, ep.StartsAt, map[string]string{}})
	}
	type prob struct {
		ID          string   `json:"id"`
		IncidentIDs []string `json:"incident_ids"`
	}
	var probs []prob
	for _, p := range tr.Problems {
		pr := prob{ID: "PRB-" + p.ID}
		for _, id := range p.IncidentIDs {
			pr.IncidentIDs = append(pr.IncidentIDs, "INC-"+id)
		}
		probs = append(probs, pr)
	}
	b, err := json.Marshal(map[string]any{"incidents": list, "unassigned_alerts": []alert{}, "problems": probs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScoreSimulation scores a perfect export of a simulation and the
// baselines on its replay file, through the files as the CLI does.
func TestScoreSimulation(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var tr Truth
	if err := json.Unmarshal(f.truthJSON, &tr); err != nil {
		t.Fatal(err)
	}
	rep, err := Score(ScoreOptions{Truth: write("truth.json", f.truthJSON), Export: write("export.json", oracleExport(t, &tr)),
		Replay: write("replay.jsonl", f.replay)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Methods) != 3 {
		t.Fatalf("%d methods", len(rep.Methods))
	}
	v, none, gk := rep.Methods[0], rep.Methods[1], rep.Methods[2]
	for name, got := range map[string]float64{"F1": v.F1, "ARI": v.ARI, "root cause": *v.RootCause, "flapping": *v.FlappingInOne,
		"problem P": *v.ProblemPrecision, "problem R": *v.ProblemRecall} {
		near(t, "oracle "+name, got, 1)
	}
	if v.Missing+v.Extra+v.Duplicates+none.Missing+gk.Missing != 0 {
		t.Errorf("oracle: missing %d extra %d duplicates %d; baselines missing %d %d", v.Missing, v.Extra, v.Duplicates, none.Missing, gk.Missing)
	}
	near(t, "none recall", none.Recall, 0)
	if gk.Recall <= 0 || gk.Recall >= 1 || gk.Precision >= 1 {
		t.Errorf("groupKey baseline P %.3f R %.3f: want something in between", gk.Precision, gk.Recall)
	}
	for _, format := range []func(*Report, *bytes.Buffer) error{
		func(r *Report, b *bytes.Buffer) error { return r.WriteText(b) },
		func(r *Report, b *bytes.Buffer) error { return r.WriteMarkdown(b) },
		func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) },
	} {
		var b bytes.Buffer
		if err := format(rep, &b); err != nil || b.Len() == 0 {
			t.Errorf("report: %v", err)
		}
	}
	var b bytes.Buffer
	rep.WriteMarkdown(&b)
	if !strings.Contains(b.String(), "| small | 42 | vigia | 1.000 | 1.000 | 1.000 | 1.000 | 0.000 |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	t.Logf("\n%s", b.String())
}
