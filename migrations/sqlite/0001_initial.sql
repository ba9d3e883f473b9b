-- Ids are 24-hex ObjectId strings, times are milliseconds since the epoch (UTC).
-- Cascades follow docs/api.md §4.8 and are enforced by foreign keys (PRAGMA foreign_keys = ON).

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    username        TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL UNIQUE,
    full_name       TEXT NOT NULL,
    avatar          TEXT NOT NULL,
    avatar_key      TEXT NOT NULL,
    cover_image     TEXT NOT NULL DEFAULT '',
    cover_image_key TEXT,
    password_hash   TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX users_full_name ON users (full_name);

CREATE TABLE refresh_sessions (
    jti        TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX refresh_sessions_user ON refresh_sessions (user_id, created_at);

CREATE TABLE videos (
    id            TEXT PRIMARY KEY NOT NULL,
    owner_id      TEXT NOT NULL REFERENCES users (id),
    video_file    TEXT NOT NULL,
    video_key     TEXT NOT NULL,
    thumbnail     TEXT NOT NULL,
    thumbnail_key TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    duration      REAL NOT NULL DEFAULT 0 CHECK (duration >= 0),
    views         INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    is_published  INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- One index per feed order: the default feed, the owner filter and each sortBy walk an index.
CREATE INDEX videos_owner_created ON videos (owner_id, created_at, id);
CREATE INDEX videos_published_created ON videos (is_published, created_at, id);
CREATE INDEX videos_published_views ON videos (is_published, views, id);
CREATE INDEX videos_published_duration ON videos (is_published, duration, id);
CREATE INDEX videos_published_title ON videos (is_published, title, id);

CREATE TABLE watch_history (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (user_id, video_id)
) WITHOUT ROWID;
CREATE INDEX watch_history_order ON watch_history (user_id, seq);
CREATE INDEX watch_history_video ON watch_history (video_id);

CREATE TABLE comments (
    id         TEXT PRIMARY KEY NOT NULL,
    video_id   TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    owner_id   TEXT NOT NULL REFERENCES users (id),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX comments_video_created ON comments (video_id, created_at, id);

CREATE TABLE tweets (
    id         TEXT PRIMARY KEY NOT NULL,
    owner_id   TEXT NOT NULL REFERENCES users (id),
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tweets_owner_created ON tweets (owner_id, created_at, id);

CREATE TABLE likes (
    id         TEXT PRIMARY KEY NOT NULL,
    liked_by   TEXT NOT NULL REFERENCES users (id),
    video_id   TEXT REFERENCES videos (id) ON DELETE CASCADE,
    comment_id TEXT REFERENCES comments (id) ON DELETE CASCADE,
    tweet_id   TEXT REFERENCES tweets (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((video_id IS NOT NULL) + (comment_id IS NOT NULL) + (tweet_id IS NOT NULL) = 1)
);
CREATE UNIQUE INDEX likes_user_video ON likes (liked_by, video_id) WHERE video_id IS NOT NULL;
CREATE UNIQUE INDEX likes_user_comment ON likes (liked_by, comment_id) WHERE comment_id IS NOT NULL;
CREATE UNIQUE INDEX likes_user_tweet ON likes (liked_by, tweet_id) WHERE tweet_id IS NOT NULL;
CREATE INDEX likes_video ON likes (video_id);
CREATE INDEX likes_comment ON likes (comment_id);
CREATE INDEX likes_tweet ON likes (tweet_id);
CREATE INDEX likes_user_created ON likes (liked_by, created_at, id);

CREATE TABLE subscriptions (
    id            TEXT PRIMARY KEY NOT NULL,
    subscriber_id TEXT NOT NULL REFERENCES users (id),
    channel_id    TEXT NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (subscriber_id, channel_id),
    CHECK (subscriber_id <> channel_id)
);
CREATE INDEX subscriptions_channel_created ON subscriptions (channel_id, created_at, id);
CREATE INDEX subscriptions_subscriber_created ON subscriptions (subscriber_id, created_at, id);

CREATE TABLE playlists (
    id          TEXT PRIMARY KEY NOT NULL,
    owner_id    TEXT NOT NULL REFERENCES users (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX playlists_owner_created ON playlists (owner_id, created_at, id);

CREATE TABLE playlist_videos (
    playlist_id TEXT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    video_id    TEXT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    PRIMARY KEY (playlist_id, video_id)
) WITHOUT ROWID;
CREATE INDEX playlist_videos_order ON playlist_videos (playlist_id, position);
CREATE INDEX playlist_videos_video ON playlist_videos (video_id);
