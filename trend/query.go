package trend

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The trend names (contract §6).
const (
	NameIncidents  = "incidents"
	NameMTTA       = "mtta"
	NameMTTR       = "mttr"
	NameSLA        = "sla"
	NameLevels     = "levels"
	NameAnalysts   = "analysts"
	NameNoise      = "noise"
	NameRules      = "rules"
	NameProblems   = "problems"
	NameProjection = "projection"
)

// Names lists every trend name.
func Names() []string {
	return []string{NameIncidents, NameMTTA, NameMTTR, NameSLA, NameLevels, NameAnalysts,
		NameNoise, NameRules, NameProblems, NameProjection}
}

// Step is the width of a bucket.
type Step string

// Steps.
const (
	Day   Step = "day"
	Week  Step = "week"
	Month Step = "month"
)

// Steps lists the steps.
func Steps() []Step { return []Step{Day, Week, Month} }

// Floor returns the start of the bucket holding t (UTC): midnight, the
// Monday of its ISO week, or the first of its month.
func (s Step) Floor(t time.Time) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	switch s {
	case Week:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
}

// Add returns the bucket start n steps after the bucket start t.
func (s Step) Add(t time.Time, n int) time.Time {
	switch s {
	case Week:
		return t.AddDate(0, 0, 7*n)
	case Month:
		return t.AddDate(0, n, 0)
	default:
		return t.AddDate(0, 0, n)
	}
}

// Ceil returns t when it starts a bucket, else the start of the next one.
func (s Step) Ceil(t time.Time) time.Time {
	f := s.Floor(t)
	if f.Equal(t) {
		return f
	}
	return s.Add(f, 1)
}

// Dimension is what a trend is broken down by.
type Dimension string

// Dimensions. The value of each for an incident is [Dimension.Of].
const (
	None     Dimension = ""
	Service  Dimension = "service"
	CI       Dimension = "ci"
	Severity Dimension = "severity"
	Priority Dimension = "priority"
	Level    Dimension = "level"
	Group    Dimension = "group"
	Analyst  Dimension = "analyst"
	Category Dimension = "category"
	Method   Dimension = "method"
)

// Dimensions lists the dimensions a `by` may name.
func Dimensions() []Dimension {
	return []Dimension{Service, CI, Severity, Priority, Level, Group, Analyst, Category, Method}
}

// Group values for an empty dimension value and for the groups beyond the limit.
const (
	NoValue = "(none)"
	Other   = "(other)"
)

// Of returns the value of dimension d for r; "" for None, NoValue when unset.
//
//	service   r.Service (the incident's "service" label)
//	ci        r.CI (its root-cause CI, else its "ci" label)
//	severity  r.Severity
//	priority  P1..P5
//	level     L0..L4 (the support level working it)
//	group     the assignment group
//	analyst   the assignee
//	category  the category
//	method    the grouping method ("rule", "topology", ...)
func (d Dimension) Of(r *IncidentRow) string {
	var v string
	switch d {
	case None:
		return ""
	case Service:
		v = r.Service
	case CI:
		v = r.CI
	case Severity:
		v = r.Severity
	case Priority:
		if r.Priority != 0 {
			v = r.Priority.String()
		}
	case Level:
		if r.Level.Valid() {
			v = r.Level.String()
		}
	case Group:
		v = r.Group
	case Analyst:
		v = r.Assignee
	case Category:
		v = r.Category
	case Method:
		v = r.Method
	}
	if v == "" {
		return NoValue
	}
	return v
}

// Limits of a query.
const (
	// MaxBuckets bounds the number of buckets of a range.
	MaxBuckets = 1000
	// DefaultLimit is the default number of groups (and of problems).
	DefaultLimit   = 20
	DefaultTop     = 10
	MaxLimit       = 1000
	DefaultHorizon = 3
	MaxHorizon     = 24
	// MinProjectionMonths is the fewest complete months a projection fits.
	MinProjectionMonths = 3
)

// Query is one trend request.
type Query struct {
	Name string
	// From (inclusive) and To (exclusive) bound the range; Normalize widens
	// them to whole buckets. Zero To is Now; zero From depends on Step
	// (30 days, 12 weeks or 12 months before To).
	From, To time.Time
	// Step defaults to day, or month for projection (the only step it takes).
	Step Step
	// By breaks the figures down; levels, analysts and rules have their
	// own fixed dimension, noise and problems none.
	By Dimension
	// Limit is the number of groups kept (the others are summed into
	// "(other)"), or of problems listed; 0 takes the default (20, or 10
	// problems).
	Limit int
	// Horizon is how many months a projection projects (default 3).
	Horizon int
	// Now is the time of the request: open and pending are counted at
	// min(bucket end, Now), and a projection fits complete months only.
	Now time.Time
}

// ParamError is a query parameter that is not valid; Field names it.
type ParamError struct {
	Field string
	Msg   string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Msg }

