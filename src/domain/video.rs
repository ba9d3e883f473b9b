//! Videos as the API shows them, and the storage keys kept beside them.

use serde::Serialize;

use super::moderation::Moderation;
use super::page::PageRequest;
use super::processing::{Processing, Streams};
use super::search::Tags;
use super::user::{Identity, OwnerSummary, Role};
use super::visibility::{Place, Visibility};
use super::{Id, OwnerKeys, Timestamp, Twin};

/// docs/api.md §3.1 "Video"; `likes_count`/`is_liked` are filled for VideoDetail and DashboardVideo only.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    #[serde(rename = "_id")]
    pub id: Id,
    pub video_file: String,
    pub thumbnail: String,
    pub title: String,
    pub description: String,
    /// Normalised tags (docs/api.md §3.16.1); `[]` when none.
    pub tags: Tags,
    pub duration: f64,
    /// Pixels of the displayed picture; 0 when unknown.
    pub width: i64,
    pub height: i64,
    pub processing: Processing,
    pub streams: Streams,
    pub views: i64,
    /// Written as `visibility` and `isPublished`.
    #[serde(flatten, serialize_with = "super::visibility::serialize_with_published")]
    #[schema(schema_with = super::visibility::schema_with_published)]
    pub visibility: Visibility,
    #[serde(flatten)]
    #[schema(schema_with = super::twin_schema::<OwnerSummary, OwnerKeys>)]
    pub owner: Twin<OwnerSummary, OwnerKeys>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likes_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_liked: Option<bool>,
    /// `null` unless a moderator removed the video (only its owner and moderators ever see one).
    pub moderation: Option<Moderation>,
    /// Hidden from others by moderation (removed, or its owner suspended), whatever `visibility`
    /// (the owner's own level) says.
    #[serde(skip)]
    pub hidden: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Video {
    pub fn owner_twin(owner: OwnerSummary) -> Twin<OwnerSummary, OwnerKeys> {
        Twin::new(owner)
    }

    pub fn owner_id(&self) -> Id {
        self.owner.value.id
    }

    /// Whether `viewer` may see this video in `place` (the rule of `super::visibility`).
    pub fn is_visible_to(&self, viewer: Option<Id>, place: Place) -> bool {
        let level = super::visibility::listed(self.visibility, self.hidden);
        super::visibility::may_see(level, self.owner_id(), viewer, place)
    }

    /// As [`Self::is_visible_to`], where the viewer's role is known: a moderator also sees what
    /// moderation hides, at the video's own level (docs/api.md §3.15.3).
    pub fn is_visible_to_caller(&self, viewer: Option<&Identity>, place: Place) -> bool {
        match viewer {
            Some(staff) if staff.role.includes(Role::Moderator) => {
                super::visibility::may_see(self.visibility, self.owner_id(), Some(staff.id), place)
            }
            viewer => self.is_visible_to(viewer.map(|v| v.id), place),
        }
    }
}

impl super::ownership::HasOwner for VideoRecord {
    fn owner_id(&self) -> Id {
        self.video.owner_id()
    }
}

/// A video of the caller's watch history with the time of its latest watch (docs/api.md §3.3.9);
/// `None` (shown as `null`) for entries recorded before watch times were kept.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct WatchedVideo {
    #[serde(flatten)]
    pub video: Video,
    pub watched_at: Option<Timestamp>,
}

/// A video with the storage keys of its media objects (internal).
#[derive(Clone, Debug)]
pub struct VideoRecord {
    pub video: Video,
    pub video_key: String,
    /// Empty while a thumbnail is still to be extracted.
    pub thumbnail_key: String,
    /// The key of the HLS renditions; empty until made.
    pub hls_key: String,
    /// Why processing failed, when it did.
    pub processing_error: Option<String>,
}

/// Sort fields accepted by `GET /videos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoSort {
    CreatedAt,
    Views,
    Duration,
    Title,
}

impl VideoSort {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "createdAt" => Some(VideoSort::CreatedAt),
            "views" => Some(VideoSort::Views),
            "duration" => Some(VideoSort::Duration),
            "title" => Some(VideoSort::Title),
            _ => None,
        }
    }
}

/// A `GET /videos` request as parsed at the edge (docs/api.md §3.4.1). Which visibility levels it
/// shows depends on the viewer, which the service decides when it turns this into a [`VideoQuery`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedRequest {
    /// The search needle; `None` when absent or empty.
    pub search: Option<String>,
    /// Only this owner's videos.
    pub owner: Option<Id>,
    pub sort: VideoSort,
    pub descending: bool,
    pub page: PageRequest,
}

/// A feed query after validation; `levels` are the visibility levels the viewer sees in it
/// (`Place::levels`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VideoQuery {
    pub search: Option<String>,
    pub owner: Option<Id>,
    pub levels: &'static [Visibility],
    pub sort: VideoSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
}
