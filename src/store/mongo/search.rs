//! MongoDB search (docs/api.md §3.16, D22): the words of each listed video and user are kept in
//! their documents (`queries::search`) by every write that changes them, and by `index_words` for
//! documents written before (or by the original API, or by `migrate`).

use std::collections::HashMap;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use futures_util::TryStreamExt;

use super::docs::{CardDoc, VideoDoc, number};
use super::queries::search as q;
use super::queries::{by_id, index, project};
use super::{MongoStore, backend, coll, decode, oid};
use crate::domain::Id;
use crate::domain::search::{
    CANDIDATES, Relation, SearchText, SearchedChannel, SearchedVideo, SuggestionSource, VideoSearchQuery,
};
use crate::domain::video::Video;
use crate::store::{SearchRepo, StoreResult};

/// What a suggestion candidate is ranked by (`q::suggestion_candidates`).
#[derive(serde::Deserialize)]
struct SuggestionDoc {
    #[serde(default)]
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "number")]
    views: i64,
}

/// The page and the total of a `$facet` search (`q::video_search`, `q::channel_search`).
fn page_and_total(found: Vec<Document>) -> StoreResult<(Vec<Document>, u64)> {
    let Some(mut result) = found.into_iter().next() else { return Ok((Vec::new(), 0)) };
    let total = match result.get_array("total").ok().and_then(|total| total.first()) {
        Some(Bson::Document(count)) => match count.get("n") {
            Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
            Some(Bson::Double(n)) => *n as u64,
            _ => 0,
        },
        _ => 0,
    };
    let page = match result.remove("page") {
        Some(Bson::Array(page)) => page
            .into_iter()
            .map(|item| match item {
                Bson::Document(document) => Ok(document),
                other => Err(crate::store::StoreError::backend(format!("a search page held {other}"))),
            })
            .collect::<StoreResult<Vec<_>>>()?,
        _ => Vec::new(),
    };
    Ok((page, total))
}

/// A document's `score`, taken out before the rest is decoded.
fn take_score(document: &mut Document) -> f64 {
    match document.remove("score") {
        Some(Bson::Int32(n)) => f64::from(n),
        Some(Bson::Int64(n)) => n as f64,
        Some(Bson::Double(n)) => n,
        _ => 0.0,
    }
}

impl MongoStore {
    /// The search words of a user's names; none when the user is gone.
    pub(super) async fn owner_words(&self, owner: ObjectId) -> StoreResult<Vec<String>> {
        let found = self
            .collection(coll::USERS)
            .find_one(by_id(owner))
            .projection(project(&["username", "fullName"]))
            .await
            .map_err(backend)?;
        Ok(found.as_ref().map_or_else(Vec::new, words_of_user))
    }

    /// After a change to some of a video's (`filter`'s) `search.*`: their unions again.
    pub(super) async fn refresh_video_words(&self, filter: Document) -> StoreResult<()> {
        self.collection(coll::VIDEOS).update_many(filter, q::refresh_video_words()).await.map_err(backend)?;
        Ok(())
    }

    /// A user's names changed: their account's and their videos' search words follow.
    pub(super) async fn reindex_user(&self, user: ObjectId, username: &str, full_name: &str) -> StoreResult<()> {
        self.collection(coll::USERS)
            .update_one(by_id(user), doc! { "$set": q::user_fields(username, full_name) })
            .await
            .map_err(backend)?;
        let words = q::owner_words(username, full_name);
        self.collection(coll::VIDEOS)
            .update_many(doc! { "owner": user }, doc! { "$set": { "search.owner": words } })
            .await
            .map_err(backend)?;
        self.refresh_video_words(doc! { "owner": user }).await
    }

    /// A video's search fields from what it holds now (after an import).
    pub(super) async fn reindex_video(&self, video: ObjectId) -> StoreResult<()> {
        let videos = self.collection(coll::VIDEOS);
        let fields = project(&["title", "tags", "description", "owner"]);
        let Some(found) = videos.find_one(by_id(video)).projection(fields).await.map_err(backend)? else {
            return Ok(());
        };
        let owner = match found.get_object_id("owner") {
            Ok(owner) => self.owner_words(owner).await?,
            Err(_) => Vec::new(),
        };
        let update = doc! { "$set": video_fields_of(&found, &owner) };
        videos.update_one(by_id(video), update).await.map_err(backend)?;
        Ok(())
    }
}

