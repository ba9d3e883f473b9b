//! The search scenario (issue 30, docs/api.md §3.16, D22): search and suggest latency at 1M videos
//! against 10k, search throughput against the hello-world, the size of the FTS5 index and the cost
//! it adds to a video insert, all on SQLite.
//!
//! The cost of a search is proportional to the videos it matches, by design (D22: every match is
//! scored). So the store is seeded such that the benched queries match the same videos at every
//! size: `PLANTED` videos, spread over the store, carry the query's words in their titles, and all
//! other text is drawn from a vocabulary of `VOCABULARY` words spelled with the letters a–p only,
//! which never begin like a query word (`q…`, `z…`).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::mongo;
use crate::server::{self, Server};
use crate::{Row, Seeded, StoreRow, growth_row, hello_world, paired_p50, seeded};

/// Videos whose titles carry the query words, at every size.
const PLANTED: u64 = 50;
/// Distinct words of the rest of the text.
const VOCABULARY: u64 = 100_000;
const TITLE_WORDS: u64 = 6;
const DESCRIPTION_WORDS: u64 = 14;
/// The planted words (no vocabulary word starts with q or z).
const PLANTED_TITLE: &str = "Quokka zephyr";
/// The benched queries: two words, and one prefix (longer than the 2- and 3-character prefix
/// indexes, so it reads the term range of the main index).
const TWO_WORDS: &str = "/api/v1/search/videos?q=quokka%20zephyr";
const PREFIX: &str = "/api/v1/search/videos?q=zeph";
/// Suggestions for a prefix of the planted words (3 characters: the prefix index), and for a
/// 2-character prefix that about 1/256 of all title words start with (the candidates are capped at
/// 500, D22).
const SUGGEST_PLANTED: &str = "/api/v1/search/suggest?q=zep";
const SUGGEST_COMMON: &str = "/api/v1/search/suggest?q=ab";
/// Owners of the seeded videos.
const OWNERS: u64 = 10;
/// Inserts per round of the write-cost measurement, and its rounds.
const WRITES_PER_ROUND: u64 = 500;
const WRITE_ROUNDS: usize = 7;
/// Videos inserted per transaction while seeding.
const SEED_BATCH: u64 = 10_000;

/// The insert every seeded video goes through (also the one the write cost is measured with);
/// `search_rowid` is left to the trigger, as on the server's own inserts.
const INSERT_VIDEO: &str = "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
     description, duration, views, visibility, created_at, updated_at) \
     VALUES (printf('%024x', ?1 + 4096), printf('%024x', ?1 % ?2 + 1), 'http://bench/v.mp4', 'local:videos/none.mp4', \
             'http://bench/t.jpg', 'local:images/none.jpg', ?3, ?4, (?1 % 600) + 0.5, (?1 * 7919) % 100000, 'public', \
             1700000000000 + ?1, 1700000000000 + ?1)";

/// splitmix64: the words of video `n` depend on `n` only, so the 10k store is the 1M store's first
/// 10k videos.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Word `i` of the vocabulary: its five base-16 digits spelled with the letters a–p.
fn word(i: u64) -> String {
    (0..5).map(|d| char::from(b'a' + ((i >> (4 * d)) & 15) as u8)).collect()
}

/// `count` words for video `n`, stream `salt`.
fn words(n: u64, salt: u64, count: u64) -> String {
    (0..count).map(|k| word(mix(n.wrapping_mul(64) + salt * 32 + k) % VOCABULARY)).collect::<Vec<_>>().join(" ")
}

/// The title and description of video `n` of `count`: planted in `PLANTED` videos spread evenly.
fn video_text(n: u64, count: u64) -> (String, String) {
    let title = words(n, 0, TITLE_WORDS);
    let title = if n.is_multiple_of(count / PLANTED) { format!("{PLANTED_TITLE} {title}") } else { title };
    (title, words(n, 1, DESCRIPTION_WORDS))
}

