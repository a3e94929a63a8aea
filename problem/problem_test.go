package problem

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC) // a Monday, 02:00 UTC

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

func testProblem() Problem {
	p := Problem{ID: FormatID(7), Status: StatusCandidate, Kind: KindSignature, SignatureKey: "sig-1", Signature: "DiskFull @ ci=db-01",
		Members: []Member{
			{IncidentID: "INC-000003", OpenedAt: day(2), OpenDuration: Duration(time.Hour), Priority: P3, CIs: []string{"db-01"}, Services: []string{"billing"}},
			{IncidentID: "INC-000001", OpenedAt: day(0), OpenDuration: Duration(2 * time.Hour), Priority: P2, CIs: []string{"db-01"}},
			{IncidentID: "INC-000002", OpenedAt: day(0).Add(3 * time.Hour), OpenDuration: Duration(30 * time.Minute), Priority: P4, CIs: []string{"db-01"}},
			{IncidentID: "INC-000004", OpenedAt: day(8), OpenDuration: Duration(time.Hour), Priority: P3, CIs: []string{"db-01", "san-1"}},
		},
		CreatedAt: day(3)}
	p.Refresh()
	return p
}

func TestRefresh(t *testing.T) {
	p := testProblem()
	if want := []string{"INC-000001", "INC-000002", "INC-000003", "INC-000004"}; !reflect.DeepEqual(p.IncidentIDs, want) {
		t.Errorf("IncidentIDs = %v", p.IncidentIDs)
	}
	if !p.FirstSeen.Equal(day(0)) || !p.LastSeen.Equal(day(8)) {
		t.Errorf("first/last = %v %v", p.FirstSeen, p.LastSeen)
	}
	mid := func(n int) time.Time { return time.Date(2026, 1, 5+n, 0, 0, 0, 0, time.UTC) }
	wantDay := []Bucket{{mid(0), 2}, {mid(2), 1}, {mid(8), 1}}
	wantWeek := []Bucket{{mid(0), 3}, {mid(7), 1}} // weeks start on Monday
	if !reflect.DeepEqual(p.Series.Day, wantDay) || !reflect.DeepEqual(p.Series.Week, wantWeek) {
		t.Errorf("series = %+v", p.Series)
	}
	if p.OpenTime.D() != 4*time.Hour+30*time.Minute {
		t.Errorf("open time = %v", p.OpenTime)
	}
	if !reflect.DeepEqual(p.CIs, []string{"db-01", "san-1"}) || !reflect.DeepEqual(p.Services, []string{"billing"}) {
		t.Errorf("CIs %v services %v", p.CIs, p.Services)
	}
	// An incident listed without member details stays listed.
	p.IncidentIDs = append(p.IncidentIDs, "INC-000099")
	p.Refresh()
	if n := len(p.IncidentIDs); n != 5 || p.IncidentIDs[4] != "INC-000099" {
		t.Errorf("listed-only incident lost: %v", p.IncidentIDs)
	}
}

func TestAssess(t *testing.T) {
	now := day(14)
	mk := func(n int, every time.Duration, pr Priority, svcs ...string) []Member {
		var ms []Member
		for i := range n {
			ms = append(ms, Member{IncidentID: "x", OpenedAt: now.Add(-time.Duration(i) * every), Priority: pr, Services: svcs})
		}
		return ms
	}
	w := 14 * 24 * time.Hour
	cases := []struct {
		name    string
		ms      []Member
		u, i    Level
		want    Priority
		perWeek float64
	}{
		{"nightly P2", mk(14, 24*time.Hour, P2), High, High, P1, 7},
		{"nightly P3", mk(14, 24*time.Hour, P3), High, Medium, P2, 7},
		{"3 in two weeks P3", mk(3, 4*24*time.Hour, P3), Medium, Medium, P3, 1.5},
		{"3 in two weeks P4", mk(3, 4*24*time.Hour, P4), Medium, Low, P4, 1.5},
		{"old P5", mk(3, 20*24*time.Hour, P5), Low, Low, P5, 0.5},
		{"P4 on 3 services", append(mk(1, time.Hour, P4, "a"), append(mk(1, time.Hour, P4, "b"), mk(1, time.Hour, P4, "c")...)...), Medium, Medium, P3, 1.5},
		{"unknown priorities", mk(7, 24*time.Hour, 0), High, Low, P3, 3.5},
	}
	for _, c := range cases {
		a := Assess(c.ms, w, now)
		if a.Urgency != c.u || a.Impact != c.i || a.Priority != c.want || a.PerWeek != c.perWeek {
			t.Errorf("%s: got %+v, want urgency %s impact %s %s per week %v", c.name, a, c.u, c.i, c.want, c.perWeek)
		}
	}
	for u := High; u <= Low; u++ {
		for i := High; i <= Low; i++ {
			if got, want := PriorityOf(u, i), Priority(int(u)+int(i)-1); got != want {
				t.Errorf("PriorityOf(%s, %s) = %s", u, i, got)
			}
		}
	}
}

