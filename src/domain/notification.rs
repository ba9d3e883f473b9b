//! Notifications (docs/api.md §3.17): what happened that a user is told of, and which kinds they
//! want.

use serde::Serialize;

use super::choice::choice;
use super::user::OwnerSummary;
use super::{Id, Timestamp};

choice! {
    /// What a notification tells of.
    pub enum NotificationType for "type" {
        /// A channel the recipient subscribes to made a video public.
        NewVideo = "new_video",
        /// Someone commented on the recipient's video.
        Comment = "comment",
        /// Someone replied to the recipient's comment.
        Reply = "reply",
        /// Someone subscribed to the recipient.
        Subscriber = "subscriber",
    }
}

impl NotificationType {
    /// The key of the type in the settings (`newVideo`, ...).
    pub fn setting(self) -> &'static str {
        match self {
            NotificationType::NewVideo => "newVideo",
            NotificationType::Comment => "comment",
            NotificationType::Reply => "reply",
            NotificationType::Subscriber => "subscriber",
        }
    }
}

/// The video a notification points to, as shown.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq)]
pub struct NotifiedVideo {
    #[serde(rename = "_id")]
    pub id: Id,
    pub title: String,
    pub thumbnail: String,
}

/// The comment (or reply) a notification points to, as shown.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq)]
pub struct NotifiedComment {
    #[serde(rename = "_id")]
    pub id: Id,
    pub content: String,
}

/// A notification as its recipient reads it.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    #[serde(rename = "_id")]
    pub id: Id,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub actor: OwnerSummary,
    pub video: Option<NotifiedVideo>,
    pub comment: Option<NotifiedComment>,
    pub read: bool,
    pub created_at: Timestamp,
}

/// A notification to store: `actor` did something to `recipient`'s channel or comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNotification {
    pub recipient: Id,
    pub kind: NotificationType,
    pub actor: Id,
    pub video: Option<Id>,
    pub comment: Option<Id>,
}

/// Which types a user is notified of (all by default).
#[derive(Serialize, utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    pub new_video: bool,
    pub comment: bool,
    pub reply: bool,
    pub subscriber: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings { new_video: true, comment: true, reply: true, subscriber: true }
    }
}

impl NotificationSettings {
    pub fn wants(self, kind: NotificationType) -> bool {
        match kind {
            NotificationType::NewVideo => self.new_video,
            NotificationType::Comment => self.comment,
            NotificationType::Reply => self.reply,
            NotificationType::Subscriber => self.subscriber,
        }
    }

    /// The settings with the given types switched.
    pub fn with(mut self, changes: &[(NotificationType, bool)]) -> Self {
        for (kind, on) in changes {
            match kind {
                NotificationType::NewVideo => self.new_video = *on,
                NotificationType::Comment => self.comment = *on,
                NotificationType::Reply => self.reply = *on,
                NotificationType::Subscriber => self.subscriber = *on,
            }
        }
        self
    }
}

/// A stored notification for `migrate`: ids as stored, whatever their targets' visibility.
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationRecord {
    pub id: Id,
    pub recipient: Id,
    pub kind: NotificationType,
    pub actor: Id,
    pub video: Option<Id>,
    pub comment: Option<Id>,
    pub read: bool,
    pub created_at: Timestamp,
}

/// A user's stored settings for `migrate`.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsRecord {
    pub user: Id,
    pub settings: NotificationSettings,
    pub updated_at: Timestamp,
}
