package problem

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Occurrence is one incident as recurrence detection sees it. The caller
// maps each incident to one Occurrence (one per incident).
type Occurrence struct {
	IncidentID string
	// Sig is the incident's signature ([Signature]); incidents without one
	// take part only in class and per-CI recurrence.
	Sig Sig
	// Class is the class signature ([ClassSignature]); optional.
	Class Sig
	// RootCauseCI, when set, is the only CI per-CI recurrence counts the
	// incident on; otherwise it counts on every CI of CIs.
	RootCauseCI string
	CIs         []string
	Services    []string
	OpenedAt    time.Time
	// ResolvedAt is zero while the incident is open.
	ResolvedAt time.Time
	// OpenDuration is how long the incident was open; when zero it is
	// ResolvedAt-OpenedAt, or now-OpenedAt while the incident is open.
	OpenDuration time.Duration
	Priority     Priority
	// ActiveUntil is the end of the incident's active period: when its last
	// alert stopped firing, or was last known to fire. When zero it is
	// OpenedAt+OpenDuration or ResolvedAt, or OpenedAt alone while the
	// incident is open. Incidents of one signature whose active periods
	// overlap are one occurrence of the fault (see [Detect]).
	ActiveUntil time.Time
}

// Result is what one detection run changes. Every problem appears at most
// once, in the first list that applies: Recurred, Reproposed, Updated.
// Each Problem is the complete new state, independent of the inputs.
type Result struct {
	// New are new candidate problems in the order (kind, first seen,
	// signature key). Their ID is empty: the caller assigns ids in this
	// order (e.g. FormatID of its next sequence numbers).
	New []Problem
	// Updated are existing problems with new member incidents, members
	// whose incidents resolved or changed priority since, or a changed
	// urgency, impact or computed priority (re-scoring).
	Updated []Update
	// Recurred are resolved problems whose signature recurred after the
	// resolution: they are reopened (status confirmed) for review, with
	// Recurrences and RecurredAt set and an EventRecurred on the timeline.
	Recurred []Update
	// Reproposed are rejected problems proposed again (status candidate):
	// after their quiet period, or during it when they recurred markedly more.
	Reproposed []Update
}

// Update is a changed existing problem.
type Update struct {
	Problem Problem
	// Added are the incidents that joined in this run, in order of opening.
	Added []string
}

// Empty reports whether the run changed nothing.
func (r *Result) Empty() bool {
	return len(r.New) == 0 && len(r.Updated) == 0 && len(r.Recurred) == 0 && len(r.Reproposed) == 0
}

// Detect finds recurring incidents. It is a pure function: the scheduled
// job passes the stored incidents of its look-back period and the stored
// problems, and replay passes everything with now at the end of the replay;
// the same input always gives the same Result.
//
// Occurrences opened after now, or without an id or an opening time, are
// ignored. An incident belongs to at most one problem: the incidents already
// listed by an existing problem (of any status) stay with it, and the others
// are given, in this order, to
//
//  1. signature problems (same [Signature] key), then
//  2. class problems (same [ClassSignature] key; cfg.ByClass), then
//  3. per-CI problems (same CI; cfg.ByCI).
//
// What recurs is counted in occurrences. For a signature, an incident
// opened while an earlier incident of the same signature was still active
// (ActiveUntil) is part of the same occurrence, not a recurrence: one fault
// that correlation split into several incidents, or that raised the same
// alert on another instance of its target while it was going on, happened
// once. For classes and CIs (many targets), every incident is an
// occurrence.
//
// For each signature, class or CI, with the incidents not yet in a problem:
//
//   - no problem yet (or only closed ones): a new candidate when at least
//     cfg.MinIncidents occurrences fall within one cfg.Window (a rolling
//     window anywhere in the history given: the span from the first opening
//     to the last is at most Window). For classes and CIs the window must
//     hold incidents of two or more signatures, so a coarse problem is
//     proposed only when it adds to the signature problems. A candidate
//     takes all such incidents.
//   - a candidate, confirmed or known error: the incidents join it.
//   - resolved: incidents opened after ResolvedAt reopen it (a single one for
//     a signature problem; MinIncidents within a Window for class and CI
//     problems); incidents opened before it join it quietly.
//   - rejected: the incidents opened after RejectedAt propose it again when
//     they hold MinIncidents within a Window once QuietUntil has passed, or,
//     during the quiet period, when they hold at least RemarkableFactor
//     times the busiest Window of its members before the rejection.
//     Otherwise it stays quiet and they stay free.
//
// Active problems are re-scored with [Assess] on every run.
func Detect(cfg Config, occs []Occurrence, existing []Problem, now time.Time) Result {
	d := &detector{
		cfg:      cfg.withDefaults(),
		occs:     occs,
		existing: existing,
		now:      now,
		changes:  map[int]*change{},
	}
	d.window = int64(d.cfg.Window)
	d.indexExisting()
	d.sortOccurrences()
	d.indexOccurrences(cfg.ByCI)
	d.run(KindSignature)
	if cfg.ByClass {
		d.run(KindClass)
	}
	if cfg.ByCI {
		d.run(KindCI)
	}
	return d.result()
}

