package trend

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// Compute computes the trend q (normalized by [Query.Normalize]) from the
// rows d (as [Query.Needs] asks). It never fails on rows: rows that do not
// count in the range are ignored, so a store may return more than asked.
func Compute(q Query, d Data) (Result, error) {
	switch q.Name {
	case NameIncidents:
		return incidents(q, d.Incidents), nil
	case NameMTTA:
		return durations(q, d.Incidents, true), nil
	case NameMTTR:
		return durations(q, d.Incidents, false), nil
	case NameSLA:
		return sla(q, d.Incidents), nil
	case NameLevels:
		return levels(q, d.Incidents), nil
	case NameAnalysts:
		return analysts(q, d.Incidents), nil
	case NameNoise:
		return noise(q, d.Incidents, d.Activity), nil
	case NameRules:
		return rules(q, d.Incidents, d.Feedback), nil
	case NameProblems:
		return problems(q, d.Problems), nil
	case NameProjection:
		return projection(q, d.Incidents), nil
	}
	return Result{}, paramErr("name", "unknown trend %q", q.Name)
}

// relevantRows keeps the rows that can count in the range.
func relevantRows(q Query, rows []IncidentRow) []*IncidentRow {
	out := make([]*IncidentRow, 0, len(rows))
	for i := range rows {
		if rows[i].relevant(q.From, q.To) {
			out = append(out, &rows[i])
		}
	}
	return out
}

