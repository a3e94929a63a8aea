CREATE TABLE problems (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	status  TEXT NOT NULL,
	version INTEGER NOT NULL,
	data    BLOB NOT NULL
);
CREATE INDEX problems_status ON problems(status, seq);
