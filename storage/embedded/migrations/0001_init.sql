CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE incidents (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	status      TEXT NOT NULL,
	priority    INTEGER NOT NULL,
	title       TEXT NOT NULL,
	opened_at   INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	resolved_at INTEGER,
	version     INTEGER NOT NULL,
	data        BLOB NOT NULL
);
CREATE INDEX incidents_status ON incidents(status, seq);
CREATE INDEX incidents_opened ON incidents(opened_at);

CREATE TABLE episodes (
	id          INTEGER PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	starts_at   INTEGER NOT NULL,
	ends_at     INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	incident_id TEXT NOT NULL,
	last_seen   INTEGER NOT NULL,
	version     INTEGER NOT NULL,
	data        BLOB NOT NULL
);
CREATE UNIQUE INDEX episodes_key ON episodes(fingerprint, starts_at);
CREATE INDEX episodes_incident ON episodes(incident_id, id);
CREATE INDEX episodes_active ON episodes(status, ends_at);

CREATE TABLE timeline (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id TEXT NOT NULL,
	at          INTEGER NOT NULL,
	data        BLOB NOT NULL
);
CREATE INDEX timeline_incident ON timeline(incident_id, id);
