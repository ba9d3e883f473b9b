//! SQLite side of store-to-store copies: id-ordered export and upserting import (one transaction per batch).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::{SqliteStore, backend, parse_id};
use crate::domain::Id;
use crate::domain::Timestamp;
use crate::domain::social::LikeTarget;
use crate::store::transfer::{
    Batch, HistoryRecord, Imported, Kind, LikeRecord, PlaylistRow, PostRecord, Record, SessionRecord,
    SubscriptionRecord, Transfer, UserRecord, VideoRow,
};
use crate::store::{StoreError, StoreResult};

/// The statement listing one page of a kind: `?1` = the id to continue after, `?2` = the page size.
fn export_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => {
            "SELECT id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, password_hash, \
             created_at, updated_at FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Videos => {
            "SELECT id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, duration, views, \
             is_published, created_at, updated_at FROM videos WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Comments => {
            "SELECT id, owner_id, video_id, content, created_at, updated_at FROM comments \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Tweets => {
            "SELECT id, owner_id, NULL AS video_id, content, created_at, updated_at FROM tweets \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Likes => {
            "SELECT id, liked_by, video_id, comment_id, tweet_id, created_at, updated_at FROM likes \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Subscriptions => {
            "SELECT id, subscriber_id, channel_id, created_at, updated_at FROM subscriptions \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Playlists => {
            "SELECT id, owner_id, name, description, created_at, updated_at FROM playlists \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::WatchHistory => {
            "SELECT DISTINCT user_id AS id FROM watch_history WHERE user_id > ?1 ORDER BY user_id LIMIT ?2"
        }
    }
}

fn count_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => "SELECT COUNT(*) FROM users",
        Kind::Videos => "SELECT COUNT(*) FROM videos",
        Kind::Comments => "SELECT COUNT(*) FROM comments",
        Kind::Tweets => "SELECT COUNT(*) FROM tweets",
        Kind::Likes => "SELECT COUNT(*) FROM likes",
        Kind::Subscriptions => "SELECT COUNT(*) FROM subscriptions",
        Kind::Playlists => "SELECT COUNT(*) FROM playlists",
        Kind::WatchHistory => "SELECT COUNT(DISTINCT user_id) FROM watch_history",
    }
}

fn id(row: &SqliteRow, column: &str) -> StoreResult<Id> {
    parse_id(&row.get::<String, _>(column))
}

fn optional_id(row: &SqliteRow, column: &str) -> StoreResult<Option<Id>> {
    row.get::<Option<String>, _>(column).as_deref().map(parse_id).transpose()
}

fn times(row: &SqliteRow) -> (Timestamp, Timestamp) {
    (Timestamp(row.get("created_at")), Timestamp(row.get("updated_at")))
}

impl SqliteStore {
    async fn ids_column(&self, sql: &'static str, owner: &str) -> StoreResult<Vec<Id>> {
        let ids: Vec<String> = sqlx::query_scalar(sql).bind(owner).fetch_all(&self.pool).await.map_err(backend)?;
        ids.iter().map(|i| parse_id(i)).collect()
    }

    async fn exported(&self, kind: Kind, row: &SqliteRow) -> StoreResult<Record> {
        Ok(match kind {
            Kind::Users => {
                let raw_id: String = row.get("id");
                let sessions = sqlx::query(
                    "SELECT jti, token_hash, expires_at, created_at FROM refresh_sessions WHERE user_id = ? \
                     ORDER BY created_at, rowid",
                )
                .bind(&raw_id)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
                let (created_at, updated_at) = times(row);
                Record::User(UserRecord {
                    id: parse_id(&raw_id)?,
                    username: row.get("username"),
                    email: row.get("email"),
                    full_name: row.get("full_name"),
                    avatar: row.get("avatar"),
                    avatar_key: row.get("avatar_key"),
                    cover_image: row.get("cover_image"),
                    cover_image_key: row.get("cover_image_key"),
                    password_hash: row.get("password_hash"),
                    sessions: sessions
                        .iter()
                        .map(|s| SessionRecord {
                            jti: s.get("jti"),
                            token_hash: s.get("token_hash"),
                            expires_at: Timestamp(s.get("expires_at")),
                            created_at: Timestamp(s.get("created_at")),
                        })
                        .collect(),
                    created_at,
                    updated_at,
                })
            }
            Kind::Videos => {
                let (created_at, updated_at) = times(row);
                Record::Video(VideoRow {
                    id: id(row, "id")?,
                    owner: id(row, "owner_id")?,
                    video_file: row.get("video_file"),
                    video_key: row.get("video_key"),
                    thumbnail: row.get("thumbnail"),
                    thumbnail_key: row.get("thumbnail_key"),
                    title: row.get("title"),
                    description: row.get("description"),
                    duration: row.get("duration"),
                    views: row.get("views"),
                    is_published: row.get("is_published"),
                    created_at,
                    updated_at,
                })
            }
            Kind::Comments | Kind::Tweets => {
                let (created_at, updated_at) = times(row);
                let post = PostRecord {
                    id: id(row, "id")?,
                    owner: id(row, "owner_id")?,
                    video: optional_id(row, "video_id")?,
                    content: row.get("content"),
                    created_at,
                    updated_at,
                };
                if kind == Kind::Comments { Record::Comment(post) } else { Record::Tweet(post) }
            }
            Kind::Likes => {
                let target = match (optional_id(row, "video_id")?, optional_id(row, "comment_id")?) {
                    (Some(video), _) => LikeTarget::Video(video),
                    (None, Some(comment)) => LikeTarget::Comment(comment),
                    (None, None) => LikeTarget::Tweet(id(row, "tweet_id")?),
                };
                let (created_at, updated_at) = times(row);
                Record::Like(LikeRecord {
                    id: id(row, "id")?,
                    liked_by: id(row, "liked_by")?,
                    target,
                    created_at,
                    updated_at,
                })
            }
            Kind::Subscriptions => {
                let (created_at, updated_at) = times(row);
                Record::Subscription(SubscriptionRecord {
                    id: id(row, "id")?,
                    subscriber: id(row, "subscriber_id")?,
                    channel: id(row, "channel_id")?,
                    created_at,
                    updated_at,
                })
            }
            Kind::Playlists => {
                let raw_id: String = row.get("id");
                let sql = "SELECT video_id FROM playlist_videos WHERE playlist_id = ? ORDER BY position";
                let (created_at, updated_at) = times(row);
                Record::Playlist(PlaylistRow {
                    id: parse_id(&raw_id)?,
                    owner: id(row, "owner_id")?,
                    name: row.get("name"),
                    description: row.get("description"),
                    videos: self.ids_column(sql, &raw_id).await?,
                    created_at,
                    updated_at,
                })
            }
            Kind::WatchHistory => {
                let raw_id: String = row.get("id");
                let sql = "SELECT video_id FROM watch_history WHERE user_id = ? ORDER BY seq DESC";
                Record::History(HistoryRecord {
                    user: parse_id(&raw_id)?,
                    videos: self.ids_column(sql, &raw_id).await?,
                })
            }
        })
    }
}

