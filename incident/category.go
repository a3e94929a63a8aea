package incident

import (
	"fmt"
	"slices"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Category is one node of the category tree (incident.categories).
type Category struct {
	Name          string   `yaml:"name" json:"name"`
	Subcategories []string `yaml:"subcategories" json:"subcategories,omitempty"`
}

// CategoryRule sets category and subcategory on incidents whose alert
// labels match (incident.category_rules). Rules are tried in order.
type CategoryRule struct {
	// Matchers in Alertmanager's syntax, all of which must match:
	// `alertname=~"Link.*"`, `job="snmp"`.
	Matchers    []string `yaml:"matchers" json:"matchers"`
	Category    string   `yaml:"category" json:"category"`
	Subcategory string   `yaml:"subcategory" json:"subcategory,omitempty"`
}

// Categories is a compiled category tree with its assignment rules.
// It is immutable and safe for concurrent use.
type Categories struct {
	tree     map[string][]string
	rules    []categoryRule
	catLabel string
	subLabel string
}

type categoryRule struct {
	matchers labels.Matchers
	cat, sub string
}

// NewCategories compiles a tree and its rules. catLabel and subLabel name
// alert labels that may carry a category and subcategory directly (used
// when no rule matches and the values exist in the tree); empty disables.
// Errors name the key below incident.
func NewCategories(tree []Category, rules []CategoryRule, catLabel, subLabel string) (*Categories, error) {
	c := &Categories{tree: map[string][]string{}, catLabel: catLabel, subLabel: subLabel}
	for i, n := range tree {
		key := fmt.Sprintf("categories[%d]", i)
		if n.Name == "" {
			return nil, fmt.Errorf("%s.name: is required", key)
		}
		if _, dup := c.tree[n.Name]; dup {
			return nil, fmt.Errorf("%s.name: duplicate category %q", key, n.Name)
		}
		for j, s := range n.Subcategories {
			if s == "" || slices.Index(n.Subcategories, s) != j {
				return nil, fmt.Errorf("%s.subcategories[%d]: empty or duplicate subcategory %q", key, j, s)
			}
		}
		c.tree[n.Name] = slices.Clone(n.Subcategories)
	}
	for i, r := range rules {
		key := fmt.Sprintf("category_rules[%d]", i)
		if len(r.Matchers) == 0 {
			return nil, fmt.Errorf("%s.matchers: at least one matcher is required", key)
		}
		cr := categoryRule{cat: r.Category, sub: r.Subcategory}
		for j, s := range r.Matchers {
			ms, err := labels.ParseMatchers(s)
			if err != nil {
				return nil, fmt.Errorf("%s.matchers[%d]: %w", key, j, err)
			}
			cr.matchers = append(cr.matchers, ms...)
		}
		if err := c.Check(r.Category, r.Subcategory); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		c.rules = append(c.rules, cr)
	}
	return c, nil
}

// Check reports whether category and subcategory exist in the tree. An
// empty subcategory is accepted.
func (c *Categories) Check(category, subcategory string) error {
	subs, ok := c.tree[category]
	if !ok {
		return fmt.Errorf("%w: unknown category %q", ErrInvalidRequest, category)
	}
	if subcategory != "" && !slices.Contains(subs, subcategory) {
		return fmt.Errorf("%w: unknown subcategory %q of category %q", ErrInvalidRequest, subcategory, category)
	}
	return nil
}

// Match returns the category of the first rule whose matchers all match ls;
// else the category carried by the category labels when it is in the tree.
func (c *Categories) Match(ls map[string]string) (category, subcategory string, ok bool) {
	for _, r := range c.rules {
		if matchAll(r.matchers, ls) {
			return r.cat, r.sub, true
		}
	}
	if c.catLabel == "" {
		return "", "", false
	}
	cat := ls[c.catLabel]
	if cat == "" {
		return "", "", false
	}
	sub := ""
	if c.subLabel != "" {
		sub = ls[c.subLabel]
	}
	if c.Check(cat, sub) != nil {
		if c.Check(cat, "") != nil {
			return "", "", false
		}
		sub = ""
	}
	return cat, sub, true
}

func matchAll(ms labels.Matchers, ls map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}
