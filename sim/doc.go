// Package sim is Vigia's correlation test bench: a simulator of a monitored
// estate and a scorer of Vigia's grouping against the simulator's ground
// truth.
//
// The simulator (Generate, WriteDir) builds an estate of datacenters, core
// routers, switches, hosts, databases and business services (contract §4),
// injects faults over some days (switch and router cascades, some with a
// silent root, database slowdowns, singletons, concurrent unrelated faults,
// flapping alerts, recurring faults that are problems in the sense of ITIL
// (see Recurring problems), and alerts that map to no CI), and emulates
// how the alerts reach Vigia: Alertmanager's grouping, group_wait,
// group_interval, repeat_interval and send_resolved, HA pairs that both
// notify, late deliveries, Grafana webhooks and generic events (contract
// §2 and §3).
// The truth records, for every alert episode delivered, the true incident
// it belongs to, that incident's root-cause CI, whether it flaps, and the
// recurring problem it is an occurrence of. The output depends on the seed
// only: no wall clock, no map iteration order.
//
// # Recurring problems
//
// The truth's problems follow the definition of issue 5 with Vigia's
// default detection settings: a recurring problem is one fault on one
// target that occurs as RecurMin (3) or more incidents within RecurWindow
// (14 days). Its occurrences raise the same alerts on the same target
// each time (the nightly full disk sometimes without its early warning).
//
// The target of an alert is the root-cause CI of the fault it belongs to
// (an alert on a dependent CI is a symptom of that fault, not a fault of
// its own); for a fault with no CI, it is the alert's values of the scope
// labels (cluster, namespace, service, job, instance, host, hostname,
// node, pod: Vigia's default signature scope; ports stripped), that is the monitored Prometheus target and where it
// runs. Labels outside them (zone, cronjob, queue, topic, domain,
// backup_set, product, ifName, mountpoint) do not tell targets apart, and
// a Grafana rule counts as the Prometheus alert it mirrors: this is the
// coarsest reasonable reading, so a fault that is one-off under it is
// one-off under any finer one.
//
// Every other fault is one-off, and the generator makes it so: no alert
// name of one-off faults occurs on one target in RecurMin or more of them
// within any RecurWindow, nor does the set of alert names of a whole
// one-off incident on its target (its root CI, or for a fault with no CI
// the values of each scope label over its alerts, "*" for more than
// three); and no one-off fault raises an alert on the target of a
// recurring problem. No-CI targets are drawn so that repeated draws use
// different instances (a zone's own secondary name server, a product's
// licence server, a CronJob's namespace, several backup servers, RabbitMQ
// and Kafka clusters per datacenter, a consumer's namespace), and a fault
// that would break the rule is not placed (another is drawn). The
// recurring classes are a nightly full disk on a database host, an uplink
// or a BGP session dropping every few days, a nightly failed backup set
// and (large scale) a nightly failed CronJob and a database slowing down
// every working morning with the services using it. Recurrence of one
// alert name across many CIs of a type, or of different alerts on one CI,
// is not a problem of the truth.
//
// The scorer (Score) compares an export document (contract §5) with the
// truth: pairwise precision, recall and F1 over same-incident episode
// pairs, the Adjusted Rand Index, false merges, splits, compression,
// root-cause accuracy, flapping, and problem detection (a predicted
// problem matches the truth problem that more than half of its incidents'
// episodes belong to; precision is the share of predicted problems that
// match one, recall the share of truth problems matched by at least one,
// so a truth problem split into two predicted problems counts once for
// recall and both are right for precision); and it scores two
// baselines on the same replay file (no correlation, and one incident per
// Alertmanager group).
//
// The package holds no global state; everything is safe for concurrent use
// on distinct values.
package sim
