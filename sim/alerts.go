package sim

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// via is how an alert reaches Vigia.
type via uint8

const (
	viaAlertmanager via = iota
	viaGrafana
	viaEvents
)

// def describes one kind of alert: its Prometheus rule and how it looks
// when Grafana or another monitor (generic events) raises it instead.
type def struct {
	name     string
	severity string
	summary  string // fmt, %s = the target
	desc     string
	expr     string
	// Grafana rule title and folder, and the share of these alerts that
	// come from Grafana.
	grafana  string
	folder   string
	pGrafana float64
	// Generic events: the monitor and the share of these alerts it raises.
	evSource string
	pEvents  float64
}

// Host alerts (node exporter, or zabbix for hardware).
var (
	defNodeUnreachable = def{name: "NodeUnreachable", severity: "critical", summary: "Node %s is unreachable",
		desc: "Prometheus has not been able to scrape the node exporter for 1 minute.", expr: `up{job="node"} == 0`}
	defHighCPU = def{name: "HighCPU", severity: "warning", summary: "CPU usage above 90%% on %s",
		desc: "node_cpu utilisation has been above 90% for 5 minutes.", expr: `instance:node_cpu_utilisation:rate5m > 0.9`,
		grafana: "High CPU usage", folder: "Infra", pGrafana: 0.2}
	defHighMemory = def{name: "HighMemory", severity: "warning", summary: "Memory usage above 90%% on %s",
		desc: "Available memory has been below 10% for 10 minutes.", expr: `instance:node_memory_utilisation:ratio > 0.9`,
		grafana: "High memory usage", folder: "Infra", pGrafana: 0.2}
	defHighLoad = def{name: "HighLoad", severity: "warning", summary: "Load average high on %s",
		desc: "The 15 minute load average is above twice the number of CPUs.", expr: `node_load15 / count without (cpu, mode) (node_cpu_seconds_total{mode="idle"}) > 2`,
		grafana: "High load", folder: "Infra", pGrafana: 0.2}
	defDiskFull = def{name: "DiskFull", severity: "critical", summary: "Filesystem on %s is above 95%% full",
		desc: "Less than 5% of the filesystem is free.", expr: `node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05`,
		grafana: "Disk almost full", folder: "Infra", pGrafana: 0.05}
	defDiskWillFill = def{name: "DiskWillFillIn4Hours", severity: "warning", summary: "Filesystem on %s will fill in 4 hours",
		desc: "Predicted free space at current write rate reaches 0 within 4h.", expr: `predict_linear(node_filesystem_avail_bytes[6h], 4 * 3600) < 0`}
	defNTPDrift = def{name: "NTPDrift", severity: "warning", summary: "Clock of %s drifts from NTP",
		desc: "The clock offset is above 50ms.", expr: `abs(node_timex_offset_seconds) > 0.05`}
	defSwap = def{name: "SwapUsageHigh", severity: "warning", summary: "Swap usage high on %s",
		desc: "More than 80% of swap is used.", expr: `1 - node_memory_SwapFree_bytes / node_memory_SwapTotal_bytes > 0.8`}
	defReadOnly = def{name: "FilesystemReadOnly", severity: "critical", summary: "Filesystem remounted read-only on %s",
		desc: "The kernel remounted a filesystem read-only after I/O errors.", expr: `node_filesystem_readonly == 1`}
	defInodes = def{name: "InodesExhausted", severity: "warning", summary: "Inodes almost exhausted on %s",
		desc: "Less than 5% of inodes are free.", expr: `node_filesystem_files_free / node_filesystem_files < 0.05`}
	defIOWait = def{name: "HighIOWait", severity: "warning", summary: "High I/O wait on %s",
		desc: "CPU iowait above 30% for 10 minutes.", expr: `avg by (instance) (rate(node_cpu_seconds_total{mode="iowait"}[5m])) > 0.3`,
		grafana: "High I/O wait", folder: "Infra", pGrafana: 0.2}
	defNetErrors = def{name: "NetworkReceiveErrors", severity: "warning", summary: "Network receive errors on %s",
		desc: "The interface reports receive errors.", expr: `rate(node_network_receive_errs_total[5m]) > 1`}
	defOOM = def{name: "OOMKillDetected", severity: "warning", summary: "OOM kill detected on %s",
		desc: "The kernel OOM killer ended a process.", expr: `increase(node_vmstat_oom_kill[5m]) > 0`}
	defUnitFailed = def{name: "SystemdUnitFailed", severity: "warning", summary: "A systemd unit failed on %s",
		desc: "A systemd unit is in the failed state.", expr: `node_systemd_unit_state{state="failed"} == 1`}
	defConntrack = def{name: "ConntrackTableFull", severity: "warning", summary: "Conntrack table almost full on %s",
		desc: "More than 90% of conntrack entries are used.", expr: `node_nf_conntrack_entries / node_nf_conntrack_entries_limit > 0.9`}
	defClockSync = def{name: "ClockNotSynchronising", severity: "warning", summary: "Clock not synchronising on %s",
		desc: "The clock is not synchronised to NTP.", expr: `min_over_time(node_timex_sync_status[5m]) == 0`}
	defFan = def{name: "FanFailure", severity: "warning", summary: "Fan failure on %s",
		desc: "A fan reports a failed state.", expr: `ipmi_fan_speed_state != 0`, evSource: "zabbix", pEvents: 0.15}
	defPSU = def{name: "PowerSupplyDegraded", severity: "warning", summary: "Power supply degraded on %s",
		desc: "One power supply reports a failure; the device runs on the other.", expr: `ipmi_power_supply_state != 0`, evSource: "zabbix", pEvents: 0.15}
	defTemp = def{name: "TemperatureHigh", severity: "warning", summary: "Temperature high on %s",
		desc: "The inlet temperature is above 35C.", expr: `ipmi_temperature_celsius{name="Inlet"} > 35`, evSource: "zabbix", pEvents: 0.15}
	defRAID = def{name: "RAIDDegraded", severity: "critical", summary: "RAID array degraded on %s",
		desc: "A disk of the RAID array failed.", expr: `node_md_disks{state="failed"} > 0`, evSource: "zabbix", pEvents: 0.2}
)

