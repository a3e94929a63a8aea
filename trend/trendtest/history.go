package trendtest

import (
	"fmt"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
)

// The seeded history. Eleven incidents (INC-001001..INC-001011) tell a
// month of service-desk work in March 2026 (weeks start Monday 2, 9, 16,
// 23); INC-001012 and 124 filler incidents (one hour each, on the 3rd of
// their month) give the monthly volume from January 2025 to February 2026.
// The batches are applied in order, two of them twice, and one carries a
// stale version that the store must ignore.
//
//	id    opened        final status  prio sev      method/rule       service level group   assignee decided
//	1001  Mar 2 10:00   closed        P1   critical rule/by-service   web     L2    ops-l2  ana      ana
//	1002  Mar 2 11:00   resolved      P3   warning  rule/by-service   web     L1    noc     bob      bob
//	1003  Mar 3 09:00   resolved      P2   critical topology          db      L1    dba     carla    carla
//	1004  Mar 4 15:00   rejected      P4   warning  similarity        db      L1    noc     -        ana
//	1005  Mar 9 08:00   new           P3   warning  rule/by-service   web     L1    noc     -        -
//	1006  Mar 10 12:00  in_progress   P2   critical rule/by-host      api     L1    noc     bob      vigia
//	1007  Mar 16 10:00  merged        P3   warning  rule/by-host      api     L1    noc     -        -
//	1008  Mar 17 14:00  resolved      P3   warning  rule/by-service   web     L3    ops-l3  ana      ana
//	1009  Mar 25 23:30  confirmed     P5   info     topology          db      L1    dba     -        bob
//	1010  Feb 20 10:00  resolved      P3   warning  rule/by-service   web     L1    noc     bob      bob
//	1011  Jan 10 09:00  acknowledged  P4   warning  similarity        net     L1    noc     carla    carla
//	1012  Jan 5 09:00   closed        P4   warning  similarity        net     L1    noc     carla    carla
//
// Moments (2026):
//
//	1001  confirmed Mar 2 10:05, acknowledged 10:10, resolved 12:10, closed Mar 3 09:00; escalated once
//	1002  confirmed Mar 2 11:30, acknowledged 12:00, resolved Mar 4 11:00; respond breached Mar 2 11:30,
//	      resolve breached Mar 3 11:00
//	1003  confirmed Mar 3 09:02, acknowledged 09:20, resolved 10:00, reopened Mar 5 08:00 (its alerts
//	      fired again), resolved again Mar 10 08:00; escalated once and bounced back once
//	1004  rejected Mar 4 15:30
//	1005  respond breached Mar 9 08:30; never confirmed
//	1006  auto-confirmed Mar 10 12:10, acknowledged 12:40 (by bob), started 13:00, paused (waiting on a
//	      vendor) from Mar 11 09:00, still paused
//	1007  merged into 1006 Mar 16 10:30
//	1008  confirmed Mar 17 14:05, acknowledged 14:15, resolved 16:00; escalated twice
//	1009  rejected Mar 26 00:05, the rejection undone 00:08 (not a reopen), confirmed 00:10; paused
//	      Mar 27 10:00 to Mar 28 10:00
//	1010  confirmed Feb 20 10:10, acknowledged 11:00, resolved Mar 6 10:00; resolve breached Feb 21 10:00
//	1011  confirmed Jan 10 09:30, acknowledged 10:00
//	1012  resolved Jan 6 09:00, closed Jan 7 09:00
//
// Engine counts (correlate.Stats) by the day of the batch clock: Feb 20 1
// delivery, 1 alert; Mar 2 10, 25, 15 repeats, 2 suppressed; Mar 3 4, 8, 3
// repeats; Mar 10 6, 9, 4 repeats, 1 suppressed; Mar 17 2, 2.
//
// Feedback: confirm 1001 (ana, Mar 2 10:05), confirm 1002 (bob, 11:30),
// confirm 1003 (carla, Mar 3 09:02), move 1 alert out of 1003 (carla,
// 09:30), reject 1004 (ana, Mar 4 15:30), merge 1007 with 2 alerts (ana,
// Mar 16 10:30), confirm 1008 (ana, Mar 17 14:05), reject 1009 (bob, Mar
// 26 00:05), confirm 1009 (bob, 00:10), confirm 1010 (bob, Feb 20 10:10).
//
// Problems: PRB-000001 candidate "HighCPU @ service=web" (1010, 1001,
// 1002, 1005, 1008); PRB-000002 known error "DiskFull @ ci=db-1" (1003,
// 1004, 1009); PRB-000003 rejected (1011); PRB-000004 confirmed (1006,
// 1007).

