//! `original-mongo` (issue 26 item 4): four reads of the account routes on one seeded MongoDB
//! database, measured for (a) our server, (b) the original API's queries replayed by this harness
//! through the driver, and (c) when `BENCH_ORIGINAL_DIR` names a checkout of the original Node
//! backend (chai-backend, `node_modules` installed), that server itself on the same database.
//!
//! What (b) replays, per request, as chai-backend sends it (described here, none of its code is
//! copied): its auth middleware (`verifyJWT`) reads the token's user with `findById` projected
//! without `password` and `refreshToken` (one `find` by `_id`, limit 1) before every route but login;
//! then
//! - channel profile (`getUserChannelProfile`): one `aggregate` on `users`: `$match` on `username`,
//!   `$lookup` of `subscriptions` by `channel` = the user's `_id` (every subscriber), `$lookup` of
//!   `subscriptions` by `subscriber` = `_id`, `$addFields` of both sizes and of "the caller's id is
//!   among the subscribers", `$project` of the profile's fields: 2 round trips;
//! - current user (`getCurrentUser`): the middleware's read only: 1 round trip;
//! - history (`getWatchHistory`): one `aggregate` on `users`: `$match` on `_id`, `$lookup` of
//!   `videos` by `watchHistory` with a nested `$lookup` of each video's owner in `users` projected
//!   to `fullName`, `username`, `avatar`, then `$addFields` owner = its first: 2 round trips;
//! - login (`loginUser` and `generateAccessAndRefereshTokens`): `findOne` of `$or` username / email,
//!   (bcrypt, not replayed: no database work), `findById` (whole document), Mongoose's `save` of the
//!   new refresh token (`updateOne` by `_id` setting `refreshToken` and `updatedAt`), `findById`
//!   projected without `password` and `refreshToken`: 4 round trips.
//!
//! Database CPU per request: the user + system CPU time (`/proc/<pid>/stat`) of every process of the
//! DocumentDB instance (its postmaster, the postmaster's children — the backends — and its gateway,
//! found through the state directory in their command lines; plus the postmaster's reaped children)
//! over a fixed run, less the same processes' CPU at rest over as long (sampled for 5 s with both
//! servers started, before each read's rounds), divided by the requests answered in it. Only for a DocumentDB on this machine
//! whose state directory is known (started by the run, or `DOCUMENTDB_STATE`); otherwise that
//! column says it was skipped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};

use crate::load::load_numbered;
use crate::mongo::{self, id};
use crate::server::{Server, free_port};

/// Requests at once, as the measurement.
const CONNECTIONS: usize = 64;
/// Rounds per side and endpoint, and the length of each.
const ROUNDS: usize = 3;
const ROUND: Duration = Duration::from_secs(10);
/// Viewers seeded (each a subscriber of the channel), users logged in for the load, history length.
const VIEWERS: u64 = 1_000;
const LOGGED_IN: u64 = 16;
const HISTORY: u64 = 20;
const PASSWORD: &str = "bench-password";
/// The channel profiled: owner 0 (id 1), with every viewer subscribed.
const CHANNEL: &str = "owner0";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Read {
    Channel,
    CurrentUser,
    History,
    Login,
}

const READS: [Read; 4] = [Read::Channel, Read::CurrentUser, Read::History, Read::Login];

impl Read {
    fn label(self) -> &'static str {
        match self {
            Read::Channel => "GET /users/c/:username (logged in, 1,000 subscribers)",
            Read::CurrentUser => "GET /users/current-user",
            Read::History => "GET /users/history (20 videos)",
            Read::Login => "POST /users/login (bcrypt cost 10)",
        }
    }

    /// Round trips per request: ours as this tree's server makes them (read in its code: extractor,
    /// service, store; a `BENCH_VIDEOTUBE_BIN` of another tree may make others), the original's as
    /// replayed (module doc). Ours: channel profile, the viewer's standing (`UserRepo::identity`) and
    /// one aggregate of the channel with the viewer's subscription joined; current user, the account
    /// (`caller_account`); history, one aggregate of the caller's standing and history with the
    /// videos joined (`standing_and_history`); login, the account by username, then the session's
    /// `updateOne`.
    fn round_trips(self) -> (u32, u32) {
        match self {
            Read::Channel => (2, 2),
            Read::CurrentUser => (1, 1),
            Read::History => (1, 2),
            Read::Login => (2, 4),
        }
    }
}

/// CPU time of a local DocumentDB's processes.
struct DbCpu {
    state: String,
    ticks: f64,
}

impl DbCpu {
    fn new(state: String) -> Self {
        let ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        DbCpu { state, ticks }
    }

