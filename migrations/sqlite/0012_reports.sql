-- Reports of videos, comments, tweets and users (docs/api.md §3.15.2). A report goes with its
-- reporter's account; its target is not a foreign key, since the report outlives what it reports.
CREATE TABLE reports (
    id          TEXT PRIMARY KEY NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_type TEXT NOT NULL CHECK (target_type IN ('video', 'comment', 'tweet', 'user')),
    target_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    details     TEXT,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- One open report per reporter and target, whatever the timing of two requests.
CREATE UNIQUE INDEX reports_open_once ON reports (reporter_id, target_type, target_id) WHERE status = 'open';
CREATE INDEX reports_target ON reports (target_type, target_id, status);
CREATE INDEX reports_reporter ON reports (reporter_id);