func paramErr(field, format string, args ...any) error {
	return &ParamError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ParseStep parses a step name.
func ParseStep(s string) (Step, error) {
	if st := Step(s); slices.Contains(Steps(), st) {
		return st, nil
	}
	return "", paramErr("step", "unknown step %q: want day, week or month", s)
}

// ParseDimension parses a `by` value.
func ParseDimension(s string) (Dimension, error) {
	if d := Dimension(s); slices.Contains(Dimensions(), d) {
		return d, nil
	}
	names := make([]string, 0, len(Dimensions()))
	for _, d := range Dimensions() {
		names = append(names, string(d))
	}
	return "", paramErr("by", "unknown dimension %q: want one of %s", s, strings.Join(names, ", "))
}

// fixedBy is the dimension of the names that always break down by one.
var fixedBy = map[string]Dimension{NameLevels: Level, NameAnalysts: Analyst, NameRules: "rule", NameProblems: "problem"}

// Normalize checks q, fills the defaults and widens From and To to whole
// buckets. Errors are *ParamError naming the parameter.
func (q Query) Normalize() (Query, error) {
	if !slices.Contains(Names(), q.Name) {
		return q, paramErr("name", "unknown trend %q: want one of %s", q.Name, strings.Join(Names(), ", "))
	}
	if q.Now.IsZero() {
		return q, paramErr("now", "the time of the request is required")
	}
	q.Now = q.Now.UTC()
	switch {
	case q.Step == "" && q.Name == NameProjection:
		q.Step = Month
	case q.Step == "":
		q.Step = Day
	case !slices.Contains(Steps(), q.Step):
		return q, paramErr("step", "unknown step %q: want day, week or month", q.Step)
	case q.Name == NameProjection && q.Step != Month:
		return q, paramErr("step", "a projection is monthly: step must be month")
	}
	if q.By != None && !slices.Contains(Dimensions(), q.By) {
		return q, paramErr("by", "unknown dimension %q", q.By)
	}
	switch fixed, ok := fixedBy[q.Name]; {
	case ok && q.By != None && q.By != fixed:
		return q, paramErr("by", "%s is always broken down by %s", q.Name, fixed)
	case ok:
		q.By = fixed
	case q.Name == NameNoise && q.By != None:
		return q, paramErr("by", "noise counts deliveries, which have no %s: it takes no by", q.By)
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
		if q.Name == NameProblems {
			q.Limit = DefaultTop
		}
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return q, paramErr("limit", "want a whole number from 1 to %d", MaxLimit)
	}
	if q.Horizon == 0 {
		q.Horizon = DefaultHorizon
	}
	if q.Horizon < 1 || q.Horizon > MaxHorizon {
		return q, paramErr("horizon", "want a whole number of months from 1 to %d", MaxHorizon)
	}
	if q.To.IsZero() {
		q.To = q.Now
	}
	if q.From.IsZero() {
		switch q.Step {
		case Day:
			q.From = q.To.AddDate(0, 0, -30)
		case Week:
			q.From = q.To.AddDate(0, 0, -7*12)
		case Month:
			q.From = q.To.AddDate(0, -12, 0)
		}
	}
	q.From, q.To = q.Step.Floor(q.From), q.Step.Ceil(q.To.UTC())
	if !q.From.Before(q.To) {
		return q, paramErr("to", "must be after from")
	}
	if n := q.bucketCount(); n > MaxBuckets {
		return q, paramErr("from", "the range holds %d buckets of a %s; at most %d", n, q.Step, MaxBuckets)
	}
	if q.Name == NameProjection {
		if n := len(q.completeMonths()); n < MinProjectionMonths {
			return q, paramErr("from", "a projection needs at least %d complete months in the range; it has %d", MinProjectionMonths, n)
		}
	}
	return q, nil
}

func (q Query) bucketCount() int {
	n := 0
	for t := q.From; t.Before(q.To) && n <= MaxBuckets; t = q.Step.Add(t, 1) {
		n++
	}
	return n
}

// Buckets returns the start of every bucket of the (normalized) range.
func (q Query) Buckets() []time.Time {
	var out []time.Time
	for t := q.From; t.Before(q.To); t = q.Step.Add(t, 1) {
		out = append(out, t)
	}
	return out
}

// completeMonths returns the month starts in [From, To) whose month ended by Now.
func (q Query) completeMonths() []time.Time {
	var out []time.Time
	for t := q.From; t.Before(q.To); t = t.AddDate(0, 1, 0) {
		if end := t.AddDate(0, 1, 0); !end.After(q.Now) && !end.After(q.To) {
			out = append(out, t)
		}
	}
	return out
}

// Needs says which rows a (normalized) query needs, and over which range:
// a projection reads a year more than its range, for the seasonal-naive check.
type Needs struct {
	From, To  time.Time
	Incidents bool
	Activity  bool
	Feedback  bool
	Problems  bool
}

// Needs returns what Compute reads for q.
func (q Query) Needs() Needs {
	n := Needs{From: q.From, To: q.To}
	switch q.Name {
	case NameNoise:
		n.Incidents, n.Activity = true, true
	case NameRules:
		n.Incidents, n.Feedback = true, true
	case NameProblems:
		n.Problems = true
	case NameProjection:
		n.Incidents = true
		n.From = q.From.AddDate(-1, 0, 0)
	default:
		n.Incidents = true
	}
	return n
}

// grid maps times to the buckets of a query.
type grid struct {
	starts []time.Time
	to     time.Time
}

func newGrid(q Query) grid { return grid{starts: q.Buckets(), to: q.To} }

func (g grid) len() int { return len(g.starts) }

// end returns the end (exclusive) of bucket i.
func (g grid) end(i int) time.Time {
	if i+1 < len(g.starts) {
		return g.starts[i+1]
	}
	return g.to
}

// index returns the bucket of t, or -1 when t is zero or outside the range.
func (g grid) index(t time.Time) int {
	if t.IsZero() || len(g.starts) == 0 || t.Before(g.starts[0]) || !t.Before(g.to) {
		return -1
	}
	return sort.Search(len(g.starts), func(i int) bool { return g.starts[i].After(t) }) - 1
}