/// Inserts videos `from..to` of a store of `count` through `INSERT_VIDEO`, in transactions of
/// `SEED_BATCH`.
fn insert_videos(db: &mut rusqlite::Connection, from: u64, to: u64, count: u64) -> anyhow::Result<()> {
    let mut start = from;
    while start < to {
        let end = (start + SEED_BATCH).min(to);
        let tx = db.transaction()?;
        {
            let mut insert = tx.prepare_cached(INSERT_VIDEO)?;
            for n in start..end {
                let (title, description) = video_text(n, count);
                insert.execute(rusqlite::params![n as i64, OWNERS as i64, title, description])?;
            }
        }
        tx.commit()?;
        start = end;
    }
    Ok(())
}

/// Seeds `OWNERS` owners and `count` videos into `server` through the FTS triggers; the seconds it took.
async fn seed(server: &Server, count: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut db = server.database()?;
    // No ANALYZE before the videos: statistics taken while `video_search_data` held two rows made
    // every insert through the trigger cost in proportion to the rows before it (100k videos took
    // 1169 s instead of about 20).
    db.execute(server::OWNERS_SQL, [OWNERS as i64])?;
    insert_videos(&mut db, 0, count, count)?;
    db.execute_batch("ANALYZE")?;
    server::settle(db).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A started server seeded with `count` videos, checked to answer `TWO_WORDS`; the seconds seeding took.
async fn search_store(count: u64) -> anyhow::Result<(Seeded, f64)> {
    let took = std::cell::Cell::new(0.0);
    let store = seeded(count, TWO_WORDS, None, None, async |server: Server, size| {
        eprintln!("bench: search: seeding {size} videos through the search triggers");
        took.set(seed(&server, size).await?);
        eprintln!("bench: search: seeded {size} videos in {:.0} s", took.get());
        Ok(server)
    })
    .await?;
    planted_found(&store, count).await?;
    Ok((store, took.get()))
}

/// Equal costs at both sizes need equal matches: both queries find the `PLANTED` videos.
async fn planted_found(store: &Seeded, count: u64) -> anyhow::Result<()> {
    for path in [TWO_WORDS, PREFIX] {
        let page: serde_json::Value = reqwest::get(store.url_of(path)).await?.json().await?;
        anyhow::ensure!(
            page["data"]["totalDocs"] == PLANTED
                && page["data"]["docs"].as_array().map(|d| d.len() as u64) == page["data"]["limit"].as_u64(),
            "{path} found {} videos at {count}, not {PLANTED}",
            page["data"]["totalDocs"]
        );
    }
    Ok(())
}

/// A server on the (empty) MongoDB database `uri` names, then seeded with the driver: `OWNERS`
/// owners and the same `count` videos as on SQLite (`video_text`), each with the search words
/// `new_video` stores (`search.*`, `searchWords`, `suggestWords`, D22); checked as `search_store`;
/// the seconds seeding took.
async fn mongo_search_store(uri: &str, count: u64) -> anyhow::Result<(Seeded, f64)> {
    let took = std::cell::Cell::new(0.0);
    let store = seeded(count, TWO_WORDS, None, Some(uri), async |server: Server, size| {
        eprintln!("bench: search-mongo: seeding {size} videos with the driver");
        let started = Instant::now();
        mongo::seed_owners(uri, OWNERS, size, &|n| video_text(n, size)).await?;
        took.set(started.elapsed().as_secs_f64());
        eprintln!("bench: search-mongo: seeded {size} videos in {:.0} s", took.get());
        Ok(server)
    })
    .await?;
    let page: serde_json::Value = reqwest::get(store.url_of("/api/v1/videos?limit=20")).await?.json().await?;
    anyhow::ensure!(page["data"]["totalDocs"] == count, "the seeded feed reads back {}", page["data"]["totalDocs"]);
    planted_found(&store, count).await?;
    Ok((store, took.get()))
}

/// Bytes of the FTS5 tables of videos (content copy, index) and of the videos table with its
/// indexes, read with `dbstat`.
struct Sizes {
    fts_content: u64,
    fts_index: u64,
    videos: u64,
}

fn sizes(db_path: &Path) -> anyhow::Result<Sizes> {
    let db = rusqlite::Connection::open(db_path)?;
    let bytes = |filter: &str| -> anyhow::Result<u64> {
        let sql = format!("SELECT IFNULL(SUM(pgsize), 0) FROM dbstat WHERE {filter}");
        let total: i64 = db.query_row(&sql, [], |row| row.get(0)).with_context(|| format!("dbstat: {sql}"))?;
        Ok(total as u64)
    };
    Ok(Sizes {
        fts_content: bytes("name IN ('video_search_content', 'video_search_docsize')")?,
        fts_index: bytes(
            "name IN ('video_search_data', 'video_search_idx', 'video_search_config', 'videos_search_rowid')",
        )?,
        videos: bytes(
            "name = 'videos' OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'videos' \
             AND name <> 'videos_search_rowid')",
        )?,
    })
}

/// Microseconds per insert through `INSERT_VIDEO` (each its own transaction, as a create is) with the
/// search triggers and in a copy of the same store without them: medians of interleaved rounds.
async fn write_cost(small: &Seeded) -> anyhow::Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let (with_path, without_path) = (dir.path().join("with.db"), dir.path().join("without.db"));
    {
        let db = small.database()?;
        db.execute("VACUUM INTO ?1", [with_path.to_string_lossy()])?;
    }
    std::fs::copy(&with_path, &without_path)?;
    let open = |path: &Path| -> anyhow::Result<rusqlite::Connection> {
        let db = rusqlite::Connection::open(path)?;
        // As the server's write connection.
        db.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        db.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        Ok(db)
    };
    let (mut with, mut without) = (open(&with_path)?, open(&without_path)?);
    without.execute_batch(
        "DROP TRIGGER videos_search_insert; DROP TRIGGER videos_search_update; DROP TRIGGER videos_search_delete;",
    )?;
    let (mut with_us, mut without_us) = (Vec::new(), Vec::new());
    let mut next = 10_000_000;
    for _ in 0..WRITE_ROUNDS {
        for (db, times) in [(&mut with, &mut with_us), (&mut without, &mut without_us)] {
            let texts: Vec<_> = (next..next + WRITES_PER_ROUND).map(|n| (n, video_text(n, 1_000_000))).collect();
            let mut insert = db.prepare_cached(INSERT_VIDEO)?;
            let started = Instant::now();
            for (n, (title, description)) in texts {
                insert.execute(rusqlite::params![n as i64, OWNERS as i64, title, description])?;
            }
            times.push(started.elapsed().as_secs_f64() * 1e6 / WRITES_PER_ROUND as f64);
        }
        next += WRITES_PER_ROUND;
    }
    Ok((crate::median(&mut with_us), crate::median(&mut without_us)))
}

