package trend

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Model is the trend line a projection fitted to one group's monthly counts.
type Model struct {
	// Group is the breakdown value ("" without a breakdown).
	Group string `json:"group,omitempty"`
	// Months is how many complete months were fitted, From (the first
	// month's start) to To (the last month's end).
	Months int       `json:"months"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// Intercept is the fitted count of the first month; SlopePerMonth is
	// the fitted change per month.
	Intercept     float64 `json:"intercept"`
	SlopePerMonth float64 `json:"slope_per_month"`
	// R2 is the coefficient of determination (null when every month had
	// the same count).
	R2 *float64 `json:"r2"`
	// MAETrend is the mean absolute error of the line over the fitted
	// months; MAESeasonalNaive that of the seasonal-naive forecast (the
	// same month a year earlier) over the fitted months where it exists
	// (SeasonalMonths of them; null when none).
	MAETrend         float64  `json:"mae_trend"`
	MAESeasonalNaive *float64 `json:"mae_seasonal_naive"`
	SeasonalMonths   int      `json:"seasonal_months"`
}

const methodProjection = "Monthly projection of the incidents opened (opened_at, UTC calendar months). Trend line: " +
	"ordinary least squares of the count on the month index x = 0..N-1 over the N complete months of the range " +
	"(a month is complete when it ended by the time of the request), count = intercept + slope_per_month * x, " +
	"extended over the next `horizon` months (negative projections are shown as 0). Check: the seasonal-naive " +
	"forecast, the count of the same month a year earlier (null before the first month with data); models " +
	"give both mean absolute errors over the fitted months. kind is history for fitted months, projection after."

func projection(q Query, rows []IncidentRow) Result {
	months := q.completeMonths()
	n := len(months)
	fitFrom, fitTo := months[0], months[n-1].AddDate(0, 1, 0)
	dataFrom := q.From.AddDate(-1, 0, 0)
	// All months from a year before the range to the end of the projection.
	var all []time.Time
	for t := dataFrom; t.Before(fitTo.AddDate(0, q.Horizon, 0)); t = t.AddDate(0, 1, 0) {
		all = append(all, t)
	}
	g := grid{starts: all, to: fitTo}
	// The first month with data: earlier months have no seasonal value.
	var firstData time.Time
	for i := range rows {
		if t := rows[i].OpenedAt; !t.Before(dataFrom) && t.Before(fitTo) && (firstData.IsZero() || t.Before(firstData)) {
			firstData = t
		}
	}
	firstData = Month.Floor(firstData)
	var kept []*IncidentRow
	for i := range rows {
		if g.index(rows[i].OpenedAt) >= 0 {
			kept = append(kept, &rows[i])
		}
	}
	w := map[string]int{}
	for _, r := range kept {
		if !r.OpenedAt.Before(fitFrom) {
			w[q.By.Of(r)]++
		}
	}
	groups, keep := []string{""}, func(string) string { return "" }
	if q.By != None {
		groups, keep = rank(w, q.Limit)
	}
	counts := map[string][]float64{}
	for _, gr := range groups {
		counts[gr] = make([]float64, len(all))
	}
	for _, r := range kept {
		counts[keep(q.By.Of(r))][g.index(r.OpenedAt)]++
	}
	first := len(all) - n - q.Horizon // index of the first fitted month
	res := Result{Name: q.Name, From: q.From, To: q.To, Step: q.Step, By: q.By, Series: []Series{},
		Table: Table{Columns: []string{"t"}, Rows: [][]any{}}}
	if q.By != None {
		res.Table.Columns = append(res.Table.Columns, string(q.By))
	}
	res.Table.Columns = append(res.Table.Columns, "kind", "actual", "trend", "seasonal_naive")
	type line struct{ actual, trend, seasonal []*float64 }
	lines := map[string]line{}
	for _, gr := range groups {
		c := counts[gr]
		var sx, sy float64
		for i := range n {
			sx += float64(i)
			sy += c[first+i]
		}
		mx, my := sx/float64(n), sy/float64(n)
		var sxx, sxy, stot float64
		for i := range n {
			dx, dy := float64(i)-mx, c[first+i]-my
			sxx += dx * dx
			sxy += dx * dy
			stot += dy * dy
		}
		slope := sxy / sxx
		icpt := my - slope*mx
		seasonal := func(k int) *float64 {
			j := k - 12
			if j < 0 || j >= first+n || all[j].Before(firstData) {
				return nil
			}
			return num(c[j], UnitCount)
		}
		m := Model{Group: gr, Months: n, From: fitFrom, To: fitTo, Intercept: round4(icpt), SlopePerMonth: round4(slope)}
		var sres, maeT, maeS float64
		l := line{}
		for k := first; k < len(all); k++ {
			x := float64(k - first)
			fit := icpt + slope*x
			s := seasonal(k)
			if k < first+n {
				y := c[k]
				sres += (y - fit) * (y - fit)
				maeT += math.Abs(y - fit)
				if s != nil {
					maeS += math.Abs(y - *s)
					m.SeasonalMonths++
				}
				l.actual = append(l.actual, num(y, UnitCount))
			} else {
				fit = max(fit, 0)
				l.actual = append(l.actual, nil)
			}
			l.trend = append(l.trend, num(fit, UnitRatio)) // a count, to 2 decimals
			l.seasonal = append(l.seasonal, s)
		}
		if stot > 0 {
			r2 := round4(1 - sres/stot)
			m.R2 = &r2
		}
		m.MAETrend = round4(maeT / float64(n))
		if m.SeasonalMonths > 0 {
			v := round4(maeS / float64(m.SeasonalMonths))
			m.MAESeasonalNaive = &v
		}
		res.Models = append(res.Models, m)
		lines[gr] = l
	}
	for _, gr := range groups {
		l := lines[gr]
		for _, s := range []struct {
			name string
			vals []*float64
			unit string
		}{{"actual", l.actual, UnitCount}, {"trend", l.trend, UnitCount}, {"seasonal_naive", l.seasonal, UnitCount}} {
			sr := Series{Key: s.name, Measure: s.name, Group: gr, Unit: s.unit, Points: make([]Point, len(s.vals))}
			if q.By != None {
				sr.Key = gr + "/" + s.name
			}
			for i, v := range s.vals {
				sr.Points[i] = Point{T: all[first+i], Value: v}
			}
			res.Series = append(res.Series, sr)
		}
	}
	for i := range n + q.Horizon {
		for _, gr := range groups {
			l := lines[gr]
			kind := "history"
			if i >= n {
				kind = "projection"
			}
			row := []any{Time(all[first+i])}
			if q.By != None {
				row = append(row, gr)
			}
			row = append(row, kind, cell(l.actual[i]), cell(l.trend[i]), cell(l.seasonal[i]))
			res.Table.Rows = append(res.Table.Rows, row)
		}
	}
	res.Method = methodProjection
	if q.By == None {
		m := res.Models[0]
		r2 := "undefined"
		if m.R2 != nil {
			r2 = describe(*m.R2)
		}
		var b strings.Builder
		fmt.Fprintf(&b, " Fitted over %d months from %s to %s: count = %s %+.4g * x (per month), R2 %s, MAE %s",
			m.Months, m.From.Format("2006-01"), m.To.AddDate(0, -1, 0).Format("2006-01"), describe(m.Intercept), m.SlopePerMonth, r2, describe(m.MAETrend))
		if m.MAESeasonalNaive != nil {
			fmt.Fprintf(&b, "; seasonal naive MAE %s over %d months.", describe(*m.MAESeasonalNaive), m.SeasonalMonths)
		} else {
			b.WriteString("; no seasonal-naive check (no data a year before).")
		}
		res.Method += b.String()
	}
	return res
}

func cell(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
