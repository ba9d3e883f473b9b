//! MongoDB persistence of videos: the feed, single reads, updates, deletion, counted views with the
//! hourly records trending reads, and lists of videos by id.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, RawDocumentBuf, doc};
use futures_util::TryStreamExt;
use mongodb::options::{Hint, ReturnDocument};

use super::docs::{TrendingDoc, VideoDoc};
use super::ephemeral::CREATE_ATTEMPTS;
use super::queries::by_id;
use super::queries::{self, counters, history as hq, videos as q};
use super::{MongoStore, backend, coll, conflict_on, date, is_conflict, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::social::LikeTarget;
use crate::domain::trending::{TrendingVideo, view_hour};
use crate::domain::video::{Video, VideoQuery, VideoRecord};
use crate::domain::visibility::{ALL_LEVELS, Visibility};
use crate::store::records::RecordKind;
use crate::store::{LikeRepo, NewVideo, StoreError, StoreResult, UserRepo, VideoRepo, VideoUpdate, Watch, WatchFacts};

impl MongoStore {
    /// Counts a view in the video's record for `hour`: incremented when it exists, else inserted;
    /// a concurrent first view that loses the insert counts in the winner's record.
    async fn record_view_hour(&self, video: ObjectId, hour: i64) -> StoreResult<()> {
        let hours = self.collection(coll::VIEW_HOURS);
        let (filter, update) = q::count_in_hour(video, hour);
        for _ in 0..CREATE_ATTEMPTS {
            let counted =
                retry_transient(|| hours.update_one(filter.clone(), update.clone())).await.map_err(backend)?;
            if counted.matched_count == 1 {
                return Ok(());
            }
            let first = q::new_view_hour(video, hour, 1);
            match retry_transient(|| hours.insert_one(first.clone())).await.map_err(conflict_on("_id")) {
                Ok(_) => return Ok(()),
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::backend("the hourly view record could not be created"))
    }

    pub(super) async fn videos(&self, pipeline: Vec<Document>) -> StoreResult<Vec<VideoDoc>> {
        self.aggregate_as(coll::VIDEOS, pipeline).await
    }

    /// The videos a feed pipeline (`q::feed_page`, read through `hint`) returns, decoded straight from
    /// the driver's raw documents (a video's search words are skipped, never built into a
    /// `Document`), and the site's counts document when the pipeline ends with `q::with_site_counts`.
    async fn feed_page(
        &self,
        pipeline: Vec<Document>,
        hint: Option<&str>,
    ) -> StoreResult<(Vec<Video>, Option<Document>)> {
        let videos = self.collection(coll::VIDEOS);
        let aggregate = videos.aggregate(pipeline).with_type::<RawDocumentBuf>();
        let cursor = match hint {
            Some(index) => aggregate.hint(Hint::Name(index.to_owned())).await,
            None => aggregate.await,
        }
        .map_err(backend)?;
        let found: Vec<RawDocumentBuf> = cursor.try_collect().await.map_err(backend)?;
        let (mut page, mut site) = (Vec::with_capacity(found.len()), None);
        for raw in found {
            if raw.get_str("_id").is_ok_and(|id| id == counters::SITE) {
                site = Some(Document::try_from(raw.as_ref()).map_err(shape)?);
            } else {
                page.push(bson::deserialize_from_slice::<VideoDoc>(raw.as_bytes()).map_err(shape)?.into_video());
            }
        }
        Ok((page, site))
    }

    pub(super) async fn video_record(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        let found = self.videos(q::with_owner(by_id(oid(id)))).await?;
        Ok(found.into_iter().next().map(VideoDoc::into_record))
    }
}

fn shape(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::context("unexpected document shape in database", e)
}

/// Keeps the order of `ids`, dropping those not found.
pub(super) fn in_order(ids: &[ObjectId], found: Vec<VideoDoc>) -> Vec<Video> {
    let mut found: Vec<Option<VideoDoc>> = found.into_iter().map(Some).collect();
    ids.iter()
        .filter_map(|id| found.iter_mut().find(|v| v.as_ref().is_some_and(|v| v.id == *id))?.take())
        .map(VideoDoc::into_video)
        .collect()
}

#[async_trait]
impl VideoRepo for MongoStore {
    async fn insert(&self, video: NewVideo) -> StoreResult<VideoRecord> {
        let id = Id::generate();
        let owner_words = self.owner_words(oid(video.owner)).await?;
        let document = q::new_video(oid(id), oid(video.owner), &video, now(), &owner_words);
        let videos = self.collection(coll::VIDEOS);
        retry_transient(|| videos.insert_one(document.clone())).await.map_err(backend)?;
        self.apply(counters::bumps_of(RecordKind::Videos, &document, Some(video.visibility), 1)).await?;
        self.video_record(id).await?.ok_or_else(|| StoreError::backend("video vanished after insert"))
    }

    async fn watch_page(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<(VideoRecord, WatchFacts)>> {
        let target = LikeTarget::Video(id);
        let viewer_liked = async {
            match viewer {
                Some(user) => LikeRepo::is_liked(self, user, target).await,
                None => Ok(false),
            }
        };
        let (record, likes, viewer_liked) =
            tokio::try_join!(self.video_record(id), LikeRepo::count(self, target), viewer_liked)?;
        let Some(record) = record else { return Ok(None) };
        let channel = UserRepo::channel_counts(self, record.video.owner_id(), viewer).await?;
        Ok(Some((record, WatchFacts { channel, likes, viewer_liked })))
    }

    async fn get(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        self.video_record(id).await
    }

    async fn list(&self, query: &VideoQuery) -> StoreResult<(Vec<Video>, u64)> {
        // A channel's listing by date first reads its count (its total) and the site's, to choose
        // between walking `_id` and sorting the channel's videos (`queries::read_for`, D26): one more
        // round trip.
        if q::walks_by_date(query)
            && let Some(owner) = query.owner
        {
            let (matches, stored) =
                tokio::try_join!(self.user_videos(oid(owner), query.levels), self.site_videos(ALL_LEVELS))?;
            let wanted = query.offset.saturating_add(u64::from(query.limit));
            let read = queries::read_for(wanted, matches, stored);
            let (page, _) = self.feed_page(q::feed_page(query, read), q::feed_index(query, read)).await?;
            return Ok((page, matches));
        }
        // No choice to make here (`walks_by_date`): the read is the list's own.
        let read = queries::Read::Sort;
        let (page, index) = (q::feed_page(query, read), q::feed_index(query, read));
        // The site's listings read their total, the site's stored count, in the page's aggregate.
        if query.owner.is_none() && query.search.is_none() {
            let (page, site) = self.feed_page(q::with_site_counts(page), index).await?;
            return Ok((page, site.map_or(0, |site| super::counters::site_videos_in(&site, query.levels))));
        }
        // Otherwise the page and the total are independent: run them concurrently, one round trip of
        // latency. The total is a stored count, but for a text search (counted over its matches,
        // which the page reads through anyway).
        let total = async {
            match (&query.search, query.owner) {
                (Some(_), _) => self.count(coll::VIDEOS, q::feed_filter(query)).await,
                (None, Some(owner)) => self.user_videos(oid(owner), query.levels).await,
                (None, None) => self.site_videos(query.levels).await,
            }
        };
        let (page, total) = tokio::try_join!(self.feed_page(page, index), total)?;
        Ok((page.0, total))
    }

    async fn update(&self, id: Id, update: VideoUpdate) -> StoreResult<Option<VideoRecord>> {
        let result = self
            .collection(coll::VIDEOS)
            .update_one(by_id(oid(id)), q::video_update(&update, now()))
            .await
            .map_err(backend)?;
        if result.matched_count == 0 {
            return Ok(None);
        }
        if update.title.is_some() || update.description.is_some() || update.tags.is_some() {
            self.refresh_video_words(by_id(oid(id))).await?;
        }
        if update.visibility.is_some() {
            self.settle_videos(by_id(oid(id))).await?;
        }
        self.video_record(id).await
    }

    async fn set_visibility(&self, id: Id, visibility: Visibility) -> StoreResult<Option<VideoRecord>> {
        self.collection(coll::VIDEOS)
            .update_one(by_id(oid(id)), q::visibility_update(visibility, now()))
            .await
            .map_err(backend)?;
        self.settle_videos(by_id(oid(id))).await?;
        self.video_record(id).await
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let removal = super::queries::moderation::removal(reason.as_deref(), owner_suspended);
        let result = self.collection(coll::VIDEOS).update_one(by_id(oid(id)), removal).await.map_err(backend)?;
        self.settle_videos(by_id(oid(id))).await?;
        Ok(result.matched_count > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        Ok(self.delete_cascade(RecordKind::Videos, vec![oid(id)]).await? > 0)
    }

    async fn record_watch(&self, watch: Watch) -> StoreResult<Option<i64>> {
        let id = oid(watch.video);
        let videos = self.collection(coll::VIDEOS);
        let (exists, views) = if watch.counted {
            let after = retry_transient(|| {
                videos
                    .find_one_and_update(by_id(id), q::add_view())
                    .projection(doc! { "views": 1 })
                    .return_document(ReturnDocument::After)
            })
            .await
            .map_err(backend)?;
            let Some(after) = after else { return Ok(None) };
            // Not atomic with the count (no transactions, D6): a failure here is reported, the view stays counted.
            self.record_view_hour(id, view_hour(watch.at)).await?;
            (true, Some(after.get_i64("views").or_else(|_| after.get_i32("views").map(i64::from)).unwrap_or(0)))
        } else {
            (self.count(coll::VIDEOS, by_id(id)).await? > 0, None)
        };
        // A video deleted meanwhile enters no history, as on SQLite where both happen in one transaction.
        if let Some(entry) = watch.history.filter(|_| exists) {
            let users = self.collection(coll::USERS);
            let update = hq::record_watch(id, date(watch.at), entry.max);
            retry_transient(|| users.update_one(by_id(oid(entry.user)), update.clone())).await.map_err(backend)?;
        }
        Ok(views)
    }

    async fn trending(&self, first_hour: i64, offset: u64, limit: u32) -> StoreResult<(Vec<TrendingVideo>, u64)> {
        #[derive(serde::Deserialize)]
        struct Counted {
            n: i64,
        }
        let (page, counted) = tokio::try_join!(
            self.aggregate_as::<TrendingDoc>(coll::VIEW_HOURS, q::trending_page(first_hour, offset, limit)),
            self.aggregate_as::<Counted>(coll::VIEW_HOURS, q::trending_count(first_hour)),
        )?;
        let videos = page
            .into_iter()
            .map(|doc| TrendingVideo { video: doc.video.into_video(), recent_views: doc.recent_views })
            .collect();
        Ok((videos, counted.first().map_or(0, |c| c.n.max(0) as u64)))
    }

    async fn prune_view_hours(&self, first_kept_hour: i64) -> StoreResult<u64> {
        let pruned = self
            .collection(coll::VIEW_HOURS)
            .delete_many(q::view_hours_before(first_kept_hour))
            .await
            .map_err(backend)?;
        Ok(pruned.deleted_count)
    }

    async fn visible_by_ids(&self, ids: &[Id], viewer: Option<Id>) -> StoreResult<Vec<Video>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<ObjectId> = ids.iter().copied().map(oid).collect();
        let found = self.videos(q::visible_by_ids(&ids, viewer.map(oid))).await?;
        Ok(in_order(&ids, found))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, id_of};
    use super::*;
    use bson::DateTime;

    fn video(id: u8) -> VideoDoc {
        let owner = doc! { "_id": ObjectId::from_bytes([9; 12]), "username": "o", "fullName": "O", "avatar": "a" };
        decode(doc! {
            "_id": ObjectId::from_bytes([id; 12]), "videoFile": "v", "thumbnail": "t", "title": "T",
            "description": "D", "duration": 1.0, "views": 0, "isPublished": true, "owner": owner,
            "createdAt": DateTime::from_millis(1), "updatedAt": DateTime::from_millis(1),
        })
        .unwrap()
    }

    #[test]
    fn results_follow_the_requested_order_and_skip_missing_ids() {
        let ids: Vec<ObjectId> = [3u8, 1, 2, 7].iter().map(|n| ObjectId::from_bytes([*n; 12])).collect();
        let ordered = in_order(&ids, vec![video(1), video(2), video(3)]);
        let got: Vec<Id> = ordered.iter().map(|v| v.id).collect();
        let want: Vec<Id> = [3u8, 1, 2].iter().map(|n| id_of(ObjectId::from_bytes([*n; 12]))).collect();
        assert_eq!(got, want);
    }
}
