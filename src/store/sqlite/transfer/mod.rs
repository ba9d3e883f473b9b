//! SQLite side of store-to-store copies: id-ordered export, and import one transaction per batch.

mod import;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, backend, parse_id};
use crate::domain::Id;
use crate::domain::Timestamp;
use crate::domain::social::LikeTarget;
use crate::store::transfer::{
    Batch, HistoryRecord, Imported, Kind, LikeRecord, PlaylistRow, PostRecord, Record, SessionRecord,
    SubscriptionRecord, Transfer, UserRecord, VideoProcessing, VideoRow, ViewHourRecord,
};
use crate::store::{StoreError, StoreResult};
use import::import_one;

/// The statement listing one page of a kind: `?1` = the id to continue after, `?2` = the page size.
fn export_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => {
            "SELECT id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, password_hash, \
             history_paused, created_at, updated_at FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Videos => {
            "SELECT id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, duration, views, \
             visibility, created_at, updated_at, processing_status, processing_progress, processing_error, width, \
             height, hls_url, hls_key FROM videos WHERE id > ?1 ORDER BY id LIMIT ?2"
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
                    "SELECT id, jti, token_hash, user_agent, expires_at, created_at, last_used_at \
                     FROM refresh_sessions WHERE user_id = ? ORDER BY created_at, rowid",
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
                        .map(|s| {
                            Ok(SessionRecord {
                                id: parse_id(s.get("id"))?,
                                jti: s.get("jti"),
                                token_hash: s.get("token_hash"),
                                user_agent: s.get("user_agent"),
                                expires_at: Timestamp(s.get("expires_at")),
                                created_at: Timestamp(s.get("created_at")),
                                last_used_at: Timestamp(s.get("last_used_at")),
                            })
                        })
                        .collect::<StoreResult<_>>()?,
                    history_paused: row.get("history_paused"),
                    created_at,
                    updated_at,
                })
            }
            Kind::Videos => {
                let (created_at, updated_at) = times(row);
                let hours: Vec<(i64, i64)> =
                    sqlx::query_as("SELECT hour, n FROM video_view_hours WHERE video_id = ? ORDER BY hour")
                        .bind(row.get::<String, _>("id"))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
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
                    visibility: super::parse_visibility(row.get("visibility"))?,
                    created_at,
                    updated_at,
                    view_hours: hours.into_iter().map(|(hour, views)| ViewHourRecord { hour, views }).collect(),
                    processing: VideoProcessing {
                        status: VideoProcessing::exported(row.get("processing_status")),
                        progress: row.get("processing_progress"),
                        error: row.get("processing_error"),
                        width: row.get("width"),
                        height: row.get("height"),
                        hls_url: row.get("hls_url"),
                        hls_key: row.get("hls_key"),
                    },
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
                let entries: Vec<(String, Option<i64>)> = sqlx::query_as(
                    "SELECT video_id, watched_at FROM watch_history WHERE user_id = ? ORDER BY seq DESC",
                )
                .bind(&raw_id)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
                Record::History(HistoryRecord {
                    user: parse_id(&raw_id)?,
                    entries: entries
                        .iter()
                        .map(|(video, at)| Ok((parse_id(video)?, at.map(Timestamp))))
                        .collect::<StoreResult<_>>()?,
                })
            }
        })
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
        tx.commit().await.map_err(|e| StoreError::context("committing an imported batch failed", e))?;
        Ok(imported)
    }
}
