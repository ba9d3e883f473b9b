-- Notifications (docs/api.md §3.17). A notification goes with its recipient, its actor, and the
-- video or comment it points to. Whether its targets are still shown to the recipient (a video made
-- private, a hidden comment, a suspended actor, a block) is decided when it is read (D25).
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    actor_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id     TEXT REFERENCES videos (id) ON DELETE CASCADE,
    comment_id   TEXT REFERENCES comments (id) ON DELETE CASCADE,
    read         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
-- A recipient's page, newest first; the unread ones (count and page); the stream's tail and the
-- retention sweep; the lookups of the cascades.
CREATE INDEX notifications_recipient_created ON notifications (recipient_id, created_at, id);
CREATE INDEX notifications_recipient_unread ON notifications (recipient_id, created_at, id) WHERE read = 0;
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_actor ON notifications (actor_id, recipient_id, type);
CREATE INDEX notifications_video ON notifications (video_id) WHERE video_id IS NOT NULL;
CREATE INDEX notifications_comment ON notifications (comment_id) WHERE comment_id IS NOT NULL;

-- The kinds a user switched off (no row: all on). Goes with the account.
CREATE TABLE notification_settings (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_video  INTEGER NOT NULL DEFAULT 1,
    comment    INTEGER NOT NULL DEFAULT 1,
    reply      INTEGER NOT NULL DEFAULT 1,
    subscriber INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

-- Whether a video's subscribers were told of it: once, on creation as public or on its first
-- change to public. Videos public before this migration count as told.
ALTER TABLE videos ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
UPDATE videos SET announced = 1 WHERE visibility = 'public' OR held_visibility = 'public';
