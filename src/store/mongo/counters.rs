//! Keeps the counts of `queries::counters` (docs/decisions.md D26): each write of a counted record
//! bumps the counts it adds to right after it lands, and the repair pass recounts them from the
//! records. Without transactions a count is exact under concurrency because every record is
//! credited by the one write that created or deleted it (an insert, a delete that removed it, the
//! update that moved a video's counted level); a crash between a write and its bump leaves a count
//! off until the repair pass, which the maintenance task runs.

use std::collections::HashMap;
use std::time::Duration;

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use futures_util::{StreamExt, TryStreamExt};
use mongodb::options::ReturnDocument;

use super::queries::cascade::Step;
use super::queries::counters::{self as q, Bump, COUNTERS, Count, Holder, SITE};
use super::queries::notifications::Touched;
use super::{DUPLICATE_KEY, MongoStore, backend, collection, ids_found, retry_transient};
use crate::domain::visibility::{ALL_LEVELS, Visibility};
use crate::store::StoreResult;
use crate::store::records::RecordKind;

/// Deletions credited one document at a time run this many at once.
const CREDIT_CONCURRENCY: usize = 16;

/// Holders the repair pass reads at once.
const REPAIR_BATCH: i64 = 500;

/// How long a wrong count must stay wrong before the repair pass corrects it: longer than a write
/// takes between its record and its bump, so a count caught in between is left to the bump.
pub(super) const REPAIR_CONFIRM: Duration = Duration::from_secs(1);

/// The site document's field telling which counts have been built (an original API's database, or
/// one `migrate` filled, has records but no counts until then; one counted before notifications'
/// and comments were has `true` or 2).
const BUILT: &str = "built";

/// The counts built: raised when a count is added, so a database gets the new one at startup.
const COUNTS_VERSION: i32 = 3;

impl MongoStore {
    /// Applies the bumps, those of one holder as one update. A bump of one holder is retried while
    /// it fails transiently (an `$inc` that failed did not land); the same change to several holders
    /// of a collection (a fan-out's recipients) goes as one `updateMany`, not retried, as it may have
    /// landed in part (the repair pass corrects what a failure leaves), after the documents it needs
    /// and lacks are made (a count kept apart, `Count::kept_in`).
    pub(super) async fn apply(&self, bumps: Vec<Bump>) -> StoreResult<()> {
        let mut groups: Vec<(Bump, Vec<Bson>)> = Vec::new();
        for bump in q::merged(bumps) {
            let holder = bump.filter.get("_id").filter(|_| bump.filter.len() == 1).cloned();
            // A holder twice in one `updateMany` would be bumped once: its second bump goes apart.
            let same = |(b, holders): &&mut (Bump, Vec<Bson>)| {
                !holders.is_empty()
                    && b.collection == bump.collection
                    && b.update == bump.update
                    && b.upsert == bump.upsert
                    && holder.as_ref().is_some_and(|h| !holders.contains(h))
            };
            match (holder.clone(), groups.iter_mut().find(same)) {
                (Some(holder), Some((_, holders))) => holders.push(holder),
                (Some(holder), None) => groups.push((bump, vec![holder])),
                (None, _) => groups.push((bump, Vec::new())),
            }
        }
        for (bump, holders) in groups {
            let collection = self.collection(bump.collection);
            if holders.len() > 1 {
                if bump.upsert {
                    self.make_missing(bump.collection, &holders).await?;
                }
                collection.update_many(doc! { "_id": { "$in": holders } }, bump.update).await.map_err(backend)?;
            } else {
                retry_transient(|| collection.update_one(bump.filter.clone(), bump.update.clone()).upsert(bump.upsert))
                    .await
                    .map_err(backend)?;
            }
        }
        Ok(())
    }

