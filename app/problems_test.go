package app

import (
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/topology"
)

func TestProblemBranches(t *testing.T) {
	topo, err := topology.Parse([]byte(`cis:
  - {id: core, type: router}
  - {id: sw-a, type: switch, depends_on: [core]}
  - {id: sw-b, type: switch, depends_on: [core]}
  - {id: host-a1, type: host, depends_on: [sw-a]}
  - {id: host-a2, type: host, depends_on: [sw-a]}
  - {id: host-b1, type: host, depends_on: [sw-b]}
  - {id: db-a, type: database, depends_on: [host-a1]}
  - {id: svc-x, type: service, depends_on: [host-a2, db-a]}
  - {id: svc-y, type: service, depends_on: [host-b1]}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ cis, want []string }{
		// A database slowdown with its services, and an unrelated service:
		// the root (core) was inferred from the database and svc-y.
		{[]string{"svc-x", "db-a", "svc-y"}, []string{"db-a", "svc-y"}},
		// A silent switch: its hosts and what runs on them.
		{[]string{"host-a1", "db-a", "host-a2", "svc-x"}, []string{"host-a1", "host-a2"}},
		{[]string{"svc-x"}, []string{"svc-x"}},
	}
	for _, c := range cases {
		if got := branches(topo, c.cis); !slices.Equal(got, c.want) {
			t.Errorf("branches(%v) = %v, want %v", c.cis, got, c.want)
		}
	}
	if got := branches(nil, []string{"a", "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("without topology: %v", got)
	}
}

func TestProblemActiveUntil(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 19, 0, 0, 0, time.UTC)
	eps := []correlate.Episode{
		{StartsAt: t0, EndsAt: t0.Add(10 * time.Minute), Status: correlate.StatusResolved, LastSeen: t0.Add(12 * time.Minute)},
		// A firing period whose resolution was never notified: known to
		// fire until its last notification only.
		{StartsAt: t0.Add(20 * time.Minute), Status: correlate.StatusFiring, LastSeen: t0.Add(21 * time.Minute)},
	}
	if got := activeUntil(eps); !got.Equal(t0.Add(21 * time.Minute)) {
		t.Errorf("active until %v", got)
	}
	eps[1].EndsAt, eps[1].Status = t0.Add(40*time.Minute), correlate.StatusResolved
	if got := activeUntil(eps); !got.Equal(t0.Add(40 * time.Minute)) {
		t.Errorf("active until %v", got)
	}
}
