package incident

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Madrid without a system zone database
)

func madrid(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// business is 09:00-17:00 Monday to Friday in Madrid, with Epiphany
// (Tuesday 2026-01-06) as a holiday.
func business(t *testing.T) Calendar {
	t.Helper()
	nine := []string{"09:00-17:00"}
	cal, err := CalendarConfig{
		TimeZone: "Europe/Madrid",
		Hours:    WeekHours{Monday: nine, Tuesday: nine, Wednesday: nine, Thursday: nine, Friday: nine},
		Holidays: []string{"2026-01-06"},
	}.Compile("business")
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func TestCalendarAddAndElapsed(t *testing.T) {
	loc := madrid(t)
	cal := business(t)
	at := func(month time.Month, day, h, m, s int) time.Time {
		return time.Date(2026, month, day, h, m, s, 0, loc)
	}
	cases := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"within the day", at(1, 5, 10, 0, 0), 2 * time.Hour, at(1, 5, 12, 0, 0)},
		{"ends at closing", at(1, 5, 16, 0, 0), time.Hour, at(1, 5, 17, 0, 0)},
		{"before opening", at(1, 5, 6, 30, 0), time.Hour, at(1, 5, 10, 0, 0)},
		{"after closing", at(1, 5, 20, 0, 0), time.Hour, at(1, 7, 10, 0, 0)}, // Tue is a holiday
		{"over the holiday", at(1, 5, 16, 30, 0), time.Hour, at(1, 7, 9, 30, 0)},
		{"over the weekend", at(1, 9, 16, 0, 0), 2 * time.Hour, at(1, 12, 10, 0, 0)},
		{"from Saturday", at(1, 10, 12, 0, 0), 90 * time.Minute, at(1, 12, 10, 30, 0)},
		{"to the second", at(1, 9, 16, 59, 59), 2 * time.Second, at(1, 12, 9, 0, 1)},
		{"over summer time", at(3, 27, 16, 0, 0), 2 * time.Hour, at(3, 30, 10, 0, 0)},
		{"a whole week", at(1, 12, 9, 0, 0), 40 * time.Hour, at(1, 16, 17, 0, 0)},
		{"zero", at(1, 10, 12, 0, 0), 0, at(1, 10, 12, 0, 0)},
	}
	for _, c := range cases {
		got := cal.Add(c.start, c.d)
		if !got.Equal(c.want) {
			t.Errorf("%s: Add(%s, %s) = %s, want %s", c.name, c.start, c.d, got.In(loc), c.want)
		}
		if c.d > 0 {
			if e := cal.Elapsed(c.start, got); e != c.d {
				t.Errorf("%s: Elapsed back = %s, want %s", c.name, e, c.d)
			}
		}
	}
	if e := cal.Elapsed(at(1, 9, 12, 0, 0), at(1, 12, 12, 0, 0)); e != 8*time.Hour {
		t.Errorf("Fri noon to Mon noon: %s", e)
	}
	if e := cal.Elapsed(at(1, 5, 12, 0, 0), at(1, 5, 11, 0, 0)); e != 0 {
		t.Errorf("backwards: %s", e)
	}

	// 24x7 with a holiday in a zone: the DST day has 23 hours.
	cal24, err := CalendarConfig{TimeZone: "Europe/Madrid", Holidays: []string{"2026-03-29"}}.Compile("h")
	if err != nil {
		t.Fatal(err)
	}
	if e := cal24.Elapsed(at(3, 28, 0, 0, 0), at(3, 31, 0, 0, 0)); e != 48*time.Hour {
		t.Errorf("24x7 with holiday on DST day: %s", e)
	}
	if got := cal24.Add(at(3, 28, 23, 0, 0), 2*time.Hour); !got.Equal(at(3, 30, 1, 0, 0)) {
		t.Errorf("24x7 Add over holiday: %s", got)
	}
	var zero Calendar
	if !zero.Is24x7() || zero.Add(t0, time.Hour) != t0.Add(time.Hour) || zero.Elapsed(t0, t0.Add(time.Hour)) != time.Hour {
		t.Error("zero calendar is not 24x7")
	}
}

func TestCalendarConfigErrors(t *testing.T) {
	for _, cc := range []CalendarConfig{
		{TimeZone: "Mars/Olympus"},
		{Hours: WeekHours{Monday: []string{"17:00-09:00"}}},
		{Hours: WeekHours{Monday: []string{"9-17"}}},
		{Hours: WeekHours{Monday: []string{"09:00-25:00"}}},
		{Hours: WeekHours{Monday: []string{"09:00-13:00", "12:00-17:00"}}},
		{Holidays: []string{"06/01/2026"}},
	} {
		if _, err := cc.Compile("x"); err == nil {
			t.Errorf("%+v: no error", cc)
		}
	}
	c, err := CalendarConfig{Hours: WeekHours{Sunday: []string{"13:00-24:00", "08:00-12:00"}}}.Compile("x")
	if err != nil || len(c.Week[time.Sunday]) != 2 || c.Week[time.Sunday][0].From != 8*time.Hour || c.Week[time.Sunday][1].To != 24*time.Hour {
		t.Errorf("split day: %v %+v", err, c.Week[time.Sunday])
	}
}

