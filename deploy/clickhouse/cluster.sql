-- Vigia's ClickHouse schema for a cluster: ReplicatedMergeTree tables
-- (<name>_local) on every node, and Distributed tables with the names Vigia
-- queries. It is the cluster variant of schema.sql (migrations 0001_init, 0002_problems, 0003_feedback, 0004_trends);
-- see docs/clickhouse.md.
--
-- Before running it:
--   * replace vigia_cluster with the cluster's name in <remote_servers>;
--   * every node needs the macros {shard} and {replica}, and ZooKeeper;
--   * the user Vigia connects as needs insert_distributed_sync = 1 (so that
--     an insert returns once the shards have it), and should have
--     insert_quorum = 2 and select_sequential_consistency = 1 when shards
--     have two replicas or more (see docs/clickhouse.md).
--
--   clickhouse-client --multiquery < deploy/clickhouse/cluster.sql
--
-- Sharding keeps every version of an entity on one shard, so that
-- ReplicatedReplacingMergeTree collapses its duplicates: episodes by id,
-- incidents by seq, timelines by incident, alert events by episode.
-- checkpoints, commit_ranges and schema_migrations are small and must be
-- read whole: they are replicated to every node (one shard, all replicas)
-- and read locally, with no Distributed table.

CREATE DATABASE IF NOT EXISTS vigia ON CLUSTER vigia_cluster;

CREATE TABLE IF NOT EXISTS vigia.schema_migrations ON CLUSTER vigia_cluster (version String, applied_at DateTime)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/vigia/schema_migrations', '{replica}') ORDER BY version;

CREATE TABLE IF NOT EXISTS vigia.checkpoints ON CLUSTER vigia_cluster (
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
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/vigia/checkpoints', '{replica}')
ORDER BY commit_id;

CREATE TABLE IF NOT EXISTS vigia.commit_ranges ON CLUSTER vigia_cluster (
	kind       Enum8('reserved' = 1, 'aborted' = 2),
	lo         UInt64,
	hi         UInt64,
	written_at DateTime
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/vigia/commit_ranges', '{replica}')
ORDER BY (kind, lo);

CREATE TABLE IF NOT EXISTS vigia.episodes_local ON CLUSTER vigia_cluster (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigia/episodes_local', '{replica}', commit_id)
PARTITION BY toYYYYMM(starts)
ORDER BY (id, version);

CREATE TABLE IF NOT EXISTS vigia.episodes ON CLUSTER vigia_cluster AS vigia.episodes_local
ENGINE = Distributed(vigia_cluster, vigia, episodes_local, intHash64(id));

CREATE TABLE IF NOT EXISTS vigia.incidents_local ON CLUSTER vigia_cluster (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigia/incidents_local', '{replica}', commit_id)
PARTITION BY toYYYYMM(opened)
ORDER BY (seq, version);

CREATE TABLE IF NOT EXISTS vigia.incidents ON CLUSTER vigia_cluster AS vigia.incidents_local
ENGINE = Distributed(vigia_cluster, vigia, incidents_local, intHash64(seq));

CREATE TABLE IF NOT EXISTS vigia.timeline_local ON CLUSTER vigia_cluster (
	incident_id String,
	event_key   String,
	commit_id   UInt64,
	seq         UInt32,
	at          Int64,
	kind        String,
	actor       String,
	data        String,
	ts          DateTime
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/vigia/timeline_local', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, commit_id, seq);

CREATE TABLE IF NOT EXISTS vigia.timeline ON CLUSTER vigia_cluster AS vigia.timeline_local
ENGINE = Distributed(vigia_cluster, vigia, timeline_local, cityHash64(incident_id));

CREATE TABLE IF NOT EXISTS vigia.alert_events_local ON CLUSTER vigia_cluster (
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
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/vigia/alert_events_local', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (toDate(ts), alertname, ts);

CREATE TABLE IF NOT EXISTS vigia.alert_events ON CLUSTER vigia_cluster AS vigia.alert_events_local
ENGINE = Distributed(vigia_cluster, vigia, alert_events_local, intHash64(episode_id));

-- On each node, from the episodes rows its shard receives.
CREATE MATERIALIZED VIEW IF NOT EXISTS vigia.alert_events_mv ON CLUSTER vigia_cluster TO vigia.alert_events_local AS
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
FROM vigia.episodes_local;

INSERT INTO vigia.schema_migrations (version, applied_at) SELECT '0001_init', now()
WHERE (SELECT count() FROM vigia.schema_migrations WHERE version = '0001_init') = 0;

-- migration 0002_problems: problems are written by the problem jobs in one
-- insert per save; sharded by seq, so all versions of one are on one shard.
CREATE TABLE IF NOT EXISTS vigia.problems_local ON CLUSTER vigia_cluster (
	seq     Int64,
	version Int64,
	saved   Int64,
	id      String,
	status  String,
	data    String
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigia/problems_local', '{replica}', saved)
ORDER BY (seq, version);

CREATE TABLE IF NOT EXISTS vigia.problems ON CLUSTER vigia_cluster AS vigia.problems_local
ENGINE = Distributed(vigia_cluster, vigia, problems_local, intHash64(seq));

INSERT INTO vigia.schema_migrations (version, applied_at) SELECT '0002_problems', now()
WHERE (SELECT count() FROM vigia.schema_migrations WHERE version = '0002_problems') = 0;

-- migration 0003_feedback: written with the batches, sharded by incident.
CREATE TABLE IF NOT EXISTS vigia.feedback_local ON CLUSTER vigia_cluster (
	feedback_key String,
	commit_id    UInt64,
	at           Int64,
	actor        String,
	incident_id  String,
	method       String,
	rule         String,
	decision     String,
	reason       String,
	alerts       Int64,
	ts           DateTime
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/vigia/feedback_local', '{replica}')
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, feedback_key);

CREATE TABLE IF NOT EXISTS vigia.feedback ON CLUSTER vigia_cluster AS vigia.feedback_local
ENGINE = Distributed(vigia_cluster, vigia, feedback_local, cityHash64(incident_id));

INSERT INTO vigia.schema_migrations (version, applied_at) SELECT '0003_feedback', now()
WHERE (SELECT count() FROM vigia.schema_migrations WHERE version = '0003_feedback') = 0;

-- migration 0004_trends: the incidents flattened for the trends, sharded
-- by seq like incidents.
CREATE TABLE IF NOT EXISTS vigia.incident_trends_local ON CLUSTER vigia_cluster (
	seq       Int64,
	version   Int64,
	commit_id UInt64,
	id        String,
	status    String,
	opened_at Int64,
	last_at   Int64,
	record    String,
	opened    DateTime
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/vigia/incident_trends_local', '{replica}', commit_id)
PARTITION BY toYYYYMM(opened)
ORDER BY (seq, version);

CREATE TABLE IF NOT EXISTS vigia.incident_trends ON CLUSTER vigia_cluster AS vigia.incident_trends_local
ENGINE = Distributed(vigia_cluster, vigia, incident_trends_local, intHash64(seq));

INSERT INTO vigia.schema_migrations (version, applied_at) SELECT '0004_trends', now()
WHERE (SELECT count() FROM vigia.schema_migrations WHERE version = '0004_trends') = 0;
