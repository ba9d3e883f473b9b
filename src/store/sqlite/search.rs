//! SQLite search (docs/api.md §3.16, D22): FTS5 indexes of listed videos (`video_search`) and of
//! channels (`user_search`), kept by the triggers of migration 0016. A query's words become an
//! FTS5 expression of quoted strings only (`"word"`, the last `"word"*`), so nothing typed is read
//! as FTS5 syntax; the score is `domain::search::video_score` written as SQL, one indexed lookup
//! per word and field.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::SqliteStore;
use super::rows::{LatestVideoRow, OwnerRow, VideoRow, videos_from};
use super::sql::{LATEST_VIDEO, OWNER_OF_VIDEO, VIDEO_COLUMNS, owner_columns, page_clause, visible_sql};
use crate::domain::Id;
use crate::domain::search::{
    CANDIDATES, DurationFilter, FULL_NAME_WEIGHT, OTHER_WEIGHT, Relation, SearchSort, SearchText, SearchedChannel,
    SearchedVideo, SuggestionSource, TAG_WEIGHT, TITLE_WEIGHT, USERNAME_WEIGHT, VideoSearchQuery,
};
use crate::domain::social::ChannelCard;
use crate::domain::video::Video;
use crate::domain::visibility::Place;
use crate::store::{SearchRepo, StoreResult};

/// One FTS5 string: `"…"` with quotes doubled (the words are letters and digits, tags may be anything).
fn phrase(text: &str, prefix: bool) -> String {
    format!("\"{}\"{}", text.replace('"', "\"\""), if prefix { "*" } else { "" })
}

/// Every word of `text` (the last as a prefix), in any of `columns` (all when empty).
fn all_words(text: &SearchText, columns: &str) -> String {
    let words: Vec<String> = text.terms().map(|(word, prefix)| phrase(word, prefix)).collect();
    if columns.is_empty() { words.join(" ") } else { format!("{{{columns}}} : ({})", words.join(" ")) }
}

/// The score of the hit `h.k` for `text` in `table`: per word the weight of the best of `fields`
/// (column, weight) it matches, else `otherwise`. Appends the binds, numbering from `binds.len()`.
fn score_sql(table: &str, text: &SearchText, fields: &[(&str, u32)], otherwise: u32, binds: &mut Vec<Value>) -> String {
    let terms: Vec<String> = text
        .terms()
        .map(|(word, prefix)| {
            let cases: String = fields
                .iter()
                .map(|(column, weight)| {
                    binds.push(Value::Text(format!("{column} : {}", phrase(word, prefix))));
                    format!(
                        " WHEN h.k IN (SELECT rowid FROM {table} WHERE {table} MATCH ?{}) THEN {weight}",
                        binds.len()
                    )
                })
                .collect();
            format!("CASE{cases} ELSE {otherwise} END")
        })
        .collect();
    format!("({})", terms.join(" + "))
}

/// A video search's statements: the page, then the count, which reads the first `count_binds`
/// of the binds (the match and the filters; the score's come after them).
struct VideoSearchSql {
    page: String,
    count: String,
    binds: Vec<Value>,
    count_binds: usize,
}

