package sim

import (
	"slices"
	"strings"
	"time"
)

// Recurrence: what makes a recurring problem, and how the generator keeps
// one-off faults one-off (see the package documentation).

// Recurrence thresholds of the truth: Vigia's default problem detection
// (min_incidents 3, window 14d).
const (
	RecurMin    = 3
	RecurWindow = 14 * 24 * time.Hour
)

// recurMargin widens the window the generator checks one-off faults
// against, so that the offset between a fault's start and the opening of
// its incident (delivery delays, group_wait) cannot matter.
const recurMargin = 24 * time.Hour

// scopeLabels are the labels that identify the target of an alert that maps
// to no CI: the Prometheus target (job, instance), where it runs (cluster,
// namespace) and the other identifying labels of Vigia's default signature
// scope. Other labels (zone, cronjob, queue, topic, domain, backup_set,
// product, ...) do not tell targets apart: two alerts that differ only in
// them are, for recurrence, the same alert on the same target.
var scopeLabels = []string{"cluster", "namespace", "service", "job", "instance", "host", "hostname", "node", "pod"}

// maxScopeValues: an incident whose alerts carry more distinct values of
// one scope label has "*" (many) for it, as Vigia's signatures do.
const maxScopeValues = 3

// stripPort removes a trailing ":port".
func stripPort(v string) string {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 || i == len(v)-1 || strings.ContainsRune(v[:i], ':') {
		return v
	}
	for _, c := range v[i+1:] {
		if c < '0' || c > '9' {
			return v
		}
	}
	return v[:i]
}

// alertScope is the target of one episode of a fault: the fault's
// root-cause CI when it has one (alerts on dependent CIs are symptoms of
// that fault, not faults of their own), else the episode's scope labels.
func alertScope(f *fault, ep *episode) string {
	if f.root != "" {
		return "ci=" + f.root
	}
	var b strings.Builder
	for _, l := range scopeLabels {
		if v, ok := ep.labels[l]; ok && v != "" {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(l + "=" + stripPort(v))
		}
	}
	if b.Len() == 0 {
		return "any"
	}
	return b.String()
}

// incidentScope is the target of a whole fault: its root-cause CI, else,
// per scope label, the distinct values its episodes carry ("*" for more
// than maxScopeValues).
func incidentScope(f *fault) string {
	if f.root != "" {
		return "ci=" + f.root
	}
	var parts []string
	for _, l := range scopeLabels {
		var vs []string
		for _, ep := range f.eps {
			if v, ok := ep.labels[l]; ok && v != "" {
				vs = append(vs, stripPort(v))
			}
		}
		if len(vs) == 0 {
			continue
		}
		slices.Sort(vs)
		vs = slices.Compact(vs)
		if len(vs) > maxScopeValues {
			vs = []string{"*"}
		}
		parts = append(parts, l+"="+strings.Join(vs, "|"))
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " ")
}

// recurKeys are the keys under which a fault counts for recurrence: one
// per alert and target ("DiskFull @ ci=host-dc1-a-01") and one for the
// whole fault, its sorted alert names and target ("DiskFull,
// DiskWillFillIn4Hours @ ci=host-dc1-a-01"). Alert names are those of the
// alert rules: a Grafana rule's title counts as the Prometheus alert it
// mirrors, so the keys are never finer than what Vigia sees.
func recurKeys(f *fault) []string {
	var keys, names []string
	for _, ep := range f.eps {
		keys = append(keys, ep.name+" @ "+alertScope(f, ep))
		names = append(names, ep.name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	keys = append(keys, "incident: "+strings.Join(names, ", ")+" @ "+incidentScope(f))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// firstStart is the earliest start of f's episodes.
func firstStart(f *fault) time.Time {
	t := f.start
	for _, ep := range f.eps {
		if ep.start.Before(t) {
			t = ep.start
		}
	}
	return t
}

// wouldRecur reports whether one more one-off occurrence of key at t would
// make RecurMin occurrences within one RecurWindow (plus recurMargin).
func (g *gen) wouldRecur(key string, t time.Time) bool {
	ts := g.oneOff[key]
	if len(ts)+1 < RecurMin {
		return false
	}
	all := append(slices.Clone(ts), t)
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	for i := 0; i+RecurMin-1 < len(all); i++ {
		if all[i+RecurMin-1].Sub(all[i]) <= RecurWindow+recurMargin {
			return true
		}
	}
	return false
}

// admit checks a fault about to be placed against the recurrence rule and
// records its keys. A recurring problem's occurrence owns its keys: no
// one-off fault may use them. A one-off fault is refused when one of its
// keys is owned by a problem or would recur RecurMin times within the
// window.
func (g *gen) admit(f *fault) bool {
	keys := recurKeys(f)
	if f.problem != "" {
		for _, k := range keys {
			g.owned[k] = f.problem
		}
		return true
	}
	t := firstStart(f)
	for _, k := range keys {
		if _, ok := g.owned[k]; ok || g.wouldRecur(k, t) {
			return false
		}
	}
	for _, k := range keys {
		g.oneOff[k] = append(g.oneOff[k], t)
	}
	return true
}
