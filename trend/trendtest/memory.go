package trendtest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/trend"
)

// Memory is a Store in memory that keeps exactly what the trends read, the
// way a store must: the latest version of each incident, reopen moments from
// the timeline, the engine counts per UTC day of the batch clock (once per
// journal offset), the feedback (once per batch), and the problems.
type Memory struct {
	mu        sync.Mutex
	offset    uint64
	applied   bool
	incidents map[int64]incident.Incident
	reopens   map[string]map[int64]bool // incident id -> unix nanos
	days      map[time.Time]*trend.DayCount
	feedback  map[string]trend.FeedbackRow
	problems  map[string]problem.Problem
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{incidents: map[int64]incident.Incident{}, reopens: map[string]map[int64]bool{},
		days: map[time.Time]*trend.DayCount{}, feedback: map[string]trend.FeedbackRow{}, problems: map[string]problem.Problem{}}
}

// Apply records a batch.
func (m *Memory) Apply(_ context.Context, cp storage.Checkpoint, ch correlate.Changes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.applied && cp.Offset <= m.offset {
		ch.Stats = correlate.Stats{}
	}
	m.applied, m.offset = true, max(m.offset, cp.Offset)
	for _, in := range ch.Incidents {
		if cur, ok := m.incidents[in.Seq]; !ok || in.Version >= cur.Version {
			m.incidents[in.Seq] = in.Clone()
		}
	}
	for _, ev := range ch.Events {
		if t, ok := trend.ReopenMoment(ev); ok {
			if m.reopens[ev.IncidentID] == nil {
				m.reopens[ev.IncidentID] = map[int64]bool{}
			}
			m.reopens[ev.IncidentID][t.UnixNano()] = true
		}
	}
	if st := ch.Stats; st != (correlate.Stats{}) && !cp.Clock.IsZero() {
		day := trend.Day.Floor(cp.Clock)
		d := m.days[day]
		if d == nil {
			d = &trend.DayCount{Day: day}
			m.days[day] = d
		}
		d.Deliveries += st.Deliveries
		d.Alerts += st.Alerts
		d.Repeats += st.Repeats
		d.Suppressed += st.Suppressed
	}
	for _, f := range ch.Feedback {
		key := fmt.Sprintf("%s@%d/%s/%s/%d", f.IncidentID, f.At.UnixNano(), f.Decision, f.Actor, f.Alerts)
		m.feedback[key] = trend.FeedbackRow{At: f.At.UTC(), Actor: f.Actor, IncidentID: f.IncidentID, Method: f.Method,
			Rule: f.Rule, Decision: f.Decision, Alerts: f.Alerts}
	}
	return nil
}

// SaveProblems upserts problems; an older version never overwrites a newer one.
func (m *Memory) SaveProblems(_ context.Context, ps []problem.Problem) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		if cur, ok := m.problems[p.ID]; !ok || p.Version >= cur.Version {
			m.problems[p.ID] = p
		}
	}
	return nil
}

// TrendIncidents returns the rows opened before to that are open or have
// a moment at or after from.
func (m *Memory) TrendIncidents(_ context.Context, from, to time.Time) ([]trend.IncidentRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []trend.IncidentRow
	for _, seq := range slices.Sorted(maps.Keys(m.incidents)) {
		in := m.incidents[seq]
		r := trend.RowOf(&in)
		var all []time.Time
		for n := range m.reopens[in.ID] {
			all = append(all, time.Unix(0, n).UTC())
		}
		slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
		r.ReopenedAt = all
		if !r.OpenedAt.Before(to) || (!r.Status.Open() && r.LastMoment().Before(from)) {
			continue
		}
		r.ReopenedAt = slices.DeleteFunc(all, func(t time.Time) bool { return t.Before(from) || !t.Before(to) })
		if len(r.ReopenedAt) == 0 {
			r.ReopenedAt = nil
		}
		out = append(out, r)
	}
	return out, nil
}

// TrendActivity returns the days in [from, to).
func (m *Memory) TrendActivity(_ context.Context, from, to time.Time) (trend.Activity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var act trend.Activity
	for _, day := range slices.SortedFunc(maps.Keys(m.days), func(a, b time.Time) int { return a.Compare(b) }) {
		if !day.Before(trend.Day.Floor(from)) && day.Before(to) {
			act.Days = append(act.Days, *m.days[day])
		}
	}
	return act, nil
}

// TrendFeedback returns the feedback given in [from, to), in time order.
func (m *Memory) TrendFeedback(_ context.Context, from, to time.Time) ([]trend.FeedbackRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []trend.FeedbackRow
	for _, f := range m.feedback {
		if !f.At.Before(from) && f.At.Before(to) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b trend.FeedbackRow) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.IncidentID+a.Decision, b.IncidentID+b.Decision)
	})
	return out, nil
}

// Problems returns every problem, in id order.
func (m *Memory) Problems(context.Context) ([]problem.Problem, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []problem.Problem
	for _, id := range slices.Sorted(maps.Keys(m.problems)) {
		out = append(out, m.problems[id])
	}
	return out, nil
}
