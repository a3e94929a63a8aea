package sim

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Config selects one simulation.
type Config struct {
	Seed  uint64
	Days  int       // 0: 7 for small, 14 for large
	Scale string    // "small" or "large"
	Start time.Time // zero: DefaultStart
}

// DefaultStart is the first simulated instant: a Monday, 00:00 UTC.
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Scales lists the valid Config.Scale values.
var Scales = []string{"small", "large"}

// DefaultDays is the simulated period of a scale when Config.Days is 0.
func DefaultDays(scale string) int {
	if scale == "large" {
		return 14
	}
	return 7
}

// Fault classes: each fault is one true incident of this class.
const (
	ClassSwitchCascade = "switch_cascade"
	ClassRouterCascade = "router_cascade"
	ClassDBSlowdown    = "db_slowdown"
	ClassHostSingleton = "host_singleton"
	ClassCISingleton   = "ci_singleton"
	ClassFlapping      = "flapping"
	ClassNoCIBurst     = "noci_burst"
	ClassNoCISingle    = "noci_single"
	ClassRecurDisk     = "recurring_disk"
	ClassRecurIface    = "recurring_interface"
	ClassRecurBGP      = "recurring_bgp"
	ClassRecurBackup   = "recurring_backup"
	ClassRecurJob      = "recurring_job"
	ClassRecurDBSlow   = "recurring_db_slowdown"
)

// fault is one true incident and the alert episodes it causes.
type fault struct {
	class    string
	root     string // root-cause CI, "" for faults with no CI
	problem  string // recurring problem id, "" for one-off faults
	flapping bool
	start    time.Time
	seq      int
	eps      []*episode
	id       string // T-000001, given once the deliveries are known
}

// episode is one firing period of one alert, and how it travels.
type episode struct {
	f           *fault
	name        string // the alert rule's name (a Grafana rule's title is another alertname)
	via         via
	ci          string // CI the alert maps to, "" none
	labels      map[string]string
	annotations map[string]string
	start, end  time.Time
	startText   string
	endText     string
	fp          string
	genURL      string
	seq         int

	// Grafana
	uid   string
	value float64

	// generic events
	evSource, evSeverity, evSummary string
	evSendFP                        bool
	evZone                          *time.Location

	// when Alertmanager (or Grafana's) sees it start and end
	arrive, resolveSeen time.Time
}

type span struct {
	from, to time.Time
	f        *fault
}

// gen builds the faults of one simulation.
type gen struct {
	r        *rand.Rand
	e        *estate
	scale    string
	days     int
	t0, tEnd time.Time
	mult     float64 // rate multiplier of the scale (hosts / 200)

	faults   []*fault
	occ      map[string][]span // fingerprint -> episodes already placed
	count    map[string]int    // draw key -> one-off faults placed
	reserved map[string]bool   // draw keys owned by recurring problems
	seq      int

	// The recurrence rule (recur.go): recurrence key -> start of every
	// one-off fault counted under it, and -> the problem owning it.
	oneOff map[string][]time.Time
	owned  map[string]string
}

// maxOneOff bounds how often one draw key (a CI and an alert, a switch's
// cascade, ...) is drawn for a one-off fault. It only spares the
// generators draws that admit (recur.go) would refuse: admit is what
// guarantees that one-off faults do not recur.
const maxOneOff = RecurMin - 1

// otherFaultGap is the least time between two episodes of one alert that
// belong to different faults.
const otherFaultGap = 10 * time.Minute

func (g *gen) uniform(a, b time.Duration) time.Duration {
	if b <= a {
		return a
	}
	return a + time.Duration(g.r.Int64N(int64(b-a)))
}

// logn draws a log-normal duration around median, clamped to [lo, hi].
func (g *gen) logn(median time.Duration, sigma float64, lo, hi time.Duration) time.Duration {
	d := time.Duration(float64(median) * math.Exp(sigma*g.r.NormFloat64()))
	return min(max(d, lo), hi)
}

// when draws a fault start in the simulated period, leaving room at the
// end for the fault to play out.
func (g *gen) when() time.Time {
	return g.t0.Add(g.uniform(10*time.Minute, g.tEnd.Sub(g.t0)-3*time.Hour)).Truncate(time.Millisecond)
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, list []T) T { return list[g.r.IntN(len(list))] }

// howMany draws the number of faults of a daily rate over the period:
// about rate × days, with a little spread.
func (g *gen) howMany(perDay float64) int {
	mean := perDay * float64(g.days)
	n := int(math.Round(mean + math.Sqrt(mean)*g.r.NormFloat64()*0.5))
	return max(n, 0)
}

func (g *gen) newFault(class, root string, start time.Time) *fault {
	g.seq++
	return &fault{class: class, root: root, start: start, seq: g.seq}
}

// allowed reports whether one more one-off fault may use key.
func (g *gen) allowed(key string) bool { return !g.reserved[key] && g.count[key] < maxOneOff }

// commit places f if its episodes do not collide with episodes of the same
// alerts already placed, and if it obeys the recurrence rule (admit). A
// collision drops the episode, or the whole fault when atomic. It reports
// whether f was placed, and counts draw keys for it.
func (g *gen) commit(f *fault, atomic bool, keys ...string) bool {
	kept := make([]*episode, 0, len(f.eps))
	pending := map[string][]span{}
	var order []string
	for _, ep := range f.eps {
		ok := true
		for _, s := range g.occ[ep.fp] {
			if ep.start.Before(s.to.Add(otherFaultGap)) && s.from.Before(ep.end.Add(otherFaultGap)) {
				ok = false
				break
			}
		}
		for _, s := range pending[ep.fp] {
			if ok && ep.start.Before(s.to.Add(time.Second)) && s.from.Before(ep.end.Add(time.Second)) {
				ok = false
			}
		}
		if !ok {
			if atomic {
				return false
			}
			continue
		}
		if _, seen := pending[ep.fp]; !seen {
			order = append(order, ep.fp)
		}
		pending[ep.fp] = append(pending[ep.fp], span{ep.start, ep.end, f})
		kept = append(kept, ep)
	}
	if len(kept) == 0 {
		return false
	}
	f.eps = kept
	if !g.admit(f) {
		return false
	}
	for _, fp := range order {
		g.occ[fp] = append(g.occ[fp], pending[fp]...)
	}
	for _, k := range keys {
		g.count[k]++
	}
	g.faults = append(g.faults, f)
	return true
}

