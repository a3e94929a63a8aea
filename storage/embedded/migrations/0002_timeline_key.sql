-- A deterministic key per timeline event (storage.EventKeys), so a batch
-- applied twice stores its events once. Rows written before have no key.
ALTER TABLE timeline ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX timeline_event_key ON timeline(event_key);
