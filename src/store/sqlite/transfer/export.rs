//! Reading records for a copy: each kind's rows in id order, by position (tests pin each select's
//! columns), with what hangs off them (sessions, view hours, playlist entries, history entries).

use rusqlite::types::Type;
use rusqlite::{Connection, Row};

use crate::domain::choice::Choice;
use crate::domain::moderation::Target;
use crate::domain::notification::NotificationSettings;
use crate::domain::social::LikeTarget;
use crate::domain::user::Role;
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};
use crate::store::transfer::{
    ActionRecord, BlockRecord, HistoryRecord, Kind, LikeRecord, NotificationRecord, PlaylistRow, PostRecord, Record,
    ReportRecord, SessionRecord, SettingsRecord, SubscriptionRecord, ThreadFields, UserRecord, VideoProcessing,
    VideoRow, ViewHourRecord,
};

/// The statement listing one page of a kind: `?1` = the id to continue after, `?2` = the page size.
pub(super) fn export_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => {
            "SELECT id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, password_hash, \
             history_paused, created_at, updated_at, role, suspended_reason FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Videos => {
            "SELECT id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, duration, views, \
             visibility, created_at, updated_at, processing_status, processing_progress, processing_error, width, \
             height, hls_url, hls_key, removed_reason, held_visibility, tags FROM videos WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Comments => {
            "SELECT id, owner_id, video_id, content, created_at, updated_at, removed_reason, hidden, parent_id, \
             reply_to_id, pinned, hearted FROM comments WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Tweets => {
            "SELECT id, owner_id, NULL AS video_id, content, created_at, updated_at, removed_reason, hidden FROM tweets \
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
        Kind::Reports => {
            "SELECT id, reporter_id, target_type, target_id, reason, details, status, created_at, updated_at \
             FROM reports WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::ModerationActions => {
            "SELECT id, moderator_id, target_type, target_id, action, reason, created_at FROM moderation_actions \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
        Kind::Blocks => "SELECT id, blocker_id, blocked_id, created_at FROM blocks WHERE id > ?1 ORDER BY id LIMIT ?2",
        Kind::NotificationSettings => {
            "SELECT user_id AS id, new_video, comment, reply, subscriber, updated_at FROM notification_settings \
             WHERE user_id > ?1 ORDER BY user_id LIMIT ?2"
        }
        Kind::Notifications => {
            "SELECT id, recipient_id, type, actor_id, video_id, comment_id, read, created_at FROM notifications \
             WHERE id > ?1 ORDER BY id LIMIT ?2"
        }
    }
}

pub(super) fn count_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => "SELECT COUNT(*) FROM users",
        Kind::Videos => "SELECT COUNT(*) FROM videos",
        Kind::Comments => "SELECT COUNT(*) FROM comments",
        Kind::Tweets => "SELECT COUNT(*) FROM tweets",
        Kind::Likes => "SELECT COUNT(*) FROM likes",
        Kind::Subscriptions => "SELECT COUNT(*) FROM subscriptions",
        Kind::Playlists => "SELECT COUNT(*) FROM playlists",
        Kind::WatchHistory => "SELECT COUNT(DISTINCT user_id) FROM watch_history",
        Kind::Reports => "SELECT COUNT(*) FROM reports",
        Kind::ModerationActions => "SELECT COUNT(*) FROM moderation_actions",
        Kind::Blocks => "SELECT COUNT(*) FROM blocks",
        Kind::NotificationSettings => "SELECT COUNT(*) FROM notification_settings",
        Kind::Notifications => "SELECT COUNT(*) FROM notifications",
    }
}

/// A user's refresh sessions (`?1`), oldest first, as `read_session` reads them.
const SESSIONS: &str = "SELECT id, jti, token_hash, user_agent, expires_at, created_at, last_used_at \
     FROM refresh_sessions WHERE user_id = ?1 ORDER BY created_at, rowid";
/// A video's hourly view records (`?1`), oldest first.
const VIEW_HOURS: &str = "SELECT hour, n FROM video_view_hours WHERE video_id = ?1 ORDER BY hour";
/// A playlist's video ids (`?1`), in order.
const PLAYLIST_ENTRIES: &str = "SELECT video_id FROM playlist_videos WHERE playlist_id = ?1 ORDER BY position";
/// A user's history (`?1`), newest first: video id, when watched.
const HISTORY_ENTRIES: &str = "SELECT video_id, watched_at FROM watch_history WHERE user_id = ?1 ORDER BY seq DESC";

