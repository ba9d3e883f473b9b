//! Persistence: one repository trait per aggregate, a `StoreError`, and the `Store` bundle services use.
//! Stores persist only; visibility and ownership rules live in `services`.

pub mod ephemeral;
pub mod feed_cache;
pub mod mongo;
pub mod records;
pub mod sqlite;
pub mod transfer;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::moderation::{
    Action, Grounds, ModerationAction, Report, ReportStatus, ReportTally, Target, TargetType,
};
use crate::domain::notification::{NewNotification, Notification, NotificationSettings};
use crate::domain::processing::ProcessingStatus;
use crate::domain::search::{
    Relation, SearchText, SearchedChannel, SearchedVideo, SuggestionSource, Tags, VideoSearchQuery,
};
use crate::domain::social::{
    ChannelStats, Comment, CommentSort, LikeTarget, LikedVideoItem, PlaylistRecord, SubscribedChannelItem,
    SubscriberItem, Tweet,
};
use crate::domain::trending::TrendingVideo;
use crate::domain::user::{ChannelCounts, OwnerSummary, Role, RoleChange, Session, Standing, UserAccount};
use crate::domain::video::{Video, VideoQuery, VideoRecord, WatchedVideo};
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};
use crate::error::{BoxError, Context};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint rejected the write; `field` names the unique field.
    #[error("unique constraint violated on {field}")]
    Conflict { field: &'static str },
    /// Anything else: the driver's error (or a message when nothing below failed), possibly under
    /// a `Context` saying what was being done, kept as the source.
    #[error("store backend error")]
    Backend(#[source] BoxError),
    /// The database cannot serve the operation now but may soon: MongoDB unreachable (no server
    /// selected in time, a connection refused or cut), SQLite on a full disk or a read-only file.
    /// Which driver errors these are is each store's decision; the request may be sent again.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
}

impl StoreError {
    /// A backend failure caused by `cause`: a driver error, or a message when nothing below failed.
    pub fn backend(cause: impl Into<BoxError>) -> Self {
        StoreError::Backend(cause.into())
    }

    /// A backend failure with `context` saying what was being done when `cause` happened.
    pub fn context(context: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        StoreError::Backend(Box::new(Context::new(context, cause)))
    }

    /// Whether this is `Unavailable`: the operation may succeed when sent again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored media object: its public URL and the internal key that deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    pub url: String,
    pub key: String,
}

pub struct NewUser {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub avatar: MediaRef,
    pub cover_image: Option<MediaRef>,
    pub password_hash: String,
}

/// A partial profile update; `None` leaves the field untouched.
#[derive(Default)]
pub struct ProfileUpdate {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<MediaRef>,
    pub cover_image: Option<MediaRef>,
}

impl ProfileUpdate {
    pub fn is_empty(&self) -> bool {
        self.full_name.is_none() && self.email.is_none() && self.avatar.is_none() && self.cover_image.is_none()
    }
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Inserts a user; `Conflict` when the username or email is taken.
    async fn create(&self, user: NewUser) -> StoreResult<UserAccount>;
    async fn by_id(&self, id: Id) -> StoreResult<Option<UserAccount>>;
    /// What authenticating a request reads of the account `id`, `None` when it no longer exists.
    /// Every authenticated request asks, so it reads no more than `Standing` holds.
    async fn identity(&self, id: Id) -> StoreResult<Option<Standing>>;
    async fn by_username(&self, username: &str) -> StoreResult<Option<UserAccount>>;
    async fn by_email(&self, email: &str) -> StoreResult<Option<UserAccount>>;
    async fn username_or_email_taken(&self, username: &str, email: &str) -> StoreResult<bool>;
    /// Applies the update and returns the account as it was before and after; `Conflict` on a taken email.
    async fn update_profile(&self, id: Id, update: ProfileUpdate) -> StoreResult<Option<(UserAccount, UserAccount)>>;
    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()>;
    /// Gives the user `id` the role `role`, unless that leaves no admin (`LastAdmin`, also when two
    /// admins demote each other at once); `None` when there is no such user.
    async fn set_role(&self, id: Id, role: Role) -> StoreResult<Option<RoleChange>>;
    /// Suspends the account with this reason (`Some`): its sessions end, and its videos, comments
    /// and tweets are hidden from others; or lifts the suspension (`None`), showing again what no
    /// removal of its own hides. False when there is no such user.
    async fn set_suspension(&self, id: Id, reason: Option<String>) -> StoreResult<bool>;
    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts>;
    /// The user named `username` with their channel counts for `viewer`, in as few round trips as
    /// the backend allows (on MongoDB: the user, then three index-only counts at once).
    async fn channel(&self, username: &str, viewer: Option<Id>) -> StoreResult<Option<(UserAccount, ChannelCounts)>>;
    /// Deletes the user and everything they own (docs/api.md §3.3.10) and returns the storage keys
    /// of their media objects, for the caller to delete. The user record goes last, so a failure
    /// part-way leaves an account that can log in and retry, and never videos of a user who is gone.
    async fn delete_account(&self, id: Id) -> StoreResult<Vec<String>>;
}

/// The refresh token a session accepts now; every refresh replaces it.
pub struct RefreshGrant {
    pub jti: String,
    pub token_hash: String,
    pub expires_at: Timestamp,
}

/// A login on one device.
pub struct NewSession {
    pub id: Id,
    pub user_id: Id,
    /// The login's `User-Agent`, already cut to its first 200 characters.
    pub user_agent: String,
    pub grant: RefreshGrant,
}

#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a session, evicting the user's oldest ones beyond `max`.
    async fn create(&self, session: NewSession, max: u32) -> StoreResult<()>;
    /// Atomically replaces the live grant (`jti`, `token_hash`) of one of `user_id`'s sessions by
    /// `next`, keeping the session and marking it used; its id, or `None` when no live grant matched.
    async fn rotate(&self, user_id: Id, jti: &str, token_hash: &str, next: RefreshGrant) -> StoreResult<Option<Id>>;
    /// Deletes the session holding this grant; false when it did not exist.
    async fn delete(&self, user_id: Id, jti: &str, token_hash: &str) -> StoreResult<bool>;
    async fn delete_all(&self, user_id: Id) -> StoreResult<()>;
    /// The user's unexpired sessions, newest first, each with `current` false.
    async fn list(&self, user_id: Id) -> StoreResult<Vec<Session>>;
    /// Ends one session of the user; false when the user has no such session.
    async fn revoke(&self, user_id: Id, session: Id) -> StoreResult<bool>;
}

