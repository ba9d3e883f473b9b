//! SQLite search (docs/api.md §3.16, D22): FTS5 indexes of listed videos (`video_search`) and of
//! channels (`user_search`), kept by the triggers of migration 0016. A query's words become an
//! FTS5 expression of quoted strings only (`"word"`, the last `"word"*`), so nothing typed is read
//! as FTS5 syntax; the score is `domain::search::video_score` written as SQL, one indexed lookup
//! per word and field. A video search reads its first matches on the request's thread and, when
//! they are few (`BOUNDED_MATCHES`), orders its page from them there; one statement gives the page
//! and the total.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::SqliteStore;
use super::rows::{LatestVideoRow, OwnerRow, VideoRow, videos_from};
use super::sql::{LATEST_VIDEO, OWNER_OF_VIDEO, VIDEO_COLUMNS, owner_columns, page_clause, visible_sql};
use crate::domain::Id;
use crate::domain::search::{
    CANDIDATES, DurationFilter, FULL_NAME_WEIGHT, OTHER_WEIGHT, Ranked, Relation, SearchSort, SearchText,
    SearchedChannel, SearchedVideo, SuggestionSource, TAG_WEIGHT, TITLE_WEIGHT, USERNAME_WEIGHT, VideoSearchQuery,
    distinct_words, video_score, words,
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

/// A video search matching at most this many videos is read on the request's thread (access.rs)
/// and ordered in Rust: its matches are read first, up to one more than this, with what their
/// order needs (`FirstMatch`), then the page's rows. A search matching more is read again on the
/// blocking pool, scored and ordered by its statement.
const BOUNDED_MATCHES: usize = 100;

/// What the order of a search reads of one of its first matches, and whether the filters keep it.
struct FirstMatch {
    rowid: i64,
    id: String,
    title: String,
    tags: String,
    views: i64,
    created_at: i64,
    kept: bool,
}

/// The first `BOUNDED_MATCHES + 1` matches of `?1` (an FTS5 expression) with what their order
/// needs, and whether `query`'s filters keep each (its upload bound as `?2`).
fn first_matches_sql(query: &VideoSearchQuery) -> String {
    let kept = filter_condition(query, "v", query.since.map(|_| 2)).unwrap_or_else(|| "1".to_owned());
    format!(
        "WITH hits AS MATERIALIZED (SELECT rowid AS k FROM video_search WHERE video_search MATCH ?1 LIMIT {}) \
         SELECT v.rowid, v.id, v.title, v.tags, v.views, v.created_at, {kept} \
         FROM hits h CROSS JOIN videos v INDEXED BY videos_search_rowid ON v.search_rowid = h.k",
        BOUNDED_MATCHES + 1
    )
}

/// The rows of the videos whose rowids are in `?1` (a JSON array), their rowid after them.
static VIDEOS_BY_ROWID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {VIDEO_COLUMNS}, v.rowid FROM videos v {OWNER_OF_VIDEO} \
         WHERE v.rowid IN (SELECT value FROM json_each(?1))"
    )
});

/// The words of a match's title and of its stored tags (a JSON array), as the score compares them.
fn score_of(text: &SearchText, title: &str, tags: &str) -> rusqlite::Result<u32> {
    let tags: Vec<String> = serde_json::from_str(tags)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e)))?;
    Ok(video_score(text, &words(title), &distinct_words(tags.iter().map(String::as_str))))
}

