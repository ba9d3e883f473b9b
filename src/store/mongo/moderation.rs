//! MongoDB persistence of the moderation log.

use async_trait::async_trait;

use super::docs::{ActionDoc, OwnerDoc};
use super::queries::moderation as q;
use super::{MongoStore, backend, coll, now, oid};
use crate::domain::Id;
use crate::domain::moderation::ModerationAction;
use crate::store::{LogFilter, ModerationRepo, NewAction, StoreError, StoreResult};

#[async_trait]
impl ModerationRepo for MongoStore {
    async fn record(&self, action: NewAction) -> StoreResult<ModerationAction> {
        let id = Id::generate();
        let NewAction { moderator, target, action, reason } = action;
        let mut document = bson::doc! { "_id": oid(id) };
        document.extend(q::action_fields(oid(moderator), target, action, &reason, now()));
        self.collection(coll::MODERATION_ACTIONS).insert_one(document).await.map_err(backend)?;
        let mut page = q::log_page(LogFilter::default(), 0, 1);
        page[0] = bson::doc! { "$match": { "_id": oid(id) } };
        let found = self.aggregate_as::<ActionDoc<OwnerDoc>>(coll::MODERATION_ACTIONS, page).await?;
        found
            .into_iter()
            .find_map(ActionDoc::into_action)
            .ok_or_else(|| StoreError::backend("action vanished after insert"))
    }

    async fn log(&self, filter: LogFilter, offset: u64, limit: u32) -> StoreResult<(Vec<ModerationAction>, u64)> {
        let (page, total) = futures_util::try_join!(
            self.aggregate_as::<ActionDoc<OwnerDoc>>(coll::MODERATION_ACTIONS, q::log_page(filter, offset, limit)),
            self.count(coll::MODERATION_ACTIONS, q::log_filter(filter)),
        )?;
        Ok((page.into_iter().filter_map(ActionDoc::into_action).collect(), total))
    }
}
