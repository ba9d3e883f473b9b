//! Videos: publishing with measured duration, the feed, reading with view counting and history,
//! owner-only edits and deletion with cascades (docs/api.md §3.4).

use std::net::IpAddr;

use super::Incoming;
use super::uploads::scope_of;
use super::validate::{max_chars, non_empty_if_present, require_all};
use super::{ServiceError, Services};
use crate::domain::ownership::Owned;
use crate::domain::page::{Page, PageRequest};
use crate::domain::processing::ProcessingStatus;
use crate::domain::search::{INVALID_TAGS, Tags};
use crate::domain::trending::{TrendingVideo, Window};
use crate::domain::user::Identity;
use crate::domain::video::{FeedRequest, Video, VideoQuery, VideoRecord};
use crate::domain::visibility::{INVALID_VISIBILITY, Place, Visibility};
use crate::domain::{Id, Timestamp};
use crate::store::{HistoryEntry, MediaRef, NewVideo, VideoUpdate, Watch};

pub struct NewVideoInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub video_file: Option<Incoming>,
    pub thumbnail: Option<Incoming>,
    pub visibility: Option<String>,
    /// Checked after `visibility` (docs/api.md §3.16.1).
    pub tags: Option<String>,
}

pub struct VideoChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub thumbnail: Option<Incoming>,
    pub visibility: Option<String>,
    pub tags: Option<String>,
}

/// The owner of a removed video may not show it again (docs/api.md §3.15.3).
const REMOVED_BY_MODERATOR: &str = "This video was removed by a moderator";

/// A `visibility` input as a level; 400 for anything but the three exact words.
fn visibility_input(raw: Option<&str>) -> Result<Option<Visibility>, ServiceError> {
    raw.map(|raw| Visibility::parse(raw).ok_or_else(|| ServiceError::invalid_field("visibility", INVALID_VISIBILITY)))
        .transpose()
}

/// A `tags` input as tags; 400 when the list breaks a rule.
fn tags_input(raw: Option<&str>) -> Result<Option<Tags>, ServiceError> {
    raw.map(|raw| Tags::parse(raw).ok_or_else(|| ServiceError::invalid_field("tags", INVALID_TAGS))).transpose()
}

const THUMBNAIL_FAILED: &str = "Error while uploading thumbnail";

impl Services {
    /// The video when it exists and `viewer` may open it by its id; `NotFound` `Video not found` otherwise.
    pub async fn visible_video(&self, id: Id, viewer: Option<Id>) -> Result<VideoRecord, ServiceError> {
        match self.store.videos.get(id).await? {
            Some(record) if record.video.is_visible_to(viewer, Place::ByLink) => Ok(record),
            _ => Err(ServiceError::not_found("Video not found")),
        }
    }

    /// The caller's own video: `NotFound` when invisible, `Forbidden` when it belongs to someone else.
    pub async fn owned_video(&self, id: Id, caller: &Identity) -> Result<Owned<VideoRecord>, ServiceError> {
        let record = self.visible_video(id, Some(caller.id)).await?;
        Owned::check(record, caller.id).ok_or_else(|| ServiceError::forbidden("You are not the owner of this video"))
    }

    /// `GET /videos`: one page of the feed `feed` asks for, at the visibility levels `viewer` sees there.
    pub async fn list_videos(&self, feed: FeedRequest, viewer: Option<Id>) -> Result<Page<Video>, ServiceError> {
        // With `userId` this is the channel's listing (all of it for its owner), else a site listing.
        let levels = match feed.owner {
            Some(owner) => Place::Channel.levels(viewer == Some(owner)),
            None => Place::Listing.levels(false),
        };
        let query = VideoQuery {
            search: feed.search,
            levels,
            owner: feed.owner,
            sort: feed.sort,
            descending: feed.descending,
            offset: feed.page.offset(),
            limit: feed.page.limit,
        };
        let (docs, total) = self.store.videos.list(&query).await?;
        Ok(Page::new(docs, total, feed.page))
    }

