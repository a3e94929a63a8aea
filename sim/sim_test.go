package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/topology"
)

// small runs (and caches) small simulations shared by the tests.
var (
	cacheMu sync.Mutex
	cache   = map[Config]*simFiles{}
)

type simFiles struct {
	res                     *Result
	topo, replay, truthJSON []byte
}

func simulate(t testing.TB, cfg Config) *simFiles {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if f, ok := cache[cfg]; ok {
		return f
	}
	res, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rb, tb bytes.Buffer
	if err := res.WriteReplay(&rb); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteTruth(&tb); err != nil {
		t.Fatal(err)
	}
	f := &simFiles{res: res, topo: res.Topology, replay: rb.Bytes(), truthJSON: tb.Bytes()}
	cache[cfg] = f
	return f
}

var smallCfg = Config{Seed: 42, Scale: "small", Days: 7}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := simulate(t, smallCfg)
	b, err := Generate(smallCfg) // not from the cache
	if err != nil {
		t.Fatal(err)
	}
	var rb, tb bytes.Buffer
	if err := b.WriteReplay(&rb); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteTruth(&tb); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.topo, b.Topology) {
		t.Error("same seed, different topology")
	}
	if !bytes.Equal(a.replay, rb.Bytes()) {
		t.Error("same seed, different replay file")
	}
	if !bytes.Equal(a.truthJSON, tb.Bytes()) {
		t.Error("same seed, different truth")
	}
	other := simulate(t, Config{Seed: 43, Scale: "small", Days: 7})
	if bytes.Equal(a.replay, other.replay) {
		t.Error("different seeds, same replay file")
	}
}

func TestWriteDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res, err := WriteDir(Config{Seed: 5, Scale: "small", Days: 3}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{TopologyFile, ReplayFile, TruthFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v (size %v)", name, err, fi)
		}
	}
	var tr Truth
	if err := readJSON(filepath.Join(dir, TruthFile), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Seed != 5 || tr.Scale != "small" || tr.Days != 3 || len(tr.Episodes) != res.Stats.Episodes {
		t.Errorf("truth header: seed %d scale %s days %d episodes %d", tr.Seed, tr.Scale, tr.Days, len(tr.Episodes))
	}
	if _, err := Generate(Config{Seed: 1, Scale: "huge"}); err == nil {
		t.Error("unknown scale accepted")
	}
}

func TestEstateShape(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	topo, err := topology.Parse(f.topo)
	if err != nil {
		t.Fatalf("topology.yaml does not load: %v", err)
	}
	types := map[string]int{}
	aliases := 0
	for _, ci := range topo.CIs() {
		types[ci.Type]++
		aliases += len(ci.Aliases)
	}
	n := topo.Len()
	if n < 240 || n > 360 {
		t.Errorf("small estate has %d CIs, want about 300", n)
	}
	if types["router"] != 2 || types["switch"] < 4 || types["host"] < 150 || types["database"] == 0 || types["service"] == 0 {
		t.Errorf("CI types: %v", types)
	}
	if aliases < types["host"]/20 || aliases > types["host"]/5 {
		t.Errorf("%d aliases for %d hosts, want about 10%%", aliases, types["host"])
	}
	for _, id := range []string{"core-dc1", "sw-dc1-a", "host-dc1-a-01", "db-dc1-orders", "svc-payments"} {
		if _, ok := topo.Get(id); !ok {
			t.Errorf("CI %s missing", id)
		}
	}
}

// line is one replay line, decoded strictly.
type line struct {
	ReceivedAt string          `json:"received_at"`
	Source     string          `json:"source"`
	Body       json.RawMessage `json:"body"`
}

func lines(t testing.TB, replay []byte) []line {
	t.Helper()
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(replay))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if keys := objectKeys(t, sc.Bytes()); !slices.Equal(keys, []string{"received_at", "source", "body"}) {
			t.Fatalf("line %d: keys %v", n, keys)
		}
		out = append(out, l)
	}
	return out
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(t testing.TB, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %.80s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// fixtureKeys returns the top-level and per-alert keys of a fixture.
func fixtureKeys(t *testing.T, name string) (top, alert []string) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Alerts []json.RawMessage }
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return objectKeys(t, b), objectKeys(t, m.Alerts[0])
}

type whAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	SilenceURL   string            `json:"silenceURL"`
	DashboardURL string            `json:"dashboardURL"`
	PanelURL     string            `json:"panelURL"`
	Values       map[string]float64
	ValueString  string `json:"valueString"`
	OrgID        int    `json:"orgId"`
}

type webhook struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []whAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	OrgID             int               `json:"orgId"`
	Title             string            `json:"title"`
	State             string            `json:"state"`
	Message           string            `json:"message"`
}

func TestReplayShapes(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	ls := lines(t, f.replay)
	amTop, amAlert := fixtureKeys(t, "alertmanager-v4.json")
	gfTop, gfAlert := fixtureKeys(t, "grafana-v1.json")
	// The Grafana fixture's resolved alerts carry orgId; the simulator's
	// alerts always do (Grafana-managed rules).
	count := map[string]int{}
	var prev time.Time
	for n, l := range ls {
		n++
		at, err := time.Parse(time.RFC3339Nano, l.ReceivedAt)
		if err != nil || len(l.ReceivedAt) != len("2026-03-02T00:00:00.000Z") {
			t.Fatalf("line %d: received_at %q", n, l.ReceivedAt)
		}
		if at.Before(prev) {
			t.Fatalf("line %d: received_at %s before the line above (%s)", n, at, prev)
		}
		prev = at
		count[l.Source]++
		switch l.Source {
		case SourceAlertmanager, SourceGrafana:
			var w webhook
			dec := json.NewDecoder(bytes.NewReader(l.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&w); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			wantTop, wantAlert, version := amTop, amAlert, "4"
			if l.Source == SourceGrafana {
				wantTop, wantAlert, version = gfTop, gfAlert, "1"
			}
			if keys := objectKeys(t, l.Body); !slices.Equal(keys, wantTop) {
				t.Fatalf("line %d: body keys %v, want %v", n, keys, wantTop)
			}
			var raw struct{ Alerts []json.RawMessage }
			json.Unmarshal(l.Body, &raw)
			for _, a := range raw.Alerts {
				if keys := objectKeys(t, a); !slices.Equal(keys, wantAlert) {
					t.Fatalf("line %d: alert keys %v, want %v", n, keys, wantAlert)
				}
			}
			checkWebhook(t, n, l.Source, version, &w)
		case SourceEvents:
			var m struct {
				Events []struct {
					Source      string            `json:"source"`
					Fingerprint string            `json:"fingerprint"`
					Status      string            `json:"status"`
					Severity    string            `json:"severity"`
					Summary     string            `json:"summary"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
					StartsAt    string            `json:"starts_at"`
					EndsAt      string            `json:"ends_at"`
				} `json:"events"`
			}
			dec := json.NewDecoder(bytes.NewReader(l.Body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			if len(m.Events) == 0 {
				t.Fatalf("line %d: no events", n)
			}
			for _, e := range m.Events {
				if e.Source == "" || e.Labels["alertname"] == "" || !slices.Contains([]string{"critical", "high", "warning", "info"}, e.Severity) {
					t.Fatalf("line %d: event %+v", n, e)
				}
				if e.Fingerprint != "" && e.Fingerprint != EventFingerprint(e.Source, e.Severity, e.Summary, e.Labels) {
					t.Fatalf("line %d: event fingerprint %s is not that of its labels", n, e.Fingerprint)
				}
				if _, err := time.Parse(time.RFC3339Nano, e.StartsAt); err != nil {
					t.Fatalf("line %d: starts_at %q", n, e.StartsAt)
				}
				if (e.Status == "resolved") != (e.EndsAt != "") || (e.Status != "firing" && e.Status != "resolved") {
					t.Fatalf("line %d: status %s with ends_at %q", n, e.Status, e.EndsAt)
				}
			}
		default:
			t.Fatalf("line %d: source %q", n, l.Source)
		}
	}
	total := len(ls)
	t.Logf("%d deliveries: %v", total, count)
	if count[SourceAlertmanager] < total*8/10 {
		t.Errorf("Alertmanager sends %d of %d deliveries, want most", count[SourceAlertmanager], total)
	}
	for _, src := range []string{SourceGrafana, SourceEvents} {
		if share := float64(count[src]) / float64(total); share < 0.02 || share > 0.12 {
			t.Errorf("%s sends %.1f%% of deliveries, want about 5%%", src, 100*share)
		}
	}
}

func checkWebhook(t *testing.T, n int, source, version string, w *webhook) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d (%s): %s", n, source, fmt.Sprintf(format, args...))
	}
	if w.Version != version || w.TruncatedAlerts != 0 || w.Receiver == "" || w.ExternalURL == "" || len(w.Alerts) == 0 {
		fail("header %+v", w)
	}
	if !strings.HasSuffix(w.GroupKey, ":"+labelSet(w.GroupLabels).String()) {
		fail("groupKey %s does not end with its groupLabels %v", w.GroupKey, w.GroupLabels)
	}
	firing := 0
	var ls, as []map[string]string
	for _, a := range w.Alerts {
		start, err := time.Parse(time.RFC3339Nano, a.StartsAt)
		if err != nil {
			fail("startsAt %q", a.StartsAt)
		}
		if source == SourceAlertmanager && start.Nanosecond()%int(time.Millisecond) != 0 {
			fail("startsAt %q is not in milliseconds", a.StartsAt)
		}
		if a.StartsAt != promTime(start) {
			fail("startsAt %q is not written as Go writes it", a.StartsAt)
		}
		switch a.Status {
		case "firing":
			firing++
			if a.EndsAt != zeroTime {
				fail("firing alert with endsAt %q", a.EndsAt)
			}
		case "resolved":
			end, err := time.Parse(time.RFC3339Nano, a.EndsAt)
			if err != nil || end.Before(start) {
				fail("resolved alert: startsAt %s endsAt %s", a.StartsAt, a.EndsAt)
			}
		default:
			fail("alert status %q", a.Status)
		}
		for k, v := range w.GroupLabels {
			if a.Labels[k] != v {
				fail("alert %v outside its group %v", a.Labels, w.GroupLabels)
			}
		}
		want := fingerprint(a.Labels)
		if source == SourceGrafana {
			u, err := url.Parse(a.GeneratorURL)
			if err != nil {
				fail("generatorURL %q", a.GeneratorURL)
			}
			uid := strings.Split(u.Path, "/")[3]
			with := map[string]string{"__alert_rule_uid__": uid}
			for k, v := range a.Labels {
				with[k] = v
			}
			want = fingerprint(with)
			if a.OrgID != 1 || a.SilenceURL == "" || a.DashboardURL == "" || a.ValueString == "" {
				fail("grafana alert fields %+v", a)
			}
		}
		if a.Fingerprint != want {
			fail("fingerprint %s, want %s for %v", a.Fingerprint, want, a.Labels)
		}
		if a.Labels["alertname"] == "" || a.GeneratorURL == "" || a.Annotations["summary"] == "" {
			fail("alert %+v", a)
		}
		ls = append(ls, a.Labels)
		as = append(as, a.Annotations)
	}
	wantStatus := "resolved"
	if firing > 0 {
		wantStatus = "firing"
	}
	if w.Status != wantStatus {
		fail("status %s with %d of %d alerts firing", w.Status, firing, len(w.Alerts))
	}
	if !mapsEqual(w.CommonLabels, common(ls)) || !mapsEqual(w.CommonAnnotations, common(as)) {
		fail("commonLabels/commonAnnotations are not what the alerts share")
	}
	if source == SourceGrafana {
		wantState := "ok"
		if firing > 0 {
			wantState = "alerting"
		}
		if w.OrgID != 1 || w.State != wantState || w.Title == "" || w.Message == "" {
			fail("grafana header %+v", w)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sent lists every (fingerprint, startsAt text) of the replay file with the
// labels of its first delivery.
func sent(t *testing.T, replay []byte) (keys []string, labels map[string]map[string]string) {
	labels = map[string]map[string]string{}
	add := func(fp, start string, l map[string]string) {
		k := fp + " " + start
		if _, ok := labels[k]; !ok {
			keys = append(keys, k)
			labels[k] = l
		}
	}
	for _, l := range lines(t, replay) {
		if l.Source == SourceEvents {
			var m replayEvents
			if err := json.Unmarshal(l.Body, &m); err != nil {
				t.Fatal(err)
			}
			for _, e := range m.Events {
				fp := e.Fingerprint
				if fp == "" {
					fp = EventFingerprint(e.Source, e.Severity, e.Summary, e.Labels)
				}
				add(fp, e.StartsAt, e.Labels)
			}
			continue
		}
		var w replayWebhook
		if err := json.Unmarshal(l.Body, &w); err != nil {
			t.Fatal(err)
		}
		for _, a := range w.Alerts {
			add(a.Fingerprint, a.StartsAt, a.Labels)
		}
	}
	return keys, labels
}

func TestTruthCoversEveryEpisodeOnce(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	var tr Truth
	if err := json.Unmarshal(f.truthJSON, &tr); err != nil {
		t.Fatal(err)
	}
	keys, _ := sent(t, f.replay)
	inTruth := map[string]int{}
	for _, ep := range tr.Episodes {
		inTruth[ep.Fingerprint+" "+ep.StartsAt]++
	}
	for _, k := range keys {
		if inTruth[k] != 1 {
			t.Errorf("episode %s is in the truth %d times", k, inTruth[k])
		}
	}
	if len(tr.Episodes) != len(keys) {
		t.Errorf("truth has %d episodes, the replay %d", len(tr.Episodes), len(keys))
	}
	// Distinct texts must also be distinct instants.
	if _, err := newIndex(&tr); err != nil {
		t.Fatal(err)
	}

	incidents := map[string]TruthIncident{}
	for _, in := range tr.Incidents {
		incidents[in.ID] = in
	}
	perIncident := map[string]int{}
	for _, ep := range tr.Episodes {
		in, ok := incidents[ep.Incident]
		if !ok {
			t.Fatalf("episode names unknown incident %s", ep.Incident)
		}
		if ep.RootCauseCI != in.RootCauseCI || ep.Problem != in.Problem || ep.Flapping != in.Flapping {
			t.Errorf("episode %+v disagrees with its incident %+v", ep, in)
		}
		perIncident[ep.Incident]++
	}
	classes := map[string]int{}
	for _, in := range tr.Incidents {
		classes[in.Class]++
		if perIncident[in.ID] == 0 {
			t.Errorf("incident %s has no episode", in.ID)
		}
	}
	for _, c := range []string{ClassSwitchCascade, ClassRouterCascade, ClassDBSlowdown, ClassHostSingleton, ClassCISingleton,
		ClassFlapping, ClassNoCIBurst, ClassNoCISingle, ClassRecurDisk, ClassRecurIface, ClassRecurBackup} {
		if classes[c] == 0 {
			t.Errorf("no incident of class %s", c)
		}
	}
	if len(tr.Episodes) < 2000 || len(tr.Episodes) > 6000 {
		t.Errorf("%d episodes in 7 small days, want a few thousand", len(tr.Episodes))
	}
	if len(tr.Problems) < 3 {
		t.Errorf("%d problems", len(tr.Problems))
	}
	for _, p := range tr.Problems {
		if len(p.IncidentIDs) < 3 {
			t.Errorf("problem %s recurs only %d times", p.ID, len(p.IncidentIDs))
		}
		for _, id := range p.IncidentIDs {
			if incidents[id].Problem != p.ID {
				t.Errorf("problem %s lists %s, which names problem %q", p.ID, id, incidents[id].Problem)
			}
		}
	}
	flapEps := map[string]int{}
	for _, ep := range tr.Episodes {
		if ep.Flapping {
			flapEps[ep.Incident]++
		}
	}
	most := 0
	for _, n := range flapEps {
		most = max(most, n)
	}
	if most < 15 {
		t.Errorf("the most flapping incident has %d episodes, want about 20", most)
	}
}

// TestTruthMapsToTopology checks the truth against the topology's own CI
// mapping: a root that alerts has an episode mapping to it, alerts with no
// CI map to none, and some alerts reach their host through an alias.
func TestTruthMapsToTopology(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	topo, err := topology.Parse(f.topo)
	if err != nil {
		t.Fatal(err)
	}
	var tr Truth
	if err := json.Unmarshal(f.truthJSON, &tr); err != nil {
		t.Fatal(err)
	}
	_, labels := sent(t, f.replay)
	incidents := map[string]TruthIncident{}
	for _, in := range tr.Incidents {
		incidents[in.ID] = in
		if in.RootCauseCI != "" {
			if _, ok := topo.Get(in.RootCauseCI); !ok {
				t.Errorf("incident %s: root %s is not a CI", in.ID, in.RootCauseCI)
			}
		}
	}
	rootSeen := map[string]bool{}
	byAlias := 0
	silent := 0
	for _, ep := range tr.Episodes {
		in := incidents[ep.Incident]
		l := labels[ep.Fingerprint+" "+ep.StartsAt]
		ci, label := topo.Map(l)
		if in.RootCauseCI == "" && ci != "" {
			t.Errorf("no-CI incident %s (%s): %v maps to %s", in.ID, in.Class, l, ci)
		}
		if in.RootCauseCI != "" && ci == "" {
			t.Errorf("incident %s (%s): %v maps to no CI", in.ID, in.Class, l)
		}
		if ci != "" && ci == in.RootCauseCI {
			rootSeen[in.ID] = true
		}
		if label == "instance" && strings.HasPrefix(l["instance"], "10.") {
			byAlias++
		}
	}
	for _, in := range tr.Incidents {
		if in.RootAlerting != rootSeen[in.ID] {
			t.Errorf("incident %s (%s): root_alerting %v, but an episode maps to the root: %v", in.ID, in.Class, in.RootAlerting, rootSeen[in.ID])
		}
		if !in.RootAlerting && in.RootCauseCI != "" {
			silent++
		}
	}
	if byAlias == 0 {
		t.Error("no alert maps to its host through an alias")
	}
	t.Logf("%d episodes map through an alias; %d incidents with a silent root", byAlias, silent)
}

// TestConcurrentFaults checks that some pairs of different-class faults in
// one datacenter start within 60 s of each other.
func TestConcurrentFaults(t *testing.T) {
	t.Parallel()
	f := simulate(t, smallCfg)
	dcOf := func(fl *fault) string {
		for _, ep := range fl.eps {
			return ep.labels["cluster"]
		}
		return ""
	}
	var faults []*fault
	seen := map[*fault]bool{}
	for _, d := range f.res.deliveries {
		for _, a := range d.alerts {
			if !seen[a.ep.f] {
				seen[a.ep.f] = true
				faults = append(faults, a.ep.f)
			}
		}
	}
	slices.SortFunc(faults, func(a, b *fault) int { return a.start.Compare(b.start) })
	pairs := 0
	for i, a := range faults {
		for _, b := range faults[i+1:] {
			if b.start.Sub(a.start) > time.Minute {
				break
			}
			if a.class != b.class && a.root != "" && b.root != "" && a.root != b.root && dcOf(a) == dcOf(b) {
				pairs++
			}
		}
	}
	if pairs < 5 {
		t.Errorf("%d pairs of concurrent different-class faults in one datacenter, want some", pairs)
	}
}

func TestLargeScale(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large simulation")
	}
	res, err := Generate(Config{Seed: 1, Scale: "large", Days: 14})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Stats
	t.Logf("large: %d CIs, %d episodes, %d incidents, %d deliveries %v", s.CIs, s.Episodes, s.Incidents, s.Deliveries, s.BySource)
	if s.CIs < 2500 || s.CIs > 3500 {
		t.Errorf("large estate has %d CIs, want about 3,000", s.CIs)
	}
	if s.Episodes < 50_000 || s.Episodes > 100_000 {
		t.Errorf("large simulation has %d episodes, want 50k to 100k", s.Episodes)
	}
}
