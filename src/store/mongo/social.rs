//! MongoDB persistence of likes, comments, tweets, subscriptions and playlists.

use async_trait::async_trait;
use bson::{Document, doc};
use futures_util::TryStreamExt;

use bson::oid::ObjectId;

use super::docs::{LikedVideoDoc, PlaylistDoc, PostDoc, SubscriptionDoc, VideoDoc, time};
use super::queries::by_id;
use super::queries::social as q;
use super::queries::videos as vq;
use super::{MongoStore, backend, coll, conflict_on, id_of, is_conflict, now, oid, retry_transient};
use crate::domain::social::{
    Comment, LikeTarget, LikedVideoItem, PlaylistRecord, SubscribedChannelItem, SubscriberItem, Tweet,
};
use crate::domain::video::Video;
use crate::domain::{Id, Twin};
use crate::store::{
    CommentRef, CommentRepo, LikeRepo, PlaylistRepo, StoreError, StoreResult, SubscriptionRepo, TweetRepo,
};

/// How often a toggle retries when a concurrent toggle of the same pair keeps winning.
const TOGGLE_ATTEMPTS: usize = 16;

impl MongoStore {
    /// Flips the record matching `key` (unique): deletes it if present, else inserts it. Without a
    /// transaction, the unique index arbitrates concurrent flips: a loser retries, so every call is
    /// one delete or one insert and N concurrent flips leave the parity of N. Each write is retried
    /// on its own while it fails transiently (a lost lock wrote nothing).
    async fn flip(&self, name: &str, key: Document) -> StoreResult<bool> {
        let _turn = self.toggle_turn(name, &key).await;
        let collection = self.collection(name);
        for _ in 0..TOGGLE_ATTEMPTS {
            let deleted = retry_transient(|| collection.delete_one(key.clone())).await.map_err(backend)?;
            if deleted.deleted_count > 0 {
                return Ok(false);
            }
            let record = q::record(oid(Id::generate()), key.clone(), now());
            match retry_transient(|| collection.insert_one(record.clone())).await.map_err(conflict_on("pair")) {
                Ok(_) => return Ok(true),
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::backend(format!("toggle on {name} kept losing races")))
    }

    /// Waits for this process's turn to toggle the pair `key` in `name`.
    async fn toggle_turn(&self, name: &str, key: &Document) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut hasher);
        key.to_string().hash(&mut hasher);
        let shard = (hasher.finish() % self.toggle_turns.len() as u64) as usize;
        self.toggle_turns[shard].lock().await
    }

    async fn posts(&self, name: &str, pipeline: Vec<Document>) -> StoreResult<Vec<PostDoc>> {
        self.aggregate_as(name, pipeline).await
    }

    async fn insert_record(&self, name: &str, fields: Document) -> StoreResult<Id> {
        let id = Id::generate();
        let record = q::record(oid(id), fields, now());
        let collection = self.collection(name);
        retry_transient(|| collection.insert_one(record.clone())).await.map_err(backend)?;
        Ok(id)
    }

    async fn update_record(&self, name: &str, id: Id, update: Document) -> StoreResult<bool> {
        let result = self.collection(name).update_one(by_id(oid(id)), update).await.map_err(backend)?;
        Ok(result.matched_count > 0)
    }

    /// Deletes a comment or tweet with its likes: likes first, so a retry after a crash finishes the
    /// job, and once more after, to catch a like added in between.
    async fn delete_liked(&self, name: &str, target: LikeTarget, id: Id) -> StoreResult<bool> {
        let likes = self.collection(coll::LIKES);
        likes.delete_many(q::likes_on(target)).await.map_err(backend)?;
        let deleted = self.collection(name).delete_one(by_id(oid(id))).await.map_err(backend)?;
        likes.delete_many(q::likes_on(target)).await.map_err(backend)?;
        Ok(deleted.deleted_count > 0)
    }

    async fn playlists(&self, filter: Document) -> StoreResult<Vec<PlaylistRecord>> {
        let found: Vec<PlaylistDoc> = self.aggregate_as(coll::PLAYLISTS, q::playlists(filter)).await?;
        Ok(found.into_iter().map(PlaylistDoc::into_record).collect())
    }
}

#[async_trait]
impl LikeRepo for MongoStore {
    async fn toggle(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        self.flip(coll::LIKES, q::like_of(oid(user), target)).await
    }

    async fn count(&self, target: LikeTarget) -> StoreResult<i64> {
        Ok(MongoStore::count(self, coll::LIKES, q::likes_on(target)).await? as i64)
    }

    async fn is_liked(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        Ok(MongoStore::count(self, coll::LIKES, q::like_of(oid(user), target)).await? > 0)
    }

    async fn liked_videos(&self, user: Id) -> StoreResult<Vec<LikedVideoItem>> {
        let found: Vec<LikedVideoDoc> = self.aggregate_as(coll::LIKES, q::liked_videos(oid(user))).await?;
        Ok(found
            .into_iter()
            .map(|like| LikedVideoItem {
                id: id_of(like.id),
                liked_by: user,
                video: Twin::new(like.video.into_video()),
                created_at: time(like.created_at),
                updated_at: time(like.updated_at),
            })
            .collect())
    }
}

#[async_trait]
impl CommentRepo for MongoStore {
    async fn insert(&self, video: Id, owner: Id, content: &str) -> StoreResult<Id> {
        self.insert_record(coll::COMMENTS, doc! { "content": content, "video": oid(video), "owner": oid(owner) }).await
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let found = self.collection(coll::COMMENTS).find_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(found.and_then(|c| {
            Some(CommentRef {
                id,
                video: id_of(c.get_object_id("video").ok()?),
                owner: id_of(c.get_object_id("owner").ok()?),
            })
        }))
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let pipeline = q::posts(by_id(oid(id)), "comment", viewer.map(oid), None);
        Ok(self.posts(coll::COMMENTS, pipeline).await?.into_iter().next().and_then(PostDoc::into_comment))
    }