type liveKey struct {
	kind Kind
	key  string
}

type memberRef struct {
	p int32 // index into existing
	m int32 // index into its Members, -1 when listed only in IncidentIDs
}

type changeKind int

const (
	changeUpdated changeKind = iota
	changeRecurred
	changeReproposed
)

type change struct {
	p       Problem
	kind    changeKind
	added   []string
	members bool // Members changed: Refresh
}

type detector struct {
	cfg      Config
	window   int64
	occs     []Occurrence
	existing []Problem
	now      time.Time

	live     map[liveKey]int
	memberOf map[string]memberRef

	// pos lists the usable occurrences sorted by (OpenedAt, IncidentID); a
	// "position" indexes pos, ts and taken. posOf maps an occurrence index
	// back to its position (-1: not used).
	pos   []int32
	posOf []int32
	ts    []int64
	taken []bool
	// end is the end of each position's active period (ActiveUntil).
	end []int64

	// Group ids by occurrence index, computed in one sequential pass:
	// signature and class (-1: none), and the CIs as CSR
	// (ciG[ciStart[i]:ciStart[i+1]]). keys[kind] are the group keys.
	sigG, clsG []int32
	ciStart    []int32
	ciG        []int32
	keys       [KindCI + 1][]string

	changes map[int]*change
	fresh   []Problem
	scratch []int32
	starts  []int64 // occurrences' buffer
}

func (d *detector) indexExisting() {
	d.live = make(map[liveKey]int)
	n := 0
	for i := range d.existing {
		n += len(d.existing[i].IncidentIDs)
	}
	d.memberOf = make(map[string]memberRef, n)
	for i := range d.existing {
		p := &d.existing[i]
		for mi := range p.Members {
			if _, dup := d.memberOf[p.Members[mi].IncidentID]; !dup {
				d.memberOf[p.Members[mi].IncidentID] = memberRef{int32(i), int32(mi)}
			}
		}
		for _, id := range p.IncidentIDs {
			if _, dup := d.memberOf[id]; !dup {
				d.memberOf[id] = memberRef{int32(i), -1}
			}
		}
		if p.Status == StatusClosed || !p.Status.Valid() || !p.Kind.Valid() || p.SignatureKey == "" {
			continue
		}
		k := liveKey{p.Kind, p.SignatureKey}
		if j, ok := d.live[k]; !ok || liveRank(p) > liveRank(&d.existing[j]) ||
			liveRank(p) == liveRank(&d.existing[j]) && (p.CreatedAt.After(d.existing[j].CreatedAt) ||
				p.CreatedAt.Equal(d.existing[j].CreatedAt) && p.ID > d.existing[j].ID) {
			d.live[k] = i
		}
	}
}

// liveRank orders problems sharing a key: active, then resolved, then rejected.
func liveRank(p *Problem) int {
	switch {
	case p.Status.Active():
		return 3
	case p.Status == StatusResolved:
		return 2
	}
	return 1
}