// hostSingletons are the alerts a host raises alone.
var hostSingletons = []def{defHighCPU, defHighMemory, defHighLoad, defDiskFull, defDiskWillFill, defNTPDrift,
	defSwap, defReadOnly, defInodes, defIOWait, defNetErrors, defOOM, defUnitFailed, defConntrack, defClockSync,
	defFan, defPSU, defTemp, defRAID}

// followUps: a singleton that often brings a second alert on the same host.
var followUps = map[string]def{
	"DiskWillFillIn4Hours": defDiskFull,
	"HighLoad":             defHighCPU,
	"HighMemory":           defOOM,
	"SwapUsageHigh":        defHighMemory,
	"RAIDDegraded":         defIOWait,
}

// Network alerts (snmp_exporter, or zabbix).
var (
	defSwitchDown = def{name: "SwitchDown", severity: "critical", summary: "Switch %s is down",
		desc: "The switch does not answer SNMP.", expr: `up{job="snmp"} == 0`, evSource: "zabbix", pEvents: 0.2}
	defInterfaceDown = def{name: "InterfaceDown", severity: "critical", summary: "Uplink interface down on %s",
		desc: "The interface operational status is down.", expr: `ifOperStatus != 1`, evSource: "zabbix", pEvents: 0.15}
	defRouterDown = def{name: "RouterDown", severity: "critical", summary: "Core router %s is down",
		desc: "The router does not answer SNMP.", expr: `up{job="snmp"} == 0`, evSource: "zabbix", pEvents: 0.15}
	defBGPDown = def{name: "BGPSessionDown", severity: "critical", summary: "BGP session down on %s",
		desc: "A BGP session left the Established state.", expr: `bgpPeerState != 6`, evSource: "zabbix", pEvents: 0.2}
	defIfUtil = def{name: "HighInterfaceUtilization", severity: "warning", summary: "Interface utilisation above 90%% on %s",
		desc: "Inbound traffic above 90% of the link speed for 15 minutes.", expr: `rate(ifHCInOctets[5m]) * 8 / ifHighSpeed / 1e6 > 0.9`}
	defIfErrors = def{name: "InterfaceErrors", severity: "warning", summary: "Interface errors on %s",
		desc: "CRC errors are increasing on an interface.", expr: `rate(ifInErrors[5m]) > 5`}
	defRouterCPU = def{name: "RouterHighCPU", severity: "warning", summary: "Router CPU above 80%% on %s",
		desc: "The route processor CPU is above 80%.", expr: `cpmCPUTotal5minRev > 80`}
)

var switchSingletons = []def{defIfUtil, defIfErrors, defFan, defPSU}