    /// Seconds of CPU used so far by the postmaster (with its reaped children), its live children
    /// and the gateway.
    fn seconds(&self) -> f64 {
        let mut stats = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            // Fields after the command name (which may hold spaces), from field 3 (state) on.
            let Some((_, rest)) = stat.rsplit_once(") ") else { continue };
            let fields: Vec<u64> = rest.split(' ').skip(1).map(|f| f.parse().unwrap_or(0)).collect();
            stats.push((pid.parse::<u64>().unwrap_or(0), cmdline, fields));
        }
        let own = |cmd: &str| cmd.contains(&self.state);
        let postmasters: Vec<u64> =
            stats.iter().filter(|(_, cmd, _)| own(cmd) && cmd.contains("postgres")).map(|(pid, ..)| *pid).collect();
        // fields[0] is ppid (field 4); utime, stime, cutime, cstime are fields 14-17.
        let mut ticks = 0u64;
        for (pid, cmd, f) in &stats {
            if f.len() < 14 {
                continue;
            }
            let (utime, stime, cutime, cstime) = (f[10], f[11], f[12], f[13]);
            if postmasters.contains(pid) {
                ticks += utime + stime + cutime + cstime;
            } else if own(cmd) || postmasters.contains(&f[0]) {
                ticks += utime + stime;
            }
        }
        ticks as f64 / self.ticks
    }
}

/// How long the database's idle CPU is sampled before each read's rounds.
const IDLE: Duration = Duration::from_secs(5);

