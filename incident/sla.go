package incident

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Interval is a span of time, e.g. a pause of the SLA clocks. An open
// interval has a zero End.
type Interval struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// Span is a period of one day on the wall clock: From and To are offsets
// from local midnight, 0 <= From < To <= 24h. "09:00-17:00" is
// Span{9 * time.Hour, 17 * time.Hour}.
type Span struct {
	From, To time.Duration
}

// Date is a calendar date, without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// ParseDate parses "2026-12-25".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return dateOf(t), nil
}

// Calendar says when SLA clocks run. The zero value runs 24x7 in UTC.
//
// A calendar with no hours on any weekday runs all day every day except
// holidays. Otherwise it runs during Week[weekday] on non-holidays. Hours
// are wall-clock times in Location, so they follow daylight saving.
type Calendar struct {
	Name     string
	Location *time.Location // nil is UTC
	Week     [7][]Span      // indexed by time.Weekday
	Holidays map[Date]bool
}

// Calendar24x7 is the name of the built-in calendar that never stops.
const Calendar24x7 = "24x7"

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c Calendar) allDay() bool {
	for _, s := range c.Week {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

// Is24x7 reports whether the calendar never stops.
func (c Calendar) Is24x7() bool { return c.allDay() && len(c.Holidays) == 0 }

// maxDays bounds the day walks of Add and Elapsed (about 30 years).
const maxDays = 11000

// day returns the business intervals of the local day d, in order.
func (c Calendar) day(d Date) [][2]time.Time {
	if c.Holidays[d] {
		return nil
	}
	loc := c.loc()
	if c.allDay() {
		return [][2]time.Time{{
			time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc),
			time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc),
		}}
	}
	wd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, loc).Weekday()
	spans := c.Week[wd]
	out := make([][2]time.Time, 0, len(spans))
	for _, s := range spans {
		out = append(out, [2]time.Time{wall(d, s.From, loc), wall(d, s.To, loc)})
	}
	return out
}

// wall returns the instant at wall-clock offset off after midnight of d.
func wall(d Date, off time.Duration, loc *time.Location) time.Time {
	h := int(off / time.Hour)
	m := int(off % time.Hour / time.Minute)
	s := int(off % time.Minute / time.Second)
	return time.Date(d.Year, d.Month, d.Day, h, m, s, int(off%time.Second), loc)
}

func nextDate(d Date) Date {
	return dateOf(time.Date(d.Year, d.Month, d.Day+1, 12, 0, 0, 0, time.UTC))
}

// Elapsed returns the calendar time between from and to: the business time
// when the calendar has hours. It is 0 when to is not after from.
func (c Calendar) Elapsed(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.Is24x7() {
		return to.Sub(from)
	}
	loc := c.loc()
	last := dateOf(to.In(loc))
	var sum time.Duration
	d := dateOf(from.In(loc))
	for n := 0; n < maxDays; n++ {
		for _, iv := range c.day(d) {
			s, e := iv[0], iv[1]
			if s.Before(from) {
				s = from
			}
			if e.After(to) {
				e = to
			}
			if e.After(s) {
				sum += e.Sub(s)
			}
		}
		if d == last {
			break
		}
		d = nextDate(d)
	}
	return sum
}

// Add returns the moment when d of calendar time has passed after start:
// a deadline. A deadline that falls on the end of business hours is that
// end (17:00), not the next opening.
func (c Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	if c.Is24x7() {
		return start.Add(d)
	}
	loc := c.loc()
	day := dateOf(start.In(loc))
	for n := 0; n < maxDays; n++ {
		for _, iv := range c.day(day) {
			s, e := iv[0], iv[1]
			if !e.After(start) {
				continue
			}
			if s.Before(start) {
				s = start
			}
			if avail := e.Sub(s); avail >= d {
				return s.Add(d)
			} else {
				d -= avail
			}
		}
		day = nextDate(day)
	}
	// A calendar that (almost) never opens: count the rest as 24x7.
	return start.Add(d)
}

