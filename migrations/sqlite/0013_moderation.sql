-- Moderation (docs/api.md §3.15.3). A video hidden by moderation is listed as 'private' in
-- `visibility`, which every list, count and index already reads; the owner's own level waits in
-- `held_visibility` until the video is shown again. `removed_reason` is set while a moderator's
-- removal stands.
ALTER TABLE videos ADD COLUMN removed_reason TEXT;
ALTER TABLE videos ADD COLUMN held_visibility TEXT CHECK (held_visibility IN ('public', 'unlisted', 'private'));

-- The append-only log. The moderator and the target are not foreign keys: an action outlives both.
CREATE TABLE moderation_actions (
    id           TEXT PRIMARY KEY NOT NULL,
    moderator_id TEXT NOT NULL,
    target_type  TEXT NOT NULL CHECK (target_type IN ('video', 'comment', 'tweet', 'user')),
    target_id    TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('remove', 'restore', 'suspend', 'unsuspend', 'dismiss')),
    reason       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX moderation_actions_newest ON moderation_actions (created_at, id);
CREATE INDEX moderation_actions_target ON moderation_actions (target_type, target_id, created_at, id);

-- The queue groups one status's reports by target.
CREATE INDEX reports_queue ON reports (status, target_type, target_id, created_at);
