-- Vigia's ClickHouse schema, version 1. Accepted by ClickHouse 18.16 (the
-- server Debian ships) and by current releases: no DateTime64, Map, JSON,
-- TTL or LowCardinality. Times that must round-trip exactly are Int64
-- nanoseconds since the epoch (0 = unset); DateTime columns are seconds, for
-- partitions and trend queries.
--
-- Every data row carries commit_id, the write (Apply) that produced it. A
-- row is visible only when a checkpoint row with its commit_id exists and
-- the id is in no 'aborted' range of commit_ranges: that is how a write cut
-- short (ClickHouse down half-way, a crash before the checkpoint) stays
-- invisible, and how a batch written twice counts once.

-- One row per committed write: the journal position the store reached and
-- the counter deltas the write brought (the counters are their sum).
CREATE TABLE IF NOT EXISTS checkpoints (
	commit_id         UInt64,
	journal_offset    UInt64,
	clock             Int64,
	next_incident_seq Int64,
	next_episode_id   Int64,
	deliveries        Int64,
	alerts            Int64,
	repeats           Int64,
	suppressed        Int64,
	written_at        DateTime
) ENGINE = MergeTree ORDER BY commit_id;

-- Commit ids a writer reserved before using them, and ids of writes that
-- never committed.
CREATE TABLE IF NOT EXISTS commit_ranges (
	kind       Enum8('reserved' = 1, 'aborted' = 2),
	lo         UInt64,
	hi         UInt64,
	written_at DateTime
) ENGINE = MergeTree ORDER BY (kind, lo);

-- Alert episodes as versioned rows: one row per version (every notification
-- of an episode makes a version). The latest state of an episode is
-- argMax(column, (version, commit_id)) over its visible rows. Merges only
-- collapse rows of the same (id, version), keeping the latest write.
CREATE TABLE IF NOT EXISTS episodes (
	id            Int64,
	version       Int64,
	commit_id     UInt64,
	fingerprint   String,
	starts_at     Int64,
	ends_at       Int64,
	status        Enum8('firing' = 1, 'resolved' = 2),
	incident_id   String,
	first_seen    Int64,
	last_seen     Int64,
	notifications UInt32,
	source        String,
	alertname     String,
	severity      String,
	label_keys    Array(String),
	label_values  Array(String),
	data          String,
	starts        DateTime
) ENGINE = ReplacingMergeTree(commit_id)
PARTITION BY toYYYYMM(starts)
ORDER BY (id, version);

-- Incidents as versioned rows, read like episodes. status is the name
-- (incident.Status.String()), a String so that new statuses need no DDL.
CREATE TABLE IF NOT EXISTS incidents (
	seq         Int64,
	version     Int64,
	commit_id   UInt64,
	id          String,
	status      String,
	priority    UInt8,
	severity    String,
	title       String,
	method      String,
	opened_at   Int64,
	updated_at  Int64,
	resolved_at Int64,
	data        String,
	opened      DateTime
) ENGINE = ReplacingMergeTree(commit_id)
PARTITION BY toYYYYMM(opened)
ORDER BY (seq, version);

-- The incidents' append-only timelines. event_key is deterministic
-- (storage.EventKeys): readers keep the first visible row of each key.
CREATE TABLE IF NOT EXISTS timeline (
	incident_id String,
	event_key   String,
	commit_id   UInt64,
	seq         UInt32,
	at          Int64,
	kind        String,
	actor       String,
	data        String,
	ts          DateTime
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, commit_id, seq);

-- One row per alert notification that changed an episode, filled from the
-- episodes table, laid out for trend queries over time.
CREATE TABLE IF NOT EXISTS alert_events (
	ts            DateTime,
	starts        DateTime,
	episode_id    Int64,
	version       Int64,
	commit_id     UInt64,
	fingerprint   String,
	alertname     String,
	severity      String,
	source        String,
	status        Enum8('firing' = 1, 'resolved' = 2),
	incident_id   String,
	notifications UInt32,
	label_keys    Array(String),
	label_values  Array(String)
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (toDate(ts), alertname, ts);

CREATE MATERIALIZED VIEW IF NOT EXISTS alert_events_mv TO alert_events AS
SELECT
	toDateTime(intDiv(greatest(last_seen, 0), 1000000000)) AS ts,
	starts,
	id AS episode_id,
	version,
	commit_id,
	fingerprint,
	alertname,
	severity,
	source,
	status,
	incident_id,
	notifications,
	label_keys,
	label_values
FROM episodes;