/// Runs one statement of an import: `Ok(false)` when a constraint refused it (the record is skipped).
async fn write(
    tx: &mut Transaction<'static, Sqlite>,
    query: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
) -> StoreResult<bool> {
    match query.execute(&mut **tx).await {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() || db.is_unique_violation() => Ok(false),
        Err(e) => Err(backend(e)),
    }
}

async fn import_one(tx: &mut Transaction<'static, Sqlite>, record: Record) -> StoreResult<bool> {
    match record {
        Record::User(u) => {
            let id = u.id.to_hex();
            let user = sqlx::query(
                "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, \
                 password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET username = excluded.username, email = excluded.email, \
                 full_name = excluded.full_name, avatar = excluded.avatar, avatar_key = excluded.avatar_key, \
                 cover_image = excluded.cover_image, cover_image_key = excluded.cover_image_key, \
                 password_hash = excluded.password_hash, created_at = excluded.created_at, \
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
            .bind(u.created_at.millis())
            .bind(u.updated_at.millis());
            if !write(tx, user).await? {
                return Ok(false);
            }
            write(tx, sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ?").bind(&id)).await?;
            for s in u.sessions {
                let session = sqlx::query(
                    "INSERT OR REPLACE INTO refresh_sessions (jti, user_id, token_hash, expires_at, created_at) \
                     VALUES (?, ?, ?, ?, ?)",
                )
                .bind(s.jti)
                .bind(&id)
                .bind(s.token_hash)
                .bind(s.expires_at.millis())
                .bind(s.created_at.millis());
                write(tx, session).await?;
            }
            Ok(true)
        }
        Record::Video(v) => {
            let video = sqlx::query(
                "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, \
                 duration, views, is_published, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET video_file = excluded.video_file, video_key = excluded.video_key, \
                 thumbnail = excluded.thumbnail, thumbnail_key = excluded.thumbnail_key, title = excluded.title, \
                 description = excluded.description, duration = excluded.duration, views = excluded.views, \
                 is_published = excluded.is_published, created_at = excluded.created_at, \
                 updated_at = excluded.updated_at",
            )
            .bind(v.id.to_hex())
            .bind(v.owner.to_hex())
            .bind(v.video_file)
            .bind(v.video_key)
            .bind(v.thumbnail)
            .bind(v.thumbnail_key)
            .bind(v.title)
            .bind(v.description)
            .bind(v.duration)
            .bind(v.views)
            .bind(v.is_published)
            .bind(v.created_at.millis())
            .bind(v.updated_at.millis());
            write(tx, video).await
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
            write(tx, comment).await
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
            write(tx, tweet).await
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
            write(tx, like).await
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
            write(tx, subscription).await
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
            if !write(tx, playlist).await? {
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
            let newest = h.videos.len() as i64;
            let mut written = false;
            for (age, video) in h.videos.iter().enumerate() {
                let entry = sqlx::query(
                    "INSERT OR IGNORE INTO watch_history (user_id, video_id, seq) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?2)",
                )
                .bind(&user)
                .bind(video.to_hex())
                .bind(newest - age as i64);
                written |= write(tx, entry).await?;
            }
            Ok(written)
        }
    }
}

#[async_trait]
impl Transfer for SqliteStore {
    fn describe(&self) -> String {
        "SQLite".into()
    }

    async fn count(&self, kind: Kind) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(count_sql(kind)).fetch_one(&self.pool).await.map_err(backend)?;
        Ok(n as u64)
    }

    async fn export(&self, kind: Kind, after: Option<Id>, limit: u32) -> StoreResult<Batch> {
        let rows = sqlx::query(export_sql(kind))
            .bind(after.map(Id::to_hex).unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            records.push(self.exported(kind, row).await?);
        }
        let last = rows.last().map(|r| id(r, "id")).transpose()?;
        Ok(Batch { records, last, unreadable: 0 })
    }

    async fn import(&self, records: Vec<Record>) -> StoreResult<Imported> {
        let mut tx = self.write_tx().await?;
        let mut imported = Imported::default();
        for record in records {
            if import_one(&mut tx, record).await? {
                imported.written += 1;
            } else {
                imported.skipped += 1;
            }
        }
        tx.commit().await.map_err(|e| StoreError::Backend(format!("committing an imported batch failed: {e}")))?;
        Ok(imported)
    }
}
