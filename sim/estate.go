package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// CI types, as contract §4 names them.
const (
	typeRouter   = "router"
	typeSwitch   = "switch"
	typeHost     = "host"
	typeDatabase = "database"
	typeService  = "service"
)

// node is one configuration item of the simulated estate, with the links
// the fault generators need.
type node struct {
	id, typ string
	deps    []string
	dc      *datacenter

	service string // host: the business service it serves (contract's "service")
	alias   string // host: an IP address alerts may use instead of the id

	sw       *node   // host: the switch it depends on
	hosts    []*node // switch: hosts behind it; service: hosts it runs on
	dbs      []*node // host: databases on it; service: databases it uses
	host     *node   // database: the host it runs on
	services []*node // host, database: services depending on it
	engine   string  // database: "mysql" or "postgres"
	short    string  // database, service: short name
}

// instance is the Prometheus instance label of a node exporter target on a
// host: its alias when it has one (targets scraped by IP), else its id.
func (n *node) instance(port string) string {
	if n.alias != "" {
		return n.alias + ":" + port
	}
	return n.id + ":" + port
}

type datacenter struct {
	n        int
	name     string // dc1
	router   *node
	switches []*node
	hosts    []*node
	dbs      []*node
	services []*node
}

// estate is the whole simulated topology.
type estate struct {
	dcs   []*datacenter
	nodes []*node // in file order: every CI after the CIs it depends on
	byID  map[string]*node
}

// shape sizes an estate.
type shape struct {
	dcs                  int
	switchesMin, swMax   int
	hostsMin, hostsMax   int
	hostsPerService      int // one service per this many hosts
	hostsPerDatabase     int // one database per this many hosts
	aliasShare           float64
	serviceHostsMin, Max int
}

var shapes = map[string]shape{
	"small": {dcs: 2, switchesMin: 6, swMax: 6, hostsMin: 15, hostsMax: 20,
		hostsPerService: 6, hostsPerDatabase: 8, aliasShare: 0.10, serviceHostsMin: 2, Max: 5},
	"large": {dcs: 6, switchesMin: 18, swMax: 24, hostsMin: 15, hostsMax: 20,
		hostsPerService: 6, hostsPerDatabase: 8, aliasShare: 0.10, serviceHostsMin: 2, Max: 5},
}

var serviceNames = []string{
	"payments", "checkout", "orders", "catalog", "search", "auth", "accounts", "shipping",
	"inventory", "billing", "notifications", "reviews", "recommendations", "cart", "pricing",
	"loyalty", "reporting", "gateway", "media", "messaging", "profiles", "invoicing", "fraud",
	"ledger", "returns", "warehouse", "delivery", "promotions", "chat", "ads", "export",
	"imports", "scheduler", "webhooks", "sso", "maps", "tax", "subscriptions", "feedback", "wishlist",
}

var databaseNames = []string{
	"orders", "users", "inventory", "billing", "catalog", "sessions", "analytics", "payments",
	"ledger", "search", "auth", "shipping", "reviews", "notifications", "audit", "pricing",
	"loyalty", "media", "profiles", "invoices", "fraud", "returns", "warehouse", "tax",
}

// switchLetter names the i-th switch of a datacenter: a..z, then aa, ab...
func switchLetter(i int) string {
	if i < 26 {
		return string(rune('a' + i))
	}
	return string(rune('a'+i/26-1)) + string(rune('a'+i%26))
}

// nameAt returns the i-th name of list, with a numeric suffix once the
// list is used up (orders, users, ..., orders-2, users-2, ...).
func nameAt(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return list[i%len(list)] + "-" + strconv.Itoa(i/len(list)+1)
}

