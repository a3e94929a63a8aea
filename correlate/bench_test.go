package correlate

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/topology"
)

// BenchmarkProcess measures deduplication and grouping: deliveries of 100
// alerts over 10,000 distinct alerts, a mix of new episodes, repeats and
// resolves, with a topology.
func BenchmarkProcess(b *testing.B) {
	e, err := New(Options{Config: DefaultConfig(), Topology: benchTopology(b)})
	if err != nil {
		b.Fatal(err)
	}
	const distinct = 10000
	labels := make([]map[string]string, distinct)
	fps := make([]string, distinct)
	for i := range labels {
		labels[i] = map[string]string{"alertname": fmt.Sprintf("Alert%d", i%7), "instance": fmt.Sprintf("host-%d:9100", i%2000),
			"job": "node", "cluster": "c1", "severity": "warning"}
		fps[i] = LabelsFingerprint(labels[i])
	}
	starts := make([]time.Time, distinct)
	d := Delivery{Source: SourceAlertmanager, Alerts: make([]Alert, 100)}
	clock := t0
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		clock = clock.Add(100 * time.Millisecond)
		for i := range d.Alerts {
			k := (n*100 + i*37) % distinct
			a := Alert{Fingerprint: fps[k], Labels: labels[k], Status: StatusFiring}
			switch {
			case starts[k].IsZero():
				starts[k] = clock
			case (n+i)%3 == 0:
				a.Status, a.EndsAt = StatusResolved, clock
			}
			a.StartsAt = starts[k]
			if a.Status == StatusResolved {
				starts[k] = time.Time{}
			}
			d.Alerts[i] = a
		}
		d.ReceivedAt = clock
		e.Process(&d)
		if n%10 == 0 {
			e.Flush()
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
}

func benchTopology(b *testing.B) *topology.Topology {
	var cis []topology.CI
	for s := range 100 {
		cis = append(cis, topology.CI{ID: fmt.Sprintf("sw-%d", s), Type: "switch"})
	}
	for h := range 2000 {
		cis = append(cis, topology.CI{ID: fmt.Sprintf("host-%d", h), Type: "host", DependsOn: []string{fmt.Sprintf("sw-%d", h%100)}})
	}
	t, err := topology.New(cis, nil)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkMemoryPerActiveAlert holds 200,000 firing alerts (of 100 alert
// names on 20,000 hosts of a topology) and reports the heap they take per
// alert, after a garbage collection.
func BenchmarkMemoryPerActiveAlert(b *testing.B) {
	const active = 200_000
	for n := 0; n < b.N; n++ {
		e, err := New(Options{Config: DefaultConfig(), Topology: benchTopology(b)})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d := Delivery{Source: SourceAlertmanager, Alerts: make([]Alert, 100)}
		clock := t0
		for i := 0; i < active; i += 100 {
			clock = clock.Add(time.Second)
			for j := range d.Alerts {
				k := i + j
				ls := map[string]string{"alertname": fmt.Sprintf("Alert%d", k%100), "instance": fmt.Sprintf("host-%d:9100", k%2000),
					"job": "node", "cluster": "c1", "severity": "warning", "shard": fmt.Sprint(k / 2000)}
				d.Alerts[j] = Alert{Fingerprint: LabelsFingerprint(ls), Labels: ls, Status: StatusFiring, StartsAt: clock,
					StartsAtRaw: clock.Format(time.RFC3339Nano), Annotations: map[string]string{"summary": "something is wrong"}}
			}
			d.ReceivedAt = clock
			e.Process(&d)
			e.Flush()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if e.ActiveEpisodes() != active {
			b.Fatalf("active episodes = %d", e.ActiveEpisodes())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/active, "bytes/alert")
		b.ReportMetric(float64(e.OpenIncidents()), "incidents")
	}
}