/// The owner words of a user document read with its `username` and `fullName`.
fn words_of_user(user: &Document) -> Vec<String> {
    q::owner_words(user.get_str("username").unwrap_or(""), user.get_str("fullName").unwrap_or(""))
}

/// The search fields of a stored video document (title, tags, description).
fn video_fields_of(video: &Document, owner: &[String]) -> Document {
    let tags: Vec<String> = video
        .get_array("tags")
        .map(|tags| tags.iter().filter_map(Bson::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    q::video_fields(video.get_str("title").unwrap_or(""), &tags, video.get_str("description").unwrap_or(""), owner)
}

/// Gives search words to the users and videos that have none (written by the original API or
/// before search existed), once; later writes keep them.
pub async fn index_words(db: &mongodb::Database) -> StoreResult<()> {
    let users = db.collection::<Document>(coll::USERS);
    let missing = doc! { "searchWords": { "$exists": false } };
    let unindexed: Vec<Document> = users
        .find(missing.clone())
        .projection(project(&["username", "fullName"]))
        .await
        .map_err(backend)?
        .try_collect()
        .await
        .map_err(backend)?;
    for user in &unindexed {
        let Ok(id) = user.get_object_id("_id") else { continue };
        let fields = q::user_fields(user.get_str("username").unwrap_or(""), user.get_str("fullName").unwrap_or(""));
        users.update_one(by_id(id), doc! { "$set": fields }).await.map_err(backend)?;
    }
    let videos = db.collection::<Document>(coll::VIDEOS);
    let unindexed: Vec<Document> = videos
        .find(missing)
        .projection(project(&["title", "tags", "description", "owner"]))
        .await
        .map_err(backend)?
        .try_collect()
        .await
        .map_err(backend)?;
    let mut owners: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for video in &unindexed {
        let (Ok(id), Ok(owner)) = (video.get_object_id("_id"), video.get_object_id("owner")) else { continue };
        let words = match owners.entry(owner) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let found = users.find_one(by_id(owner)).projection(project(&["username", "fullName"])).await;
                slot.insert(found.map_err(backend)?.as_ref().map_or_else(Vec::new, words_of_user))
            }
        };
        let fields = video_fields_of(video, words);
        videos.update_one(by_id(id), doc! { "$set": fields }).await.map_err(backend)?;
    }
    if !unindexed.is_empty() {
        tracing::info!(videos = unindexed.len(), "search words given to videos written before search existed");
    }
    Ok(())
}

#[async_trait]
impl SearchRepo for MongoStore {
    async fn search_videos(&self, query: &VideoSearchQuery) -> StoreResult<(Vec<SearchedVideo>, u64)> {
        let found = self.aggregate_hinted(coll::VIDEOS, q::video_search(query), Some(index::VIDEO_WORDS)).await?;
        let (page, total) = page_and_total(found)?;
        let videos = page
            .into_iter()
            .map(|mut document| {
                let score = take_score(&mut document);
                Ok(SearchedVideo { video: decode::<VideoDoc>(document)?.into_video(), score })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((videos, total))
    }

    async fn search_channels(
        &self,
        text: &SearchText,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<SearchedChannel>, u64)> {
        let (page, total) = page_and_total(self.aggregate(coll::USERS, q::channel_search(text, offset, limit)).await?)?;
        let channels = page
            .into_iter()
            .map(|mut document| {
                let score = take_score(&mut document);
                Ok(SearchedChannel { channel: decode::<CardDoc>(document)?.into_card(), score })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((channels, total))
    }

    async fn suggestion_sources(&self, text: &SearchText) -> StoreResult<Vec<SuggestionSource>> {
        let pipeline = q::suggestion_candidates(text, CANDIDATES);
        let found: Vec<SuggestionDoc> =
            self.aggregate_hinted(coll::VIDEOS, pipeline, Some(index::SUGGEST_WORDS)).await?;
        Ok(found
            .into_iter()
            .map(|video| SuggestionSource { title: video.title, tags: video.tags, views: video.views })
            .collect())
    }

    async fn related_candidates(&self, video: Id, relation: &Relation) -> StoreResult<Vec<Video>> {
        let pipeline = q::candidates(q::related_filter(oid(video), relation), CANDIDATES);
        let found: Vec<VideoDoc> = self.aggregate_hinted(coll::VIDEOS, pipeline, Some(index::SUGGEST_WORDS)).await?;
        Ok(found.into_iter().map(VideoDoc::into_video).collect())
    }
}
