// Package storagetest is the conformance suite every Vigia store passes:
// the same batches applied to the embedded store and to ClickHouse must
// read back the same. A store's test calls Run with a function that opens
// a fresh, empty store for each case.
package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
)

// Store is the method set common to Vigia's stores.
type Store interface {
	Apply(ctx context.Context, cp storage.Checkpoint, ch correlate.Changes) error
	LoadState(ctx context.Context, epRetention, incRetention time.Duration) (storage.Checkpoint, correlate.State, error)
	Offset(ctx context.Context) (uint64, error)
	ListIncidents(ctx context.Context, f storage.IncidentFilter) (storage.IncidentPage, error)
	GetIncident(ctx context.Context, id string) (storage.IncidentDetail, error)
	ForEachIncident(ctx context.Context, since time.Time, fn func(incident.Incident, []correlate.Episode) error) error
	ForEachUnassigned(ctx context.Context, since time.Time, fn func(correlate.Episode) error) error
	Totals(ctx context.Context) (storage.Totals, error)
	Ping(ctx context.Context) error
	SaveProblems(ctx context.Context, ps []problem.Problem) error
	Problems(ctx context.Context) ([]problem.Problem, error)
	Problem(ctx context.Context, id string) (problem.Problem, error)
}

// Run runs every conformance case as a parallel subtest, each on a store
// that open returns fresh and empty (and closes with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"EmptyStore", testEmptyStore},
		{"ApplyLoadStateAndReads", testApplyLoadStateAndReads},
		{"VersionGuard", testVersionGuard},
		{"EpisodeMovesIncident", testEpisodeMovesIncident},
		{"LoadStateRetention", testLoadStateRetention},
		{"ListIncidentsFiltersAndPaging", testListIncidentsFiltersAndPaging},
		{"CheckpointAndTotalsAcrossBatches", testCheckpointAndTotals},
		{"EveryStatsFieldCounted", testEveryStatsField},
		{"TimelineOrderAndDuplicates", testTimeline},
		{"ExportSince", testExportSince},
		{"ExportManyIncidents", testExportManyIncidents},
		{"ReapplySameBatch", testReapplySameBatch},
		{"Problems", testProblems},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// T0 is the base time of the fixtures.
var T0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// Episode returns a test episode; id also sets its start (T0 + id seconds).
func Episode(id int64, inc string, status correlate.Status) correlate.Episode {
	ls := map[string]string{"alertname": "A", "instance": fmt.Sprintf("h%d", id), "severity": "warning"}
	starts := T0.Add(time.Duration(id) * time.Second)
	ep := correlate.Episode{ID: id, Fingerprint: correlate.LabelsFingerprint(ls), StartsAt: starts,
		StartsAtRaw: starts.Format("2006-01-02T15:04:05.000Z07:00"), Status: status, Source: correlate.Source("alertmanager"),
		Labels: ls, Annotations: map[string]string{"summary": "s"}, IncidentID: inc, FirstSeen: T0, LastSeen: T0,
		Notifications: 1, Version: 1, JoinedAt: T0,
		Explanation: &incident.Explanation{Method: "default", Rule: "default", Reason: "test", SharedLabels: map[string]string{"a": "b"}}}
	if status == correlate.StatusResolved {
		ep.EndsAt = ep.StartsAt.Add(time.Minute)
	}
	return ep
}

// Incident returns a test incident.
func Incident(seq int64, status incident.Status, opened time.Time) incident.Incident {
	in := incident.Incident{ID: incident.FormatID(seq), Seq: seq, Status: status, Priority: incident.P3,
		Title: fmt.Sprintf("Incident %d", seq), Method: "default", GroupKey: fmt.Sprintf("k%d", seq), OpenedAt: opened,
		UpdatedAt: opened, FirstEventAt: opened, LastEventAt: opened, Version: 1, Labels: map[string]string{"service": "db"}}
	if !status.Open() && status != incident.StatusMerged {
		at := opened.Add(time.Minute)
		in.ResolvedAt = &at
	}
	return in
}

var bg = context.Background()

func apply(t *testing.T, s Store, cp storage.Checkpoint, ch correlate.Changes) {
	t.Helper()
	if err := s.Apply(bg, cp, ch); err != nil {
		t.Fatalf("apply at offset %d: %v", cp.Offset, err)
	}
}