    /// `GET /videos/trending`: public videos by the views counted in `window`.
    pub async fn trending(&self, window: Window, page: PageRequest) -> Result<Page<TrendingVideo>, ServiceError> {
        let first_hour = window.first_hour(Timestamp::now());
        let (videos, total) = self.store.videos.trending(first_hour, page.offset(), page.limit).await?;
        Ok(Page::new(videos, total, page))
    }

    pub async fn publish_video(&self, caller: &Identity, input: NewVideoInput) -> Result<Video, ServiceError> {
        require_all(
            &[("title", input.title.as_deref()), ("description", input.description.as_deref())],
            "All fields are required",
        )?;
        max_chars("title", input.title.as_deref(), self.config.limits.title_chars)?;
        max_chars("description", input.description.as_deref(), self.config.limits.description_chars)?;
        let visibility = visibility_input(input.visibility.as_deref())?.unwrap_or(Visibility::Public);
        let tags = tags_input(input.tags.as_deref())?.unwrap_or_default();
        let video_file = input.video_file.ok_or_else(|| ServiceError::invalid("Video file is required"))?;
        // With processing on, a missing thumbnail is extracted from the video later.
        let processes = self.processes_locally();
        let thumbnail = match input.thumbnail {
            None if !processes => return Err(ServiceError::invalid("Thumbnail is required")),
            thumbnail => thumbnail,
        };
        let scope = scope_of(Some(caller.id));
        let stored_video = self.store_media(video_file, "Error while uploading video file", &scope).await?;
        let duration = stored_video.duration.unwrap_or(0.0);
        let streaming = stored_video.streaming;
        let video_ref = stored_video.media;
        let thumbnail_ref = match thumbnail {
            None => MediaRef { url: String::new(), key: String::new() },
            Some(thumbnail) => match self.store_image(thumbnail, THUMBNAIL_FAILED, &scope).await {
                Ok(stored) => stored,
                Err(e) => {
                    self.discard([video_ref]).await;
                    return Err(e);
                }
            },
        };
        // A backend that streams the video itself has done the processing already.
        let processing = match &streaming {
            Some(_) => ProcessingStatus::Ready,
            None if processes => ProcessingStatus::Queued,
            None => ProcessingStatus::Off,
        };
        let new = NewVideo {
            owner: caller.id,
            video_file: video_ref.clone(),
            thumbnail: thumbnail_ref.clone(),
            title: input.title.unwrap_or_default(),
            description: input.description.unwrap_or_default(),
            tags,
            duration,
            visibility,
            processing,
            width: streaming.as_ref().map_or(0, |s| s.width),
            height: streaming.as_ref().map_or(0, |s| s.height),
            hls_url: streaming.map(|s| s.hls),
        };
        let record = self.commit_or_discard(vec![video_ref, thumbnail_ref], self.store.videos.insert(new)).await?;
        if processing == ProcessingStatus::Queued {
            self.wake_processing();
        }
        self.announce(&record.video).await;
        Ok(record.video)
    }

