//! Moving all data between stores (SQLite ⇄ MongoDB) with ids and timestamps preserved. Each
//! backend exports records in id order and imports them as upserts, so a copy can be re-run after
//! an interruption: it resumes by overwriting what is already there and adding the rest.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::moderation::{Action, ReportReason, ReportStatus, Target};
pub use crate::domain::notification::{NotificationRecord, SettingsRecord};
use crate::domain::processing::ProcessingStatus;
use crate::domain::social::LikeTarget;
use crate::domain::user::Role;
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};

pub use super::records::Kind;

#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    pub id: Id,
    pub jti: String,
    pub token_hash: String,
    pub user_agent: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// A user with every internal field, refresh sessions included, so logged-in clients stay logged in.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: Id,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub avatar: String,
    pub avatar_key: String,
    pub cover_image: String,
    pub cover_image_key: Option<String>,
    pub password_hash: String,
    pub sessions: Vec<SessionRecord>,
    pub history_paused: bool,
    pub role: Role,
    pub suspended_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VideoRow {
    pub id: Id,
    pub owner: Id,
    pub video_file: String,
    pub video_key: String,
    pub thumbnail: String,
    pub thumbnail_key: String,
    pub title: String,
    pub description: String,
    pub duration: f64,
    pub views: i64,
    pub visibility: Visibility,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The video's hourly view records (trending), oldest first.
    pub view_hours: Vec<ViewHourRecord>,
    pub processing: VideoProcessing,
    /// Its moderation: the removal's reason, and the owner's own level while hidden (`visibility`
    /// is then the listed one, private).
    pub removed_reason: Option<String>,
    pub held_visibility: Option<Visibility>,
    pub tags: Vec<String>,
}

/// The views of a video counted in one hour (hours since the epoch).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewHourRecord {
    pub hour: i64,
    pub views: i64,
}

/// A video's processing state as copied. Leases are not: a job that was running when the copy
/// was made is queued again in the target.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoProcessing {
    pub status: ProcessingStatus,
    pub progress: i64,
    pub error: Option<String>,
    pub width: i64,
    pub height: i64,
    pub hls_url: Option<String>,
    pub hls_key: String,
}

impl VideoProcessing {
    /// The state from its stored status, with a running job put back in the queue.
    pub fn exported(status: Option<&str>) -> ProcessingStatus {
        match ProcessingStatus::from_stored(status) {
            ProcessingStatus::Processing => ProcessingStatus::Queued,
            status => status,
        }
    }
}

/// A comment (with its video) or a tweet (without).
#[derive(Clone, Debug, PartialEq)]
pub struct PostRecord {
    pub id: Id,
    pub owner: Id,
    pub video: Option<Id>,
    pub content: String,
    /// Set while a moderator's removal stands.
    pub removed_reason: Option<String>,
    /// Hidden by moderation (removed, or its author suspended).
    pub hidden: bool,
    /// A comment's place in its thread (the default for a tweet).
    pub thread: ThreadFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a comment holds of comment threads (docs/api.md §3.5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadFields {
    /// The thread a reply belongs to.
    pub parent: Option<Id>,
    /// The author a reply answered (kept as written, whether or not that account still exists).
    pub reply_to: Option<Id>,
    pub pinned: bool,
    pub hearted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LikeRecord {
    pub id: Id,
    pub liked_by: Id,
    pub target: LikeTarget,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRecord {
    pub id: Id,
    pub subscriber: Id,
    pub channel: Id,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlaylistRow {
    pub id: Id,
    pub owner: Id,
    pub name: String,
    pub description: String,
    pub videos: Vec<Id>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user's watch history, newest first, each video with the time of its latest watch when known.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRecord {
    pub user: Id,
    pub entries: Vec<(Id, Option<Timestamp>)>,
}

/// A report with its reporter and status.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRecord {
    pub id: Id,
    pub reporter: Id,
    pub target: Target,
    pub reason: ReportReason,
    pub details: Option<String>,
    pub status: ReportStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// That `blocker` hides `blocked` from their channel.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockRecord {
    pub id: Id,
    pub blocker: Id,
    pub blocked: Id,
    pub created_at: Timestamp,
}

/// One entry of the moderation log.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRecord {
    pub id: Id,
    pub moderator: Id,
    pub target: Target,
    pub action: Action,
    pub reason: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    User(UserRecord),
    Video(VideoRow),
    Comment(PostRecord),
    Tweet(PostRecord),
    Like(LikeRecord),
    Subscription(SubscriptionRecord),
    Playlist(PlaylistRow),
    History(HistoryRecord),
    Report(ReportRecord),
    Action(ActionRecord),
    Block(BlockRecord),
    NotificationSettings(SettingsRecord),
    Notification(NotificationRecord),
}

impl Record {
    /// The kind whose export yields this record.
    pub fn kind(&self) -> Kind {
        match self {
            Record::User(_) => Kind::Users,
            Record::Video(_) => Kind::Videos,
            Record::Comment(_) => Kind::Comments,
            Record::Tweet(_) => Kind::Tweets,
            Record::Like(_) => Kind::Likes,
            Record::Subscription(_) => Kind::Subscriptions,
            Record::Playlist(_) => Kind::Playlists,
            Record::History(_) => Kind::WatchHistory,
            Record::Report(_) => Kind::Reports,
            Record::Action(_) => Kind::ModerationActions,
            Record::Block(_) => Kind::Blocks,
            Record::NotificationSettings(_) => Kind::NotificationSettings,
            Record::Notification(_) => Kind::Notifications,
        }
    }
}

/// One page of an export. `last` is the id to continue after (also past unreadable records).
pub struct Batch {
    pub records: Vec<Record>,
    pub last: Option<Id>,
    pub unreadable: u64,
}

/// What an import did with a batch: written records, and skipped ones (a reference to something
/// missing, or a duplicate of another record's unique key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub written: u64,
    pub skipped: u64,
}

#[async_trait]
pub trait Transfer: Send + Sync {
    fn describe(&self) -> String;
    async fn count(&self, kind: Kind) -> StoreResult<u64>;
    /// Up to `limit` records of `kind` with ids above `after`, in id order.
    async fn export(&self, kind: Kind, after: Option<Id>, limit: u32) -> StoreResult<Batch>;
    /// Writes the records, replacing those with the same id.
    async fn import(&self, records: Vec<Record>) -> StoreResult<Imported>;
}

/// The progress of one kind: how many the source has, read so far, and what the import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindReport {
    pub kind: Kind,
    pub total: u64,
    pub read: u64,
    pub unreadable: u64,
    pub imported: Imported,
}

/// Copies every kind in dependency order, `batch` records at a time, calling `progress` after
/// every batch and once when a kind is done.
pub async fn copy_all(
    from: &dyn Transfer,
    to: &dyn Transfer,
    batch: u32,
    progress: &mut (dyn FnMut(&KindReport, bool) + Send),
) -> StoreResult<Vec<KindReport>> {
    let mut reports = Vec::with_capacity(Kind::ALL.len());
    for kind in Kind::ALL {
        let total = from.count(kind).await?;
        let mut report = KindReport { kind, total, read: 0, unreadable: 0, imported: Imported::default() };
        let mut after = None;
        loop {
            let page = from.export(kind, after, batch).await?;
            let Some(last) = page.last else { break };
            after = Some(last);
            report.read += page.records.len() as u64;
            report.unreadable += page.unreadable;
            let imported = to.import(page.records).await?;
            report.imported.written += imported.written;
            report.imported.skipped += imported.skipped;
            progress(&report, false);
        }
        progress(&report, true);
        reports.push(report);
    }
    Ok(reports)
}