// TestEvaluate checks the SLA clocks on business hours, to the second.
// The incident opens Friday 2026-01-09 15:30 Madrid; respond target 1h,
// resolve target 8h, at risk at 75%.
func TestEvaluate(t *testing.T) {
	loc := madrid(t)
	cal := business(t)
	at := func(day, h, m, s int) time.Time { return time.Date(2026, 1, day, h, m, s, 0, loc) }
	ptr := func(t time.Time) *time.Time { return &t }
	p := Policy{Respond: Duration(time.Hour), Resolve: Duration(8 * time.Hour), AtRisk: 0.75, Calendar: "business"}
	opened := at(9, 15, 30, 0)
	// Resolve: 1h30 on Friday, 6h30 on Monday -> Monday 15:30; at risk after
	// 6h -> Monday 13:30.
	type clk struct {
		state    ClockState
		due      time.Time
		atRisk   time.Time
		elapsed  time.Duration
		breached *time.Time
	}
	cases := []struct {
		name       string
		ack, res   *time.Time
		pauses     []Interval
		now        time.Time
		respond    clk
		resolve    clk
		wantPaused bool
	}{
		{name: "just opened", now: opened,
			respond: clk{ClockOK, at(9, 16, 30, 0), at(9, 16, 15, 0), 0, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 0, nil}},
		{name: "one second before at risk", now: at(9, 16, 14, 59),
			respond: clk{ClockOK, at(9, 16, 30, 0), at(9, 16, 15, 0), 44*time.Minute + 59*time.Second, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 44*time.Minute + 59*time.Second, nil}},
		{name: "at risk to the second", now: at(9, 16, 15, 0),
			respond: clk{ClockAtRisk, at(9, 16, 30, 0), at(9, 16, 15, 0), 45 * time.Minute, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 45 * time.Minute, nil}},
		{name: "one second before breach", now: at(9, 16, 29, 59),
			respond: clk{ClockAtRisk, at(9, 16, 30, 0), at(9, 16, 15, 0), time.Hour - time.Second, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), time.Hour - time.Second, nil}},
		{name: "breached to the second", now: at(9, 16, 30, 0),
			respond: clk{ClockBreached, at(9, 16, 30, 0), at(9, 16, 15, 0), time.Hour, ptr(at(9, 16, 30, 0))},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), time.Hour, nil}},
		{name: "acknowledged at the due second is met", ack: ptr(at(9, 16, 30, 0)), now: at(9, 18, 0, 0),
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), time.Hour, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 90 * time.Minute, nil}},
		{name: "acknowledged a second late", ack: ptr(at(9, 16, 30, 1)), now: at(9, 18, 0, 0),
			respond: clk{ClockBreached, at(9, 16, 30, 0), at(9, 16, 15, 0), time.Hour + time.Second, ptr(at(9, 16, 30, 0))},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 90 * time.Minute, nil}},
		{name: "weekend does not count", ack: ptr(at(9, 15, 40, 0)), now: at(11, 23, 0, 0),
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve: clk{ClockOK, at(12, 15, 30, 0), at(12, 13, 30, 0), 90 * time.Minute, nil}},
		{name: "resolve at risk Monday", ack: ptr(at(9, 15, 40, 0)), now: at(12, 13, 30, 0),
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve: clk{ClockAtRisk, at(12, 15, 30, 0), at(12, 13, 30, 0), 6 * time.Hour, nil}},
		{name: "resolve breached Monday", ack: ptr(at(9, 15, 40, 0)), now: at(12, 15, 30, 0),
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve: clk{ClockBreached, at(12, 15, 30, 0), at(12, 13, 30, 0), 8 * time.Hour, ptr(at(12, 15, 30, 0))}},
		{name: "a pause moves due and at risk", ack: ptr(at(9, 15, 40, 0)), now: at(12, 15, 30, 0),
			pauses:  []Interval{{Start: at(12, 10, 0, 0), End: at(12, 11, 0, 0)}},
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve: clk{ClockAtRisk, at(12, 16, 30, 0), at(12, 14, 30, 0), 7 * time.Hour, nil}},
		{name: "pause one second before at risk", ack: ptr(at(9, 15, 40, 0)), now: at(12, 14, 29, 59),
			pauses:  []Interval{{Start: at(12, 10, 0, 0), End: at(12, 11, 0, 0)}},
			respond: clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve: clk{ClockOK, at(12, 16, 30, 0), at(12, 14, 30, 0), 6*time.Hour - time.Second, nil}},
		{name: "open pause: clocks stopped, due assumes resume now", ack: ptr(at(9, 15, 40, 0)), now: at(12, 12, 0, 0),
			pauses:     []Interval{{Start: at(12, 10, 0, 0)}},
			respond:    clk{ClockMet, at(9, 16, 30, 0), at(9, 16, 15, 0), 10 * time.Minute, nil},
			resolve:    clk{ClockOK, at(13, 9, 30, 0), at(12, 15, 30, 0), 150 * time.Minute, nil},
			wantPaused: true},
		{name: "a pause overlapping closed hours and a weekend", now: at(12, 9, 15, 0),
			pauses:  []Interval{{Start: at(9, 16, 0, 0), End: at(12, 9, 10, 0)}},
			respond: clk{ClockOK, at(12, 9, 40, 0), at(12, 9, 25, 0), 35 * time.Minute, nil},
			resolve: clk{ClockOK, at(12, 16, 40, 0), at(12, 14, 40, 0), 35 * time.Minute, nil}},
		{name: "resolved without acknowledgement stops both", res: ptr(at(12, 9, 30, 0)), now: at(20, 9, 0, 0),
			respond: clk{ClockBreached, at(9, 16, 30, 0), at(9, 16, 15, 0), 2 * time.Hour, ptr(at(9, 16, 30, 0))},
			resolve: clk{ClockMet, at(12, 15, 30, 0), at(12, 13, 30, 0), 2 * time.Hour, nil}},
	}
	for _, c := range cases {
		st := Evaluate(p, cal, opened, c.ack, c.res, c.pauses, c.now)
		for _, x := range []struct {
			name string
			got  Clock
			want clk
		}{{"respond", st.Respond, c.respond}, {"resolve", st.Resolve, c.resolve}} {
			g, w := x.got, x.want
			if g.State != w.state || !g.Due.Equal(w.due) || !g.AtRiskAt.Equal(w.atRisk) || time.Duration(g.Elapsed) != w.elapsed ||
				(g.BreachedAt == nil) != (w.breached == nil) || (w.breached != nil && !g.BreachedAt.Equal(*w.breached)) {
				t.Errorf("%s: %s = {%s due %s risk %s elapsed %s breached %v}, want {%s due %s risk %s elapsed %s breached %v}",
					c.name, x.name, g.State, g.Due.In(loc), g.AtRiskAt.In(loc), time.Duration(g.Elapsed), g.BreachedAt,
					w.state, w.due, w.atRisk, w.elapsed, w.breached)
			}
			if g.Remaining != Duration(time.Hour*time.Duration(map[string]int{"respond": 1, "resolve": 8}[x.name]))-g.Elapsed {
				t.Errorf("%s: %s remaining %s", c.name, x.name, g.Remaining)
			}
		}
		if st.Paused != c.wantPaused {
			t.Errorf("%s: paused %v", c.name, st.Paused)
		}
	}
}