// target is what an alert is about, as a Prometheus rule labels it.
type target struct {
	ci      string            // CI the alert maps to ("" none)
	name    string            // for summaries
	cluster string            // datacenter
	labels  map[string]string // instance, job, service, ... (not alertname, severity, cluster)
	// evLabels are the labels another monitor sends for it in a generic
	// event (nil: host=ci).
	evLabels map[string]string
	evSource string // monitor for no-CI targets ("" : the def's)
}

// force, when set, overrides the drawn path of an alert.
type force struct {
	set bool
	v   via
}

// alert makes one episode of d on t from start to end, travelling by
// Alertmanager, Grafana or generic events as drawn from d's shares.
func (g *gen) alert(f *fault, d def, t target, start, end time.Time, fv force) *episode {
	g.seq++
	ep := &episode{f: f, name: d.name, ci: t.ci, seq: g.seq}
	v := viaAlertmanager
	x := g.r.Float64()
	switch {
	case x < d.pEvents && (d.evSource != "" || t.evSource != ""):
		v = viaEvents
	case x < d.pEvents+d.pGrafana && d.grafana != "":
		v = viaGrafana
	}
	if fv.set {
		v = fv.v
	}
	ep.via = v
	summary := summaryOf(d, t.name)
	ep.annotations = map[string]string{"summary": summary, "description": d.desc, "runbook_url": runbook(d.name)}
	switch v {
	case viaAlertmanager:
		ep.start, ep.end = start.Truncate(time.Millisecond), end.Truncate(time.Millisecond)
		l := map[string]string{"alertname": d.name, "severity": d.severity, "cluster": t.cluster}
		for k, val := range t.labels {
			l[k] = val
		}
		ep.labels = l
		ep.fp = fingerprint(l)
		ep.startText, ep.endText = promTime(ep.start), promTime(ep.end)
		ep.genURL = generatorURL(t.cluster, d.expr)
		ep.arrive = ep.start.Add(g.uniform(200*time.Millisecond, 2*time.Second))
		ep.resolveSeen = ep.end.Add(g.uniform(200*time.Millisecond, 2*time.Second))
	case viaGrafana:
		// Grafana evaluates rules every 10 s and writes whole seconds.
		title := d.grafana
		if title == "" {
			title = d.name
		}
		ep.start = start.Truncate(10 * time.Second).Add(10 * time.Second)
		ep.end = end.Truncate(10 * time.Second).Add(10 * time.Second)
		team := "infra"
		if d.folder == "Services" {
			team = "apps"
		}
		l := map[string]string{"alertname": title, "grafana_folder": d.folder, "severity": d.severity,
			"cluster": t.cluster, "team": team}
		for k, val := range t.labels {
			if k != "job" {
				l[k] = val
			}
		}
		ep.labels = l
		ep.uid = ruleUID(title, t.cluster)
		withUID := make(map[string]string, len(l)+1)
		for k, val := range l {
			withUID[k] = val
		}
		withUID["__alert_rule_uid__"] = ep.uid
		ep.fp = fingerprint(withUID)
		ep.startText, ep.endText = promTime(ep.start), promTime(ep.end)
		ep.genURL = "http://grafana.example.com/alerting/grafana/" + ep.uid + "/view?orgId=1"
		ep.value = math.Round((50+g.r.Float64()*900))/10 + 90
		ep.arrive, ep.resolveSeen = ep.start, ep.end
	case viaEvents:
		src := d.evSource
		if t.evSource != "" {
			src = t.evSource
		}
		if src == "" {
			src = "monitor"
		}
		ep.evSource = src
		ep.start, ep.end = start.Truncate(time.Millisecond), end.Truncate(time.Millisecond)
		l := map[string]string{"alertname": d.name, "cluster": t.cluster}
		if t.evLabels != nil {
			for k, val := range t.evLabels {
				l[k] = val
			}
		} else if t.ci != "" {
			l["host"] = t.ci
		}
		ep.labels = l
		ep.evSeverity = d.severity
		if src == "zabbix" && d.severity == "critical" {
			ep.evSeverity = "high"
		}
		ep.evSummary = summary
		ep.annotations = map[string]string{"description": d.desc}
		ep.evZone = time.UTC
		if src == "zabbix" {
			ep.evZone = zabbixZone
		}
		ep.startText = ep.start.In(ep.evZone).Format(eventFormat)
		ep.endText = ep.end.In(ep.evZone).Format(eventFormat)
		ep.fp = EventFingerprint(src, ep.evSeverity, summary, l)
		ep.evSendFP = g.chance(0.6)
	}
	f.eps = append(f.eps, ep)
	return ep
}

// Targets of the estate's CIs.

func hostTarget(h *node, extra ...string) target {
	l := map[string]string{"instance": h.instance("9100"), "job": "node"}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return target{ci: h.id, name: h.id, cluster: h.dc.name, labels: l}
}

func netTarget(n *node, extra ...string) target {
	l := map[string]string{"instance": n.id, "job": "snmp"}
	ev := map[string]string{"host": n.id}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
		ev[extra[i]] = extra[i+1]
	}
	return target{ci: n.id, name: n.id, cluster: n.dc.name, labels: l, evLabels: ev}
}

