//! MongoDB persistence of tweets, each with its author and like facts when read.

use async_trait::async_trait;

use super::docs::PostDoc;
use super::queries::by_id;
use super::queries::tweets as q;
use super::queries::{content_update, post_removal};
use super::{MongoStore, backend, coll, id_of, now, oid};
use crate::domain::Id;
use crate::domain::social::Tweet;
use crate::store::records::RecordKind;
use crate::store::{StoreResult, TweetRef, TweetRepo};

#[async_trait]
impl TweetRepo for MongoStore {
    async fn insert(&self, owner: Id, content: &str) -> StoreResult<Id> {
        self.insert_record(coll::TWEETS, q::new_tweet(oid(owner), content)).await
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<TweetRef>> {
        let found = self.collection(coll::TWEETS).find_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(found.and_then(|t| {
            let owner = id_of(t.get_object_id("owner").ok()?);
            Some(TweetRef { id, owner, hidden: t.get_bool("hidden").unwrap_or(false) })
        }))
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let removal = post_removal(reason.as_deref(), owner_suspended);
        let result = self.collection(coll::TWEETS).update_one(by_id(oid(id)), removal).await.map_err(backend)?;
        Ok(result.matched_count > 0)
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Tweet>> {
        let found: Vec<PostDoc> = self.aggregate_as(coll::TWEETS, q::tweet(oid(id), viewer.map(oid))).await?;
        Ok(found.into_iter().next().map(PostDoc::into_tweet))
    }

    async fn by_owner(&self, owner: Id, viewer: Option<Id>) -> StoreResult<Vec<Tweet>> {
        let found: Vec<PostDoc> = self.aggregate_as(coll::TWEETS, q::tweets_of(oid(owner), viewer.map(oid))).await?;
        Ok(found.into_iter().map(PostDoc::into_tweet).collect())
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        self.update_record(coll::TWEETS, id, content_update(content, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        self.delete_one_with(RecordKind::Tweets, oid(id)).await
    }
}