// WeekHours are business hours per weekday, each a list of "HH:MM-HH:MM"
// ranges ("24:00" ends a range at midnight).
type WeekHours struct {
	Monday    []string `yaml:"monday" json:"monday,omitempty"`
	Tuesday   []string `yaml:"tuesday" json:"tuesday,omitempty"`
	Wednesday []string `yaml:"wednesday" json:"wednesday,omitempty"`
	Thursday  []string `yaml:"thursday" json:"thursday,omitempty"`
	Friday    []string `yaml:"friday" json:"friday,omitempty"`
	Saturday  []string `yaml:"saturday" json:"saturday,omitempty"`
	Sunday    []string `yaml:"sunday" json:"sunday,omitempty"`
}

// CalendarConfig configures a calendar (incident.sla.calendars.NAME):
//
//	business:
//	  time_zone: Europe/Madrid
//	  hours:
//	    monday: ["09:00-17:00"]
//	    ...
//	  holidays: ["2026-01-01", "2026-01-06"]
//
// No hours at all means all day, every day but holidays.
type CalendarConfig struct {
	TimeZone string    `yaml:"time_zone" json:"time_zone,omitempty"`
	Hours    WeekHours `yaml:"hours" json:"hours"`
	Holidays []string  `yaml:"holidays" json:"holidays,omitempty"`
}

// Compile builds the Calendar. It loads the time zone (the zone database of
// the system, or the one embedded by importing time/tzdata).
func (cc CalendarConfig) Compile(name string) (Calendar, error) {
	c := Calendar{Name: name, Location: time.UTC}
	if cc.TimeZone != "" {
		loc, err := time.LoadLocation(cc.TimeZone)
		if err != nil {
			return Calendar{}, fmt.Errorf("time_zone: unknown time zone %q", cc.TimeZone)
		}
		c.Location = loc
	}
	days := []struct {
		key string
		wd  time.Weekday
		v   []string
	}{
		{"monday", time.Monday, cc.Hours.Monday}, {"tuesday", time.Tuesday, cc.Hours.Tuesday},
		{"wednesday", time.Wednesday, cc.Hours.Wednesday}, {"thursday", time.Thursday, cc.Hours.Thursday},
		{"friday", time.Friday, cc.Hours.Friday}, {"saturday", time.Saturday, cc.Hours.Saturday},
		{"sunday", time.Sunday, cc.Hours.Sunday},
	}
	for _, d := range days {
		for i, r := range d.v {
			s, err := parseSpan(r)
			if err != nil {
				return Calendar{}, fmt.Errorf("hours.%s[%d]: %w", d.key, i, err)
			}
			c.Week[d.wd] = append(c.Week[d.wd], s)
		}
		slices.SortFunc(c.Week[d.wd], func(a, b Span) int { return int(a.From - b.From) })
		for i := 1; i < len(c.Week[d.wd]); i++ {
			if c.Week[d.wd][i].From < c.Week[d.wd][i-1].To {
				return Calendar{}, fmt.Errorf("hours.%s: ranges overlap", d.key)
			}
		}
	}
	for i, h := range cc.Holidays {
		d, err := ParseDate(h)
		if err != nil {
			return Calendar{}, fmt.Errorf("holidays[%d]: %w", i, err)
		}
		if c.Holidays == nil {
			c.Holidays = map[Date]bool{}
		}
		c.Holidays[d] = true
	}
	return c, nil
}

// parseSpan parses "09:00-17:00".
func parseSpan(s string) (Span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("invalid range %q: want HH:MM-HH:MM", s)
	}
	f, err1 := parseClock(strings.TrimSpace(from))
	t, err2 := parseClock(strings.TrimSpace(to))
	if err1 != nil || err2 != nil || f >= t || f >= 24*time.Hour {
		return Span{}, fmt.Errorf("invalid range %q: want HH:MM-HH:MM with start before end", s)
	}
	return Span{f, t}, nil
}