/// The search rows: p50 of a two-word and of a prefix search at `large` videos against 10k, suggest
/// p50 at `large`, search throughput at 10k against the hello-world, the index's bytes per video and
/// the write cost it adds.
pub async fn search(secs: u64, large: u64) -> anyhow::Result<Vec<Row>> {
    let (small, _) = search_store(10_000).await?;
    let (big, seed_secs) = search_store(large).await?;
    let two_words = paired_p50(&small.url_of(TWO_WORDS), &big.url_of(TWO_WORDS), None).await;
    let prefix = paired_p50(&small.url_of(PREFIX), &big.url_of(PREFIX), None).await;
    let suggest = paired_p50(&small.url_of(SUGGEST_PLANTED), &big.url_of(SUGGEST_PLANTED), None).await;
    let suggest_common = paired_p50(&small.url_of(SUGGEST_COMMON), &big.url_of(SUGGEST_COMMON), None).await;
    let big_sizes = sizes(&big.database_path())?;
    drop(big);
    let duration = Duration::from_secs(secs);
    let baseline = hello_world(duration).await?;
    let throughput = crate::load::load(&small.url_of(TWO_WORDS), 64, duration).await;
    let (with_us, without_us) = write_cost(&small).await?;
    let small = small.with_page_cache().await?;
    let cached = crate::load::load(&small.url_of(TWO_WORDS), 64, duration).await;

    let mut rows = vec![
        growth_row(
            "Search p50, two words (GET /search/videos?q=quokka zephyr, 50 matches at both sizes)",
            " videos",
            large,
            two_words,
        ),
        growth_row(
            "Search p50, prefix (GET /search/videos?q=zeph, 50 matches at both sizes)",
            " videos",
            large,
            prefix,
        ),
    ];
    let worst = suggest.1.max(suggest_common.1);
    rows.push(Row {
        scenario: "Suggest p50 (GET /search/suggest?q=zep: 50 matches; ?q=ab: about 1/256 of all title words, capped at 500 candidates)",
        baseline: format!("10k videos: {:.2} / {:.2} ms", suggest.0, suggest_common.0),
        measured: format!("{large} videos: {:.2} / {:.2} ms", suggest.1, suggest_common.1),
        ratio: format!("{:.2}× / {:.2}× of 10k", suggest.1 / suggest.0, suggest_common.1 / suggest_common.0),
        target: "≤ 5 ms at the large size",
        met: worst <= 5.0,
    });
    let ratio = throughput.rps / baseline.rps;
    rows.push(Row {
        scenario: "GET /search/videos?q=quokka zephyr (10k videos, 50 matches), 64 connections",
        baseline: format!("hello-world {:.0} req/s", baseline.rps),
        measured: format!("{:.0} req/s, p99 {:.1} ms", throughput.rps, throughput.p99_ms),
        ratio: format!("{ratio:.3}×"),
        target: "≥ 0.2×",
        met: ratio >= 0.2,
    });
    let cached_ratio = cached.rps / baseline.rps;
    rows.push(Row {
        scenario: "The same search with the page cache on (FEED_CACHE_ENABLED, the default: pages kept until the \
                   next write), 64 connections",
        baseline: format!("hello-world {:.0} req/s", baseline.rps),
        measured: format!("{:.0} req/s, p99 {:.1} ms", cached.rps, cached.p99_ms),
        ratio: format!("{cached_ratio:.3}×"),
        target: "≥ 0.2×",
        met: cached_ratio >= 0.2,
    });
    let per_video = |bytes: u64| bytes as f64 / large as f64;
    let fts = big_sizes.fts_content + big_sizes.fts_index;
    rows.push(Row {
        scenario: "Search index size per video (dbstat: FTS5 tables of video_search and the search_rowid index; \
                   title 6-7 words, description 14 words)",
        baseline: format!("videos table and its indexes {:.0} B/video", per_video(big_sizes.videos)),
        measured: format!(
            "{large} videos: {:.0} B/video ({:.0} B index, {:.0} B content copy and sizes); seeding through the \
             triggers took {seed_secs:.0} s",
            per_video(fts),
            per_video(big_sizes.fts_index),
            per_video(big_sizes.fts_content)
        ),
        ratio: format!("{:.2}× of the videos table", fts as f64 / big_sizes.videos as f64),
        target: "—",
        met: true,
    });
    rows.push(Row {
        scenario: "Video row insert (each its own transaction, synchronous=NORMAL, 10k-video store) with the \
                   search triggers vs a copy without them",
        baseline: format!(
            "without: {without_us:.0} µs/insert (median of {WRITE_ROUNDS} interleaved rounds of {WRITES_PER_ROUND})"
        ),
        measured: format!("with: {with_us:.0} µs/insert"),
        ratio: format!("{:.2}×", with_us / without_us),
        target: "—",
        met: true,
    });
    Ok(rows)
}