func (d *detector) sortOccurrences() {
	type entry struct {
		ts int64
		i  int32
	}
	es := make([]entry, 0, len(d.occs))
	for i := range d.occs {
		o := &d.occs[i]
		if o.IncidentID == "" || o.OpenedAt.IsZero() || o.OpenedAt.After(d.now) {
			continue
		}
		es = append(es, entry{o.OpenedAt.UnixNano(), int32(i)})
	}
	slices.SortFunc(es, func(a, b entry) int {
		if a.ts != b.ts {
			return cmp.Compare(a.ts, b.ts)
		}
		return strings.Compare(d.occs[a.i].IncidentID, d.occs[b.i].IncidentID)
	})
	d.pos = make([]int32, 0, len(es))
	d.ts = make([]int64, 0, len(es))
	d.end = make([]int64, 0, len(es))
	d.posOf = make([]int32, len(d.occs))
	for i := range d.posOf {
		d.posOf[i] = -1
	}
	for k, e := range es {
		// Drop repeats of one incident (adjacent after the sort).
		if k > 0 && e.ts == es[k-1].ts && d.occs[e.i].IncidentID == d.occs[es[k-1].i].IncidentID {
			continue
		}
		d.posOf[e.i] = int32(len(d.pos))
		d.pos = append(d.pos, e.i)
		d.ts = append(d.ts, e.ts)
		d.end = append(d.end, max(e.ts, activeUntil(&d.occs[e.i])))
	}
	d.taken = make([]bool, len(d.pos))
}

// activeUntil is the end of o's active period in Unix nanoseconds (see
// Occurrence.ActiveUntil); an open incident with no ActiveUntil is taken as
// active at its opening only, so that it never hides a recurrence.
func activeUntil(o *Occurrence) int64 {
	switch {
	case !o.ActiveUntil.IsZero():
		return o.ActiveUntil.UnixNano()
	case o.OpenDuration > 0:
		return o.OpenedAt.Add(o.OpenDuration).UnixNano()
	case !o.ResolvedAt.IsZero():
		return o.ResolvedAt.UnixNano()
	}
	return o.OpenedAt.UnixNano()
}

// indexOccurrences walks the occurrences once, in input order: it takes
// those that existing problems already list (refreshing members whose
// incident resolved or changed priority since) and computes every group id.
func (d *detector) indexOccurrences(byCI bool) {
	n := len(d.occs)
	d.sigG, d.clsG = make([]int32, n), make([]int32, n)
	sigIdx, clsIdx := make(map[string]int32, 1024), make(map[string]int32, 1024)
	var ciIdx map[string]int32
	if byCI {
		ciIdx = make(map[string]int32, 1024)
		d.ciStart = make([]int32, n+1)
		d.ciG = make([]int32, 0, n)
	}
	gid := func(idx map[string]int32, kind Kind, key string) int32 {
		if key == "" {
			return -1
		}
		g, ok := idx[key]
		if !ok {
			g = int32(len(d.keys[kind]))
			idx[key] = g
			d.keys[kind] = append(d.keys[kind], key)
		}
		return g
	}
	for i := range d.occs {
		if byCI {
			d.ciStart[i] = int32(len(d.ciG))
		}
		p := d.posOf[i]
		if p < 0 {
			d.sigG[i], d.clsG[i] = -1, -1
			continue
		}
		o := &d.occs[i]
		if len(d.memberOf) > 0 {
			if ref, ok := d.memberOf[o.IncidentID]; ok {
				d.taken[p] = true
				d.refreshMember(ref, p)
			}
		}
		d.sigG[i] = gid(sigIdx, KindSignature, o.Sig.Key)
		d.clsG[i] = gid(clsIdx, KindClass, o.Class.Key)
		if !byCI {
			continue
		}
		if o.RootCauseCI != "" {
			d.ciG = append(d.ciG, gid(ciIdx, KindCI, o.RootCauseCI))
			continue
		}
		for k, ci := range o.CIs {
			if ci != "" && !slices.Contains(o.CIs[:k], ci) {
				d.ciG = append(d.ciG, gid(ciIdx, KindCI, ci))
			}
		}
	}
	if byCI {
		d.ciStart[n] = int32(len(d.ciG))
	}
}

