//! The moderation queue, actions and log (docs/api.md §3.15.3), for moderators (`Staff`).

use super::roles::Staff;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::domain::moderation::{
    Action, ModerationAction, PostSummary, ReportGroup, ReportStatus, Target, TargetSummary, TargetType, VideoSummary,
};
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::{OwnerSummary, Role};
use crate::store::{LogFilter, NewAction};

impl Services {
    /// `GET /moderation/reports`: one page of targets with reports in `status`, most reported first.
    pub async fn report_queue(
        &self,
        _staff: &Staff,
        status: ReportStatus,
        kind: Option<TargetType>,
        page: PageRequest,
    ) -> Result<Page<ReportGroup>, ServiceError> {
        let (tallies, total) = self.store.reports.queue(status, kind, page.offset(), page.limit).await?;
        let mut groups = Vec::with_capacity(tallies.len());
        for tally in tallies {
            groups.push(ReportGroup {
                target_type: tally.target.kind,
                target_id: tally.target.id,
                target: self.target_summary(tally.target).await?,
                reports_count: tally.count,
                reasons: tally.reasons.into_iter().map(|(reason, n)| (reason.as_str().to_owned(), n)).collect(),
                status,
                first_reported_at: tally.first_reported_at,
                last_reported_at: tally.last_reported_at,
            });
        }
        Ok(Page::new(groups, total, page))
    }

    /// The target as it is now, whoever may see it (a moderator sees everything); `None` once deleted.
    async fn target_summary(&self, target: Target) -> Result<Option<TargetSummary>, ServiceError> {
        Ok(match target.kind {
            TargetType::Video => self.store.videos.get(target.id).await?.map(|record| {
                let video = record.video;
                TargetSummary::Video(VideoSummary {
                    id: video.id,
                    title: video.title,
                    thumbnail: video.thumbnail,
                    owner: video.owner.value,
                    visibility: video.visibility,
                })
            }),
            TargetType::Comment => self.store.comments.get(target.id, None).await?.map(|comment| {
                TargetSummary::Post(PostSummary {
                    id: comment.id,
                    content: comment.content,
                    owner: comment.owner.value,
                })
            }),
            TargetType::Tweet => self.store.tweets.get(target.id, None).await?.map(|tweet| {
                TargetSummary::Post(PostSummary { id: tweet.id, content: tweet.content, owner: tweet.owner.value })
            }),
            TargetType::User => self.store.users.by_id(target.id).await?.map(|account| {
                let user = account.user;
                TargetSummary::User(OwnerSummary::new(user.id, user.username, user.full_name, user.avatar))
            }),
        })
    }

    /// `POST /moderation/actions`, after the input (checked at the edge): the target, whatever its
    /// visibility (404); a moderator's or admin's content or account only by an admin (403); never
    /// one's own suspension (400). The action takes effect, closes the target's open reports and
    /// is appended to the log.
    pub async fn act(
        &self,
        staff: &Staff,
        target: Target,
        action: Action,
        reason: String,
    ) -> Result<ModerationAction, ServiceError> {
        let caller = staff.identity();
        let owner = self.target_owner(target).await?;
        let owner_standing = self.store.users.identity(owner).await?;
        if action.needs_admin_over_staff() && !caller.role.includes(Role::Admin) {
            let owner_role = owner_standing.as_ref().map_or(Role::User, |o| o.identity.role);
            if owner_role.includes(Role::Moderator) {
                return Err(ServiceError::forbidden("Only an admin can act on a moderator or admin"));
            }
        }
        let owner_suspended = owner_standing.is_some_and(|o| o.suspended_reason.is_some());
        if action == Action::Suspend && target.id == caller.id {
            return Err(ServiceError::invalid("You cannot suspend yourself"));
        }
        match (action, target.kind) {
            (Action::Remove | Action::Restore, kind) => {
                let removal = (action == Action::Remove).then(|| reason.clone());
                match kind {
                    TargetType::Video => self.store.videos.set_removal(target.id, removal, owner_suspended).await?,
                    TargetType::Comment => {
                        let hidden_otherwise = owner_suspended || self.blocked_on_its_video(target.id).await?;
                        self.store.comments.set_removal(target.id, removal, hidden_otherwise).await?
                    }
                    TargetType::Tweet => self.store.tweets.set_removal(target.id, removal, owner_suspended).await?,
                    // `Action::applies_to` refused it at the edge.
                    TargetType::User => return Err(ServiceError::invalid("Action remove does not apply to a user")),
                };
            }
            (Action::Suspend | Action::Unsuspend, _) => {
                let suspension = (action == Action::Suspend).then(|| reason.clone());
                self.store.users.set_suspension(target.id, suspension).await?;
            }
            (Action::Dismiss, _) => {}
        }
        self.store.reports.close(target, action.closes_reports_as()).await?;
        let action = NewAction { moderator: caller.id, target, action, reason };
        Ok(self.store.moderation.record(action).await?)
    }

    /// Who owns the target (a user owns themselves); 404 with the target's message when it is gone.
    async fn target_owner(&self, target: Target) -> Result<Id, ServiceError> {
        let owner = match target.kind {
            TargetType::Video => self.store.videos.get(target.id).await?.map(|r| r.video.owner_id()),
            TargetType::Comment => self.store.comments.get_ref(target.id).await?.map(|c| c.owner),
            TargetType::Tweet => self.store.tweets.get_ref(target.id).await?.map(|t| t.owner),
            TargetType::User => self.store.users.identity(target.id).await?.map(|u| u.identity.id),
        };
        owner.ok_or_else(|| ServiceError::not_found(not_found_message(target.kind)))
    }

    /// `GET /moderation/log`: one page, newest first.
    pub async fn moderation_log(
        &self,
        _staff: &Staff,
        filter: LogFilter,
        page: PageRequest,
    ) -> Result<Page<ModerationAction>, ServiceError> {
        let (actions, total) = self.store.moderation.log(filter, page.offset(), page.limit).await?;
        Ok(Page::new(actions, total, page))
    }
}

/// The 404 message of a missing target of `kind`.
pub fn not_found_message(kind: TargetType) -> &'static str {
    match kind {
        TargetType::Video => "Video not found",
        TargetType::Comment => "Comment not found",
        TargetType::Tweet => "Tweet not found",
        TargetType::User => "User not found",
    }
}
