// Package clickhouse is Vigia's ClickHouse store, for volume, retention and
// long-range trends. It has the methods and the behaviour of
// storage/embedded (the two pass storage/storagetest), over clickhouse-go/v2
// and the native protocol, with SQL that ClickHouse 18.16 and current
// releases accept. No other package imports clickhouse-go.
//
// ClickHouse has no transactions, so a batch (Apply) is made atomic by
// visibility instead: every row carries the commit id of the write that
// produced it, the write's checkpoint row is inserted last, and readers see
// only rows whose commit has a checkpoint and was not aborted. Ids are
// reserved (persisted) before rows use them, so a new writer can abort every
// id a crashed one may have used. Episodes and incidents are versioned rows
// read with argMax; timeline events carry a deterministic key; counters are
// the sum of the checkpoint rows. A batch written twice therefore counts
// once, and a batch cut short by an outage or a crash is never seen.
//
// Problems (SaveProblems) are written apart from the batches, one insert
// per save, which ClickHouse writes whole or not at all.
//
// One writer per database: a Store applies batches from one goroutine (the
// pipeline); any number of goroutines and processes may read.
package clickhouse