func TestApply(t *testing.T) {
	cfg := DefaultConfig()
	at := day(10)
	act := func(k ActionKind) Action { return Action{Kind: k, Actor: "maria", At: at} }

	p := testProblem()
	// Errors leave the problem unchanged.
	for _, a := range []Action{
		act(ActResolve),            // not from candidate
		{Kind: ActConfirm, At: at}, // no actor
		act(ActReject),             // no reason
		{Kind: ActKnownError, Actor: "maria", At: at, RootCause: "log rotation off"}, // no workaround
		{Kind: ActSetPriority, Actor: "maria", At: at, Priority: 9},
	} {
		before := p.Clone()
		if err := p.Apply(cfg, a); err == nil {
			t.Errorf("%s %+v: accepted", a.Kind, a)
		}
		if !reflect.DeepEqual(before, p) {
			t.Errorf("%s: problem changed on error", a.Kind)
		}
	}
	if err := p.Apply(cfg, act(ActResolve)); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("resolve from candidate: %v", err)
	}
	if err := p.Apply(cfg, act(ActReject)); !errors.Is(err, ErrInvalidAction) {
		t.Errorf("reject without reason: %v", err)
	}

	// reject with the default quiet period
	rej := act(ActReject)
	rej.Reason = "backup window, expected"
	if err := p.Apply(cfg, rej); err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusRejected || !p.RejectedAt.Equal(at) || !p.QuietUntil.Equal(at.Add(30*24*time.Hour)) || p.RejectReason != rej.Reason {
		t.Errorf("after reject: %+v", p)
	}
	// reopen clears the rejection
	if err := p.Apply(cfg, act(ActReopen)); err != nil || p.Status != StatusCandidate || !p.QuietUntil.IsZero() || p.RejectReason != "" {
		t.Errorf("reopen: %v %+v", err, p)
	}
	rej.QuietFor = Duration(7 * 24 * time.Hour)
	if err := p.Apply(cfg, rej); err != nil || !p.QuietUntil.Equal(at.Add(7*24*time.Hour)) {
		t.Errorf("reject quiet_for 7d: %v %v", err, p.QuietUntil)
	}
	if err := p.Apply(cfg, act(ActReopen)); err != nil {
		t.Fatal(err)
	}

	steps := []Action{
		act(ActConfirm),
		{Kind: ActSetPriority, Actor: "maria", At: at, Priority: P1, Comment: "billing close"},
		{Kind: ActKnownError, Actor: "maria", At: at, RootCause: "log rotation disabled", Workaround: "run logrotate -f"},
		{Kind: ActKnownError, Actor: "maria", At: at, Workaround: "run logrotate -f /etc/logrotate.d/pg"},
		act(ActResolve),
		act(ActReopen),
		act(ActResolve),
		{Kind: ActClose, Actor: "maria", At: at, ClosureCode: ClosureFixed},
	}
	for _, a := range steps {
		if err := p.Apply(cfg, a); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	if p.Status != StatusClosed || p.ClosureCode != ClosureFixed || p.Priority != P1 || !p.PriorityManual ||
		p.RootCause != "log rotation disabled" || p.Workaround != "run logrotate -f /etc/logrotate.d/pg" {
		t.Errorf("after steps: %+v", p)
	}
	if err := p.Apply(cfg, Action{Kind: ActClose, Actor: "maria", At: at, ClosureCode: "done"}); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("close twice: %v", err)
	}
	var kinds []string
	for _, e := range p.Timeline {
		if e.Actor != "maria" || !e.At.Equal(at) {
			t.Errorf("event %+v", e)
		}
		kinds = append(kinds, e.Kind)
	}
	want := []string{"reject", "reopen", "reject", "reopen", "confirm", "set_priority", "known_error", "known_error", "resolve", "reopen", "resolve", "close"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("timeline kinds = %v", kinds)
	}
	if p.Version != int64(len(want)) {
		t.Errorf("version = %d", p.Version)
	}
	last := p.Timeline[len(p.Timeline)-1]
	if last.From != "resolved" || last.To != "closed" || last.Data["closure_code"] != "fixed" {
		t.Errorf("last event %+v", last)
	}
	if err := p.Validate(); err != nil {
		t.Error(err)
	}

	// close needs a valid code
	q := testProblem()
	_ = q.Apply(cfg, act(ActConfirm))
	if err := q.Apply(cfg, Action{Kind: ActClose, Actor: "maria", At: at, ClosureCode: "done"}); !errors.Is(err, ErrInvalidAction) {
		t.Errorf("bad closure code: %v", err)
	}
}

func TestValidate(t *testing.T) {
	good := testProblem()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Problem){
		"no id":          func(p *Problem) { p.ID = "" },
		"bad status":     func(p *Problem) { p.Status = 0 },
		"bad kind":       func(p *Problem) { p.Kind = 0 },
		"no key":         func(p *Problem) { p.SignatureKey = "" },
		"no incidents":   func(p *Problem) { p.IncidentIDs = nil },
		"rejected":       func(p *Problem) { p.Status = StatusRejected },
		"known error":    func(p *Problem) { p.Status = StatusKnownError },
		"closed no code": func(p *Problem) { p.Status = StatusClosed },
		"bad priority":   func(p *Problem) { p.Priority = 8 },
	} {
		p := good.Clone()
		mod(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestProblemJSON(t *testing.T) {
	p := testProblem()
	p.Rescore(14*24*time.Hour, day(9))
	if err := p.Apply(DefaultConfig(), Action{Kind: ActReject, Actor: "maria", At: day(9), Reason: "noise", QuietFor: Duration(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["id"] != "PRB-000007" || m["status"] != "rejected" || m["kind"] != "signature" || m["signature"] != "DiskFull @ ci=db-01" ||
		m["priority"] != "P2" || m["urgency"] != "medium" || m["open_time"] != "4h30m0s" || m["quiet_until"] != "2026-01-15T02:00:00Z" {
		t.Errorf("json: %s", b)
	}
	if _, ok := m["resolved_at"]; ok {
		t.Errorf("zero resolved_at written: %s", b)
	}
	if ids, _ := m["incident_ids"].([]any); len(ids) != 4 {
		t.Errorf("incident_ids: %s", b)
	}
	var back Problem
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, p)
	}
}
