package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func alert(name, instance string, status Status, starts time.Time, ends time.Time) Alert {
	ls := map[string]string{"alertname": name, "instance": instance, "cluster": "c1", "severity": "critical"}
	return Alert{Fingerprint: LabelsFingerprint(ls), Status: status, Labels: ls, StartsAt: starts,
		StartsAtRaw: starts.Format(time.RFC3339Nano), EndsAt: ends}
}

func firing(name, instance string, starts time.Time) Alert {
	return alert(name, instance, StatusFiring, starts, time.Time{})
}

func resolved(name, instance string, starts, ends time.Time) Alert {
	return alert(name, instance, StatusResolved, starts, ends)
}

func deliver(e *Engine, at time.Time, alerts ...Alert) {
	e.Process(&Delivery{Source: SourceAlertmanager, ReceivedAt: at, Alerts: alerts})
}

func newEngine(t *testing.T, mod func(*Config)) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// collect accumulates flushed changes into the latest row of each entity.
type collect struct {
	episodes  map[int64]Episode
	incidents map[string]incident.Incident
	events    []incident.Event
}

func (c *collect) add(ch Changes) {
	if c.episodes == nil {
		c.episodes, c.incidents = map[int64]Episode{}, map[string]incident.Incident{}
	}
	for _, ep := range ch.Episodes {
		c.episodes[ep.ID] = ep
	}
	for _, in := range ch.Incidents {
		c.incidents[in.ID] = in
	}
	c.events = append(c.events, ch.Events...)
}

func TestDedupCountsRepeats(t *testing.T) {
	e := newEngine(t, nil)
	a := firing("DiskFull", "db-1", t0)
	for i := range 5 {
		deliver(e, t0.Add(time.Duration(i)*time.Minute), a)
	}
	var c collect
	c.add(e.Flush())
	if len(c.episodes) != 1 {
		t.Fatalf("episodes = %d, want 1", len(c.episodes))
	}
	ep := c.episodes[1]
	if ep.Notifications != 5 {
		t.Errorf("notifications = %d, want 5", ep.Notifications)
	}
	if len(c.incidents) != 1 || c.incidents["INC-000001"].AlertCount != 1 {
		t.Errorf("incidents = %+v, want one with one alert", c.incidents)
	}
}

