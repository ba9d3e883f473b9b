//! Reports (docs/api.md §3.15.2): a logged-in user reports a video, comment, tweet or user they can
//! see. A report hides nothing by itself; moderators act on it.

use std::time::Duration;

use super::moderation::not_found_message;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::moderation::{Grounds, Report, Target, TargetType};
use crate::domain::ownership::HasOwner;
use crate::domain::user::Identity;
use crate::store::ephemeral::{Budget, Spend};
use crate::store::{NewReport, StoreError};

const ALREADY_REPORTED: &str = "You have already reported this";

impl Services {
    /// Files the caller's report. After the input (checked at the edge): the target as the caller
    /// sees it (404), not their own (400), not already reported by them while open (409), then the
    /// caller's report budget (429).
    pub async fn report(&self, caller: &Identity, target: Target, grounds: Grounds) -> Result<Report, ServiceError> {
        if self.reported_owner(caller, target).await? == caller.id {
            return Err(ServiceError::invalid("You cannot report your own content"));
        }
        if self.store.reports.has_open(caller.id, target).await? {
            return Err(ServiceError::conflict(ALREADY_REPORTED));
        }
        self.spend_report_budget(caller.id).await?;
        match self.store.reports.file(NewReport { reporter: caller.id, target, grounds }).await {
            // A second report of the pair arrived at the same moment, and the store kept the first.
            Err(StoreError::Conflict { .. }) => Err(ServiceError::conflict(ALREADY_REPORTED)),
            filed => Ok(filed?),
        }
    }

    /// Who owns the reported thing (a user owns themselves), when the caller may see it; 404 with
    /// the target's message otherwise.
    async fn reported_owner(&self, caller: &Identity, target: Target) -> Result<Id, ServiceError> {
        let viewer = Some(caller.id);
        Ok(match target.kind {
            TargetType::Video => self.visible_video(target.id, viewer).await?.owner_id(),
            TargetType::Comment => self.visible_comment(target.id, viewer).await?.owner_id(),
            TargetType::Tweet => self.visible_tweet(target.id, viewer).await?.owner_id(),
            TargetType::User => self.existing_user(target.id, not_found_message(TargetType::User)).await?.user.id,
        })
    }

    /// One report from the caller's budget (`RATE_LIMIT_REPORTS`, per user, shared by every
    /// instance on one database); off with the other budgets (`RATE_LIMIT_ENABLED=false`).
    async fn spend_report_budget(&self, caller: Id) -> Result<(), ServiceError> {
        let limits = &self.config.rate_limits;
        if !limits.enabled {
            return Ok(());
        }
        let limit = limits.reports;
        let budget = Budget { requests: limit.requests, window: Duration::from_secs(limit.window_secs) };
        match self.store.ephemeral.spend(&format!("reports|{caller}"), budget).await? {
            Spend::Allowed => Ok(()),
            Spend::Refused { retry_after_secs } => Err(ServiceError::TooManyRequests { retry_after_secs }),
        }
    }
}