func dbTarget(db *node) target {
	l := map[string]string{"instance": db.id + ":9104", "job": "mysqld"}
	if db.engine == "postgres" {
		l = map[string]string{"instance": db.id + ":9187", "job": "postgres"}
	}
	return target{ci: db.id, name: db.id, cluster: db.dc.name, labels: l}
}

// serviceTarget labels a service alert: blackbox probes carry the probed
// URL as instance (which maps to no CI), so the service label maps it.
func serviceTarget(svc *node, probe bool) target {
	l := map[string]string{"service": svc.id, "job": "api-gateway"}
	if probe {
		l = map[string]string{"service": svc.id, "job": "blackbox",
			"instance": "https://" + svc.short + ".internal.example.com/health"}
	}
	return target{ci: svc.id, name: svc.id, cluster: svc.dc.name, labels: l}
}

// --- fault classes ---------------------------------------------------------

// switchCascade: a switch fails; its hosts become unreachable, with the
// databases on them; the services on them go down or degrade. The switch
// itself alerts 60% of the time.
func (g *gen) switchCascade(sw *node, t0 time.Time) bool {
	f := g.newFault(ClassSwitchCascade, sw.id, t0)
	down := g.logn(20*time.Minute, 0.6, 5*time.Minute, 2*time.Hour)
	end := t0.Add(down)
	if g.chance(0.6) {
		d := defSwitchDown
		t := netTarget(sw)
		if g.chance(0.5) {
			d = defInterfaceDown
			t = netTarget(sw, "ifName", "Te1/0/49", "ifAlias", "uplink-"+sw.dc.router.id)
		}
		g.alert(f, d, t, t0.Add(g.uniform(0, 60*time.Second)), end.Add(g.uniform(0, 60*time.Second)), force{})
	}
	g.hostsDown(f, sw.hosts, t0, end)
	return g.commit(f, false, "cascade|"+sw.id)
}

// hostsDown raises the symptoms of hosts cut off from the network from t0
// to end: NodeUnreachable, database down, service down or degraded.
func (g *gen) hostsDown(f *fault, hosts []*node, t0, end time.Time) {
	downHosts := map[*node]bool{}
	downDBs := map[*node]bool{}
	var svcs []*node
	seen := map[*node]bool{}
	for _, h := range hosts {
		downHosts[h] = true
		g.alert(f, defNodeUnreachable, hostTarget(h), t0.Add(g.uniform(0, 90*time.Second)),
			end.Add(g.uniform(0, 120*time.Second)), force{set: true, v: viaAlertmanager})
		for _, db := range h.dbs {
			downDBs[db] = true
			g.alert(f, defDBDown[db.engine], dbTarget(db), t0.Add(g.uniform(20*time.Second, 120*time.Second)),
				end.Add(g.uniform(0, 120*time.Second)), force{})
			for _, s := range db.services {
				if !seen[s] {
					seen[s] = true
					svcs = append(svcs, s)
				}
			}
		}
		for _, s := range h.services {
			if !seen[s] {
				seen[s] = true
				svcs = append(svcs, s)
			}
		}
	}
	for _, s := range svcs {
		n := 0
		for _, h := range s.hosts {
			if downHosts[h] {
				n++
			}
		}
		dbDown := false
		for _, db := range s.dbs {
			dbDown = dbDown || downDBs[db]
		}
		switch {
		case n == len(s.hosts) || dbDown:
			g.alert(f, defServiceDown, serviceTarget(s, true), t0.Add(g.uniform(60*time.Second, 180*time.Second)),
				end.Add(g.uniform(30*time.Second, 180*time.Second)), force{})
		case g.chance(0.7):
			g.alert(f, defHighErrorRate, serviceTarget(s, false), t0.Add(g.uniform(60*time.Second, 300*time.Second)),
				end.Add(g.uniform(30*time.Second, 180*time.Second)), force{})
		}
	}
}

// routerCascade: a core router fails and takes its whole datacenter off
// the network.
func (g *gen) routerCascade(dc *datacenter, t0 time.Time) bool {
	f := g.newFault(ClassRouterCascade, dc.router.id, t0)
	down := g.logn(20*time.Minute, 0.4, 10*time.Minute, time.Hour)
	end := t0.Add(down)
	if g.chance(0.6) {
		g.alert(f, defRouterDown, netTarget(dc.router), t0.Add(g.uniform(0, 60*time.Second)), end.Add(g.uniform(0, 60*time.Second)), force{})
	}
	for _, sw := range dc.switches {
		if g.chance(0.7) {
			g.alert(f, defSwitchDown, netTarget(sw), t0.Add(g.uniform(0, 90*time.Second)), end.Add(g.uniform(0, 90*time.Second)), force{})
		}
	}
	g.hostsDown(f, dc.hosts, t0, end)
	return g.commit(f, false, "cascade|"+dc.router.id)
}

// dbSlowdown: a database slows down; one to three services using it
// report latency or errors.
func (g *gen) dbSlowdown(db *node, t0 time.Time) bool {
	f := g.newFault(ClassDBSlowdown, db.id, t0)
	dur := g.logn(30*time.Minute, 0.5, 8*time.Minute, 3*time.Hour)
	g.alert(f, defDBSlow[db.engine], dbTarget(db), t0, t0.Add(dur), force{})
	svcs := append([]*node(nil), db.services...)
	g.r.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
	n := min(len(svcs), 1+g.r.IntN(3))
	for _, s := range svcs[:n] {
		d := defHighLatency
		if g.chance(0.35) {
			d = defHighErrorRate
		}
		g.alert(f, d, serviceTarget(s, false), t0.Add(g.uniform(30*time.Second, 5*time.Minute)),
			t0.Add(dur).Add(g.uniform(0, 3*time.Minute)), force{})
	}
	return g.commit(f, false, "slow|"+db.id)
}