    /// Makes an empty document for each of `ids` that `name` lacks (a concurrent maker wins).
    async fn make_missing(&self, name: &str, ids: &[Bson]) -> StoreResult<()> {
        let documents = self.collection(name);
        let existing = documents.find(doc! { "_id": { "$in": ids } }).projection(doc! { "_id": 1 });
        let existing: Vec<Document> = existing.await.map_err(backend)?.try_collect().await.map_err(backend)?;
        let existing: Vec<&Bson> = existing.iter().filter_map(|d| d.get("_id")).collect();
        let missing: Vec<Document> =
            ids.iter().filter(|id| !existing.contains(id)).map(|id| doc! { "_id": id.clone() }).collect();
        if missing.is_empty() {
            return Ok(());
        }
        match documents.insert_many(missing).ordered(false).await {
            Ok(_) => Ok(()),
            Err(e) if only_duplicates(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    /// Flips the counted record `key` of `kind` (a like, a subscription), then bumps its counts.
    pub(super) async fn counted_flip(&self, kind: RecordKind, key: Document) -> StoreResult<bool> {
        let present = self.flip(collection(kind), key.clone()).await?;
        self.apply(q::bumps_of(kind, &key, None, if present { 1 } else { -1 })).await?;
        Ok(present)
    }

    /// Runs one cascade step that deletes counted records: those counting in a holder that may
    /// outlive the deletion are deleted one by one, each credited by the deletion that removed it
    /// (a concurrent unlike or another cascade credits the ones it removed); the rest at once.
    pub(super) async fn delete_counted(&self, step: &Step) -> StoreResult<u64> {
        let documents = self.collection(step.collection);
        let mut deleted = 0;
        if let Some(credited) = q::credited(step.kind, &step.filter, step.via()) {
            let found = self.ids_where(step.collection, credited).await?;
            let projection = q::counted_fields(step.kind);
            // Each record as it was deleted: its counted state (a notification's `shown`, `read`)
            // may change until then.
            let gone: Vec<Document> = futures_util::stream::iter(found)
                .map(|id| {
                    let (documents, projection) = (documents.clone(), projection.clone());
                    async move {
                        retry_transient(|| {
                            documents.find_one_and_delete(doc! { "_id": id }).projection(projection.clone())
                        })
                        .await
                        .map_err(backend)
                    }
                })
                .buffer_unordered(CREDIT_CONCURRENCY)
                .try_filter_map(|record| async move { Ok(record) })
                .try_collect()
                .await?;
            deleted += gone.len() as u64;
            let mut totals: HashMap<(usize, Option<ObjectId>, Option<Visibility>), i64> = HashMap::new();
            for record in &gone {
                for (index, count) in q::counts(step.kind).iter().enumerate() {
                    let holder = q::holder_of(count, record);
                    if count.which.holds(record) && (holder.is_some() || count.holder == Holder::Site) {
                        *totals.entry((index, holder, q::counted_level(record))).or_default() -= 1;
                    }
                }
            }
            let bumps = totals
                .into_iter()
                .filter_map(|((index, holder, level), delta)| {
                    q::bump(&q::counts(step.kind)[index], holder, level, delta)
                })
                .collect();
            self.apply(bumps).await?;
        }
        let rest = q::uncredited(step.kind, &step.filter, step.via());
        deleted += documents.delete_many(rest).await.map_err(backend)?.deleted_count;
        Ok(deleted)
    }

    /// Moves the comments matching `filter` whose stored visibility changed (hidden or shown) to
    /// or from the counts of those everyone sees: each by the one update that records it counted so.
    pub(super) async fn settle_comments(&self, filter: Document) -> StoreResult<()> {
        let kind = RecordKind::Comments;
        let comments = self.collection(collection(kind));
        let (unsettled, _) = q::settle_comments(filter);
        let ids = self.ids_where(collection(kind), unsettled).await?;
        let mut projection = q::counted_fields(kind);
        projection.insert("hidden", 1);
        for id in ids {
            let (filter, update) = q::settle_comments(doc! { "_id": id });
            let before = retry_transient(|| {
                comments
                    .find_one_and_update(filter.clone(), update.clone())
                    .projection(projection.clone())
                    .return_document(ReturnDocument::Before)
            })
            .await
            .map_err(backend)?;
            // None: another writer settled it first, and bumped for it.
            let Some(before) = before else { continue };
            let mut after = before.clone();
            after.insert(q::COUNTED_VISIBLE, !before.get_bool("hidden").unwrap_or(false));
            self.apply(q::moved(kind, &[(before, after)])).await?;
        }
        Ok(())
    }

    /// Moves the videos matching `filter` whose stored level changed to the counts of their new
    /// level: each by the one update that records it as counted there.
    pub(super) async fn settle_videos(&self, filter: Document) -> StoreResult<()> {
        let videos = self.collection(collection(RecordKind::Videos));
        let (unsettled, _) = q::settle(filter);
        let ids: Vec<ObjectId> = self.ids_where(collection(RecordKind::Videos), unsettled).await?;
        for id in ids {
            let (filter, update) = q::settle(doc! { "_id": id });
            let before = retry_transient(|| {
                videos
                    .find_one_and_update(filter.clone(), update.clone())
                    .projection(doc! { "owner": 1, "isPublished": 1, "visibility": 1, q::COUNTED_LEVEL: 1 })
                    .return_document(ReturnDocument::Before)
            })
            .await
            .map_err(backend)?;
            // None: another writer settled it first, and bumped for it.
            let Some(before) = before else { continue };
            self.refresh_notifications(Touched::Video(id)).await?;
            let mut bumps = q::bumps_of(RecordKind::Videos, &before, Some(q::level_of(&before)), 1);
            if let Some(was) = q::counted_level(&before) {
                bumps.extend(q::bumps_of(RecordKind::Videos, &before, Some(was), -1));
            }
            self.apply(bumps).await?;
        }
        Ok(())
    }

    /// The site's count of videos at any of `levels`.
    pub(super) async fn site_videos(&self, levels: &[Visibility]) -> StoreResult<u64> {
        let site = self.collection(COUNTERS).find_one(doc! { "_id": SITE }).await.map_err(backend)?;
        Ok(site.map_or(0, |site| site_videos_in(&site, levels)))
    }

    /// The user's count of videos at any of `levels`.
    pub(super) async fn user_videos(&self, user: ObjectId, levels: &[Visibility]) -> StoreResult<u64> {
        self.users_videos(&[user], levels).await
    }

    /// The users' counts of videos at any of `levels`, summed.
    pub(super) async fn users_videos(&self, users: &[ObjectId], levels: &[Visibility]) -> StoreResult<u64> {
        let count = &q::counts(RecordKind::Videos)[0];
        let found: Vec<Document> = self
            .collection(collection(RecordKind::Users))
            .find(doc! { "_id": { "$in": users } })
            .projection(doc! { count.field: 1 })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        Ok(found.iter().map(|user| sum_levels(user, count, levels)).sum())
    }

    /// Builds every count once, when the database has never had them (an original API's database):
    /// before the server answers, so every total it shows is right from the first request.
    pub(super) async fn build_counters(&self) -> StoreResult<()> {
        let site =
            self.collection(COUNTERS).find_one(doc! { "_id": SITE, BUILT: COUNTS_VERSION }).await.map_err(backend)?;
        if site.is_none() {
            self.rebuild_counters().await?;
        }
        Ok(())
    }

    /// Counts every record again and sets every count to it, then marks the counts built; for a
    /// database no server writes to meanwhile (startup, `migrate`).
    pub(crate) async fn rebuild_counters(&self) -> StoreResult<u64> {
        let fixed = self.repair(None).await?;
        self.collection(COUNTERS)
            .update_one(doc! { "_id": SITE }, doc! { "$set": { BUILT: COUNTS_VERSION } })
            .upsert(true)
            .await
            .map_err(backend)?;
        Ok(fixed)
    }

    /// Recounts every count from the records and corrects those found wrong; how many it corrected.
    /// With `confirm`, a count is corrected only when it is still wrong, by the same amount, after
    /// that long (a running server's writes bump right after their records land).
    pub(super) async fn repair(&self, confirm: Option<Duration>) -> StoreResult<u64> {
        // Videos counted at no level or at an old one, comments at an old visibility (a crash
        // between an update and its settling), and notifications whose `shown` a crash left
        // undecided (or that were copied in).
        self.settle_videos(doc! {}).await?;
        self.settle_comments(doc! {}).await?;
        self.settle_all_notifications().await?;
        let mut corrected = 0;
        for count in q::all_counts() {
            corrected += match count.holder {
                Holder::Site => self.repair_holders(count, None, confirm).await?,
                Holder::Record { kind, .. } => {
                    let holders = self.collection(collection(kind));
                    let mut after: Option<ObjectId> = None;
                    let mut corrected = 0;
                    loop {
                        let filter = after.map_or_else(Document::new, |id| doc! { "_id": { "$gt": id } });
                        let find = holders.find(filter).projection(doc! { "_id": 1 }).sort(doc! { "_id": 1 });
                        let batch = ids_found(find.limit(REPAIR_BATCH), "_id").await?;
                        let Some(last) = batch.last().copied() else { break };
                        corrected += self.repair_holders(count, Some(&batch), confirm).await?;
                        after = Some(last);
                    }
                    corrected
                }
            };
        }
        Ok(corrected)
    }

    /// Corrects `count` in the holders `batch` (the site's document for `None`).
    async fn repair_holders(
        &self,
        count: &Count,
        batch: Option<&[ObjectId]>,
        confirm: Option<Duration>,
    ) -> StoreResult<u64> {
        let mut wrong = self.wrong_counts(count, batch).await?;
        if let Some(confirm) = confirm.filter(|_| !wrong.is_empty()) {
            tokio::time::sleep(confirm).await;
            let again = self.wrong_counts(count, batch).await?;
            wrong.retain(|entry| again.contains(entry));
        }
        let holders = self.collection(count.collection());
        let mut corrected = 0;
        for (holder, level, was, now) in wrong {
            let (filter, update) = q::correct(count, holder.clone(), level, was, now);
            let done = holders.update_one(filter, update).upsert(count.upserts()).await.map_err(backend)?;
            if done.modified_count > 0 || done.upserted_id.is_some() {
                // Building counts (no `confirm`) sets them all; a running server's repair is news.
                if confirm.is_some() {
                    tracing::warn!(count = count.field, holder = %holder, ?level, ?was, now, "corrected a stored count");
                }
                corrected += 1;
            }
        }
        Ok(corrected)
    }

    /// The counts of `count` among `batch` that differ from the records: (holder, level, stored, counted).
    async fn wrong_counts(
        &self,
        count: &Count,
        batch: Option<&[ObjectId]>,
    ) -> StoreResult<Vec<(Bson, Option<Visibility>, Option<i64>, i64)>> {
        let tallies = self.aggregate(collection(count.counted), q::tally(count, batch)).await?;
        let mut counted: HashMap<(Option<ObjectId>, Option<Visibility>), i64> = HashMap::new();
        for tally in &tallies {
            let n = tally.get_i32("n").map(i64::from).or_else(|_| tally.get_i64("n")).unwrap_or(0);
            let (holder, level) = match tally.get("_id") {
                Some(Bson::ObjectId(holder)) => (Some(*holder), None),
                Some(Bson::Document(key)) => {
                    (key.get_object_id("h").ok(), key.get_str("l").ok().and_then(Visibility::parse))
                }
                _ => continue,
            };
            *counted.entry((holder, level)).or_default() += n;
        }
        let filter = match (count.holder, batch) {
            (Holder::Record { .. }, Some(batch)) => doc! { "_id": { "$in": batch } },
            _ => doc! { "_id": SITE },
        };
        let stored: Vec<Document> = self
            .collection(count.collection())
            .find(filter)
            .projection(doc! { count.field: 1 })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        let mut wrong = Vec::new();
        let levels: Vec<Option<Visibility>> =
            if count.per_level { ALL_LEVELS.iter().copied().map(Some).collect() } else { vec![None] };
        let mut check = |holder: Option<ObjectId>, document: Option<&Document>| {
            for level in &levels {
                let was = document.and_then(|d| q::stored(d, count, *level));
                let now = counted.get(&(holder, *level)).copied().unwrap_or(0);
                // A count kept apart is 0 until its first bump makes its document.
                let unmade_zero = count.kept_in.is_some() && was.is_none() && now == 0;
                if was != Some(now) && !unmade_zero {
                    wrong.push((q::holder_key(count, holder), *level, was, now));
                }
            }
        };
        match (count.holder, batch) {
            (Holder::Site, _) | (_, None) => check(None, stored.first()),
            // Kept apart: every holder of the batch, with its document or without.
            (Holder::Record { .. }, Some(batch)) if count.kept_in.is_some() => {
                for holder in batch {
                    check(Some(*holder), stored.iter().find(|d| d.get_object_id("_id").ok() == Some(*holder)));
                }
            }
            (Holder::Record { .. }, Some(_)) => {
                for document in &stored {
                    check(document.get_object_id("_id").ok(), Some(document));
                }
            }
        }
        Ok(wrong)
    }
}

/// The site's count of videos at any of `levels`, in its counts document (`_id: "site"` of `counters`).
pub(super) fn site_videos_in(site: &Document, levels: &[Visibility]) -> u64 {
    sum_levels(site, &q::counts(RecordKind::Videos)[1], levels)
}

/// A count per level summed over `levels`.
fn sum_levels(holder: &Document, count: &Count, levels: &[Visibility]) -> u64 {
    levels.iter().map(|level| q::stored(holder, count, Some(*level)).unwrap_or(0).max(0) as u64).sum()
}

/// Whether an unordered `insertMany` failed only on documents that already existed.
fn only_duplicates(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        mongodb::error::ErrorKind::InsertMany(failure) => {
            failure.write_concern_error.is_none()
                && failure.write_errors.as_ref().is_some_and(|errors| errors.iter().all(|w| w.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}