    /// `GET /videos/:id`: counts a view (once per viewer per window), records history unless the
    /// viewer paused it, adds like and subscription facts.
    pub async fn watch_video(&self, id: Id, viewer: Option<&Identity>, ip: IpAddr) -> Result<Video, ServiceError> {
        let viewer_id = viewer.map(|v| v.id);
        let (record, facts) = match self.store.videos.watch_page(id, viewer_id).await? {
            Some((record, facts)) if record.video.is_visible_to_caller(viewer, Place::ByLink) => (record, facts),
            _ => return Err(ServiceError::not_found("Video not found")),
        };
        let mut video = record.video;
        let viewer_key = viewer_id.map_or_else(|| format!("ip:{ip}"), |u| format!("user:{u}"));
        let window = std::time::Duration::from_secs(self.config.view_window_secs);
        let watch = Watch {
            video: id,
            at: Timestamp::now(),
            // A zero window counts every request, so no mark is kept: on MongoDB, requests that
            // shared a millisecond renewed one mark with the same values and counted once.
            counted: window.is_zero() || self.store.ephemeral.count_view(&viewer_key, id, window).await?,
            history: viewer
                .filter(|v| !v.history_paused)
                .map(|v| HistoryEntry { user: v.id, max: self.config.history_max }),
        };
        if (watch.counted || watch.history.is_some())
            && let Some(views) = self.store.videos.record_watch(watch).await?
        {
            video.views = views;
        }
        video.owner.value.subscribers_count = Some(facts.channel.subscribers);
        video.owner.value.is_subscribed = Some(facts.channel.viewer_subscribed);
        video.likes_count = Some(facts.likes);
        video.is_liked = Some(facts.viewer_liked);
        Ok(video)
    }

    pub async fn update_video(&self, record: Owned<VideoRecord>, changes: VideoChanges) -> Result<Video, ServiceError> {
        let record = record.into_inner();
        if changes.title.is_none()
            && changes.description.is_none()
            && changes.thumbnail.is_none()
            && changes.visibility.is_none()
            && changes.tags.is_none()
        {
            return Err(ServiceError::invalid("At least one of title, description or thumbnail is required"));
        }
        non_empty_if_present(
            &[("title", changes.title.as_deref()), ("description", changes.description.as_deref())],
            None,
        )?;
        max_chars("title", changes.title.as_deref(), self.config.limits.title_chars)?;
        max_chars("description", changes.description.as_deref(), self.config.limits.description_chars)?;
        let visibility = visibility_input(changes.visibility.as_deref())?;
        let tags = tags_input(changes.tags.as_deref())?;
        if visibility.is_some() && record.video.moderation.is_some() {
            return Err(ServiceError::forbidden(REMOVED_BY_MODERATOR));
        }
        let thumbnail = match changes.thumbnail {
            Some(file) => {
                Some(self.store_image(file, THUMBNAIL_FAILED, &scope_of(Some(record.video.owner_id()))).await?)
            }
            None => None,
        };
        let stored: Vec<MediaRef> = thumbnail.iter().cloned().collect();
        let update =
            VideoUpdate { title: changes.title, description: changes.description, tags, thumbnail, visibility };
        let write = async {
            self.store
                .videos
                .update(record.video.id, update)
                .await?
                .ok_or_else(|| ServiceError::not_found("Video not found"))
        };
        let updated = self.commit_or_discard(stored.clone(), write).await?;
        if !stored.is_empty() {
            self.discard([MediaRef { url: record.video.thumbnail, key: record.thumbnail_key }]).await;
        }
        if visibility.is_some() {
            self.announce(&updated.video).await;
        }
        Ok(updated.video)
    }

    pub async fn delete_video(&self, record: Owned<VideoRecord>) -> Result<(), ServiceError> {
        let record = record.into_inner();
        self.store.videos.delete(record.video.id).await?;
        self.cancel_processing(record.video.id);
        self.discard([
            MediaRef { url: record.video.video_file, key: record.video_key },
            MediaRef { url: record.video.thumbnail, key: record.thumbnail_key },
            MediaRef { url: record.video.streams.hls.unwrap_or_default(), key: record.hls_key },
        ])
        .await;
        Ok(())
    }

    pub async fn toggle_publish(&self, record: Owned<VideoRecord>) -> Result<Video, ServiceError> {
        if record.video.moderation.is_some() {
            return Err(ServiceError::forbidden(REMOVED_BY_MODERATOR));
        }
        let updated = self.store.videos.set_visibility(record.video.id, record.video.visibility.toggled()).await?;
        let video = updated.ok_or_else(|| ServiceError::not_found("Video not found"))?.video;
        self.announce(&video).await;
        Ok(video)
    }
}