// hostSingleton: one host alert, sometimes followed by a related one on
// the same host.
func (g *gen) hostSingleton(h *node, d def, t0 time.Time) bool {
	key := h.id + "|" + d.name
	if !g.allowed(key) {
		return false
	}
	f := g.newFault(ClassHostSingleton, h.id, t0)
	dur := g.logn(25*time.Minute, 0.9, 3*time.Minute, 8*time.Hour)
	t := g.singletonTarget(h, d)
	g.alert(f, d, t, t0, t0.Add(dur), force{})
	keys := []string{key}
	if fu, ok := followUps[d.name]; ok && g.chance(0.3) && g.allowed(h.id+"|"+fu.name) {
		s := t0.Add(g.uniform(2*time.Minute, min(25*time.Minute, dur)))
		g.alert(f, fu, g.singletonTarget(h, fu), s, t0.Add(dur).Add(g.uniform(0, 5*time.Minute)), force{})
		keys = append(keys, h.id+"|"+fu.name)
	}
	return g.commit(f, true, keys...)
}

func (g *gen) singletonTarget(h *node, d def) target {
	switch d.name {
	case "DiskFull", "DiskWillFillIn4Hours", "FilesystemReadOnly", "InodesExhausted":
		mp := "/"
		if len(h.dbs) > 0 {
			mp = "/var/lib/" + h.dbs[0].engine
		} else if h.service != "" {
			mp = "/var/log"
		}
		return hostTarget(h, "mountpoint", mp, "device", "/dev/sdb1", "fstype", "ext4")
	case "NetworkReceiveErrors":
		return hostTarget(h, "device", "eth0")
	case "SystemdUnitFailed":
		unit := "logrotate.service"
		if h.service != "" {
			unit = h.service + ".service"
		}
		return hostTarget(h, "name", unit)
	}
	return hostTarget(h)
}

// ciSingleton: one alert on a database, switch, service or router.
func (g *gen) ciSingleton(n *node, t0 time.Time) bool {
	var d def
	var t target
	switch n.typ {
	case typeDatabase:
		d = pick(g, defDBSingle[n.engine])
		t = dbTarget(n)
	case typeSwitch:
		d = pick(g, switchSingletons)
		if d.name == "HighInterfaceUtilization" || d.name == "InterfaceErrors" {
			t = netTarget(n, "ifName", "Gi1/0/"+strconv.Itoa(1+g.r.IntN(48)))
		} else {
			t = netTarget(n)
		}
	case typeService:
		d = pick(g, serviceSingletons)
		t = serviceTarget(n, d.name == "CanaryFailed")
	case typeRouter:
		d = defRouterCPU
		t = netTarget(n)
	default:
		return false
	}
	key := n.id + "|" + d.name
	if !g.allowed(key) {
		return false
	}
	f := g.newFault(ClassCISingleton, n.id, t0)
	g.alert(f, d, t, t0, t0.Add(g.logn(30*time.Minute, 0.8, 4*time.Minute, 6*time.Hour)), force{})
	return g.commit(f, true, key)
}

// flapping: one alert that fires and resolves about twenty times in an
// hour. Half of them come as generic events, which deliver every change;
// through Alertmanager, group_interval hides many of the changes.
func (g *gen) flapping(t0 time.Time) bool {
	var d def
	var t target
	dc := pick(g, g.e.dcs)
	switch x := g.r.IntN(10); {
	case x < 4:
		h := pick(g, dc.hosts)
		d = pick(g, []def{defHighCPU, defHighLoad, defNTPDrift})
		d.evSource = "zabbix"
		t = hostTarget(h)
	case x < 6:
		sw := pick(g, dc.switches)
		d = defInterfaceDown
		d.severity = "warning"
		t = netTarget(sw, "ifName", "Gi1/0/"+strconv.Itoa(1+g.r.IntN(48)))
	case x < 8:
		svc := pick(g, dc.services)
		d = defHighLatency
		d.evSource = "synthetics"
		t = serviceTarget(svc, false)
	default:
		q := pick(g, queueNames)
		d = defQueueBacklog
		t = queueTarget(dc, g.r.IntN(rabbitClusters), q)
		t.evSource = "rabbitmq-monitor"
	}
	key := "flap|" + t.name + "|" + d.name
	if !g.allowed(key) || g.count[key] > 0 {
		return false
	}
	f := g.newFault(ClassFlapping, t.ci, t0)
	f.flapping = true
	fv := force{set: true, v: viaAlertmanager}
	if g.chance(0.5) {
		fv.v = viaEvents
	}
	n := 17 + g.r.IntN(7)
	at := t0
	for i := 0; i < n; i++ {
		on := g.uniform(40*time.Second, 110*time.Second)
		g.alert(f, d, t, at, at.Add(on), fv)
		at = at.Add(on).Add(g.uniform(40*time.Second, 110*time.Second))
	}
	return g.commit(f, true, key)
}

// --- alerts with no CI -------------------------------------------------------

var (
	defCert = def{name: "CertificateExpiringSoon", severity: "warning", summary: "TLS certificate of %s expires in less than 14 days",
		desc: "The certificate served expires soon.", expr: `probe_ssl_earliest_cert_expiry - time() < 86400 * 14`,
		evSource: "uptime-kuma", pEvents: 0.2}
	defBackup = def{name: "BackupJobFailed", severity: "warning", summary: "Backup %s failed",
		desc: "The last backup run ended with an error.", expr: `backup_last_run_success == 0`}
	defQueueBacklog = def{name: "QueueBacklog", severity: "warning", summary: "Queue %s is backing up",
		desc: "More than 10000 messages are waiting.", expr: `rabbitmq_queue_messages_ready > 10000`}
	defKafkaLag = def{name: "KafkaConsumerLag", severity: "warning", summary: "Consumer lag on %s",
		desc: "The consumer group is more than 50000 messages behind.", expr: `sum by (consumergroup, topic) (kafka_consumergroup_lag) > 50000`}
	defCron = def{name: "CronJobFailed", severity: "warning", summary: "CronJob %s failed",
		desc: "The last run of the CronJob failed.", expr: `kube_job_status_failed > 0`}
	defDNS = def{name: "DNSZoneTransferFailed", severity: "warning", summary: "Zone transfer of %s failed",
		desc: "The secondary could not transfer the zone.", expr: `bind_zone_transfer_failure_total > 0`}
	defLicense = def{name: "LicenseExpiringSoon", severity: "info", summary: "Licence of %s expires soon",
		desc: "The product licence expires within 30 days.", expr: `license_expiry_seconds - time() < 86400 * 30`}
)