// Now is the time of the requests of most cases.
var Now = tm("2026-04-10 00:00")

func tm(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func pt(s string) *time.Time {
	t := tm(s)
	return &t
}

// Batch is one Apply of the history.
type Batch struct {
	Checkpoint storage.Checkpoint
	Changes    correlate.Changes
}

type spec struct {
	seq                   int64
	opened                string
	prio                  incident.Priority
	sev, method, rule     string
	service, ci, category string
	level                 incident.SupportLevel
	group                 string
}

func newIncident(s spec) incident.Incident {
	in := incident.Incident{ID: incident.FormatID(s.seq), Seq: s.seq, Status: incident.StatusNew, Priority: s.prio,
		Severity: s.sev, Title: fmt.Sprintf("incident %d", s.seq), Method: s.method, Rule: s.rule,
		GroupKey: s.method + ":" + incident.FormatID(s.seq), Labels: map[string]string{"service": s.service},
		OpenedAt: tm(s.opened), UpdatedAt: tm(s.opened), AlertCount: 1, FirstEventAt: tm(s.opened),
		LastEventAt: tm(s.opened), Version: 1, Category: s.category, Level: s.level, AssignmentGroup: s.group,
		RootCauseCI: s.ci}
	return in
}

// next returns a copy of in one version later, updated at updated.
func next(in incident.Incident, updated string) incident.Incident {
	out := in.Clone()
	out.Version++
	out.UpdatedAt = tm(updated)
	return out
}

func fb(at, actor string, in *incident.Incident, decision string, alerts int) correlate.Feedback {
	return correlate.Feedback{At: tm(at), Actor: actor, IncidentID: in.ID, Method: in.Method, Rule: in.Rule,
		Decision: decision, Alerts: alerts}
}

// Filler counts: the incidents opened per month from January 2025 to
// February 2026, INC-001010..1012 included. The projection case fits
// March 2025..February 2026: 5 6 8 7 9 10 9 11 12 12 14 15.
var monthly = []int{4, 5, 5, 6, 8, 7, 9, 10, 9, 11, 12, 12, 14, 15}

// History returns the batches to apply, in order, the final version of the
// eleven March incidents and INC-001012, and the problems to save.
func History() (batches []Batch, final map[string]incident.Incident, problems []problem.Problem) {
	final = map[string]incident.Incident{}
	var offset uint64
	add := func(clock string, st correlate.Stats, incs []incident.Incident, evs []incident.Event, fbs []correlate.Feedback) {
		offset++
		cp := storage.Checkpoint{Offset: offset, NextIncidentSeq: 2000, NextEpisodeID: 1}
		if clock != "" {
			cp.Clock = tm(clock)
		}
		batches = append(batches, Batch{Checkpoint: cp, Changes: correlate.Changes{Incidents: incs, Events: evs, Feedback: fbs, Stats: st}})
		for _, in := range incs {
			if cur, ok := final[in.ID]; in.Seq > 1000 && (!ok || in.Version >= cur.Version) {
				final[in.ID] = in
			}
		}
	}
	again := func() { batches = append(batches, batches[len(batches)-1]) }

	// Fillers: the monthly volume, minus the history's own incidents.
	var fill []incident.Incident
	seq := int64(1)
	for m, n := range monthly {
		month := time.Date(2025, time.January+time.Month(m), 3, 0, 0, 0, 0, time.UTC)
		switch month.Format("2006-01") {
		case "2026-01":
			n -= 2 // 1011, 1012
		case "2026-02":
			n-- // 1010
		}
		for i := range n {
			opened := month.Add(time.Duration(i) * time.Hour)
			in := newIncident(spec{seq: seq, opened: opened.Format("2006-01-02 15:04"), prio: incident.P4, sev: "warning",
				method: "rule", rule: "filler", service: "web", level: incident.L1, group: "noc"})
			in = next(in, opened.Add(time.Hour).Format("2006-01-02 15:04"))
			in.Status, in.ResolvedAt = incident.StatusResolved, pt(opened.Add(time.Hour).Format("2006-01-02 15:04"))
			fill = append(fill, in)
			seq++
		}
	}
	add("2026-02-28 00:00", correlate.Stats{}, fill, nil, nil)

	// January: 1011 (still acknowledged), 1012 (closed).
	i11 := newIncident(spec{1011, "2026-01-10 09:00", incident.P4, "warning", "similarity", "", "net", "sw-1", "network", incident.L1, "noc"})
	i11 = next(i11, "2026-01-10 10:00")
	i11.Status, i11.ConfirmedAt, i11.AcknowledgedAt = incident.StatusAcknowledged, pt("2026-01-10 09:30"), pt("2026-01-10 10:00")
	i11.Assignee, i11.DecidedBy = "carla", "carla"
	i12 := newIncident(spec{1012, "2026-01-05 09:00", incident.P4, "warning", "similarity", "", "net", "sw-2", "network", incident.L1, "noc"})
	i12 = next(i12, "2026-01-07 09:00")
	i12.Status, i12.ConfirmedAt, i12.AcknowledgedAt = incident.StatusClosed, pt("2026-01-05 09:10"), pt("2026-01-05 09:20")
	i12.ResolvedAt, i12.ClosedAt, i12.Assignee, i12.DecidedBy = pt("2026-01-06 09:00"), pt("2026-01-07 09:00"), "carla", "carla"
	add("2026-01-10 10:00", correlate.Stats{}, []incident.Incident{i11, i12}, nil, nil)

	// February 20: 1010 opens, is confirmed and acknowledged.
	i10 := newIncident(spec{1010, "2026-02-20 10:00", incident.P3, "warning", "rule", "by-service", "web", "web-3", "app", incident.L1, "noc"})
	i10 = next(i10, "2026-02-20 11:00")
	i10.Status, i10.ConfirmedAt, i10.AcknowledgedAt = incident.StatusAcknowledged, pt("2026-02-20 10:10"), pt("2026-02-20 11:00")
	i10.Assignee, i10.DecidedBy = "bob", "bob"
	add("2026-02-20 11:00", correlate.Stats{Deliveries: 1, Alerts: 1}, []incident.Incident{i10}, nil,
		[]correlate.Feedback{fb("2026-02-20 10:10", "bob", &i10, "confirm", 0)})

	// March 2: 1001 and 1002 open and are confirmed.
	i1 := newIncident(spec{1001, "2026-03-02 10:00", incident.P1, "critical", "rule", "by-service", "web", "web-1", "app", incident.L1, "noc"})
	i2 := newIncident(spec{1002, "2026-03-02 11:00", incident.P3, "warning", "rule", "by-service", "web", "web-2", "app", incident.L1, "noc"})
	i1 = next(i1, "2026-03-02 10:10")
	i1.Status, i1.ConfirmedAt, i1.AcknowledgedAt, i1.Assignee, i1.DecidedBy = incident.StatusAcknowledged,
		pt("2026-03-02 10:05"), pt("2026-03-02 10:10"), "ana", "ana"
	i2 = next(i2, "2026-03-02 12:00")
	i2.Status, i2.ConfirmedAt, i2.AcknowledgedAt, i2.Assignee, i2.DecidedBy = incident.StatusAcknowledged,
		pt("2026-03-02 11:30"), pt("2026-03-02 12:00"), "bob", "bob"
	i2.SLAMarks.RespondAtRisk, i2.SLAMarks.RespondBreached = pt("2026-03-02 11:20"), pt("2026-03-02 11:30")
	add("2026-03-02 12:00", correlate.Stats{Deliveries: 10, Alerts: 25, Repeats: 15, Suppressed: 2},
		[]incident.Incident{i1, i2}, nil,
		[]correlate.Feedback{fb("2026-03-02 10:05", "ana", &i1, "confirm", 0), fb("2026-03-02 11:30", "bob", &i2, "confirm", 0)})

	// March 3: 1001 escalated, resolved and closed; 1003 opens, is worked
	// and resolved; one alert moved out of it.
	i1 = next(i1, "2026-03-03 09:00")
	i1.Status, i1.ResolvedAt, i1.ClosedAt = incident.StatusClosed, pt("2026-03-02 12:10"), pt("2026-03-03 09:00")
	i1.Level, i1.AssignmentGroup, i1.EscalationCount = incident.L2, "ops-l2", 1
	i3 := newIncident(spec{1003, "2026-03-03 09:00", incident.P2, "critical", "topology", "", "db", "db-1", "database", incident.L1, "noc"})
	i3 = next(i3, "2026-03-03 09:20")
	i3.Status, i3.ConfirmedAt, i3.AcknowledgedAt, i3.Assignee, i3.DecidedBy = incident.StatusAcknowledged,
		pt("2026-03-03 09:02"), pt("2026-03-03 09:20"), "carla", "carla"
	i3.Level, i3.AssignmentGroup, i3.EscalationCount = incident.L2, "dba", 1
	i3v2 := next(i3, "2026-03-03 10:00")
	i3v2.Status, i3v2.ResolvedAt = incident.StatusResolved, pt("2026-03-03 10:00")
	i3 = i3v2
	add("2026-03-03 10:00", correlate.Stats{Deliveries: 4, Alerts: 8, Repeats: 3},
		[]incident.Incident{i1, i3}, nil,
		[]correlate.Feedback{fb("2026-03-03 09:02", "carla", &i3, "confirm", 0), fb("2026-03-03 09:30", "carla", &i3, "move", 1)})

	// March 4: 1002 resolved; 1004 opens and is rejected.
	i2 = next(i2, "2026-03-04 11:00")
	i2.Status, i2.ResolvedAt = incident.StatusResolved, pt("2026-03-04 11:00")
	i2.SLAMarks.ResolveAtRisk, i2.SLAMarks.ResolveBreached = pt("2026-03-03 07:00"), pt("2026-03-03 11:00")
	i4 := newIncident(spec{1004, "2026-03-04 15:00", incident.P4, "warning", "similarity", "", "db", "db-2", "database", incident.L1, "noc"})
	i4 = next(i4, "2026-03-04 15:30")
	i4.Status, i4.RejectedAt, i4.RejectReason, i4.DecidedBy = incident.StatusRejected, pt("2026-03-04 15:30"), "noise", "ana"
	add("2026-03-04 15:30", correlate.Stats{}, []incident.Incident{i2, i4}, nil,
		[]correlate.Feedback{fb("2026-03-04 15:30", "ana", &i4, "reject", 0)})

	// March 5: 1003's alerts fire again: it reopens (back to confirmed).
	i3 = next(i3, "2026-03-05 08:00")
	i3.Status, i3.Reopens = incident.StatusConfirmed, 1
	i3.Pauses = []incident.Interval{{Start: tm("2026-03-03 10:00"), End: tm("2026-03-05 08:00"), Reason: "resolved"}}
	i3.ResolvedAt = nil
	add("2026-03-05 08:00", correlate.Stats{}, []incident.Incident{i3},
		[]incident.Event{{IncidentID: i3.ID, At: tm("2026-03-05 08:00"), Actor: incident.ActorSystem,
			Kind: incident.KindReopened, From: "resolved", To: "confirmed", Comment: "its alerts fired again"}}, nil)

	// March 6: 1010 resolved, two weeks after it opened.
	i10 = next(i10, "2026-03-06 10:00")
	i10.Status, i10.ResolvedAt = incident.StatusResolved, pt("2026-03-06 10:00")
	i10.SLAMarks.ResolveBreached = pt("2026-02-21 10:00")
	add("2026-03-06 10:00", correlate.Stats{}, []incident.Incident{i10}, nil, nil)

	// March 9: 1005 opens and breaches its respond target, untouched.
	i5 := newIncident(spec{1005, "2026-03-09 08:00", incident.P3, "warning", "rule", "by-service", "web", "", "app", incident.L1, "noc"})
	i5 = next(i5, "2026-03-09 08:30")
	i5.SLAMarks.RespondAtRisk, i5.SLAMarks.RespondBreached = pt("2026-03-09 08:20"), pt("2026-03-09 08:30")
	add("2026-03-09 08:30", correlate.Stats{}, []incident.Incident{i5}, nil, nil)

	// March 10: 1003 bounced back to L1 and resolved again; 1006 opens,
	// is auto-confirmed, acknowledged and started. The batch is applied twice.
	i3 = next(i3, "2026-03-10 08:00")
	i3.Status, i3.ResolvedAt, i3.Level, i3.Bounces = incident.StatusResolved, pt("2026-03-10 08:00"), incident.L1, 1
	i6 := newIncident(spec{1006, "2026-03-10 12:00", incident.P2, "critical", "rule", "by-host", "api", "api-1", "api", incident.L1, "noc"})
	i6 = next(i6, "2026-03-10 13:00")
	i6.Status, i6.ConfirmedAt, i6.AcknowledgedAt, i6.StartedAt = incident.StatusInProgress, pt("2026-03-10 12:10"),
		pt("2026-03-10 12:40"), pt("2026-03-10 13:00")
	i6.Assignee, i6.DecidedBy = "bob", incident.ActorSystem
	add("2026-03-10 12:00", correlate.Stats{Deliveries: 6, Alerts: 9, Repeats: 4, Suppressed: 1},
		[]incident.Incident{i3, i6}, nil, nil)
	again()

	// March 11: 1006 paused, waiting on a vendor.
	i6 = next(i6, "2026-03-11 09:00")
	i6.Pauses = []incident.Interval{{Start: tm("2026-03-11 09:00"), Reason: "waiting on vendor"}}
	add("2026-03-11 09:00", correlate.Stats{}, []incident.Incident{i6}, nil, nil)

	// March 16: 1007 opens and is merged into 1006. Applied twice.
	i7 := newIncident(spec{1007, "2026-03-16 10:00", incident.P3, "warning", "rule", "by-host", "api", "", "api", incident.L1, "noc"})
	i7 = next(i7, "2026-03-16 10:30")
	i7.Status, i7.MergedInto = incident.StatusMerged, i6.ID
	add("2026-03-16 10:30", correlate.Stats{}, []incident.Incident{i7}, nil,
		[]correlate.Feedback{fb("2026-03-16 10:30", "ana", &i7, "merge", 2)})
	again()

	// March 17: 1008 opens and is resolved at L3; a stale version of 1003
	// (resolved the first time) arrives late and must change nothing.
	i8 := newIncident(spec{1008, "2026-03-17 14:00", incident.P3, "warning", "rule", "by-service", "web", "web-1", "app", incident.L1, "noc"})
	i8 = next(i8, "2026-03-17 16:00")
	i8.Status, i8.ConfirmedAt, i8.AcknowledgedAt, i8.ResolvedAt = incident.StatusResolved, pt("2026-03-17 14:05"),
		pt("2026-03-17 14:15"), pt("2026-03-17 16:00")
	i8.Assignee, i8.DecidedBy, i8.Level, i8.AssignmentGroup, i8.EscalationCount = "ana", "ana", incident.L3, "ops-l3", 2
	add("2026-03-17 16:00", correlate.Stats{Deliveries: 2, Alerts: 2}, []incident.Incident{i8, i3v2}, nil,
		[]correlate.Feedback{fb("2026-03-17 14:05", "ana", &i8, "confirm", 0)})

	// March 26: 1009 (opened Mar 25 23:30) rejected, un-rejected, confirmed.
	i9 := newIncident(spec{1009, "2026-03-25 23:30", incident.P5, "info", "topology", "", "db", "db-1", "database", incident.L1, "dba"})
	i9 = next(i9, "2026-03-26 00:10")
	i9.Status, i9.ConfirmedAt, i9.DecidedBy = incident.StatusConfirmed, pt("2026-03-26 00:10"), "bob"
	add("2026-03-26 00:10", correlate.Stats{}, []incident.Incident{i9},
		[]incident.Event{
			{IncidentID: i9.ID, At: tm("2026-03-26 00:05"), Actor: "bob", Kind: incident.KindRejected, From: "new", To: "rejected"},
			{IncidentID: i9.ID, At: tm("2026-03-26 00:08"), Actor: "bob", Kind: incident.KindReopened, From: "rejected", To: "new"},
			{IncidentID: i9.ID, At: tm("2026-03-26 00:10"), Actor: "bob", Kind: incident.KindConfirmed, From: "new", To: "confirmed"},
		},
		[]correlate.Feedback{fb("2026-03-26 00:05", "bob", &i9, "reject", 0), fb("2026-03-26 00:10", "bob", &i9, "confirm", 0)})

	// March 28: 1009 was paused a day, waiting on the customer.
	i9 = next(i9, "2026-03-28 10:00")
	i9.Pauses = []incident.Interval{{Start: tm("2026-03-27 10:00"), End: tm("2026-03-28 10:00"), Reason: "waiting on customer"}}
	add("2026-03-28 10:00", correlate.Stats{}, []incident.Incident{i9}, nil, nil)

	member := func(in incident.Incident) problem.Member {
		return problem.Member{IncidentID: in.ID, OpenedAt: in.OpenedAt}
	}
	prob := func(seq int64, st problem.Status, kind problem.Kind, sig string, members ...incident.Incident) problem.Problem {
		p := problem.Problem{ID: problem.FormatID(seq), Status: st, Kind: kind, SignatureKey: fmt.Sprintf("k%d", seq),
			Signature: sig, Version: 1, CreatedAt: tm("2026-03-01 00:00"), UpdatedAt: tm("2026-03-01 00:00")}
		for _, in := range members {
			p.IncidentIDs = append(p.IncidentIDs, in.ID)
			p.Members = append(p.Members, member(in))
		}
		p.FirstSeen, p.LastSeen = members[0].OpenedAt, members[len(members)-1].OpenedAt
		return p
	}
	p2 := prob(2, problem.StatusKnownError, problem.KindCI, "DiskFull @ ci=db-1", i3, i4, i9)
	p2.RootCause, p2.Workaround = "log rotation off", "rotate logs"
	problems = []problem.Problem{
		prob(1, problem.StatusCandidate, problem.KindSignature, "HighCPU @ service=web", i10, i1, i2, i5, i8),
		p2,
		prob(3, problem.StatusRejected, problem.KindSignature, "Flap @ ci=sw-1", i11),
		prob(4, problem.StatusConfirmed, problem.KindSignature, "APIErrors @ service=api", i6, i7),
	}
	return batches, final, problems
}
