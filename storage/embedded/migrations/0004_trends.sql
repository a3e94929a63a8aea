-- What the trends (package trend) read, kept so that they read it fast.
-- applyTrends (feedback.go) writes it in the transaction of every batch.

-- The analysts' decisions and corrections (correlate.Feedback), against
-- the method and rule that grouped each incident. feedback_key makes a
-- batch applied twice store its feedback once.
CREATE TABLE feedback (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	feedback_key TEXT NOT NULL UNIQUE,
	at           INTEGER NOT NULL,
	actor        TEXT NOT NULL,
	incident_id  TEXT NOT NULL,
	method       TEXT NOT NULL,
	rule         TEXT NOT NULL,
	decision     TEXT NOT NULL,
	reason       TEXT NOT NULL,
	alerts       INTEGER NOT NULL
);
CREATE INDEX feedback_at ON feedback(at);

-- The engine's counts (correlate.Stats) per UTC day of the batch's clock;
-- day is the number of days since 1970-01-01.
CREATE TABLE activity_daily (
	day        INTEGER PRIMARY KEY,
	deliveries INTEGER NOT NULL DEFAULT 0,
	alerts     INTEGER NOT NULL DEFAULT 0,
	repeats    INTEGER NOT NULL DEFAULT 0,
	suppressed INTEGER NOT NULL DEFAULT 0
);
-- The counts in meta from before this migration have no day: remember when
-- counting per day began, unless nothing was counted yet.
INSERT INTO meta(key, value)
SELECT 'activity_since', CAST(CAST(unixepoch('now') AS INTEGER) * 1000000000 AS TEXT)
FROM meta WHERE key = 'deliveries' AND CAST(value AS INTEGER) > 0;

-- Each incident's latest version as a trend.IncidentRow, packed in one
-- self-delimiting text record (trend.EncodeRecord) so that a trend over a long
-- range reads every row in one group_concat instead of row by row. last_at
-- is trend's LastMoment, never lowered: a trend over [from, to) reads the
-- rows opened before to that are open or have last_at >= from. Times are
-- Unix nanoseconds.
CREATE TABLE incident_trends (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL,
	version   INTEGER NOT NULL,
	status    TEXT NOT NULL,
	opened_at INTEGER NOT NULL,
	last_at   INTEGER NOT NULL,
	record    TEXT NOT NULL
);
-- The open ones and the recent ones: two indexes that SQLite unites for
-- the OR of a trend read.
CREATE INDEX incident_trends_last ON incident_trends(last_at);
CREATE INDEX incident_trends_status ON incident_trends(status);

-- The moments resolved incidents were reopened (trend.ReopenMoment), keyed
-- by incident and time; filled from the timeline written so far.
CREATE TABLE incident_reopens (
	reopen_key  TEXT PRIMARY KEY,
	incident_id TEXT NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX incident_reopens_at ON incident_reopens(at);
INSERT OR IGNORE INTO incident_reopens(reopen_key, incident_id, at)
SELECT incident_id || '@' || at, incident_id, at FROM timeline
WHERE instr(data, '"kind":"reopened"') > 0 AND instr(data, '"from":"resolved"') > 0;

-- The incidents written before this migration are flattened by the first
-- trend read, which decodes them in Go (trend.RowOf).
INSERT INTO meta(key, value) SELECT 'trend_backfill', '1' WHERE EXISTS (SELECT 1 FROM incidents);