var (
	certZones  = []string{"example.com", "example.net", "shop.example.org", "corp.example.com", "example.io"}
	certHosts  = []string{"www", "api", "shop", "login", "static", "cdn", "mail", "status", "docs", "partners", "m", "pay"}
	queueNames = []string{"orders.created", "payments.settled", "emails.outbound", "invoices.render", "stock.updates",
		"search.reindex", "webhooks.dispatch", "shipments.label", "audit.events", "sms.outbound"}
	kafkaTopics = []string{"clickstream", "orders", "payments", "inventory", "notifications", "audit", "metrics-raw"}
	// cronJobs are the CronJobs of every datacenter's Kubernetes cluster,
	// each in its team's namespace.
	cronJobs = []struct{ name, namespace string }{{"nightly-report", "reporting"}, {"db-vacuum", "dba"},
		{"cache-warmup", "storefront"}, {"invoice-export", "billing"}, {"gdpr-purge", "privacy"}, {"sitemap", "seo"},
		{"token-cleanup", "identity"}}
	// dnsZones are transferred to a secondary name server of their own in
	// every datacenter (ns2, ns3, ...).
	dnsZones = []string{"example.com", "example.net", "internal.example.com", "example.io"}
	products = []string{"oracle-db", "vmware-vsphere", "splunk", "jira", "confluence", "rhel-satellite"}
)

// Per datacenter, the RabbitMQ and Kafka clusters and the backup servers:
// a fault of one of them alerts with its instance, so that faults of
// different ones are faults of different targets.
const (
	rabbitClusters = 3
	kafkaClusters  = 3
	backupServers  = 3
)

func rabbitInstance(dc *datacenter, c int) string {
	return "rabbitmq-" + dc.name + "-" + switchLetter(c) + "-0"
}

// queueTarget is a queue of RabbitMQ cluster c of dc.
func queueTarget(dc *datacenter, c int, q string) target {
	broker := rabbitInstance(dc, c)
	return target{name: q, cluster: dc.name, labels: map[string]string{"queue": q, "vhost": "/", "job": "rabbitmq",
		"instance": broker + ":15692"}, evLabels: map[string]string{"queue": q, "broker": broker}}
}

// backupServer is the backup server that holds the backups of dc's i-th
// database.
func backupServer(dc *datacenter, i int) string {
	return "backup-" + dc.name + "-0" + strconv.Itoa(1+i%backupServers)
}

func backupTarget(dc *datacenter, set, server string) target {
	return target{name: set, cluster: dc.name, labels: map[string]string{"backup_set": set, "job": "backup-exporter",
		"instance": server + ":9400"}}
}

func cronTarget(dc *datacenter, job, namespace string) target {
	return target{name: job, cluster: dc.name, labels: map[string]string{"cronjob": job, "namespace": namespace,
		"job": "kube-state-metrics", "instance": "kube-state-metrics-" + dc.name + ":8080"}}
}

// noCIBurst: one cause, several alerts of one name within minutes, none
// of which maps to a CI.
func (g *gen) noCIBurst(t0 time.Time) bool {
	dc := pick(g, g.e.dcs)
	var f *fault
	var key string
	switch g.r.IntN(4) {
	case 0: // a certificate shared by several names is about to expire
		zone := pick(g, certZones)
		key = "noci|cert|" + zone
		if !g.allowed(key) {
			return false
		}
		f = g.newFault(ClassNoCIBurst, "", t0)
		dur := g.logn(3*time.Hour, 0.6, 40*time.Minute, 12*time.Hour)
		fv := force{set: true, v: viaAlertmanager}
		if g.chance(defCert.pEvents) {
			fv.v = viaEvents
		}
		for _, i := range g.r.Perm(len(certHosts))[:3+g.r.IntN(6)] {
			domain := certHosts[i] + "." + zone
			t := target{name: domain, cluster: dc.name, evSource: "uptime-kuma",
				labels:   map[string]string{"domain": domain, "instance": domain + ":443", "job": "blackbox-tls"},
				evLabels: map[string]string{"domain": domain}}
			g.alert(f, defCert, t, t0.Add(g.uniform(0, 4*time.Minute)), t0.Add(dur).Add(g.uniform(0, 10*time.Minute)), fv)
		}
	case 1: // a backup server fails: several of its backup sets fail
		k := g.r.IntN(backupServers)
		server := backupServer(dc, k)
		key = "noci|backup|" + server
		if !g.allowed(key) {
			return false
		}
		var dbs []*node
		for i, db := range dc.dbs {
			if i%backupServers == k {
				dbs = append(dbs, db)
			}
		}
		if len(dbs) == 0 {
			return false
		}
		f = g.newFault(ClassNoCIBurst, "", t0)
		dur := g.logn(90*time.Minute, 0.5, 20*time.Minute, 6*time.Hour)
		for _, db := range pickN(g, dbs, 2+g.r.IntN(4)) {
			set := "daily-" + db.short
			g.alert(f, defBackup, backupTarget(dc, set, server), t0.Add(g.uniform(0, 6*time.Minute)),
				t0.Add(dur).Add(g.uniform(0, 10*time.Minute)), force{})
		}
	case 2: // a consumer dies: its queues on one RabbitMQ cluster back up
		c := g.r.IntN(rabbitClusters)
		key = "noci|queue|" + rabbitInstance(dc, c)
		if !g.allowed(key) {
			return false
		}
		f = g.newFault(ClassNoCIBurst, "", t0)
		dur := g.logn(30*time.Minute, 0.5, 8*time.Minute, 2*time.Hour)
		for _, q := range pickN(g, queueNames, 2+g.r.IntN(5)) {
			g.alert(f, defQueueBacklog, queueTarget(dc, c, q), t0.Add(g.uniform(0, 3*time.Minute)),
				t0.Add(dur).Add(g.uniform(0, 5*time.Minute)), force{})
		}
	default: // a consumer group stalls on several topics of one Kafka cluster
		// The lag alerts carry the namespace of the consuming application.
		app := pick(g, dc.services).short
		cg := app + "-consumer"
		key = "noci|kafka|" + cg
		if !g.allowed(key) {
			return false
		}
		exporter := "kafka-exporter-" + dc.name + "-" + switchLetter(g.r.IntN(kafkaClusters)) + ":9308"
		f = g.newFault(ClassNoCIBurst, "", t0)
		dur := g.logn(25*time.Minute, 0.5, 8*time.Minute, 2*time.Hour)
		for _, topic := range pickN(g, kafkaTopics, 2+g.r.IntN(3)) {
			t := target{name: cg + "/" + topic, cluster: dc.name, labels: map[string]string{"consumergroup": cg, "topic": topic,
				"namespace": app, "job": "kafka-exporter", "instance": exporter}}
			g.alert(f, defKafkaLag, t, t0.Add(g.uniform(0, 4*time.Minute)), t0.Add(dur).Add(g.uniform(0, 5*time.Minute)), force{})
		}
	}
	return g.commit(f, false, key)
}

