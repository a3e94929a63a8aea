package incident

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func mustWorkflow(t *testing.T, cfg Config) *Workflow {
	t.Helper()
	w, err := NewWorkflow(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func apply(t *testing.T, w *Workflow, in *Incident, r Request) []Event {
	t.Helper()
	evs, err := w.Apply(in, r)
	if err != nil {
		t.Fatalf("%s: %v", r.Action, err)
	}
	return evs
}

func TestApplyRequiredFields(t *testing.T) {
	w := mustWorkflow(t, DefaultConfig())
	at := t0.Add(time.Hour)
	cases := []struct {
		status Status
		r      Request
	}{
		{StatusNew, Request{Action: ActionReject}},
		{StatusNew, Request{Action: ActionReject, Reason: "bored"}},
		{StatusNew, Request{Action: ActionReject, Reason: "other"}},
		{StatusConfirmed, Request{Action: ActionResolve}},
		{StatusConfirmed, Request{Action: ActionResolve, ClosureCode: "magic"}},
		{StatusResolved, Request{Action: ActionClose}},
		{StatusResolved, Request{Action: ActionClose, ClosureCode: "magic"}},
		{StatusNew, Request{Action: ActionComment}},
		{StatusNew, Request{Action: ActionMerge}},
		{StatusNew, Request{Action: ActionMerge, Into: "INC-000001"}},
		{StatusNew, Request{Action: ActionMove}},
		{StatusNew, Request{Action: ActionAssign}},
		{StatusNew, Request{Action: ActionAssign, Level: 9}},
		{StatusNew, Request{Action: ActionEscalate, Level: L1}},
		{StatusNew, Request{Action: ActionCategorize}},
		{StatusNew, Request{Action: ActionCategorize, Category: "network", Subcategory: "cpu"}},
		{StatusNew, Request{Action: ActionCategorize, Category: "weather"}},
		{StatusNew, Request{Action: ActionConfirm, Actor: "-"}},
	}
	for _, c := range cases {
		in := fixture(c.status, false)
		in.ClosureCode = ""
		before := in.Clone()
		r := c.r
		if r.Actor == "" {
			r.Actor = "alice"
		} else {
			r.Actor = ""
		}
		r.At = at
		if _, err := w.Apply(in, r); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s %+v: got %v, want ErrInvalidRequest", c.status, c.r, err)
		}
		if !reflect.DeepEqual(*in, before) {
			t.Errorf("%s %+v: changed the incident", c.status, c.r)
		}
	}
}

func TestApplyWorkflowFields(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Assignment.LevelGroups = map[string]string{"L2": "noc-l2", "L3": "net-eng"}
	w := mustWorkflow(t, cfg)
	in := fixture(StatusNew, false)
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	apply(t, w, in, Request{Action: ActionConfirm, Actor: "alice", At: min(2)})
	if in.ConfirmedAt == nil || !in.ConfirmedAt.Equal(min(2)) || in.DecidedBy != "alice" {
		t.Fatalf("confirm: %+v", in)
	}
	apply(t, w, in, Request{Action: ActionAcknowledge, Actor: "bob", At: min(5)})
	if !in.AcknowledgedAt.Equal(min(5)) || in.Assignee != "bob" {
		t.Fatalf("acknowledge: %v %q", in.AcknowledgedAt, in.Assignee)
	}
	evs := apply(t, w, in, Request{Action: ActionEscalate, Actor: "bob", At: min(6)})
	if in.Level != L2 || in.AssignmentGroup != "noc-l2" || in.Assignee != "" || in.EscalationCount != 1 ||
		len(in.Escalations) != 1 || in.Escalations[0].Rule != "" || in.Escalations[0].From != L1 {
		t.Fatalf("escalate: %+v", in)
	}
	if evs[0].Data["level"] != "L2" || evs[0].Data["from_level"] != "L1" || evs[0].Data["group"] != "noc-l2" {
		t.Errorf("escalate event: %+v", evs[0])
	}
	apply(t, w, in, Request{Action: ActionAssign, Actor: "dave", At: min(7), Level: L3, Assignee: "erin"})
	if in.Level != L3 || in.EscalationCount != 2 || in.Bounces != 0 || in.Assignee != "erin" {
		t.Fatalf("assign up: %+v", in)
	}
	apply(t, w, in, Request{Action: ActionAssign, Actor: "erin", At: min(8), Level: L2, Group: "noc-l2b"})
	if in.Level != L2 || in.Bounces != 1 || in.Assignee != "" || in.AssignmentGroup != "noc-l2b" {
		t.Fatalf("assign down (bounce): %+v", in)
	}
	apply(t, w, in, Request{Action: ActionStart, Actor: "erin", At: min(9)})
	apply(t, w, in, Request{Action: ActionPause, Actor: "erin", At: min(10), Comment: "waiting on vendor"})
	if !in.Paused() {
		t.Fatal("not paused")
	}
	apply(t, w, in, Request{Action: ActionResume, Actor: "erin", At: min(20)})
	if in.Paused() || in.Pauses[0].End != min(20) || in.Pauses[0].Reason != "waiting on vendor" {
		t.Fatalf("resume: %+v", in.Pauses)
	}
	apply(t, w, in, Request{Action: ActionPause, Actor: "erin", At: min(30)})
	apply(t, w, in, Request{Action: ActionResolve, Actor: "erin", At: min(40), ClosureCode: "vendor"})
	if in.Paused() || in.Pauses[1].End != min(40) || !in.ResolvedAt.Equal(min(40)) || in.ClosureCode != "vendor" {
		t.Fatalf("resolve ends the pause: %+v", in)
	}
	evs = apply(t, w, in, Request{Action: ActionReopen, Actor: "alice", At: min(50), Comment: "still broken"})
	if in.Status != StatusConfirmed || in.ResolvedAt != nil || in.ClosureCode != "" || in.Reopens != 1 ||
		len(in.Pauses) != 3 || in.Pauses[2] != (Interval{Start: min(40), End: min(50), Reason: "resolved"}) {
		t.Fatalf("reopen: %+v", in)
	}
	if evs[0].From != "resolved" || evs[0].To != "confirmed" || evs[0].Comment != "still broken" {
		t.Errorf("reopen event: %+v", evs[0])
	}
	// The first acknowledgement counts for MTTA.
	apply(t, w, in, Request{Action: ActionAcknowledge, Actor: "frank", At: min(55)})
	if !in.AcknowledgedAt.Equal(min(5)) {
		t.Errorf("second acknowledge moved AcknowledgedAt to %v", in.AcknowledgedAt)
	}
	apply(t, w, in, Request{Action: ActionResolve, Actor: "erin", At: min(60), ClosureCode: "workaround_applied"})
	apply(t, w, in, Request{Action: ActionClose, Actor: "erin", At: min(70)})
	if in.Status != StatusClosed || !in.ClosedAt.Equal(min(70)) || in.ClosureCode != "workaround_applied" {
		t.Fatalf("close keeps the resolve code: %+v", in)
	}
}

func TestRejectAndUndo(t *testing.T) {
	w := mustWorkflow(t, DefaultConfig())
	in := fixture(StatusNew, false)
	evs := apply(t, w, in, Request{Action: ActionReject, Actor: "alice", At: t0.Add(time.Minute), Reason: "maintenance"})
	if in.RejectReason != "maintenance" || in.DecidedBy != "alice" || evs[0].Data["reason"] != "maintenance" {
		t.Fatalf("reject: %+v %+v", in, evs)
	}
	apply(t, w, in, Request{Action: ActionReopen, Actor: "alice", At: t0.Add(2 * time.Minute)})
	if in.Status != StatusNew || in.RejectReason != "" || in.RejectedAt != nil || in.Reopens != 0 {
		t.Fatalf("undo reject: %+v", in)
	}
	apply(t, w, in, Request{Action: ActionReject, Actor: "alice", At: t0.Add(3 * time.Minute), Reason: "other", Comment: "lab"})
}

func TestMajorCategoryAutoConfirm(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AutoConfirm.Rules = []string{"core"}
	cfg.CategoryRules = []CategoryRule{{Matchers: []string{`alertname=~"Link.*"`}, Category: "network", Subcategory: "connectivity"}}
	w := mustWorkflow(t, cfg)

	in := &Incident{ID: "INC-000002", Status: StatusNew, Priority: P1, Rule: "core", OpenedAt: t0}
	evs := w.Init(in, map[string]string{"alertname": "LinkDown", "severity": "critical"}, t0)
	kinds := []string{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "categorized,declared_major,confirmed" {
		t.Errorf("init events: %v", kinds)
	}
	if !in.Major || in.Category != "network" || in.Subcategory != "connectivity" || in.Status != StatusConfirmed ||
		in.Level != L1 || in.DecidedBy != ActorSystem {
		t.Errorf("init: %+v", in)
	}
	if name, p, _ := w.Policy(in); name != "major" || p.Respond != Duration(5*time.Minute) {
		t.Errorf("major policy: %s %+v", name, p)
	}

	// Category from labels when no rule matches; priority rise makes it major.
	in = &Incident{ID: "INC-000003", Status: StatusNew, Priority: P3, OpenedAt: t0}
	w.Init(in, map[string]string{"alertname": "DiskFull", "category": "storage", "subcategory": "bogus"}, t0)
	if in.Category != "storage" || in.Subcategory != "" || in.Major || in.Status != StatusNew {
		t.Errorf("label category: %+v", in)
	}
	evs = w.Prioritize(in, "critical", 12, 0, t0.Add(time.Minute))
	if in.Priority != P1 || in.Urgency != High || in.Impact != High || !in.Major || len(evs) != 2 ||
		evs[0].Kind != KindPriorityChanged || evs[0].From != "P3" || evs[0].To != "P1" {
		t.Errorf("prioritize: %+v %+v", in, evs)
	}
	// Declaring major by hand, then changing the coordinator.
	in = &Incident{ID: "INC-000004", Status: StatusConfirmed, Priority: P3, OpenedAt: t0}
	apply(t, w, in, Request{Action: ActionDeclareMajor, Actor: "alice", At: t0, Coordinator: "carol"})
	apply(t, w, in, Request{Action: ActionDeclareMajor, Actor: "alice", At: t0, Coordinator: "dan"})
	if !in.Major || in.Coordinator != "dan" || !in.MajorAt.Equal(t0) {
		t.Errorf("declare_major: %+v", in)
	}
	if _, err := w.Apply(in, Request{Action: ActionDeclareMajor, Actor: "alice", At: t0}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("declare_major again without coordinator: %v", err)
	}
}

func TestCheckSLAOnce(t *testing.T) {
	w := mustWorkflow(t, DefaultConfig())
	in := &Incident{ID: "INC-000005", Status: StatusNew, Priority: P2, OpenedAt: t0} // respond 30m, resolve 8h
	if evs := w.CheckSLA(in, t0.Add(23*time.Minute)); len(evs) != 0 {
		t.Fatalf("early: %+v", evs)
	}
	evs := w.CheckSLA(in, t0.Add(24*time.Minute)) // 0.8 * 30m
	if len(evs) != 1 || evs[0].Kind != KindSLAAtRisk || evs[0].Data["target"] != "respond" ||
		evs[0].Data["at_risk_at"] != "2026-01-05T10:24:00Z" || !in.SLAMarks.RespondAtRisk.Equal(t0.Add(24*time.Minute)) {
		t.Fatalf("at risk: %+v", evs)
	}
	if evs := w.CheckSLA(in, t0.Add(25*time.Minute)); len(evs) != 0 {
		t.Fatalf("at risk twice: %+v", evs)
	}
	evs = w.CheckSLA(in, t0.Add(31*time.Minute))
	if len(evs) != 1 || evs[0].Kind != KindSLABreached || evs[0].Data["due"] != "2026-01-05T10:30:00Z" ||
		!in.SLAMarks.RespondBreached.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("breach: %+v", evs)
	}
	if evs := w.CheckSLA(in, t0.Add(32*time.Minute)); len(evs) != 0 {
		t.Fatalf("breach twice: %+v", evs)
	}
	// First seen already breached: one event, both marks.
	evs = w.CheckSLA(in, t0.Add(9*time.Hour))
	if len(evs) != 1 || evs[0].Data["target"] != "resolve" || evs[0].Kind != KindSLABreached ||
		!in.SLAMarks.ResolveAtRisk.Equal(t0.Add(384*time.Minute)) {
		t.Fatalf("resolve breach: %+v %+v", evs, in.SLAMarks)
	}
	// Rejected incidents have no SLA.
	rej := &Incident{ID: "INC-000006", Status: StatusRejected, Priority: P1, OpenedAt: t0}
	if st := w.SLA(rej, t0.Add(24*time.Hour)); st.Respond.State != ClockNone || st.Resolve.State != ClockNone {
		t.Errorf("rejected SLA: %+v", st)
	}
}

func TestCloneIsDeep(t *testing.T) {
	at := t0
	in := &Incident{ID: "INC-000007", Labels: map[string]string{"a": "1"}, ResolvedAt: &at,
		Pauses: []Interval{{Start: t0}}, Escalations: []EscalationRecord{{Rule: "r"}},
		SLAMarks: SLAMarks{RespondBreached: &at}}
	c := in.Clone()
	in.Labels["a"] = "2"
	*in.ResolvedAt = t0.Add(time.Hour)
	in.Pauses[0].End = t0.Add(time.Hour)
	in.Escalations[0].Rule = "x"
	*in.SLAMarks.RespondBreached = t0.Add(time.Hour)
	if c.Labels["a"] != "1" || !c.ResolvedAt.Equal(t0) || !c.Pauses[0].End.IsZero() || c.Escalations[0].Rule != "r" ||
		!c.SLAMarks.RespondBreached.Equal(t0) {
		t.Errorf("clone shares memory: %+v", c)
	}
}

func TestIncidentJSON(t *testing.T) {
	at := t0.Add(time.Minute)
	in := Incident{ID: "INC-000008", Status: StatusAcknowledged, Priority: P2, Title: "x", OpenedAt: t0,
		Urgency: High, Impact: Low, Level: L2, AssignmentGroup: "noc", AcknowledgedAt: &at,
		Pauses: []Interval{{Start: at}}, SLAMarks: SLAMarks{RespondAtRisk: &at}, Category: "network"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, frag := range []string{`"urgency":"high"`, `"impact":"low"`, `"level":"L2"`, `"assignment_group":"noc"`,
		`"acknowledged_at":"2026-01-05T10:01:00Z"`, `"pauses":[{"start":"2026-01-05T10:01:00Z"}]`,
		`"sla_marks":{"respond_at_risk":"2026-01-05T10:01:00Z"}`} {
		if !strings.Contains(s, frag) {
			t.Errorf("JSON lacks %s: %s", frag, s)
		}
	}
	for _, absent := range []string{"bounces", "coordinator", "reject_reason", "escalations", "major"} {
		if strings.Contains(s, `"`+absent+`"`) {
			t.Errorf("JSON has empty %s: %s", absent, s)
		}
	}
	var back Incident
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, in)
	}
	// Incidents stored before the workflow fields existed still decode.
	old := `{"id":"INC-000001","status":"new","priority":"P3","title":"t","method":"default","group_key":"k","opened_at":"2026-01-05T10:00:00Z","updated_at":"2026-01-05T10:00:00Z","alert_count":1,"firing_count":1,"reopens":0,"first_event_at":"2026-01-05T10:00:00Z","last_event_at":"2026-01-05T10:00:00Z","version":1}`
	var o Incident
	if err := json.Unmarshal([]byte(old), &o); err != nil || o.Level != 0 || o.Paused() {
		t.Errorf("old incident: %v %+v", err, o)
	}
}

