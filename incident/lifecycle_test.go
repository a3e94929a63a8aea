package incident

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// want is the lifecycle written out by hand, independently of the
// implementation's table: status -> action -> resulting status. Every pair
// not listed must be refused.
var want = map[Status]map[Action]Status{
	StatusNew: {
		ActionConfirm: StatusConfirmed, ActionReject: StatusRejected,
		ActionAssign: StatusNew, ActionEscalate: StatusNew, ActionComment: StatusNew,
		ActionMerge: StatusMerged, ActionMove: StatusNew, ActionCategorize: StatusNew,
		ActionDeclareMajor: StatusNew,
	},
	StatusConfirmed: {
		ActionAcknowledge: StatusAcknowledged, ActionResolve: StatusResolved,
		ActionAssign: StatusConfirmed, ActionEscalate: StatusConfirmed, ActionComment: StatusConfirmed,
		ActionMerge: StatusMerged, ActionMove: StatusConfirmed, ActionCategorize: StatusConfirmed,
		ActionDeclareMajor: StatusConfirmed, ActionPause: StatusConfirmed, ActionResume: StatusConfirmed,
	},
	StatusAcknowledged: {
		ActionStart: StatusInProgress, ActionResolve: StatusResolved,
		ActionAssign: StatusAcknowledged, ActionEscalate: StatusAcknowledged, ActionComment: StatusAcknowledged,
		ActionMerge: StatusMerged, ActionMove: StatusAcknowledged, ActionCategorize: StatusAcknowledged,
		ActionDeclareMajor: StatusAcknowledged, ActionPause: StatusAcknowledged, ActionResume: StatusAcknowledged,
	},
	StatusInProgress: {
		ActionResolve: StatusResolved,
		ActionAssign:  StatusInProgress, ActionEscalate: StatusInProgress, ActionComment: StatusInProgress,
		ActionMerge: StatusMerged, ActionMove: StatusInProgress, ActionCategorize: StatusInProgress,
		ActionDeclareMajor: StatusInProgress, ActionPause: StatusInProgress, ActionResume: StatusInProgress,
	},
	StatusResolved: {
		ActionClose: StatusClosed, ActionReopen: StatusConfirmed,
		ActionComment: StatusResolved, ActionMove: StatusResolved, ActionCategorize: StatusResolved,
	},
	StatusRejected: {
		ActionReopen: StatusNew, ActionComment: StatusRejected, ActionMove: StatusRejected,
	},
	StatusClosed: {
		ActionComment: StatusClosed,
	},
	StatusMerged: {},
}

func TestNextEveryPair(t *testing.T) {
	for _, from := range Statuses() {
		for _, a := range Actions() {
			to, err := Next(from, a)
			exp, ok := want[from][a]
			switch {
			case ok && err != nil:
				t.Errorf("%s %s: unexpected error %v", from, a, err)
			case ok && to != exp:
				t.Errorf("%s %s: got %s, want %s", from, a, to, exp)
			case !ok && !errors.Is(err, ErrInvalidTransition):
				t.Errorf("%s %s: got %s, %v; want ErrInvalidTransition", from, a, to, err)
			}
		}
		var allowed []Action
		for _, a := range Actions() {
			if _, ok := want[from][a]; ok {
				allowed = append(allowed, a)
			}
		}
		if got := Allowed(from); !slices.Equal(got, allowed) {
			t.Errorf("Allowed(%s) = %v, want %v", from, got, allowed)
		}
	}
	if _, err := Next(StatusNew, Action("dance")); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("unknown action: %v", err)
	}
}

// request returns a valid request for action a on in.
func request(in *Incident, a Action, at time.Time) Request {
	r := Request{Action: a, Actor: "alice", At: at}
	switch a {
	case ActionReject:
		r.Reason = "noise"
	case ActionResolve, ActionClose:
		r.ClosureCode = "resolved"
	case ActionAssign:
		r.Group, r.Assignee = "noc", "bob"
	case ActionComment:
		r.Comment = "looking"
	case ActionMerge:
		r.Into = "INC-000999"
	case ActionMove:
		r.Alerts = []string{"abc"}
	case ActionCategorize:
		r.Category, r.Subcategory = "network", "routing"
	case ActionDeclareMajor:
		r.Coordinator = "carol"
	}
	return r
}

func fixture(s Status, paused bool) *Incident {
	in := &Incident{ID: "INC-000001", Seq: 1, Status: s, Priority: P3, Title: "t", Method: "default",
		OpenedAt: t0, Level: L1}
	if s == StatusResolved || s == StatusClosed {
		at := t0.Add(time.Hour)
		in.ResolvedAt = &at
	}
	if paused {
		in.Pauses = []Interval{{Start: t0.Add(time.Minute), Reason: "vendor"}}
	}
	return in
}

