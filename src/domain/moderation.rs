//! Moderation as the API shows it (docs/api.md §3.15): what can be reported, why, and the report.

use std::collections::BTreeMap;

use serde::Serialize;

use super::choice::choice;
use super::user::OwnerSummary;
use super::visibility::Visibility;
use super::{Id, Timestamp};

choice! {
    /// The kind of thing a report (or, later, a moderation action) is about.
    pub enum TargetType for "targetType" {
        Video = "video",
        Comment = "comment",
        Tweet = "tweet",
        User = "user",
    }
}

choice! {
    /// Why something is reported.
    pub enum ReportReason for "reason" {
        Spam = "spam",
        Harassment = "harassment",
        Hate = "hate",
        Violence = "violence",
        Sexual = "sexual",
        Copyright = "copyright",
        Misinformation = "misinformation",
        /// Needs `details`.
        Other = "other",
    }
}

choice! {
    /// Where a report stands: open until a moderator acts on its target.
    pub enum ReportStatus for "status" {
        Open = "open",
        /// A moderator acted on the target (removed, restored, suspended, ...).
        Resolved = "resolved",
        /// A moderator looked and did nothing.
        Dismissed = "dismissed",
    }
}

choice! {
    /// What a moderator does to a target (docs/api.md §3.15.3).
    pub enum Action for "action" {
        /// Hides a video, comment or tweet from everyone but its owner and moderators.
        Remove = "remove",
        Restore = "restore",
        /// Stops an account and hides everything it made.
        Suspend = "suspend",
        Unsuspend = "unsuspend",
        /// Closes the target's reports and changes nothing else.
        Dismiss = "dismiss",
    }
}

impl Action {
    /// Whether the action can be taken on a target of `kind`.
    pub fn applies_to(self, kind: TargetType) -> bool {
        match self {
            Action::Remove | Action::Restore => kind != TargetType::User,
            Action::Suspend | Action::Unsuspend => kind == TargetType::User,
            Action::Dismiss => true,
        }
    }

    /// What the action makes of the target's open reports.
    pub fn closes_reports_as(self) -> ReportStatus {
        match self {
            Action::Dismiss => ReportStatus::Dismissed,
            Action::Remove | Action::Restore | Action::Suspend | Action::Unsuspend => ReportStatus::Resolved,
        }
    }

    /// Whether only an admin may take it when the target is a moderator's or an admin's.
    pub fn needs_admin_over_staff(self) -> bool {
        matches!(self, Action::Remove | Action::Suspend)
    }
}

/// The longest reason of a moderation action, in characters after trimming.
pub const ACTION_REASON_MAX_CHARS: usize = 500;

/// A moderation action's reason (shown to the owner): trimmed, required, bounded; the 400 message
/// otherwise.
pub fn action_reason(raw: Option<&str>) -> Result<String, &'static str> {
    let reason = raw.map(str::trim).filter(|r| !r.is_empty()).ok_or("Reason is required")?;
    if reason.chars().count() > ACTION_REASON_MAX_CHARS {
        return Err("Reason must be at most 500 characters");
    }
    Ok(reason.to_owned())
}

choice! {
    /// What moderation did to a video, comment or tweet.
    pub enum ModerationStatus for "status" {
        Removed = "removed",
    }
}

/// A removed video's, comment's or tweet's state, shown to its owner and to moderators.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct Moderation {
    pub status: ModerationStatus,
    /// The moderator's reason.
    pub reason: String,
}

impl Moderation {
    pub fn removed(reason: Option<String>) -> Option<Self> {
        reason.map(|reason| Moderation { status: ModerationStatus::Removed, reason })
    }
}

/// Whether a video, comment or tweet is hidden by moderation: removed, or its owner suspended
/// (docs/api.md §3.15.3). The stores keep the answer with the record (a video's listed level, a
/// comment's or tweet's `hidden`), so that every list and count reads it from an index.
pub fn hidden(removed: bool, owner_suspended: bool) -> bool {
    removed || owner_suspended
}

/// Whether `viewer` sees a comment or tweet of `owner`: a hidden one only its owner. The stores'
/// lists apply the same rule (`hidden = 0 OR owner = viewer`).
pub fn post_visible_to(owner: Id, hidden: bool, viewer: Option<Id>) -> bool {
    !hidden || viewer == Some(owner)
}

/// A moderation action as the log shows it.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ModerationAction {
    #[serde(rename = "_id")]
    pub id: Id,
    pub target_type: TargetType,
    pub target_id: Id,
    pub action: Action,
    pub reason: String,
    /// `null` once the moderator's account is deleted (the log keeps the action).
    pub moderator: Option<OwnerSummary>,
    pub created_at: Timestamp,
}

