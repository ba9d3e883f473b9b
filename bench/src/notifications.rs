//! The notifications scenario (issue 29 items 2 and 3, D25), on SQLite:
//!
//! - **Publish**: the first change of a private video to public (`PATCH /videos/toggle/publish/:id`)
//!   claims the video's announcement and leaves the fan-out to a background task. Its latency for a
//!   channel with 100k subscribers against one with none, in interleaved rounds; each round waits
//!   for the fan-out to end (the last subscriber's notification stored) so every publish is measured
//!   on an idle server, and reports how long the fan-out took.
//! - **Reads**: `GET /notifications?limit=20` and `GET /notifications/unread-count` for a recipient
//!   with 1M notifications against one with 10k, each on its own seeded server (also on MongoDB,
//!   `notifications-mongo`, each server on its own fresh database).
//! - **Streams**: the server's RSS growth with 1,000 idle `GET /notifications/stream` connections
//!   (1,000 users), against 1,000 idle keep-alive connections that made one authenticated request.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Row;
use crate::server::{self, Server};

/// Subscribers of the popular channel (on SQLite).
const SUBSCRIBERS: u64 = 100_000;
/// Publish rounds on SQLite; each publishes one video of each channel (and one more of the quiet channel
/// while the popular one's fan-out runs).
const PUBLISH_ROUNDS: u64 = 25;
/// The channels: owner0 (no subscribers) and owner1 (`SUBSCRIBERS`), as `Server::seed` numbers them.
const QUIET: u64 = 1;
const POPULAR: u64 = 2;
/// First ids of the private videos seeded for publishing, per channel.
const QUIET_VIDEOS: u64 = 1 << 40;
const POPULAR_VIDEOS: u64 = 2 << 40;
/// Rounds of the read measurements (small and large store alternately).
const READ_ROUNDS: usize = 7;
/// Idle connections of the stream measurement.
const STREAMS: usize = 1_000;

/// Subscriptions of the first `?1` viewers to the channel `?2` (a user number).
const SUBSCRIPTIONS_SQL: &str = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
     INSERT INTO subscriptions (id, subscriber_id, channel_id, created_at, updated_at) \
     SELECT printf('%024x', n + 3221225472), printf('%024x', n + 1048576), printf('%024x', ?2), 1700000000000, \
            1700000000000 FROM seq";

/// `?1` private videos of the channel `?2` (a user number), never announced, ids from `?3`.
const PRIVATE_VIDEOS_SQL: &str = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
     INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, \
                         duration, views, visibility, created_at, updated_at) \
     SELECT printf('%024x', n + ?3), printf('%024x', ?2), 'http://bench/v.mp4', 'local:videos/none.mp4', \
            'http://bench/t.jpg', 'local:images/none.jpg', 'Private video ' || n, 'Not yet public', 10.5, 0, \
            'private', 1700000000000 + n, 1700000000000 + n FROM seq";

/// `?1` notifications of viewer 0, as the fan-out writes them: `new_video` of one of the 10k seeded
/// (public) videos from its owner; every other one read; created in the `?1` ms before `?2` (well
/// inside the retention window, so the maintenance sweep keeps them).
const NOTIFICATIONS_SQL: &str = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1 - 1) \
     INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, comment_id, read, created_at) \
     SELECT printf('%024x', n + 68719476736), printf('%024x', 1048576), 'new_video', printf('%024x', n % 10 + 1), \
            printf('%024x', n % 10000 + 4096), NULL, n % 2, ?2 - ?1 + n FROM seq";

/// "lowest–highest" of `values` with `decimals`.
fn range(values: &[f64], decimals: usize) -> String {
    let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = values.iter().copied().fold(0.0, f64::max);
    format!("{lowest:.decimals$}–{highest:.decimals$}")
}