    async fn list(&self, video: Id, viewer: Option<Id>, offset: u64, limit: u32) -> StoreResult<(Vec<Comment>, u64)> {
        let filter = doc! { "video": oid(video) };
        let pipeline = q::posts(filter.clone(), "comment", viewer.map(oid), Some((offset, limit)));
        let (page, total) =
            tokio::try_join!(self.posts(coll::COMMENTS, pipeline), MongoStore::count(self, coll::COMMENTS, filter))?;
        Ok((page.into_iter().filter_map(PostDoc::into_comment).collect(), total))
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        self.update_record(coll::COMMENTS, id, q::content_update(content, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        self.delete_liked(coll::COMMENTS, LikeTarget::Comment(id), id).await
    }
}

#[async_trait]
impl TweetRepo for MongoStore {
    async fn insert(&self, owner: Id, content: &str) -> StoreResult<Id> {
        self.insert_record(coll::TWEETS, doc! { "content": content, "owner": oid(owner) }).await
    }

    async fn owner_of(&self, id: Id) -> StoreResult<Option<Id>> {
        let found = self.collection(coll::TWEETS).find_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(found.and_then(|t| t.get_object_id("owner").ok()).map(id_of))
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Tweet>> {
        let pipeline = q::posts(by_id(oid(id)), "tweet", viewer.map(oid), None);
        Ok(self.posts(coll::TWEETS, pipeline).await?.into_iter().next().map(PostDoc::into_tweet))
    }

    async fn by_owner(&self, owner: Id, viewer: Option<Id>) -> StoreResult<Vec<Tweet>> {
        let pipeline = q::posts(doc! { "owner": oid(owner) }, "tweet", viewer.map(oid), None);
        Ok(self.posts(coll::TWEETS, pipeline).await?.into_iter().map(PostDoc::into_tweet).collect())
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        self.update_record(coll::TWEETS, id, q::content_update(content, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        self.delete_liked(coll::TWEETS, LikeTarget::Tweet(id), id).await
    }
}

#[async_trait]
impl SubscriptionRepo for MongoStore {
    async fn toggle(&self, subscriber: Id, channel: Id) -> StoreResult<bool> {
        self.flip(coll::SUBSCRIPTIONS, q::subscription_of(oid(subscriber), oid(channel))).await
    }

    async fn subscribers(&self, channel: Id) -> StoreResult<Vec<SubscriberItem>> {
        let found: Vec<SubscriptionDoc> = self.aggregate_as(coll::SUBSCRIPTIONS, q::subscribers(oid(channel))).await?;
        Ok(found.into_iter().map(SubscriptionDoc::into_subscriber).collect())
    }

    async fn subscribed_channels(&self, subscriber: Id) -> StoreResult<Vec<SubscribedChannelItem>> {
        let pipeline = q::subscribed_channels(oid(subscriber));
        let found: Vec<SubscriptionDoc> = self.aggregate_as(coll::SUBSCRIPTIONS, pipeline).await?;
        Ok(found.into_iter().map(SubscriptionDoc::into_channel).collect())
    }

    async fn subscription_feed(&self, subscriber: Id, offset: u64, limit: u32) -> StoreResult<(Vec<Video>, u64)> {
        let channels: Vec<ObjectId> = self
            .collection(coll::SUBSCRIPTIONS)
            .find(doc! { "subscriber": oid(subscriber) })
            .projection(doc! { "channel": 1, "_id": 0 })
            .await
            .map_err(StoreError::backend)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(StoreError::backend)?
            .iter()
            .filter_map(|s| s.get_object_id("channel").ok())
            .collect();
        if channels.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let (page, total) = tokio::try_join!(
            self.videos(vq::subscription_feed_page(channels.clone(), offset, limit)),
            self.count(coll::VIDEOS, vq::subscription_feed_filter(channels)),
        )?;
        Ok((page.into_iter().map(VideoDoc::into_video).collect(), total))
    }
}

#[async_trait]
impl PlaylistRepo for MongoStore {
    async fn insert(&self, owner: Id, name: &str, description: &str) -> StoreResult<Id> {
        let fields = doc! { "name": name, "description": description, "videos": [], "owner": oid(owner) };
        self.insert_record(coll::PLAYLISTS, fields).await
    }

    async fn get(&self, id: Id) -> StoreResult<Option<PlaylistRecord>> {
        Ok(self.playlists(by_id(oid(id))).await?.into_iter().next())
    }

    async fn by_owner(&self, owner: Id) -> StoreResult<Vec<PlaylistRecord>> {
        self.playlists(doc! { "owner": oid(owner) }).await
    }

    async fn update(&self, id: Id, name: Option<&str>, description: Option<&str>) -> StoreResult<bool> {
        self.update_record(coll::PLAYLISTS, id, q::playlist_update(name, description, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        let deleted = self.collection(coll::PLAYLISTS).delete_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(deleted.deleted_count > 0)
    }

    async fn add_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let (filter, update) = q::add_to_playlist(oid(id), oid(video), now());
        self.collection(coll::PLAYLISTS).update_one(filter, update).await.map_err(backend)?;
        Ok(())
    }

    async fn remove_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let (filter, update) = q::remove_from_playlist(oid(id), oid(video), now());
        self.collection(coll::PLAYLISTS).update_one(filter, update).await.map_err(backend)?;
        Ok(())
    }
}