// refreshMember updates the member an existing problem has for the
// occurrence at position p when its incident resolved or changed priority.
func (d *detector) refreshMember(ref memberRef, p int32) {
	o := &d.occs[d.pos[p]]
	if ref.m < 0 {
		// Listed without member details: fill them in.
		c := d.change(int(ref.p))
		c.p.Members = append(c.p.Members, d.member(p))
		c.members = true
		return
	}
	m := &d.existing[ref.p].Members[ref.m]
	if m.ResolvedAt.Equal(o.ResolvedAt) && m.Priority == o.Priority {
		return
	}
	c := d.change(int(ref.p))
	nm := d.member(p)
	c.p.Members[ref.m].ResolvedAt = nm.ResolvedAt
	c.p.Members[ref.m].OpenDuration = nm.OpenDuration
	c.p.Members[ref.m].Priority = nm.Priority
	c.members = true
}

// change returns the working copy of existing problem i.
func (d *detector) change(i int) *change {
	c, ok := d.changes[i]
	if !ok {
		c = &change{p: d.existing[i].Clone()}
		d.changes[i] = c
	}
	return c
}

func (d *detector) member(p int32) Member {
	o := &d.occs[d.pos[p]]
	m := Member{IncidentID: o.IncidentID, OpenedAt: o.OpenedAt, ResolvedAt: o.ResolvedAt, Priority: o.Priority}
	switch {
	case o.OpenDuration > 0:
		m.OpenDuration = Duration(o.OpenDuration)
	case !o.ResolvedAt.IsZero():
		m.OpenDuration = Duration(max(0, o.ResolvedAt.Sub(o.OpenedAt)))
	default:
		m.OpenDuration = Duration(max(0, d.now.Sub(o.OpenedAt)))
	}
	if o.RootCauseCI != "" || len(o.CIs) > 0 {
		cis := make([]string, 0, len(o.CIs)+1)
		if o.RootCauseCI != "" {
			cis = append(cis, o.RootCauseCI)
		}
		cis = append(cis, o.CIs...)
		slices.Sort(cis)
		m.CIs = slices.Compact(cis)
	}
	if len(o.Services) > 0 {
		m.Services = slices.Clone(o.Services)
		slices.Sort(m.Services)
		m.Services = slices.Compact(m.Services)
	}
	return m
}

// groups holds, for each group id, the free positions carrying it in time
// order: flat[start[g]:start[g+1]].
type groups struct {
	start []int32
	flat  []int32
}

// group groups the free positions by their group id of kind (a counting
// sort over the positions in time order, so each group keeps that order).
func (d *detector) group(kind Kind) groups {
	ng := len(d.keys[kind])
	g := groups{start: make([]int32, ng+2)}
	each := func(f func(p int, gi int32)) {
		for p, oi := range d.pos {
			if d.taken[p] {
				continue
			}
			switch kind {
			case KindSignature:
				if gi := d.sigG[oi]; gi >= 0 {
					f(p, gi)
				}
			case KindClass:
				if gi := d.clsG[oi]; gi >= 0 {
					f(p, gi)
				}
			case KindCI:
				for _, gi := range d.ciG[d.ciStart[oi]:d.ciStart[oi+1]] {
					f(p, gi)
				}
			}
		}
	}
	each(func(_ int, gi int32) { g.start[gi+2]++ })
	for i := 2; i < len(g.start); i++ {
		g.start[i] += g.start[i-1]
	}
	// start[gi+1] is now the write cursor of group gi; after the fill it is
	// the group's end, and start[gi] its beginning.
	g.flat = make([]int32, g.start[ng+1])
	each(func(p int, gi int32) {
		g.flat[g.start[gi+1]] = int32(p)
		g.start[gi+1]++
	})
	g.start = g.start[:ng+1]
	return g
}