fn user_id(n: u64) -> String {
    format!("{n:024x}")
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn server_vars() -> [(&'static str, &'static str); 3] {
    [("RATE_LIMIT_ENABLED", "false"), server::SIGNING_VARS[0], server::SIGNING_VARS[1]]
}

/// `rounds`: the publish rounds, `PUBLISH_ROUNDS` unless given.
pub async fn notifications(rounds: Option<u64>) -> anyhow::Result<Vec<Row>> {
    let mut rows = publish(None, rounds.unwrap_or(PUBLISH_ROUNDS), SUBSCRIBERS).await?;
    rows.extend(reads(None, 1_000_000).await?);
    rows.push(streams().await?);
    Ok(rows)
}

/// One publish toggle: its latency; the answer must be 200 and show the video public.
async fn toggle(client: &reqwest::Client, server: &Server, token: &str, video: u64) -> anyhow::Result<Duration> {
    toggle_to(client, server, token, video, "public").await
}

/// One publish toggle: its latency; the answer must be 200 and show the video `visibility`.
async fn toggle_to(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    video: u64,
    visibility: &str,
) -> anyhow::Result<Duration> {
    let url = server.url(&format!("/api/v1/videos/toggle/publish/{video:024x}"));
    let t = Instant::now();
    let resp = client.patch(&url).bearer_auth(token).send().await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    let latency = t.elapsed();
    anyhow::ensure!(
        status == 200 && body["data"]["visibility"] == visibility,
        "publishing {video:024x} answered {status}: {body}"
    );
    Ok(latency)
}

/// Where the bench reads what the fan-out stored: the server's SQLite file, or its MongoDB database.
enum Probe {
    Sqlite(rusqlite::Connection),
    Mongo(mongodb::Database),
}

impl Probe {
    /// Whether the user numbered `recipient` has a notification of the video numbered `video`.
    async fn told(&self, recipient: u64, video: u64) -> anyhow::Result<bool> {
        match self {
            Probe::Sqlite(db) => Ok(db.query_row(
                "SELECT EXISTS (SELECT 1 FROM notifications WHERE recipient_id = ?1 AND video_id = ?2)",
                (user_id(recipient), user_id(video)),
                |row| row.get(0),
            )?),
            Probe::Mongo(db) => crate::mongo::notified(db, recipient, video).await,
        }
    }

    /// The notifications of the video numbered `video`.
    async fn stored(&self, video: u64) -> anyhow::Result<u64> {
        match self {
            Probe::Sqlite(db) => {
                Ok(db.query_row("SELECT COUNT(*) FROM notifications WHERE video_id = ?1", [user_id(video)], |row| {
                    row.get::<_, i64>(0)
                })? as u64)
            }
            Probe::Mongo(db) => crate::mongo::notifications_of(db, video).await,
        }
    }
}

/// Publish latency for the quiet and the popular channel, and the popular one's fan-out time, in
/// `rounds` rounds; on SQLite, or on the (fresh) MongoDB database `mongo` names.
pub async fn publish(mongo: Option<&str>, rounds: u64, subscribers: u64) -> anyhow::Result<Vec<Row>> {
    eprintln!("bench: notifications: seeding {subscribers} subscribers");
    let dir = tempfile::tempdir()?;
    let mut vars = server_vars().to_vec();
    if let Some(uri) = mongo {
        vars.push(("MONGODB_URI", uri));
    }
    let server = Server::start(dir.path(), &vars).await?;
    let probe = match mongo {
        None => {
            server.seed(10_000).await?;
            server.seed_viewers(subscribers).await?;
            let db = server.database()?;
            db.execute(SUBSCRIPTIONS_SQL, [subscribers as i64, POPULAR as i64])?;
            db.execute(PRIVATE_VIDEOS_SQL, [(2 * rounds) as i64, QUIET as i64, QUIET_VIDEOS as i64])?;
            db.execute(PRIVATE_VIDEOS_SQL, [rounds as i64, POPULAR as i64, POPULAR_VIDEOS as i64])?;
            db.execute_batch("ANALYZE")?;
            server::settle(db).await?;
            Probe::Sqlite(server.database()?)
        }
        Some(uri) => {
            crate::mongo::seed(uri, 10_000).await?;
            let db = crate::mongo::database(uri).await?;
            crate::mongo::seed_viewers(&db, subscribers).await?;
            crate::mongo::seed_subscribers(&db, POPULAR, subscribers).await?;
            crate::mongo::seed_private_videos(&db, QUIET, 2 * rounds, QUIET_VIDEOS).await?;
            crate::mongo::seed_private_videos(&db, POPULAR, rounds, POPULAR_VIDEOS).await?;
            Probe::Mongo(db)
        }
    };
    let profile: serde_json::Value = reqwest::get(server.url("/api/v1/users/c/owner1")).await?.json().await?;
    anyhow::ensure!(
        profile["data"]["subscribersCount"] == subscribers,
        "the popular channel reads back wrong: {profile}"
    );
    let (quiet_token, popular_token) =
        (server::access_token(&user_id(QUIET))?, server::access_token(&user_id(POPULAR))?);
    // A first write before the measured ones (a watch: history and view), so that the first round
    // does not also pay for reading the schema the seed's ANALYZE changed.
    let watch = reqwest::Client::new()
        .get(server.url(&format!("/api/v1/videos/{}", server::video_id(0))))
        .bearer_auth(&quiet_token)
        .send()
        .await?
        .status();
    anyhow::ensure!(watch == 200, "the warm-up watch answered {watch}");
    let last_subscriber = subscribers - 1 + 1_048_576;
    let client = reqwest::Client::new();
    let (mut quiet, mut popular, mut during, mut fanouts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut again = Vec::new();
    let mut during_unfinished = 0;
    for round in 0..rounds {
        eprintln!("bench: notifications: publish round {} of {rounds}", round + 1);
        let quiet_first = round % 2 == 0;
        if quiet_first {
            quiet.push(toggle(&client, &server, &quiet_token, QUIET_VIDEOS + 2 * round).await?);
        }
        let video = POPULAR_VIDEOS + round;
        popular.push(toggle(&client, &server, &popular_token, video).await?);
        let answered = Instant::now();
        // A publish of the quiet channel while the fan-out writes (information).
        tokio::time::sleep(Duration::from_millis(100)).await;
        during.push(toggle(&client, &server, &quiet_token, QUIET_VIDEOS + 2 * round + 1).await?);
        if !probe.told(last_subscriber, video).await? {
            during_unfinished += 1;
        }
        while !probe.told(last_subscriber, video).await? {
            anyhow::ensure!(answered.elapsed() < Duration::from_secs(600), "the fan-out did not end in 600 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fanouts.push(answered.elapsed().as_secs_f64());
        let stored = probe.stored(video).await?;
        anyhow::ensure!(stored == subscribers, "the fan-out stored {stored} notifications");
        if !quiet_first {
            quiet.push(toggle(&client, &server, &quiet_token, QUIET_VIDEOS + 2 * round).await?);
        }
        // The same video of the popular channel made private and public again: announced already,
        // so no fan-out (a control: the same request without the deferred work).
        toggle_to(&client, &server, &popular_token, video, "private").await?;
        again.push(toggle(&client, &server, &popular_token, video).await?);
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let listed = |v: &[Duration]| v.iter().map(|d| format!("{:.2}", ms(d))).collect::<Vec<_>>().join(" ");
    eprintln!(
        "bench: notifications: publish ms, round by round: quiet {}; popular {}; popular again {}; quiet during \
         the fan-out {}; fan-out s {}",
        listed(&quiet),
        listed(&popular),
        listed(&again),
        listed(&during),
        fanouts.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(" ")
    );
    let mut quiet: Vec<f64> = quiet.iter().map(ms).collect();
    let mut popular: Vec<f64> = popular.iter().map(ms).collect();
    let mut during: Vec<f64> = during.iter().map(ms).collect();
    let mut again: Vec<f64> = again.iter().map(ms).collect();
    let again_range = range(&again, 2);
    let again_p50 = crate::median(&mut again);
    let (quiet_p50, popular_p50, during_p50) =
        (crate::median(&mut quiet), crate::median(&mut popular), crate::median(&mut during));
    let fanout_spread = range(&fanouts, 2);
    let fanout_p50 = crate::median(&mut fanouts);
    let ratio = popular_p50 / quiet_p50;
    Ok(vec![
        Row {
            scenario: match mongo {
                None => {
                    "Publish, SQLite (PATCH /videos/toggle/publish/:id, a private video's first change to public: \
                     claims its announcement, defers the fan-out), p50 of interleaved rounds, each on an idle server"
                }
                Some(_) => {
                    "Publish, MongoDB (PATCH /videos/toggle/publish/:id, a private video's first change to public: \
                     claims its announcement, defers the fan-out), p50 of interleaved rounds, each on an idle server"
                }
            },
            baseline: format!(
                "channel with 0 subscribers: {quiet_p50:.2} ms ({rounds} publishes, {} ms)",
                range(&quiet, 2)
            ),
            measured: format!(
                "channel with {subscribers} subscribers: {popular_p50:.2} ms ({rounds} publishes, {} ms); the same videos \
                 made private and public again (announced already: no fan-out) {again_p50:.2} ms ({again_range} ms)",
                range(&popular, 2)
            ),
            ratio: format!("{ratio:.2}×"),
            target: "≤ 1.5×",
            met: ratio <= 1.5,
        },
        Row {
            scenario: match mongo {
                None => {
                    "Deferred fan-out of a publish to 100k subscribers, SQLite: from the answer to the last \
                     subscriber's notification stored (batches of 500)"
                }
                Some(_) => {
                    "Deferred fan-out of a publish, MongoDB: from the answer to the last subscriber's notification \
                     stored (batches of 500)"
                }
            },
            baseline: "—".into(),
            measured: format!(
                "{fanout_p50:.2} s (median of {rounds}; {fanout_spread} s), {subscribers} notifications \
                 each; a 0-subscriber publish 100 ms into the fan-out: p50 {during_p50:.2} ms ({} ms; fan-out still \
                 running after it in {during_unfinished} of {rounds})",
                range(&during, 2)
            ),
            ratio: "—".into(),
            target: "—",
            met: true,
        },
    ])
}

/// A server whose viewer 0 has `count` notifications (half unread), on SQLite or on the (fresh)
/// MongoDB database `mongo` names; checked through the API. Also how long the notifications took
/// to store, in seconds.
async fn with_notifications(
    dir: &std::path::Path,
    count: u64,
    token: &str,
    mongo: Option<&str>,
) -> anyhow::Result<(Server, f64)> {
    eprintln!("bench: notifications: seeding {count} notifications");
    let mut vars = server_vars().to_vec();
    if let Some(uri) = mongo {
        vars.push(("MONGODB_URI", uri));
    }
    // Started first: on MongoDB it creates the indexes and its (empty) counts.
    let server = Server::start(dir, &vars).await?;
    let seconds = match mongo {
        None => {
            server.seed(10_000).await?;
            server.seed_viewers(1).await?;
            let db = server.database()?;
            let started = Instant::now();
            db.execute(NOTIFICATIONS_SQL, [count as i64, now_ms()])?;
            let seconds = started.elapsed().as_secs_f64();
            db.execute_batch("ANALYZE")?;
            server::settle(db).await?;
            seconds
        }
        Some(uri) => {
            crate::mongo::seed(uri, 10_000).await?;
            let db = crate::mongo::database(uri).await?;
            crate::mongo::seed_viewers(&db, 1).await?;
            let started = Instant::now();
            crate::mongo::seed_notifications(&db, count, now_ms()).await?;
            started.elapsed().as_secs_f64()
        }
    };
    eprintln!("bench: notifications: {count} notifications stored in {seconds:.1} s");
    let client = reqwest::Client::new();
    let page: serde_json::Value =
        client.get(server.url("/api/v1/notifications?limit=20")).bearer_auth(token).send().await?.json().await?;
    let docs = page["data"]["docs"].as_array().context("no docs")?;
    anyhow::ensure!(
        page["data"]["totalDocs"] == count && docs.len() == 20 && docs[0]["type"] == "new_video",
        "the seeded notifications read back wrong: {}",
        &page.to_string()[..page.to_string().len().min(400)]
    );
    let unread: serde_json::Value =
        client.get(server.url("/api/v1/notifications/unread-count")).bearer_auth(token).send().await?.json().await?;
    anyhow::ensure!(unread["data"]["unread"] == count / 2, "the unread count reads back wrong: {unread}");
    Ok((server, seconds))
}

/// The p50s of the same request on the small and the large server: medians over `READ_ROUNDS`
/// interleaved rounds of `count` sequential requests each.
async fn paired(small: &str, large: &str, token: &str, count: usize) -> (f64, f64) {
    let (mut smalls, mut larges) = (Vec::new(), Vec::new());
    for _ in 0..READ_ROUNDS {
        smalls.push(crate::load::sequential_with(small, Some(token), count).await.p50_ms);
        larges.push(crate::load::sequential_with(large, Some(token), count).await.p50_ms);
    }
    (crate::median(&mut smalls), crate::median(&mut larges))
}

/// How many sequential requests a round makes: about 3 s of the large store's answers, 5 to 100.
async fn requests_per_round(url: &str, token: &str) -> anyhow::Result<usize> {
    let client = reqwest::Client::new();
    let t = Instant::now();
    for _ in 0..3 {
        client.get(url).bearer_auth(token).send().await?.bytes().await?;
    }
    let each = t.elapsed().as_secs_f64() / 3.0;
    Ok(((3.0 / each) as usize).clamp(5, 100))
}

/// The list and the unread count at `large` notifications against 10k: on SQLite, or on MongoDB
/// with the (fresh) databases `mongo` names (the small store's, the large one's), each served by
/// its own server.
pub async fn reads(mongo: Option<(&str, &str)>, large: u64) -> anyhow::Result<Vec<Row>> {
    const SMALL: u64 = 10_000;
    let token = server::access_token(&server::viewer_id(0))?;
    let (small_dir, large_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (small, _) = with_notifications(small_dir.path(), SMALL, &token, mongo.map(|m| m.0)).await?;
    let (large_server, seeded) = with_notifications(large_dir.path(), large, &token, mongo.map(|m| m.1)).await?;
    let mut rows = Vec::new();
    let reads: [(&'static str, &str); 2] = match mongo {
        None => [
            (
                "GET /notifications?limit=20 p50 (page 1, newest first, with totalDocs), notifications of the caller",
                "/api/v1/notifications?limit=20",
            ),
            (
                "GET /notifications/unread-count p50 (half of them unread), notifications of the caller",
                "/api/v1/notifications/unread-count",
            ),
        ],
        Some(_) => [
            (
                "GET /notifications?limit=20 p50, MongoDB (page 1, newest first, with totalDocs), notifications of \
                 the caller",
                "/api/v1/notifications?limit=20",
            ),
            (
                "GET /notifications/unread-count p50, MongoDB (half of them unread), notifications of the caller",
                "/api/v1/notifications/unread-count",
            ),
        ],
    };
    for (scenario, path) in reads {
        let count = requests_per_round(&large_server.url(path), &token).await?;
        eprintln!("bench: notifications: {path}, {READ_ROUNDS} rounds of {count} requests");
        let (small_p50, large_p50) = paired(&small.url(path), &large_server.url(path), &token, count).await;
        let ratio = large_p50 / small_p50;
        rows.push(Row {
            scenario,
            baseline: format!("10k: {small_p50:.2} ms (median of {READ_ROUNDS} interleaved rounds of {count})"),
            measured: match mongo {
                None => format!("{large}: {large_p50:.2} ms"),
                Some(_) => format!(
                    "{large}{}: {large_p50:.2} ms (the {large} inserted in {seeded:.0} s)",
                    if large < 1_000_000 { " (fewer than issue 29's 1M)" } else { "" }
                ),
            },
            ratio: format!("{ratio:.2}×"),
            target: "≤ 1.5×",
            met: ratio <= 1.5,
        });
    }
    Ok(rows)
}

/// Opens a connection, sends `request` and reads until `until` appears in what comes back; the
/// connection is returned open.
async fn open(addr: &str, request: String, until: &'static [u8]) -> anyhow::Result<tokio::net::TcpStream> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(until.len()).any(|w| w == until) {
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buf)).await??;
        anyhow::ensure!(n > 0, "closed after {:?}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    anyhow::ensure!(seen.starts_with(b"HTTP/1.1 200"), "answered {:?}", String::from_utf8_lossy(&seen));
    Ok(stream)
}

/// RSS growth (KiB) of a fresh server with `STREAMS` idle connections, each opened by viewer `n`'s
/// GET of `path` and left open once `until` arrived; and its RSS (KiB) before and 2 s after they closed.
async fn idle_connections(path: &str, until: &'static [u8]) -> anyhow::Result<(u64, u64, u64)> {
    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path(), &server_vars()).await?;
    server.seed_viewers(STREAMS as u64).await?;
    let tokens: Vec<String> =
        (0..STREAMS as u64).map(|n| server::access_token(&server::viewer_id(n))).collect::<Result<_, _>>()?;
    let addr = server.url("").trim_start_matches("http://").to_owned();
    let request = |token: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: */*\r\n\r\n")
    };
    // Warm: the same request on 20 connections, closed again.
    for token in &tokens[..20] {
        drop(open(&addr, request(token), until).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = server.memory_kib("VmRSS")?;
    let mut open_ones = Vec::with_capacity(STREAMS);
    for chunk in tokens.chunks(50) {
        let opening: Vec<_> = chunk.iter().map(|token| open(&addr, request(token), until)).collect();
        for stream in futures_util::future::join_all(opening).await {
            open_ones.push(stream?);
        }
    }
    // Idle for a few polls of the stream poller (500 ms each).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with = server.memory_kib("VmRSS")?;
    drop(open_ones);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.memory_kib("VmRSS")?;
    Ok((before, with, after))
}

/// RSS per idle stream against RSS per idle keep-alive connection.
async fn streams() -> anyhow::Result<Row> {
    eprintln!("bench: notifications: {STREAMS} idle connections, then {STREAMS} idle streams");
    let (plain_before, plain_with, plain_after) =
        idle_connections("/api/v1/notifications/unread-count", b"\"unread\"").await?;
    let (before, with, after) = idle_connections("/api/v1/notifications/stream", b": connected").await?;
    let per = |from: u64, to: u64| to.saturating_sub(from) as f64 / STREAMS as f64;
    let (plain_each, stream_each) = (per(plain_before, plain_with), per(before, with));
    Ok(Row {
        scenario: "Server RSS with 1,000 idle GET /notifications/stream connections (1,000 users, each past its \
                   \": connected\" line), per connection, release build",
        baseline: format!(
            "1,000 idle keep-alive connections after one GET /notifications/unread-count each: {plain_each:.1} KiB per \
             connection (RSS {} → {} KiB; {} KiB 2 s after they closed)",
            plain_before, plain_with, plain_after
        ),
        measured: format!(
            "{stream_each:.1} KiB per stream (RSS {before} → {with} KiB; {after} KiB 2 s after they closed)"
        ),
        ratio: format!("{:.2}× of an idle connection", stream_each / plain_each),
        target: "—",
        met: true,
    })
}
