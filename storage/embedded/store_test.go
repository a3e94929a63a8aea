package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func episode(id int64, inc string, status correlate.Status) correlate.Episode {
	ls := map[string]string{"alertname": "A", "instance": fmt.Sprintf("h%d", id)}
	ep := correlate.Episode{ID: id, Fingerprint: correlate.LabelsFingerprint(ls), StartsAt: t0.Add(time.Duration(id) * time.Second),
		StartsAtRaw: t0.Add(time.Duration(id) * time.Second).Format("2006-01-02T15:04:05.000Z07:00"), Status: status,
		Labels: ls, IncidentID: inc, FirstSeen: t0, LastSeen: t0, Notifications: 1, Version: 1,
		Explanation: &incident.Explanation{Method: "default", Rule: "default", Reason: "test"}}
	if status == correlate.StatusResolved {
		ep.EndsAt = ep.StartsAt.Add(time.Minute)
	}
	return ep
}

func inc(seq int64, status incident.Status, opened time.Time) incident.Incident {
	return incident.Incident{ID: incident.FormatID(seq), Seq: seq, Status: status, Priority: incident.P3,
		Title: fmt.Sprintf("Incident %d", seq), Method: "default", GroupKey: fmt.Sprintf("k%d", seq), OpenedAt: opened,
		UpdatedAt: opened, LastEventAt: opened, Version: 1}
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestApplyLoadStateAndReads(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	ch := correlate.Changes{
		Episodes: []correlate.Episode{episode(1, "INC-000001", correlate.StatusFiring), episode(2, "INC-000001", correlate.StatusResolved),
			episode(3, "", correlate.StatusFiring)},
		Incidents: []incident.Incident{inc(1, incident.StatusNew, t0), inc(2, incident.StatusClosed, t0.Add(time.Hour))},
		Events:    []incident.Event{{IncidentID: "INC-000001", At: t0, Actor: "vigia", Kind: "opened"}},
		Stats:     correlate.Stats{Deliveries: 2, Alerts: 4, Repeats: 1},
	}
	cp := storage.Checkpoint{Offset: 7, Clock: t0.Add(2 * time.Hour), NextIncidentSeq: 3, NextEpisodeID: 4}
	if err := s.Apply(ctx, cp, ch); err != nil {
		t.Fatal(err)
	}
	// An older version of an incident never overwrites a newer one.
	stale := inc(1, incident.StatusResolved, t0)
	stale.Version = 0
	if err := s.Apply(ctx, cp, correlate.Changes{Incidents: []incident.Incident{stale}}); err != nil {
		t.Fatal(err)
	}
	gotCP, st, err := s.LoadState(ctx, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if gotCP.Offset != 7 || !gotCP.Clock.Equal(cp.Clock) || st.NextIncidentSeq != 3 || st.NextEpisodeID != 4 {
		t.Errorf("checkpoint = %+v, state ids %d %d", gotCP, st.NextIncidentSeq, st.NextEpisodeID)
	}
	// Firing episodes are loaded; the resolved one is past the 1h retention.
	if len(st.Episodes) != 2 || len(st.Incidents) != 1 || st.Incidents[0].Status != incident.StatusNew {
		t.Errorf("state: %d episodes, incidents %+v", len(st.Episodes), st.Incidents)
	}
	d, err := s.GetIncident(ctx, "INC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Alerts) != 2 || d.Alerts[1].Status != correlate.StatusResolved || d.Alerts[0].Explanation.Reason != "test" ||
		len(d.Timeline) != 1 || d.Incident.Seq != 1 {
		t.Errorf("detail = %+v", d)
	}
	if _, err := s.GetIncident(ctx, "INC-404"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}
	tot, err := s.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deliveries != 2 || tot.Alerts != 4 || tot.Repeats != 1 || tot.Episodes != 3 || tot.Incidents != 2 {
		t.Errorf("totals = %+v", tot)
	}
	var buf bytes.Buffer
	if err := export.Write(ctx, &buf, s, time.Time{}); err != nil {
		t.Fatal(err)
	}
	var doc export.Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if len(doc.Incidents) != 2 || len(doc.Incidents[0].Alerts) != 2 || len(doc.UnassignedAlerts) != 1 ||
		doc.Incidents[0].Alerts[0].StartsAt != "2026-01-05T10:00:01.000Z" {
		t.Errorf("export = %s", buf.String())
	}
}

func TestListIncidentsFiltersAndPaging(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var ch correlate.Changes
	for i := int64(1); i <= 25; i++ {
		st := incident.StatusNew
		if i%5 == 0 {
			st = incident.StatusResolved
		}
		ch.Incidents = append(ch.Incidents, inc(i, st, t0.Add(time.Duration(i)*time.Hour)))
	}
	if err := s.Apply(ctx, storage.Checkpoint{}, ch); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.ListIncidents(ctx, storage.IncidentFilter{Statuses: []incident.Status{incident.StatusNew}, Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range p.Incidents {
			ids = append(ids, in.ID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(ids) != 20 || ids[0] != "INC-000024" || ids[19] != "INC-000001" {
		t.Errorf("paged ids = %v", ids)
	}
	p, err := s.ListIncidents(ctx, storage.IncidentFilter{From: t0.Add(10 * time.Hour), To: t0.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incidents) != 2 || p.Incidents[0].ID != "INC-000011" {
		t.Errorf("time range = %+v", p.Incidents)
	}
	p, err = s.ListIncidents(ctx, storage.IncidentFilter{Q: "incident 17"})
	if err != nil || len(p.Incidents) != 1 {
		t.Errorf("q: %v %+v", err, p.Incidents)
	}
	if _, err := s.ListIncidents(ctx, storage.IncidentFilter{Cursor: "garbage"}); !errors.Is(err, storage.ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}