func parseClock(s string) (time.Duration, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// Policy is the SLA of one priority (incident.sla.policies.P1) or of major
// incidents (incident.sla.major).
type Policy struct {
	// Respond is the time-to-acknowledge target; Resolve the time-to-resolve
	// target. Both run from OpenedAt on the policy's calendar.
	Respond Duration `yaml:"respond" json:"respond"`
	Resolve Duration `yaml:"resolve" json:"resolve"`
	// AtRisk is the share of a target after which the clock is at risk, in
	// (0, 1); 0 takes incident.sla.at_risk.
	AtRisk float64 `yaml:"at_risk" json:"at_risk,omitempty"`
	// Calendar names a calendar of incident.sla.calendars; empty takes
	// incident.sla.default_calendar.
	Calendar string `yaml:"calendar" json:"calendar,omitempty"`
}

// ClockState is the state of one SLA target.
type ClockState string

// Clock states.
const (
	// ClockNone: the policy has no such target, or SLAs do not apply
	// (rejected and merged incidents).
	ClockNone ClockState = "none"
	// ClockOK: running, below the at-risk share.
	ClockOK ClockState = "ok"
	// ClockAtRisk: running, at or past the at-risk share of the target.
	ClockAtRisk ClockState = "at_risk"
	// ClockBreached: the target was spent before the clock stopped (running
	// or stopped late).
	ClockBreached ClockState = "breached"
	// ClockMet: stopped within the target.
	ClockMet ClockState = "met"
)

// Clock is the evaluation of one SLA target.
type Clock struct {
	State  ClockState `json:"state"`
	Target Duration   `json:"target"`
	// Elapsed is the calendar time counted so far (until StoppedAt or now),
	// pauses excluded; Remaining is Target-Elapsed (negative once breached).
	Elapsed   Duration `json:"elapsed"`
	Remaining Duration `json:"remaining"`
	// Due is when the target is spent; AtRiskAt when the at-risk share is.
	// While paused they assume the clock restarts now.
	Due      time.Time `json:"due,omitzero"`
	AtRiskAt time.Time `json:"at_risk_at,omitzero"`
	// StoppedAt is when the clock stopped (acknowledged, resolved).
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	// BreachedAt is the breach moment (Due) when State is breached.
	BreachedAt *time.Time `json:"breached_at,omitempty"`
}

// SLAState is the evaluation of both SLA targets of an incident.
type SLAState struct {
	// Policy names the policy applied: "P1".."P5" or "major" (set by Workflow).
	Policy   string `json:"policy,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	// Paused reports an open pause: the clocks are stopped.
	Paused  bool  `json:"paused,omitempty"`
	Respond Clock `json:"respond"`
	Resolve Clock `json:"resolve"`
}

// SLAMarks records the SLA warnings already raised for an incident, each as
// the moment it happened (AtRiskAt, Due), so that a scheduled check raises
// each warning once.
type SLAMarks struct {
	RespondAtRisk   *time.Time `json:"respond_at_risk,omitempty"`
	RespondBreached *time.Time `json:"respond_breached,omitempty"`
	ResolveAtRisk   *time.Time `json:"resolve_at_risk,omitempty"`
	ResolveBreached *time.Time `json:"resolve_breached,omitempty"`
}

// Evaluate evaluates policy p on calendar cal at now for an incident opened
// at openedAt, acknowledged at ackAt and resolved at resolvedAt (nil when
// not yet), with the SLA clocks stopped during pauses (an open pause lasts
// until now).
//
// The respond clock stops at ackAt or, for an incident resolved without an
// acknowledgement, at resolvedAt. The resolve clock stops at resolvedAt.
// A running clock is breached from the moment Elapsed reaches Target
// (exactly at Due) and at risk from the moment it reaches AtRisk*Target
// (exactly at AtRiskAt); a clock stopped with Elapsed <= Target is met.
func Evaluate(p Policy, cal Calendar, openedAt time.Time, ackAt, resolvedAt *time.Time, pauses []Interval, now time.Time) SLAState {
	st := SLAState{Calendar: p.Calendar}
	respondStop := ackAt
	if respondStop == nil {
		respondStop = resolvedAt
	}
	if resolvedAt != nil && respondStop.After(*resolvedAt) {
		respondStop = resolvedAt
	}
	st.Respond = evalClock(time.Duration(p.Respond), p.AtRisk, cal, openedAt, respondStop, pauses, now)
	st.Resolve = evalClock(time.Duration(p.Resolve), p.AtRisk, cal, openedAt, resolvedAt, pauses, now)
	running := (st.Respond.State != ClockNone && st.Respond.StoppedAt == nil) ||
		(st.Resolve.State != ClockNone && st.Resolve.StoppedAt == nil)
	for _, iv := range pauses {
		if iv.End.IsZero() && !iv.Start.After(now) && running {
			st.Paused = true
		}
	}
	return st
}

func evalClock(target time.Duration, share float64, cal Calendar, start time.Time, stop *time.Time, pauses []Interval, now time.Time) Clock {
	if target <= 0 {
		return Clock{State: ClockNone}
	}
	end := now
	if stop != nil {
		end = *stop
	}
	if end.Before(start) {
		end = start
	}
	ps := clipPauses(pauses, start, end)
	elapsed := busy(cal, start, end, ps)
	c := Clock{
		Target:    Duration(target),
		Elapsed:   Duration(elapsed),
		Remaining: Duration(target - elapsed),
		Due:       deadline(cal, start, target, ps),
	}
	var risk time.Duration
	if share > 0 && share < 1 {
		risk = time.Duration(math.Round(float64(target) * share))
		c.AtRiskAt = deadline(cal, start, risk, ps)
	}
	if stop != nil {
		t := end
		c.StoppedAt = &t
	}
	switch {
	case stop != nil && elapsed <= target:
		c.State = ClockMet
	case elapsed >= target:
		c.State = ClockBreached
		due := c.Due
		c.BreachedAt = &due
	case risk > 0 && elapsed >= risk:
		c.State = ClockAtRisk
	default:
		c.State = ClockOK
	}
	return c
}

// clipPauses returns the pauses within [start, end], open ones ending at
// end, sorted and merged.
func clipPauses(pauses []Interval, start, end time.Time) []Interval {
	var out []Interval
	for _, p := range pauses {
		s, e := p.Start, p.End
		if e.IsZero() || e.After(end) {
			e = end
		}
		if s.Before(start) {
			s = start
		}
		if e.After(s) {
			out = append(out, Interval{Start: s, End: e})
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && !p.Start.After(merged[n-1].End) {
			if p.End.After(merged[n-1].End) {
				merged[n-1].End = p.End
			}
			continue
		}
		merged = append(merged, p)
	}
	return merged
}

// busy is the calendar time in [start, end] outside the pauses ps (clipped
// and merged).
func busy(cal Calendar, start, end time.Time, ps []Interval) time.Duration {
	d := cal.Elapsed(start, end)
	for _, p := range ps {
		d -= cal.Elapsed(p.Start, p.End)
	}
	return d
}

// deadline is when target of calendar time has passed after start, not
// counting the pauses ps (clipped and merged).
func deadline(cal Calendar, start time.Time, target time.Duration, ps []Interval) time.Time {
	cursor, remaining := start, target
	for _, p := range ps {
		if !p.End.After(cursor) {
			continue
		}
		if p.Start.After(cursor) {
			avail := cal.Elapsed(cursor, p.Start)
			if avail >= remaining {
				return cal.Add(cursor, remaining)
			}
			remaining -= avail
		}
		cursor = p.End
	}
	return cal.Add(cursor, remaining)
}