pub struct NewVideo {
    pub owner: Id,
    pub video_file: MediaRef,
    pub thumbnail: MediaRef,
    pub title: String,
    pub description: String,
    pub tags: Tags,
    pub duration: f64,
    pub visibility: Visibility,
    /// `Queued` when a job will process it, `Ready` when the backend did (Cloudinary), else `Off`.
    pub processing: ProcessingStatus,
    pub width: i64,
    pub height: i64,
    /// The HLS master playlist when the backend streams the video itself (Cloudinary).
    pub hls_url: Option<String>,
}

#[derive(Default)]
pub struct VideoUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Tags>,
    pub thumbnail: Option<MediaRef>,
    pub visibility: Option<Visibility>,
}

/// What one request of the watch page writes.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    pub video: Id,
    pub at: Timestamp,
    /// One more view (the viewer's first in the window), recorded under the hour of `at` for trending.
    pub counted: bool,
    /// Moves the video to the front of this user's history.
    pub history: Option<HistoryEntry>,
}

/// A history write: the viewer's history, capped at `max` entries.
#[derive(Clone, Copy, Debug)]
pub struct HistoryEntry {
    pub user: Id,
    pub max: u32,
}

/// What the watch page shows beside a video: its channel's counts and likes, as one viewer sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchFacts {
    pub channel: ChannelCounts,
    pub likes: i64,
    pub viewer_liked: bool,
}

