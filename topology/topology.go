// Package topology holds the configuration items (CIs) of the estate and
// their dependencies (contract §4): loading and validation, the mapping of
// an alert's labels to a CI, and bounded graph queries (ancestors within a
// number of hops, paths, nearest common ancestors) for topology grouping and
// root-cause inference.
//
// A Topology is immutable once built and safe for concurrent use; replacing
// the topology means building a new one.
package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// CI is one configuration item.
type CI struct {
	ID        string   `yaml:"id" json:"id"`
	Type      string   `yaml:"type" json:"type"`
	DependsOn []string `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	Service   string   `yaml:"service,omitempty" json:"service,omitempty"`
	Aliases   []string `yaml:"aliases,omitempty" json:"aliases,omitempty"`
}

// File is the document format of contract §4.
type File struct {
	CIs []CI `yaml:"cis" json:"cis"`
}

// DefaultLabels are the alert labels tried, in order, to find an alert's CI.
var DefaultLabels = []string{"ci", "instance", "host", "hostname", "node", "pod", "service", "job"}

// Limits bound a topology so that a hostile file cannot exhaust memory.
const (
	MaxCIs       = 1_000_000
	MaxDependsOn = 256
)

// Topology is a validated CI graph.
type Topology struct {
	cis      []CI
	index    map[string]int // id or alias -> position in cis
	parents  [][]int32
	children [][]int32
	labels   []string
}

// ErrInvalid wraps every validation error.
var ErrInvalid = errors.New("invalid topology")

// Parse decodes YAML or JSON (JSON is YAML) strictly and validates it.
func Parse(b []byte) (*Topology, error) {
	var f File
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return New(f.CIs, nil)
}

// Load reads a topology file.
func Load(path string) (*Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	return t, nil
}

// New validates cis and builds the graph. labels is the mapping label list
// (nil: DefaultLabels). Unknown dependencies, duplicate ids or aliases and
// dependency cycles are errors that name the CI.
func New(cis []CI, labels []string) (*Topology, error) {
	if len(cis) > MaxCIs {
		return nil, fmt.Errorf("%w: %d CIs is over the limit of %d", ErrInvalid, len(cis), MaxCIs)
	}
	if labels == nil {
		labels = DefaultLabels
	}
	t := &Topology{cis: make([]CI, len(cis)), index: make(map[string]int, len(cis)), labels: labels,
		parents: make([][]int32, len(cis)), children: make([][]int32, len(cis))}
	copy(t.cis, cis)
	for i, c := range t.cis {
		if c.ID == "" {
			return nil, fmt.Errorf("%w: cis[%d].id is required", ErrInvalid, i)
		}
		if strings.ContainsAny(c.ID, " \t\n") {
			return nil, fmt.Errorf("%w: cis[%d].id %q has white space", ErrInvalid, i, c.ID)
		}
		if _, dup := t.index[c.ID]; dup {
			return nil, fmt.Errorf("%w: cis[%d]: duplicate id or alias %q", ErrInvalid, i, c.ID)
		}
		t.index[c.ID] = i
	}
	for i, c := range t.cis {
		for _, a := range c.Aliases {
			if a == "" {
				return nil, fmt.Errorf("%w: CI %q has an empty alias", ErrInvalid, c.ID)
			}
			if j, dup := t.index[a]; dup && j != i {
				return nil, fmt.Errorf("%w: CI %q: alias %q is already the id or alias of %q", ErrInvalid, c.ID, a, t.cis[j].ID)
			}
			t.index[a] = i
		}
		if len(c.DependsOn) > MaxDependsOn {
			return nil, fmt.Errorf("%w: CI %q depends on %d CIs, over the limit of %d", ErrInvalid, c.ID, len(c.DependsOn), MaxDependsOn)
		}
		seen := map[int]bool{}
		for _, d := range c.DependsOn {
			j, ok := t.index[d]
			if !ok || t.cis[j].ID != d {
				return nil, fmt.Errorf("%w: CI %q depends on unknown CI %q", ErrInvalid, c.ID, d)
			}
			if j == i {
				return nil, fmt.Errorf("%w: CI %q depends on itself", ErrInvalid, c.ID)
			}
			if seen[j] {
				continue
			}
			seen[j] = true
			t.parents[i] = append(t.parents[i], int32(j))
			t.children[j] = append(t.children[j], int32(i))
		}
	}
	if cyc := t.findCycle(); cyc != nil {
		return nil, fmt.Errorf("%w: dependency cycle %s", ErrInvalid, strings.Join(cyc, " -> "))
	}
	return t, nil
}

// findCycle returns one dependency cycle as CI ids, or nil.
func (t *Topology) findCycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(t.cis))
	parentOf := make([]int32, len(t.cis))
	type frame struct{ node, next int32 }
	for start := range t.cis {
		if color[start] != white {
			continue
		}
		stack := []frame{{int32(start), 0}}
		color[start] = grey
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if int(f.next) < len(t.parents[f.node]) {
				p := t.parents[f.node][f.next]
				f.next++
				switch color[p] {
				case white:
					color[p] = grey
					parentOf[p] = f.node
					stack = append(stack, frame{p, 0})
				case grey:
					cyc := []string{t.cis[p].ID}
					for n := f.node; n != p; n = parentOf[n] {
						cyc = append(cyc, t.cis[n].ID)
					}
					cyc = append(cyc, t.cis[p].ID)
					for i, j := 0, len(cyc)-1; i < j; i, j = i+1, j-1 {
						cyc[i], cyc[j] = cyc[j], cyc[i]
					}
					return cyc
				}
				continue
			}
			color[f.node] = black
			stack = stack[:len(stack)-1]
		}
	}
	return nil
}

// Len returns the number of CIs.
func (t *Topology) Len() int {
	if t == nil {
		return 0
	}
	return len(t.cis)
}

// CIs returns a copy of the CIs.
func (t *Topology) CIs() []CI {
	if t == nil {
		return nil
	}
	out := make([]CI, len(t.cis))
	copy(out, t.cis)
	return out
}

// Get returns the CI with the given id (not alias).
func (t *Topology) Get(id string) (CI, bool) {
	if t == nil {
		return CI{}, false
	}
	i, ok := t.index[id]
	if !ok || t.cis[i].ID != id {
		return CI{}, false
	}
	return t.cis[i], true
}

// StripPort removes a trailing ":port" from a label value.
func StripPort(v string) string {
	if h, _, err := net.SplitHostPort(v); err == nil {
		return h
	}
	i := strings.LastIndexByte(v, ':')
	if i <= 0 || i == len(v)-1 || strings.Count(v, ":") > 1 {
		return v
	}
	for _, r := range v[i+1:] {
		if r < '0' || r > '9' {
			return v
		}
	}
	return v[:i]
}

// Map returns the CI an alert's labels refer to: the first mapping label
// whose value, without a trailing :port, is a CI id or alias. It also
// returns the label that matched.
func (t *Topology) Map(labels map[string]string) (ci, label string) {
	if t == nil {
		return "", ""
	}
	return t.MapWith(t.labels, labels)
}

// MapWith is Map with another list of mapping labels.
func (t *Topology) MapWith(names []string, labels map[string]string) (ci, label string) {
	if t == nil || len(t.cis) == 0 {
		return "", ""
	}
	for _, name := range names {
		v, ok := labels[name]
		if !ok || v == "" {
			continue
		}
		if i, ok := t.index[v]; ok {
			return t.cis[i].ID, name
		}
		if i, ok := t.index[StripPort(v)]; ok {
			return t.cis[i].ID, name
		}
	}
	return "", ""
}

// Ancestors returns the CIs that id depends on, directly or transitively,
// within maxHops, with their distance in hops, nearest first.
func (t *Topology) Ancestors(id string, maxHops int) []Hop {
	return t.walk(id, maxHops, t.parents)
}

// Descendants returns the CIs that depend on id within maxHops.
func (t *Topology) Descendants(id string, maxHops int) []Hop {
	return t.walk(id, maxHops, t.children)
}

// Hop is a CI at a distance.
type Hop struct {
	ID   string
	Hops int
}

func (t *Topology) walk(id string, maxHops int, edges [][]int32) []Hop {
	if t == nil {
		return nil
	}
	start, ok := t.index[id]
	if !ok || t.cis[start].ID != id {
		return nil
	}
	seen := map[int32]bool{int32(start): true}
	frontier := []int32{int32(start)}
	var out []Hop
	for h := 1; h <= maxHops && len(frontier) > 0; h++ {
		var next []int32
		for _, n := range frontier {
			for _, m := range edges[n] {
				if !seen[m] {
					seen[m] = true
					next = append(next, m)
					out = append(out, Hop{ID: t.cis[m].ID, Hops: h})
				}
			}
		}
		frontier = next
	}
	return out
}

// Path returns the dependency path from id up to ancestor (both included)
// if ancestor is reachable within maxHops, shortest first.
func (t *Topology) Path(id, ancestor string, maxHops int) []string {
	if t == nil {
		return nil
	}
	s, ok1 := t.index[id]
	a, ok2 := t.index[ancestor]
	if !ok1 || !ok2 || t.cis[s].ID != id || t.cis[a].ID != ancestor {
		return nil
	}
	if s == a {
		return []string{id}
	}
	prev := map[int32]int32{int32(s): -1}
	frontier := []int32{int32(s)}
	for h := 1; h <= maxHops && len(frontier) > 0; h++ {
		var next []int32
		for _, n := range frontier {
			for _, m := range t.parents[n] {
				if _, seen := prev[m]; seen {
					continue
				}
				prev[m] = n
				if int(m) == a {
					var path []string
					for x := m; x != -1; x = prev[x] {
						path = append(path, t.cis[x].ID)
					}
					for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
						path[i], path[j] = path[j], path[i]
					}
					return path
				}
				next = append(next, m)
			}
		}
		frontier = next
	}
	return nil
}

// CommonAncestor returns the nearest CI that every one of ids depends on
// within maxHops (the one with the smallest greatest distance; ties by id).
func (t *Topology) CommonAncestor(ids []string, maxHops int) (string, bool) {
	if t == nil || len(ids) == 0 {
		return "", false
	}
	worst := map[string]int{}
	count := map[string]int{}
	for _, id := range ids {
		for _, h := range t.Ancestors(id, maxHops) {
			count[h.ID]++
			worst[h.ID] = max(worst[h.ID], h.Hops)
		}
	}
	var cands []string
	for id, n := range count {
		if n == len(ids) {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	sort.Slice(cands, func(i, j int) bool {
		if worst[cands[i]] != worst[cands[j]] {
			return worst[cands[i]] < worst[cands[j]]
		}
		return cands[i] < cands[j]
	})
	return cands[0], true
}

// Services returns the business service of a CI, if it names one.
func (t *Topology) Services(id string) string {
	c, _ := t.Get(id)
	return c.Service
}