func (d *detector) sigOf(kind Kind, key string, p int32) Sig {
	o := &d.occs[d.pos[p]]
	switch kind {
	case KindSignature:
		return Sig{Key: key, Text: o.Sig.Text}
	case KindClass:
		return Sig{Key: key, Text: o.Class.Text}
	}
	return CISignature(key)
}

func (d *detector) run(kind Kind) {
	g := d.group(kind)
	coarse := kind != KindSignature
	// Visit groups in key order, so that the result does not depend on the
	// order of the input (an incident on several CIs joins the first).
	keys := d.keys[kind]
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(keys[a], keys[b]) })
	for _, gi := range order {
		raw := keys[gi]
		all := g.flat[g.start[gi]:g.start[gi+1]]
		// Positions may have been taken by an earlier group of this kind
		// (an incident on several CIs).
		free := d.scratch[:0]
		for _, p := range all {
			if !d.taken[p] {
				free = append(free, p)
			}
		}
		d.scratch = free
		if len(free) == 0 {
			continue
		}
		sig := d.sigOf(kind, raw, free[0])
		li, ok := d.live[liveKey{kind, sig.Key}]
		if !ok {
			if len(free) < d.cfg.MinIncidents || coarse && d.burst(free, false) < d.cfg.MinIncidents {
				continue
			}
			if n := d.count(kind, free); n >= d.cfg.MinIncidents {
				d.propose(kind, sig, free, n)
			}
			continue
		}
		ex := &d.existing[li]
		switch {
		case ex.Status.Active():
			d.add(li, free)
		case ex.Status == StatusResolved:
			d.resolved(li, free, coarse)
		case ex.Status == StatusRejected:
			d.rejected(li, free, coarse)
		}
	}
}

// count returns the most occurrences of ps (positions of one group of kind,
// in time order) within one window: for a signature its separate
// occurrences, for a class or CI its incidents, in windows holding two or
// more signatures.
func (d *detector) count(kind Kind, ps []int32) int {
	if kind != KindSignature {
		return d.burst(ps, true)
	}
	return windowMax(d.occurrences(ps), d.window)
}

// occurrences returns the openings of the separate occurrences among ps
// (positions in time order): an incident opened before every earlier one
// of ps ended (d.end) is part of their occurrence. The slice is reused by
// the next call.
func (d *detector) occurrences(ps []int32) []int64 {
	starts := d.starts[:0]
	until := int64(math.MinInt64)
	for _, p := range ps {
		if d.ts[p] > until {
			starts = append(starts, d.ts[p])
		}
		until = max(until, d.end[p])
	}
	d.starts = starts
	return starts
}