#[async_trait]
pub trait VideoRepo: Send + Sync {
    async fn insert(&self, video: NewVideo) -> StoreResult<VideoRecord>;
    async fn get(&self, id: Id) -> StoreResult<Option<VideoRecord>>;
    /// The video with what the watch page shows beside it for `viewer`, in as few round trips as
    /// the backend allows (the caller decides whether the viewer may see it).
    async fn watch_page(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<(VideoRecord, WatchFacts)>>;
    /// One page of the feed and the total number of matches.
    async fn list(&self, query: &VideoQuery) -> StoreResult<(Vec<Video>, u64)>;
    async fn update(&self, id: Id, update: VideoUpdate) -> StoreResult<Option<VideoRecord>>;
    async fn set_visibility(&self, id: Id, visibility: Visibility) -> StoreResult<Option<VideoRecord>>;
    /// Removes the video with this reason (`Some`) or restores it (`None`): while removed it is
    /// listed as private, the owner's own level kept aside (`visibility::listed`). False when
    /// there is no such video.
    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool>;
    /// Deletes the video with its likes, comments (and their likes), playlist and history entries.
    async fn delete(&self, id: Id) -> StoreResult<bool>;
    /// Applies one watch: the view count with the new count returned when `counted` (`None` when the
    /// view was not counted or the video is gone), and the history entry. SQLite groups the watches
    /// of concurrent requests into one transaction; each still gets its own exact count.
    async fn record_watch(&self, watch: Watch) -> StoreResult<Option<i64>>;
    /// One page of public videos by views counted from `first_hour` on (most first, then `views`,
    /// `createdAt` and `_id`, all descending), and their total; read from the hourly view records
    /// of the window, never by scanning the videos.
    async fn trending(&self, first_hour: i64, offset: u64, limit: u32) -> StoreResult<(Vec<TrendingVideo>, u64)>;
    /// Deletes the hourly view records before `first_kept_hour`; returns how many.
    async fn prune_view_hours(&self, first_kept_hour: i64) -> StoreResult<u64>;
    /// Videos in the given order, skipping ids that no longer exist or that `viewer` does not see in
    /// a list built from ids (`Place::ByLink`).
    async fn visible_by_ids(&self, ids: &[Id], viewer: Option<Id>) -> StoreResult<Vec<Video>>;
}

/// A user's watch history (docs/api.md §3.3.12). Watching writes it through `VideoRepo::record_watch`,
/// in the same step as the view count.
#[async_trait]
pub trait HistoryRepo: Send + Sync {
    /// The user's history, newest first, keeping only videos the user sees there (`Place::ByLink`).
    async fn watch_history(&self, user: Id) -> StoreResult<Vec<WatchedVideo>>;
    /// The user's standing (as `UserRepo::identity`) and history (as [`Self::watch_history`]) read
    /// together, for a request whose caller is checked by the same read; `None` without the user.
    async fn standing_and_history(&self, user: Id) -> StoreResult<Option<(Standing, Vec<WatchedVideo>)>>;
    async fn clear_history(&self, user: Id) -> StoreResult<()>;
    /// Removes the video from the user's history if it is there (idempotent).
    async fn forget_watch(&self, user: Id, video: Id) -> StoreResult<()>;
    /// Turns history recording off (`true`) or on; false when the user does not exist.
    async fn set_history_paused(&self, user: Id, paused: bool) -> StoreResult<bool>;
}

/// What a channel's owner sees of their own channel.
#[async_trait]
pub trait DashboardRepo: Send + Sync {
    /// All of the owner's videos, newest first, with their like counts.
    async fn dashboard_videos(&self, owner: Id) -> StoreResult<Vec<Video>>;
    async fn channel_stats(&self, owner: Id) -> StoreResult<ChannelStats>;
}

/// What a finished processing job changes on its video.
pub struct ProcessedVideo {
    pub duration: f64,
    pub width: i64,
    pub height: i64,
    /// The browser-playable file replacing the original, when one was made.
    pub video_file: Option<MediaRef>,
    /// The extracted thumbnail; stored only if the video still has none.
    pub thumbnail: Option<MediaRef>,
    pub hls: MediaRef,
}

/// The durable job queue of video processing (docs/api.md §3.14). A video's job is part of the
/// video: deleting the video cancels it. A job is claimed with a lease (`holder`, `until`) that its
/// instance renews while it works; every write after the claim applies only while the lease is
/// still this holder's, so a job that was taken over or whose video was deleted writes nothing.
#[async_trait]
pub trait ProcessingRepo: Send + Sync {
    /// Claims the oldest queued job, or the oldest whose lease ran out before `now` (its instance
    /// died), for `holder` until `until`; the claimed video.
    async fn claim(&self, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<Option<VideoRecord>>;
    /// Extends the lease to `until` and raises the progress to `progress` (never lowers it); false
    /// when the job is no longer this holder's.
    async fn renew(&self, video: Id, holder: &str, progress: u8, until: Timestamp) -> StoreResult<bool>;
    /// Marks the job ready with its results; the video as it is now, or `None` when the job was no
    /// longer this holder's (nothing was written).
    async fn finish(&self, video: Id, holder: &str, done: &ProcessedVideo) -> StoreResult<Option<VideoRecord>>;
    /// Marks the job failed with a short message; false when it was no longer this holder's.
    async fn fail(&self, video: Id, holder: &str, error: &str) -> StoreResult<bool>;
    /// Gives the job back to the queue (this instance is stopping), so that the next claim takes it
    /// at once instead of after the lease; false when it was no longer this holder's.
    async fn release(&self, video: Id, holder: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait LikeRepo: Send + Sync {
    /// One atomic flip of the user's like on the target; returns whether it is now liked.
    async fn toggle(&self, user: Id, target: LikeTarget) -> StoreResult<bool>;
    async fn count(&self, target: LikeTarget) -> StoreResult<i64>;
    async fn is_liked(&self, user: Id, target: LikeTarget) -> StoreResult<bool>;
    /// The user's video likes, newest first, only on videos the user sees there (`Place::ByLink`).
    async fn liked_videos(&self, user: Id) -> StoreResult<Vec<LikedVideoItem>>;
}

pub struct CommentRef {
    pub id: Id,
    pub video: Id,
    pub owner: Id,
    /// Hidden by moderation (removed, or its author suspended): shown to its author only.
    pub hidden: bool,
    /// The thread a reply belongs to; `None` for a top-level comment.
    pub parent: Option<Id>,
}

/// Where a new reply goes: the thread (a top-level comment of the same video) and the author of the
/// comment it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewReply {
    pub thread: Id,
    pub reply_to: Id,
}

/// A tweet's author, and whether moderation hides it (removed, or its author suspended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TweetRef {
    pub id: Id,
    pub owner: Id,
    pub hidden: bool,
}

impl crate::domain::ownership::HasOwner for TweetRef {
    fn owner_id(&self) -> Id {
        self.owner
    }
}

impl crate::domain::ownership::HasOwner for CommentRef {
    fn owner_id(&self) -> Id {
        self.owner
    }
}

#[async_trait]
pub trait CommentRepo: Send + Sync {
    /// A top-level comment (`reply` `None`) or a reply in a thread of the same video.
    async fn insert(&self, video: Id, owner: Id, content: &str, reply: Option<NewReply>) -> StoreResult<Id>;
    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>>;
    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>>;
    /// A page of the video's top-level comments that `viewer` sees, in `sort` order, leaving out
    /// `skip` (the pinned comment, shown apart); the total counts every top-level comment `viewer`
    /// sees, `skip` included.
    async fn list(
        &self,
        video: Id,
        viewer: Option<Id>,
        sort: CommentSort,
        skip: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)>;
    /// A page of the replies in the thread `thread` that `viewer` sees, oldest first, and their total.
    async fn replies(
        &self,
        thread: Id,
        viewer: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)>;
    /// The video's pinned comment, if `viewer` sees it.
    async fn pinned(&self, video: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>>;
    /// Pins the top-level comment `id` of `video` (the video's previous pin ends) or unpins it.
    async fn set_pinned(&self, video: Id, id: Id, pinned: bool) -> StoreResult<()>;
    /// Flips the creator's heart on the comment, in one atomic step; whether it is now hearted.
    async fn toggle_heart(&self, id: Id) -> StoreResult<bool>;
    async fn update(&self, id: Id, content: &str) -> StoreResult<bool>;
    /// Deletes the comment and its likes; a top-level comment's replies (and their likes) go with it.
    async fn delete(&self, id: Id) -> StoreResult<bool>;
    /// Removes the comment with this reason (`Some`) or restores it (`None`); a hidden comment
    /// (`moderation::hidden`) leaves its video's lists and counts for everyone but its author.
    /// False when it is gone.
    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool>;
}

#[async_trait]
pub trait TweetRepo: Send + Sync {
    async fn insert(&self, owner: Id, content: &str) -> StoreResult<Id>;
    async fn get_ref(&self, id: Id) -> StoreResult<Option<TweetRef>>;
    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Tweet>>;
    async fn by_owner(&self, owner: Id, viewer: Option<Id>) -> StoreResult<Vec<Tweet>>;
    async fn update(&self, id: Id, content: &str) -> StoreResult<bool>;
    /// Deletes the tweet and its likes.
    async fn delete(&self, id: Id) -> StoreResult<bool>;
    /// Removes the tweet with this reason (`Some`) or restores it (`None`), as for comments.
    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool>;
}

#[async_trait]
pub trait SubscriptionRepo: Send + Sync {
    /// One atomic flip; returns whether the subscriber now follows the channel.
    async fn toggle(&self, subscriber: Id, channel: Id) -> StoreResult<bool>;
    async fn subscribers(&self, channel: Id) -> StoreResult<Vec<SubscriberItem>>;
    /// Channels the user follows; `latestVideo` is each channel's newest public video.
    async fn subscribed_channels(&self, subscriber: Id) -> StoreResult<Vec<SubscribedChannelItem>>;
    /// One page of the public videos of every channel `subscriber` follows, newest first (ties by
    /// id), and their total; read through the owner index, channel by channel, never the whole table.
    async fn subscription_feed(&self, subscriber: Id, offset: u64, limit: u32) -> StoreResult<(Vec<Video>, u64)>;
}

#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Stores a notification unless its recipient switched its type off or blocks its actor;
    /// whether it was stored.
    async fn notify(&self, notification: NewNotification) -> StoreResult<bool>;
    /// Marks the video as announced to its channel's subscribers: true the first time only.
    async fn claim_announcement(&self, video: Id) -> StoreResult<bool>;
    /// One batch of a `new_video` fan-out: notifies up to `limit` subscribers of `channel` after
    /// `after` (the cursor a previous batch returned, in subscription order), skipping those who
    /// switched the type off or block the channel. The cursor to continue from, `None` when done.
    async fn announce_batch(
        &self,
        channel: Id,
        video: Id,
        after: Option<FanoutCursor>,
        limit: u32,
    ) -> StoreResult<Option<FanoutCursor>>;
    /// One page of the recipient's notifications whose targets the recipient still sees, newest
    /// first, and their total (`unread_only`: unread ones only).
    async fn list(
        &self,
        recipient: Id,
        unread_only: bool,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Notification>, u64)>;
    /// How many of the recipient's notifications `list` shows are unread.
    async fn unread(&self, recipient: Id) -> StoreResult<u64>;
    /// Marks one of the recipient's notifications read; false when the recipient has none with that id.
    async fn mark_read(&self, recipient: Id, id: Id) -> StoreResult<bool>;
    async fn mark_all_read(&self, recipient: Id) -> StoreResult<()>;
    /// The recipient's shown notifications with ids after `after`, oldest first, at most `limit`.
    async fn after(&self, recipient: Id, after: Id, limit: u32) -> StoreResult<Vec<Notification>>;
    /// The shown notifications of `recipients` created at `from` or later, oldest first, at most
    /// `limit`, each with its recipient: what the stream poller tails.
    async fn created_since(
        &self,
        from: Timestamp,
        recipients: &[Id],
        limit: u32,
    ) -> StoreResult<Vec<(Id, Notification)>>;
    /// Removes the `subscriber` notification of this pair (an ended subscription).
    async fn forget_subscriber(&self, channel: Id, subscriber: Id) -> StoreResult<()>;
    /// Deletes notifications created before `before`; how many.
    async fn prune(&self, before: Timestamp) -> StoreResult<u64>;
    async fn settings(&self, user: Id) -> StoreResult<NotificationSettings>;
    async fn save_settings(&self, user: Id, settings: NotificationSettings) -> StoreResult<()>;
}

/// Where a `new_video` fan-out stands: the last subscription notified, in (creation, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanoutCursor {
    pub created_at: Timestamp,
    pub id: Id,
}

#[async_trait]
pub trait PlaylistRepo: Send + Sync {
    async fn insert(&self, owner: Id, name: &str, description: &str) -> StoreResult<Id>;
    async fn get(&self, id: Id) -> StoreResult<Option<PlaylistRecord>>;
    async fn by_owner(&self, owner: Id) -> StoreResult<Vec<PlaylistRecord>>;
    async fn update(&self, id: Id, name: Option<&str>, description: Option<&str>) -> StoreResult<bool>;
    async fn delete(&self, id: Id) -> StoreResult<bool>;
    /// Appends the video unless present (idempotent).
    async fn add_video(&self, id: Id, video: Id) -> StoreResult<()>;
    /// Removes the video if present (idempotent).
    async fn remove_video(&self, id: Id, video: Id) -> StoreResult<()>;
}

#[async_trait]
pub trait MediaIndex: Send + Sync {
    /// The subset of `keys` that no user or video references.
    async fn unreferenced(&self, keys: &[String]) -> StoreResult<Vec<String>>;
}

#[async_trait]
pub trait StoreHealth: Send + Sync {
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> bool;
    /// Finishes the store's own background writes before the process exits; the default has none
    /// (a write the server acknowledged is already in the database).
    async fn close(&self) {}
    /// Recounts the totals the store keeps apart from the records and corrects those a crash left
    /// wrong; how many it corrected. SQLite's counts change in the transaction of their record, so
    /// they are never wrong and the default does nothing.
    async fn repair_counts(&self) -> StoreResult<u64> {
        Ok(0)
    }
}

/// A report as its reporter files it.
pub struct NewReport {
    pub reporter: Id,
    pub target: Target,
    pub grounds: Grounds,
}

#[async_trait]
pub trait ReportRepo: Send + Sync {
    /// Whether the reporter's earlier report on `target` is still open.
    async fn has_open(&self, reporter: Id, target: Target) -> StoreResult<bool>;
    /// Files an open report; `Conflict` while the reporter has an open one on the same target,
    /// also when two arrive at once (a unique index of open reports decides).
    async fn file(&self, report: NewReport) -> StoreResult<Report>;
    /// One page of the reports in `status` (of targets of `kind`), one tally per target, most
    /// reported first (then the latest report first), and how many targets there are.
    async fn queue(
        &self,
        status: ReportStatus,
        kind: Option<TargetType>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<ReportTally>, u64)>;
    /// Closes every open report on `target` as `status`; how many.
    async fn close(&self, target: Target, status: ReportStatus) -> StoreResult<u64>;
}

#[async_trait]
pub trait BlockRepo: Send + Sync {
    /// `blocker` hides `blocked` from their channel (idempotent): the blocked user's subscription
    /// to the blocker ends, and their comments on the blocker's videos are hidden from everyone but
    /// them.
    async fn block(&self, blocker: Id, blocked: Id) -> StoreResult<()>;
    /// Lifts the block (idempotent): those comments show again, unless removed or, while
    /// `blocked_suspended`, hidden by the suspension.
    async fn unblock(&self, blocker: Id, blocked: Id, blocked_suspended: bool) -> StoreResult<()>;
    async fn is_blocked(&self, blocker: Id, blocked: Id) -> StoreResult<bool>;
    /// The users `blocker` blocks, the newest block first.
    async fn blocked_by(&self, blocker: Id) -> StoreResult<Vec<OwnerSummary>>;
}

/// Search and discovery (docs/api.md §3.17), over what is listed to everyone: public videos
/// neither removed nor of a suspended owner, and channels not suspended. The stores find matches
/// through their full-text indexes and order them by the rule of `domain::search`.
#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// One page of matching videos with their scores (`video_score`), and the total.
    async fn search_videos(&self, query: &VideoSearchQuery) -> StoreResult<(Vec<SearchedVideo>, u64)>;
    /// One page of matching channels with their scores, by score, then subscribers, newest account
    /// and id (all descending), and the total.
    async fn search_channels(
        &self,
        text: &SearchText,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<SearchedChannel>, u64)>;
    /// At most `search::CANDIDATES` videos whose title or tags hold the words (the last as a prefix).
    async fn suggestion_sources(&self, text: &SearchText) -> StoreResult<Vec<SuggestionSource>>;
    /// At most `search::CANDIDATES` videos other than `video` sharing one of the tags or title words.
    async fn related_candidates(&self, video: Id, relation: &Relation) -> StoreResult<Vec<Video>>;
}