// TestEvaluateHoliday: opened Monday 16:00 before the Tuesday holiday; the
// 8h resolve target is due Wednesday 16:00.
func TestEvaluateHoliday(t *testing.T) {
	loc := madrid(t)
	p := Policy{Respond: Duration(2 * time.Hour), Resolve: Duration(8 * time.Hour), AtRisk: 0.8}
	opened := time.Date(2026, 1, 5, 16, 0, 0, 0, loc)
	st := Evaluate(p, business(t), opened, nil, nil, nil, time.Date(2026, 1, 6, 12, 0, 0, 0, loc))
	if want := time.Date(2026, 1, 7, 10, 0, 0, 0, loc); !st.Respond.Due.Equal(want) || st.Respond.State != ClockOK ||
		time.Duration(st.Respond.Elapsed) != time.Hour {
		t.Errorf("respond: %+v", st.Respond)
	}
	// 0.8 * 2h = 1h36m: Monday 1h, Wednesday 36m.
	if want := time.Date(2026, 1, 7, 9, 36, 0, 0, loc); !st.Respond.AtRiskAt.Equal(want) {
		t.Errorf("respond at risk %s", st.Respond.AtRiskAt.In(loc))
	}
	if want := time.Date(2026, 1, 7, 16, 0, 0, 0, loc); !st.Resolve.Due.Equal(want) {
		t.Errorf("resolve due %s", st.Resolve.Due.In(loc))
	}
	// 0.8 * 8h = 6h24m: Monday 1h, Wednesday 5h24m.
	if want := time.Date(2026, 1, 7, 14, 24, 0, 0, loc); !st.Resolve.AtRiskAt.Equal(want) {
		t.Errorf("resolve at risk %s", st.Resolve.AtRiskAt.In(loc))
	}
}

func TestEvaluateNoTargetAndNoRisk(t *testing.T) {
	st := Evaluate(Policy{Resolve: Duration(time.Hour)}, Calendar{}, t0, nil, nil, nil, t0.Add(59*time.Minute))
	if st.Respond.State != ClockNone || st.Resolve.State != ClockOK || !st.Resolve.AtRiskAt.IsZero() {
		t.Errorf("%+v", st)
	}
}
