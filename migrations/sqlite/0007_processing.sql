-- Video processing (docs/api.md §1.14): each video carries its processing job. Videos published
-- before processing existed are 'off' (served as uploaded). A claimed job has a lease: the
-- instance holding it (lease_holder) and until when (lease_until, milliseconds).

ALTER TABLE videos ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN processing_status TEXT NOT NULL DEFAULT 'off'
    CHECK (processing_status IN ('queued', 'processing', 'ready', 'failed', 'off'));
ALTER TABLE videos ADD COLUMN processing_progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE videos ADD COLUMN processing_error TEXT;
ALTER TABLE videos ADD COLUMN hls_url TEXT;
ALTER TABLE videos ADD COLUMN hls_key TEXT NOT NULL DEFAULT '';
ALTER TABLE videos ADD COLUMN lease_holder TEXT;
ALTER TABLE videos ADD COLUMN lease_until INTEGER;

-- The queue: only unfinished jobs are indexed, oldest first.
CREATE INDEX videos_processing_queue ON videos (processing_status, created_at, id)
    WHERE processing_status IN ('queued', 'processing');
-- Orphan reconciliation looks renditions up by key.
CREATE INDEX videos_hls_key ON videos (hls_key) WHERE hls_key <> '';
