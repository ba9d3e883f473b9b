//! Comments, tweets, likes, subscriptions, playlists and dashboard figures as the API shows them.

use serde::Serialize;

use super::choice::choice;
use super::moderation::Moderation;
use super::user::OwnerSummary;
use super::video::Video;
use super::{ChannelKeys, Id, LikedVideoKeys, OwnerKeys, Timestamp, Twin};

#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    #[serde(rename = "_id")]
    pub id: Id,
    pub content: String,
    pub video: Id,
    #[serde(flatten)]
    #[schema(schema_with = super::twin_schema::<OwnerSummary, OwnerKeys>)]
    pub owner: Twin<OwnerSummary, OwnerKeys>,
    pub likes_count: i64,
    pub is_liked: bool,
    /// `null` unless a moderator removed the comment (only its author then sees it).
    pub moderation: Option<Moderation>,
    /// The thread (top-level comment) a reply belongs to; `null` for a top-level comment.
    pub parent: Option<Id>,
    /// The author of the comment a reply answered; `null` for a top-level comment (and once that
    /// account is deleted).
    pub reply_to: Option<OwnerSummary>,
    /// The replies everyone sees in this thread (moderation-hidden ones are not counted); 0 for a reply.
    pub replies_count: i64,
    /// Pinned by the video's owner (top-level comments only, one per video).
    pub pinned: bool,
    pub hearted_by_creator: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

choice! {
    /// The order of a video's top-level comments (docs/api.md §3.5.1).
    pub enum CommentSort for "sort" {
        /// Newest first (ties by id).
        Newest = "newest",
        /// Most liked, then most replied, then newest (ties by id).
        Top = "top",
    }
}

/// The `parentId` of a new comment, parsed at the edge: none (a top-level comment), a comment's
/// id, or a value that is no id, refused (400 `Invalid parentId`) after the content's own checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyTarget {
    TopLevel,
    Comment(Id),
    Malformed,
}

impl ReplyTarget {
    /// Absent, `null` or empty (after trimming) is a top-level comment.
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            None | Some("") => ReplyTarget::TopLevel,
            Some(raw) => Id::parse(raw).map_or(ReplyTarget::Malformed, ReplyTarget::Comment),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Tweet {
    #[serde(rename = "_id")]
    pub id: Id,
    pub content: String,
    #[serde(flatten)]
    #[schema(schema_with = super::twin_schema::<OwnerSummary, OwnerKeys>)]
    pub owner: Twin<OwnerSummary, OwnerKeys>,
    pub likes_count: i64,
    pub is_liked: bool,
    /// `null` unless a moderator removed the tweet (only its author then sees it).
    pub moderation: Option<Moderation>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a like points at; exactly one target per like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LikeTarget {
    Video(Id),
    Comment(Id),
    Tweet(Id),
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct LikeState {
    pub is_liked: bool,
    pub likes_count: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct LikedVideoItem {
    #[serde(rename = "_id")]
    pub id: Id,
    pub liked_by: Id,
    #[serde(flatten)]
    #[schema(schema_with = super::twin_schema::<Video, LikedVideoKeys>)]
    pub video: Twin<Video, LikedVideoKeys>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberCard {
    #[serde(rename = "_id")]
    pub id: Id,
    pub username: String,
    pub full_name: String,
    pub avatar: String,
    pub subscribers_count: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberItem {
    #[serde(rename = "_id")]
    pub id: Id,
    pub channel: Id,
    pub subscriber: SubscriberCard,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct LatestVideo {
    #[serde(rename = "_id")]
    pub id: Id,
    pub title: String,
    pub thumbnail: String,
    pub duration: f64,
    pub views: i64,
    pub created_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ChannelCard {
    #[serde(rename = "_id")]
    pub id: Id,
    pub username: String,
    pub full_name: String,
    pub avatar: String,
    pub subscribers_count: i64,
    pub latest_video: Option<LatestVideo>,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedChannelItem {
    #[serde(rename = "_id")]
    pub id: Id,
    pub subscriber: Id,
    #[serde(flatten)]
    #[schema(schema_with = super::twin_schema::<ChannelCard, ChannelKeys>)]
    pub channel: Twin<ChannelCard, ChannelKeys>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A playlist row without its videos; the service resolves videos per caller.
#[derive(Clone, Debug)]
pub struct PlaylistRecord {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub owner: OwnerSummary,
    pub video_ids: Vec<Id>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Playlist {
    #[serde(rename = "_id")]
    pub id: Id,
    pub name: String,
    pub description: String,
    pub videos: Vec<Video>,
    pub owner: OwnerSummary,
    pub total_videos: i64,
    pub total_views: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Playlist {
    /// Builds the response from a record and the videos visible to the caller, totals over that list.
    pub fn from_record(record: PlaylistRecord, videos: Vec<Video>) -> Self {
        Playlist {
            id: record.id,
            name: record.name,
            description: record.description,
            total_videos: videos.len() as i64,
            total_views: videos.iter().map(|v| v.views).sum(),
            videos,
            owner: record.owner,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStats {
    pub total_videos: i64,
    pub total_views: i64,
    pub total_subscribers: i64,
    pub total_likes: i64,
}

impl super::ownership::HasOwner for PlaylistRecord {
    fn owner_id(&self) -> Id {
        self.owner.id
    }
}
