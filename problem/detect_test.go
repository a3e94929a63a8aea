package problem

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// inc is a hand-built incident of a test history.
type inc struct {
	id      string
	at      time.Time
	alert   string
	ci      string
	ciType  string
	service string
	open    time.Duration // 0: still open
	pr      Priority
}

// occ maps an incident to an occurrence the way the lead's code does.
func occ(i inc) Occurrence {
	in := SignatureInput{AlertNames: []string{i.alert}, Labels: []map[string]string{{"alertname": i.alert, "instance": i.ci + ":9100"}}}
	o := Occurrence{IncidentID: i.id, OpenedAt: i.at, Priority: i.pr}
	if i.ci != "" {
		in.RootCauseCI, in.CIs = i.ci, []string{i.ci}
		o.RootCauseCI, o.CIs = i.ci, []string{i.ci}
		if i.ciType != "" {
			in.CITypes = map[string]string{i.ci: i.ciType}
		}
	}
	if i.service != "" {
		in.Services, o.Services = []string{i.service}, []string{i.service}
	}
	o.Sig, o.Class = Signature(in), ClassSignature(in)
	if i.open > 0 {
		o.ResolvedAt = i.at.Add(i.open)
	}
	if o.Priority == 0 {
		o.Priority = P3
	}
	return o
}

// history turns incidents into occurrences, numbering ids from seq when empty.
func history(incs ...inc) []Occurrence {
	out := make([]Occurrence, len(incs))
	for n, i := range incs {
		if i.id == "" {
			i.id = fmt.Sprintf("INC-%06d", n+1)
		}
		out[n] = occ(i)
	}
	return out
}

// nightly returns n disk-full incidents on db-01 at 02:00, every `every` days from day `from`.
func nightly(idFrom, n, from, every int) []inc {
	var out []inc
	for k := range n {
		out = append(out, inc{id: fmt.Sprintf("INC-%06d", idFrom+k), at: day(from + k*every), alert: "DiskFull",
			ci: "db-01", ciType: "database", service: "billing", open: 40 * time.Minute})
	}
	return out
}

// store plays the caller: it assigns ids and keeps the problems.
type store struct {
	problems []Problem
	seq      int64
}

func (s *store) apply(t *testing.T, r Result) {
	t.Helper()
	for _, p := range r.New {
		if p.ID != "" {
			t.Fatalf("new candidate has an id: %s", p.ID)
		}
		s.seq++
		p.ID = FormatID(s.seq)
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		s.problems = append(s.problems, p)
	}
	for _, list := range [][]Update{r.Updated, r.Recurred, r.Reproposed} {
		for _, u := range list {
			if err := u.Problem.Validate(); err != nil {
				t.Fatal(err)
			}
			s.replace(t, u.Problem)
		}
	}
}

func (s *store) replace(t *testing.T, p Problem) {
	t.Helper()
	for i := range s.problems {
		if s.problems[i].ID == p.ID {
			if p.Version <= s.problems[i].Version {
				t.Errorf("%s: version %d not above %d", p.ID, p.Version, s.problems[i].Version)
			}
			s.problems[i] = p
			return
		}
	}
	t.Fatalf("update of unknown problem %s", p.ID)
}

