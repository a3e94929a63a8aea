package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/topology"
)

// estate builds: core-dc1 <- sw-a, sw-b <- 12 hosts each; db-orders on
// host-a-01; svc-1..3 depend on db-orders.
func estate(t *testing.T) *topology.Topology {
	t.Helper()
	cis := []topology.CI{{ID: "core-dc1", Type: "router"},
		{ID: "sw-a", Type: "switch", DependsOn: []string{"core-dc1"}},
		{ID: "sw-b", Type: "switch", DependsOn: []string{"core-dc1"}}}
	for n, sw := range []string{"a", "b"} {
		for i := 1; i <= 12; i++ {
			cis = append(cis, topology.CI{ID: fmt.Sprintf("host-%s-%02d", sw, i), Type: "host", DependsOn: []string{"sw-" + sw},
				Aliases: []string{fmt.Sprintf("10.0.%d.%d", n+1, i)}})
		}
	}
	cis = append(cis, topology.CI{ID: "db-orders", Type: "database", DependsOn: []string{"host-a-01"}})
	for i := 1; i <= 3; i++ {
		cis = append(cis, topology.CI{ID: fmt.Sprintf("svc-%d", i), Type: "service", DependsOn: []string{"db-orders"}})
	}
	top, err := topology.New(cis, nil)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func topoEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{Config: DefaultConfig(), Topology: estate(t)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ciAlert(name string, labels map[string]string, starts time.Time) Alert {
	ls := map[string]string{"alertname": name, "severity": "critical"}
	for k, v := range labels {
		ls[k] = v
	}
	return Alert{Fingerprint: LabelsFingerprint(ls), Status: StatusFiring, Labels: ls, StartsAt: starts,
		StartsAtRaw: starts.Format(time.RFC3339Nano)}
}

func incidentsOf(c collect) map[string][]string {
	out := map[string][]string{}
	for i := int64(1); i <= int64(len(c.episodes)); i++ {
		ep := c.episodes[i]
		out[ep.IncidentID] = append(out[ep.IncidentID], ep.Labels["alertname"]+"@"+ep.CI)
	}
	return out
}

func TestTopologySilentSwitchTakesDownTwelveHosts(t *testing.T) {
	e := topoEngine(t)
	for i := 1; i <= 12; i++ {
		at := t0.Add(time.Duration(i*5) * time.Second)
		deliver(e, at, ciAlert("NodeUnreachable", map[string]string{"instance": fmt.Sprintf("host-a-%02d:9100", i), "job": "node"}, at))
	}
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 1 {
		t.Fatalf("incidents = %v, want 1", incidentsOf(c))
	}
	in := c.incidents["INC-000001"]
	if in.RootCauseCI != "sw-a" || !in.RootCauseInferred || in.AlertCount != 12 || in.Method != MethodTopology {
		t.Errorf("incident = %+v, want root sw-a inferred with 12 alerts", in)
	}
	ep := c.episodes[5]
	if ep.Explanation.Method != MethodTopology || len(ep.Explanation.CIPath) != 2 || ep.Explanation.CIPath[1] != "sw-a" {
		t.Errorf("explanation = %+v", ep.Explanation)
	}
}

func TestTopologyAlertingSwitchIsRoot(t *testing.T) {
	e := topoEngine(t)
	// Hosts first, then the switch's own alert, then more hosts via an alias.
	deliver(e, t0, ciAlert("NodeUnreachable", map[string]string{"instance": "host-a-03:9100"}, t0))
	deliver(e, t0.Add(10*time.Second), ciAlert("SwitchDown", map[string]string{"ci": "sw-a"}, t0.Add(5*time.Second)))
	deliver(e, t0.Add(20*time.Second), ciAlert("NodeUnreachable", map[string]string{"instance": "10.0.1.4:9100"}, t0.Add(20*time.Second)))
	deliver(e, t0.Add(30*time.Second), ciAlert("ServiceDown", map[string]string{"service": "svc-1"}, t0.Add(25*time.Second)))
	var c collect
	c.add(e.Flush())
	// svc-1 depends on db-orders <- host-a-01 <- sw-a: 3 hops, linked.
	if len(c.incidents) != 1 {
		t.Fatalf("incidents = %v, want 1", incidentsOf(c))
	}
	in := c.incidents["INC-000001"]
	if in.RootCauseCI != "sw-a" || in.RootCauseInferred || in.AlertCount != 4 {
		t.Errorf("incident = %+v, want root sw-a (alerting)", in)
	}
	if got := c.episodes[3].CI; got != "host-a-04" {
		t.Errorf("alias mapping: CI = %q, want host-a-04", got)
	}
}

func TestTopologyDatabaseSlowsThreeServices(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("PostgresSlowQueries", map[string]string{"ci": "db-orders"}, t0))
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(i) * 40 * time.Second)
		deliver(e, at, ciAlert("HighLatency", map[string]string{"service": fmt.Sprintf("svc-%d", i)}, at))
	}
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 1 || c.incidents["INC-000001"].RootCauseCI != "db-orders" {
		t.Fatalf("incidents = %v %+v", incidentsOf(c), c.incidents)
	}
}

func TestTopologyUnrelatedFaultsInOneDatacenterStayApart(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100"}, t0))
	deliver(e, t0.Add(time.Minute), ciAlert("HighCPU", map[string]string{"instance": "host-a-07:9100"}, t0.Add(time.Minute)))
	deliver(e, t0.Add(90*time.Second), ciAlert("NTPDrift", map[string]string{"instance": "host-b-02:9100"}, t0.Add(90*time.Second)))
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 3 {
		t.Fatalf("incidents = %v, want 3 separate", incidentsOf(c))
	}
	for _, in := range c.incidents {
		if in.RootCauseInferred || in.AlertCount != 1 {
			t.Errorf("incident %+v", in)
		}
	}
}

