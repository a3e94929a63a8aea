package problem

import (
	"fmt"
	"testing"
	"time"
)

// syntheticHistory builds n occurrences: background signatures (one CI, one
// class each) that come back every 8 days or so, never 3 times within 14
// days, plus `recurring` signatures with 5 incidents in two weeks, and
// `existing` confirmed problems over background signatures that list their
// first half of incidents.
func syntheticHistory(n, signatures, recurring, existing int) ([]Occurrence, []Problem, time.Time) {
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	sigs := make([]Sig, signatures)
	classes := make([]Sig, signatures)
	cis := make([][]string, signatures)
	svcs := make([][]string, 50)
	for i := range svcs {
		svcs[i] = []string{fmt.Sprintf("svc-%02d", i)}
	}
	alerts := []string{"DiskFull", "HostDown", "HighCPU", "BGPDown", "LinkFlap", "CertExpiring", "ReplicationLag", "OOMKilled"}
	for s := range sigs {
		ci := fmt.Sprintf("ci-%05d", s)
		in := SignatureInput{AlertNames: []string{alerts[s%len(alerts)]}, RootCauseCI: ci, CIs: []string{ci},
			CITypes: map[string]string{ci: fmt.Sprintf("type-%05d", s)}}
		sigs[s], classes[s], cis[s] = Signature(in), ClassSignature(in), []string{ci}
	}
	occs := make([]Occurrence, 0, n)
	per := (n - recurring*5) / signatures
	var jitter uint64 = 42
	for k := range per {
		for s := range signatures {
			jitter = jitter*6364136223846793005 + 1442695040888963407
			at := start.Add(time.Duration(k)*8*24*time.Hour + time.Duration(s)*time.Minute +
				time.Duration(jitter>>40%uint64(9*time.Hour/time.Second))*time.Second)
			occs = append(occs, Occurrence{
				IncidentID: fmt.Sprintf("INC-%07d", len(occs)+1), Sig: sigs[s], Class: classes[s], RootCauseCI: cis[s][0], CIs: cis[s],
				Services: svcs[s%len(svcs)], OpenedAt: at, ResolvedAt: at.Add(45 * time.Minute), Priority: Priority(1 + s%5),
			})
		}
	}
	end := start.Add(time.Duration(per) * 8 * 24 * time.Hour)
	for r := range recurring {
		ci := fmt.Sprintf("rec-%03d", r)
		in := SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: ci, CIs: []string{ci}}
		sig, class := Signature(in), ClassSignature(in)
		base := start.Add(time.Duration(r) * 70 * 24 * time.Hour)
		for k := range 5 {
			at := base.Add(time.Duration(k) * 3 * 24 * time.Hour)
			occs = append(occs, Occurrence{IncidentID: fmt.Sprintf("INC-%07d", len(occs)+1), Sig: sig, Class: class,
				RootCauseCI: ci, CIs: []string{ci}, OpenedAt: at, ResolvedAt: at.Add(time.Hour), Priority: P3})
		}
	}
	var problems []Problem
	for e := range existing {
		s := e * (signatures / max(existing, 1))
		p := Problem{ID: FormatID(int64(e + 1)), Status: StatusConfirmed, Kind: KindSignature, SignatureKey: sigs[s].Key,
			Signature: sigs[s].Text, CreatedAt: start}
		for k := 0; k < per/2; k++ {
			o := occs[k*signatures+s]
			p.Members = append(p.Members, Member{IncidentID: o.IncidentID, OpenedAt: o.OpenedAt, ResolvedAt: o.ResolvedAt,
				OpenDuration: Duration(45 * time.Minute), Priority: o.Priority, CIs: o.CIs, Services: o.Services})
		}
		p.Refresh()
		problems = append(problems, p)
	}
	return occs, problems, end
}

func BenchmarkDetect1M(b *testing.B) {
	const n, signatures, recurring, existing = 1_000_000, 5000, 20, 50
	occs, problems, now := syntheticHistory(n, signatures, recurring, existing)
	cfg := DefaultConfig()
	r := Detect(cfg, occs, problems, now)
	if len(r.New) != recurring || len(r.Updated) != existing {
		b.Fatalf("synthetic history: %d new (want %d), %d updated (want %d)", len(r.New), recurring, len(r.Updated), existing)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Detect(cfg, occs, problems, now)
	}
	b.ReportMetric(float64(len(occs)), "occurrences/op")
}
