package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Alertmanager webhook v4 (notify/webhook.Message), fields in Go's order.
type amMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Grafana webhook v1 (grafana/alerting receivers/webhook/v1), fields in
// Go's order.
type grafanaMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []grafanaAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	OrgID             int64             `json:"orgId"`
	Title             string            `json:"title"`
	State             string            `json:"state"`
	Message           string            `json:"message"`
}

type grafanaAlert struct {
	Status       string             `json:"status"`
	Labels       map[string]string  `json:"labels"`
	Annotations  map[string]string  `json:"annotations"`
	StartsAt     string             `json:"startsAt"`
	EndsAt       string             `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	Values       map[string]float64 `json:"values"`
	ValueString  string             `json:"valueString"`
	OrgID        int64              `json:"orgId"`
}

// Generic events (contract §2).
type eventsMessage struct {
	Events []eventJSON `json:"events"`
}

type eventJSON struct {
	Source      string            `json:"source"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at,omitempty"`
}

var externalURLs = []string{"http://alertmanager-0.example.com:9093", "http://alertmanager-1.example.com:9093"}

const grafanaURL = "http://grafana.example.com/"

func status(resolved bool) string {
	if resolved {
		return "resolved"
	}
	return "firing"
}

// common returns the label pairs every map of ms has.
func common(ms []map[string]string) map[string]string {
	out := map[string]string{}
	if len(ms) == 0 {
		return out
	}
	for k, v := range ms[0] {
		all := true
		for _, m := range ms[1:] {
			if w, ok := m[k]; !ok || w != v {
				all = false
				break
			}
		}
		if all {
			out[k] = v
		}
	}
	return out
}

func groupStatus(as []alertState) string {
	for _, a := range as {
		if !a.resolved {
			return "firing"
		}
	}
	return "resolved"
}

// body renders the delivery's JSON body exactly as its sender would.
func (d *delivery) body() ([]byte, error) {
	switch d.source {
	case SourceAlertmanager:
		return json.Marshal(d.amMessage())
	case SourceGrafana:
		return json.Marshal(d.grafanaMessage())
	default:
		return json.Marshal(d.eventsMessage())
	}
}

func (d *delivery) amMessage() amMessage {
	m := amMessage{Receiver: d.grp.receiver, Status: groupStatus(d.alerts), GroupLabels: d.grp.labels,
		ExternalURL: externalURLs[d.peer], Version: "4", GroupKey: d.grp.key}
	var ls, as []map[string]string
	for _, a := range d.alerts {
		end := zeroTime
		if a.resolved {
			end = a.ep.endText
		}
		m.Alerts = append(m.Alerts, amAlert{Status: status(a.resolved), Labels: a.ep.labels, Annotations: a.ep.annotations,
			StartsAt: a.ep.startText, EndsAt: end, GeneratorURL: a.ep.genURL, Fingerprint: a.ep.fp})
		ls = append(ls, a.ep.labels)
		as = append(as, a.ep.annotations)
	}
	m.CommonLabels, m.CommonAnnotations = common(ls), common(as)
	return m
}

func (d *delivery) grafanaMessage() grafanaMessage {
	st := groupStatus(d.alerts)
	m := grafanaMessage{Receiver: d.grp.receiver, Status: st, GroupLabels: d.grp.labels, ExternalURL: grafanaURL,
		Version: "1", GroupKey: d.grp.key, OrgID: 1, State: "alerting"}
	if st == "resolved" {
		m.State = "ok"
	}
	var ls, as []map[string]string
	var firing, resolved []grafanaAlert
	for _, a := range d.alerts {
		ga := grafanaAlertOf(a, d.at)
		m.Alerts = append(m.Alerts, ga)
		if a.resolved {
			resolved = append(resolved, ga)
		} else {
			firing = append(firing, ga)
		}
		ls = append(ls, a.ep.labels)
		as = append(as, a.ep.annotations)
	}
	m.CommonLabels, m.CommonAnnotations = common(ls), common(as)
	m.Title = grafanaTitle(st, len(firing), m.GroupLabels, m.CommonLabels)
	m.Message = grafanaText(firing, resolved)
	return m
}

