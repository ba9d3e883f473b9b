//! Search and discovery (docs/api.md §3.17): videos and channels by their words, suggestions while
//! typing, and the videos related to one. Only what is listed to everyone is ever found.

use super::{ServiceError, Services};
use crate::domain::page::{Page, PageRequest};
use crate::domain::search::{
    self, Relation, SearchText, SearchedChannel, SearchedVideo, VideoSearch, VideoSearchQuery,
};
use crate::domain::video::{Video, VideoQuery, VideoSort};
use crate::domain::visibility::Place;
use crate::domain::{Id, Timestamp};

impl Services {
    /// `GET /search/videos`: a query without words (only punctuation) finds nothing.
    pub async fn search_videos(&self, search: VideoSearch) -> Result<Page<SearchedVideo>, ServiceError> {
        let Some(text) = search.text else { return Ok(Page::new(Vec::new(), 0, search.page)) };
        let query = VideoSearchQuery {
            text,
            sort: search.sort,
            duration: search.duration,
            since: search.uploaded.map(|uploaded| uploaded.since(Timestamp::now())),
            offset: search.page.offset(),
            limit: search.page.limit,
        };
        let (videos, total) = self.store.search.search_videos(&query).await?;
        Ok(Page::new(videos, total, search.page))
    }

    /// `GET /search/channels`.
    pub async fn search_channels(
        &self,
        text: Option<SearchText>,
        page: PageRequest,
    ) -> Result<Page<SearchedChannel>, ServiceError> {
        let Some(text) = text else { return Ok(Page::new(Vec::new(), 0, page)) };
        let (channels, total) = self.store.search.search_channels(&text, page.offset(), page.limit).await?;
        Ok(Page::new(channels, total, page))
    }

    /// `GET /search/suggest`: titles and tags starting with `q` (or with a word that does).
    pub async fn suggest(&self, q: &str) -> Result<Vec<String>, ServiceError> {
        let Some(text) = SearchText::parse(q) else { return Ok(Vec::new()) };
        let sources = self.store.search.suggestion_sources(&text).await?;
        Ok(search::suggestions(q, &sources))
    }

    /// `GET /videos/:videoId/related`: listed videos sharing tags or title words with the video,
    /// most related first, then its channel's newest; never the video itself, no duplicates.
    pub async fn related_videos(&self, id: Id, viewer: Option<Id>, limit: u32) -> Result<Vec<Video>, ServiceError> {
        let record = self.visible_video(id, viewer).await?;
        let relation = Relation::of(&record.video.title, record.video.tags.as_slice());
        let mut scored: Vec<(u32, Video)> = Vec::new();
        if !relation.is_empty() {
            for video in self.store.search.related_candidates(id, &relation).await? {
                let score = relation.score(video.tags.as_slice(), &video.title);
                if score > 0 {
                    scored.push((score, video));
                }
            }
        }
        scored.sort_by(|(a, x), (b, y)| {
            b.cmp(a).then(y.views.cmp(&x.views)).then(y.created_at.0.cmp(&x.created_at.0)).then(y.id.cmp(&x.id))
        });
        let mut related: Vec<Video> = scored.into_iter().map(|(_, video)| video).take(limit as usize).collect();
        let wanted = limit as usize - related.len();
        if wanted > 0 {
            let newest = VideoQuery {
                search: None,
                owner: Some(record.video.owner_id()),
                levels: Place::Listing.levels(false),
                sort: VideoSort::CreatedAt,
                descending: true,
                offset: 0,
                // Enough to fill the rest after skipping the video itself and those already in.
                limit: limit + 1 + related.len() as u32,
            };
            let (channel, _) = self.store.videos.list(&newest).await?;
            let fill: Vec<Video> = channel
                .into_iter()
                .filter(|video| video.id != id && !related.iter().any(|r| r.id == video.id))
                .take(wanted)
                .collect();
            related.extend(fill);
        }
        Ok(related)
    }
}