// Database alerts.
var (
	defDBDown = map[string]def{
		"mysql": {name: "MySQLDown", severity: "critical", summary: "MySQL %s is down", desc: "mysql_up is 0.", expr: `mysql_up == 0`},
		"postgres": {name: "PostgresDown", severity: "critical", summary: "PostgreSQL %s is down", desc: "pg_up is 0.",
			expr: `pg_up == 0`},
	}
	defDBSlow = map[string]def{
		"mysql": {name: "MySQLSlowQueries", severity: "warning", summary: "Slow queries on %s",
			desc: "More than 10 slow queries per second.", expr: `rate(mysql_global_status_slow_queries[5m]) > 10`},
		"postgres": {name: "PostgresSlowQueries", severity: "warning", summary: "Slow queries on %s",
			desc: "The 99th percentile statement time is above 2s.", expr: `pg_stat_statements_p99_seconds > 2`},
	}
	defDBSingle = map[string][]def{
		"mysql": {
			{name: "MySQLReplicationLag", severity: "warning", summary: "Replication lag on %s", desc: "The replica is more than 60s behind.", expr: `mysql_slave_status_seconds_behind_master > 60`},
			{name: "MySQLTooManyConnections", severity: "warning", summary: "Too many connections on %s", desc: "More than 80% of max_connections are used.", expr: `mysql_global_status_threads_connected / mysql_global_variables_max_connections > 0.8`},
		},
		"postgres": {
			{name: "PostgresReplicationLag", severity: "warning", summary: "Replication lag on %s", desc: "The replica is more than 60s behind.", expr: `pg_replication_lag_seconds > 60`},
			{name: "PostgresTooManyConnections", severity: "warning", summary: "Too many connections on %s", desc: "More than 80% of max_connections are used.", expr: `sum(pg_stat_activity_count) / pg_settings_max_connections > 0.8`},
		},
	}
)

// Service alerts.
var (
	defServiceDown = def{name: "ServiceDown", severity: "critical", summary: "Service %s is down",
		desc: "The health check has failed for 1 minute.", expr: `probe_success{job="blackbox"} == 0`}
	defHighLatency = def{name: "HighLatency", severity: "warning", summary: "High latency on %s",
		desc: "The 99th percentile latency is above 1s.", expr: `histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m]))) > 1`,
		grafana: "High latency", folder: "Services", pGrafana: 0.35}
	defHighErrorRate = def{name: "HighErrorRate", severity: "warning", summary: "High error rate on %s",
		desc: "More than 5% of requests fail.", expr: `sum by (service) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (service) (rate(http_requests_total[5m])) > 0.05`,
		grafana: "High error rate", folder: "Services", pGrafana: 0.35}
	defSLOBurn = def{name: "SLOBurnRateHigh", severity: "warning", summary: "Error budget burning fast on %s",
		desc: "The 1h burn rate is above 14.4.", expr: `slo:sli_error:ratio_rate1h > 14.4 * 0.001`,
		grafana: "SLO burn rate high", folder: "Services", pGrafana: 0.3}
	defCanary = def{name: "CanaryFailed", severity: "warning", summary: "Canary checks fail on %s",
		desc: "The synthetic canary failed 3 times in a row.", expr: `canary_success == 0`}
)

var serviceSingletons = []def{defHighLatency, defSLOBurn, defCanary, defHighErrorRate}

// runbook returns the runbook URL of an alert name.
func runbook(name string) string { return "https://runbooks.example.com/" + name }

// generatorURL is the Prometheus graph link Alertmanager forwards.
func generatorURL(cluster, expr string) string {
	return "http://prometheus-" + cluster + ".example.com:9090/graph?g0.expr=" + queryEscape(expr) + "&g0.tab=1"
}

// queryEscape is url.QueryEscape, written out so the encoding is obvious.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// fingerprint is Prometheus' model.LabelSet.Fingerprint, as Alertmanager
// and Grafana send it.
func fingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// EventFingerprint is the fingerprint Vigia gives a generic event that
// carries none (contract §2: from the source and the sorted labels): the
// label fingerprint of its labels plus source, plus severity and alertname
// (from summary) when the labels lack them.
func EventFingerprint(source, severity, summary string, labels map[string]string) string {
	all := make(map[string]string, len(labels)+3)
	for k, v := range labels {
		all[k] = v
	}
	all["source"] = source
	if _, ok := all["severity"]; !ok && severity != "" {
		all["severity"] = severity
	}
	if all["alertname"] == "" && summary != "" {
		all["alertname"] = summary
	}
	return fingerprint(all)
}

// ruleUID is a Grafana-style alert rule UID, derived from its title and
// cluster so that every alert of one rule shares it.
func ruleUID(title, cluster string) string {
	h := fnv.New64a()
	h.Write([]byte(title + "\x00" + cluster))
	v := h.Sum64()
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := []byte{'b'}
	for i := 0; i < 13; i++ {
		b = append(b, digits[v%36])
		v /= 36
	}
	return string(b)
}

// Time formats.
const (
	// receivedFormat is the replay file's received_at: UTC, milliseconds.
	receivedFormat = "2006-01-02T15:04:05.000Z07:00"
	// eventFormat is how generic event monitors write times.
	eventFormat = "2006-01-02T15:04:05.000Z07:00"
	// zeroTime is Alertmanager's endsAt for a firing alert.
	zeroTime = "0001-01-01T00:00:00Z"
)

// promTime formats like Go's time.Time JSON encoding (RFC 3339 with
// trailing zeros of the fraction trimmed), as Alertmanager writes.
func promTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// zabbixZone is the local time zone of the zabbix server: its events carry
// an offset rather than Z.
var zabbixZone = time.FixedZone("CET", 3600)

func summaryOf(d def, target string) string { return fmt.Sprintf(d.summary, target) }
