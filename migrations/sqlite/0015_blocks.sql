-- Creator blocks (docs/api.md §3.15.4): the blocker hides the blocked user from their channel. A
-- block goes with either account.
CREATE TABLE blocks (
    id         TEXT PRIMARY KEY NOT NULL,
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    UNIQUE (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocker_created ON blocks (blocker_id, created_at, id);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
-- A blocked user's comments on the blocker's videos are found by author.
CREATE INDEX comments_owner_video ON comments (owner_id, video_id);