/// Up to `limit` records of `kind` with ids above `after`, in id order.
pub(super) fn page(db: &Connection, kind: Kind, after: Option<Id>, limit: u32) -> rusqlite::Result<Vec<Record>> {
    let after = after.map(Id::to_hex).unwrap_or_default();
    let mut records = db
        .prepare_cached(export_sql(kind))?
        .query_map((after, i64::from(limit)), |row| read_record(kind, row))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for record in &mut records {
        attach(db, record)?;
    }
    Ok(records)
}

/// The id a record is listed by.
pub(super) fn id_of(record: &Record) -> Id {
    match record {
        Record::User(u) => u.id,
        Record::Video(v) => v.id,
        Record::Comment(p) | Record::Tweet(p) => p.id,
        Record::Like(l) => l.id,
        Record::Subscription(s) => s.id,
        Record::Playlist(p) => p.id,
        Record::History(h) => h.user,
        Record::Report(r) => r.id,
        Record::Action(a) => a.id,
        Record::Block(b) => b.id,
        Record::NotificationSettings(s) => s.user,
        Record::Notification(n) => n.id,
    }
}

/// The id in column `index`; a corrupt one fails the read.
fn id(row: &Row, index: usize) -> rusqlite::Result<Id> {
    let raw: String = row.get(index)?;
    Id::parse(&raw).ok_or_else(|| corrupt(index, format!("corrupt id in database: {raw:?}")))
}

fn optional_id(row: &Row, index: usize) -> rusqlite::Result<Option<Id>> {
    match row.get::<_, Option<String>>(index)? {
        Some(_) => id(row, index).map(Some),
        None => Ok(None),
    }
}

/// The name in column `index`, one of `C`'s; any other fails the read.
fn named<C: Choice>(row: &Row, index: usize) -> rusqlite::Result<C> {
    let raw: String = row.get(index)?;
    C::parse(&raw).ok_or_else(|| corrupt(index, format!("corrupt {} in database: {raw:?}", C::FIELD)))
}

fn time(row: &Row, index: usize) -> rusqlite::Result<Timestamp> {
    row.get(index).map(Timestamp)
}

fn corrupt(index: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, Type::Text, message.into())
}

