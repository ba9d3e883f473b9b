//! Writing copied records into SQLite: upserts by id; a record a constraint refuses is skipped, not fatal.

use sqlx::{Sqlite, Transaction};

use super::super::backend;
use crate::domain::Timestamp;
use crate::domain::social::LikeTarget;
use crate::store::StoreResult;
use crate::store::transfer::Record;

/// Runs one statement of an import: the rows it wrote, or `None` when a constraint refused it.
async fn write(
    tx: &mut Transaction<'static, Sqlite>,
    query: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
) -> StoreResult<Option<u64>> {
    match query.execute(&mut **tx).await {
        Ok(done) => Ok(Some(done.rows_affected())),
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() || db.is_unique_violation() => Ok(None),
        Err(e) => Err(backend(e)),
    }
}

/// Runs a statement writing a whole record: whether the destination took it.
async fn accepted(
    tx: &mut Transaction<'static, Sqlite>,
    query: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
) -> StoreResult<bool> {
    Ok(write(tx, query).await?.is_some())
}

pub(super) async fn import_one(tx: &mut Transaction<'static, Sqlite>, record: Record) -> StoreResult<bool> {
    match record {
        Record::User(u) => {
            let id = u.id.to_hex();
            let user = sqlx::query(
                "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, \
                 password_hash, history_paused, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET username = excluded.username, email = excluded.email, \
                 full_name = excluded.full_name, avatar = excluded.avatar, avatar_key = excluded.avatar_key, \
                 cover_image = excluded.cover_image, cover_image_key = excluded.cover_image_key, \
                 password_hash = excluded.password_hash, history_paused = excluded.history_paused, \
                 created_at = excluded.created_at, \
                 updated_at = excluded.updated_at",
            )
            .bind(&id)
            .bind(u.username)
            .bind(u.email)
            .bind(u.full_name)
            .bind(u.avatar)
            .bind(u.avatar_key)
            .bind(u.cover_image)
            .bind(u.cover_image_key)
            .bind(u.password_hash)
            .bind(u.history_paused)
            .bind(u.created_at.millis())
            .bind(u.updated_at.millis());
            if !accepted(tx, user).await? {
                return Ok(false);
            }
            write(tx, sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ?").bind(&id)).await?;
            for s in u.sessions {
                let session = sqlx::query(
                    "INSERT OR REPLACE INTO refresh_sessions (id, jti, user_id, token_hash, user_agent, expires_at, \
                     created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(s.id.to_hex())
                .bind(s.jti)
                .bind(&id)
                .bind(s.token_hash)
                .bind(s.user_agent)
                .bind(s.expires_at.millis())
                .bind(s.created_at.millis())
                .bind(s.last_used_at.millis());
                write(tx, session).await?;
            }
            Ok(true)
        }
        Record::Video(v) => {
            let id = v.id.to_hex();
            let video = sqlx::query(
                "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, \
                 duration, views, visibility, created_at, updated_at, processing_status, processing_progress, \
                 processing_error, width, height, hls_url, hls_key) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET video_file = excluded.video_file, video_key = excluded.video_key, \
                 thumbnail = excluded.thumbnail, thumbnail_key = excluded.thumbnail_key, title = excluded.title, \
                 description = excluded.description, duration = excluded.duration, views = excluded.views, \
                 visibility = excluded.visibility, created_at = excluded.created_at, \
                 updated_at = excluded.updated_at, processing_status = excluded.processing_status, \
                 processing_progress = excluded.processing_progress, processing_error = excluded.processing_error, \
                 width = excluded.width, height = excluded.height, hls_url = excluded.hls_url, \
                 hls_key = excluded.hls_key, lease_holder = NULL, lease_until = NULL",
            )
            .bind(&id)
            .bind(v.owner.to_hex())
            .bind(v.video_file)
            .bind(v.video_key)
            .bind(v.thumbnail)
            .bind(v.thumbnail_key)
            .bind(v.title)
            .bind(v.description)
            .bind(v.duration)
            .bind(v.views)
            .bind(v.visibility.as_str())
            .bind(v.created_at.millis())
            .bind(v.updated_at.millis())
            .bind(v.processing.status.as_str())
            .bind(v.processing.progress)
            .bind(v.processing.error)
            .bind(v.processing.width)
            .bind(v.processing.height)
            .bind(v.processing.hls_url)
            .bind(v.processing.hls_key);
            if !accepted(tx, video).await? {
                return Ok(false);
            }
            write(tx, sqlx::query("DELETE FROM video_view_hours WHERE video_id = ?").bind(&id)).await?;
            for h in v.view_hours {
                let hour = sqlx::query("INSERT INTO video_view_hours (video_id, hour, n) VALUES (?, ?, ?)")
                    .bind(&id)
                    .bind(h.hour)
                    .bind(h.views);
                write(tx, hour).await?;
            }
            Ok(true)
        }
        Record::Comment(p) => {
            let Some(video) = p.video else { return Ok(false) };
            let comment = sqlx::query(
                "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at",
            )
            .bind(p.id.to_hex())
            .bind(video.to_hex())
            .bind(p.owner.to_hex())
            .bind(p.content)
            .bind(p.created_at.millis())
            .bind(p.updated_at.millis());
            accepted(tx, comment).await
        }
        Record::Tweet(p) => {
            let tweet = sqlx::query(
                "INSERT INTO tweets (id, owner_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at",
            )
            .bind(p.id.to_hex())
            .bind(p.owner.to_hex())
            .bind(p.content)
            .bind(p.created_at.millis())
            .bind(p.updated_at.millis());
            accepted(tx, tweet).await
        }
        Record::Like(l) => {
            let (video, comment, tweet) = match l.target {
                LikeTarget::Video(v) => (Some(v.to_hex()), None, None),
                LikeTarget::Comment(c) => (None, Some(c.to_hex()), None),
                LikeTarget::Tweet(t) => (None, None, Some(t.to_hex())),
            };
            let like = sqlx::query(
                "INSERT INTO likes (id, liked_by, video_id, comment_id, tweet_id, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(l.id.to_hex())
            .bind(l.liked_by.to_hex())
            .bind(video)
            .bind(comment)
            .bind(tweet)
            .bind(l.created_at.millis())
            .bind(l.updated_at.millis());
            accepted(tx, like).await
        }
        Record::Subscription(s) => {
            let subscription = sqlx::query(
                "INSERT INTO subscriptions (id, subscriber_id, channel_id, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(s.id.to_hex())
            .bind(s.subscriber.to_hex())
            .bind(s.channel.to_hex())
            .bind(s.created_at.millis())
            .bind(s.updated_at.millis());
            accepted(tx, subscription).await
        }
        Record::Playlist(p) => {
            let id = p.id.to_hex();
            let playlist = sqlx::query(
                "INSERT INTO playlists (id, owner_id, name, description, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 description = excluded.description, created_at = excluded.created_at, updated_at = excluded.updated_at",
            )
            .bind(&id)
            .bind(p.owner.to_hex())
            .bind(p.name)
            .bind(p.description)
            .bind(p.created_at.millis())
            .bind(p.updated_at.millis());
            if !accepted(tx, playlist).await? {
                return Ok(false);
            }
            write(tx, sqlx::query("DELETE FROM playlist_videos WHERE playlist_id = ?").bind(&id)).await?;
            for (position, video) in p.videos.iter().enumerate() {
                // A playlist entry whose video is gone is dropped, as a video deletion would have done.
                let entry = sqlx::query(
                    "INSERT OR IGNORE INTO playlist_videos (playlist_id, video_id, position) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?2)",
                )
                .bind(&id)
                .bind(video.to_hex())
                .bind(position as i64 + 1);
                write(tx, entry).await?;
            }
            Ok(true)
        }
        Record::History(h) => {
            let user = h.user.to_hex();
            write(tx, sqlx::query("DELETE FROM watch_history WHERE user_id = ?").bind(&user)).await?;
            let newest = h.entries.len() as i64;
            let mut written = false;
            for (age, (video, watched_at)) in h.entries.iter().enumerate() {
                let entry = sqlx::query(
                    "INSERT OR IGNORE INTO watch_history (user_id, video_id, seq, watched_at) \
                     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?2)",
                )
                .bind(&user)
                .bind(video.to_hex())
                .bind(newest - age as i64)
                .bind(watched_at.map(Timestamp::millis));
                written |= write(tx, entry).await?.is_some_and(|rows| rows > 0);
            }
            Ok(written)
        }
    }
}