func TestMajorIncidentResolutionAsksForReview(t *testing.T) {
	w := mustWorkflow(t, DefaultConfig())
	in := &Incident{ID: "INC-000001", Status: StatusConfirmed, Priority: P1, Major: true, OpenedAt: t0}
	evs := apply(t, w, in, Request{Action: ActionResolve, Actor: "ana", At: t0.Add(time.Hour), ClosureCode: "resolved"})
	if len(evs) != 2 || evs[1].Kind != KindMajorReviewDue {
		t.Fatalf("events = %+v, want resolved then major_review_due", evs)
	}
	minor := &Incident{ID: "INC-000002", Status: StatusConfirmed, Priority: P3, OpenedAt: t0}
	if evs := apply(t, w, minor, Request{Action: ActionResolve, Actor: "ana", At: t0.Add(time.Hour), ClosureCode: "resolved"}); len(evs) != 1 {
		t.Fatalf("a minor incident asked for a review: %+v", evs)
	}
	auto := &Incident{ID: "INC-000003", Status: StatusNew, Priority: P1, Major: true, OpenedAt: t0}
	evs, err := w.ApplyAuto(auto, TriggerAlertsResolved, t0.Add(time.Hour))
	if err != nil || len(evs) != 2 || evs[1].Kind != KindMajorReviewDue {
		t.Fatalf("auto-resolve of a major incident: %+v %v", evs, err)
	}
}