/// A moderation action as its moderator takes it.
pub struct NewAction {
    pub moderator: Id,
    pub target: Target,
    pub action: Action,
    pub reason: String,
}

/// Which actions the log lists: all, those on one kind of target, or on one target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub kind: Option<TargetType>,
    pub id: Option<Id>,
}

#[async_trait]
pub trait ModerationRepo: Send + Sync {
    /// Appends the action to the log.
    async fn record(&self, action: NewAction) -> StoreResult<ModerationAction>;
    /// One page of the log, newest first, and its total.
    async fn log(&self, filter: LogFilter, offset: u64, limit: u32) -> StoreResult<(Vec<ModerationAction>, u64)>;
}

/// Every repository as a trait object, so one backend or another can be plugged in by configuration.
#[derive(Clone)]
pub struct Store {
    pub users: Arc<dyn UserRepo>,
    pub sessions: Arc<dyn SessionRepo>,
    pub videos: Arc<dyn VideoRepo>,
    pub history: Arc<dyn HistoryRepo>,
    pub dashboard: Arc<dyn DashboardRepo>,
    pub processing: Arc<dyn ProcessingRepo>,
    pub likes: Arc<dyn LikeRepo>,
    pub comments: Arc<dyn CommentRepo>,
    pub tweets: Arc<dyn TweetRepo>,
    pub subscriptions: Arc<dyn SubscriptionRepo>,
    pub playlists: Arc<dyn PlaylistRepo>,
    pub reports: Arc<dyn ReportRepo>,
    pub moderation: Arc<dyn ModerationRepo>,
    pub blocks: Arc<dyn BlockRepo>,
    pub notifications: Arc<dyn NotificationRepo>,
    pub search: Arc<dyn SearchRepo>,
    pub media_index: Arc<dyn MediaIndex>,
    pub health: Arc<dyn StoreHealth>,
    pub ephemeral: Arc<dyn ephemeral::EphemeralState>,
}

