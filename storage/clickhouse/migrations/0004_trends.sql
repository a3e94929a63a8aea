-- What the trends (package trend) read of the incidents: every version of
-- an incident flattened (trend.RowOf) and packed in one record
-- (trend.EncodeRecord), written with its row in incidents, versioned and
-- visible the same way. last_at is the version's trend.LastMoment, or a
-- later reopen moment of the same write: a trend over [from, to) reads the
-- incidents opened before to whose latest version is open or whose
-- greatest last_at is at or after from, without decoding the others.
-- Incidents written before this migration are flattened once at start
-- (Store.backfillTrends).
CREATE TABLE IF NOT EXISTS incident_trends (
	seq       Int64,
	version   Int64,
	commit_id UInt64,
	id        String,
	status    String,
	opened_at Int64,
	last_at   Int64,
	record    String,
	opened    DateTime
) ENGINE = ReplacingMergeTree(commit_id)
PARTITION BY toYYYYMM(opened)
ORDER BY (seq, version);
