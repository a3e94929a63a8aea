// Package trend computes Vigia's service-desk trends (contract §6,
// GET /api/v1/trends/{name}) from rows that a store returns: incident
// counts, MTTA, MTTR, SLA compliance, resolution per support level, work
// per analyst, noise reduction, per-rule precision, top recurring problems
// and a monthly projection.
//
// It is a pure package: plain functions over plain rows, no goroutines and
// no I/O, so both stores (embedded and ClickHouse) feed it the same rows
// and get the same figures. A store's job is only to return the rows of a
// time range ([IncidentRow], [Activity], [FeedbackRow] and problems); how
// each figure is computed lives here, once, and is stated in
// [Result.Method].
//
// Time is UTC throughout. Buckets are whole UTC days, ISO weeks (Monday
// 00:00 UTC) or calendar months; a query's range is widened to whole
// buckets ([Query.Normalize]).
//
// trend/trendtest holds the seeded history and hand-computed expectations
// that every store's trend reads must reproduce.
package trend
