package trend

import (
	"cmp"
	"slices"
	"strings"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
)

const methodNoise = "Noise reduction in its stages, per bucket of processing time (UTC): deliveries (webhook " +
	"requests received) -> alerts (alert notifications in them) -> episodes (new firing periods: alerts minus " +
	"repeats, the notifications of an episode already known) -> incidents (opened in the bucket). suppressed " +
	"are new episodes a suppression or maintenance window kept out of incidents. confirmed, rejected and merged " +
	"are the incidents opened in the bucket that were ever confirmed, are rejected, or were merged, as of now. " +
	"dedup_pct = repeats / alerts; suppressed_pct = suppressed / episodes; episodes_per_incident = (episodes - " +
	"suppressed) / incidents (flows in the same bucket: an episode may join an older incident); reduction_pct = " +
	"1 - incidents / alerts; confirmed_pct = confirmed / incidents. Engine counts are kept per UTC day of the " +
	"batch that carried them (a batch spanning midnight counts on its last day); buckets before the store " +
	"started counting per day have null engine counts."

var noiseMeasures = []measure{{"deliveries", UnitCount}, {"alerts", UnitCount}, {"repeats", UnitCount},
	{"episodes", UnitCount}, {"suppressed", UnitCount}, {"incidents", UnitCount}, {"confirmed", UnitCount},
	{"rejected", UnitCount}, {"merged", UnitCount}, {"dedup_pct", UnitPercent}, {"suppressed_pct", UnitPercent},
	{"episodes_per_incident", UnitRatio}, {"reduction_pct", UnitPercent}, {"confirmed_pct", UnitPercent}}

func noise(q Query, rows []IncidentRow, act Activity) Result {
	g := newGrid(q)
	f := newFrame(q, g, []string{""}, noiseMeasures...)
	v := f.vals[""]
	for _, d := range act.Days {
		if b := g.index(d.Day); b >= 0 {
			v[b][0] += float64(d.Deliveries)
			v[b][1] += float64(d.Alerts)
			v[b][2] += float64(d.Repeats)
			v[b][3] += float64(d.Alerts - d.Repeats)
			v[b][4] += float64(d.Suppressed)
		}
	}
	for i := range rows {
		r := &rows[i]
		b := g.index(r.OpenedAt)
		if b < 0 {
			continue
		}
		v[b][5]++
		if !r.ConfirmedAt.IsZero() {
			v[b][6]++
		}
		if r.Status == incident.StatusRejected {
			v[b][7]++
		}
		if r.Status == incident.StatusMerged {
			v[b][8]++
		}
	}
	for b, start := range g.starts {
		x := v[b]
		if !act.Since.IsZero() && start.Before(act.Since) {
			for m := 0; m <= 4; m++ {
				x[m] = nan
			}
		}
		x[9] = pct(x[2], x[1])
		x[10] = pct(x[4], x[3])
		x[11] = ratio(x[3]-x[4], x[5])
		x[12] = 100 - pct(x[5], x[1])
		x[13] = pct(x[6], x[5])
	}
	return f.result(methodNoise)
}

const methodRules = "Precision of each grouping method and rule, from the analysts' feedback, per bucket (UTC) of " +
	"the decision: confirmed and rejected count each incident once, by its last confirm or reject in the range " +
	"(an incident rejected, reopened and confirmed counts as confirmed); precision_pct = confirmed / (confirmed + " +
	"rejected). merges and moves count the corrections (an incident merged into another, alerts moved out), " +
	"alerts_moved the alerts they moved. incidents counts the incidents the rule opened in the bucket. " +
	"Automatic confirmations are not feedback."

var ruleMeasures = []measure{{"incidents", UnitCount}, {"confirmed", UnitCount}, {"rejected", UnitCount},
	{"precision_pct", UnitPercent}, {"merges", UnitCount}, {"moves", UnitCount}, {"alerts_moved", UnitCount}}

func ruleKey(method, rule string) string {
	if method == "" {
		method = NoValue
	}
	return method + "/" + rule
}

