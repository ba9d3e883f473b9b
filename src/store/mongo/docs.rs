//! Typed views of the stored documents and pipeline results, and their conversion into domain values.
//! Fields the original API may not have written (media keys, sessions) are optional.

use bson::oid::ObjectId;
use bson::{Bson, DateTime};
use serde::{Deserialize, Deserializer};

use super::id_of;
use crate::domain::choice::Choice;
use crate::domain::moderation::{
    Action, Moderation, ModerationAction, ReportReason, ReportStatus, ReportTally, Target, TargetType, tally_reasons,
};
use crate::domain::notification::{
    Notification, NotificationRecord, NotificationSettings, NotificationType, NotifiedComment, NotifiedVideo,
    SettingsRecord,
};
use crate::domain::processing::{Processing, ProcessingStatus, Streams};
use crate::domain::search::Tags;
use crate::domain::social::{
    ChannelCard, Comment, LatestVideo, PlaylistRecord, SubscribedChannelItem, SubscriberCard, SubscriberItem, Tweet,
};
use crate::domain::user::{OwnerSummary, Role, Session, User, UserAccount};
use crate::domain::video::{Video, VideoRecord};
use crate::domain::visibility::Visibility;
use crate::domain::{Timestamp, Twin};
use crate::store::transfer::{ActionRecord, BlockRecord, ReportRecord};

pub fn time(at: DateTime) -> Timestamp {
    Timestamp(at.timestamp_millis())
}

/// Counts and views as integers, whichever numeric BSON type a writer chose.
pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    match Bson::deserialize(deserializer)? {
        Bson::Int32(n) => Ok(i64::from(n)),
        Bson::Int64(n) => Ok(n),
        Bson::Double(n) => Ok(n as i64),
        Bson::Null => Ok(0),
        other => Err(serde::de::Error::custom(format!("expected a number, found {other}"))),
    }
}

/// A stored refresh session. Sessions stored before they had ids get one at startup
/// (`indexes::name_sessions`); until then they have no `_id`, user agent or last use.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDoc {
    #[serde(rename = "_id")]
    pub id: Option<ObjectId>,
    pub jti: String,
    pub token_hash: String,
    pub user_agent: Option<String>,
    pub expires_at: DateTime,
    pub created_at: DateTime,
    pub last_used_at: Option<DateTime>,
}

