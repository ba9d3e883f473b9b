-- Refresh sessions become devices (docs/api.md §3.3.11): a stable `id` that survives refresh rotations
-- (the refresh token's `jti` still changes on every refresh), the User-Agent of the login that
-- created it, and when it was last used. Rebuilt rather than altered so `id` can be the key.
CREATE TABLE refresh_sessions_next (
    id           TEXT PRIMARY KEY NOT NULL,
    jti          TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
INSERT INTO refresh_sessions_next (id, jti, user_id, token_hash, user_agent, expires_at, created_at, last_used_at)
SELECT lower(hex(randomblob(12))), jti, user_id, token_hash, '', expires_at, created_at, created_at
FROM refresh_sessions ORDER BY rowid;
DROP TABLE refresh_sessions;
ALTER TABLE refresh_sessions_next RENAME TO refresh_sessions;
CREATE INDEX refresh_sessions_user ON refresh_sessions (user_id, created_at);

-- History controls (docs/api.md §3.3.12): pausing, and when each entry was last watched. Entries
-- recorded before this migration have no time (NULL, shown as null).
ALTER TABLE users ADD COLUMN history_paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE watch_history ADD COLUMN watched_at INTEGER;