func TestGroupingByDefaultLabels(t *testing.T) {
	e := newEngine(t, nil)
	var alerts []Alert
	for i := range 12 {
		alerts = append(alerts, firing("HostDown", fmt.Sprintf("h-%d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	other := firing("HostDown", "x-1", t0)
	other.Labels = map[string]string{"alertname": "HostDown", "instance": "x-1", "cluster": "c2"}
	other.Fingerprint = LabelsFingerprint(other.Labels)
	deliver(e, t0.Add(15*time.Second), append(alerts, other)...)
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 2 {
		t.Fatalf("incidents = %d, want 2 (one per cluster)", len(c.incidents))
	}
	in := c.incidents["INC-000001"]
	if in.AlertCount != 12 || in.Priority != incident.P2 || in.Urgency != incident.High || in.Status != incident.StatusNew {
		t.Errorf("first incident = %+v", in)
	}
	if in.Title != "HostDown on cluster=c1" {
		t.Errorf("title = %q", in.Title)
	}
	ep := c.episodes[2]
	if ep.Explanation == nil || ep.Explanation.Method != MethodSimilarity || ep.Explanation.SharedLabels["cluster"] != "c1" ||
		ep.Explanation.Window != "5m" {
		t.Errorf("explanation = %+v", ep.Explanation)
	}
	if len(c.events) != 2 || c.events[0].Kind != "opened" {
		t.Errorf("events = %+v", c.events)
	}
}

func TestAutoResolveAfterDelayAndReopen(t *testing.T) {
	e := newEngine(t, nil)
	deliver(e, t0, firing("DiskFull", "db-1", t0), firing("DiskFull", "db-2", t0))
	end := t0.Add(10 * time.Minute)
	deliver(e, end.Add(time.Second), resolved("DiskFull", "db-1", t0, end), resolved("DiskFull", "db-2", t0, end))
	e.Advance(end.Add(4 * time.Minute))
	var c collect
	c.add(e.Flush())
	if got := c.incidents["INC-000001"].Status; got != incident.StatusNew {
		t.Fatalf("status before the resolve delay = %v, want new", got)
	}
	e.Advance(end.Add(5 * time.Minute))
	c.add(e.Flush())
	in := c.incidents["INC-000001"]
	if in.Status != incident.StatusResolved || in.ResolvedAt == nil || !in.ResolvedAt.Equal(end) {
		t.Fatalf("after delay: %+v, want resolved at %v", in, end)
	}
	// A late re-send of the old firing notification changes nothing.
	deliver(e, end.Add(6*time.Minute), firing("DiskFull", "db-1", t0))
	c.add(e.Flush())
	if got := c.incidents["INC-000001"].Status; got != incident.StatusResolved {
		t.Fatalf("late re-send reopened the incident: %v", got)
	}
	// The same alert firing again (a new episode) within the reopen window reopens it.
	again := end.Add(20 * time.Minute)
	deliver(e, again, firing("DiskFull", "db-1", again))
	c.add(e.Flush())
	in = c.incidents["INC-000001"]
	if in.Status != incident.StatusNew || in.Reopens != 1 || in.AlertCount != 3 || len(c.episodes) != 3 {
		t.Fatalf("after refire: %+v (episodes %d)", in, len(c.episodes))
	}
	// Outside the reopen window a new incident opens.
	deliver(e, again.Add(time.Minute), resolved("DiskFull", "db-1", again, again.Add(time.Minute)))
	e.Advance(again.Add(10 * time.Minute))
	later := again.Add(2 * time.Hour)
	deliver(e, later, firing("DiskFull", "db-1", later))
	c.add(e.Flush())
	if len(c.incidents) != 2 {
		t.Fatalf("incidents = %d, want 2", len(c.incidents))
	}
}

func TestRulesMatchersAndUnassigned(t *testing.T) {
	off := false
	e := newEngine(t, func(c *Config) {
		c.Rules = []RuleConfig{
			{Name: "watchdog", Matchers: []string{`alertname="Watchdog"`}, OpenIncident: &off},
			{Name: "db", Matchers: []string{`alertname=~"Disk.*"`}, GroupBy: []string{"cluster"},
				Window: Duration(time.Minute), Title: "Storage trouble in {{ .GroupLabels.cluster }}", Priority: "P2"},
		}
	})
	deliver(e, t0, firing("Watchdog", "x", t0), firing("DiskFull", "db-1", t0), firing("DiskSlow", "db-2", t0.Add(30*time.Second)))
	// Outside the rule's 1m window a new incident opens, even though the
	// first incident's alerts still fire: windows are session windows on
	// event time.
	deliver(e, t0.Add(10*time.Minute), firing("DiskSlow", "db-3", t0.Add(10*time.Minute)))
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 2 {
		t.Fatalf("incidents = %d, want 2", len(c.incidents))
	}
	in := c.incidents["INC-000001"]
	if in.Title != "Storage trouble in c1" || in.Priority != incident.P2 || in.AlertCount != 2 || in.Rule != "db" {
		t.Errorf("incident = %+v", in)
	}
	if got := c.episodes[3].Explanation; got == nil || got.Window != "1m" || got.Rule != "db" || got.Method != "rule" {
		t.Errorf("explanation = %+v", got)
	}
	if c.episodes[1].IncidentID != "" || c.episodes[1].Explanation != nil {
		t.Errorf("watchdog episode grouped: %+v", c.episodes[1])
	}
}

func TestWindowClosesWhenGroupIsQuiet(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.ResolveDelay = Duration(time.Hour) })
	deliver(e, t0, resolved("Blip", "h1", t0, t0.Add(time.Second)))
	// Within the window of the group's last event: joins.
	deliver(e, t0.Add(4*time.Minute), firing("Blip", "h2", t0.Add(4*time.Minute)))
	deliver(e, t0.Add(5*time.Minute), resolved("Blip", "h2", t0.Add(4*time.Minute), t0.Add(5*time.Minute)))
	// 10 minutes after the last event, with nothing firing: a new incident.
	deliver(e, t0.Add(15*time.Minute), firing("Blip", "h3", t0.Add(15*time.Minute)))
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 2 || c.incidents["INC-000001"].AlertCount != 2 {
		t.Fatalf("incidents = %+v", c.incidents)
	}
}

func TestRestoreContinuesLikeUninterrupted(t *testing.T) {
	steps := []func(e *Engine){
		func(e *Engine) { deliver(e, t0, firing("A", "h1", t0), firing("A", "h2", t0)) },
		func(e *Engine) { deliver(e, t0.Add(time.Minute), resolved("A", "h1", t0, t0.Add(time.Minute))) },
		func(e *Engine) {
			deliver(e, t0.Add(2*time.Minute), firing("A", "h2", t0), firing("B", "h3", t0.Add(2*time.Minute)))
		},
		func(e *Engine) { deliver(e, t0.Add(3*time.Minute), resolved("A", "h2", t0, t0.Add(3*time.Minute))) },
		func(e *Engine) { e.Advance(t0.Add(20 * time.Minute)) },
		func(e *Engine) { deliver(e, t0.Add(21*time.Minute), firing("A", "h1", t0.Add(21*time.Minute))) },
	}
	var want collect
	e := newEngine(t, nil)
	for _, s := range steps {
		s(e)
		want.add(e.Flush())
	}
	for cut := 1; cut < len(steps); cut++ {
		var got collect
		e1 := newEngine(t, nil)
		for _, s := range steps[:cut] {
			s(e1)
			got.add(e1.Flush())
		}
		st := State{Clock: e1.Clock()}
		st.NextIncidentSeq, st.NextEpisodeID = e1.NextIDs()
		for _, ep := range got.episodes {
			st.Episodes = append(st.Episodes, ep)
		}
		for _, in := range got.incidents {
			st.Incidents = append(st.Incidents, in)
		}
		e2 := newEngine(t, nil)
		e2.Restore(st)
		for _, s := range steps[cut:] {
			s(e2)
			got.add(e2.Flush())
		}
		if fmt.Sprint(summary(got)) != fmt.Sprint(summary(want)) {
			t.Errorf("cut %d:\n got %v\nwant %v", cut, summary(got), summary(want))
		}
	}
}

func summary(c collect) []string {
	var out []string
	for i := int64(1); i <= int64(len(c.episodes)); i++ {
		ep := c.episodes[i]
		out = append(out, fmt.Sprintf("ep%d %s %v n=%d -> %s", ep.ID, ep.Labels["instance"], ep.Status, ep.Notifications, ep.IncidentID))
	}
	for i := int64(1); i <= int64(len(c.incidents)); i++ {
		in := c.incidents[incident.FormatID(i)]
		out = append(out, fmt.Sprintf("%s %v alerts=%d firing=%d reopens=%d", in.ID, in.Status, in.AlertCount, in.FiringCount, in.Reopens))
	}
	return out
}

func TestConfigValidateNamesKey(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Rules = []RuleConfig{{Name: "x", Matchers: []string{`a=~"(`}}} }, "correlate.rules[0].matchers[0]"},
		{func(c *Config) { c.Rules = []RuleConfig{{Matchers: []string{`a="b"`}}} }, "correlate.rules[0].name"},
		{func(c *Config) { c.Similarity.ScopeLabels = []string{"bad-name"} }, "correlate.similarity.scope_labels[0]"},
		{func(c *Config) { c.Topology.MaxHops = 0 }, "correlate.topology.max_hops"},
		{func(c *Config) { c.Flapping.Changes = 1 }, "correlate.flapping.changes"},
		{func(c *Config) { c.DefaultWindow = 0 }, "correlate.default_window"},
	} {
		cfg := DefaultConfig()
		tc.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestCodecRoundTrip(t *testing.T) {
	d := Delivery{Source: SourceGrafana, ReceivedAt: t0, Sender: "am", Receiver: "r", GroupKey: "{}:{}",
		Alerts: []Alert{resolved("A", "h1", t0, t0.Add(time.Minute)), firing("B", "h2", t0)}}
	d.Alerts[0].Extra = map[string]string{"valueString": "x"}
	b, err := EncodeDelivery(&d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDelivery(b)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(d) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
	}
	if _, err := DecodeDelivery([]byte{9, '{'}); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestCodecReadsV1AndRejectsCorruption(t *testing.T) {
	v1 := []byte(`{"src":"alertmanager","rcv":1767607200000000000,"al":[{"f":"0123456789abcdef","s":"firing","l":{"alertname":"A"},"st":1767607200000000000,"sr":"2026-01-05T10:00:00Z"}]}`)
	d, err := DecodeDelivery(append([]byte{1}, v1...))
	if err != nil || len(d.Alerts) != 1 || d.Alerts[0].Labels["alertname"] != "A" || !d.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("v1: %+v %v", d, err)
	}
	b, _ := EncodeDelivery(&d)
	for cut := 1; cut < len(b); cut++ {
		if _, err := DecodeDelivery(b[:cut]); err == nil {
			t.Fatalf("a record cut at %d of %d bytes decoded", cut, len(b))
		}
	}
}

func FuzzDecodeDelivery(f *testing.F) {
	d := Delivery{Source: SourceGrafana, ReceivedAt: t0, Alerts: []Alert{resolved("A", "h1", t0, t0.Add(time.Minute))}}
	b, _ := EncodeDelivery(&d)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDelivery(b)
		if err != nil {
			return
		}
		again, err := EncodeDelivery(&d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeDelivery(again); err != nil {
			t.Fatalf("re-encoded delivery does not decode: %v", err)
		}
	})
}
