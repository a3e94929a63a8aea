// Package sim is Vigia's correlation test bench: a simulator of a monitored
// estate and a scorer of Vigia's grouping against the simulator's ground
// truth.
//
// The simulator (Generate, WriteDir) builds an estate of datacenters, core
// routers, switches, hosts, databases and business services (contract §4),
// injects faults over some days (switch and router cascades, some with a
// silent root, database slowdowns, singletons, concurrent unrelated faults,
// flapping alerts, recurring faults that are problems in the sense of
// ITIL, and alerts that map to no CI), and emulates how the alerts reach
// Vigia: Alertmanager's grouping, group_wait, group_interval,
// repeat_interval and send_resolved, HA pairs that both notify, late
// deliveries, Grafana webhooks and generic events (contract §2 and §3).
// The truth records, for every alert episode delivered, the true incident
// it belongs to, that incident's root-cause CI, whether it flaps, and the
// recurring problem it is an occurrence of. The output depends on the seed
// only: no wall clock, no map iteration order.
//
// The scorer (Score) compares an export document (contract §5) with the
// truth: pairwise precision, recall and F1 over same-incident episode
// pairs, the Adjusted Rand Index, false merges, splits, compression,
// root-cause accuracy, flapping, and problem detection; and it scores two
// baselines on the same replay file (no correlation, and one incident per
// Alertmanager group).
//
// The package holds no global state; everything is safe for concurrent use
// on distinct values.
package sim
