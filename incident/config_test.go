package incident

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// file mirrors the top level of Vigia's config file.
type file struct {
	Incident Config `yaml:"incident"`
}

func parse(t *testing.T, src string) (Config, error) {
	t.Helper()
	f := file{Incident: DefaultConfig()}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, err
	}
	return f.Incident, f.Incident.Validate()
}

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestGoodConfig(t *testing.T) {
	b, err := os.ReadFile("testdata/conf.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	w := mustWorkflow(t, c)
	// The partial matrix row overrides only what it names: high.low is now P2.
	if p, _, _ := w.Priority("sev1", 0, 0); p != P2 {
		t.Errorf("sev1 with unknown impact (low): %s", p)
	}
	if c.PriorityMatrix.High.Medium != P1 || c.PriorityMatrix.Medium.Medium != P3 {
		t.Errorf("matrix: %+v", c.PriorityMatrix)
	}
	if c.Urgency.Urgency("SEV1") != High || c.Urgency.Urgency("critical") != High || c.Urgency.Urgency("whatever") != Low {
		t.Errorf("urgency: %+v", c.Urgency)
	}
	// Structs merge field by field: impact.medium keeps the default services: 1.
	if c.Impact.Impact(5, 0) != Medium || c.Impact.Impact(0, 1) != Medium || c.Impact.Impact(1, 0) != Low || c.Impact.Impact(0, 3) != High || c.Impact.Impact(0, 0) != Low {
		t.Errorf("impact: %+v", c.Impact)
	}
	// Policies given replace those entries; the others keep their defaults.
	if c.SLA.Policies["P1"].Respond != Duration(15*time.Minute) || c.SLA.Policies["P4"].Resolve != Duration(5*24*time.Hour) {
		t.Errorf("policies: %+v", c.SLA.Policies)
	}
	in := &Incident{Priority: P5, OpenedAt: t0}
	name, p, cal := w.Policy(in)
	if name != "P5" || p.AtRisk != 0.9 || cal.Name != "business" || cal.Location.String() != "Europe/Madrid" {
		t.Errorf("P5 policy: %s %+v %s", name, p, cal.Name)
	}
	if _, p, _ := w.Policy(&Incident{Priority: P2}); p.AtRisk != 0.75 || p.Calendar != Calendar24x7 {
		t.Errorf("P2 policy: %+v", p)
	}
	if len(c.EscalationRules) != 3 || c.EscalationRules[2].ToLevel != L3 || c.EscalationRules[1].NotResolvedWithin != Duration(48*time.Hour) {
		t.Errorf("escalation rules: %+v", c.EscalationRules)
	}
	cat, sub, ok := w.Categories().Match(map[string]string{"alertname": "LinkDown", "job": "snmp"})
	if !ok || cat != "network" || sub != "link" {
		t.Errorf("category: %s %s %v", cat, sub, ok)
	}
}

func TestBadConfig(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"reject_reasons: []", "incident.reject_reasons: at least one"},
		{"reject_reasons: [Noise]", "incident.reject_reasons[0]"},
		{"closure_codes: [fixed, fixed]", "incident.closure_codes[1]: duplicate"},
		{"priority_matrix: {low: {high: P1}}", "incident.priority_matrix.low.high: P1 ranks above medium.high"},
		{"urgency: {default: urgent}", "unknown level"},
		{"impact: {high: {cis: -1}}", "incident.impact.high"},
		{"major: {priorities: [P9]}", "unknown priority"},
		{"assignment: {default_level: L7}", "unknown support level"},
		{"assignment: {level_groups: {L9: x}}", "incident.assignment.level_groups.L9"},
		{"assignment: {level_groups: {L2: ''}}", "incident.assignment.level_groups.L2: group must not be empty"},
		{"sla: {at_risk: 1.5}", "incident.sla.at_risk"},
		{"sla: {policies: {P1: {resolve: 4h}}}", "incident.sla.policies[P1].respond: must be positive"},
		{"sla: {policies: {P1: {respond: 5h, resolve: 4h}}}", "incident.sla.policies[P1].respond: must not exceed resolve"},
		{"sla: {policies: {P6: {respond: 1h, resolve: 4h}}}", "incident.sla.policies[P6]"},
		{"sla: {policies: {P1: {respond: 1h, resolve: 4h, calendar: office}}}", "incident.sla.policies[P1].calendar: unknown calendar \"office\""},
		{"sla: {major: {respond: 0s, resolve: 1h}}", "incident.sla.major.respond"},
		{"sla: {default_calendar: office}", "incident.sla.default_calendar"},
		{"sla: {calendars: {office: {time_zone: Mars/Base}}}", "incident.sla.calendars.office.time_zone"},
		{"sla: {calendars: {office: {hours: {monday: ['17:00-09:00']}}}}", "incident.sla.calendars.office.hours.monday[0]"},
		{"sla: {calendars: {office: {holidays: [tomorrow]}}}", "incident.sla.calendars.office.holidays[0]"},
		{"sla: {calendars: {24x7: {}}}", "incident.sla.calendars.24x7: the name is reserved"},
		{"categories: [{name: net}, {name: net}]", "incident.categories[1].name: duplicate"},
		{"category_rules: [{matchers: ['a=~\"(\"'], category: network}]", "incident.category_rules[0].matchers[0]"},
		{"category_rules: [{matchers: ['a=b'], category: weather}]", "incident.category_rules[0]: invalid incident request: unknown category"},
		{"category_rules: [{category: network}]", "incident.category_rules[0].matchers"},
		{"escalation_rules: [{not_resolved_within: 1h}]", "incident.escalation_rules[0].name"},
		{"escalation_rules: [{name: a}]", "incident.escalation_rules[0]: set exactly one"},
		{"escalation_rules: [{name: a, not_resolved_within: 1h, not_acknowledged_within: 1h}]", "incident.escalation_rules[0]: set exactly one"},
		{"escalation_rules: [{name: a, not_resolved_within: 1h}, {name: a, not_resolved_within: 2h}]", "incident.escalation_rules[1].name: duplicate"},
		{"escalation_rules: [{name: a, not_resolved_within: 1h, action: page}]", "incident.escalation_rules[0].action"},
		{"escalation_rules: [{name: a, not_resolved_within: 1h, action: notify, to_level: L3}]", "incident.escalation_rules[0].to_level"},
		{"escalation_rules: [{name: a, not_resolved_within: soon}]", "invalid duration"},
		{"sla: {at_risk_share: 0.5}", "field at_risk_share not found"},
	}
	for _, c := range cases {
		src := "incident:\n" + indent(c.yaml)
		_, err := parse(t, src)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: got %v, want an error containing %q", c.yaml, err, c.key)
		}
	}
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n" }

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "7d": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "7days", "d", "1.5d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): no error", bad)
		}
	}
	for d, want := range map[Duration]string{Duration(15 * time.Minute): "15m", Duration(4 * time.Hour): "4h",
		Duration(90 * time.Minute): "1h30m", Duration(90 * time.Second): "1m30s", 0: "0s"} {
		if d.String() != want {
			t.Errorf("%d: %s, want %s", d, d, want)
		}
	}
}
