//! MongoDB keeps the shared short-lived state, so several instances on one database count a view
//! once per window and spend one budget per client between them.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::options::ReturnDocument;

use super::queries::ephemeral as q;
use super::{MongoStore, coll, conflict_on, is_conflict, now, retry_transient};
use crate::domain::Id;
use crate::store::ephemeral::{Budget, EphemeralState, Spend, retry_after_secs};
use crate::store::{StoreError, StoreResult};

/// Concurrent first requests race to create a counter; the losers find it created and count in it.
pub(super) const CREATE_ATTEMPTS: usize = 3;

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl EphemeralState for MongoStore {
    async fn count_view(&self, viewer: &str, video: Id, window: Duration) -> StoreResult<bool> {
        let (key, at, window_ms) = (format!("{viewer}|{video}"), now(), millis(window));
        let marks = self.collection(coll::VIEW_MARKS);
        let mark = q::new_view_mark(&key, at, window_ms);
        match retry_transient(|| marks.insert_one(mark.clone())).await.map_err(conflict_on("_id")) {
            Ok(_) => return Ok(true),
            Err(e) if !is_conflict(&e) => return Err(e),
            Err(_) => {}
        }
        // A mark exists: the view counts only if its window is over, and then only for one of any
        // concurrent viewers (the conditional update matches once).
        let (filter, update) = q::renew_view_mark(&key, at, window_ms);
        let renewed =
            retry_transient(|| marks.update_one(filter.clone(), update.clone())).await.map_err(conflict_on("_id"))?;
        Ok(renewed.modified_count == 1)
    }

    async fn spend(&self, key: &str, budget: Budget) -> StoreResult<Spend> {
        let (at, window_ms) = (now(), millis(budget.window));
        let budgets = self.collection(coll::REQUEST_BUDGETS);
        let (filter, update) = q::spend(key, at, window_ms);
        for _ in 0..CREATE_ATTEMPTS {
            let counted = retry_transient(|| {
                budgets.find_one_and_update(filter.clone(), update.clone()).return_document(ReturnDocument::After)
            })
            .await
            .map_err(conflict_on("_id"))?;
            let Some(counter) = counted else {
                // No counter yet (or it expired and was swept): the first request opens the window.
                let opened = q::new_budget(key, at, window_ms);
                match retry_transient(|| budgets.insert_one(opened.clone())).await.map_err(conflict_on("_id")) {
                    Ok(_) => return Ok(Spend::Allowed),
                    Err(e) if is_conflict(&e) => continue,
                    Err(e) => return Err(e),
                }
            };
            let count = counter.get_i32("count").map(i64::from).or_else(|_| counter.get_i64("count")).unwrap_or(0);
            if count <= i64::from(budget.requests) {
                return Ok(Spend::Allowed);
            }
            let started = counter.get_datetime("startedAt").map_or(at.timestamp_millis(), |d| d.timestamp_millis());
            // Another instance may have opened the window a moment after this clock reading.
            let remaining = (started + window_ms - at.timestamp_millis()).clamp(0, window_ms);
            return Ok(Spend::Refused { retry_after_secs: retry_after_secs(Duration::from_millis(remaining as u64)) });
        }
        Err(StoreError::backend("the request budget counter kept losing creation races"))
    }
}