fn video_search_sql(query: &VideoSearchQuery) -> VideoSearchSql {
    let mut binds = vec![Value::Text(all_words(&query.text, ""))];
    let hits = "WITH hits AS MATERIALIZED (SELECT rowid AS k FROM video_search WHERE video_search MATCH ?1)";
    let mut filters = Vec::new();
    if let Some(duration) = query.duration {
        filters.push(match duration {
            DurationFilter::Short => "v.duration < 240".to_owned(),
            DurationFilter::Medium => "v.duration >= 240 AND v.duration <= 1200".to_owned(),
            DurationFilter::Long => "v.duration > 1200".to_owned(),
        });
    }
    if let Some(since) = query.since {
        binds.push(Value::Integer(since.0));
        filters.push(format!("v.created_at >= ?{}", binds.len()));
    }
    let count_binds = binds.len();
    let filter = if filters.is_empty() { String::new() } else { format!(" WHERE {}", filters.join(" AND ")) };
    let score = score_sql(
        "video_search",
        &query.text,
        &[("title", TITLE_WEIGHT), ("tags", TAG_WEIGHT)],
        OTHER_WEIGHT,
        &mut binds,
    );
    let order = match query.sort {
        SearchSort::Relevance => "score DESC, v.views DESC, v.created_at DESC, v.id DESC",
        SearchSort::Newest => "v.created_at DESC, v.id DESC",
        SearchSort::Views => "v.views DESC, v.created_at DESC, v.id DESC",
    };
    let from = "FROM hits h CROSS JOIN videos v INDEXED BY videos_search_rowid ON v.search_rowid = h.k";
    let count = format!("{hits} SELECT COUNT(*) {from}{filter}");
    let page = format!(
        "{hits} SELECT {VIDEO_COLUMNS}, {score} AS score {from} {OWNER_OF_VIDEO}{filter} ORDER BY {order} {}",
        page_clause(&format!("?{}", binds.len() + 1), &format!("?{}", binds.len() + 2))
    );
    VideoSearchSql { page, count, binds, count_binds }
}

/// Listed videos matching `?1` (an FTS5 expression), at most `CANDIDATES`, other than `?2` (or NULL).
static CANDIDATE_VIDEOS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH hits AS MATERIALIZED (SELECT rowid AS k FROM video_search WHERE video_search MATCH ?1 LIMIT {CANDIDATES}) \
         SELECT {VIDEO_COLUMNS} FROM hits h CROSS JOIN videos v INDEXED BY videos_search_rowid ON v.search_rowid = h.k \
         {OWNER_OF_VIDEO} WHERE v.id IS NOT ?2 AND {}",
        visible_sql("v", Place::Listing, None)
    )
});

/// The columns of a channel search's page: the card's user, counts and latest video, then the score.
struct ChannelRow {
    user: OwnerRow,
    subscribers_count: i64,
    latest_video_id: Option<String>,
    score: u32,
}