// windowMax returns the most of ts (sorted) within one window.
func windowMax(ts []int64, window int64) int {
	best, j := 0, 0
	for i := range ts {
		for ts[i]-ts[j] > window {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// burst returns the most of ps (positions in time order) that fall within
// one window; with diverse, only windows holding two or more signatures
// count.
func (d *detector) burst(ps []int32, diverse bool) int {
	best, j, change := 0, 0, 0
	for i := range ps {
		if diverse && i > 0 && d.sigG[d.pos[ps[i]]] != d.sigG[d.pos[ps[i-1]]] {
			change = i
		}
		for d.ts[ps[i]]-d.ts[ps[j]] > d.window {
			j++
		}
		if n := i - j + 1; n > best && (!diverse || change > j) {
			best = n
		}
	}
	return best
}

func (d *detector) propose(kind Kind, sig Sig, free []int32, burst int) {
	p := Problem{Status: StatusCandidate, Kind: kind, SignatureKey: sig.Key, Signature: sig.Text, CreatedAt: d.now}
	what := "incidents"
	if kind == KindSignature && len(d.occurrences(free)) < len(free) {
		what = "separate occurrences (incidents open at the same time count once)"
	}
	p.Members = make([]Member, 0, len(free))
	for _, ps := range free {
		p.Members = append(p.Members, d.member(ps))
		d.taken[ps] = true
	}
	p.Refresh()
	p.Rescore(d.cfg.Window.D(), d.now)
	p.event(Event{At: d.now, Actor: ActorSystem, Kind: EventProposed, To: StatusCandidate.String(),
		Comment: fmt.Sprintf("%d %s within %s (rule: at least %d within %s); %d incidents in all since %s",
			burst, what, d.cfg.Window, d.cfg.MinIncidents, d.cfg.Window, len(free), p.FirstSeen.UTC().Format(time.RFC3339)),
		Data: incidentsData(p.IncidentIDs)})
	d.fresh = append(d.fresh, p)
}

// add makes the positions members of existing problem li.
func (d *detector) add(li int, ps []int32) *change {
	c := d.change(li)
	for _, p := range ps {
		m := d.member(p)
		c.p.Members = append(c.p.Members, m)
		c.added = append(c.added, m.IncidentID)
		d.taken[p] = true
	}
	c.members = c.members || len(ps) > 0
	return c
}

func (d *detector) resolved(li int, free []int32, coarse bool) {
	ex := &d.existing[li]
	cut := ex.ResolvedAt.UnixNano()
	if ex.ResolvedAt.IsZero() {
		cut = math.MinInt64
	}
	split, _ := slices.BinarySearchFunc(free, cut, func(p int32, t int64) int {
		if d.ts[p] <= t {
			return -1
		}
		return 1
	})
	before, after := free[:split], free[split:]
	recur := len(after) > 0
	if coarse && recur {
		recur = d.burst(after, false) >= d.cfg.MinIncidents
	}
	if !recur {
		if len(before) > 0 {
			d.add(li, before)
		}
		return
	}
	first := d.occs[d.pos[after[0]]]
	c := d.add(li, free)
	c.kind = changeRecurred
	from := c.p.Status
	c.p.Status = StatusConfirmed
	resolvedAt := c.p.ResolvedAt
	c.p.ResolvedAt, c.p.ClosedAt, c.p.ClosureCode = time.Time{}, time.Time{}, ""
	c.p.Recurrences++
	c.p.RecurredAt = first.OpenedAt
	c.p.event(Event{At: d.now, Actor: ActorSystem, Kind: EventRecurred, From: from.String(), To: StatusConfirmed.String(),
		Comment: fmt.Sprintf("recurred after resolution on %s: %s opened %s; reopened for review",
			resolvedAt.UTC().Format(time.RFC3339), first.IncidentID, first.OpenedAt.UTC().Format(time.RFC3339)),
		Data: incidentsData(idsOf(d, after))})
}

func (d *detector) rejected(li int, free []int32, coarse bool) {
	ex := &d.existing[li]
	cut := ex.RejectedAt
	if cut.IsZero() {
		cut = ex.UpdatedAt
	}
	split, _ := slices.BinarySearchFunc(free, cut.UnixNano(), func(p int32, t int64) int {
		if d.ts[p] <= t {
			return -1
		}
		return 1
	})
	post := free[split:]
	if len(post) == 0 {
		return
	}
	need := d.cfg.MinIncidents
	quiet := d.now.Before(ex.QuietUntil)
	base := 0
	if quiet {
		base = peakBefore(ex.Members, cut, d.window, !coarse)
		if base < d.cfg.MinIncidents {
			base = d.cfg.MinIncidents
		}
		need = max(need, int(math.Ceil(d.cfg.RemarkableFactor*float64(base))))
	}
	n := d.count(ex.Kind, post)
	if n < need {
		return
	}
	c := d.add(li, post)
	c.kind = changeReproposed
	from := c.p.Status
	c.p.Status = StatusCandidate
	what := "incidents"
	if !coarse {
		what = "occurrences"
	}
	reason := fmt.Sprintf("recurred after the quiet period: %d %s within %s", n, what, d.cfg.Window)
	if quiet {
		reason = fmt.Sprintf("recurred markedly more during the quiet period (until %s): %d %s within %s, against at most %d before the rejection (factor %g)",
			ex.QuietUntil.UTC().Format(time.RFC3339), n, what, d.cfg.Window, base, d.cfg.RemarkableFactor)
	}
	c.p.RejectReason, c.p.RejectedAt, c.p.QuietUntil = "", time.Time{}, time.Time{}
	c.p.event(Event{At: d.now, Actor: ActorSystem, Kind: EventReproposed, From: from.String(), To: StatusCandidate.String(),
		Comment: reason, Data: incidentsData(idsOf(d, post))})
}

// peakBefore is the most members opened at or before cut within one
// window; with separate, members whose open periods overlap count once (a
// signature problem's occurrences).
func peakBefore(ms []Member, cut time.Time, window int64, separate bool) int {
	type span struct{ from, to int64 }
	spans := make([]span, 0, len(ms))
	for i := range ms {
		if m := &ms[i]; !m.OpenedAt.After(cut) {
			from := m.OpenedAt.UnixNano()
			to := from
			if !m.ResolvedAt.IsZero() {
				to = max(from, m.OpenedAt.Add(m.OpenDuration.D()).UnixNano())
			}
			spans = append(spans, span{from, to})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	ts := make([]int64, 0, len(spans))
	until := int64(math.MinInt64)
	for _, s := range spans {
		if !separate || s.from > until {
			ts = append(ts, s.from)
		}
		until = max(until, s.to)
	}
	return windowMax(ts, window)
}

func idsOf(d *detector, ps []int32) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = d.occs[d.pos[p]].IncidentID
	}
	return out
}

// incidentsData lists incident ids for an event, at most 50 of them.
func incidentsData(ids []string) map[string]string {
	const maxListed = 50
	m := map[string]string{"count": strconv.Itoa(len(ids))}
	if len(ids) > maxListed {
		m["incidents"] = strings.Join(ids[:maxListed], ",") + ",…"
	} else {
		m["incidents"] = strings.Join(ids, ",")
	}
	return m
}

func (d *detector) result() Result {
	var r Result
	window := d.cfg.Window.D()
	// Re-score the active problems that nothing else changed.
	for i := range d.existing {
		ex := &d.existing[i]
		if _, ok := d.changes[i]; ok || !ex.Status.Active() {
			continue
		}
		a := Assess(ex.Members, window, d.now)
		if a.Urgency != ex.Urgency || a.Impact != ex.Impact || !ex.PriorityManual && a.Priority != ex.Priority {
			d.change(i)
		}
	}
	idx := make([]int, 0, len(d.changes))
	for i := range d.changes {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(strings.Compare(d.existing[a].ID, d.existing[b].ID), cmp.Compare(a, b))
	})
	for _, i := range idx {
		c := d.changes[i]
		p := &c.p
		if c.members {
			p.Refresh()
		}
		if c.kind == changeUpdated && len(c.added) > 0 {
			p.event(Event{At: d.now, Actor: ActorSystem, Kind: EventIncidents,
				Comment: fmt.Sprintf("%d incidents joined", len(c.added)), Data: incidentsData(c.added)})
		}
		old := p.Priority
		if p.Status.Active() {
			p.Rescore(window, d.now)
		}
		if p.Priority != old {
			p.event(Event{At: d.now, Actor: ActorSystem, Kind: EventRescored,
				Comment: fmt.Sprintf("urgency %s x impact %s", p.Urgency, p.Impact),
				Data:    map[string]string{"from": old.String(), "priority": p.Priority.String()}})
		}
		if p.UpdatedAt.Before(d.now) {
			p.UpdatedAt = d.now
		}
		if c.kind == changeUpdated && len(c.added) == 0 && p.Version == d.existing[i].Version {
			p.Version++ // members or scores changed without an event
		}
		u := Update{Problem: c.p, Added: c.added}
		switch c.kind {
		case changeRecurred:
			r.Recurred = append(r.Recurred, u)
		case changeReproposed:
			r.Reproposed = append(r.Reproposed, u)
		default:
			r.Updated = append(r.Updated, u)
		}
	}
	slices.SortFunc(d.fresh, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.FirstSeen.Compare(b.FirstSeen), strings.Compare(a.SignatureKey, b.SignatureKey))
	})
	for i := range d.fresh {
		d.fresh[i].UpdatedAt = d.now
	}
	r.New = d.fresh
	return r
}
