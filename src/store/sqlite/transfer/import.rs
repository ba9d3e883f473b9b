//! Writing copied records into SQLite: upserts by id; a record a constraint refuses is skipped, not fatal.

use rusqlite::{Params, Transaction};

use super::super::notifications::SAVE_SETTINGS;
use super::super::{is_foreign_key_violation, is_unique_violation};
use crate::domain::choice::Choice;
use crate::domain::social::LikeTarget;
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};
use crate::store::transfer::Record;

/// Runs one statement of an import: the rows it wrote, or `None` when a constraint refused it.
fn write(tx: &Transaction, sql: &str, params: impl Params) -> rusqlite::Result<Option<usize>> {
    match tx.prepare_cached(sql)?.execute(params) {
        Ok(rows) => Ok(Some(rows)),
        Err(e) if is_foreign_key_violation(&e) || is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs a statement writing a whole record: whether the destination took it.
fn accepted(tx: &Transaction, sql: &str, params: impl Params) -> rusqlite::Result<bool> {
    Ok(write(tx, sql, params)?.is_some())
}

/// Writes `record`: whether the destination took it.
pub(super) fn import_one(tx: &Transaction, record: Record) -> rusqlite::Result<bool> {
    match record {
        Record::User(u) => {
            let id = u.id.to_hex();
            let user = rusqlite::params![
                &id,
                u.username,
                u.email,
                u.full_name,
                u.avatar,
                u.avatar_key,
                u.cover_image,
                u.cover_image_key,
                u.password_hash,
                u.history_paused,
                u.created_at.millis(),
                u.updated_at.millis(),
                u.role.as_str(),
                u.suspended_reason,
            ];
            if !accepted(tx, UPSERT_USER, user)? {
                return Ok(false);
            }
            write(tx, "DELETE FROM refresh_sessions WHERE user_id = ?1", [&id])?;
            for s in u.sessions {
                let session = (
                    s.id.to_hex(),
                    s.jti,
                    &id,
                    s.token_hash,
                    s.user_agent,
                    s.expires_at.millis(),
                    s.created_at.millis(),
                    s.last_used_at.millis(),
                );
                write(tx, REPLACE_SESSION, session)?;
            }
            Ok(true)
        }
        Record::Video(v) => {
            let id = v.id.to_hex();
            let video = rusqlite::params![
                &id,
                v.owner.to_hex(),
                v.video_file,
                v.video_key,
                v.thumbnail,
                v.thumbnail_key,
                v.title,
                v.description,
                v.duration,
                v.views,
                v.visibility.as_str(),
                v.created_at.millis(),
                v.updated_at.millis(),
                v.processing.status.as_str(),
                v.processing.progress,
                v.processing.error,
                v.processing.width,
                v.processing.height,
                v.processing.hls_url,
                v.processing.hls_key,
                v.removed_reason,
                v.held_visibility.map(Visibility::as_str),
                serde_json::Value::from(v.tags.as_slice()).to_string(),
            ];
            if !accepted(tx, UPSERT_VIDEO, video)? {
                return Ok(false);
            }
            write(tx, "DELETE FROM video_view_hours WHERE video_id = ?1", [&id])?;
            for h in v.view_hours {
                write(
                    tx,
                    "INSERT INTO video_view_hours (video_id, hour, n) VALUES (?1, ?2, ?3)",
                    (&id, h.hour, h.views),
                )?;
            }
            Ok(true)
        }
        Record::Comment(p) => {
            let Some(video) = p.video else { return Ok(false) };
            let thread = p.thread;
            if thread.pinned {
                // One pin per video: a copied pin replaces the destination's.
                write(
                    tx,
                    "UPDATE comments SET pinned = 0 WHERE video_id = ?1 AND pinned = 1 AND id <> ?2",
                    (video.to_hex(), p.id.to_hex()),
                )?;
            }
            let comment = rusqlite::params![
                p.id.to_hex(),
                video.to_hex(),
                p.owner.to_hex(),
                p.content,
                p.created_at.millis(),
                p.updated_at.millis(),
                p.removed_reason,
                p.hidden,
                thread.parent.map(|id| id.to_hex()),
                thread.reply_to.map(|id| id.to_hex()),
                thread.pinned && thread.parent.is_none(),
                thread.hearted,
            ];
            accepted(tx, UPSERT_COMMENT, comment)
        }
        Record::Tweet(p) => {
            let tweet = (
                p.id.to_hex(),
                p.owner.to_hex(),
                p.content,
                p.created_at.millis(),
                p.updated_at.millis(),
                p.removed_reason,
                p.hidden,
            );
            accepted(tx, UPSERT_TWEET, tweet)
        }
        Record::Like(l) => {
            let (video, comment, tweet) = match l.target {
                LikeTarget::Video(v) => (Some(v.to_hex()), None, None),
                LikeTarget::Comment(c) => (None, Some(c.to_hex()), None),
                LikeTarget::Tweet(t) => (None, None, Some(t.to_hex())),
            };
            let like = (
                l.id.to_hex(),
                l.liked_by.to_hex(),
                video,
                comment,
                tweet,
                l.created_at.millis(),
                l.updated_at.millis(),
            );
            accepted(tx, INSERT_LIKE, like)
        }
        Record::Subscription(s) => {
            let subscription = (
                s.id.to_hex(),
                s.subscriber.to_hex(),
                s.channel.to_hex(),
                s.created_at.millis(),
                s.updated_at.millis(),
            );
            accepted(tx, INSERT_SUBSCRIPTION, subscription)
        }
        Record::Playlist(p) => {
            let id = p.id.to_hex();
            let playlist = (&id, p.owner.to_hex(), p.name, p.description, p.created_at.millis(), p.updated_at.millis());
            if !accepted(tx, UPSERT_PLAYLIST, playlist)? {
                return Ok(false);
            }
            write(tx, "DELETE FROM playlist_videos WHERE playlist_id = ?1", [&id])?;
            for (position, video) in p.videos.iter().enumerate() {
                // A playlist entry whose video is gone is dropped, as a video deletion would have done.
                write(tx, INSERT_PLAYLIST_ENTRY, (&id, video.to_hex(), position as i64 + 1))?;
            }
            Ok(true)
        }
        Record::History(h) => {
            let user = h.user.to_hex();
            write(tx, "DELETE FROM watch_history WHERE user_id = ?1", [&user])?;
            let newest = h.entries.len() as i64;
            let mut written = false;
            for (age, (video, watched_at)) in h.entries.iter().enumerate() {
                let entry = (&user, video.to_hex(), newest - age as i64, watched_at.map(Timestamp::millis));
                written |= write(tx, INSERT_HISTORY_ENTRY, entry)?.is_some_and(|rows| rows > 0);
            }
            Ok(written)
        }
        Record::Report(r) => {
            let report = rusqlite::params![
                r.id.to_hex(),
                r.reporter.to_hex(),
                r.target.kind.as_str(),
                r.target.id.to_hex(),
                r.reason.as_str(),
                r.details,
                r.status.as_str(),
                r.created_at.millis(),
                r.updated_at.millis(),
            ];
            accepted(tx, UPSERT_REPORT, report)
        }
        Record::Action(a) => {
            let action = (
                a.id.to_hex(),
                a.moderator.to_hex(),
                a.target.kind.as_str(),
                a.target.id.to_hex(),
                a.action.as_str(),
                a.reason,
                a.created_at.millis(),
            );
            accepted(tx, INSERT_ACTION, action)
        }
        Record::Block(b) => {
            let block = (b.id.to_hex(), b.blocker.to_hex(), b.blocked.to_hex(), b.created_at.millis());
            accepted(tx, INSERT_BLOCK, block)
        }
        Record::NotificationSettings(s) => {
            let on = s.settings;
            let row = (s.user.to_hex(), on.new_video, on.comment, on.reply, on.subscriber, s.updated_at.millis());
            accepted(tx, SAVE_SETTINGS, row)
        }
        Record::Notification(n) => {
            let row = (
                n.id.to_hex(),
                n.recipient.to_hex(),
                n.kind.as_str(),
                n.actor.to_hex(),
                n.video.map(Id::to_hex),
                n.comment.map(Id::to_hex),
                n.read,
                n.created_at.millis(),
            );
            accepted(tx, UPSERT_NOTIFICATION, row)
        }
    }
}

const UPSERT_USER: &str = "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, cover_image, \
     cover_image_key, password_hash, history_paused, created_at, updated_at, role, suspended_reason) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
     ON CONFLICT (id) DO UPDATE SET username = excluded.username, email = excluded.email, \
     full_name = excluded.full_name, avatar = excluded.avatar, avatar_key = excluded.avatar_key, \
     cover_image = excluded.cover_image, cover_image_key = excluded.cover_image_key, \
     password_hash = excluded.password_hash, history_paused = excluded.history_paused, \
     created_at = excluded.created_at, updated_at = excluded.updated_at, role = excluded.role, \
     suspended_reason = excluded.suspended_reason";

const REPLACE_SESSION: &str = "INSERT OR REPLACE INTO refresh_sessions (id, jti, user_id, token_hash, user_agent, \
     expires_at, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const UPSERT_VIDEO: &str = "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
     description, duration, views, visibility, created_at, updated_at, processing_status, processing_progress, \
     processing_error, width, height, hls_url, hls_key, removed_reason, held_visibility, tags) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) \
     ON CONFLICT (id) DO UPDATE SET video_file = excluded.video_file, video_key = excluded.video_key, \
     thumbnail = excluded.thumbnail, thumbnail_key = excluded.thumbnail_key, title = excluded.title, \
     description = excluded.description, duration = excluded.duration, views = excluded.views, \
     visibility = excluded.visibility, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, processing_status = excluded.processing_status, \
     processing_progress = excluded.processing_progress, processing_error = excluded.processing_error, \
     width = excluded.width, height = excluded.height, hls_url = excluded.hls_url, \
     hls_key = excluded.hls_key, removed_reason = excluded.removed_reason, \
     held_visibility = excluded.held_visibility, tags = excluded.tags, lease_holder = NULL, lease_until = NULL";

