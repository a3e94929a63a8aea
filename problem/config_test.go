package problem

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Schedule != "*/15 * * * *" || c.MinIncidents != 3 || c.Window.D() != 14*24*time.Hour ||
		c.QuietFor.D() != 30*24*time.Hour || c.RemarkableFactor != 2 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestConfigValidateNamesKey(t *testing.T) {
	cases := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Schedule = "every now and then" }, "problem.schedule"},
		{func(c *Config) { c.Schedule = "" }, "problem.schedule"},
		{func(c *Config) { c.MinIncidents = 1 }, "problem.min_incidents"},
		{func(c *Config) { c.Window = 0 }, "problem.window"},
		{func(c *Config) { c.QuietFor = -1 }, "problem.quiet_for"},
		{func(c *Config) { c.RemarkableFactor = 0.5 }, "problem.remarkable_factor"},
		{func(c *Config) { c.ScopeLabels = []string{"cluster", "bad-label"} }, "problem.scope_labels[1]"},
		{func(c *Config) { c.ClassLabels = []string{""} }, "problem.class_labels[0]"},
		{func(c *Config) { c.VolatilePatterns = []string{"ok", "[unclosed"} }, "problem.volatile_patterns[1]"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+":") {
			t.Errorf("want error naming %s, got %v", tc.want, err)
		}
	}
	c := DefaultConfig()
	c.Schedule = "@every 10m"
	if err := c.Validate(); err != nil {
		t.Errorf("descriptor schedule: %v", err)
	}
}

func TestConfigYAML(t *testing.T) {
	var doc struct {
		Problem Config `yaml:"problem"`
	}
	doc.Problem = DefaultConfig()
	src := `
problem:
  schedule: "0 * * * *"
  min_incidents: 4
  window: 7d
  quiet_for: 36h
  remarkable_factor: 3
  by_ci: false
  volatile_patterns: ['^tenant-[a-z]+-']
`
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Problem
	if c.Schedule != "0 * * * *" || c.MinIncidents != 4 || c.Window.D() != 7*24*time.Hour || c.QuietFor.D() != 36*time.Hour ||
		c.RemarkableFactor != 3 || c.ByCI || !c.ByClass || len(c.ScopeLabels) == 0 || c.VolatilePatterns[0] != "^tenant-[a-z]+-" {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	bad := yaml.NewDecoder(strings.NewReader("problem:\n  window: fortnight\n"))
	if err := bad.Decode(&doc); err == nil || !strings.Contains(err.Error(), "fortnight") {
		t.Errorf("bad duration: %v", err)
	}
	unknown := yaml.NewDecoder(strings.NewReader("problem:\n  min_incident: 3\n"))
	unknown.KnownFields(true)
	if err := unknown.Decode(&doc); err == nil {
		t.Error("unknown key accepted")
	}
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil || !strings.Contains(string(out), "window: 14d") {
		t.Errorf("marshal: %s, %v", out, err)
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "0d": 0} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "-3d", "two weeks"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"30d"`), &d); err != nil || d.D() != 30*24*time.Hour {
		t.Errorf("json: %v, %v", d, err)
	}
	if b, _ := json.Marshal(Duration(90 * time.Minute)); string(b) != `"1h30m0s"` {
		t.Errorf("json marshal: %s", b)
	}
	if err := json.Unmarshal([]byte(`30`), &d); err == nil {
		t.Error("number accepted")
	}
}