/// One row of `export_sql(kind)`; what hangs off it is attached afterwards (`attach`).
fn read_record(kind: Kind, row: &Row) -> rusqlite::Result<Record> {
    Ok(match kind {
        Kind::Users => Record::User(UserRecord {
            id: id(row, 0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            full_name: row.get(3)?,
            avatar: row.get(4)?,
            avatar_key: row.get(5)?,
            cover_image: row.get(6)?,
            cover_image_key: row.get(7)?,
            password_hash: row.get(8)?,
            sessions: Vec::new(),
            history_paused: row.get(9)?,
            created_at: time(row, 10)?,
            updated_at: time(row, 11)?,
            role: Role::from_stored(Some(&row.get::<_, String>(12)?)),
            suspended_reason: row.get(13)?,
        }),
        Kind::Videos => {
            let visibility: String = row.get(10)?;
            let status: String = row.get(13)?;
            Record::Video(VideoRow {
                id: id(row, 0)?,
                owner: id(row, 1)?,
                video_file: row.get(2)?,
                video_key: row.get(3)?,
                thumbnail: row.get(4)?,
                thumbnail_key: row.get(5)?,
                title: row.get(6)?,
                description: row.get(7)?,
                duration: row.get(8)?,
                views: row.get(9)?,
                visibility: Visibility::parse(&visibility)
                    .ok_or_else(|| corrupt(10, format!("corrupt visibility in database: {visibility:?}")))?,
                created_at: time(row, 11)?,
                updated_at: time(row, 12)?,
                view_hours: Vec::new(),
                processing: VideoProcessing {
                    status: VideoProcessing::exported(Some(&status)),
                    progress: row.get(14)?,
                    error: row.get(15)?,
                    width: row.get(16)?,
                    height: row.get(17)?,
                    hls_url: row.get(18)?,
                    hls_key: row.get(19)?,
                },
                removed_reason: row.get(20)?,
                held_visibility: match row.get::<_, Option<String>>(21)? {
                    Some(raw) => Some(
                        Visibility::parse(&raw)
                            .ok_or_else(|| corrupt(21, format!("corrupt visibility in database: {raw:?}")))?,
                    ),
                    None => None,
                },
                tags: {
                    let raw: String = row.get(22)?;
                    serde_json::from_str(&raw).map_err(|e| corrupt(22, format!("corrupt tags in database: {e}")))?
                },
            })
        }
        Kind::Comments | Kind::Tweets => {
            let post = PostRecord {
                id: id(row, 0)?,
                owner: id(row, 1)?,
                video: optional_id(row, 2)?,
                content: row.get(3)?,
                created_at: time(row, 4)?,
                updated_at: time(row, 5)?,
                removed_reason: row.get(6)?,
                hidden: row.get(7)?,
                thread: ThreadFields::default(),
            };
            if kind == Kind::Comments {
                let thread = ThreadFields {
                    parent: optional_id(row, 8)?,
                    reply_to: optional_id(row, 9)?,
                    pinned: row.get(10)?,
                    hearted: row.get(11)?,
                };
                Record::Comment(PostRecord { thread, ..post })
            } else {
                Record::Tweet(post)
            }
        }
        Kind::Likes => {
            let target = match (optional_id(row, 2)?, optional_id(row, 3)?) {
                (Some(video), _) => LikeTarget::Video(video),
                (None, Some(comment)) => LikeTarget::Comment(comment),
                (None, None) => LikeTarget::Tweet(id(row, 4)?),
            };
            Record::Like(LikeRecord {
                id: id(row, 0)?,
                liked_by: id(row, 1)?,
                target,
                created_at: time(row, 5)?,
                updated_at: time(row, 6)?,
            })
        }
        Kind::Subscriptions => Record::Subscription(SubscriptionRecord {
            id: id(row, 0)?,
            subscriber: id(row, 1)?,
            channel: id(row, 2)?,
            created_at: time(row, 3)?,
            updated_at: time(row, 4)?,
        }),
        Kind::Playlists => Record::Playlist(PlaylistRow {
            id: id(row, 0)?,
            owner: id(row, 1)?,
            name: row.get(2)?,
            description: row.get(3)?,
            videos: Vec::new(),
            created_at: time(row, 4)?,
            updated_at: time(row, 5)?,
        }),
        Kind::WatchHistory => Record::History(HistoryRecord { user: id(row, 0)?, entries: Vec::new() }),
        Kind::Reports => Record::Report(ReportRecord {
            id: id(row, 0)?,
            reporter: id(row, 1)?,
            target: Target { kind: named(row, 2)?, id: id(row, 3)? },
            reason: named(row, 4)?,
            details: row.get(5)?,
            status: named(row, 6)?,
            created_at: time(row, 7)?,
            updated_at: time(row, 8)?,
        }),
        Kind::ModerationActions => Record::Action(ActionRecord {
            id: id(row, 0)?,
            moderator: id(row, 1)?,
            target: Target { kind: named(row, 2)?, id: id(row, 3)? },
            action: named(row, 4)?,
            reason: row.get(5)?,
            created_at: time(row, 6)?,
        }),
        Kind::Blocks => Record::Block(BlockRecord {
            id: id(row, 0)?,
            blocker: id(row, 1)?,
            blocked: id(row, 2)?,
            created_at: time(row, 3)?,
        }),
        Kind::NotificationSettings => Record::NotificationSettings(SettingsRecord {
            user: id(row, 0)?,
            settings: NotificationSettings {
                new_video: row.get(1)?,
                comment: row.get(2)?,
                reply: row.get(3)?,
                subscriber: row.get(4)?,
            },
            updated_at: time(row, 5)?,
        }),
        Kind::Notifications => Record::Notification(NotificationRecord {
            id: id(row, 0)?,
            recipient: id(row, 1)?,
            kind: named(row, 2)?,
            actor: id(row, 3)?,
            video: optional_id(row, 4)?,
            comment: optional_id(row, 5)?,
            read: row.get(6)?,
            created_at: time(row, 7)?,
        }),
    })
}

/// A row of `SESSIONS`.
fn read_session(row: &Row) -> rusqlite::Result<SessionRecord> {
    Ok(SessionRecord {
        id: id(row, 0)?,
        jti: row.get(1)?,
        token_hash: row.get(2)?,
        user_agent: row.get(3)?,
        expires_at: time(row, 4)?,
        created_at: time(row, 5)?,
        last_used_at: time(row, 6)?,
    })
}

/// Reads what hangs off `record` into it.
fn attach(db: &Connection, record: &mut Record) -> rusqlite::Result<()> {
    match record {
        Record::User(user) => {
            let mut sessions = db.prepare_cached(SESSIONS)?;
            user.sessions = sessions.query_map([user.id.to_hex()], read_session)?.collect::<rusqlite::Result<_>>()?;
        }
        Record::Video(video) => {
            let mut hours = db.prepare_cached(VIEW_HOURS)?;
            let rows = hours
                .query_map([video.id.to_hex()], |row| Ok(ViewHourRecord { hour: row.get(0)?, views: row.get(1)? }))?;
            video.view_hours = rows.collect::<rusqlite::Result<_>>()?;
        }
        Record::Playlist(playlist) => {
            let mut entries = db.prepare_cached(PLAYLIST_ENTRIES)?;
            playlist.videos =
                entries.query_map([playlist.id.to_hex()], |row| id(row, 0))?.collect::<rusqlite::Result<_>>()?;
        }
        Record::History(history) => {
            let mut entries = db.prepare_cached(HISTORY_ENTRIES)?;
            let rows = entries.query_map([history.user.to_hex()], |row| {
                Ok((id(row, 0)?, row.get::<_, Option<i64>>(1)?.map(Timestamp)))
            })?;
            history.entries = rows.collect::<rusqlite::Result<_>>()?;
        }
        Record::Comment(_)
        | Record::Tweet(_)
        | Record::Like(_)
        | Record::Subscription(_)
        | Record::Report(_)
        | Record::Action(_)
        | Record::Block(_)
        | Record::NotificationSettings(_)
        | Record::Notification(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{column_names, test_store};

    /// The positions the readers above read are the selects' columns.
    #[tokio::test]
    async fn export_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let expected = [
            (
                Kind::Users,
                "id username email full_name avatar avatar_key cover_image cover_image_key password_hash \
                 history_paused created_at updated_at role suspended_reason",
            ),
            (
                Kind::Videos,
                "id owner_id video_file video_key thumbnail thumbnail_key title description duration views \
                 visibility created_at updated_at processing_status processing_progress processing_error \
                 width height hls_url hls_key removed_reason held_visibility tags",
            ),
            (
                Kind::Comments,
                "id owner_id video_id content created_at updated_at removed_reason hidden parent_id reply_to_id \
                 pinned hearted",
            ),
            (Kind::Tweets, "id owner_id video_id content created_at updated_at removed_reason hidden"),
            (Kind::Likes, "id liked_by video_id comment_id tweet_id created_at updated_at"),
            (Kind::Subscriptions, "id subscriber_id channel_id created_at updated_at"),
            (Kind::Playlists, "id owner_id name description created_at updated_at"),
            (Kind::WatchHistory, "id"),
            (Kind::Reports, "id reporter_id target_type target_id reason details status created_at updated_at"),
            (Kind::ModerationActions, "id moderator_id target_type target_id action reason created_at"),
            (Kind::Blocks, "id blocker_id blocked_id created_at"),
            (Kind::NotificationSettings, "id new_video comment reply subscriber updated_at"),
            (Kind::Notifications, "id recipient_id type actor_id video_id comment_id read created_at"),
        ];
        assert_eq!(expected.map(|(kind, _)| kind), Kind::ALL);
        for (kind, columns) in expected {
            let columns: Vec<&str> = columns.split_whitespace().collect();
            assert_eq!(column_names(&store, export_sql(kind)), columns, "{}", kind.name());
        }
        let session = ["id", "jti", "token_hash", "user_agent", "expires_at", "created_at", "last_used_at"];
        assert_eq!(column_names(&store, SESSIONS), session);
        assert_eq!(column_names(&store, VIEW_HOURS), ["hour", "n"]);
        assert_eq!(column_names(&store, PLAYLIST_ENTRIES), ["video_id"]);
        assert_eq!(column_names(&store, HISTORY_ENTRIES), ["video_id", "watched_at"]);
    }
}