// noCISingle: one alert that maps to no CI.
func (g *gen) noCISingle(t0 time.Time) bool {
	dc := pick(g, g.e.dcs)
	var d def
	var t target
	switch g.r.IntN(3) {
	case 0:
		job := pick(g, cronJobs)
		d = defCron
		t = cronTarget(dc, job.name, job.namespace)
	case 1:
		i := g.r.IntN(len(dnsZones))
		d = defDNS
		t = target{name: dnsZones[i], cluster: dc.name, labels: map[string]string{"zone": dnsZones[i], "job": "bind",
			"instance": "ns" + strconv.Itoa(2+i) + "-" + dc.name + ".example.net:9119"}}
	default:
		p := pick(g, products)
		d = defLicense
		t = target{name: p, cluster: dc.name, labels: map[string]string{"product": p, "job": "license-exporter",
			"instance": "license-" + p + "-" + dc.name + ":9101"}}
	}
	key := "noci|" + d.name + "|" + t.name + "|" + dc.name
	if !g.allowed(key) {
		return false
	}
	f := g.newFault(ClassNoCISingle, "", t0)
	g.alert(f, d, t, t0, t0.Add(g.logn(40*time.Minute, 0.7, 5*time.Minute, 6*time.Hour)), force{})
	return g.commit(f, true, key)
}

func pickN[T any](g *gen, list []T, n int) []T {
	n = min(n, len(list))
	out := make([]T, 0, n)
	for _, i := range g.r.Perm(len(list))[:n] {
		out = append(out, list[i])
	}
	return out
}

// --- recurring problems ------------------------------------------------------

// problem is one recurring fault: every occurrence is its own incident.
type problem struct {
	id, class string
}

// recurKinds are the recurring fault classes, in the order the estate's
// problems are drawn (the small scale has the first three).
var recurKinds = []string{ClassRecurDisk, ClassRecurIface, ClassRecurBackup, ClassRecurBGP, ClassRecurJob, ClassRecurDBSlow}

