package incident

import (
	"errors"
	"testing"
)

func TestCategories(t *testing.T) {
	tree := []Category{{Name: "network", Subcategories: []string{"link", "routing"}}, {Name: "other"}}
	rules := []CategoryRule{
		{Matchers: []string{`alertname=~"BGP.*"`}, Category: "network", Subcategory: "routing"},
		{Matchers: []string{`job="snmp"`, `alertname!="Ping"`}, Category: "network"},
	}
	c, err := NewCategories(tree, rules, "category", "subcategory")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		labels   map[string]string
		cat, sub string
		ok       bool
	}{
		{map[string]string{"alertname": "BGPDown", "job": "snmp"}, "network", "routing", true},
		{map[string]string{"alertname": "IfDown", "job": "snmp"}, "network", "", true},
		{map[string]string{"alertname": "Ping", "job": "snmp"}, "", "", false},
		{map[string]string{"alertname": "X", "category": "network", "subcategory": "link"}, "network", "link", true},
		{map[string]string{"alertname": "X", "category": "network", "subcategory": "nope"}, "network", "", true},
		{map[string]string{"alertname": "X", "category": "weather"}, "", "", false},
	} {
		cat, sub, ok := c.Match(x.labels)
		if cat != x.cat || sub != x.sub || ok != x.ok {
			t.Errorf("%v: %q %q %v", x.labels, cat, sub, ok)
		}
	}
	if err := c.Check("network", "bgp"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Check: %v", err)
	}
	if err := c.Check("other", ""); err != nil {
		t.Error(err)
	}
	if _, err := NewCategories([]Category{{Name: "a", Subcategories: []string{"x", "x"}}}, nil, "", ""); err == nil {
		t.Error("duplicate subcategory accepted")
	}
	c, _ = NewCategories(tree, nil, "", "")
	if _, _, ok := c.Match(map[string]string{"category": "network"}); ok {
		t.Error("label fallback when disabled")
	}
}
