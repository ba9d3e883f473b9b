//! The rows several areas read, each with its one decoder. Rows are read by position: looking a
//! column up by name scans every column name, for every field (decision D17). Each decoder reads
//! the columns of a named fragment in their order, and tests pin every statement's columns against
//! it. Rows read by one area only live with that area.

use super::parse_id;
use crate::domain::Timestamp;
use crate::domain::moderation::Moderation;
use crate::domain::processing::{Processing, ProcessingStatus, Streams};
use crate::domain::search::Tags;
use crate::domain::social::{Comment, LatestVideo, Tweet};
use crate::domain::user::OwnerSummary;
use crate::domain::video::{Video, VideoRecord};
use crate::domain::visibility::Visibility;
use crate::store::{StoreError, StoreResult};

pub(super) fn parse_visibility(raw: &str) -> StoreResult<Visibility> {
    Visibility::parse(raw).ok_or_else(|| StoreError::backend(format!("corrupt visibility in database: {raw:?}")))
}

/// A user's summary as an owner: the columns of `owner_columns!`.
pub(super) struct OwnerRow {
    id: String,
    username: String,
    full_name: String,
    avatar: String,
}

impl OwnerRow {
    /// Reads the four columns from position `first` on.
    pub(super) fn read(row: &rusqlite::Row, first: usize) -> rusqlite::Result<Self> {
        Ok(OwnerRow {
            id: row.get(first)?,
            username: row.get(first + 1)?,
            full_name: row.get(first + 2)?,
            avatar: row.get(first + 3)?,
        })
    }

    pub(super) fn into_summary(self) -> StoreResult<OwnerSummary> {
        Ok(OwnerSummary::new(parse_id(&self.id)?, self.username, self.full_name, self.avatar))
    }
}

/// A channel card's latest video: the columns of `sql::LATEST_VIDEO`.
pub(super) struct LatestVideoRow {
    id: String,
    title: String,
    thumbnail: String,
    duration: f64,
    views: i64,
    created_at: i64,
}