// rank orders groups by weight (descending, then by name) and keeps the
// first limit; the rest map to Other, listed last. NoValue ranks like any value.
func rank(weights map[string]int, limit int) (groups []string, keep func(string) string) {
	for g := range weights {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b string) int {
		if c := cmp.Compare(weights[b], weights[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(groups) <= limit {
		return groups, func(g string) string { return g }
	}
	kept := map[string]bool{}
	for _, g := range groups[:limit] {
		kept[g] = true
	}
	groups = append(groups[:limit:limit], Other)
	return groups, func(g string) string {
		if kept[g] {
			return g
		}
		return Other
	}
}

// groupRows returns the ordered groups of rows under key and the group of
// each row; without a breakdown there is one group, "".
func groupRows(q Query, rows []*IncidentRow, key func(*IncidentRow) string) ([]string, []string) {
	keys := make([]string, len(rows))
	if q.By == None {
		return []string{""}, keys
	}
	w := map[string]int{}
	for i, r := range rows {
		keys[i] = key(r)
		w[keys[i]]++
	}
	groups, keep := rank(w, q.Limit)
	for i := range keys {
		keys[i] = keep(keys[i])
	}
	return groups, keys
}

// snapshots are the instants at which the state counts (open, pending, ...)
// are taken: the end of each bucket, or Now for the bucket holding it.
// Buckets that start at or after Now have none.
type snapshots []time.Time

func newSnapshots(q Query, g grid) snapshots {
	var s snapshots
	for i, start := range g.starts {
		if !start.Before(q.Now) {
			break
		}
		e := g.end(i)
		if e.After(q.Now) {
			e = q.Now
		}
		s = append(s, e)
	}
	return s
}

// span adds one to diff over the snapshots s with lo < s <= hi (hi zero:
// no upper bound); diff has one more slot than s.
func (s snapshots) span(diff []float64, lo, hi time.Time) {
	k1 := sort.Search(len(s), func(k int) bool { return s[k].After(lo) })
	k2 := len(s)
	if !hi.IsZero() {
		k2 = sort.Search(len(s), func(k int) bool { return s[k].After(hi) })
	}
	if k1 < k2 {
		diff[k1]++
		diff[k2]--
	}
}

// fill writes the running sum of diff into measure m of vals, and NaN for
// the buckets without a snapshot.
func (s snapshots) fill(vals [][]float64, m int, diff []float64) {
	var sum float64
	for b := range vals {
		if b < len(s) {
			sum += diff[b]
			vals[b][m] = sum
		} else {
			vals[b][m] = nan
		}
	}
}

// minNonZero returns the earlier of two times, zero meaning "never".
func minNonZero(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// mergedHolds returns the holds as disjoint (start, end] spans, end zero
// for a running one.
func mergedHolds(hs []incident.Interval) []incident.Interval {
	out := slices.Clone(hs)
	slices.SortFunc(out, func(a, b incident.Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, h := range out {
		if n := len(merged); n > 0 && (merged[n-1].End.IsZero() || !h.Start.After(merged[n-1].End)) {
			if !merged[n-1].End.IsZero() && (h.End.IsZero() || h.End.After(merged[n-1].End)) {
				merged[n-1].End = h.End
			}
			continue
		}
		merged = append(merged, h)
	}
	return merged
}

const methodIncidents = "Event counts per bucket of the moment each happened (UTC), from each incident's latest version: " +
	"opened (opened_at), confirmed (confirmed_at, the first confirmation), rejected (rejected_at), acknowledged " +
	"(acknowledged_at, the first), resolved (resolved_at, the latest resolution), closed (closed_at), reopened " +
	"(each reopening of a resolved incident, from the timeline). State counts at the end of each bucket (at the " +
	"request time for the current bucket, null for future buckets): open (opened before and not yet resolved, " +
	"rejected or merged; an incident that was resolved and reopened counts as open from its opening to its last " +
	"resolution), pending (open with a pause running: waiting on a vendor or the customer), awaiting (open and " +
	"not yet confirmed: the validation queue). reopen_rate_pct is the share of the incidents resolved in the " +
	"bucket that had been reopened at least once. Breakdowns use the incident's current values."

var incidentMeasures = []measure{{"opened", UnitCount}, {"confirmed", UnitCount}, {"rejected", UnitCount},
	{"acknowledged", UnitCount}, {"resolved", UnitCount}, {"closed", UnitCount}, {"reopened", UnitCount},
	{"open", UnitCount}, {"pending", UnitCount}, {"awaiting", UnitCount}, {"reopen_rate_pct", UnitPercent}}

func incidents(q Query, all []IncidentRow) Result {
	const (
		mOpened = iota
		mConfirmed
		mRejected
		mAck
		mResolved
		mClosed
		mReopened
		mOpen
		mPending
		mAwaiting
		mReopenRate
	)
	g := newGrid(q)
	rows := relevantRows(q, all)
	groups, keys := groupRows(q, rows, q.By.Of)
	f := newFrame(q, g, groups, incidentMeasures...)
	snaps := newSnapshots(q, g)
	type diffs struct{ open, pending, awaiting []float64 }
	state := map[string]*diffs{}
	reopenedResolved := map[string][]float64{}
	for _, gr := range groups {
		n := len(snaps) + 1
		state[gr] = &diffs{make([]float64, n), make([]float64, n), make([]float64, n)}
		reopenedResolved[gr] = make([]float64, g.len())
	}
	for i, r := range rows {
		v := f.vals[keys[i]]
		count := func(t time.Time, m int) {
			if b := g.index(t); b >= 0 {
				v[b][m]++
			}
		}
		count(r.OpenedAt, mOpened)
		count(r.ConfirmedAt, mConfirmed)
		count(r.RejectedAt, mRejected)
		count(r.AcknowledgedAt, mAck)
		count(r.ResolvedAt, mResolved)
		count(r.ClosedAt, mClosed)
		for _, t := range r.ReopenedAt {
			count(t, mReopened)
		}
		if b := g.index(r.ResolvedAt); b >= 0 && r.Reopens > 0 {
			reopenedResolved[keys[i]][b]++
		}
		st, ended := state[keys[i]], r.EndedAt()
		snaps.span(st.open, r.OpenedAt, ended)
		snaps.span(st.awaiting, r.OpenedAt, minNonZero(ended, r.ConfirmedAt))
		for _, h := range mergedHolds(r.Holds) {
			lo := h.Start
			if lo.Before(r.OpenedAt) {
				lo = r.OpenedAt
			}
			snaps.span(st.pending, lo, minNonZero(ended, h.End))
		}
	}
	for _, gr := range groups {
		v, st := f.vals[gr], state[gr]
		snaps.fill(v, mOpen, st.open)
		snaps.fill(v, mPending, st.pending)
		snaps.fill(v, mAwaiting, st.awaiting)
		for b := range v {
			v[b][mReopenRate] = pct(reopenedResolved[gr][b], v[b][mResolved])
		}
	}
	return f.result(methodIncidents)
}

// stats summarizes durations in seconds.
type stats []float64

func (s stats) mean() float64 {
	if len(s) == 0 {
		return nan
	}
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(len(s))
}

// percentile is the nearest-rank percentile: the value at rank
// ceil(p/100 * n) of the sorted values.
func (s stats) percentile(p float64) float64 {
	if len(s) == 0 {
		return nan
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(k, 1)-1]
}

func (s stats) max() float64 {
	if len(s) == 0 {
		return nan
	}
	return slices.Max(s)
}

func seconds(d time.Duration) float64 { return max(d, 0).Seconds() }

var durationMeasures = []measure{{"count", UnitCount}, {"mean_seconds", UnitSeconds}, {"p50_seconds", UnitSeconds},
	{"p90_seconds", UnitSeconds}, {"max_seconds", UnitSeconds}}

const (
	methodMTTA = "Mean time to acknowledge: acknowledged_at - opened_at (wall-clock time, pauses included) of the " +
		"incidents first acknowledged in each bucket (UTC), in seconds; a negative duration counts as 0. " +
		"p50 and p90 are nearest-rank percentiles (the value at rank ceil(p/100 x n)). Null: nothing acknowledged."
	methodMTTR = "Mean time to resolve: resolved_at - opened_at (wall-clock time, pauses included) of the incidents " +
		"whose latest resolution falls in each bucket (UTC), in seconds; a negative duration counts as 0. " +
		"p50 and p90 are nearest-rank percentiles (the value at rank ceil(p/100 x n)). Null: nothing resolved."
)

func durations(q Query, all []IncidentRow, ack bool) Result {
	g := newGrid(q)
	rows := relevantRows(q, all)
	groups, keys := groupRows(q, rows, q.By.Of)
	f := newFrame(q, g, groups, durationMeasures...)
	cells := map[string][]stats{}
	for _, gr := range groups {
		cells[gr] = make([]stats, g.len())
	}
	for i, r := range rows {
		t := r.ResolvedAt
		if ack {
			t = r.AcknowledgedAt
		}
		if b := g.index(t); b >= 0 {
			cells[keys[i]][b] = append(cells[keys[i]][b], seconds(t.Sub(r.OpenedAt)))
		}
	}
	for _, gr := range groups {
		for b, s := range cells[gr] {
			v := f.vals[gr][b]
			v[0], v[1], v[2], v[3], v[4] = float64(len(s)), s.mean(), s.percentile(50), s.percentile(90), s.max()
		}
	}
	if ack {
		return f.result(methodMTTA)
	}
	return f.result(methodMTTR)
}

const methodSLA = "SLA compliance from the breaches the SLA job recorded on each incident (sla_marks). Each target " +
	"counts once, in the bucket (UTC) where its outcome is known: respond is breached at its recorded breach " +
	"moment, else met when the clock stopped (acknowledged_at, or resolved_at when resolved unacknowledged); " +
	"resolve is breached at its recorded breach moment, else met at resolved_at. Clocks still running unbreached " +
	"do not count yet. compliance_pct = met / (met + breached). Rejected and merged incidents have no SLA. A " +
	"clock that stopped late between two runs of the SLA job has no breach mark and counts as met."

var slaMeasures = []measure{{"respond_met", UnitCount}, {"respond_breached", UnitCount}, {"respond_compliance_pct", UnitPercent},
	{"resolve_met", UnitCount}, {"resolve_breached", UnitCount}, {"resolve_compliance_pct", UnitPercent}}

func sla(q Query, all []IncidentRow) Result {
	g := newGrid(q)
	rows := relevantRows(q, all)
	rows = slices.DeleteFunc(rows, func(r *IncidentRow) bool {
		return r.Status == incident.StatusRejected || r.Status == incident.StatusMerged
	})
	groups, keys := groupRows(q, rows, q.By.Of)
	f := newFrame(q, g, groups, slaMeasures...)
	for i, r := range rows {
		v := f.vals[keys[i]]
		count := func(t time.Time, m int) {
			if b := g.index(t); b >= 0 {
				v[b][m]++
			}
		}
		if !r.RespondBreachedAt.IsZero() {
			count(r.RespondBreachedAt, 1)
		} else {
			count(minNonZero(r.AcknowledgedAt, r.ResolvedAt), 0)
		}
		if !r.ResolveBreachedAt.IsZero() {
			count(r.ResolveBreachedAt, 4)
		} else {
			count(r.ResolvedAt, 3)
		}
	}
	for _, gr := range groups {
		for _, v := range f.vals[gr] {
			v[2] = pct(v[0], v[0]+v[1])
			v[5] = pct(v[3], v[3]+v[4])
		}
	}
	return f.result(methodSLA)
}

const methodLevels = "Resolution per support level: the incidents whose latest resolution falls in each bucket " +
	"(UTC), by the support level they were resolved at (their current level). share_pct is the level's share " +
	"of the bucket's resolutions; escalated counts those escalated at least once; escalations sums the moves " +
	"up a level and bounces the moves back down (escalation_count, bounces); mttr_mean_seconds is their mean " +
	"resolved_at - opened_at."

var levelMeasures = []measure{{"resolved", UnitCount}, {"share_pct", UnitPercent}, {"escalated", UnitCount},
	{"escalations", UnitCount}, {"bounces", UnitCount}, {"mttr_mean_seconds", UnitSeconds}}

func levels(q Query, all []IncidentRow) Result {
	g := newGrid(q)
	var rows []*IncidentRow
	for _, r := range relevantRows(q, all) {
		if g.index(r.ResolvedAt) >= 0 {
			rows = append(rows, r)
		}
	}
	groups, keys := groupRows(q, rows, Level.Of)
	// Levels sort as L0..L4, then (none) and (other).
	slices.SortStableFunc(groups, func(a, b string) int { return cmp.Compare(levelOrder(a), levelOrder(b)) })
	f := newFrame(q, g, groups, levelMeasures...)
	total := make([]float64, g.len())
	sums := map[string][]float64{}
	for _, gr := range groups {
		sums[gr] = make([]float64, g.len())
	}
	for i, r := range rows {
		b := g.index(r.ResolvedAt)
		v := f.vals[keys[i]][b]
		v[0]++
		total[b]++
		if r.EscalationCount > 0 {
			v[2]++
		}
		v[3] += float64(r.EscalationCount)
		v[4] += float64(r.Bounces)
		sums[keys[i]][b] += seconds(r.ResolvedAt.Sub(r.OpenedAt))
	}
	for _, gr := range groups {
		for b, v := range f.vals[gr] {
			v[1] = pct(v[0], total[b])
			v[5] = ratio(sums[gr][b], v[0])
		}
	}
	return f.result(methodLevels)
}

func levelOrder(s string) int {
	if l, err := incident.ParseSupportLevel(s); err == nil {
		return int(l)
	}
	if s == Other {
		return 101
	}
	return 100
}

const methodAnalysts = "Work per analyst, per bucket (UTC). The analyst of opened, acknowledged, resolved, open and " +
	"of the mean times is the incident's current assignee; the analyst of confirmed and rejected is who decided " +
	"(decided_by; \"vigia\" for automatic confirmations). opened, acknowledged, resolved, confirmed and rejected " +
	"count the moments in the bucket; open is the state at the end of the bucket (see incidents); " +
	"mtta_mean_seconds and mttr_mean_seconds average acknowledged_at - opened_at and resolved_at - opened_at " +
	"over the incidents acknowledged or resolved in the bucket."

var analystMeasures = []measure{{"opened", UnitCount}, {"acknowledged", UnitCount}, {"resolved", UnitCount},
	{"open", UnitCount}, {"confirmed", UnitCount}, {"rejected", UnitCount},
	{"mtta_mean_seconds", UnitSeconds}, {"mttr_mean_seconds", UnitSeconds}}

func analysts(q Query, all []IncidentRow) Result {
	g := newGrid(q)
	rows := relevantRows(q, all)
	decider := func(r *IncidentRow) string {
		if r.DecidedBy == "" {
			return NoValue
		}
		return r.DecidedBy
	}
	w := map[string]int{}
	for _, r := range rows {
		w[Analyst.Of(r)]++
		if g.index(r.ConfirmedAt) >= 0 || g.index(r.RejectedAt) >= 0 {
			if d := decider(r); d != Analyst.Of(r) {
				w[d]++
			}
		}
	}
	groups, keep := rank(w, q.Limit)
	f := newFrame(q, g, groups, analystMeasures...)
	snaps := newSnapshots(q, g)
	open, ackSum, resSum := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	for _, gr := range groups {
		open[gr], ackSum[gr], resSum[gr] = make([]float64, len(snaps)+1), make([]float64, g.len()), make([]float64, g.len())
	}
	for _, r := range rows {
		a := keep(Analyst.Of(r))
		v := f.vals[a]
		if b := g.index(r.OpenedAt); b >= 0 {
			v[b][0]++
		}
		if b := g.index(r.AcknowledgedAt); b >= 0 {
			v[b][1]++
			ackSum[a][b] += seconds(r.AcknowledgedAt.Sub(r.OpenedAt))
		}
		if b := g.index(r.ResolvedAt); b >= 0 {
			v[b][2]++
			resSum[a][b] += seconds(r.ResolvedAt.Sub(r.OpenedAt))
		}
		snaps.span(open[a], r.OpenedAt, r.EndedAt())
		d := f.vals[keep(decider(r))]
		if b := g.index(r.ConfirmedAt); b >= 0 {
			d[b][4]++
		}
		if b := g.index(r.RejectedAt); b >= 0 {
			d[b][5]++
		}
	}
	for _, gr := range groups {
		v := f.vals[gr]
		snaps.fill(v, 3, open[gr])
		for b := range v {
			v[b][6] = ratio(ackSum[gr][b], v[b][1])
			v[b][7] = ratio(resSum[gr][b], v[b][2])
		}
	}
	return f.result(methodAnalysts)
}

// describe formats a number for a method statement.
func describe(v float64) string { return fmt.Sprintf("%.4g", v) }