impl Store {
    /// Puts the exact page cache in front of the feed and video search (and invalidates it from
    /// the writes to videos, processing and users).
    pub fn with_feed_cache(mut self) -> Self {
        let cache = Arc::new(feed_cache::FeedCache::default());
        self.videos = Arc::new(feed_cache::CachedVideos { inner: self.videos, cache: cache.clone() });
        self.processing = Arc::new(feed_cache::CachedProcessing { inner: self.processing, cache: cache.clone() });
        self.users = Arc::new(feed_cache::CachedUsers { inner: self.users, cache: cache.clone() });
        self.search = Arc::new(feed_cache::CachedSearch { inner: self.search, cache });
        self
    }

    /// Bundles one backend that implements every repository.
    pub fn from_backend<B>(backend: B) -> Self
    where
        B: UserRepo
            + SessionRepo
            + VideoRepo
            + HistoryRepo
            + DashboardRepo
            + ProcessingRepo
            + LikeRepo
            + CommentRepo
            + TweetRepo
            + SubscriptionRepo
            + PlaylistRepo
            + ReportRepo
            + ModerationRepo
            + BlockRepo
            + NotificationRepo
            + SearchRepo
            + MediaIndex
            + StoreHealth
            + ephemeral::EphemeralState
            + 'static,
    {
        let backend = Arc::new(backend);
        Store {
            users: backend.clone(),
            sessions: backend.clone(),
            videos: backend.clone(),
            history: backend.clone(),
            dashboard: backend.clone(),
            processing: backend.clone(),
            likes: backend.clone(),
            comments: backend.clone(),
            tweets: backend.clone(),
            subscriptions: backend.clone(),
            playlists: backend.clone(),
            reports: backend.clone(),
            moderation: backend.clone(),
            blocks: backend.clone(),
            notifications: backend.clone(),
            search: backend.clone(),
            media_index: backend.clone(),
            ephemeral: backend.clone(),
            health: backend,
        }
    }
}