/// A reply is written after its thread (ids grow with time, the export goes in id order); one whose
/// thread is missing is refused by the foreign key, as a comment whose video is.
const UPSERT_COMMENT: &str = "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at, \
     removed_reason, hidden, parent_id, reply_to_id, pinned, hearted) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
     ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at, \
     removed_reason = excluded.removed_reason, hidden = excluded.hidden, pinned = excluded.pinned, \
     hearted = excluded.hearted";

const UPSERT_TWEET: &str = "INSERT INTO tweets (id, owner_id, content, created_at, updated_at, removed_reason, \
     hidden) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (id) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at, \
     removed_reason = excluded.removed_reason, hidden = excluded.hidden";

const INSERT_LIKE: &str = "INSERT INTO likes (id, liked_by, video_id, comment_id, tweet_id, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING";

const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (id, subscriber_id, channel_id, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING";

const UPSERT_PLAYLIST: &str = "INSERT INTO playlists (id, owner_id, name, description, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
     description = excluded.description, created_at = excluded.created_at, updated_at = excluded.updated_at";

const UPSERT_REPORT: &str = "INSERT INTO reports (id, reporter_id, target_type, target_id, reason, details, status, \
     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at";

/// The log is append-only: a copied action is written once.
const INSERT_ACTION: &str = "INSERT INTO moderation_actions (id, moderator_id, target_type, target_id, action, reason, \
     created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING";

const UPSERT_NOTIFICATION: &str = "INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, comment_id, \
     read, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET read = excluded.read";

const INSERT_BLOCK: &str = "INSERT INTO blocks (id, blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (id) DO NOTHING";

const INSERT_PLAYLIST_ENTRY: &str = "INSERT OR IGNORE INTO playlist_videos (playlist_id, video_id, position) \
     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?2)";

const INSERT_HISTORY_ENTRY: &str = "INSERT OR IGNORE INTO watch_history (user_id, video_id, seq, watched_at) \
     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?2)";