impl LatestVideoRow {
    pub(super) fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(LatestVideoRow {
            id: row.get(0)?,
            title: row.get(1)?,
            thumbnail: row.get(2)?,
            duration: row.get(3)?,
            views: row.get(4)?,
            created_at: row.get(5)?,
        })
    }

    pub(super) fn into_latest(self) -> StoreResult<LatestVideo> {
        Ok(LatestVideo {
            id: parse_id(&self.id)?,
            title: self.title,
            thumbnail: self.thumbnail,
            duration: self.duration,
            views: self.views,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// A video with its owner: the columns of `VIDEO_COLUMNS`, from position 0.
pub(super) struct VideoRow {
    id: String,
    video_file: String,
    video_key: String,
    thumbnail: String,
    thumbnail_key: String,
    title: String,
    description: String,
    duration: f64,
    views: i64,
    visibility: String,
    created_at: i64,
    updated_at: i64,
    width: i64,
    height: i64,
    processing_status: String,
    processing_progress: i64,
    processing_error: Option<String>,
    hls_url: Option<String>,
    hls_key: String,
    removed_reason: Option<String>,
    held_visibility: Option<String>,
    /// A JSON array of strings.
    tags: String,
    owner: OwnerRow,
}

impl VideoRow {
    /// How many columns the video takes; a statement's own columns follow.
    pub(super) const WIDTH: usize = 26;

    pub(super) fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(VideoRow {
            id: row.get(0)?,
            video_file: row.get(1)?,
            video_key: row.get(2)?,
            thumbnail: row.get(3)?,
            thumbnail_key: row.get(4)?,
            title: row.get(5)?,
            description: row.get(6)?,
            duration: row.get(7)?,
            views: row.get(8)?,
            visibility: row.get(9)?,
            created_at: row.get(10)?,
            updated_at: row.get(11)?,
            width: row.get(12)?,
            height: row.get(13)?,
            processing_status: row.get(14)?,
            processing_progress: row.get(15)?,
            processing_error: row.get(16)?,
            hls_url: row.get(17)?,
            hls_key: row.get(18)?,
            removed_reason: row.get(19)?,
            held_visibility: row.get(20)?,
            tags: row.get(21)?,
            owner: OwnerRow::read(row, 22)?,
        })
    }

    pub(super) fn into_record(self) -> StoreResult<VideoRecord> {
        Ok(VideoRecord {
            video: Video {
                id: parse_id(&self.id)?,
                video_file: self.video_file,
                thumbnail: self.thumbnail,
                title: self.title,
                description: self.description,
                tags: Tags::from_stored(
                    serde_json::from_str(&self.tags).map_err(|e| StoreError::context("reading tags", e))?,
                ),
                duration: self.duration,
                width: self.width,
                height: self.height,
                processing: Processing {
                    status: ProcessingStatus::from_stored(Some(&self.processing_status)),
                    progress: self.processing_progress.clamp(0, 100) as u8,
                },
                streams: Streams { hls: self.hls_url },
                views: self.views,
                // The owner's own level: the listed one, or the one held while moderation hides it.
                visibility: parse_visibility(self.held_visibility.as_deref().unwrap_or(&self.visibility))?,
                owner: Video::owner_twin(self.owner.into_summary()?),
                likes_count: None,
                is_liked: None,
                hidden: self.held_visibility.is_some(),
                moderation: Moderation::removed(self.removed_reason),
                created_at: Timestamp(self.created_at),
                updated_at: Timestamp(self.updated_at),
            },
            video_key: self.video_key,
            thumbnail_key: self.thumbnail_key,
            hls_key: self.hls_key,
            processing_error: self.processing_error,
        })
    }

    pub(super) fn into_video(self) -> StoreResult<Video> {
        self.into_record().map(|r| r.video)
    }
}

pub(super) fn videos_from(rows: Vec<VideoRow>) -> StoreResult<Vec<Video>> {
    rows.into_iter().map(VideoRow::into_video).collect()
}

/// The columns of a comment or tweet `p` with its like facts for the viewer `?1` and its author
/// `u`, as `PostRow` reads them; `$video` is the comment's video column (`NULL` for tweets).
macro_rules! post_columns {
    ($like_column:literal, $video:literal) => {
        concat!(
            "p.id, p.content, ",
            $video,
            " AS video_id, p.created_at, p.updated_at, (SELECT COUNT(*) FROM likes l WHERE l.",
            $like_column,
            " = p.id) AS likes_count, EXISTS (SELECT 1 FROM likes l WHERE l.",
            $like_column,
            " = p.id AND l.liked_by = ?1) AS is_liked, p.removed_reason, ",
            $crate::store::sqlite::sql::owner_columns!()
        )
    };
}
pub(super) use post_columns;

/// The names `post_columns!` yields, in order.
#[cfg(test)]
pub(super) const POST_COLUMN_NAMES: [&str; 12] = [
    "id",
    "content",
    "video_id",
    "created_at",
    "updated_at",
    "likes_count",
    "is_liked",
    "removed_reason",
    "owner_id",
    "owner_username",
    "owner_full_name",
    "owner_avatar",
];

/// A comment's place in its thread, after its `post_columns!`: the columns of `thread_columns!`,
/// from `p` and the answered author `r` (a left join: gone with that account).
macro_rules! thread_columns {
    () => {
        "p.parent_id, p.replies_count, p.pinned, p.hearted, \
         r.id AS reply_to_id, r.username AS reply_to_username, r.full_name AS reply_to_full_name, \
         r.avatar AS reply_to_avatar"
    };
}
pub(super) use thread_columns;

/// The names `thread_columns!` yields, in order.
#[cfg(test)]
pub(super) const THREAD_COLUMN_NAMES: [&str; 8] = [
    "parent_id",
    "replies_count",
    "pinned",
    "hearted",
    "reply_to_id",
    "reply_to_username",
    "reply_to_full_name",
    "reply_to_avatar",
];

/// The columns of `thread_columns!`.
pub(super) struct ThreadRow {
    parent: Option<String>,
    replies_count: i64,
    pinned: bool,
    hearted: bool,
    reply_to: Option<OwnerRow>,
}

impl ThreadRow {
    /// Reads the columns from position `first` on.
    pub(super) fn read(row: &rusqlite::Row, first: usize) -> rusqlite::Result<Self> {
        let answered: Option<String> = row.get(first + 4)?;
        Ok(ThreadRow {
            parent: row.get(first)?,
            replies_count: row.get(first + 1)?,
            pinned: row.get(first + 2)?,
            hearted: row.get(first + 3)?,
            reply_to: answered.map(|_| OwnerRow::read(row, first + 4)).transpose()?,
        })
    }
}

/// A comment or a tweet with its author and like facts: the columns of `post_columns!`.
pub(super) struct PostRow {
    id: String,
    content: String,
    video_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    likes_count: i64,
    is_liked: bool,
    removed_reason: Option<String>,
    owner: OwnerRow,
}

impl PostRow {
    /// How many columns a post takes; a comment's `thread_columns!` follow.
    pub(super) const WIDTH: usize = 12;

    pub(super) fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(PostRow {
            id: row.get(0)?,
            content: row.get(1)?,
            video_id: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            likes_count: row.get(5)?,
            is_liked: row.get(6)?,
            removed_reason: row.get(7)?,
            owner: OwnerRow::read(row, 8)?,
        })
    }

    pub(super) fn into_comment(self, thread: ThreadRow) -> StoreResult<Comment> {
        let video = parse_id(self.video_id.as_deref().unwrap_or_default())?;
        Ok(Comment {
            id: parse_id(&self.id)?,
            content: self.content,
            video,
            owner: Video::owner_twin(self.owner.into_summary()?),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            moderation: Moderation::removed(self.removed_reason),
            parent: thread.parent.as_deref().map(parse_id).transpose()?,
            reply_to: thread.reply_to.map(OwnerRow::into_summary).transpose()?,
            replies_count: thread.replies_count,
            pinned: thread.pinned,
            hearted_by_creator: thread.hearted,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }

    pub(super) fn into_tweet(self) -> StoreResult<Tweet> {
        Ok(Tweet {
            id: parse_id(&self.id)?,
            content: self.content,
            owner: Video::owner_twin(self.owner.into_summary()?),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            moderation: Moderation::removed(self.removed_reason),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}
