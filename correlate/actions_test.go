package correlate

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// stored returns what a store would hold for an incident, from collected changes.
func stored(c collect, id string) Stored {
	s := Stored{Incident: c.incidents[id]}
	for i := int64(1); i <= int64(len(c.episodes)); i++ {
		if ep := c.episodes[i]; ep.IncidentID == id {
			s.Alerts = append(s.Alerts, ep)
		}
	}
	return s
}

func req(a incident.Action, at time.Time) incident.Request {
	return incident.Request{Action: a, Actor: "ana", At: at}
}

func TestActConfirmRejectAndFeedback(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100"}, t0))
	deliver(e, t0, ciAlert("HighCPU", map[string]string{"instance": "host-b-07:9100"}, t0))
	var c collect
	c.add(e.Flush())
	if err := e.Act(req(incident.ActionConfirm, t0.Add(time.Minute)), stored(c, "INC-000001"), nil); err != nil {
		t.Fatal(err)
	}
	r := req(incident.ActionReject, t0.Add(time.Minute))
	if err := e.Act(r, stored(c, "INC-000002"), nil); !errors.Is(err, incident.ErrInvalidRequest) {
		t.Fatalf("reject without reason: %v", err)
	}
	r.Reason = "noise"
	if err := e.Act(r, stored(c, "INC-000002"), nil); err != nil {
		t.Fatal(err)
	}
	// Confirming a rejected incident is a forbidden transition.
	err := e.Act(req(incident.ActionConfirm, t0.Add(2*time.Minute)), stored(c, "INC-000002"), nil)
	var te *TransitionError
	if !errors.As(err, &te) || !slices.Contains(te.Allowed, incident.ActionReopen) {
		t.Fatalf("confirm after reject: %v", err)
	}
	ch := e.Flush()
	if len(ch.Feedback) != 2 || ch.Feedback[0].Decision != "confirm" || ch.Feedback[1].Reason != "noise" ||
		ch.Feedback[0].Method != MethodTopology {
		t.Errorf("feedback = %+v", ch.Feedback)
	}
	c.add(ch)
	if c.incidents["INC-000001"].Status != incident.StatusConfirmed || c.incidents["INC-000002"].Status != incident.StatusRejected {
		t.Errorf("statuses %v %v", c.incidents["INC-000001"].Status, c.incidents["INC-000002"].Status)
	}
}

func TestActMergeAndMove(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100"}, t0),
		ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100", "mountpoint": "/var"}, t0))
	deliver(e, t0, ciAlert("HighCPU", map[string]string{"instance": "host-b-07:9100"}, t0))
	var c collect
	c.add(e.Flush())
	if len(c.incidents) != 2 {
		t.Fatalf("incidents = %v", incidentsOf(c))
	}
	// Split one alert off INC-000001 into a new incident.
	mv := req(incident.ActionMove, t0.Add(time.Minute))
	mv.Alerts = []string{c.episodes[2].Fingerprint}
	if err := e.Act(mv, stored(c, "INC-000001"), nil); err != nil {
		t.Fatal(err)
	}
	c.add(e.Flush())
	if len(c.incidents) != 3 || c.episodes[2].IncidentID != "INC-000003" || c.incidents["INC-000001"].AlertCount != 1 ||
		c.episodes[2].Explanation.Method != MethodManual {
		t.Fatalf("after move: %v %+v", incidentsOf(c), c.episodes[2].Explanation)
	}
	// Merge INC-000002 into INC-000001.
	mg := req(incident.ActionMerge, t0.Add(2*time.Minute))
	mg.Into = "INC-000001"
	into := stored(c, "INC-000001")
	if err := e.Act(mg, stored(c, "INC-000002"), &into); err != nil {
		t.Fatal(err)
	}
	c.add(e.Flush())
	if c.incidents["INC-000002"].Status != incident.StatusMerged || c.incidents["INC-000002"].AlertCount != 0 ||
		c.incidents["INC-000001"].AlertCount != 2 || c.episodes[3].IncidentID != "INC-000001" {
		t.Fatalf("after merge: %v", incidentsOf(c))
	}
	// A merged incident takes no action but comments... not even those.
	cm := req(incident.ActionComment, t0.Add(3*time.Minute))
	cm.Comment = "late note"
	var te *TransitionError
	if err := e.Act(cm, stored(c, "INC-000002"), nil); !errors.As(err, &te) {
		t.Fatalf("comment on merged: %v", err)
	}
}

func TestCheckSLABreachesOnTime(t *testing.T) {
	e := topoEngine(t)
	deliver(e, t0, ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100"}, t0))
	c := collect{}
	c.add(e.Flush())
	in := c.incidents["INC-000001"]
	// P3 by default: respond within 1h.
	e.CheckSLA(t0.Add(59 * time.Minute))
	ch := e.Flush()
	kinds := func(ch Changes) (ks []string) {
		for _, ev := range ch.Events {
			ks = append(ks, ev.Kind)
		}
		return ks
	}
	if got := kinds(ch); !slices.Contains(got, incident.KindSLAAtRisk) || slices.Contains(got, incident.KindSLABreached) {
		t.Fatalf("at 59m (priority %v): events %v", in.Priority, got)
	}
	e.CheckSLA(t0.Add(time.Hour))
	if got := kinds(e.Flush()); !slices.Contains(got, incident.KindSLABreached) {
		t.Fatalf("at 1h: events %v", got)
	}
}

func TestKnownErrorLinksNewIncident(t *testing.T) {
	e := topoEngine(t)
	a := ciAlert("DiskFull", map[string]string{"instance": "host-a-05:9100"}, t0)
	in := incident.Incident{RootCauseCI: "host-a-05"}
	ep := Episode{Labels: a.Labels, CI: "host-a-05"}
	sig := e.signer.Signature(SignatureInput(&in, []Episode{ep}, e.topo))
	e.SetKnownErrors([]KnownError{{ProblemID: "PRB-000001", SignatureKey: sig.Key, Workaround: "rotate the logs"}})
	deliver(e, t0, a)
	var c collect
	c.add(e.Flush())
	got := c.incidents["INC-000001"]
	if got.ProblemID != "PRB-000001" || got.Workaround != "rotate the logs" {
		t.Fatalf("incident = %+v, want linked to the known error", got)
	}
}