func rules(q Query, rows []IncidentRow, fb []FeedbackRow) Result {
	g := newGrid(q)
	// The last decision of each incident.
	last := map[string]int{}
	for i, f := range fb {
		if f.Decision != DecisionConfirm && f.Decision != DecisionReject || g.index(f.At) < 0 {
			continue
		}
		if j, ok := last[f.IncidentID]; !ok || !f.At.Before(fb[j].At) {
			last[f.IncidentID] = i
		}
	}
	w := map[string]int{}
	for i := range rows {
		if g.index(rows[i].OpenedAt) >= 0 {
			w[ruleKey(rows[i].Method, rows[i].Rule)]++
		}
	}
	for _, f := range fb {
		if g.index(f.At) >= 0 {
			w[ruleKey(f.Method, f.Rule)]++
		}
	}
	groups, keep := rank(w, q.Limit)
	f := newFrame(q, g, groups, ruleMeasures...)
	f.groupCols = []string{"method", "rule"}
	f.split = func(k string) []any {
		if k == Other {
			return []any{Other, ""}
		}
		m, r, _ := strings.Cut(k, "/")
		return []any{m, r}
	}
	for i := range rows {
		if b := g.index(rows[i].OpenedAt); b >= 0 {
			f.vals[keep(ruleKey(rows[i].Method, rows[i].Rule))][b][0]++
		}
	}
	for i, x := range fb {
		b := g.index(x.At)
		if b < 0 {
			continue
		}
		v := f.vals[keep(ruleKey(x.Method, x.Rule))][b]
		switch x.Decision {
		case DecisionConfirm, DecisionReject:
			if last[x.IncidentID] != i {
				continue
			}
			if x.Decision == DecisionConfirm {
				v[1]++
			} else {
				v[2]++
			}
		case DecisionMerge:
			v[4]++
			v[6] += float64(x.Alerts)
		case DecisionMove:
			v[5]++
			v[6] += float64(x.Alerts)
		}
	}
	for _, gr := range groups {
		for _, v := range f.vals[gr] {
			v[3] = pct(v[1], v[1]+v[2])
		}
	}
	return f.result(methodRules)
}

const methodProblems = "Top recurring problems (candidates and confirmed problems, each with its signature), ranked " +
	"by their member incidents opened in the range, then by all their member incidents, then by id; problems " +
	"with no member incident in the range are left out. The series count each listed problem's member incidents " +
	"per bucket of opened_at (UTC)."

var problemColumns = []string{"problem_id", "status", "kind", "signature", "incidents", "incidents_total",
	"first_seen", "last_seen", "recurrences", "known_error"}

func problems(q Query, ps []problem.Problem) Result {
	g := newGrid(q)
	type ranked struct {
		p  *problem.Problem
		in int
	}
	var list []ranked
	for i := range ps {
		n := 0
		for _, m := range ps[i].Members {
			if g.index(m.OpenedAt) >= 0 {
				n++
			}
		}
		if n > 0 {
			list = append(list, ranked{&ps[i], n})
		}
	}
	slices.SortFunc(list, func(a, b ranked) int {
		if c := cmp.Compare(b.in, a.in); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.p.Members), len(a.p.Members)); c != 0 {
			return c
		}
		return cmp.Compare(a.p.ID, b.p.ID)
	})
	if len(list) > q.Limit {
		list = list[:q.Limit]
	}
	res := Result{Name: q.Name, From: q.From, To: q.To, Step: q.Step, By: q.By, Method: methodProblems,
		Series: []Series{}, Table: Table{Columns: problemColumns, Rows: [][]any{}}}
	for _, x := range list {
		p := x.p
		known := p.Status == problem.StatusKnownError || p.RootCause != ""
		res.Table.Rows = append(res.Table.Rows, []any{p.ID, p.Status.String(), p.Kind.String(), p.Signature,
			int64(x.in), int64(len(p.Members)), Time(p.FirstSeen), Time(p.LastSeen), int64(p.Recurrences), known})
		s := Series{Key: p.ID, Measure: "incidents", Group: p.ID, Unit: UnitCount, Points: make([]Point, g.len())}
		counts := make([]float64, g.len())
		for _, m := range p.Members {
			if b := g.index(m.OpenedAt); b >= 0 {
				counts[b]++
			}
		}
		for b := range s.Points {
			s.Points[b] = Point{T: g.starts[b], Value: num(counts[b], UnitCount)}
		}
		res.Series = append(res.Series, s)
	}
	return res
}
