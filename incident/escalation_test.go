package incident

import (
	"slices"
	"testing"
	"time"
)

func TestDueEscalations(t *testing.T) {
	rules := []EscalationRule{
		{Name: "unacked", NotAcknowledgedWithin: Duration(15 * time.Minute), Priorities: []Priority{P1, P2}},
		{Name: "unresolved", NotResolvedWithin: Duration(4 * time.Hour), Action: EscalateNotify},
		{Name: "major", NotResolvedWithin: Duration(time.Hour), MajorOnly: true, ToLevel: L3},
	}
	cfg := DefaultConfig()
	cfg.EscalationRules = rules
	cfg.Assignment.LevelGroups = map[string]string{"L2": "noc-l2"}
	w := mustWorkflow(t, cfg)
	names := func(es []Escalation) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Rule)
		}
		return out
	}

	in := &Incident{ID: "INC-000010", Status: StatusNew, Priority: P1, OpenedAt: t0, Level: L1}
	if got := DueEscalations(rules, in, t0.Add(15*time.Minute-time.Second)); len(got) != 0 {
		t.Fatalf("early: %v", names(got))
	}
	got := DueEscalations(rules, in, t0.Add(15*time.Minute))
	if len(got) != 1 || got[0].Rule != "unacked" || got[0].Action != EscalateLevel || !got[0].Due.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("due to the second: %+v", got)
	}
	evs, err := w.Escalate(in, got[0], t0.Add(15*time.Minute+20*time.Second))
	if err != nil || len(evs) != 1 || evs[0].Kind != KindEscalated || evs[0].Data["rule"] != "unacked" || evs[0].Actor != ActorSystem {
		t.Fatalf("escalate: %v %+v", err, evs)
	}
	if in.Level != L2 || in.AssignmentGroup != "noc-l2" || in.EscalationCount != 1 || len(in.Escalations) != 1 {
		t.Fatalf("after escalate: %+v", in)
	}
	// Idempotent: recorded escalations are not due again, nor applied twice.
	if got := DueEscalations(rules, in, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("again: %v", names(got))
	}
	if evs, err := w.Escalate(in, got[0], t0.Add(time.Hour)); err != nil || evs != nil || in.Level != L2 {
		t.Fatalf("escalate twice: %v %v %s", err, evs, in.Level)
	}

	// Acknowledged incidents are not "unacknowledged"; pauses delay the clock.
	in2 := &Incident{ID: "INC-000011", Status: StatusNew, Priority: P2, OpenedAt: t0}
	in2.Pauses = []Interval{{Start: t0.Add(time.Minute), End: t0.Add(6 * time.Minute)}}
	if got := DueEscalations(rules, in2, t0.Add(19*time.Minute)); len(got) != 0 {
		t.Fatalf("paused: %v", names(got))
	}
	if got := DueEscalations(rules, in2, t0.Add(20*time.Minute)); len(got) != 1 || !got[0].Due.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("after pause: %+v", got)
	}
	ack := t0.Add(2 * time.Minute)
	in2.AcknowledgedAt, in2.Status = &ack, StatusAcknowledged
	if got := DueEscalations(rules, in2, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("acknowledged: %v", names(got))
	}
	// P4: only the not-resolved notice; resolved incidents nothing.
	in3 := &Incident{ID: "INC-000012", Status: StatusInProgress, Priority: P4, OpenedAt: t0, Level: L4}
	if got := names(DueEscalations(rules, in3, t0.Add(4*time.Hour))); !slices.Equal(got, []string{"unresolved"}) {
		t.Fatalf("P4: %v", got)
	}
	in3.Major = true
	due := DueEscalations(rules, in3, t0.Add(4*time.Hour))
	if got := names(due); !slices.Equal(got, []string{"unresolved", "major"}) {
		t.Fatalf("major: %v", got)
	}
	// At L4 an escalate rule only notifies; notify rules notify.
	for _, e := range due {
		evs, err := w.Escalate(in3, e, t0.Add(4*time.Hour))
		if err != nil || len(evs) != 1 || evs[0].Kind != KindEscalationNotified || in3.Level != L4 {
			t.Fatalf("%s at L4: %v %+v", e.Rule, err, evs)
		}
	}
	if got := DueEscalations(rules, in3, t0.Add(5*time.Hour)); len(got) != 0 {
		t.Fatalf("notified again: %v", names(got))
	}
	in3.Status = StatusResolved
	in3.Escalations = nil
	if got := DueEscalations(rules, in3, t0.Add(5*time.Hour)); len(got) != 0 {
		t.Fatalf("resolved: %v", names(got))
	}
	if _, err := w.Escalate(in3, due[0], t0.Add(5*time.Hour)); err == nil {
		t.Fatal("escalated a resolved incident")
	}

	// ToLevel jumps levels.
	in4 := &Incident{ID: "INC-000013", Status: StatusConfirmed, Priority: P3, OpenedAt: t0, Major: true}
	due = DueEscalations(rules, in4, t0.Add(time.Hour))
	if len(due) != 1 || due[0].ToLevel != L3 {
		t.Fatalf("to level: %+v", due)
	}
	if _, err := w.Escalate(in4, due[0], t0.Add(time.Hour)); err != nil || in4.Level != L3 || in4.Escalations[0].From != L1 {
		t.Fatalf("to level: %v %+v", err, in4)
	}
}