impl SessionDoc {
    /// The session as listed, `None` while it has no id.
    pub fn into_session(self) -> Option<Session> {
        Some(Session {
            id: id_of(self.id?),
            created_at: time(self.created_at),
            last_used_at: time(self.last_used_at.unwrap_or(self.created_at)),
            expires_at: time(self.expires_at),
            user_agent: self.user_agent.unwrap_or_default(),
            current: false,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub avatar: String,
    pub avatar_key: Option<String>,
    pub cover_image: Option<String>,
    pub cover_image_key: Option<String>,
    #[serde(default)]
    pub watch_history: Vec<ObjectId>,
    pub password: String,
    #[serde(default)]
    pub refresh_sessions: Vec<SessionDoc>,
    #[serde(default)]
    pub history_paused: bool,
    /// Absent on accounts made before roles (and by the original API): a user.
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub suspended_reason: Option<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl UserDoc {
    pub fn into_account(self) -> UserAccount {
        UserAccount {
            user: User {
                id: id_of(self.id),
                username: self.username,
                email: self.email,
                full_name: self.full_name,
                avatar: self.avatar,
                cover_image: self.cover_image.unwrap_or_default(),
                watch_history: self.watch_history.into_iter().map(id_of).collect(),
                history_paused: self.history_paused,
                role: Role::from_stored(self.role.as_deref()),
                created_at: time(self.created_at),
                updated_at: time(self.updated_at),
            },
            password_hash: self.password,
            avatar_key: self.avatar_key.unwrap_or_default(),
            cover_image_key: self.cover_image_key,
            suspended_reason: self.suspended_reason,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub username: String,
    pub full_name: String,
    pub avatar: String,
}

impl OwnerDoc {
    pub fn into_summary(self) -> OwnerSummary {
        OwnerSummary::new(id_of(self.id), self.username, self.full_name, self.avatar)
    }
}

/// A video with its owner joined (and, on the dashboard, its like count).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub video_file: String,
    pub video_key: Option<String>,
    pub thumbnail: String,
    pub thumbnail_key: Option<String>,
    pub title: String,
    pub description: String,
    pub duration: f64,
    #[serde(deserialize_with = "number")]
    pub views: i64,
    pub is_published: bool,
    /// Absent on documents written by the original API.
    pub visibility: Option<String>,
    pub owner: OwnerDoc,
    #[serde(default, deserialize_with = "optional_number")]
    pub likes_count: Option<i64>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    #[serde(default, deserialize_with = "number")]
    pub width: i64,
    #[serde(default, deserialize_with = "number")]
    pub height: i64,
    /// Absent on documents written before processing existed (and by the original API).
    pub processing_status: Option<String>,
    #[serde(default, deserialize_with = "number")]
    pub processing_progress: i64,
    pub processing_error: Option<String>,
    pub hls_url: Option<String>,
    pub hls_key: Option<String>,
    /// Set while a moderator's removal stands.
    #[serde(default)]
    pub removed_reason: Option<String>,
    /// The owner's own level while moderation hides the video (which is then listed as private).
    #[serde(default)]
    pub held_visibility: Option<String>,
    /// Absent on documents written before tags existed (and by the original API).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A trending entry: the video and the views counted in the window.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendingDoc {
    #[serde(deserialize_with = "number")]
    pub recent_views: i64,
    pub video: VideoDoc,
}

fn optional_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    number(deserializer).map(Some)
}

impl VideoDoc {
    pub fn into_record(self) -> VideoRecord {
        VideoRecord {
            video: Video {
                id: id_of(self.id),
                video_file: self.video_file,
                thumbnail: self.thumbnail,
                title: self.title,
                description: self.description,
                tags: Tags::from_stored(self.tags),
                duration: self.duration,
                width: self.width,
                height: self.height,
                processing: Processing {
                    status: ProcessingStatus::from_stored(self.processing_status.as_deref()),
                    progress: self.processing_progress.clamp(0, 100) as u8,
                },
                streams: Streams { hls: self.hls_url },
                views: self.views,
                visibility: match self.held_visibility.as_deref().and_then(Visibility::parse) {
                    Some(own) => own,
                    None => Visibility::from_stored(self.is_published, self.visibility.as_deref()),
                },
                owner: Video::owner_twin(self.owner.into_summary()),
                likes_count: self.likes_count,
                is_liked: None,
                hidden: self.held_visibility.is_some(),
                moderation: Moderation::removed(self.removed_reason),
                created_at: time(self.created_at),
                updated_at: time(self.updated_at),
            },
            video_key: self.video_key.unwrap_or_default(),
            thumbnail_key: self.thumbnail_key.unwrap_or_default(),
            hls_key: self.hls_key.unwrap_or_default(),
            processing_error: self.processing_error,
        }
    }

    pub fn into_video(self) -> Video {
        self.into_record().video
    }
}

/// A comment or a tweet with its author and like facts.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub content: String,
    pub video: Option<ObjectId>,
    pub owner: OwnerDoc,
    #[serde(deserialize_with = "number")]
    pub likes_count: i64,
    pub is_liked: bool,
    /// Set while a moderator's removal stands.
    #[serde(default)]
    pub removed_reason: Option<String>,
    /// A comment's thread (comments only, as the four below).
    #[serde(default)]
    pub parent: Option<ObjectId>,
    /// The answered author, joined (absent once that account is gone).
    #[serde(default)]
    pub reply_to: Option<OwnerDoc>,
    #[serde(default, deserialize_with = "number")]
    pub replies_count: i64,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub hearted: bool,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl PostDoc {
    pub fn into_comment(self) -> Option<Comment> {
        Some(Comment {
            id: id_of(self.id),
            content: self.content,
            video: id_of(self.video?),
            owner: Video::owner_twin(self.owner.into_summary()),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            moderation: Moderation::removed(self.removed_reason),
            parent: self.parent.map(id_of),
            reply_to: self.reply_to.map(OwnerDoc::into_summary),
            replies_count: self.replies_count,
            pinned: self.pinned,
            hearted_by_creator: self.hearted,
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        })
    }

    pub fn into_tweet(self) -> Tweet {
        Tweet {
            id: id_of(self.id),
            content: self.content,
            owner: Video::owner_twin(self.owner.into_summary()),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            moderation: Moderation::removed(self.removed_reason),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }
    }
}

/// A like joined to its video.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LikedVideoDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub video: VideoDoc,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LatestVideoDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub title: String,
    pub thumbnail: String,
    pub duration: f64,
    #[serde(deserialize_with = "number")]
    pub views: i64,
    pub created_at: DateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub username: String,
    pub full_name: String,
    pub avatar: String,
    #[serde(deserialize_with = "number")]
    pub subscribers_count: i64,
    pub latest_video: Option<LatestVideoDoc>,
}

impl CardDoc {
    pub fn into_card(self) -> ChannelCard {
        ChannelCard {
            id: id_of(self.id),
            username: self.username,
            full_name: self.full_name,
            avatar: self.avatar,
            subscribers_count: self.subscribers_count,
            latest_video: self.latest_video.map(|v| LatestVideo {
                id: id_of(v.id),
                title: v.title,
                thumbnail: v.thumbnail,
                duration: v.duration,
                views: v.views,
                created_at: time(v.created_at),
            }),
        }
    }
}

/// A subscription joined to the user on its other side.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub subscriber: ObjectId,
    pub channel: ObjectId,
    pub user: CardDoc,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl SubscriptionDoc {
    pub fn into_subscriber(self) -> SubscriberItem {
        SubscriberItem {
            id: id_of(self.id),
            channel: id_of(self.channel),
            subscriber: SubscriberCard {
                id: id_of(self.user.id),
                username: self.user.username,
                full_name: self.user.full_name,
                avatar: self.user.avatar,
                subscribers_count: self.user.subscribers_count,
            },
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }
    }

    pub fn into_channel(self) -> SubscribedChannelItem {
        SubscribedChannelItem {
            id: id_of(self.id),
            subscriber: id_of(self.subscriber),
            channel: Twin::new(self.user.into_card()),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub videos: Vec<ObjectId>,
    pub owner: OwnerDoc,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl PlaylistDoc {
    pub fn into_record(self) -> PlaylistRecord {
        PlaylistRecord {
            id: id_of(self.id),
            name: self.name,
            description: self.description,
            owner: self.owner.into_summary(),
            video_ids: self.videos.into_iter().map(id_of).collect(),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn a_user_written_by_the_original_api_reads_without_our_extra_fields() {
        let id = ObjectId::from_bytes([1; 12]);
        let original = doc! {
            "_id": id, "username": "asha", "email": "asha@example.com", "fullName": "Asha",
            "avatar": "http://res.cloudinary.com/x/a.png", "coverImage": "", "watchHistory": [],
            "password": "$2a$10$abcdefghijklmnopqrstuuKq0Y5cT1Ih0x3o1N2P3Q4R5S6T7U8V9W",
            "refreshToken": "eyJ.old.token", "createdAt": DateTime::from_millis(1), "updatedAt": DateTime::from_millis(2),
            "__v": 0,
        };
        let account = bson::deserialize_from_document::<UserDoc>(original).unwrap().into_account();
        assert_eq!(account.user.username, "asha");
        assert_eq!(account.avatar_key, "", "no media key: the original kept none");
        assert!(account.password_hash.starts_with("$2a$"));
        assert_eq!(account.user.created_at, Timestamp(1));
    }

    #[test]
    fn views_and_counts_accept_any_numeric_type() {
        let owner = doc! { "_id": ObjectId::from_bytes([2; 12]), "username": "o", "fullName": "O", "avatar": "a" };
        let mut video = doc! {
            "_id": ObjectId::from_bytes([3; 12]), "videoFile": "v", "thumbnail": "t", "title": "T",
            "description": "D", "duration": 3, "views": 7.0, "isPublished": true, "owner": owner,
            "createdAt": DateTime::from_millis(5), "updatedAt": DateTime::from_millis(6),
        };
        let parsed = bson::deserialize_from_document::<VideoDoc>(video.clone()).unwrap().into_video();
        assert_eq!((parsed.views, parsed.duration, parsed.likes_count), (7, 3.0, None));
        video.insert("views", 9i32);
        video.insert("likesCount", 4i64);
        let parsed = bson::deserialize_from_document::<VideoDoc>(video).unwrap().into_video();
        assert_eq!((parsed.views, parsed.likes_count), (9, Some(4)));
    }
}

/// A stored report; a document whose names are not the model's fails to decode.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub reporter: ObjectId,
    pub target_type: String,
    pub target: ObjectId,
    pub reason: String,
    pub details: Option<String>,
    pub status: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl ReportDoc {
    /// The report as copied; `None` when a stored name is not one the model knows.
    pub fn into_record(self) -> Option<ReportRecord> {
        Some(ReportRecord {
            id: id_of(self.id),
            reporter: id_of(self.reporter),
            target: Target { kind: TargetType::parse(&self.target_type)?, id: id_of(self.target) },
            reason: ReportReason::parse(&self.reason)?,
            details: self.details,
            status: ReportStatus::parse(&self.status)?,
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        })
    }
}

/// A stored moderation action; with the log's join, `moderator` is the summary (absent when the
/// account is gone), else the id.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionDoc<M> {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub moderator: Option<M>,
    pub target_type: String,
    pub target: ObjectId,
    pub action: String,
    pub reason: String,
    pub created_at: DateTime,
}

impl ActionDoc<OwnerDoc> {
    pub fn into_action(self) -> Option<ModerationAction> {
        Some(ModerationAction {
            id: id_of(self.id),
            target_type: TargetType::parse(&self.target_type)?,
            target_id: id_of(self.target),
            action: Action::parse(&self.action)?,
            reason: self.reason,
            moderator: self.moderator.map(OwnerDoc::into_summary),
            created_at: time(self.created_at),
        })
    }
}

impl ActionDoc<ObjectId> {
    /// The action as copied; `None` when a stored name is not one the model knows.
    pub fn into_record(self) -> Option<ActionRecord> {
        Some(ActionRecord {
            id: id_of(self.id),
            moderator: id_of(self.moderator?),
            target: Target { kind: TargetType::parse(&self.target_type)?, id: id_of(self.target) },
            action: Action::parse(&self.action)?,
            reason: self.reason,
            created_at: time(self.created_at),
        })
    }
}

/// One target's reports as the queue's `$group` yields them.
#[derive(Deserialize)]
pub struct TallyDoc {
    #[serde(rename = "_id")]
    pub key: TallyKey,
    #[serde(deserialize_with = "number")]
    pub count: i64,
    pub reasons: Vec<String>,
    pub first: DateTime,
    pub last: DateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TallyKey {
    pub target_type: String,
    pub target: ObjectId,
}

impl TallyDoc {
    pub fn into_tally(self) -> Option<ReportTally> {
        let reasons = tally_reasons(self.reasons.iter().map(|r| ReportReason::parse(r)).collect::<Option<Vec<_>>>()?);
        Some(ReportTally {
            target: Target { kind: TargetType::parse(&self.key.target_type)?, id: id_of(self.key.target) },
            count: self.count,
            reasons,
            first_reported_at: time(self.first),
            last_reported_at: time(self.last),
        })
    }
}

/// A stored block.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub blocker: ObjectId,
    pub blocked: ObjectId,
    pub created_at: DateTime,
}

impl BlockDoc {
    pub fn into_record(self) -> BlockRecord {
        BlockRecord {
            id: id_of(self.id),
            blocker: id_of(self.blocker),
            blocked: id_of(self.blocked),
            created_at: time(self.created_at),
        }
    }
}

/// A stored notification, as copied.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub recipient: ObjectId,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: ObjectId,
    pub video: Option<ObjectId>,
    pub comment: Option<ObjectId>,
    #[serde(default)]
    pub read: bool,
    pub created_at: DateTime,
}

impl NotificationDoc {
    pub fn into_record(self) -> Option<NotificationRecord> {
        Some(NotificationRecord {
            id: id_of(self.id),
            recipient: id_of(self.recipient),
            kind: NotificationType::parse(&self.kind)?,
            actor: id_of(self.actor),
            video: self.video.map(id_of),
            comment: self.comment.map(id_of),
            read: self.read,
            created_at: time(self.created_at),
        })
    }
}

/// A notification as shown: `shown`'s lookups joined its actor, video and comment.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownNotificationDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub recipient: ObjectId,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: OwnerDoc,
    pub video: Option<NotifiedVideoDoc>,
    pub comment: Option<NotifiedCommentDoc>,
    #[serde(default)]
    pub read: bool,
    pub created_at: DateTime,
}

#[derive(Deserialize)]
pub struct NotifiedVideoDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub thumbnail: String,
}

#[derive(Deserialize)]
pub struct NotifiedCommentDoc {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    #[serde(default)]
    pub content: String,
}

impl ShownNotificationDoc {
    /// The recipient and the notification; `None` for a type this API does not know.
    pub fn into_notification(self) -> Option<(ObjectId, Notification)> {
        let notification = Notification {
            id: id_of(self.id),
            kind: NotificationType::parse(&self.kind)?,
            actor: self.actor.into_summary(),
            video: self.video.map(|v| NotifiedVideo { id: id_of(v.id), title: v.title, thumbnail: v.thumbnail }),
            comment: self.comment.map(|c| NotifiedComment { id: id_of(c.id), content: c.content }),
            read: self.read,
            created_at: time(self.created_at),
        };
        Some((self.recipient, notification))
    }
}

/// Stored notification settings (under the account's id); a missing type is on.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDoc {
    #[serde(rename = "_id")]
    pub user: ObjectId,
    #[serde(default = "on")]
    pub new_video: bool,
    #[serde(default = "on")]
    pub comment: bool,
    #[serde(default = "on")]
    pub reply: bool,
    #[serde(default = "on")]
    pub subscriber: bool,
    pub updated_at: Option<DateTime>,
}

fn on() -> bool {
    true
}

impl SettingsDoc {
    pub fn settings(&self) -> NotificationSettings {
        NotificationSettings {
            new_video: self.new_video,
            comment: self.comment,
            reply: self.reply,
            subscriber: self.subscriber,
        }
    }

    pub fn into_record(self) -> SettingsRecord {
        SettingsRecord {
            user: id_of(self.user),
            settings: self.settings(),
            updated_at: time(self.updated_at.unwrap_or(DateTime::from_millis(0))),
        }
    }
}