/// How many times each reason is given, in the order the reasons first come.
pub fn tally_reasons(reasons: impl IntoIterator<Item = ReportReason>) -> Vec<(ReportReason, i64)> {
    let mut counts: Vec<(ReportReason, i64)> = Vec::new();
    for reason in reasons {
        match counts.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, n)) => *n += 1,
            None => counts.push((reason, 1)),
        }
    }
    counts
}

/// The reports of one target in one status, as the store counts them for the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTally {
    pub target: Target,
    pub count: i64,
    pub reasons: Vec<(ReportReason, i64)>,
    pub first_reported_at: Timestamp,
    pub last_reported_at: Timestamp,
}

/// A reported video as the queue shows it now.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
pub struct VideoSummary {
    #[serde(rename = "_id")]
    pub id: Id,
    pub title: String,
    pub thumbnail: String,
    pub owner: OwnerSummary,
    pub visibility: Visibility,
}

/// A reported comment or tweet as the queue shows it now.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
pub struct PostSummary {
    #[serde(rename = "_id")]
    pub id: Id,
    pub content: String,
    pub owner: OwnerSummary,
}

/// What a report is about, as it is now.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(untagged)]
pub enum TargetSummary {
    Video(VideoSummary),
    Post(PostSummary),
    User(OwnerSummary),
}

/// One target of the moderation queue with its reports (docs/api.md §3.15.3).
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReportGroup {
    pub target_type: TargetType,
    pub target_id: Id,
    /// `null` when the target was deleted.
    pub target: Option<TargetSummary>,
    pub reports_count: i64,
    /// How many of the reports give each reason.
    pub reasons: BTreeMap<String, i64>,
    pub status: ReportStatus,
    pub first_reported_at: Timestamp,
    pub last_reported_at: Timestamp,
}

/// A reported thing: its kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub kind: TargetType,
    pub id: Id,
}

/// The longest `details`, in characters after trimming.
pub const DETAILS_MAX_CHARS: usize = 1000;

/// Why a report is made: a reason, and the reporter's details (required for `other`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grounds {
    pub reason: ReportReason,
    pub details: Option<String>,
}

impl Grounds {
    /// The grounds of `reason` with `details` trimmed (empty counts as none); the 400 message when
    /// they break a rule.
    pub fn new(reason: ReportReason, details: Option<&str>) -> Result<Self, &'static str> {
        let details = details.map(str::trim).filter(|d| !d.is_empty());
        if reason == ReportReason::Other && details.is_none() {
            return Err("Details are required when the reason is other");
        }
        if details.is_some_and(|d| d.chars().count() > DETAILS_MAX_CHARS) {
            return Err("Details must be at most 1000 characters");
        }
        Ok(Grounds { reason, details: details.map(str::to_owned) })
    }
}

/// A report as its reporter sees it (docs/api.md §3.15.2).
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(rename = "_id")]
    pub id: Id,
    pub target_type: TargetType,
    pub target_id: Id,
    pub reason: ReportReason,
    /// `null` when the reporter gave none.
    pub details: Option<String>,
    pub status: ReportStatus,
    pub created_at: Timestamp,
}

impl Report {
    /// A report as filed: open, with its grounds.
    pub fn filed(id: Id, target: Target, grounds: Grounds, created_at: Timestamp) -> Self {
        Report {
            id,
            target_type: target.kind,
            target_id: target.id,
            reason: grounds.reason,
            details: grounds.details,
            status: ReportStatus::Open,
            created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::choice::Choice;

    #[test]
    fn the_messages_list_the_names_in_the_api_order() {
        assert_eq!(TargetType::invalid(), "targetType must be one of video, comment, tweet, user");
        assert_eq!(
            ReportReason::invalid(),
            "reason must be one of spam, harassment, hate, violence, sexual, copyright, misinformation, other"
        );
        assert_eq!(ReportStatus::invalid(), "status must be one of open, resolved, dismissed");
    }

    #[test]
    fn details_are_trimmed_bounded_and_required_for_other() {
        assert_eq!(Grounds::new(ReportReason::Spam, Some("  ")).unwrap().details, None);
        assert_eq!(Grounds::new(ReportReason::Spam, Some(" ads ")).unwrap().details.as_deref(), Some("ads"));
        assert_eq!(Grounds::new(ReportReason::Other, None), Err("Details are required when the reason is other"));
        assert_eq!(Grounds::new(ReportReason::Other, Some(" ")), Err("Details are required when the reason is other"));
        let long = format!(" {} ", "é".repeat(1000));
        assert_eq!(Grounds::new(ReportReason::Other, Some(&long)).unwrap().details.unwrap().chars().count(), 1000);
        let longer = "é".repeat(1001);
        assert_eq!(Grounds::new(ReportReason::Hate, Some(&longer)), Err("Details must be at most 1000 characters"));
    }
}
