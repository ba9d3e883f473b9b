//! An exact read-through cache of feed pages and video searches in front of any store. Every write
//! that can change one (videos, views, owner profiles) bumps a generation after it commits; a cached
//! page is served only while its generation is current, so no response is ever staler than a
//! completed write.
//! Meant for single-process stores (SQLite); several API instances sharing one database would need a
//! shared generation, so `Store::with_feed_cache` is applied only to the embedded store.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{
    NewVideo, ProcessedVideo, ProcessingRepo, ProfileUpdate, SearchRepo, StoreResult, UserRepo, VideoRepo, VideoUpdate,
    Watch, WatchFacts,
};
use crate::domain::search::{Relation, SearchText, SearchedChannel, SearchedVideo, SuggestionSource, VideoSearchQuery};
use crate::domain::trending::TrendingVideo;
use crate::domain::user::{ChannelCounts, Role, RoleChange, Standing, UserAccount};
use crate::domain::video::{Video, VideoQuery, VideoRecord};
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};

/// Pages kept at most per kind; a kind's pages are emptied when they fill (feeds and searches
/// repeat a few popular queries).
const CAPACITY: usize = 1024;

/// Cached pages of one kind, each under the generation it was read at.
struct Pages<K, V> {
    pages: Mutex<HashMap<K, (u64, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Default for Pages<K, V> {
    fn default() -> Self {
        Pages { pages: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V> Pages<K, V> {
    fn get(&self, key: &K, generation: u64) -> Option<Arc<V>> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages.get(key).filter(|(g, _)| *g == generation).map(|(_, page)| page.clone())
    }

    fn put(&self, key: K, generation: u64, page: Arc<V>) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= CAPACITY {
            pages.clear();
        }
        pages.insert(key, (generation, page));
    }
}

#[derive(Default)]
pub struct FeedCache {
    generation: AtomicU64,
    feed: Pages<VideoQuery, (Vec<Video>, u64)>,
    searches: Pages<VideoSearchQuery, (Vec<SearchedVideo>, u64)>,
}

impl FeedCache {
    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The page of `key` in `pages`, from the cache while no write has completed since it was
    /// read, else from `read` (and kept).
    async fn read_through<K: Eq + Hash + Clone, V: Clone>(
        &self,
        pages: &Pages<K, V>,
        key: &K,
        read: impl Future<Output = StoreResult<V>>,
    ) -> StoreResult<V> {
        // Read the generation first: a write that lands while the query runs makes this entry stale.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(page) = pages.get(key, generation) {
            return Ok(V::clone(&page));
        }
        let page = read.await?;
        pages.put(key.clone(), generation, Arc::new(page.clone()));
        Ok(page)
    }
}

/// Runs a write and, when it succeeded, invalidates the cached pages.
async fn writing<T>(cache: &FeedCache, write: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let result = write.await;
    if result.is_ok() {
        cache.invalidate();
    }
    result
}

/// Processing writes change what feed pages show (status, progress, files, dimensions).
pub struct CachedProcessing {
    pub inner: Arc<dyn ProcessingRepo>,
    pub cache: Arc<FeedCache>,
}

#[async_trait]
impl ProcessingRepo for CachedProcessing {
    async fn claim(&self, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<Option<VideoRecord>> {
        writing(&self.cache, self.inner.claim(holder, now, until)).await
    }

    async fn renew(&self, video: Id, holder: &str, progress: u8, until: Timestamp) -> StoreResult<bool> {
        writing(&self.cache, self.inner.renew(video, holder, progress, until)).await
    }

    async fn finish(&self, video: Id, holder: &str, done: &ProcessedVideo) -> StoreResult<Option<VideoRecord>> {
        writing(&self.cache, self.inner.finish(video, holder, done)).await
    }

    async fn fail(&self, video: Id, holder: &str, error: &str) -> StoreResult<bool> {
        writing(&self.cache, self.inner.fail(video, holder, error)).await
    }

    async fn release(&self, video: Id, holder: &str) -> StoreResult<bool> {
        writing(&self.cache, self.inner.release(video, holder)).await
    }
}

pub struct CachedVideos {
    pub inner: Arc<dyn VideoRepo>,
    pub cache: Arc<FeedCache>,
}

#[async_trait]
impl VideoRepo for CachedVideos {
    async fn insert(&self, video: NewVideo) -> StoreResult<VideoRecord> {
        writing(&self.cache, self.inner.insert(video)).await
    }

    async fn get(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        self.inner.get(id).await
    }

    async fn watch_page(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<(VideoRecord, WatchFacts)>> {
        self.inner.watch_page(id, viewer).await
    }

    async fn list(&self, query: &VideoQuery) -> StoreResult<(Vec<Video>, u64)> {
        self.cache.read_through(&self.cache.feed, query, self.inner.list(query)).await
    }

    async fn update(&self, id: Id, update: VideoUpdate) -> StoreResult<Option<VideoRecord>> {
        writing(&self.cache, self.inner.update(id, update)).await
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        writing(&self.cache, self.inner.set_removal(id, reason, owner_suspended)).await
    }

    async fn set_visibility(&self, id: Id, visibility: Visibility) -> StoreResult<Option<VideoRecord>> {
        writing(&self.cache, self.inner.set_visibility(id, visibility)).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        writing(&self.cache, self.inner.delete(id)).await
    }

    async fn record_watch(&self, watch: Watch) -> StoreResult<Option<i64>> {
        if watch.counted {
            writing(&self.cache, self.inner.record_watch(watch)).await
        } else {
            self.inner.record_watch(watch).await
        }
    }

    async fn trending(&self, first_hour: i64, offset: u64, limit: u32) -> StoreResult<(Vec<TrendingVideo>, u64)> {
        self.inner.trending(first_hour, offset, limit).await
    }

    async fn prune_view_hours(&self, first_kept_hour: i64) -> StoreResult<u64> {
        self.inner.prune_view_hours(first_kept_hour).await
    }

    async fn visible_by_ids(&self, ids: &[Id], viewer: Option<Id>) -> StoreResult<Vec<Video>> {
        self.inner.visible_by_ids(ids, viewer).await
    }
}

/// Users, invalidating on profile changes (feed pages embed the owner's name and avatar).
pub struct CachedUsers {
    pub inner: Arc<dyn UserRepo>,
    pub cache: Arc<FeedCache>,
}

#[async_trait]
impl UserRepo for CachedUsers {
    async fn create(&self, user: super::NewUser) -> StoreResult<UserAccount> {
        self.inner.create(user).await
    }

    async fn by_id(&self, id: Id) -> StoreResult<Option<UserAccount>> {
        self.inner.by_id(id).await
    }

    async fn identity(&self, id: Id) -> StoreResult<Option<Standing>> {
        self.inner.identity(id).await
    }

    async fn by_username(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        self.inner.by_username(username).await
    }

    async fn by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        self.inner.by_email(email).await
    }

    async fn username_or_email_taken(&self, username: &str, email: &str) -> StoreResult<bool> {
        self.inner.username_or_email_taken(username, email).await
    }

    async fn update_profile(&self, id: Id, update: ProfileUpdate) -> StoreResult<Option<(UserAccount, UserAccount)>> {
        writing(&self.cache, self.inner.update_profile(id, update)).await
    }

    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()> {
        self.inner.set_password_hash(id, hash).await
    }

    async fn set_role(&self, id: Id, role: Role) -> StoreResult<Option<RoleChange>> {
        self.inner.set_role(id, role).await
    }

    async fn set_suspension(&self, id: Id, reason: Option<String>) -> StoreResult<bool> {
        writing(&self.cache, self.inner.set_suspension(id, reason)).await
    }

    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts> {
        self.inner.channel_counts(channel, viewer).await
    }

    async fn channel(&self, username: &str, viewer: Option<Id>) -> StoreResult<Option<(UserAccount, ChannelCounts)>> {
        self.inner.channel(username, viewer).await
    }

    async fn delete_account(&self, id: Id) -> StoreResult<Vec<String>> {
        // Invalidated even after a failure: videos deleted before it are gone from the feed.
        let result = self.inner.delete_account(id).await;
        self.cache.invalidate();
        result
    }
}

/// Video searches, cached as feed pages are: they read the same records (videos, views, owners'
/// names) through the same writes. One with an upload filter is not: its bound moves with the clock.
pub struct CachedSearch {
    pub inner: Arc<dyn SearchRepo>,
    pub cache: Arc<FeedCache>,
}

#[async_trait]
impl SearchRepo for CachedSearch {
    async fn search_videos(&self, query: &VideoSearchQuery) -> StoreResult<(Vec<SearchedVideo>, u64)> {
        if query.since.is_some() {
            return self.inner.search_videos(query).await;
        }
        self.cache.read_through(&self.cache.searches, query, self.inner.search_videos(query)).await
    }

    async fn search_channels(
        &self,
        text: &SearchText,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<SearchedChannel>, u64)> {
        self.inner.search_channels(text, offset, limit).await
    }

    async fn suggestion_sources(&self, text: &SearchText) -> StoreResult<Vec<SuggestionSource>> {
        self.inner.suggestion_sources(text).await
    }

    async fn related_candidates(&self, video: Id, relation: &Relation) -> StoreResult<Vec<Video>> {
        self.inner.related_candidates(video, relation).await
    }
}
