//! Users as the API shows them, plus the internal account data that never leaves the server.

use serde::Serialize;

use super::choice::{Choice, choice};
use super::{Id, Timestamp};

choice! {
    /// What an account may do beyond its own content (docs/api.md §3.15.1). Each role carries
    /// everything the ones before it may do.
    pub enum Role for "role" {
        User = "user",
        /// Works the moderation queue.
        Moderator = "moderator",
        /// A moderator who also gives roles.
        Admin = "admin",
    }
}

impl Role {
    /// The role a stored value names; an account without one (or with an unknown one) is a user.
    pub fn from_stored(stored: Option<&str>) -> Self {
        stored.and_then(Role::parse).unwrap_or(Role::User)
    }

    /// Whether this role carries everything `required` may do.
    pub fn includes(self, required: Role) -> bool {
        Role::ALL.iter().position(|r| *r == self) >= Role::ALL.iter().position(|r| *r == required)
    }

    /// The 403 message of a route that needs `self` (docs/api.md §3.15).
    pub fn required_message(self) -> &'static str {
        match self {
            Role::User => "Unauthorized request",
            Role::Moderator => "Moderator role required",
            Role::Admin => "Admin role required",
        }
    }
}

/// A role given to a user, as `PATCH /admin/users/{userId}/role` answers it.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct RoleGrant {
    #[serde(rename = "_id")]
    pub id: Id,
    pub username: String,
    pub role: Role,
}

/// What giving a role did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleChange {
    Granted(RoleGrant),
    /// Refused: the user is the last admin, and the new role is not admin.
    LastAdmin,
}

/// The caller's own record (docs/api.md §3.1 "User").
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "_id")]
    pub id: Id,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub avatar: String,
    pub cover_image: String,
    pub watch_history: Vec<Id>,
    /// While true, watching a video leaves the history untouched (docs/api.md §3.3.12).
    pub history_paused: bool,
    /// Shown only here, on the caller's own record.
    pub role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user with the fields that are never serialised: password hash and media storage keys.
#[derive(Clone, Debug)]
pub struct UserAccount {
    pub user: User,
    pub password_hash: String,
    pub avatar_key: String,
    pub cover_image_key: Option<String>,
    /// The moderator's reason while the account is suspended (docs/api.md §3.15.3).
    pub suspended_reason: Option<String>,
}

/// Who an authenticated request is from: what authenticating it reads of the account, never its
/// history ids or secrets (routes that need more read the account). `Services::caller` makes one
/// from a verified access token; the store's `UserRepo::identity` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub id: Id,
    /// Whether watching leaves the history untouched: the watch page decides it on every request.
    pub history_paused: bool,
    /// Read on every request, so a new role applies from the next one.
    pub role: Role,
}

/// An account as authenticating a request finds it: who, and the reason of a suspension that
/// stops them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub identity: Identity,
    pub suspended_reason: Option<String>,
}

/// The 403 message of a suspended account (login, refresh, routes that need a login).
pub fn suspended_message(reason: &str) -> String {
    format!("Account suspended: {reason}")
}

/// `{_id, username, fullName, avatar}`, optionally with the subscription facts of a VideoDetail owner.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OwnerSummary {
    #[serde(rename = "_id")]
    pub id: Id,
    pub username: String,
    pub full_name: String,
    pub avatar: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribers_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_subscribed: Option<bool>,
}

impl OwnerSummary {
    pub fn new(id: Id, username: String, full_name: String, avatar: String) -> Self {
        OwnerSummary { id, username, full_name, avatar, subscribers_count: None, is_subscribed: None }
    }
}

/// docs/api.md §3.3.8. `email` is present only for authenticated callers.
#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ChannelProfile {
    #[serde(rename = "_id")]
    pub id: Id,
    pub full_name: String,
    pub username: String,
    pub subscribers_count: i64,
    pub channels_subscribed_to_count: i64,
    pub is_subscribed: bool,
    pub avatar: String,
    pub cover_image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Subscription facts about one channel as seen by one caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelCounts {
    pub subscribers: i64,
    pub subscribed_to: i64,
    pub viewer_subscribed: bool,
}

/// One device's login as `GET /users/sessions` lists it (docs/api.md §3.3.11): never its token.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[serde(rename = "_id")]
    pub id: Id,
    pub created_at: Timestamp,
    /// The last login or refresh of this session.
    pub last_used_at: Timestamp,
    pub expires_at: Timestamp,
    /// The `User-Agent` of the login that created the session, at most 200 characters.
    pub user_agent: String,
    /// Whether the caller's access token belongs to this session.
    pub current: bool,
}
