// Package suppress holds suppressions and maintenance windows: label
// matchers (Alertmanager syntax) with a time range, a recurring weekly
// schedule, or both. An alert that starts while a matching suppression is
// active is kept and marked suppressed, and opens no incident.
//
// A Set is immutable once built and safe for concurrent use.
package suppress

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// ErrInvalid wraps every validation error.
var ErrInvalid = errors.New("invalid suppression")

// Suppression is one suppression or maintenance window.
type Suppression struct {
	ID string `json:"id" yaml:"id"`
	// Matchers in Alertmanager's syntax; all must match.
	Matchers []string `json:"matchers" yaml:"matchers"`
	// StartsAt and EndsAt bound it; a zero EndsAt never ends.
	StartsAt time.Time `json:"starts_at" yaml:"starts_at"`
	EndsAt   time.Time `json:"ends_at,omitzero" yaml:"ends_at"`
	// Schedule, if set, makes it active only during its weekly windows
	// (a maintenance window), within StartsAt..EndsAt.
	Schedule  *Schedule `json:"schedule,omitempty" yaml:"schedule"`
	Comment   string    `json:"comment,omitempty" yaml:"comment"`
	CreatedBy string    `json:"created_by,omitempty" yaml:"created_by"`
	CreatedAt time.Time `json:"created_at,omitzero" yaml:"created_at"`
	// Incident is the rejected incident that created it, if any.
	Incident string `json:"incident,omitempty" yaml:"incident"`
}

// Schedule is a weekly recurring window.
type Schedule struct {
	// Weekdays: "mon".."sun"; empty is every day.
	Weekdays []string `json:"weekdays,omitempty" yaml:"weekdays"`
	// Start is the local start time "HH:MM"; Duration how long it lasts.
	Start    string `json:"start" yaml:"start"`
	Duration string `json:"duration" yaml:"duration"`
	// TimeZone is an IANA zone name; empty is UTC.
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone"`
}

type compiled struct {
	s        Suppression
	matchers labels.Matchers
	days     [7]bool
	start    time.Duration // since local midnight
	length   time.Duration
	loc      *time.Location
}

// Set is a compiled list of suppressions.
type Set struct {
	list []compiled
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Validate checks one suppression; errors name the field.
func (s Suppression) Validate() error {
	_, err := compile(s)
	return err
}

func compile(s Suppression) (compiled, error) {
	c := compiled{s: s}
	if s.ID == "" {
		return c, fmt.Errorf("%w: id is required", ErrInvalid)
	}
	if len(s.Matchers) == 0 {
		return c, fmt.Errorf("%w: matchers: at least one matcher is required", ErrInvalid)
	}
	for i, m := range s.Matchers {
		ms, err := labels.ParseMatchers(m)
		if err != nil {
			return c, fmt.Errorf("%w: matchers[%d]: %v", ErrInvalid, i, err)
		}
		c.matchers = append(c.matchers, ms...)
	}
	if s.StartsAt.IsZero() {
		return c, fmt.Errorf("%w: starts_at is required", ErrInvalid)
	}
	if !s.EndsAt.IsZero() && !s.EndsAt.After(s.StartsAt) {
		return c, fmt.Errorf("%w: ends_at must be after starts_at", ErrInvalid)
	}
	if s.Schedule == nil {
		return c, nil
	}
	sc := s.Schedule
	c.loc = time.UTC
	if sc.TimeZone != "" {
		loc, err := time.LoadLocation(sc.TimeZone)
		if err != nil {
			return c, fmt.Errorf("%w: schedule.time_zone: %v", ErrInvalid, err)
		}
		c.loc = loc
	}
	if len(sc.Weekdays) == 0 {
		c.days = [7]bool{true, true, true, true, true, true, true}
	}
	for i, d := range sc.Weekdays {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			return c, fmt.Errorf("%w: schedule.weekdays[%d]: %q is not mon..sun", ErrInvalid, i, d)
		}
		c.days[wd] = true
	}
	t, err := time.Parse("15:04", sc.Start)
	if err != nil {
		return c, fmt.Errorf("%w: schedule.start: %q is not HH:MM", ErrInvalid, sc.Start)
	}
	c.start = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	if c.length, err = time.ParseDuration(sc.Duration); err != nil || c.length <= 0 || c.length > 7*24*time.Hour {
		return c, fmt.Errorf("%w: schedule.duration: %q must be a positive duration of at most 168h", ErrInvalid, sc.Duration)
	}
	return c, nil
}

// NewSet compiles suppressions; duplicate ids are an error.
func NewSet(list []Suppression) (*Set, error) {
	set := &Set{}
	seen := map[string]bool{}
	for i, s := range list {
		c, err := compile(s)
		if err != nil {
			return nil, fmt.Errorf("suppressions[%d]: %w", i, err)
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("suppressions[%d]: %w: duplicate id %q", i, ErrInvalid, s.ID)
		}
		seen[s.ID] = true
		set.list = append(set.list, c)
	}
	return set, nil
}

// List returns the suppressions.
func (set *Set) List() []Suppression {
	if set == nil {
		return nil
	}
	out := make([]Suppression, len(set.list))
	for i, c := range set.list {
		out[i] = c.s
	}
	return out
}

// With returns a new set with s added (or replacing the one with its id).
func (set *Set) With(s Suppression) (*Set, error) {
	list := slices.DeleteFunc(set.List(), func(x Suppression) bool { return x.ID == s.ID })
	return NewSet(append(list, s))
}

// Without returns a new set without the suppression id, and whether it was there.
func (set *Set) Without(id string) (*Set, bool) {
	list := set.List()
	n := len(list)
	list = slices.DeleteFunc(list, func(x Suppression) bool { return x.ID == id })
	out, _ := NewSet(list)
	return out, len(list) != n
}

// Match returns the id of the first suppression active at t whose matchers
// all match ls, or "".
func (set *Set) Match(ls map[string]string, t time.Time) string {
	if set == nil {
		return ""
	}
	for i := range set.list {
		c := &set.list[i]
		if c.active(t) && c.matches(ls) {
			return c.s.ID
		}
	}
	return ""
}

func (c *compiled) matches(ls map[string]string) bool {
	for _, m := range c.matchers {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// active reports whether the suppression covers t.
func (c *compiled) active(t time.Time) bool {
	if t.Before(c.s.StartsAt) || (!c.s.EndsAt.IsZero() && !t.Before(c.s.EndsAt)) {
		return false
	}
	if c.s.Schedule == nil {
		return true
	}
	lt := t.In(c.loc)
	// A window that started on this day or on one of the previous days
	// (a window may run past midnight) may cover t.
	for back := 0; back <= int(c.length/(24*time.Hour))+1; back++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()-back, 0, 0, 0, 0, c.loc)
		if !c.days[day.Weekday()] {
			continue
		}
		start := day.Add(c.start)
		if !lt.Before(start) && lt.Before(start.Add(c.length)) {
			return true
		}
	}
	return false
}