func grafanaAlertOf(a alertState, now time.Time) grafanaAlert {
	ep := a.ep
	end, to := zeroTime, now
	c := 1.0
	if a.resolved {
		end, to, c = ep.endText, ep.end, 0
	}
	var matchers []string
	matchers = append(matchers, "matcher="+queryEscape("__alert_rule_uid__="+ep.uid))
	var target []string
	for _, k := range sortedKeys(ep.labels) {
		if k == "alertname" || k == "grafana_folder" {
			continue
		}
		matchers = append(matchers, "matcher="+queryEscape(k+"="+ep.labels[k]))
		if k == "instance" || k == "service" {
			target = append(target, k+"="+ep.labels[k])
		}
	}
	dash := fmt.Sprintf("%sd/%s?from=%d&orgId=1&to=%d", grafanaURL, strings.ToLower(ep.labels["grafana_folder"])+"-overview",
		ep.start.Add(-time.Hour).UnixMilli(), to.UnixMilli())
	lbl := "{" + strings.Join(target, ", ") + "}"
	vs := fmt.Sprintf("[ var='B' labels=%s value=%s ], [ var='C' labels=%s value=%s ]", lbl,
		strconv.FormatFloat(ep.value, 'f', -1, 64), lbl, strconv.FormatFloat(c, 'f', -1, 64))
	return grafanaAlert{Status: status(a.resolved), Labels: ep.labels, Annotations: ep.annotations,
		StartsAt: ep.startText, EndsAt: end, GeneratorURL: ep.genURL, Fingerprint: ep.fp,
		SilenceURL:   grafanaURL + "alerting/silence/new?alertmanager=grafana&" + strings.Join(matchers, "&") + "&orgId=1",
		DashboardURL: dash, PanelURL: dash + "&viewPanel=2",
		Values:      map[string]float64{"B": ep.value, "C": c},
		ValueString: vs, OrgID: 1}
}

// grafanaTitle renders Grafana's default.title template.
func grafanaTitle(st string, nFiring int, gl, cl map[string]string) string {
	var b strings.Builder
	if st == "firing" {
		fmt.Fprintf(&b, "[FIRING:%d] ", nFiring)
	} else {
		b.WriteString("[RESOLVED] ")
	}
	var vals []string
	for _, k := range sortedKeys(gl) {
		vals = append(vals, gl[k])
	}
	b.WriteString(strings.Join(vals, " "))
	if len(cl) > len(gl) {
		var rest []string
		for _, k := range sortedKeys(cl) {
			if _, ok := gl[k]; !ok {
				rest = append(rest, cl[k])
			}
		}
		b.WriteString(" (" + strings.Join(rest, " ") + ")")
	}
	return b.String()
}

// grafanaText renders Grafana's default.message template.
func grafanaText(firing, resolved []grafanaAlert) string {
	var b strings.Builder
	list := func(as []grafanaAlert) {
		for _, a := range as {
			fmt.Fprintf(&b, "\nValue: B=%s, C=%s\nLabels:\n", strconv.FormatFloat(a.Values["B"], 'f', -1, 64),
				strconv.FormatFloat(a.Values["C"], 'f', -1, 64))
			for _, k := range sortedKeys(a.Labels) {
				fmt.Fprintf(&b, " - %s = %s\n", k, a.Labels[k])
			}
			b.WriteString("Annotations:\n")
			for _, k := range sortedKeys(a.Annotations) {
				fmt.Fprintf(&b, " - %s = %s\n", k, a.Annotations[k])
			}
			fmt.Fprintf(&b, "Source: %s\nSilence: %s\nDashboard: %s\nPanel: %s\n", a.GeneratorURL, a.SilenceURL, a.DashboardURL, a.PanelURL)
		}
	}
	if len(firing) > 0 {
		b.WriteString("**Firing**\n")
		list(firing)
		if len(resolved) > 0 {
			b.WriteString("\n\n")
		}
	}
	if len(resolved) > 0 {
		b.WriteString("**Resolved**\n")
		list(resolved)
	}
	return b.String()
}

func (d *delivery) eventsMessage() eventsMessage {
	var m eventsMessage
	for _, a := range d.alerts {
		ep := a.ep
		e := eventJSON{Source: ep.evSource, Status: status(a.resolved), Severity: ep.evSeverity, Summary: ep.evSummary,
			Labels: ep.labels, Annotations: ep.annotations, StartsAt: ep.startText}
		if ep.evSendFP {
			e.Fingerprint = ep.fp
		}
		if a.resolved {
			e.EndsAt = ep.endText
		}
		m.Events = append(m.Events, e)
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// replayLine renders one line of the replay file (contract §3).
func (d *delivery) replayLine(buf *bytes.Buffer) error {
	body, err := d.body()
	if err != nil {
		return err
	}
	buf.WriteString(`{"received_at":"`)
	buf.WriteString(d.at.UTC().Format(receivedFormat))
	buf.WriteString(`","source":"`)
	buf.WriteString(d.source)
	buf.WriteString(`","body":`)
	buf.Write(body)
	buf.WriteString("}\n")
	return nil
}