/// One side's figures for one read: requests per second and DB CPU ms per request, per round.
#[derive(Default)]
struct Figures {
    rps: Vec<f64>,
    cpu_ms: Vec<f64>,
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

impl Figures {
    fn add(&mut self, requests: u64, elapsed: Duration, cpu: Option<f64>) {
        self.rps.push(requests as f64 / elapsed.as_secs_f64());
        if let Some(cpu) = cpu {
            self.cpu_ms.push(cpu * 1000.0 / requests.max(1) as f64);
        }
    }
}

/// The HTTP server measured: ours or the original.
struct Http {
    base: String,
    tokens: Vec<String>,
}

/// The original Node server started from `dir` on `database` of `uri`.
struct Original {
    child: Child,
}

impl Drop for Original {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Original {
    async fn start(dir: &Path, uri: &str, port: u16) -> anyhow::Result<Self> {
        // Its db/index.js connects to `${MONGODB_URI}/${DB_NAME}`: split the URI at its database path.
        let (base, query) = uri.split_once('?').map_or((uri, ""), |(b, q)| (b, q));
        let hosts_start = base.find("://").map_or(0, |i| i + 3);
        let (hosts, database) = match base[hosts_start..].find('/') {
            Some(i) => (&base[..hosts_start + i], &base[hosts_start + i + 1..]),
            None => (base, ""),
        };
        let db_name = if query.is_empty() { database.to_owned() } else { format!("{database}?{query}") };
        let log = std::fs::File::create(std::env::temp_dir().join("bench-original.log"))?;
        let child = Command::new("node")
            .arg("src/index.js")
            .current_dir(dir)
            .env("MONGODB_URI", hosts)
            .env("DB_NAME", db_name)
            .env("PORT", port.to_string())
            .env("ACCESS_TOKEN_SECRET", crate::server::SIGNING_VARS[0].1)
            .env("REFRESH_TOKEN_SECRET", crate::server::SIGNING_VARS[1].1)
            .env("ACCESS_TOKEN_EXPIRY", "1d")
            .env("REFRESH_TOKEN_EXPIRY", "10d")
            .env("CORS_ORIGIN", "*")
            .env("CLOUDINARY_CLOUD_NAME", "bench")
            .env("CLOUDINARY_API_KEY", "bench")
            .env("CLOUDINARY_API_SECRET", "bench")
            .env("NODE_ENV", "production")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting node src/index.js (BENCH_ORIGINAL_DIR)")?;
        let mut original = Original { child };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let url = format!("http://127.0.0.1:{port}/api/v1/users/current-user");
            if client.get(url).send().await.is_ok_and(|r| r.status() == 401) {
                return Ok(original);
            }
            if let Some(status) = original.child.try_wait()? {
                anyhow::bail!(
                    "the original exited ({status}); see {}",
                    std::env::temp_dir().join("bench-original.log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the original did not answer within 30 s")
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find(|l| l.starts_with("VmHWM"))?.split_whitespace().nth(1)?.parse().ok()
    }
}

/// Seeds `uri` (our server already started on it, so its indexes exist): 10 owners and 1,000 public
/// videos (`mongo::seed`), `VIEWERS` viewers subscribed to owner 0 (counts kept, as ours reads them;
/// the original counts the records), each with the password `PASSWORD` (bcrypt cost 10, a field both
/// read) and a history of the same `HISTORY` videos in both shapes: `watchHistory` (ids, which both
/// read) and `watchHistoryAt` (ours).
async fn seed(uri: &str) -> anyhow::Result<()> {
    mongo::seed(uri, 1_000).await?;
    let db = mongo::database(uri).await?;
    mongo::seed_viewers(&db, VIEWERS).await?;
    mongo::seed_subscribers(&db, 1, VIEWERS).await?;
    let hash = bcrypt::hash(PASSWORD, 10)?;
    let videos: Vec<ObjectId> = (0..HISTORY).map(|n| id(n * 37 + 4096)).collect();
    let times: Vec<DateTime> =
        (0..HISTORY).map(|n| DateTime::from_millis(1_700_000_100_000 - n as i64 * 1000)).collect();
    let viewers = doc! { "_id": { "$gte": id(1_048_576), "$lt": id(1_048_576 + VIEWERS) } };
    let set = doc! { "$set": { "password": hash, "watchHistory": videos, "watchHistoryAt": times } };
    db.collection::<Document>("users").update_many(viewers, set).await.context("setting passwords, histories")?;
    Ok(())
}

/// Logs in viewers `0..LOGGED_IN` through `base`; their access tokens.
async fn log_in(base: &str) -> anyhow::Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for n in 0..LOGGED_IN {
        let body = login_body(n);
        let resp = client.post(format!("{base}/api/v1/users/login")).json(&body).send().await?;
        anyhow::ensure!(resp.status().is_success(), "login of viewer{n} at {base}: {}", resp.status());
        let json: serde_json::Value = resp.json().await?;
        tokens.push(json["data"]["accessToken"].as_str().context("no accessToken")?.to_owned());
    }
    Ok(tokens)
}

/// Both names, so the original's `$or` of username and email never meets an absent one.
fn login_body(n: u64) -> serde_json::Value {
    serde_json::json!({ "username": format!("viewer{n}"), "email": format!("viewer{n}@bench.test"), "password": PASSWORD })
}

/// What a read answers, for the check that both servers read the same content.
async fn answer(http: &Http, read: Read) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", http.base)).bearer_auth(&http.tokens[0]);
    let json: serde_json::Value = match read {
        Read::Channel => get(&format!("/api/v1/users/c/{CHANNEL}")).send().await?.json().await?,
        Read::CurrentUser => get("/api/v1/users/current-user").send().await?.json().await?,
        Read::History => get("/api/v1/users/history").send().await?.json().await?,
        Read::Login => return Ok(String::new()),
    };
    let data = &json["data"];
    Ok(match read {
        Read::Channel => format!(
            "{} subscribers, subscribed {}, {} subscribed to",
            data["subscribersCount"], data["isSubscribed"], data["channelsSubscribedToCount"]
        ),
        Read::CurrentUser => format!("{}", data["username"]),
        Read::History => {
            let entries = data.as_array().map(Vec::as_slice).unwrap_or_default();
            let mut ids: Vec<&str> = entries.iter().filter_map(|v| v["_id"].as_str()).collect();
            ids.sort_unstable();
            let owners = entries.iter().filter(|v| v["owner"]["username"].is_string()).count();
            format!("{} videos ({owners} with owners), ids {}", entries.len(), ids.join(","))
        }
        Read::Login => String::new(),
    })
}

/// One round of `read` against an HTTP server: requests answered 2xx and the time taken.
async fn http_round(http: &Http, read: Read) -> (u64, Duration) {
    let (base, tokens) = (http.base.clone(), Arc::new(http.tokens.clone()));
    let started = Instant::now();
    let (stats, numbers) = load_numbered(CONNECTIONS, ROUND, move |client, k| {
        let token = &tokens[k as usize % tokens.len()];
        match read {
            Read::Channel => client.get(format!("{base}/api/v1/users/c/{CHANNEL}")).bearer_auth(token),
            Read::CurrentUser => client.get(format!("{base}/api/v1/users/current-user")).bearer_auth(token),
            Read::History => client.get(format!("{base}/api/v1/users/history")).bearer_auth(token),
            Read::Login => client.post(format!("{base}/api/v1/users/login")).json(&login_body(k % VIEWERS)),
        }
    })
    .await;
    let _ = stats;
    (numbers.len() as u64, started.elapsed())
}

/// The original's queries for one request of `read` by viewer `n` (module doc).
async fn replay_once(db: &mongodb::Database, read: Read, n: u64) -> anyhow::Result<()> {
    use futures_util::TryStreamExt;
    let users = db.collection::<Document>("users");
    let user = id(1_048_576 + n % LOGGED_IN);
    let without_secrets = doc! { "password": 0, "refreshToken": 0 };
    if read != Read::Login {
        let caller = users.find_one(doc! { "_id": user }).projection(without_secrets.clone()).await?;
        anyhow::ensure!(caller.is_some(), "the caller is missing");
    }
    match read {
        Read::Channel => {
            let found: Vec<Document> =
                users.aggregate(channel_profile_pipeline(CHANNEL, user)).await?.try_collect().await?;
            anyhow::ensure!(found.len() == 1, "no channel");
        }
        Read::CurrentUser => {}
        Read::History => {
            let found: Vec<Document> = users.aggregate(watch_history_pipeline(user)).await?.try_collect().await?;
            anyhow::ensure!(found.len() == 1, "no user");
        }
        Read::Login => {
            let username = format!("viewer{}", n % VIEWERS);
            let email = format!("{username}@bench.test");
            let filter = doc! { "$or": [{ "username": &username }, { "email": &email }] };
            let found = users.find_one(filter).await?.context("no such user")?;
            let user = found.get_object_id("_id")?;
            users.find_one(doc! { "_id": user }).await?;
            let token = format!("refresh-{n}");
            let set = doc! { "$set": { "refreshToken": token, "updatedAt": DateTime::now() } };
            users.update_one(doc! { "_id": user }, set).await?;
            users.find_one(doc! { "_id": user }).projection(without_secrets).await?;
        }
    }
    Ok(())
}

/// `getUserChannelProfile`'s aggregate, as described in the module doc.
fn channel_profile_pipeline(username: &str, caller: ObjectId) -> Vec<Document> {
    vec![
        doc! { "$match": { "username": username } },
        doc! { "$lookup": { "from": "subscriptions", "localField": "_id", "foreignField": "channel", "as": "subscribers" } },
        doc! { "$lookup": { "from": "subscriptions", "localField": "_id", "foreignField": "subscriber", "as": "subscribedTo" } },
        doc! { "$addFields": {
            "subscribersCount": { "$size": "$subscribers" },
            "channelsSubscribedToCount": { "$size": "$subscribedTo" },
            "isSubscribed": { "$cond": { "if": { "$in": [caller, "$subscribers.subscriber"] }, "then": true, "else": false } },
        } },
        doc! { "$project": { "fullName": 1, "username": 1, "subscribersCount": 1, "channelsSubscribedToCount": 1,
        "isSubscribed": 1, "avatar": 1, "coverImage": 1, "email": 1 } },
    ]
}

/// `getWatchHistory`'s aggregate, as described in the module doc.
fn watch_history_pipeline(user: ObjectId) -> Vec<Document> {
    let owner = vec![doc! { "$project": { "fullName": 1, "username": 1, "avatar": 1 } }];
    let videos = vec![
        doc! { "$lookup": { "from": "users", "localField": "owner", "foreignField": "_id", "as": "owner", "pipeline": owner } },
        doc! { "$addFields": { "owner": { "$first": "$owner" } } },
    ];
    vec![
        doc! { "$match": { "_id": user } },
        doc! { "$lookup": { "from": "videos", "localField": "watchHistory", "foreignField": "_id", "as": "watchHistory",
        "pipeline": videos } },
    ]
}

/// One round of the replay: `CONNECTIONS` tasks repeating `read`'s queries for `ROUND`.
async fn replay_round(db: &mongodb::Database, read: Read) -> anyhow::Result<(u64, Duration)> {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let stop = started + ROUND;
    let tasks: Vec<_> = (0..CONNECTIONS as u64)
        .map(|t| {
            let (db, done) = (db.clone(), done.clone());
            tokio::spawn(async move {
                let mut k = t;
                while Instant::now() < stop {
                    replay_once(&db, read, k).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                    k += CONNECTIONS as u64;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok((done.load(Ordering::Relaxed), started.elapsed()))
}

/// The scenario on the database `uri` of `deployment`; a markdown table.
pub async fn original_mongo(uri: &str, state: Option<String>) -> anyhow::Result<String> {
    let cpu = state.map(DbCpu::new);
    // The database's own background work (and the servers' idle polling), per second, measured with
    // everything started and no load: taken off each round's CPU, so a slow read (login) is not
    // charged with it.
    let mut idle_rate = 0.0;
    let measure = |f: &mut Figures, (requests, elapsed): (u64, Duration), before: Option<f64>, idle_rate: f64| {
        let used =
            cpu.as_ref().zip(before).map(|(cpu, before)| cpu.seconds() - before - idle_rate * elapsed.as_secs_f64());
        f.add(requests, elapsed, used);
    };
    let mut idle_rates = Vec::new();
    let dir = tempfile::tempdir()?;
    let mut vars = vec![("RATE_LIMIT_ENABLED", "false"), ("MONGODB_URI", uri)];
    vars.extend(crate::server::SIGNING_VARS);
    let server = Server::start(dir.path(), &vars).await?;
    eprintln!("bench: original-mongo: seeding");
    seed(uri).await?;
    let ours = Http { base: server.url(""), tokens: log_in(&server.url("")).await? };
    let original_dir = std::env::var("BENCH_ORIGINAL_DIR").ok().filter(|d| !d.is_empty());
    let original = match &original_dir {
        Some(dir) => {
            let port = free_port();
            let node = Original::start(Path::new(dir), uri, port).await?;
            let base = format!("http://127.0.0.1:{port}");
            let tokens = log_in(&base).await?;
            Some((node, Http { base, tokens }))
        }
        None => None,
    };
    for read in READS {
        let mine = answer(&ours, read).await?;
        eprintln!("bench: original-mongo: {read:?} ours: {mine}");
        if let Some((_, theirs)) = &original {
            let theirs = answer(theirs, read).await?;
            anyhow::ensure!(mine == theirs, "{read:?} differs: ours {mine}, the original's {theirs}");
        }
    }
    let db = mongo::database(uri).await?;
    let mut table = String::from(
        "| Read | Round trips ours / original | DB CPU per request: ours | original's queries replayed | original server | ours / replayed (target ≤ 0.8×) | Throughput: ours | original server | ours / original (target ≥ 3× on profile and history) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for read in READS {
        let (mut a, mut b, mut c) = (Figures::default(), Figures::default(), Figures::default());
        if let Some(cpu) = &cpu {
            let before = cpu.seconds();
            tokio::time::sleep(IDLE).await;
            idle_rate = (cpu.seconds() - before) / IDLE.as_secs_f64();
            idle_rates.push(idle_rate);
        }
        for round in 0..ROUNDS {
            eprintln!("bench: original-mongo: {read:?} round {}", round + 1);
            let before = cpu.as_ref().map(DbCpu::seconds);
            let result = http_round(&ours, read).await;
            measure(&mut a, result, before, idle_rate);
            if let Some((_, theirs)) = &original {
                let before = cpu.as_ref().map(DbCpu::seconds);
                let result = http_round(theirs, read).await;
                measure(&mut c, result, before, idle_rate);
            }
            let before = cpu.as_ref().map(DbCpu::seconds);
            let result = replay_round(&db, read).await?;
            measure(&mut b, result, before, idle_rate);
        }
        let ms =
            |f: &Figures| median(&f.cpu_ms).map_or("skipped (DocumentDB not local)".into(), |v| format!("{v:.3} ms"));
        let rps = |f: &Figures| median(&f.rps).map_or("—".into(), |v| format!("{v:.0} req/s"));
        let ratio = |x: Option<f64>, y: Option<f64>| x.zip(y).map_or("—".into(), |(x, y)| format!("{:.2}×", x / y));
        let (ours_trips, their_trips) = read.round_trips();
        let line = format!(
            "| {} | {ours_trips} / {their_trips} | {} | {} | {} | {} | {} | {} | {} |\n",
            read.label(),
            ms(&a),
            ms(&b),
            if original.is_some() { ms(&c) } else { "not run".into() },
            ratio(median(&a.cpu_ms), median(&b.cpu_ms)),
            rps(&a),
            if original.is_some() { rps(&c) } else { "not run".into() },
            ratio(median(&a.rps), median(&c.rps)),
        );
        eprint!("bench: row: {line}");
        table.push_str(&line);
    }
    let peak = |kib: Option<u64>| kib.map_or("—".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    table.push_str(&format!(
        "\nPeak RSS: ours {}, the original {}; replayed rounds ran {} tasks on one client of the driver (its default \
         pool). Database CPU at rest (taken off every round): {} ms/s.\n",
        peak(server.memory_kib("VmHWM").ok()),
        original.as_ref().map_or("not run".into(), |(node, _)| peak(node.peak_rss_kib())),
        CONNECTIONS,
        idle_rates.iter().map(|r| format!("{:.1}", r * 1000.0)).collect::<Vec<_>>().join(" / "),
    ));
    Ok(table)
}
