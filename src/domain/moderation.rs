//! Moderation as the API shows it (docs/api.md §3.15): what can be reported, why, and the report.

use serde::Serialize;

use super::choice::choice;
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