func buildEstate(r *rand.Rand, sh shape) *estate {
	e := &estate{byID: map[string]*node{}}
	add := func(n *node) *node {
		if _, dup := e.byID[n.id]; dup {
			panic("sim: duplicate CI id " + n.id)
		}
		e.byID[n.id] = n
		e.nodes = append(e.nodes, n)
		return n
	}
	for d := 1; d <= sh.dcs; d++ {
		dc := &datacenter{n: d, name: "dc" + strconv.Itoa(d)}
		e.dcs = append(e.dcs, dc)
		dc.router = add(&node{id: "core-" + dc.name, typ: typeRouter, dc: dc})
		nsw := sh.switchesMin + r.IntN(sh.swMax-sh.switchesMin+1)
		for s := 0; s < nsw; s++ {
			sw := add(&node{id: "sw-" + dc.name + "-" + switchLetter(s), typ: typeSwitch, dc: dc,
				deps: []string{dc.router.id}})
			dc.switches = append(dc.switches, sw)
		}
		for s, sw := range dc.switches {
			nh := sh.hostsMin + r.IntN(sh.hostsMax-sh.hostsMin+1)
			for h := 1; h <= nh; h++ {
				host := &node{id: fmt.Sprintf("host-%s-%s-%02d", dc.name, switchLetter(s), h), typ: typeHost,
					dc: dc, sw: sw, deps: []string{sw.id}}
				if r.Float64() < sh.aliasShare {
					host.alias = fmt.Sprintf("10.%d.%d.%d", d, s, 10+h)
				}
				sw.hosts = append(sw.hosts, host)
				dc.hosts = append(dc.hosts, host)
			}
		}
		// Databases, each on a host of its own.
		free := append([]*node(nil), dc.hosts...)
		r.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		ndb := len(dc.hosts) / sh.hostsPerDatabase
		for i := 0; i < ndb; i++ {
			h := free[0]
			free = free[1:]
			db := &node{id: "db-" + dc.name + "-" + nameAt(databaseNames, i), typ: typeDatabase, dc: dc,
				host: h, deps: []string{h.id}, short: nameAt(databaseNames, i), engine: "mysql"}
			if r.IntN(2) == 0 {
				db.engine = "postgres"
			}
			h.dbs = append(h.dbs, db)
			dc.dbs = append(dc.dbs, db)
		}
		// Services, on 2-5 hosts behind one or two switches, some using
		// databases.
		nsvc := len(dc.hosts) / sh.hostsPerService
		bySwitch := map[*node][]*node{}
		for _, h := range free {
			bySwitch[h.sw] = append(bySwitch[h.sw], h)
		}
		for i := 0; i < nsvc; i++ {
			short := nameAt(serviceNames, i)
			if d > 1 {
				short += "-" + dc.name
			}
			svc := &node{id: "svc-" + short, typ: typeService, dc: dc, short: short}
			want := sh.serviceHostsMin + r.IntN(sh.Max-sh.serviceHostsMin+1)
			sws := []*node{dc.switches[r.IntN(len(dc.switches))], dc.switches[r.IntN(len(dc.switches))]}
			for k := 0; k < want; k++ {
				sw := sws[k%2]
				pool := bySwitch[sw]
				if len(pool) == 0 {
					continue
				}
				j := r.IntN(len(pool))
				h := pool[j]
				bySwitch[sw] = append(pool[:j], pool[j+1:]...)
				h.service = short
				h.services = append(h.services, svc)
				svc.hosts = append(svc.hosts, h)
			}
			if len(svc.hosts) == 0 { // both switches used up: any free host
				for _, sw := range dc.switches {
					if pool := bySwitch[sw]; len(pool) > 0 {
						h := pool[0]
						bySwitch[sw] = pool[1:]
						h.service = short
						h.services = append(h.services, svc)
						svc.hosts = append(svc.hosts, h)
						break
					}
				}
			}
			if len(svc.hosts) == 0 {
				break
			}
			dc.services = append(dc.services, svc)
		}
		// Every database serves one to three services.
		for _, db := range dc.dbs {
			n := 1 + r.IntN(3)
			for k := 0; k < n; k++ {
				svc := dc.services[r.IntN(len(dc.services))]
				if containsNode(svc.dbs, db) {
					continue
				}
				svc.dbs = append(svc.dbs, db)
				db.services = append(db.services, svc)
			}
		}
		// File order: hosts, then databases, then services.
		for _, h := range dc.hosts {
			add(h)
		}
		for _, db := range dc.dbs {
			add(db)
		}
		for _, svc := range dc.services {
			for _, h := range svc.hosts {
				svc.deps = append(svc.deps, h.id)
			}
			for _, db := range svc.dbs {
				svc.deps = append(svc.deps, db.id)
			}
			add(svc)
		}
	}
	return e
}

func containsNode(list []*node, n *node) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// topologyYAML renders the estate in the format of contract §4.
func (e *estate) topologyYAML(seed uint64, scale string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Simulated estate: vigia simulate --seed %d --scale %s (contract §4).\n", seed, scale)
	fmt.Fprintf(&b, "# %d datacenters, %d configuration items.\n", len(e.dcs), len(e.nodes))
	b.WriteString("cis:\n")
	for _, n := range e.nodes {
		fmt.Fprintf(&b, "  - id: %s\n    type: %s\n", n.id, n.typ)
		if n.service != "" {
			fmt.Fprintf(&b, "    service: %s\n", n.service)
		}
		if n.alias != "" {
			fmt.Fprintf(&b, "    aliases: [%q]\n", n.alias)
		}
		if len(n.deps) > 0 {
			fmt.Fprintf(&b, "    depends_on: [%s]\n", strings.Join(n.deps, ", "))
		}
	}
	return b.Bytes()
}
