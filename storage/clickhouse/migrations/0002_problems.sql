-- Problems (problem management) as versioned rows. They are written by the
-- problem jobs and actions, not by the pipeline: each SaveProblems is one
-- INSERT into an unpartitioned table, so one part, written whole or not at
-- all. The latest version of a problem is argMax(data, (version, saved));
-- saved (Unix nanoseconds of the write) makes a later write of an equal
-- version win, as in the embedded store.
CREATE TABLE IF NOT EXISTS problems (
	seq     Int64,
	version Int64,
	saved   Int64,
	id      String,
	status  String,
	data    String
) ENGINE = ReplacingMergeTree(saved)
ORDER BY (seq, version);
