package suppress

import (
	"errors"
	"strings"
	"testing"
	"time"

	_ "time/tzdata"
)

func TestMatchRangeAndSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC) // a Monday
	set, err := NewSet([]Suppression{
		{ID: "s1", Matchers: []string{`alertname="DiskFull"`, `instance=~"db-.*"`}, StartsAt: t0, EndsAt: t0.Add(2 * time.Hour)},
		{ID: "mw", Matchers: []string{`cluster="prod"`}, StartsAt: t0.Add(-48 * time.Hour),
			Schedule: &Schedule{Weekdays: []string{"sat", "sun"}, Start: "23:00", Duration: "4h", TimeZone: "Europe/Madrid"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	disk := map[string]string{"alertname": "DiskFull", "instance": "db-1"}
	for _, tc := range []struct {
		ls   map[string]string
		at   time.Time
		want string
	}{
		{disk, t0.Add(time.Hour), "s1"},
		{disk, t0.Add(-time.Second), ""},
		{disk, t0.Add(2 * time.Hour), ""},
		{map[string]string{"alertname": "DiskFull", "instance": "web-1"}, t0.Add(time.Hour), ""},
		// Saturday 23:30 Madrid = 22:30 UTC, and Sunday 02:00 Madrid (the window runs past midnight).
		{map[string]string{"cluster": "prod"}, time.Date(2026, 1, 10, 22, 30, 0, 0, time.UTC), "mw"},
		{map[string]string{"cluster": "prod"}, time.Date(2026, 1, 11, 1, 0, 0, 0, time.UTC), "mw"},
		// Monday 01:00 Madrid: Sunday's window 23:00-03:00 covers it.
		{map[string]string{"cluster": "prod"}, time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), "mw"},
		// Friday 23:30 Madrid: not a window day.
		{map[string]string{"cluster": "prod"}, time.Date(2026, 1, 9, 22, 30, 0, 0, time.UTC), ""},
	} {
		if got := set.Match(tc.ls, tc.at); got != tc.want {
			t.Errorf("Match(%v, %v) = %q, want %q", tc.ls, tc.at, got, tc.want)
		}
	}
	less, ok := set.Without("s1")
	if !ok || less.Match(disk, t0.Add(time.Hour)) != "" || len(less.List()) != 1 {
		t.Error("Without did not remove s1")
	}
}

func TestValidateNamesField(t *testing.T) {
	t0 := time.Now()
	for _, tc := range []struct {
		s    Suppression
		want string
	}{
		{Suppression{Matchers: []string{`a="b"`}, StartsAt: t0}, "id"},
		{Suppression{ID: "x", StartsAt: t0}, "matchers"},
		{Suppression{ID: "x", Matchers: []string{`a=~"(`}, StartsAt: t0}, "matchers[0]"},
		{Suppression{ID: "x", Matchers: []string{`a="b"`}}, "starts_at"},
		{Suppression{ID: "x", Matchers: []string{`a="b"`}, StartsAt: t0, EndsAt: t0}, "ends_at"},
		{Suppression{ID: "x", Matchers: []string{`a="b"`}, StartsAt: t0, Schedule: &Schedule{Start: "25:00", Duration: "1h"}}, "schedule.start"},
		{Suppression{ID: "x", Matchers: []string{`a="b"`}, StartsAt: t0, Schedule: &Schedule{Start: "01:00", Duration: "0s"}}, "schedule.duration"},
		{Suppression{ID: "x", Matchers: []string{`a="b"`}, StartsAt: t0, Schedule: &Schedule{Weekdays: []string{"funday"}, Start: "01:00", Duration: "1h"}}, "schedule.weekdays[0]"},
	} {
		err := tc.s.Validate()
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.s, err, tc.want)
		}
	}
}
