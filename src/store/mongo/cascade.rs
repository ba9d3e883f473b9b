//! Runs deletions that take other records with them (`queries::cascade` builds their steps from the
//! registry of record kinds): first the ids of the removed records others refer to, then each step
//! in turn, children first. No transaction: every step repeats harmlessly, so a retry after a
//! failure part-way finishes the job.

use bson::oid::ObjectId;

use super::queries::cascade::{self as q, Removed, Step};
use super::queries::counters;
use super::{MongoStore, backend, collection};
use crate::store::StoreResult;
use crate::store::records::RecordKind;

impl MongoStore {
    /// The steps deleting the `root` records `ids` and what goes with them, after reading the ids of
    /// every removed kind others refer to (parents before children).
    async fn cascade(&self, root: RecordKind, ids: Vec<ObjectId>) -> StoreResult<Vec<Step>> {
        let ids = self.with_own_referrers(root, ids).await?;
        let mut removed = Removed::new(root, ids);
        for kind in RecordKind::ALL.into_iter().filter(|kind| q::needs_ids(root, *kind)) {
            let mut ids: Vec<ObjectId> = Vec::new();
            for filter in q::referring(kind, &removed) {
                ids.extend(self.ids_where(collection(kind), filter).await?);
            }
            let ids = self.with_own_referrers(kind, ids).await?;
            removed.insert(kind, ids);
        }
        Ok(q::steps(root, &removed))
    }

    /// `ids` of `kind` with the ids of the records of `kind` that refer to them, level by level
    /// (the replies of removed comments), sorted and without repeats.
    async fn with_own_referrers(&self, kind: RecordKind, mut ids: Vec<ObjectId>) -> StoreResult<Vec<ObjectId>> {
        ids.sort();
        ids.dedup();
        let mut level = ids.clone();
        while let Some(filter) = q::own_referrers(kind, &level) {
            level = self.ids_where(collection(kind), filter).await?;
            level.retain(|id| ids.binary_search(id).is_err());
            ids.extend(&level);
            ids.sort();
            ids.dedup();
        }
        Ok(ids)
    }

    /// Runs the steps in order; how many documents the last one (the root records') deleted.
    async fn run(&self, steps: &[Step]) -> StoreResult<u64> {
        let mut deleted = 0;
        for step in steps {
            let collection = self.collection(step.collection);
            deleted = match step.change.update() {
                Some(update) => {
                    collection.update_many(step.filter.clone(), update).await.map(|_| 0).map_err(backend)?
                }
                None if !counters::counts(step.kind).is_empty() => self.delete_counted(step).await?,
                None => {
                    collection.delete_many(step.filter.clone()).await.map(|done| done.deleted_count).map_err(backend)?
                }
            };
        }
        Ok(deleted)
    }

    /// Deletes the `root` records `ids` and everything the registry removes with them; how many
    /// root records went.
    pub(super) async fn delete_cascade(&self, root: RecordKind, ids: Vec<ObjectId>) -> StoreResult<u64> {
        let steps = self.cascade(root, ids).await?;
        self.run(&steps).await
    }

    /// Deletes one record and what refers to it, then what refers to it once more: a like added to
    /// a comment while the comment was being deleted goes too.
    pub(super) async fn delete_one_with(&self, root: RecordKind, id: ObjectId) -> StoreResult<bool> {
        let steps = self.cascade(root, vec![id]).await?;
        let deleted = self.run(&steps).await?;
        if let Some((_, referrers)) = steps.split_last() {
            self.run(referrers).await?;
        }
        Ok(deleted > 0)
    }
}
