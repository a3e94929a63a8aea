// Package incident holds the incident model of Vigia: statuses and their
// allowed transitions, ITIL priorities, the explanation recorded for every
// alert membership, and the append-only timeline.
//
// It also holds the analyst workflow as plain data and functions:
//
//   - the lifecycle: [Next] and [Allowed] for analyst [Action]s,
//     [Incident.NextAuto] for the system's own moves (auto-resolve,
//     auto-reopen);
//   - the ITIL priority [Matrix] (urgency x impact), the category tree
//     ([Categories]), support levels L0..L4 ([SupportLevel]);
//   - SLA clocks on business-hours [Calendar]s with pauses ([Evaluate]);
//   - escalation rules ([DueEscalations]);
//   - [Config], compiled into a [Workflow] that applies all of the above to
//     an [Incident].
//
// It is a pure domain package: types and logic only, no goroutines and no
// I/O (except that compiling a calendar loads its time zone), and it
// imports nothing internal. It owns no state: the correlation engine owns
// live incidents and calls the Workflow from its one goroutine. A Workflow
// is immutable and safe for concurrent use.
package incident