func TestFlappingAlertIsOneIncident(t *testing.T) {
	e := topoEngine(t)
	var c collect
	at := t0
	for i := range 20 {
		start := at
		end := at.Add(90 * time.Second)
		a := ciAlert("LinkFlap", map[string]string{"instance": "host-b-03:9100"}, start)
		deliver(e, start.Add(time.Second), a)
		r := a
		r.Status, r.EndsAt = StatusResolved, end
		deliver(e, end.Add(time.Second), r)
		at = end.Add(90 * time.Second)
		if i == 10 {
			c.add(e.Flush())
		}
	}
	c.add(e.Flush())
	if len(c.incidents) != 1 || len(c.episodes) != 20 {
		t.Fatalf("incidents = %v (%d episodes), want 1 with 20", incidentsOf(c), len(c.episodes))
	}
	in := c.incidents["INC-000001"]
	if !in.Flapping || in.Status != incident.StatusNew {
		t.Fatalf("incident = %+v, want flapping and still open", in)
	}
	if got := c.episodes[20].Explanation.Method; got != MethodFlapping {
		t.Errorf("last episode method = %q", got)
	}
	// The usual resolve delay is not enough: it waits for the hold time.
	last := in.LastEventAt
	e.Advance(last.Add(10 * time.Minute))
	c.add(e.Flush())
	if c.incidents["INC-000001"].Status != incident.StatusNew {
		t.Fatal("flapping incident resolved before its hold time")
	}
	e.Advance(last.Add(30 * time.Minute))
	c.add(e.Flush())
	if c.incidents["INC-000001"].Status != incident.StatusResolved {
		t.Fatal("flapping incident not resolved after its hold time")
	}
}

func TestSimilarityKeepsUnrelatedNoCIFaultsApart(t *testing.T) {
	e := topoEngine(t)
	cert := func(domain string, at time.Time) Alert {
		a := ciAlert("CertificateExpiringSoon", map[string]string{"domain": domain, "issuer": "ca-1", "job": "blackbox"}, at)
		a.Annotations = map[string]string{"summary": "Certificate for " + domain + " expires in 5 days"}
		return a
	}
	backup := ciAlert("BackupJobFailed", map[string]string{"backup_set": "finance", "job": "bacula"}, t0.Add(30*time.Second))
	backup.Annotations = map[string]string{"summary": "Backup of finance failed"}
	deliver(e, t0, cert("shop1.example.com", t0), cert("shop2.example.com", t0.Add(20*time.Second)))
	deliver(e, t0.Add(40*time.Second), backup, cert("api7.example.com", t0.Add(40*time.Second)))
	var c collect
	c.add(e.Flush())
	got := incidentsOf(c)
	if len(c.incidents) != 2 || len(got["INC-000001"]) != 3 {
		t.Fatalf("incidents = %v, want the certificates together and the backup apart", got)
	}
	if ex := c.episodes[2].Explanation; ex.Method != MethodSimilarity || ex.Score < 0.6 || ex.SharedLabels["issuer"] != "ca-1" {
		t.Errorf("explanation = %+v", ex)
	}
}

func TestLateAlertLandsInItsIncident(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("NodeUnreachable", map[string]string{"instance": "host-a-01:9100"}, t0))
	deliver(e, t0.Add(10*time.Second), ciAlert("NodeUnreachable", map[string]string{"instance": "host-a-02:9100"}, t0.Add(10*time.Second)))
	// Unrelated work moves the clock on.
	deliver(e, t0.Add(4*time.Minute), ciAlert("DiskFull", map[string]string{"instance": "host-b-09:9100"}, t0.Add(4*time.Minute)))
	// A delivery delayed by 4 minutes, for an alert that started with the others.
	deliver(e, t0.Add(4*time.Minute+time.Second), ciAlert("NodeUnreachable", map[string]string{"instance": "host-a-03:9100"}, t0.Add(15*time.Second)))
	var c collect
	c.add(e.Flush())
	if got := c.episodes[4].IncidentID; got != "INC-000001" {
		t.Fatalf("late alert went to %s: %v", got, incidentsOf(c))
	}
}

func TestCascadeMergesIncidentsItLinks(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("HighLatency", map[string]string{"service": "svc-1"}, t0))
	deliver(e, t0.Add(10*time.Second), ciAlert("HighErrorRate", map[string]string{"service": "svc-2"}, t0.Add(10*time.Second)))
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 2 {
		t.Fatalf("before the database alert: %v", incidentsOf(c))
	}
	deliver(e, t0.Add(30*time.Second), ciAlert("PostgresSlowQueries", map[string]string{"ci": "db-orders"}, t0.Add(20*time.Second)))
	c.add(e.Flush())
	if st := c.incidents["INC-000002"].Status; st != incident.StatusMerged {
		t.Fatalf("INC-000002 = %v, want merged: %v", st, incidentsOf(c))
	}
	in := c.incidents["INC-000001"]
	if in.AlertCount != 3 || in.RootCauseCI != "db-orders" || in.RootCauseInferred {
		t.Fatalf("merged incident = %+v", in)
	}
	if ex := c.episodes[2].Explanation; ex.Method != MethodTopology || !strings.Contains(ex.Reason, "merged from INC-000002") {
		t.Errorf("moved alert explanation = %+v", ex)
	}
}