/// Bytes per video of the two search indexes of `videos` (those over `searchWords` and
/// `suggestWords`: `searchWords_1`, `suggestWords_1`; before, `isPublished_1_searchWords_1` and
/// `isPublished_1_suggestWords_1`) and of the collection's storage with its other indexes, from `collStats`.
async fn mongo_sizes(uri: &str, count: u64) -> anyhow::Result<(f64, f64)> {
    let db = mongo::database(uri).await?;
    let stats = db.run_command(mongodb::bson::doc! { "collStats": "videos" }).await.context("collStats")?;
    let number = |value: Option<&mongodb::bson::Bson>| -> f64 {
        match value {
            Some(mongodb::bson::Bson::Int32(n)) => f64::from(*n),
            Some(mongodb::bson::Bson::Int64(n)) => *n as f64,
            Some(mongodb::bson::Bson::Double(n)) => *n,
            _ => 0.0,
        }
    };
    let indexes = stats.get_document("indexSizes").context("collStats gave no indexSizes")?;
    let search: f64 = indexes
        .iter()
        .filter(|(name, _)| name.contains("searchWords") || name.contains("suggestWords"))
        .map(|(_, size)| number(Some(size)))
        .sum();
    let rest = number(stats.get("storageSize")) + number(stats.get("totalIndexSize")) - search;
    Ok((search / count as f64, rest / count as f64))
}

