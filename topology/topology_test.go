package topology

import (
	"errors"
	"strings"
	"testing"
)

const sample = `
cis:
  - id: core-dc1
    type: router
  - id: sw-dc1-a
    type: switch
    depends_on: [core-dc1]
  - id: sw-dc1-b
    type: switch
    depends_on: [core-dc1]
  - id: host-dc1-a-01
    type: host
    service: payments
    aliases: ["10.1.0.11"]
    depends_on: [sw-dc1-a]
  - id: host-dc1-a-02
    type: host
    depends_on: [sw-dc1-a]
  - id: host-dc1-b-01
    type: host
    depends_on: [sw-dc1-b]
`

func mustParse(t *testing.T, s string) *Topology {
	t.Helper()
	top, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func TestParseAndMap(t *testing.T) {
	top := mustParse(t, sample)
	if top.Len() != 6 {
		t.Fatalf("len = %d", top.Len())
	}
	for _, tc := range []struct {
		labels    map[string]string
		ci, label string
	}{
		{map[string]string{"instance": "host-dc1-a-01:9100"}, "host-dc1-a-01", "instance"},
		{map[string]string{"instance": "10.1.0.11:9100", "job": "node"}, "host-dc1-a-01", "instance"},
		{map[string]string{"ci": "sw-dc1-a", "instance": "host-dc1-a-01"}, "sw-dc1-a", "ci"},
		{map[string]string{"job": "core-dc1"}, "core-dc1", "job"},
		{map[string]string{"instance": "unknown:9100", "job": "node"}, "", ""},
		{map[string]string{"instance": "[::1]:9100"}, "", ""},
	} {
		ci, label := top.Map(tc.labels)
		if ci != tc.ci || label != tc.label {
			t.Errorf("Map(%v) = %q, %q; want %q, %q", tc.labels, ci, label, tc.ci, tc.label)
		}
	}
	if got := top.Ancestors("host-dc1-a-01", 1); len(got) != 1 || got[0].ID != "sw-dc1-a" {
		t.Errorf("ancestors within 1 hop = %v", got)
	}
	if got := top.Ancestors("host-dc1-a-01", 5); len(got) != 2 || got[1] != (Hop{"core-dc1", 2}) {
		t.Errorf("ancestors = %v", got)
	}
	if got := top.Descendants("core-dc1", 1); len(got) != 2 {
		t.Errorf("descendants = %v", got)
	}
	if got := strings.Join(top.Path("host-dc1-a-02", "core-dc1", 3), ">"); got != "host-dc1-a-02>sw-dc1-a>core-dc1" {
		t.Errorf("path = %s", got)
	}
	if got := top.Path("host-dc1-a-02", "core-dc1", 1); got != nil {
		t.Errorf("path beyond hops = %v", got)
	}
	if a, ok := top.CommonAncestor([]string{"host-dc1-a-01", "host-dc1-a-02"}, 3); !ok || a != "sw-dc1-a" {
		t.Errorf("common ancestor = %q %v", a, ok)
	}
	if a, ok := top.CommonAncestor([]string{"host-dc1-a-01", "host-dc1-b-01"}, 3); !ok || a != "core-dc1" {
		t.Errorf("common ancestor across switches = %q %v", a, ok)
	}
	if _, ok := top.CommonAncestor([]string{"host-dc1-a-01", "host-dc1-b-01"}, 1); ok {
		t.Error("common ancestor found beyond the hop bound")
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown dependency", "cis:\n  - id: a\n    depends_on: [b]\n", `depends on unknown CI "b"`},
		{"duplicate id", "cis:\n  - id: a\n  - id: a\n", `duplicate id or alias "a"`},
		{"alias clash", "cis:\n  - id: a\n  - id: b\n    aliases: [a]\n", `alias "a" is already`},
		{"cycle", "cis:\n  - id: a\n    depends_on: [c]\n  - id: b\n    depends_on: [a]\n  - id: c\n    depends_on: [b]\n", "dependency cycle"},
		{"self", "cis:\n  - id: a\n    depends_on: [a]\n", "depends on itself"},
		{"unknown field", "cis:\n  - id: a\n    color: red\n", "color"},
		{"missing id", "cis:\n  - type: host\n", "cis[0].id is required"},
		{"bad json", `{"cis": [{"id": 1}]}`, "cannot unmarshal"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestCycleIsNamed(t *testing.T) {
	_, err := Parse([]byte("cis:\n  - id: a\n    depends_on: [b]\n  - id: b\n    depends_on: [a]\n"))
	if err == nil || !strings.Contains(err.Error(), "a -> b -> a") && !strings.Contains(err.Error(), "b -> a -> b") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"cis":[{"id":"a","depends_on":["b"]},{"id":"b"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		top, err := Parse(b)
		if err != nil {
			return
		}
		for _, c := range top.CIs() {
			top.Ancestors(c.ID, 4)
			top.Map(map[string]string{"instance": c.ID + ":1"})
		}
	})
}