func (s *store) act(t *testing.T, id string, a Action) {
	t.Helper()
	for i := range s.problems {
		if s.problems[i].ID == id {
			if err := s.problems[i].Apply(DefaultConfig(), a); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no problem %s", id)
}

func oneOffs() []inc {
	return []inc{
		{id: "INC-100001", at: day(1), alert: "HighCPU", ci: "app-07", ciType: "host", open: time.Hour},
		{id: "INC-100002", at: day(4), alert: "CertExpiring", ci: "lb-02", ciType: "loadbalancer", open: time.Hour},
		{id: "INC-100003", at: day(9), alert: "BGPDown", ci: "edge-3", ciType: "router", open: time.Hour},
	}
}

func TestDetectNightlyDiskFullBecomesOneCandidate(t *testing.T) {
	// Five nightly disk-full incidents on one database over two weeks, among unrelated noise.
	occs := history(append(nightly(1, 5, 0, 3), oneOffs()...)...)
	now := day(14)
	r := Detect(DefaultConfig(), occs, nil, now)
	if len(r.New) != 1 || len(r.Updated)+len(r.Recurred)+len(r.Reproposed) != 0 {
		t.Fatalf("want one candidate, got %+v", r)
	}
	p := r.New[0]
	if p.Status != StatusCandidate || p.Kind != KindSignature || p.Signature != "DiskFull @ ci=db-01" ||
		p.SignatureKey != Signature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01"}).Key {
		t.Errorf("candidate %+v", p)
	}
	if want := []string{"INC-000001", "INC-000002", "INC-000003", "INC-000004", "INC-000005"}; !reflect.DeepEqual(p.IncidentIDs, want) {
		t.Errorf("members %v", p.IncidentIDs)
	}
	if !p.FirstSeen.Equal(day(0)) || !p.LastSeen.Equal(day(12)) {
		t.Errorf("first/last %v %v", p.FirstSeen, p.LastSeen)
	}
	if len(p.Series.Day) != 5 || len(p.Series.Week) != 2 || p.Series.Week[0].Count != 3 || p.Series.Week[1].Count != 2 {
		t.Errorf("series %+v", p.Series)
	}
	if p.OpenTime.D() != 5*40*time.Minute || !reflect.DeepEqual(p.CIs, []string{"db-01"}) || !reflect.DeepEqual(p.Services, []string{"billing"}) {
		t.Errorf("open time %v CIs %v services %v", p.OpenTime, p.CIs, p.Services)
	}
	// 5 in 14 days is 2.5 a week (medium urgency), P3 incidents (medium impact).
	if p.Urgency != Medium || p.Impact != Medium || p.Priority != P3 {
		t.Errorf("score %s x %s = %s", p.Urgency, p.Impact, p.Priority)
	}
	if len(p.Timeline) != 1 || p.Timeline[0].Kind != EventProposed || p.Timeline[0].Actor != ActorSystem ||
		!strings.Contains(p.Timeline[0].Comment, "5 incidents within 14d (rule: at least 3 within 14d)") {
		t.Errorf("timeline %+v", p.Timeline)
	}

	// A second run over the same history changes nothing.
	var s store
	s.apply(t, r)
	if again := Detect(DefaultConfig(), occs, s.problems, now); !again.Empty() {
		t.Errorf("second run: %+v", again)
	}
}

func TestDetectOneOffsDoNotRecur(t *testing.T) {
	if r := Detect(DefaultConfig(), history(oneOffs()...), nil, day(14)); !r.Empty() {
		t.Errorf("one-off incidents proposed: %+v", r)
	}
}

func TestDetectWindow(t *testing.T) {
	w := DefaultConfig().Window.D()
	at := func(d time.Duration) inc { return inc{at: t0.Add(d), alert: "LinkFlap", ci: "sw-1"} }
	// Three within exactly 14 days: recurring.
	if r := Detect(DefaultConfig(), history(at(0), at(w/2), at(w)), nil, t0.Add(w)); len(r.New) != 1 {
		t.Errorf("3 within 14d: %+v", r)
	}
	// Spread by one second more: not.
	if r := Detect(DefaultConfig(), history(at(0), at(w/2), at(w+time.Second)), nil, t0.Add(2*w)); !r.Empty() {
		t.Errorf("3 over 14d+1s: %+v", r)
	}
	// The burst may lie anywhere in the history (replay runs once at the end).
	if r := Detect(DefaultConfig(), history(at(0), at(time.Hour), at(2*time.Hour)), nil, t0.Add(90*24*time.Hour)); len(r.New) != 1 {
		t.Errorf("old burst: %+v", r)
	}
	// Two are not enough; min_incidents 2 makes them so.
	cfg := DefaultConfig()
	two := history(at(0), at(time.Hour))
	if r := Detect(cfg, two, nil, t0.Add(w)); !r.Empty() {
		t.Errorf("2 of 3: %+v", r)
	}
	cfg.MinIncidents = 2
	if r := Detect(cfg, two, nil, t0.Add(w)); len(r.New) != 1 {
		t.Errorf("2 of 2: %+v", r)
	}
}

func TestDetectRejectedStaysQuiet(t *testing.T) {
	cfg := DefaultConfig() // quiet_for 30d, factor 2
	past := nightly(1, 5, 0, 3)
	var s store
	s.apply(t, Detect(cfg, history(past...), nil, day(14)))
	if len(s.problems) != 1 {
		t.Fatalf("setup: %+v", s.problems)
	}
	id := s.problems[0].ID
	s.act(t, id, Action{Kind: ActReject, Actor: "maria", At: day(14), Reason: "backup window, accepted"})
	rejected := s.problems

	// It keeps recurring at the same rate during the quiet period (until day 44): quiet.
	same := append(past, nightly(6, 9, 15, 3)...) // days 15..39
	r := Detect(cfg, history(same...), rejected, day(40))
	if !r.Empty() {
		t.Fatalf("rejected candidate not quiet: %+v", r)
	}

	// Twice the rate when rejected (5 within 14 days then): 10 within 14 days now is markedly more.
	var burst []inc
	for k := range 10 {
		burst = append(burst, inc{id: fmt.Sprintf("INC-%06d", 100+k), at: day(40).Add(time.Duration(k) * 8 * time.Hour),
			alert: "DiskFull", ci: "db-01", ciType: "database", open: time.Hour})
	}
	// 9 of them are not enough.
	if r := Detect(cfg, history(append(past, burst[:9]...)...), rejected, day(43)); !r.Empty() {
		t.Fatalf("9 within 14d re-proposed: %+v", r)
	}
	r = Detect(cfg, history(append(past, burst...)...), rejected, day(43))
	if len(r.Reproposed) != 1 || len(r.New) != 0 {
		t.Fatalf("want re-proposal: %+v", r)
	}
	p := r.Reproposed[0].Problem
	ev := lastEvent(p, EventReproposed)
	if p.ID != id || p.Status != StatusCandidate || !p.QuietUntil.IsZero() || ev.Kind != EventReproposed ||
		ev.From != "rejected" || ev.To != "candidate" || !strings.Contains(ev.Comment, "markedly more") {
		t.Errorf("re-proposed %+v, event %+v", p, ev)
	}
	// The incidents since the rejection joined it.
	if got := len(r.Reproposed[0].Added); got != 10 || len(p.IncidentIDs) != 5+10 {
		t.Errorf("added %d, members %d", got, len(p.IncidentIDs))
	}

	// After the quiet period, recurring at the old rate is enough.
	r = Detect(cfg, history(same...), rejected, day(45))
	if len(r.Reproposed) != 1 || !strings.Contains(lastEvent(r.Reproposed[0].Problem, EventReproposed).Comment, "after the quiet period") {
		t.Errorf("after quiet period: %+v", r)
	}
	// ... but not when it stopped recurring.
	if r := Detect(cfg, history(past...), rejected, day(45)); !r.Empty() {
		t.Errorf("re-proposed without recurrence: %+v", r)
	}
}

func TestDetectResolvedProblemRecurs(t *testing.T) {
	cfg := DefaultConfig()
	past := nightly(1, 5, 0, 3)
	var s store
	s.apply(t, Detect(cfg, history(past...), nil, day(14)))
	id := s.problems[0].ID
	s.act(t, id, Action{Kind: ActConfirm, Actor: "maria", At: day(15)})
	s.act(t, id, Action{Kind: ActKnownError, Actor: "maria", At: day(16), RootCause: "WAL archiving stalls", Workaround: "restart archiver"})
	s.act(t, id, Action{Kind: ActResolve, Actor: "maria", At: day(20)})

	// Nothing new: nothing happens (resolved problems are not re-scored).
	if r := Detect(cfg, history(past...), s.problems, day(24)); !r.Empty() {
		t.Fatalf("no recurrence: %+v", r)
	}
	again := append(past, inc{id: "INC-000050", at: day(25), alert: "DiskFull", ci: "db-01", ciType: "database"})
	r := Detect(cfg, history(again...), s.problems, day(26))
	if len(r.Recurred) != 1 || len(r.New)+len(r.Updated) != 0 {
		t.Fatalf("want a recurrence: %+v", r)
	}
	u := r.Recurred[0]
	p := u.Problem
	ev := lastEvent(p, EventRecurred)
	if p.Status != StatusConfirmed || p.Recurrences != 1 || !p.RecurredAt.Equal(day(25)) || !p.ResolvedAt.IsZero() ||
		!reflect.DeepEqual(u.Added, []string{"INC-000050"}) || ev.Kind != EventRecurred || ev.From != "resolved" || ev.To != "confirmed" {
		t.Errorf("recurred %+v, event %+v", p, ev)
	}
	if p.Workaround != "restart archiver" {
		t.Error("workaround lost on reopen")
	}
	// The still-open recurrence counts until now.
	if p.OpenTime.D() != 5*40*time.Minute+24*time.Hour {
		t.Errorf("open time %v", p.OpenTime)
	}
}

func TestKnownErrorMatchesNextIncident(t *testing.T) {
	cfg := DefaultConfig()
	past := nightly(1, 5, 0, 3)
	var s store
	s.apply(t, Detect(cfg, history(past...), nil, day(14)))
	id := s.problems[0].ID
	s.act(t, id, Action{Kind: ActKnownError, Actor: "maria", At: day(14), RootCause: "backup writes to /data", Workaround: "move backups to /backup"})

	// The next night's incident, as the correlation engine would sign it.
	next := inc{id: "INC-000006", at: day(15), alert: "DiskFull", ci: "db-01", ciType: "database", service: "billing"}
	o := occ(next)
	p, ok := MatchKnownError(s.problems, o.Sig)
	if !ok || p.ID != id || p.Workaround != "move backups to /backup" {
		t.Fatalf("MatchKnownError = %v, %+v", ok, p)
	}
	if _, ok := MatchKnownError(s.problems, occ(inc{at: day(15), alert: "DiskFull", ci: "db-02"}).Sig); ok {
		t.Error("another database's disk-full matched")
	}
	// The next detection adds it to the problem.
	r := Detect(cfg, history(append(past, next)...), s.problems, day(15))
	if len(r.Updated) != 1 || !reflect.DeepEqual(r.Updated[0].Added, []string{"INC-000006"}) || len(r.Updated[0].Problem.IncidentIDs) != 6 {
		t.Fatalf("update %+v", r)
	}
	if ev := r.Updated[0].Problem.Timeline; ev[len(ev)-1].Kind != EventIncidents {
		t.Errorf("timeline %+v", ev)
	}
	s.apply(t, r)
	if got := Search(s.problems, "BACKUPS db-01"); len(got) != 1 || got[0].ID != id {
		t.Errorf("search %v", got)
	}
	if got := Search(s.problems, "backups db-02"); len(got) != 0 {
		t.Errorf("search matched %v", got)
	}
}

func TestDetectClassAndCI(t *testing.T) {
	// The same fault across three databases: a class problem, no signature problem.
	occs := history(
		inc{at: day(0), alert: "DiskFull", ci: "db-01", ciType: "database"},
		inc{at: day(2), alert: "DiskFull", ci: "db-02", ciType: "database"},
		inc{at: day(4), alert: "DiskFull", ci: "db-03", ciType: "database"},
	)
	r := Detect(DefaultConfig(), occs, nil, day(5))
	if len(r.New) != 1 || r.New[0].Kind != KindClass || r.New[0].Signature != "DiskFull @ type=database" || len(r.New[0].IncidentIDs) != 3 {
		t.Fatalf("class: %+v", r)
	}
	cfg := DefaultConfig()
	cfg.ByClass = false
	if r := Detect(cfg, occs, nil, day(5)); !r.Empty() {
		t.Errorf("by_class off: %+v", r)
	}

	// One database with a recurring fault and other faults besides: a
	// signature problem, and a CI problem for the rest.
	incs := nightly(1, 5, 0, 3)
	incs = append(incs,
		inc{id: "INC-000101", at: day(1), alert: "HighCPU", ci: "db-01", ciType: "database"},
		inc{id: "INC-000102", at: day(5), alert: "ReplicationLag", ci: "db-01", ciType: "database"},
		inc{id: "INC-000103", at: day(8), alert: "ConnectionsExhausted", ci: "db-01", ciType: "database"},
	)
	r = Detect(DefaultConfig(), history(incs...), nil, day(14))
	if len(r.New) != 2 || r.New[0].Kind != KindSignature || r.New[1].Kind != KindCI ||
		r.New[1].Signature != "any alert @ ci=db-01" || !reflect.DeepEqual(r.New[1].IncidentIDs, []string{"INC-000101", "INC-000102", "INC-000103"}) {
		t.Fatalf("signature + CI: %+v", r.New)
	}
	// With only one other fault, the signature problem covers the CI: no CI problem.
	r = Detect(DefaultConfig(), history(incs[:6]...), nil, day(14))
	if len(r.New) != 1 || r.New[0].Kind != KindSignature {
		t.Errorf("CI duplicates the signature: %+v", r.New)
	}
}

func TestDetectRefreshesMembers(t *testing.T) {
	incs := nightly(1, 3, 0, 1)
	incs[2].open = 0 // still open at the first run
	var s store
	s.apply(t, Detect(DefaultConfig(), history(incs...), nil, day(3)))
	if got := s.problems[0].OpenTime.D(); got != 2*40*time.Minute+24*time.Hour {
		t.Fatalf("open time %v", got)
	}
	incs[2].open = 2 * time.Hour
	r := Detect(DefaultConfig(), history(incs...), s.problems, day(3))
	if len(r.Updated) != 1 || len(r.Updated[0].Added) != 0 || r.Updated[0].Problem.OpenTime.D() != 2*40*time.Minute+2*time.Hour {
		t.Fatalf("refresh: %+v", r)
	}
	s.apply(t, r)
	if r := Detect(DefaultConfig(), history(incs...), s.problems, day(3)); !r.Empty() {
		t.Errorf("third run: %+v", r)
	}
}

func TestDetectRescores(t *testing.T) {
	var s store
	occs := history(nightly(1, 5, 0, 3)...)
	s.apply(t, Detect(DefaultConfig(), occs, nil, day(14)))
	// A month later nothing recurred: urgency drops, and the priority with it.
	r := Detect(DefaultConfig(), occs, s.problems, day(45))
	if len(r.Updated) != 1 {
		t.Fatalf("rescore: %+v", r)
	}
	p := r.Updated[0].Problem
	if p.Urgency != Low || p.Priority != P4 || p.Timeline[len(p.Timeline)-1].Kind != EventRescored {
		t.Errorf("rescored %+v", p)
	}
	// A manual priority stays.
	s.act(t, s.problems[0].ID, Action{Kind: ActSetPriority, Actor: "maria", At: day(20), Priority: P1})
	r = Detect(DefaultConfig(), occs, s.problems, day(45))
	if len(r.Updated) != 1 || r.Updated[0].Problem.Priority != P1 || r.Updated[0].Problem.Urgency != Low {
		t.Errorf("manual priority: %+v", r.Updated)
	}
}

func TestDetectIsPureAndDeterministic(t *testing.T) {
	incs := append(nightly(1, 5, 0, 3), oneOffs()...)
	incs = append(incs,
		inc{at: day(0), alert: "DiskFull", ci: "db-02", ciType: "database"},
		inc{at: day(6), alert: "DiskFull", ci: "db-03", ciType: "database"},
		inc{at: day(3), alert: "DiskFull", ci: "db-04", ciType: "database"},
		inc{id: "INC-000077", at: day(30), alert: "DiskFull", ci: "db-01"}, // after now: ignored
		inc{at: day(1), alert: "DiskFull", ci: "db-01"},
	)
	occs := history(incs...)
	occs = append(occs, occs[0], Occurrence{OpenedAt: day(1), Sig: occs[0].Sig}) // a repeat, and one without id
	var s store
	s.apply(t, Detect(DefaultConfig(), history(nightly(1, 3, 0, 3)...), nil, day(7)))
	existing := s.problems
	before := []Problem{existing[0].Clone()}
	occsBefore := append([]Occurrence(nil), occs...)

	want := Detect(DefaultConfig(), occs, existing, day(14))
	if !reflect.DeepEqual(existing, before) || !reflect.DeepEqual(occs, occsBefore) {
		t.Fatal("Detect changed its inputs")
	}
	if len(want.Updated) != 1 || len(want.New) != 1 || want.New[0].Kind != KindClass {
		t.Fatalf("result %+v", want)
	}
	for _, id := range want.Updated[0].Problem.IncidentIDs {
		if id == "INC-000077" {
			t.Error("future incident counted")
		}
	}
	if n := len(want.Updated[0].Problem.IncidentIDs); n != 6 {
		t.Errorf("members %d (repeat counted?)", n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]Occurrence(nil), occs...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Detect(DefaultConfig(), shuffled, existing, day(14)); !reflect.DeepEqual(got, want) {
			t.Fatalf("order-dependent result:\n%+v\n%+v", got, want)
		}
	}
	// Returned problems share no memory with the inputs.
	want.Updated[0].Problem.Members[0].CIs[0] = "changed"
	if existing[0].Members[0].CIs[0] == "changed" || occs[0].CIs[0] == "changed" {
		t.Error("result aliases the input")
	}
}

func lastEvent(p Problem, kind string) Event {
	for i := len(p.Timeline) - 1; i >= 0; i-- {
		if p.Timeline[i].Kind == kind {
			return p.Timeline[i]
		}
	}
	return Event{}
}

func TestDetectExistingEdgeCases(t *testing.T) {
	cfg := DefaultConfig()
	past := nightly(1, 5, 0, 3)
	var s store
	s.apply(t, Detect(cfg, history(past...), nil, day(14)))
	base := s.problems[0]

	t.Run("closed problems are final", func(t *testing.T) {
		p := base.Clone()
		if err := p.Apply(cfg, Action{Kind: ActConfirm, Actor: "maria", At: day(14)}); err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(cfg, Action{Kind: ActClose, Actor: "maria", At: day(15), ClosureCode: ClosureWontFix}); err != nil {
			t.Fatal(err)
		}
		more := append(past, nightly(6, 2, 20, 1)...)
		if r := Detect(cfg, history(more...), []Problem{p}, day(22)); !r.Empty() {
			t.Errorf("2 new incidents after closure: %+v", r)
		}
		more = append(past, nightly(6, 3, 20, 1)...)
		r := Detect(cfg, history(more...), []Problem{p}, day(23))
		if len(r.New) != 1 || !reflect.DeepEqual(r.New[0].IncidentIDs, []string{"INC-000006", "INC-000007", "INC-000008"}) {
			t.Errorf("new candidate after closure: %+v", r)
		}
	})

	t.Run("the live problem of a key takes the incidents", func(t *testing.T) {
		rej := base.Clone()
		rej.ID = "PRB-000090"
		if err := rej.Apply(cfg, Action{Kind: ActReject, Actor: "maria", At: day(14), Reason: "dup"}); err != nil {
			t.Fatal(err)
		}
		act := base.Clone()
		act.ID, act.Members, act.IncidentIDs = "PRB-000091", nil, nil
		act.Members = append(act.Members, base.Members[0])
		act.Refresh()
		rej.Members, rej.IncidentIDs = rej.Members[1:], nil
		rej.Refresh()
		more := append(past, nightly(6, 1, 15, 1)...)
		r := Detect(cfg, history(more...), []Problem{rej, act}, day(16))
		if len(r.Updated) != 1 || r.Updated[0].Problem.ID != "PRB-000091" || !reflect.DeepEqual(r.Updated[0].Added, []string{"INC-000006"}) {
			t.Errorf("update went to %+v", r)
		}
	})

	t.Run("late incidents of a resolved problem join quietly", func(t *testing.T) {
		p := base.Clone()
		_ = p.Apply(cfg, Action{Kind: ActConfirm, Actor: "maria", At: day(14)})
		if err := p.Apply(cfg, Action{Kind: ActResolve, Actor: "maria", At: day(20)}); err != nil {
			t.Fatal(err)
		}
		more := append(past, nightly(6, 1, 19, 1)...)
		r := Detect(cfg, history(more...), []Problem{p}, day(21))
		if len(r.Updated) != 1 || len(r.Recurred) != 0 || r.Updated[0].Problem.Status != StatusResolved ||
			!reflect.DeepEqual(r.Updated[0].Added, []string{"INC-000006"}) {
			t.Errorf("late incident: %+v", r)
		}
	})

	t.Run("incidents listed without details are filled in", func(t *testing.T) {
		p := base.Clone()
		p.Members = p.Members[:2]
		r := Detect(cfg, history(past...), []Problem{p}, day(14))
		if len(r.Updated) != 1 || len(r.Updated[0].Added) != 0 || len(r.Updated[0].Problem.Members) != 5 ||
			!reflect.DeepEqual(r.Updated[0].Problem.IncidentIDs, base.IncidentIDs) {
			t.Errorf("fill in: %+v", r)
		}
	})

	t.Run("a resolved class problem reopens on a new burst only", func(t *testing.T) {
		dbs := func(from int, names ...string) []inc {
			var out []inc
			for k, n := range names {
				out = append(out, inc{id: fmt.Sprintf("INC-%06d", 200+from+k), at: day(from + k), alert: "DiskFull", ci: n, ciType: "database"})
			}
			return out
		}
		first := dbs(0, "db-11", "db-12", "db-13")
		var cs store
		cs.apply(t, Detect(cfg, history(first...), nil, day(5)))
		if len(cs.problems) != 1 || cs.problems[0].Kind != KindClass {
			t.Fatalf("setup %+v", cs.problems)
		}
		cid := cs.problems[0].ID
		cs.act(t, cid, Action{Kind: ActConfirm, Actor: "maria", At: day(5)})
		cs.act(t, cid, Action{Kind: ActResolve, Actor: "maria", At: day(6)})
		one := append(first, dbs(10, "db-14")...)
		if r := Detect(cfg, history(one...), cs.problems, day(12)); !r.Empty() {
			t.Errorf("one recurrence reopened a class problem: %+v", r)
		}
		three := append(first, dbs(10, "db-14", "db-15", "db-16")...)
		if r := Detect(cfg, history(three...), cs.problems, day(14)); len(r.Recurred) != 1 || r.Recurred[0].Problem.ID != cid {
			t.Errorf("burst did not reopen: %+v", r)
		}
	})
}

func TestDetectCountsOccurrencesNotSplitIncidents(t *testing.T) {
	cfg := DefaultConfig()
	// A backup server fails twice in a week; the first time correlation
	// split its alerts into three incidents, open at the same time.
	backup := func(id string, at time.Time, active time.Duration) Occurrence {
		in := SignatureInput{Labels: []map[string]string{{"alertname": "BackupJobFailed", "cluster": "dc2", "job": "backup-exporter",
			"instance": "backup-dc2-03:9400"}}}
		return Occurrence{IncidentID: id, Sig: Signature(in), OpenedAt: at, ActiveUntil: at.Add(active),
			ResolvedAt: at.Add(active + 5*time.Minute), Priority: P4}
	}
	occs := []Occurrence{
		backup("INC-000001", day(1), 90*time.Minute),
		backup("INC-000002", day(1).Add(5*time.Minute), 80*time.Minute),
		backup("INC-000003", day(1).Add(85*time.Minute), time.Hour), // opened before the first one ended
		backup("INC-000004", day(4), time.Hour),
	}
	if r := Detect(cfg, occs, nil, day(7)); !r.Empty() {
		t.Fatalf("two occurrences (four incidents) proposed: %+v", r)
	}
	// Without ActiveUntil, the resolution bounds an incident; one still open
	// without it is taken at its opening only and hides nothing.
	res := slices.Clone(occs)
	for i := range res {
		res[i].ActiveUntil = time.Time{}
	}
	if r := Detect(cfg, res, nil, day(7)); !r.Empty() {
		t.Fatalf("two occurrences (resolved incidents) proposed: %+v", r)
	}
	open := slices.Clone(occs)
	for i := range open {
		open[i].ActiveUntil, open[i].ResolvedAt = time.Time{}, time.Time{}
	}
	if r := Detect(cfg, open, nil, day(7)); len(r.New) != 1 {
		t.Fatalf("open incidents hid each other: %+v", r)
	}

	// A third failure: one candidate with all four incidents.
	occs = append(occs, backup("INC-000005", day(6), time.Hour))
	r := Detect(cfg, occs, nil, day(7))
	if len(r.New) != 1 || len(r.New[0].IncidentIDs) != 5 {
		t.Fatalf("want one candidate with 5 incidents: %+v", r)
	}
	if c := r.New[0].Timeline[0].Comment; !strings.Contains(c, "3 separate occurrences (incidents open at the same time count once) within 14d") ||
		!strings.Contains(c, "5 incidents in all") {
		t.Errorf("comment %q", c)
	}

	// Rejected, it stays quiet while it recurs at the same rate, split or not.
	var s store
	s.apply(t, r)
	s.act(t, s.problems[0].ID, Action{Kind: ActReject, Actor: "maria", At: day(7), Reason: "known flaky backup set"})
	more := append(slices.Clone(occs),
		backup("INC-000006", day(8), time.Hour), backup("INC-000007", day(8).Add(time.Minute), time.Hour),
		backup("INC-000008", day(9), time.Hour), backup("INC-000009", day(9).Add(time.Minute), time.Hour),
		backup("INC-000010", day(10), time.Hour), backup("INC-000011", day(10).Add(time.Minute), time.Hour))
	if r := Detect(cfg, more, s.problems, day(11)); !r.Empty() {
		t.Errorf("3 occurrences (6 incidents) after 3 re-proposed during the quiet period: %+v", r)
	}
	// Twice as many occurrences is markedly more.
	for k := range 3 {
		more = append(more, backup(fmt.Sprintf("INC-%06d", 20+k), day(11).Add(time.Duration(k)*6*time.Hour), time.Hour))
	}
	if r := Detect(cfg, more, s.problems, day(12)); len(r.Reproposed) != 1 {
		t.Errorf("6 occurrences after 3 not re-proposed: %+v", r)
	}
}

func TestDetectInferredRootCoincidence(t *testing.T) {
	// On a large estate two services of a datacenter raise HighErrorRate
	// within minutes now and then, each time other ones; correlation
	// infers the core router as their silent root. Not a core router
	// problem...
	cfg := DefaultConfig()
	cfg.ByClass, cfg.ByCI = false, false // the service's defaults (config)
	var occs []Occurrence
	pairs := [][]string{{"svc-cart", "svc-tax"}, {"svc-ads", "svc-media"}, {"svc-search", "svc-returns"}, {"svc-cart", "svc-media"}}
	for k, via := range pairs {
		in := SignatureInput{AlertNames: []string{"HighErrorRate"}, RootCauseCI: "core-dc1", CIs: via}
		occs = append(occs, Occurrence{IncidentID: fmt.Sprintf("INC-%06d", k+1), Sig: Signature(in), RootCauseCI: "core-dc1",
			CIs: via, OpenedAt: day(2 * k), ResolvedAt: day(2 * k).Add(time.Hour)})
	}
	if r := Detect(cfg, occs, nil, day(10)); !r.Empty() {
		t.Fatalf("coincidences proposed: %+v", r)
	}
	// ... but a silent switch that takes down its hosts every few days is.
	occs = nil
	for k := range 3 {
		hosts := []string{"host-1", "host-2", "host-3", "host-4", "host-5"}[k%2:]
		in := SignatureInput{AlertNames: []string{"NodeUnreachable"}, RootCauseCI: "sw-1", RootCauseInferred: true, Branches: hosts}
		occs = append(occs, Occurrence{IncidentID: fmt.Sprintf("INC-%06d", k+1), Sig: Signature(in), RootCauseCI: "sw-1",
			CIs: hosts, OpenedAt: day(3 * k), ResolvedAt: day(3 * k).Add(time.Hour)})
	}
	r := Detect(cfg, occs, nil, day(10))
	if len(r.New) != 1 || r.New[0].Signature != "NodeUnreachable @ ci=sw-1 via=*" {
		t.Fatalf("want the silent switch: %+v", r)
	}
}