/// A bounded search's page, ordered in Rust from its first matches; `None` when it matches more
/// than `BOUNDED_MATCHES`. One read transaction: a video unlisted in between is not shown.
fn read_bounded_search(
    db: &rusqlite::Connection,
    query: &VideoSearchQuery,
    expression: &str,
) -> rusqlite::Result<Option<VideoSearchPage>> {
    let transaction = db.unchecked_transaction()?;
    let mut binds = vec![Value::Text(expression.to_owned())];
    binds.extend(query.since.map(|since| Value::Integer(since.0)));
    let matches = transaction
        .prepare_cached(&first_matches_sql(query))?
        .query_map(rusqlite::params_from_iter(&binds), |row| {
            Ok(FirstMatch {
                rowid: row.get(0)?,
                id: row.get(1)?,
                title: row.get(2)?,
                tags: row.get(3)?,
                views: row.get(4)?,
                created_at: row.get(5)?,
                kept: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if matches.len() > BOUNDED_MATCHES {
        return Ok(None);
    }
    let mut ranked = Vec::with_capacity(matches.len());
    for found in matches.iter().filter(|found| found.kept) {
        ranked.push((score_of(&query.text, &found.title, &found.tags)?, found));
    }
    fn rank<'a>(&(score, found): &(u32, &'a FirstMatch)) -> Ranked<'a> {
        Ranked { score, views: found.views, created_at: found.created_at, id: &found.id }
    }
    ranked.sort_by(|a, b| query.sort.order(&rank(a), &rank(b)));
    let total = ranked.len() as i64;
    let offset = usize::try_from(query.offset).unwrap_or(usize::MAX).min(ranked.len());
    let page = &ranked[offset..(offset + query.limit as usize).min(ranked.len())];
    if page.is_empty() {
        return Ok(Some((Vec::new(), total)));
    }
    let rowids = format!("[{}]", page.iter().map(|(_, found)| found.rowid.to_string()).collect::<Vec<_>>().join(","));
    let mut rows: HashMap<i64, VideoRow> = transaction
        .prepare_cached(&VIDEOS_BY_ROWID)?
        .query_map([rowids], |row| Ok((row.get(VideoRow::WIDTH)?, VideoRow::read(row)?)))?
        .collect::<rusqlite::Result<_>>()?;
    transaction.commit()?;
    // Every match is a listed video of this transaction, so each has its row.
    let videos = page.iter().filter_map(|&(score, found)| Some((rows.remove(&found.rowid)?, score))).collect();
    Ok(Some((videos, total)))
}

/// A video search's statements: the page, each row with the score and the total, and the count
/// alone (for an empty page: past the last, or every match filtered out), which reads the first
/// `count_binds` of the binds (the match and the filters; the score's come after them).
struct VideoSearchSql {
    page: String,
    count: String,
    binds: Vec<Value>,
    count_binds: usize,
}

/// `query`'s duration and upload filters on the video `alias` as one condition, the upload time
/// bound as `?{since}`; `None` without filters.
fn filter_condition(query: &VideoSearchQuery, alias: &str, since: Option<usize>) -> Option<String> {
    let mut filters = Vec::new();
    if let Some(duration) = query.duration {
        filters.push(match duration {
            DurationFilter::Short => format!("{alias}.duration < 240"),
            DurationFilter::Medium => format!("{alias}.duration >= 240 AND {alias}.duration <= 1200"),
            DurationFilter::Long => format!("{alias}.duration > 1200"),
        });
    }
    if let Some(since) = since {
        filters.push(format!("{alias}.created_at >= ?{since}"));
    }
    (!filters.is_empty()).then(|| filters.join(" AND "))
}

/// `filter_condition` as a `WHERE` clause (empty without filters).
fn filter_sql(query: &VideoSearchQuery, alias: &str, since: Option<usize>) -> String {
    filter_condition(query, alias, since).map_or_else(String::new, |condition| format!(" WHERE {condition}"))
}

/// The statements of a search matching more than `BOUNDED_MATCHES`: the matches read by the
/// page's statement (materialised once, counted from there), scored in SQL.
fn video_search_sql(query: &VideoSearchQuery, expression: String) -> VideoSearchSql {
    let mut binds = vec![Value::Text(expression)];
    let hits = "WITH hits AS MATERIALIZED (SELECT rowid AS k FROM video_search WHERE video_search MATCH ?1)";
    let since = query.since.map(|since| {
        binds.push(Value::Integer(since.0));
        binds.len()
    });
    let count_binds = binds.len();
    let filter = filter_sql(query, "v", since);
    let total = format!(
        "(SELECT COUNT(*) FROM hits ch CROSS JOIN videos c INDEXED BY videos_search_rowid ON c.search_rowid = ch.k{})",
        filter_sql(query, "c", since)
    );
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
        "{hits} SELECT {VIDEO_COLUMNS}, {score} AS score, {total} AS total {from} {OWNER_OF_VIDEO}{filter} \
         ORDER BY {order} {}",
        page_clause(&format!("?{}", binds.len() + 1), &format!("?{}", binds.len() + 2))
    );
    VideoSearchSql { page, count, binds, count_binds }
}

/// A page of a video search with its scores, and the total.
type VideoSearchPage = (Vec<(VideoRow, u32)>, i64);