// recurring places the estate's recurring problems. Every occurrence of
// one problem raises the same alerts on the same target (the disk's early
// warning aside), always through Alertmanager so that their names do not
// change; the keys of the occurrences are then owned by the problem, and
// no one-off fault uses them (admit). A problem that recurs fewer than
// RecurMin times (in a short simulation) is not a problem: its
// occurrences stay as one-off incidents of its class.
func (g *gen) recurring(n int) []problem {
	var out []problem
	for i := 0; i < n; i++ {
		kind := recurKinds[i%len(recurKinds)]
		// The i-th problem of a kind goes to another datacenter than the
		// previous ones of that kind.
		dc := g.e.dcs[(i+i/len(recurKinds))%len(g.e.dcs)]
		var p problem
		var occ []*fault
		place := func(f *fault) {
			f.problem = p.id
			if g.commit(f, false) {
				occ = append(occ, f)
			}
		}
		switch kind {
		case ClassRecurDisk:
			// The same database host fills its disk every night at ~02:00.
			db := dc.dbs[0]
			for _, x := range dc.dbs {
				if x.short == "orders" {
					db = x
				}
			}
			h := db.host
			p = problem{id: "P-disk-" + db.id, class: kind}
			g.reserved[h.id+"|DiskFull"] = true
			g.reserved[h.id+"|DiskWillFillIn4Hours"] = true
			for night := 1; night < g.days; night++ {
				if night > 2 && !g.chance(0.85) {
					continue
				}
				at := g.t0.Add(time.Duration(night)*24*time.Hour + 2*time.Hour + g.uniform(-10*time.Minute, 10*time.Minute)).Truncate(time.Millisecond)
				f := g.newFault(kind, h.id, at)
				end := at.Add(g.uniform(40*time.Minute, 90*time.Minute))
				t := g.singletonTarget(h, defDiskFull)
				// The early warning comes on the first nights, and on most
				// of the others (some nights the disk fills too fast).
				if len(occ) < RecurMin || g.chance(0.6) {
					g.alert(f, defDiskWillFill, t, at.Add(-g.uniform(20*time.Minute, 40*time.Minute)), end.Add(g.uniform(0, 5*time.Minute)), force{set: true})
				}
				g.alert(f, defDiskFull, t, at, end, force{set: true})
				place(f)
			}
		case ClassRecurIface:
			// One switch's uplink drops for a few minutes every few days.
			sw := dc.switches[1%len(dc.switches)]
			p = problem{id: "P-iface-" + sw.id, class: kind}
			g.reserved[sw.id+"|InterfaceDown"] = true
			for at := g.t0.Add(g.uniform(6*time.Hour, 40*time.Hour)); at.Before(g.tEnd.Add(-3 * time.Hour)); at = at.Add(g.uniform(36*time.Hour, 60*time.Hour)) {
				f := g.newFault(kind, sw.id, at.Truncate(time.Millisecond))
				t := netTarget(sw, "ifName", "Te1/0/50", "ifAlias", "uplink-"+dc.router.id+"-b")
				g.alert(f, defInterfaceDown, t, f.start, f.start.Add(g.uniform(2*time.Minute, 12*time.Minute)), force{set: true})
				place(f)
			}
		case ClassRecurBGP:
			// A BGP session to a transit provider drops every few days.
			p = problem{id: "P-bgp-" + dc.router.id, class: kind}
			g.reserved[dc.router.id+"|BGPSessionDown"] = true
			for at := g.t0.Add(g.uniform(6*time.Hour, 50*time.Hour)); at.Before(g.tEnd.Add(-3 * time.Hour)); at = at.Add(g.uniform(40*time.Hour, 70*time.Hour)) {
				f := g.newFault(kind, dc.router.id, at.Truncate(time.Millisecond))
				t := netTarget(dc.router, "peer", "192.0.2.1", "peer_as", "64500")
				g.alert(f, defBGPDown, t, f.start, f.start.Add(g.uniform(3*time.Minute, 20*time.Minute)), force{set: true})
				place(f)
			}
		case ClassRecurBackup:
			// The same backup set fails every night: it maps to no CI.
			last := len(dc.dbs) - 1
			set := "nightly-" + dc.dbs[last].short
			server := backupServer(dc, last)
			p = problem{id: "P-backup-" + set + "-" + dc.name, class: kind}
			g.reserved["noci|backup|"+server] = true
			for night := 1; night < g.days; night++ {
				if night > 2 && !g.chance(0.85) {
					continue
				}
				at := g.t0.Add(time.Duration(night)*24*time.Hour + 3*time.Hour + 10*time.Minute + g.uniform(-5*time.Minute, 5*time.Minute)).Truncate(time.Millisecond)
				f := g.newFault(kind, "", at)
				g.alert(f, defBackup, backupTarget(dc, set, server), at, at.Add(g.uniform(2*time.Hour, 4*time.Hour)), force{set: true})
				place(f)
			}
		case ClassRecurJob:
			// A nightly ETL CronJob fails most nights, when the export it
			// reads is not ready: it maps to no CI.
			const job, namespace = "etl-orders", "data"
			p = problem{id: "P-job-" + job + "-" + dc.name, class: kind}
			for night := 1; night < g.days; night++ {
				if night > 2 && !g.chance(0.8) {
					continue
				}
				at := g.t0.Add(time.Duration(night)*24*time.Hour + 90*time.Minute + g.uniform(0, 3*time.Minute)).Truncate(time.Millisecond)
				f := g.newFault(kind, "", at)
				g.alert(f, defCron, cronTarget(dc, job, namespace), at, at.Add(g.uniform(time.Hour, 3*time.Hour)), force{set: true})
				place(f)
			}
		case ClassRecurDBSlow:
			// A database slows down every working morning when a report
			// runs on it; the services using it report high latency.
			var db *node
			for _, x := range dc.dbs {
				if len(x.services) > 0 && (db == nil || x.short == "analytics") {
					db = x
				}
			}
			if db == nil {
				continue
			}
			p = problem{id: "P-slow-" + db.id, class: kind}
			g.reserved["slow|"+db.id] = true
			for day := 0; day < g.days; day++ {
				start := g.t0.Add(time.Duration(day) * 24 * time.Hour)
				if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday || len(occ) >= 2 && !g.chance(0.85) {
					continue
				}
				at := start.Add(9*time.Hour + g.uniform(-10*time.Minute, 10*time.Minute)).Truncate(time.Millisecond)
				f := g.newFault(kind, db.id, at)
				end := at.Add(g.uniform(20*time.Minute, 45*time.Minute))
				g.alert(f, defDBSlow[db.engine], dbTarget(db), at, end, force{set: true})
				for _, s := range db.services {
					g.alert(f, defHighLatency, serviceTarget(s, false), at.Add(g.uniform(30*time.Second, 4*time.Minute)),
						end.Add(g.uniform(0, 3*time.Minute)), force{set: true})
				}
				place(f)
			}
		}
		if len(occ) < RecurMin {
			for _, f := range occ {
				f.problem = ""
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

// --- concurrent unrelated faults --------------------------------------------

// concurrentPair places two faults of different classes in one datacenter
// (sometimes behind one switch) starting within 60 s of each other: two
// incidents that must stay apart.
func (g *gen) concurrentPair(t0 time.Time) {
	dc := pick(g, g.e.dcs)
	t1 := t0.Add(g.uniform(0, 60*time.Second)).Truncate(time.Millisecond)
	h := pick(g, dc.hosts)
	if len(h.dbs) > 0 {
		return
	}
	single := func(h *node, at time.Time) {
		for try := 0; try < 5; try++ {
			if g.hostSingleton(h, pick(g, hostSingletons), at) {
				return
			}
		}
	}
	switch g.r.IntN(5) {
	case 0, 1: // a host alert and a slow database, often behind the same switch
		var db *node
		for _, x := range dc.dbs {
			if x.host.sw == h.sw && len(x.services) > 0 {
				db = x
				break
			}
		}
		if db == nil || !g.chance(0.6) {
			db = pick(g, dc.dbs)
		}
		if !g.allowed("slow|" + db.id) {
			return
		}
		single(h, t0)
		g.dbSlowdown(db, t1)
	case 2: // a host alert and another switch's cascade
		var other []*node
		for _, sw := range dc.switches {
			if sw != h.sw && g.allowed("cascade|"+sw.id) {
				other = append(other, sw)
			}
		}
		if len(other) == 0 {
			return
		}
		single(h, t0)
		g.switchCascade(pick(g, other), t1)
	case 3: // two different alerts on two hosts behind the same switch
		h2 := pick(g, h.sw.hosts)
		if h2 == h {
			return
		}
		d1 := pick(g, hostSingletons)
		d2 := pick(g, hostSingletons)
		if d1.name == d2.name {
			return
		}
		g.hostSingleton(h, d1, t0)
		g.hostSingleton(h2, d2, t1)
	default: // a host alert and an alert on a service elsewhere
		svc := pick(g, dc.services)
		single(h, t0)
		g.ciSingleton(svc, t1)
	}
}

// noCIPair places two unrelated no-CI faults overlapping in time.
func (g *gen) noCIPair(t0 time.Time) {
	g.noCIBurst(t0)
	t1 := t0.Add(g.uniform(0, 3*time.Minute)).Truncate(time.Millisecond)
	if g.chance(0.5) {
		g.noCIBurst(t1)
	} else {
		g.noCISingle(t1)
	}
}

// --- the whole schedule ----------------------------------------------------

// rates are the fault rates per day of the small estate; the large one
// multiplies them by its size (or by its switch count for cascades).
type rates struct {
	hostSingleton, ciSingleton float64
	switchCascadePerSwitch     float64
	routerCascadePerDCWeek     float64
	dbSlowdown, flapping       float64
	noCIBurst, noCISingle      float64
	concurrentPairs, noCIPairs float64
	recurringProblems          int
}

var scaleRates = map[string]rates{
	"small": {hostSingleton: 250, ciSingleton: 25, switchCascadePerSwitch: 0.1, routerCascadePerDCWeek: 0.5,
		dbSlowdown: 3, flapping: 1, noCIBurst: 3, noCISingle: 6, concurrentPairs: 3, noCIPairs: 1, recurringProblems: 3},
	"large": {hostSingleton: 280, ciSingleton: 25, switchCascadePerSwitch: 0.1, routerCascadePerDCWeek: 0.15,
		dbSlowdown: 3, flapping: 1, noCIBurst: 3, noCISingle: 6, concurrentPairs: 1.5, noCIPairs: 1, recurringProblems: 12},
}

func (g *gen) schedule() []problem {
	rt := scaleRates[g.scale]
	probs := g.recurring(rt.recurringProblems)

	var switches, dbs, others []*node
	var hosts []*node
	for _, dc := range g.e.dcs {
		switches = append(switches, dc.switches...)
		dbs = append(dbs, dc.dbs...)
		hosts = append(hosts, dc.hosts...)
		others = append(others, dc.router)
		others = append(others, dc.switches...)
		others = append(others, dc.dbs...)
		others = append(others, dc.services...)
	}

	// Router cascades: rare, spread over the datacenters.
	nr := int(math.Round(rt.routerCascadePerDCWeek * float64(len(g.e.dcs)) * float64(g.days) / 7))
	for i := 0; i < max(nr, 1); i++ {
		dc := g.e.dcs[(i+g.r.IntN(len(g.e.dcs)))%len(g.e.dcs)]
		g.routerCascade(dc, g.when())
	}
	for i, n := 0, g.howMany(rt.switchCascadePerSwitch*float64(len(switches))); i < n; i++ {
		for try := 0; try < 5; try++ {
			sw := pick(g, switches)
			if g.allowed("cascade|"+sw.id) && g.switchCascade(sw, g.when()) {
				break
			}
		}
	}
	for i, n := 0, g.howMany(rt.dbSlowdown*g.mult); i < n; i++ {
		for try := 0; try < 5; try++ {
			db := pick(g, dbs)
			if len(db.services) > 0 && g.allowed("slow|"+db.id) && g.dbSlowdown(db, g.when()) {
				break
			}
		}
	}
	for i, n := 0, g.howMany(rt.flapping*g.mult); i < n; i++ {
		for try := 0; try < 5 && !g.flapping(g.when()); try++ {
		}
	}
	for i, n := 0, g.howMany(rt.noCIBurst*g.mult); i < n; i++ {
		for try := 0; try < 5 && !g.noCIBurst(g.when()); try++ {
		}
	}
	for i, n := 0, g.howMany(rt.noCISingle*g.mult); i < n; i++ {
		for try := 0; try < 5 && !g.noCISingle(g.when()); try++ {
		}
	}
	for i, n := 0, g.howMany(rt.noCIPairs*g.mult); i < n; i++ {
		g.noCIPair(g.when())
	}
	for i, n := 0, g.howMany(rt.concurrentPairs*g.mult); i < n; i++ {
		g.concurrentPair(g.when())
	}
	for i, n := 0, g.howMany(rt.ciSingleton*g.mult); i < n; i++ {
		for try := 0; try < 5 && !g.ciSingleton(pick(g, others), g.when()); try++ {
		}
	}
	for i, n := 0, g.howMany(rt.hostSingleton*g.mult); i < n; i++ {
		for try := 0; try < 8; try++ {
			if g.hostSingleton(pick(g, hosts), pick(g, hostSingletons), g.when()) {
				break
			}
		}
	}
	sort.SliceStable(g.faults, func(i, j int) bool {
		a, b := g.faults[i], g.faults[j]
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		return a.seq < b.seq
	})
	return probs
}
