-- The analysts' decisions and corrections (correlate.Feedback: confirm,
-- reject, merge, move) against the method and rule that grouped each
-- incident, written with the batch that carries them (commit_id, visible
-- like the other rows). feedback_key (storage.FeedbackKey) is
-- deterministic: readers count distinct keys, so a batch applied twice
-- counts once.
CREATE TABLE IF NOT EXISTS feedback (
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
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, feedback_key);