// episodeJSON encodes an episode with the fields its JSON leaves out.
func episodeJSON(ep correlate.Episode) string {
	b, _ := json.Marshal(ep)
	return fmt.Sprintf("%s starts=%s ends=%s status=%s", b, ep.StartsAt.Format(time.RFC3339Nano),
		ep.EndsAt.Format(time.RFC3339Nano), ep.Status)
}

func incidentJSON(in incident.Incident) string {
	b, _ := json.Marshal(in)
	return fmt.Sprintf("%s seq=%d", b, in.Seq)
}

func exportDoc(t *testing.T, s Store, since time.Time) (export.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := export.Write(bg, &buf, s, since); err != nil {
		t.Fatal(err)
	}
	var doc export.Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	return doc, buf.String()
}

func testEmptyStore(t *testing.T, s Store) {
	if err := s.Ping(bg); err != nil {
		t.Fatal(err)
	}
	if off, err := s.Offset(bg); err != nil || off != 0 {
		t.Errorf("offset = %d, %v", off, err)
	}
	cp, st, err := s.LoadState(bg, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cp != (storage.Checkpoint{}) || len(st.Episodes) != 0 || len(st.Incidents) != 0 || !st.Clock.IsZero() {
		t.Errorf("empty state = %+v %+v", cp, st)
	}
	if tot, err := s.Totals(bg); err != nil || tot != (storage.Totals{}) {
		t.Errorf("totals = %+v, %v", tot, err)
	}
	p, err := s.ListIncidents(bg, storage.IncidentFilter{})
	if err != nil || p.Incidents == nil || len(p.Incidents) != 0 || p.NextCursor != "" {
		t.Errorf("list = %+v, %v", p, err)
	}
	if _, err := s.GetIncident(bg, "INC-000001"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}
	if doc, raw := exportDoc(t, s, time.Time{}); doc.Incidents == nil || len(doc.Incidents) != 0 ||
		doc.UnassignedAlerts == nil || len(doc.UnassignedAlerts) != 0 {
		t.Errorf("empty export = %q", raw)
	}
}

func testApplyLoadStateAndReads(t *testing.T, s Store) {
	ch := correlate.Changes{
		Episodes: []correlate.Episode{Episode(1, "INC-000001", correlate.StatusFiring), Episode(2, "INC-000001", correlate.StatusResolved),
			Episode(3, "", correlate.StatusFiring)},
		Incidents: []incident.Incident{Incident(1, incident.StatusNew, T0), Incident(2, incident.StatusClosed, T0.Add(-2*time.Hour))},
		Events:    []incident.Event{{IncidentID: "INC-000001", At: T0, Actor: "vigia", Kind: "opened", To: "new"}},
		Stats:     correlate.Stats{Deliveries: 2, Alerts: 4, Repeats: 1},
	}
	cp := storage.Checkpoint{Offset: 7, Clock: T0.Add(2 * time.Hour), NextIncidentSeq: 3, NextEpisodeID: 4}
	apply(t, s, cp, ch)
	gotCP, st, err := s.LoadState(bg, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if gotCP.Offset != 7 || !gotCP.Clock.Equal(cp.Clock) || gotCP.NextIncidentSeq != 3 || gotCP.NextEpisodeID != 4 ||
		!st.Clock.Equal(cp.Clock) || st.NextIncidentSeq != 3 || st.NextEpisodeID != 4 {
		t.Errorf("checkpoint = %+v, state clock %v ids %d %d", gotCP, st.Clock, st.NextIncidentSeq, st.NextEpisodeID)
	}
	if off, err := s.Offset(bg); err != nil || off != 7 {
		t.Errorf("offset = %d, %v", off, err)
	}
	// Firing episodes are loaded; the resolved one is past the 1h retention.
	sort.Slice(st.Episodes, func(i, j int) bool { return st.Episodes[i].ID < st.Episodes[j].ID })
	if len(st.Episodes) != 2 || st.Episodes[0].ID != 1 || st.Episodes[1].ID != 3 {
		t.Errorf("state episodes = %+v", st.Episodes)
	}
	if len(st.Episodes) > 0 {
		if got, want := episodeJSON(st.Episodes[0]), episodeJSON(ch.Episodes[0]); got != want {
			t.Errorf("episode round trip:\n got %s\nwant %s", got, want)
		}
	}
	if len(st.Incidents) != 1 || st.Incidents[0].Status != incident.StatusNew {
		t.Errorf("state incidents = %+v", st.Incidents)
	} else if got, want := incidentJSON(st.Incidents[0]), incidentJSON(ch.Incidents[0]); got != want {
		t.Errorf("incident round trip:\n got %s\nwant %s", got, want)
	}
	d, err := s.GetIncident(bg, "INC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Alerts) != 2 || d.Alerts[0].ID != 1 || d.Alerts[1].Status != correlate.StatusResolved ||
		d.Alerts[0].Explanation == nil || d.Alerts[0].Explanation.Reason != "test" ||
		len(d.Timeline) != 1 || d.Timeline[0].Kind != "opened" || d.Incident.Seq != 1 {
		t.Errorf("detail = %+v", d)
	}
	if len(d.Alerts) == 2 {
		if got, want := episodeJSON(d.Alerts[1]), episodeJSON(ch.Episodes[1]); got != want {
			t.Errorf("resolved episode round trip:\n got %s\nwant %s", got, want)
		}
	}
	if len(d.Timeline) == 1 && (!d.Timeline[0].At.Equal(T0) || d.Timeline[0].To != "new" || d.Timeline[0].IncidentID != "INC-000001") {
		t.Errorf("timeline event = %+v", d.Timeline[0])
	}
	d2, err := s.GetIncident(bg, "INC-000002")
	if err != nil {
		t.Fatal(err)
	}
	if d2.Alerts == nil || len(d2.Alerts) != 0 || d2.Timeline == nil || len(d2.Timeline) != 0 || d2.Incident.ResolvedAt == nil {
		t.Errorf("detail without alerts = %+v", d2)
	}
	if _, err := s.GetIncident(bg, "INC-404"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}
	tot, err := s.Totals(bg)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deliveries != 2 || tot.Alerts != 4 || tot.Repeats != 1 || tot.Episodes != 3 || tot.Incidents != 2 {
		t.Errorf("totals = %+v", tot)
	}
	doc, raw := exportDoc(t, s, time.Time{})
	if len(doc.Incidents) != 2 || len(doc.Incidents[0].Alerts) != 2 || len(doc.UnassignedAlerts) != 1 ||
		doc.Incidents[0].Alerts[0].StartsAt != "2026-01-05T10:00:01.000Z" || doc.Incidents[1].ResolvedAt == "" ||
		doc.UnassignedAlerts[0].Labels["instance"] != "h3" {
		t.Errorf("export = %s", raw)
	}
}

func testVersionGuard(t *testing.T, s Store) {
	cp := storage.Checkpoint{Offset: 1, Clock: T0}
	in := Incident(1, incident.StatusNew, T0)
	in.Version = 2
	ep := Episode(1, "INC-000001", correlate.StatusFiring)
	ep.Version = 2
	apply(t, s, cp, correlate.Changes{Incidents: []incident.Incident{in}, Episodes: []correlate.Episode{ep}})
	// Older versions never overwrite newer ones.
	staleIn := Incident(1, incident.StatusResolved, T0)
	staleIn.Version = 1
	staleEp := Episode(1, "INC-000001", correlate.StatusResolved)
	staleEp.Version = 1
	apply(t, s, cp, correlate.Changes{Incidents: []incident.Incident{staleIn}, Episodes: []correlate.Episode{staleEp}})
	d, err := s.GetIncident(bg, "INC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Incident.Status != incident.StatusNew || d.Incident.Version != 2 || len(d.Alerts) != 1 ||
		d.Alerts[0].Status != correlate.StatusFiring || d.Alerts[0].Version != 2 {
		t.Fatalf("after stale write: %+v", d)
	}
	// Newer versions do.
	newIn := Incident(1, incident.StatusAcknowledged, T0)
	newIn.Version, newIn.Title = 3, "Renamed"
	newEp := Episode(1, "INC-000001", correlate.StatusResolved)
	newEp.Version, newEp.Notifications = 3, 4
	apply(t, s, storage.Checkpoint{Offset: 2, Clock: T0}, correlate.Changes{Incidents: []incident.Incident{newIn}, Episodes: []correlate.Episode{newEp}})
	d, err = s.GetIncident(bg, "INC-000001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Incident.Status != incident.StatusAcknowledged || d.Incident.Title != "Renamed" || len(d.Alerts) != 1 ||
		d.Alerts[0].Status != correlate.StatusResolved || d.Alerts[0].Notifications != 4 || d.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("after newer write: %+v", d)
	}
	// Lists and filters see the latest version only.
	p, err := s.ListIncidents(bg, storage.IncidentFilter{Statuses: []incident.Status{incident.StatusNew}})
	if err != nil || len(p.Incidents) != 0 {
		t.Errorf("list by old status = %+v, %v", p.Incidents, err)
	}
	p, err = s.ListIncidents(bg, storage.IncidentFilter{Q: "renamed"})
	if err != nil || len(p.Incidents) != 1 {
		t.Errorf("list by new title = %+v, %v", p.Incidents, err)
	}
	if tot, err := s.Totals(bg); err != nil || tot.Episodes != 1 || tot.Incidents != 1 {
		t.Errorf("totals = %+v, %v", tot, err)
	}
}

func testEpisodeMovesIncident(t *testing.T, s Store) {
	cp := storage.Checkpoint{Offset: 1, Clock: T0}
	apply(t, s, cp, correlate.Changes{
		Incidents: []incident.Incident{Incident(1, incident.StatusNew, T0), Incident(2, incident.StatusNew, T0)},
		Episodes:  []correlate.Episode{Episode(1, "INC-000001", correlate.StatusFiring), Episode(2, "", correlate.StatusFiring)},
	})
	moved := Episode(1, "INC-000002", correlate.StatusFiring)
	moved.Version = 2
	assigned := Episode(2, "INC-000001", correlate.StatusFiring)
	assigned.Version = 2
	apply(t, s, storage.Checkpoint{Offset: 2, Clock: T0}, correlate.Changes{Episodes: []correlate.Episode{moved, assigned}})
	for id, want := range map[string]int64{"INC-000001": 2, "INC-000002": 1} {
		d, err := s.GetIncident(bg, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Alerts) != 1 || d.Alerts[0].ID != want {
			t.Errorf("%s alerts = %+v, want episode %d only", id, d.Alerts, want)
		}
	}
	doc, raw := exportDoc(t, s, time.Time{})
	if len(doc.UnassignedAlerts) != 0 || len(doc.Incidents) != 2 || len(doc.Incidents[0].Alerts) != 1 || len(doc.Incidents[1].Alerts) != 1 {
		t.Errorf("export = %s", raw)
	}
}

func testLoadStateRetention(t *testing.T, s Store) {
	clock := T0.Add(10 * time.Hour)
	old := Episode(1, "INC-000001", correlate.StatusResolved) // ended at T0+1m, long ago
	recentEnd := Episode(2, "INC-000002", correlate.StatusResolved)
	recentEnd.EndsAt = clock.Add(-30 * time.Minute)
	recentSeen := Episode(3, "INC-000003", correlate.StatusResolved)
	recentSeen.LastSeen = clock.Add(-10 * time.Minute)
	firing := Episode(4, "INC-000004", correlate.StatusFiring)
	closedLongAgo := Incident(1, incident.StatusClosed, T0)
	resolvedRecently := Incident(2, incident.StatusResolved, T0)
	at := clock.Add(-20 * time.Minute)
	resolvedRecently.ResolvedAt = &at
	merged := Incident(3, incident.StatusMerged, T0)
	// Closed long ago, but one of its alerts still fires: it is loaded.
	closedFiring := Incident(4, incident.StatusClosed, T0)
	openInc := Incident(5, incident.StatusInProgress, T0)
	apply(t, s, storage.Checkpoint{Offset: 9, Clock: clock, NextIncidentSeq: 6, NextEpisodeID: 5}, correlate.Changes{
		Episodes:  []correlate.Episode{old, recentEnd, recentSeen, firing},
		Incidents: []incident.Incident{closedLongAgo, resolvedRecently, merged, closedFiring, openInc},
	})
	_, st, err := s.LoadState(bg, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var eps, incs []string
	for _, ep := range st.Episodes {
		eps = append(eps, fmt.Sprint(ep.ID))
	}
	for _, in := range st.Incidents {
		incs = append(incs, in.ID)
	}
	sort.Strings(eps)
	if got := strings.Join(eps, ","); got != "2,3,4" {
		t.Errorf("episodes = %s, want 2,3,4", got)
	}
	if got := strings.Join(incs, ","); got != "INC-000002,INC-000004,INC-000005" {
		t.Errorf("incidents = %s, want INC-000002,INC-000004,INC-000005 in seq order", got)
	}
}

func testListIncidentsFiltersAndPaging(t *testing.T, s Store) {
	var ch correlate.Changes
	for i := int64(1); i <= 25; i++ {
		st := incident.StatusNew
		if i%5 == 0 {
			st = incident.StatusResolved
		}
		in := Incident(i, st, T0.Add(time.Duration(i)*time.Hour))
		if i%3 == 0 {
			in.Priority = incident.P1
		}
		ch.Incidents = append(ch.Incidents, in)
	}
	apply(t, s, storage.Checkpoint{}, ch)
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.ListIncidents(bg, storage.IncidentFilter{Statuses: []incident.Status{incident.StatusNew}, Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Incidents) > 7 {
			t.Fatalf("page of %d > limit 7", len(p.Incidents))
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
	p, err := s.ListIncidents(bg, storage.IncidentFilter{From: T0.Add(10 * time.Hour), To: T0.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incidents) != 2 || p.Incidents[0].ID != "INC-000011" || p.Incidents[1].ID != "INC-000010" {
		t.Errorf("time range = %+v", p.Incidents)
	}
	for q, want := range map[string]string{"incident 17": "INC-000017", "INCIDENT 17": "INC-000017", "inc-000023": "INC-000023"} {
		p, err = s.ListIncidents(bg, storage.IncidentFilter{Q: q})
		if err != nil || len(p.Incidents) != 1 || p.Incidents[0].ID != want {
			t.Errorf("q %q: %v %+v", q, err, p.Incidents)
		}
	}
	p, err = s.ListIncidents(bg, storage.IncidentFilter{Priorities: []incident.Priority{incident.P1},
		Statuses: []incident.Status{incident.StatusResolved, incident.StatusNew}, Limit: 3})
	if err != nil || len(p.Incidents) != 3 || p.Incidents[0].ID != "INC-000024" || p.Incidents[2].ID != "INC-000018" || p.NextCursor == "" {
		t.Errorf("priority filter: %v %+v", err, p)
	}
	p, err = s.ListIncidents(bg, storage.IncidentFilter{Limit: 5000})
	if err != nil || len(p.Incidents) != 25 || p.NextCursor != "" {
		t.Errorf("limit over 1000 = %d incidents, cursor %q, %v", len(p.Incidents), p.NextCursor, err)
	}
	for _, bad := range []string{"garbage", "i", "i-5", "izz!"} {
		if _, err := s.ListIncidents(bg, storage.IncidentFilter{Cursor: bad}); !errors.Is(err, storage.ErrBadCursor) {
			t.Errorf("bad cursor %q: %v", bad, err)
		}
	}
}

func testCheckpointAndTotals(t *testing.T, s Store) {
	for i := int64(1); i <= 3; i++ {
		apply(t, s, storage.Checkpoint{Offset: uint64(i * 10), Clock: T0.Add(time.Duration(i) * time.Minute), NextIncidentSeq: i, NextEpisodeID: i + 1},
			correlate.Changes{Episodes: []correlate.Episode{Episode(i, "", correlate.StatusFiring)},
				Stats: correlate.Stats{Deliveries: i, Alerts: 2 * i, Repeats: i - 1}})
	}
	// A batch that only advances the clock (an idle tick) keeps the offset.
	apply(t, s, storage.Checkpoint{Offset: 30, Clock: T0.Add(time.Hour), NextIncidentSeq: 3, NextEpisodeID: 4}, correlate.Changes{})
	cp, st, err := s.LoadState(bg, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Offset != 30 || !cp.Clock.Equal(T0.Add(time.Hour)) || cp.NextIncidentSeq != 3 || cp.NextEpisodeID != 4 || len(st.Episodes) != 3 {
		t.Errorf("checkpoint = %+v, %d episodes", cp, len(st.Episodes))
	}
	tot, err := s.Totals(bg)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Totals{Stats: correlate.Stats{Deliveries: 6, Alerts: 12, Repeats: 3}, Episodes: 3}); tot != want {
		t.Errorf("totals = %+v, want %+v", tot, want)
	}
}

// testEveryStatsField applies a batch whose every correlate.Stats field has
// its own value: a field a store does not keep fails here.
func testEveryStatsField(t *testing.T, s Store) {
	var st correlate.Stats
	v := reflect.ValueOf(&st).Elem()
	for i := 0; i < v.NumField(); i++ {
		v.Field(i).SetInt(int64(10*i + 3))
	}
	apply(t, s, storage.Checkpoint{Offset: 1}, correlate.Changes{Stats: st})
	apply(t, s, storage.Checkpoint{Offset: 2}, correlate.Changes{Stats: st})
	tot, err := s.Totals(bg)
	if err != nil {
		t.Fatal(err)
	}
	want := st
	w := reflect.ValueOf(&want).Elem()
	for i := 0; i < w.NumField(); i++ {
		w.Field(i).SetInt(2 * w.Field(i).Int())
	}
	if tot.Stats != want {
		t.Errorf("totals.Stats = %+v, want %+v (every field of correlate.Stats, summed)", tot.Stats, want)
	}
}

func testTimeline(t *testing.T, s Store) {
	ev := func(kind string, at time.Time) incident.Event {
		return incident.Event{IncidentID: "INC-000001", At: at, Actor: incident.ActorSystem, Kind: kind,
			Data: map[string]string{"k": "v"}}
	}
	apply(t, s, storage.Checkpoint{Offset: 1, Clock: T0}, correlate.Changes{
		Incidents: []incident.Incident{Incident(1, incident.StatusNew, T0)},
		// Two identical events of one batch are both kept.
		Events: []incident.Event{ev("opened", T0), ev("comment", T0), ev("comment", T0)},
	})
	apply(t, s, storage.Checkpoint{Offset: 2, Clock: T0}, correlate.Changes{
		// An event at an earlier time applied later stays in applied order,
		// and an event equal to one of an earlier batch is kept.
		Events: []incident.Event{ev("resolved", T0.Add(time.Minute)), ev("reopened", T0.Add(-time.Minute)), ev("opened", T0)},
	})
	d, err := s.GetIncident(bg, "INC-000001")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range d.Timeline {
		kinds = append(kinds, e.Kind)
	}
	if got, want := strings.Join(kinds, ","), "opened,comment,comment,resolved,reopened,opened"; got != want {
		t.Errorf("timeline = %s, want %s", got, want)
	}
	if len(d.Timeline) > 0 && d.Timeline[0].Data["k"] != "v" {
		t.Errorf("event data = %+v", d.Timeline[0])
	}
}

func testExportSince(t *testing.T, s Store) {
	merged := Incident(3, incident.StatusMerged, T0.Add(3*time.Hour))
	merged.MergedInto = "INC-000002"
	apply(t, s, storage.Checkpoint{Offset: 1, Clock: T0.Add(4 * time.Hour)}, correlate.Changes{
		Incidents: []incident.Incident{Incident(1, incident.StatusNew, T0), Incident(2, incident.StatusResolved, T0.Add(2*time.Hour)), merged},
		Episodes: []correlate.Episode{Episode(1, "INC-000001", correlate.StatusFiring), Episode(2, "INC-000002", correlate.StatusResolved),
			Episode(3, "INC-000003", correlate.StatusResolved), Episode(4, "", correlate.StatusFiring), Episode(7200, "", correlate.StatusFiring)},
	})
	doc, raw := exportDoc(t, s, T0.Add(time.Hour))
	if len(doc.Incidents) != 2 || doc.Incidents[0].ID != "INC-000002" || len(doc.Incidents[0].Alerts) != 1 ||
		doc.Incidents[1].ID != "INC-000003" || doc.Incidents[1].Status != "merged" || len(doc.Incidents[1].Alerts) != 0 ||
		len(doc.UnassignedAlerts) != 1 || doc.UnassignedAlerts[0].Labels["instance"] != "h7200" {
		t.Errorf("export since T0+1h = %s", raw)
	}
	doc, raw = exportDoc(t, s, time.Time{})
	if len(doc.Incidents) != 3 || len(doc.UnassignedAlerts) != 2 || doc.UnassignedAlerts[0].Labels["instance"] != "h4" {
		t.Errorf("export = %s", raw)
	}
}

func testExportManyIncidents(t *testing.T, s Store) {
	const n = 2345
	var ch correlate.Changes
	for i := int64(1); i <= n; i++ {
		ch.Incidents = append(ch.Incidents, Incident(i, incident.StatusNew, T0))
		ch.Episodes = append(ch.Episodes, Episode(2*i, incident.FormatID(i), correlate.StatusFiring),
			Episode(2*i+1, incident.FormatID(i), correlate.StatusResolved))
	}
	apply(t, s, storage.Checkpoint{Offset: 1, Clock: T0}, ch)
	var seen int64
	err := s.ForEachIncident(bg, time.Time{}, func(in incident.Incident, eps []correlate.Episode) error {
		seen++
		if in.Seq != seen {
			return fmt.Errorf("incident %s after %d: not in id order", in.ID, seen-1)
		}
		if len(eps) != 2 || eps[0].ID != 2*in.Seq || eps[1].ID != 2*in.Seq+1 || eps[0].IncidentID != in.ID {
			return fmt.Errorf("incident %s alerts = %+v", in.ID, eps)
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("ForEachIncident: %d incidents, %v", seen, err)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.ForEachIncident(bg, time.Time{}, func(incident.Incident, []correlate.Episode) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("an error of fn must stop the walk and be returned: %v after %d calls", err, calls)
	}
}

// Snapshot returns everything a reader can observe of a store, as text:
// two stores with equal snapshots answer every read alike.
func Snapshot(t *testing.T, s Store) string {
	t.Helper()
	var b strings.Builder
	tot, err := s.Totals(bg)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "totals %+v\n", tot)
	off, err := s.Offset(bg)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "offset %d\n", off)
	cp, st, err := s.LoadState(bg, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "checkpoint %+v\n", cp)
	sort.Slice(st.Episodes, func(i, j int) bool { return st.Episodes[i].ID < st.Episodes[j].ID })
	for _, ep := range st.Episodes {
		fmt.Fprintf(&b, "state episode %s\n", episodeJSON(ep))
	}
	for _, in := range st.Incidents {
		fmt.Fprintf(&b, "state incident %s\n", incidentJSON(in))
	}
	p, err := s.ListIncidents(bg, storage.IncidentFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range p.Incidents {
		d, err := s.GetIncident(bg, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "incident %s\n", incidentJSON(d.Incident))
		for _, ep := range d.Alerts {
			fmt.Fprintf(&b, "  alert %s\n", episodeJSON(ep))
		}
		for _, ev := range d.Timeline {
			e, _ := json.Marshal(ev)
			fmt.Fprintf(&b, "  event %s\n", e)
		}
	}
	_, raw := exportDoc(t, s, time.Time{})
	b.WriteString(raw)
	return b.String()
}

func testReapplySameBatch(t *testing.T, s Store) {
	b1 := correlate.Changes{
		Episodes:  []correlate.Episode{Episode(1, "INC-000001", correlate.StatusFiring), Episode(2, "", correlate.StatusFiring)},
		Incidents: []incident.Incident{Incident(1, incident.StatusNew, T0)},
		Events:    []incident.Event{{IncidentID: "INC-000001", At: T0, Actor: "vigia", Kind: "opened"}},
		Stats:     correlate.Stats{Deliveries: 2, Alerts: 2},
	}
	cp1 := storage.Checkpoint{Offset: 2, Clock: T0, NextIncidentSeq: 2, NextEpisodeID: 3}
	e1 := Episode(1, "INC-000001", correlate.StatusResolved)
	e1.Version, e1.Notifications = 2, 2
	in1 := Incident(1, incident.StatusResolved, T0)
	in1.Version = 2
	b2 := correlate.Changes{
		Episodes:  []correlate.Episode{e1, Episode(3, "INC-000002", correlate.StatusFiring)},
		Incidents: []incident.Incident{in1, Incident(2, incident.StatusNew, T0.Add(time.Minute))},
		Events: []incident.Event{{IncidentID: "INC-000001", At: T0.Add(time.Minute), Actor: "vigia", Kind: "resolved"},
			{IncidentID: "INC-000002", At: T0.Add(time.Minute), Actor: "vigia", Kind: "opened"}},
		Stats: correlate.Stats{Deliveries: 3, Alerts: 5, Repeats: 1},
	}
	cp2 := storage.Checkpoint{Offset: 5, Clock: T0.Add(time.Minute), NextIncidentSeq: 3, NextEpisodeID: 4}
	apply(t, s, cp1, b1)
	apply(t, s, cp2, b2)
	want := Snapshot(t, s)
	// The pipeline re-applies a batch whose checkpoint it did not see land.
	apply(t, s, cp2, b2)
	if got := Snapshot(t, s); got != want {
		t.Errorf("the same batch applied twice changed the store:\n--- once\n%s\n--- twice\n%s", want, got)
	}
	apply(t, s, cp2, b2)
	if got := Snapshot(t, s); got != want {
		t.Errorf("the same batch applied three times changed the store:\n--- once\n%s\n--- thrice\n%s", want, got)
	}
	tot, err := s.Totals(bg)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Deliveries != 5 || tot.Alerts != 7 || tot.Repeats != 1 || tot.Episodes != 3 || tot.Incidents != 2 {
		t.Errorf("totals = %+v", tot)
	}
}

// Problem returns a test problem.
func Problem(seq int64, status problem.Status, version int64) problem.Problem {
	return problem.Problem{ID: problem.FormatID(seq), Status: status, Kind: problem.KindSignature,
		SignatureKey: fmt.Sprintf("sig%d", seq), Signature: fmt.Sprintf("DiskFull @ ci=db-%d", seq),
		IncidentIDs: []string{"INC-000001", "INC-000002"}, FirstSeen: T0, LastSeen: T0.Add(time.Hour),
		CIs: []string{"db-1"}, Version: version}
}

func testProblems(t *testing.T, s Store) {
	if ps, err := s.Problems(bg); err != nil || len(ps) != 0 {
		t.Errorf("no problems yet: %+v, %v", ps, err)
	}
	if err := s.SaveProblems(bg, nil); err != nil {
		t.Errorf("save no problems: %v", err)
	}
	if err := s.SaveProblems(bg, []problem.Problem{{ID: "P-1", Version: 1}}); err == nil {
		t.Error("a bad problem id is accepted")
	}
	p1, p2 := Problem(1, problem.StatusCandidate, 1), Problem(2, problem.StatusCandidate, 1)
	if err := s.SaveProblems(bg, []problem.Problem{p2, p1}); err != nil {
		t.Fatal(err)
	}
	p1.Status, p1.Version, p1.RootCause = problem.StatusCandidate, 2, "full disk"
	stale := p2
	stale.Version, stale.Signature = 0, "stale"
	if err := s.SaveProblems(bg, []problem.Problem{p1, stale}); err != nil {
		t.Fatal(err)
	}
	// An equal version written later wins, as an update would.
	p2.Workaround = "clean up"
	if err := s.SaveProblems(bg, []problem.Problem{p2}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Problems(bg)
	if err != nil {
		t.Fatal(err)
	}
	want := []problem.Problem{p1, p2}
	got, _ := json.Marshal(ps)
	w, _ := json.Marshal(want)
	if string(got) != string(w) {
		t.Errorf("problems:\n got %s\nwant %s", got, w)
	}
	p, err := s.Problem(bg, "PRB-000002")
	if err != nil || p.Workaround != "clean up" || p.Signature == "stale" {
		t.Errorf("problem 2 = %+v, %v", p, err)
	}
	if _, err := s.Problem(bg, "PRB-000404"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing problem: %v", err)
	}
	doc, raw := exportDoc(t, s, time.Time{})
	if len(doc.Problems) != 2 || doc.Problems[0].ID != "PRB-000001" {
		t.Errorf("export problems: %s", raw)
	}
}
