package trend

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"
	"time"
)

// Result is a computed trend: the API's JSON reply.
type Result struct {
	Name string `json:"name"`
	// From and To are the range actually covered, widened to whole buckets.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Step Step      `json:"step"`
	// By is the breakdown: the query's dimension, the fixed one of levels
	// (level), analysts (analyst), rules (rule) and problems (problem), or
	// "" for none.
	By Dimension `json:"by"`
	// Method states how the figures were computed.
	Method string `json:"method"`
	// Series are the charts: one per measure, or per group and measure.
	Series []Series `json:"series"`
	// Table holds every figure; it is what format=csv returns.
	Table Table `json:"table"`
	// Models are the fitted trend lines of a projection, one per group.
	Models []Model `json:"models,omitempty"`
}

// Series is one line of a chart.
type Series struct {
	// Key identifies the series: the measure, or "group/measure" with a breakdown.
	Key     string `json:"key"`
	Measure string `json:"measure"`
	// Group is the value of the breakdown ("" without one).
	Group string `json:"group,omitempty"`
	// Unit is count, seconds, percent or ratio.
	Unit   string  `json:"unit"`
	Points []Point `json:"points"`
}

// Point is one bucket of a series; a null Value is unknown or undefined
// (no acknowledgement to average, a bucket in the future, a day before the
// store counted activity).
type Point struct {
	T     time.Time `json:"t"`
	Value *float64  `json:"value"`
}

// Table is the figures as rows; cells are strings, numbers or null.
type Table struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Units.
const (
	UnitCount   = "count"
	UnitSeconds = "seconds"
	UnitPercent = "percent"
	UnitRatio   = "ratio"
)

// Cell formats a table cell as the CSV shows it: numbers in the shortest
// exact form, null as the empty string.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return Time(x)
	default:
		return ""
	}
}

// Time formats a time as the results do: RFC 3339 in UTC.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Strings returns the rows formatted with Cell.
func (t Table) Strings() [][]string {
	out := make([][]string, len(t.Rows))
	for i, row := range t.Rows {
		out[i] = make([]string, len(row))
		for j, v := range row {
			out[i][j] = Cell(v)
		}
	}
	return out
}

// WriteCSV writes the table as CSV (RFC 4180): a header of the column
// names, then the rows.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Strings()); err != nil {
		return err
	}
	return cw.Error()
}

// num returns a rounded value for a table or a point; nil for NaN.
func num(v float64, unit string) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	switch unit {
	case UnitPercent, UnitRatio:
		v = math.Round(v*100) / 100
	case UnitSeconds:
		v = math.Round(v*1000) / 1000
	}
	return &v
}

// ratio returns a/b, or NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// pct returns 100*a/b, or NaN when b is 0.
func pct(a, b float64) float64 { return 100 * ratio(a, b) }

// nan is an unknown value.
var nan = math.NaN()

// measure is one column of a frame.
type measure struct {
	name string
	unit string
}

// frame is a grid of values: group x bucket x measure.
type frame struct {
	q        Query
	g        grid
	measures []measure
	groups   []string
	// groupCols names the group columns (one, or none without a breakdown);
	// split turns a group into their values.
	groupCols []string
	split     func(string) []any
	vals      map[string][][]float64 // group -> bucket -> measure
}

func newFrame(q Query, g grid, groups []string, ms ...measure) *frame {
	f := &frame{q: q, g: g, measures: ms, groups: groups, vals: map[string][][]float64{}}
	if q.By != None {
		f.groupCols = []string{string(q.By)}
	}
	for _, gr := range groups {
		rows := make([][]float64, g.len())
		for i := range rows {
			rows[i] = make([]float64, len(ms))
		}
		f.vals[gr] = rows
	}
	return f
}

// result builds the series and the table.
func (f *frame) result(method string) Result {
	res := Result{Name: f.q.Name, From: f.q.From, To: f.q.To, Step: f.q.Step, By: f.q.By, Method: method,
		Series: []Series{}, Table: Table{Rows: [][]any{}}}
	res.Table.Columns = append([]string{"t"}, f.groupCols...)
	for _, m := range f.measures {
		res.Table.Columns = append(res.Table.Columns, m.name)
	}
	for _, gr := range f.groups {
		for mi, m := range f.measures {
			s := Series{Key: m.name, Measure: m.name, Group: gr, Unit: m.unit, Points: make([]Point, f.g.len())}
			if len(f.groupCols) > 0 {
				s.Key = gr + "/" + m.name
			}
			for b := range s.Points {
				s.Points[b] = Point{T: f.g.starts[b], Value: num(f.vals[gr][b][mi], m.unit)}
			}
			res.Series = append(res.Series, s)
		}
	}
	for b, t := range f.g.starts {
		for _, gr := range f.groups {
			row := []any{Time(t)}
			if len(f.groupCols) > 0 {
				if f.split != nil {
					row = append(row, f.split(gr)...)
				} else {
					row = append(row, gr)
				}
			}
			for mi, m := range f.measures {
				if v := num(f.vals[gr][b][mi], m.unit); v != nil {
					row = append(row, *v)
				} else {
					row = append(row, nil)
				}
			}
			res.Table.Rows = append(res.Table.Rows, row)
		}
	}
	return res
}