// TestApplyEveryPair drives Workflow.Apply over every (status, action) pair:
// allowed ones reach the expected status, forbidden ones fail with
// ErrInvalidTransition and change nothing. resume is tried on a paused
// incident, everything else on an unpaused one.
func TestApplyEveryPair(t *testing.T) {
	w := mustWorkflow(t, DefaultConfig())
	at := t0.Add(2 * time.Hour)
	for _, from := range Statuses() {
		for _, a := range Actions() {
			paused := a == ActionResume && slices.Contains(Allowed(from), ActionPause)
			in := fixture(from, paused)
			before := in.Clone()
			evs, err := w.Apply(in, request(in, a, at))
			exp, ok := want[from][a]
			if !ok {
				if !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("%s %s: got %v, want ErrInvalidTransition", from, a, err)
				}
				if !reflect.DeepEqual(*in, before) {
					t.Errorf("%s %s: a refused action changed the incident", from, a)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", from, a, err)
				continue
			}
			if in.Status != exp {
				t.Errorf("%s %s: status %s, want %s", from, a, in.Status, exp)
			}
			if len(evs) != 1 || evs[0].Kind != a.Kind() || evs[0].Actor != "alice" || !evs[0].At.Equal(at) {
				t.Errorf("%s %s: events %+v", from, a, evs)
			} else if exp != from && (evs[0].From != from.String() || evs[0].To != exp.String()) {
				t.Errorf("%s %s: event from/to %q/%q", from, a, evs[0].From, evs[0].To)
			}
		}
	}
}

func TestAllowedRefinedByIncident(t *testing.T) {
	in := fixture(StatusAcknowledged, false)
	got := in.Allowed()
	if !slices.Contains(got, ActionPause) || slices.Contains(got, ActionResume) {
		t.Errorf("unpaused: %v", got)
	}
	in = fixture(StatusAcknowledged, true)
	got = in.Allowed()
	if slices.Contains(got, ActionPause) || !slices.Contains(got, ActionResume) {
		t.Errorf("paused: %v", got)
	}
	in.Level = L4
	if slices.Contains(in.Allowed(), ActionEscalate) {
		t.Error("escalate allowed at L4")
	}
	w := mustWorkflow(t, DefaultConfig())
	if _, err := w.Apply(in, request(in, ActionPause, t0.Add(time.Hour))); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("pause while paused: %v", err)
	}
	if _, err := w.Apply(in, request(in, ActionEscalate, t0.Add(time.Hour))); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("escalate at L4: %v", err)
	}
}

func TestNextAutoEveryPair(t *testing.T) {
	type key struct {
		s         Status
		t         Trigger
		confirmed bool
	}
	exp := map[key]Status{}
	for _, s := range []Status{StatusNew, StatusConfirmed, StatusAcknowledged, StatusInProgress} {
		exp[key{s, TriggerAlertsResolved, false}] = StatusResolved
		exp[key{s, TriggerAlertsResolved, true}] = StatusResolved
	}
	exp[key{StatusResolved, TriggerAlertsFiring, false}] = StatusNew
	exp[key{StatusResolved, TriggerAlertsFiring, true}] = StatusConfirmed
	w := mustWorkflow(t, DefaultConfig())
	for _, s := range Statuses() {
		for _, tr := range []Trigger{TriggerAlertsResolved, TriggerAlertsFiring} {
			for _, confirmed := range []bool{false, true} {
				in := fixture(s, false)
				if confirmed {
					c := t0.Add(time.Minute)
					in.ConfirmedAt = &c
				}
				want, ok := exp[key{s, tr, confirmed}]
				got, err := in.NextAuto(tr)
				if ok != (err == nil) || (ok && got != want) {
					t.Errorf("%s %s confirmed=%v: got %s, %v; want %s (allowed=%v)", s, tr, confirmed, got, err, want, ok)
				}
				if !ok && !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("%s %s: %v does not wrap ErrInvalidTransition", s, tr, err)
				}
				before := in.Clone()
				evs, err := w.ApplyAuto(in, tr, t0.Add(3*time.Hour))
				if ok {
					if err != nil || in.Status != want || len(evs) != 1 || evs[0].Actor != ActorSystem {
						t.Errorf("ApplyAuto %s %s: %v %s %+v", s, tr, err, in.Status, evs)
					}
				} else if err == nil || !reflect.DeepEqual(*in, before) {
					t.Errorf("ApplyAuto %s %s: refused trigger: err %v, changed %v", s, tr, err, !reflect.DeepEqual(*in, before))
				}
			}
		}
	}
	if _, err := fixture(StatusNew, false).NextAuto("bogus"); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("unknown trigger: %v", err)
	}
}

func TestValidTarget(t *testing.T) {
	for _, s := range Statuses() {
		err := ValidTarget(s)
		if s.Open() != (err == nil) {
			t.Errorf("ValidTarget(%s) = %v", s, err)
		}
	}
}

func TestParseAction(t *testing.T) {
	for _, a := range Actions() {
		if got, err := ParseAction(string(a)); err != nil || got != a {
			t.Errorf("ParseAction(%s) = %s, %v", a, got, err)
		}
		if a.Kind() == "" || !slices.Contains(EventKinds(), a.Kind()) {
			t.Errorf("%s has no event kind", a)
		}
	}
	if _, err := ParseAction("explode"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("ParseAction(explode) = %v", err)
	}
}