/// What the search rows measure on one store.
struct SearchFigures {
    two_words: (f64, f64),
    prefix: (f64, f64),
    suggest: (f64, f64),
    suggest_common: (f64, f64),
    seed_secs: (f64, f64),
}

async fn search_figures(small: &Seeded, big: &Seeded, seed_secs: (f64, f64)) -> SearchFigures {
    SearchFigures {
        two_words: paired_p50(&small.url_of(TWO_WORDS), &big.url_of(TWO_WORDS), None).await,
        prefix: paired_p50(&small.url_of(PREFIX), &big.url_of(PREFIX), None).await,
        suggest: paired_p50(&small.url_of(SUGGEST_PLANTED), &big.url_of(SUGGEST_PLANTED), None).await,
        suggest_common: paired_p50(&small.url_of(SUGGEST_COMMON), &big.url_of(SUGGEST_COMMON), None).await,
        seed_secs,
    }
}

/// The search rows on MongoDB with SQLite's of the same run beside them (issue 30 item 5): search
/// p50 (two words, prefix) at `large` videos against 10k with the same 50 matches, suggest p50 at
/// `large`, search throughput at 10k against the hello-world, and the search indexes' bytes per
/// video. `mongo` names the (empty) databases of 10k and of `large` videos.
pub async fn search_mongo(secs: u64, large: u64, mongo: (&str, &str)) -> anyhow::Result<Vec<StoreRow>> {
    eprintln!("bench: search-mongo: SQLite at 10k and {large}");
    let (small_sqlite, small_secs) = search_store(10_000).await?;
    let (big_sqlite, big_secs) = search_store(large).await?;
    let s = search_figures(&small_sqlite, &big_sqlite, (small_secs, big_secs)).await;
    drop(big_sqlite);
    eprintln!("bench: search-mongo: MongoDB at 10k and {large}");
    let (small_mongo, small_secs) = mongo_search_store(mongo.0, 10_000).await?;
    let (big_mongo, big_secs) = mongo_search_store(mongo.1, large).await?;
    let m = search_figures(&small_mongo, &big_mongo, (small_secs, big_secs)).await;
    drop(big_mongo);
    let (search_bytes, rest_bytes) = mongo_sizes(mongo.1, large).await?;
    let duration = Duration::from_secs(secs);
    let baseline = hello_world(duration).await?;
    let sqlite_load = crate::load::load(&small_sqlite.url_of(TWO_WORDS), 64, duration).await;
    let mongo_load = crate::load::load(&small_mongo.url_of(TWO_WORDS), 64, duration).await;

    let size = |n: u64| if n.is_multiple_of(1000) { format!("{}k", n / 1000) } else { n.to_string() };
    let big = size(large);
    let pair = |(small, large): (f64, f64)| format!("10k: {small:.2} ms; {big}: {large:.2} ms");
    let met = |yes: bool| if yes { "met" } else { "**not met**" };
    let growth = |name: &'static str, s: (f64, f64), m: (f64, f64)| StoreRow {
        scenario: name,
        baseline: format!("each store at 10k videos (median of {} interleaved rounds)", crate::GROWTH_ROUNDS),
        sqlite: pair(s),
        mongo: pair(m),
        ratios: format!(
            "{big}/10k: SQLite {:.2}×, MongoDB {:.2}× (target ≤ 1.5×: {}); MongoDB/SQLite at {big}: {:.2}×",
            s.1 / s.0,
            m.1 / m.0,
            met(m.1 / m.0 <= 1.5),
            m.1 / s.1
        ),
    };
    let suggest = |f: &SearchFigures| {
        format!(
            "10k: {:.2} / {:.2} ms; {big}: {:.2} / {:.2} ms",
            f.suggest.0, f.suggest_common.0, f.suggest.1, f.suggest_common.1
        )
    };
    let worst = |f: &SearchFigures| f.suggest.1.max(f.suggest_common.1);
    let seeding = |f: &SearchFigures| format!("10k: {:.0} s; {big}: {:.0} s", f.seed_secs.0, f.seed_secs.1);
    let throughput = |l: &crate::load::LoadStats| format!("{:.0} req/s, p99 {:.1} ms", l.rps, l.p99_ms);
    Ok(vec![
        growth(
            "Search p50, two words (GET /search/videos?q=quokka zephyr, 50 matches at both sizes)",
            s.two_words,
            m.two_words,
        ),
        growth("Search p50, prefix (GET /search/videos?q=zeph, 50 matches at both sizes)", s.prefix, m.prefix),
        StoreRow {
            scenario: "Suggest p50 (GET /search/suggest?q=zep: 50 matches / ?q=ab: about 1/256 of all title words, \
                       capped at 500 candidates)",
            baseline: "—".into(),
            sqlite: suggest(&s),
            mongo: suggest(&m),
            ratios: format!(
                "worst at {big}: SQLite {:.2} ms, MongoDB {:.2} ms (target ≤ 5 ms: {})",
                worst(&s),
                worst(&m),
                met(worst(&m) <= 5.0)
            ),
        },
        StoreRow {
            scenario: "GET /search/videos?q=quokka zephyr (10k videos, 50 matches), 64 connections",
            baseline: format!("hello-world {:.0} req/s", baseline.rps),
            sqlite: throughput(&sqlite_load),
            mongo: throughput(&mongo_load),
            ratios: format!(
                "of hello-world: SQLite {:.3}×, MongoDB {:.3}× (target ≥ 0.2×: {}); MongoDB/SQLite {:.2}×",
                sqlite_load.rps / baseline.rps,
                mongo_load.rps / baseline.rps,
                met(mongo_load.rps / baseline.rps >= 0.2),
                mongo_load.rps / sqlite_load.rps
            ),
        },
        StoreRow {
            scenario: "Seeding the videos (SQLite: one INSERT each through the search triggers, transactions of 10k; \
                       MongoDB: insertMany of 5,000 with the search words, two at a time)",
            baseline: "—".into(),
            sqlite: seeding(&s),
            mongo: seeding(&m),
            ratios: "—".into(),
        },
        StoreRow {
            scenario: "MongoDB search indexes per video (collStats: the indexes of searchWords and \
                       suggestWords)",
            baseline: format!("the videos collection's storage and other indexes {rest_bytes:.0} B/video"),
            sqlite: "— (the search scenario: FTS5, dbstat)".into(),
            mongo: format!("{big} videos: {search_bytes:.0} B/video"),
            ratios: format!("{:.2}× of the rest of the collection", search_bytes / rest_bytes),
        },
    ])
}