impl SqliteStore {
    /// The FTS rows of listed videos matching `expression`, at most `CANDIDATES`, with their videos.
    async fn candidate_videos(&self, expression: String, except: Option<Id>) -> StoreResult<Vec<VideoRow>> {
        self.reads
            .read_off_thread(move |db| {
                let mut statement = db.prepare_cached(&CANDIDATE_VIDEOS)?;
                let rows = statement.query_map((expression, except.map(Id::to_hex)), VideoRow::read)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await
    }
}

#[async_trait]
impl SearchRepo for SqliteStore {
    async fn search_videos(&self, query: &VideoSearchQuery) -> StoreResult<(Vec<SearchedVideo>, u64)> {
        let sql = video_search_sql(query);
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .reads
            .read_off_thread(move |db| {
                let mut statement = db.prepare_cached(&sql.page)?;
                let page_binds = sql.binds.iter().cloned().chain([Value::Integer(limit), Value::Integer(offset)]);
                let rows = statement
                    .query_map(rusqlite::params_from_iter(page_binds), |row| {
                        Ok((VideoRow::read(row)?, row.get::<_, u32>(VideoRow::WIDTH)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db
                    .prepare_cached(&sql.count)?
                    .query_row(rusqlite::params_from_iter(&sql.binds[..sql.count_binds]), |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        let videos = rows
            .into_iter()
            .map(|(row, score)| Ok(SearchedVideo { video: row.into_video()?, score: f64::from(score) }))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((videos, u64::try_from(total).unwrap_or(0)))
    }

    async fn search_channels(
        &self,
        text: &SearchText,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<SearchedChannel>, u64)> {
        let mut binds = vec![Value::Text(all_words(text, ""))];
        let score = score_sql("user_search", text, &[("username", USERNAME_WEIGHT)], FULL_NAME_WEIGHT, &mut binds);
        let hits = "WITH hits AS MATERIALIZED (SELECT rowid AS k FROM user_search WHERE user_search MATCH ?1)";
        let from = "FROM hits h CROSS JOIN users u INDEXED BY users_search_rowid ON u.search_rowid = h.k \
                    WHERE u.suspended_reason IS NULL";
        let page = format!(
            "{hits} SELECT {owner}, \
             COALESCE((SELECT c.subscribers FROM subscription_counts c WHERE c.user_id = u.id), 0) AS subscribers_count, \
             (SELECT v.id FROM videos v WHERE v.owner_id = u.id AND {public} \
                 ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_video_id, \
             {score} AS score {from} \
             ORDER BY score DESC, subscribers_count DESC, u.created_at DESC, u.id DESC {page}",
            owner = owner_columns!(),
            public = visible_sql("v", Place::Listing, None),
            page = page_clause(&format!("?{}", binds.len() + 1), &format!("?{}", binds.len() + 2)),
        );
        let count = format!("{hits} SELECT COUNT(*) {from}");
        let limit = i64::from(limit);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .reads
            .read_off_thread(move |db| {
                let mut statement = db.prepare_cached(&page)?;
                let page_binds = binds.iter().cloned().chain([Value::Integer(limit), Value::Integer(offset)]);
                let rows = statement
                    .query_map(rusqlite::params_from_iter(page_binds), |row| {
                        Ok(ChannelRow {
                            user: OwnerRow::read(row, 0)?,
                            subscribers_count: row.get(4)?,
                            latest_video_id: row.get(5)?,
                            score: row.get(6)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(&count)?.query_row([&binds[0]], |row| row.get(0))?;
                let mut latest = db.prepare_cached(LATEST_VIDEO)?;
                let mut cards = Vec::with_capacity(rows.len());
                for row in rows {
                    let video = match &row.latest_video_id {
                        Some(id) => latest.query_row([id], LatestVideoRow::read).optional()?,
                        None => None,
                    };
                    cards.push((row, video));
                }
                Ok((cards, total))
            })
            .await?;
        let channels = rows
            .into_iter()
            .map(|(row, video)| {
                let user = row.user.into_summary()?;
                Ok(SearchedChannel {
                    channel: ChannelCard {
                        id: user.id,
                        username: user.username,
                        full_name: user.full_name,
                        avatar: user.avatar,
                        subscribers_count: row.subscribers_count,
                        latest_video: video.map(LatestVideoRow::into_latest).transpose()?,
                    },
                    score: f64::from(row.score),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((channels, u64::try_from(total).unwrap_or(0)))
    }

    async fn suggestion_sources(&self, text: &SearchText) -> StoreResult<Vec<SuggestionSource>> {
        let rows = self.candidate_videos(all_words(text, "title tags"), None).await?;
        Ok(videos_from(rows)?
            .into_iter()
            .map(|video| SuggestionSource { title: video.title, tags: video.tags.into_vec(), views: video.views })
            .collect())
    }

    async fn related_candidates(&self, video: Id, relation: &Relation) -> StoreResult<Vec<Video>> {
        let phrases: Vec<String> =
            relation.tags.iter().chain(&relation.title_words).map(|word| phrase(word, false)).collect();
        if phrases.is_empty() {
            return Ok(Vec::new());
        }
        let expression = format!("{{title tags}} : ({})", phrases.join(" OR "));
        videos_from(self.candidate_videos(expression, Some(video)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_strings_only() {
        let text = SearchText::parse("tide \"po\" OR *").unwrap();
        assert_eq!(all_words(&text, ""), "\"tide\" \"po\" \"or\"*");
        assert_eq!(all_words(&text, "title tags"), "{title tags} : (\"tide\" \"po\" \"or\"*)");
        assert_eq!(phrase("say \"hi\"", false), "\"say \"\"hi\"\"\"");
    }
}