/// Reads the page of `sql`, and its total from its rows (from the count when there are none).
fn read_video_search(
    db: &rusqlite::Connection,
    sql: &VideoSearchSql,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<VideoSearchPage> {
    let mut statement = db.prepare_cached(&sql.page)?;
    let bounds = [Value::Integer(limit), Value::Integer(offset)];
    let page_binds = sql.binds.iter().chain(&bounds);
    let mut total = 0;
    let rows = statement
        .query_map(rusqlite::params_from_iter(page_binds), |row| {
            total = row.get(VideoRow::WIDTH + 1)?;
            Ok((VideoRow::read(row)?, row.get::<_, u32>(VideoRow::WIDTH)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if rows.is_empty() {
        total = db
            .prepare_cached(&sql.count)?
            .query_row(rusqlite::params_from_iter(&sql.binds[..sql.count_binds]), |row| row.get(0))?;
    }
    Ok((rows, total))
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
        let expression = all_words(&query.text, "");
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let bounded = self.reads.read(|db| read_bounded_search(db, query, &expression))?;
        let (rows, total) = match bounded {
            Some(page) => page,
            None => {
                let sql = video_search_sql(query, expression);
                self.reads.read_off_thread(move |db| read_video_search(db, &sql, limit, offset)).await?
            }
        };
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

    /// Video `n` of `past_the_bound_is_read_in_full`: "kelp" in its title, tags or description.
    const KELP_VIDEO: &str = "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, \
         title, description, tags, duration, views, visibility, created_at, updated_at) \
         VALUES (printf('%024x', ?1 + 4096), printf('%024x', 1), 'http://t/v.mp4', 'local:videos/v.mp4', \
                 'http://t/t.jpg', 'local:images/t.jpg', CASE ?1 % 3 WHEN 0 THEN 'Kelp ' || ?1 ELSE 'Clip ' || ?1 END, \
                 CASE ?1 % 3 WHEN 2 THEN 'kelp' ELSE 'sea' END, CASE ?1 % 3 WHEN 1 THEN '[\"kelp\"]' ELSE '[]' END, \
                 ?1 * 10 + 0.5, (?1 * 7919) % 1000, 'public', 1700000000000 + ?1, 1700000000000 + ?1)";

    /// More matches than `BOUNDED_MATCHES` take the other way (the blocking pool, the matches read
    /// by the page's statement); they are ranked, scored, filtered and counted the same.
    #[tokio::test]
    async fn past_the_bound_is_read_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::sqlite::test_store(&dir).await;
        let count = BOUNDED_MATCHES as i64 + 20;
        store
            .writes
            .write(move |db| {
                db.execute(
                    "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, \
                     updated_at) VALUES (printf('%024x', 1), 'ana', 'ana@t.test', 'Ana', 'http://t/a.png', \
                     'local:images/a.png', 'x', 1700000000000, 1700000000000)",
                    [],
                )?;
                for n in 0..count {
                    db.execute(KELP_VIDEO, [n])?;
                }
                Ok(())
            })
            .await
            .unwrap();
        let query = |sort, duration, offset| VideoSearchQuery {
            text: SearchText::parse("kelp").unwrap(),
            sort,
            duration,
            since: None,
            offset,
            limit: 10,
        };
        // Score, views, creation, id: all descending.
        let mut expected: Vec<(u32, i64, i64)> =
            (0..count).map(|n| ([3, 2, 1][(n % 3) as usize], (n * 7919) % 1000, n)).collect();
        expected.sort_by(|a, b| b.cmp(a));
        let (page, total) = store.search_videos(&query(SearchSort::Relevance, None, 10)).await.unwrap();
        assert_eq!(total, count as u64);
        let found: Vec<(String, f64)> = page.iter().map(|v| (v.video.id.to_hex(), v.score)).collect();
        let wanted: Vec<(String, f64)> =
            expected[10..20].iter().map(|&(score, _, n)| (format!("{:024x}", n + 4096), f64::from(score))).collect();
        assert_eq!(found, wanted);

        let (page, total) = store.search_videos(&query(SearchSort::Newest, None, 0)).await.unwrap();
        assert_eq!(total, count as u64);
        assert_eq!(page[0].video.id.to_hex(), format!("{:024x}", count - 1 + 4096));
        assert_eq!(page[0].score, f64::from([3, 2, 1][((count - 1) % 3) as usize]));

        // Durations n * 10 + 0.5 s: short below 240 s, n < 24.
        let (page, total) =
            store.search_videos(&query(SearchSort::Views, Some(DurationFilter::Short), 0)).await.unwrap();
        assert_eq!((page.len(), total), (10, 24));
        let (page, total) = store.search_videos(&query(SearchSort::Relevance, None, 1_000)).await.unwrap();
        assert_eq!((page.len(), total), (0, count as u64), "past the last page, the total still counts");

        // "Clip" titles: 80 matches, within the bound.
        let clips = VideoSearchQuery { text: SearchText::parse("clip").unwrap(), ..query(SearchSort::Views, None, 0) };
        let (page, total) = store.search_videos(&clips).await.unwrap();
        let mut views: Vec<i64> = (0..count).filter(|n| n % 3 != 0).map(|n| (n * 7919) % 1000).collect();
        views.sort_by(|a, b| b.cmp(a));
        assert_eq!(page.iter().map(|v| v.video.views).collect::<Vec<_>>(), views[..10]);
        assert_eq!((total, page[0].score), (80, 3.0));
        let past = VideoSearchQuery { offset: 1_000, ..clips };
        assert_eq!(store.search_videos(&past).await.unwrap().1, 80, "past the last page, the total still counts");
    }
}
