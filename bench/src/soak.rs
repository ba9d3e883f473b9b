//! The soak scenario (issue 27 item 6): one server, on SQLite or on a fresh MongoDB database, under a
//! long mixed load, its resident memory and open file descriptors sampled every `SAMPLE_EVERY`;
//! the medians of the minute after warm-up and of the last minute under load are compared.
//!
//! `WORKERS` clients, each on its own keep-alive connection, register and log in (again every
//! `RELOGIN_EVERY` actions), then loop over `MIX`: watch pages (views and history written), feeds,
//! comments pages, search and suggestions, related videos, comments, likes, subscriptions, small
//! multipart and tus uploads, and uploads whose client disconnects mid-body. Every answer must be
//! 2xx (none of these requests has an expected refusal); anything else, or a request that fails,
//! is an error. At the end the server's temp and tus areas must be empty.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::Row;
use crate::server::{self, Server};

const WORKERS: usize = 16;
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Videos seeded before the run (ten owners).
const SEEDED_VIDEOS: u64 = 10_000;
const RELOGIN_EVERY: u64 = 500;
/// Bytes of each upload of the mix, and of the tus PATCHes.
const UPLOAD_BYTES: u64 = 64 * 1024;
/// Bytes an aborted upload declares, and sends before disconnecting.
const ABORTED_DECLARED: usize = 4 << 20;
const ABORTED_SENT: usize = 256 * 1024;

#[derive(Clone, Copy, Debug)]
enum Action {
    Watch,
    Feed,
    SubscriptionFeed,
    Comments,
    Search,
    Suggest,
    Related,
    Comment,
    Like,
    Subscribe,
    Upload,
    Tus,
    AbortedUpload,
}

/// The mix, in parts per 200 actions.
const MIX: [(Action, u64); 13] = [
    (Action::Watch, 50),
    (Action::Feed, 30),
    (Action::SubscriptionFeed, 10),
    (Action::Comments, 14),
    (Action::Search, 24),
    (Action::Suggest, 8),
    (Action::Related, 6),
    (Action::Comment, 20),
    (Action::Like, 18),
    (Action::Subscribe, 14),
    (Action::Upload, 2),
    (Action::Tus, 2),
    (Action::AbortedUpload, 2),
];

/// The action of draw `k` (a spread of the mix: every 200 draws hold each action its parts).
fn action(k: u64) -> Action {
    let total: u64 = MIX.iter().map(|(_, parts)| parts).sum();
    let mut at = k.wrapping_mul(7919) % total;
    for (action, parts) in MIX {
        if at < parts {
            return action;
        }
        at -= parts;
    }
    Action::Watch
}

/// One answered or failed request: when it started (since the run began), how long it took, and
/// whether it was an error (non-2xx, or no answer).
struct Sample {
    at: Duration,
    latency: Duration,
    error: Option<String>,
}

/// Whether an error is the server's answer with a 5xx status.
fn is_5xx(error: &str) -> bool {
    error.trim_start_matches("login: ").starts_with("HTTP 5")
}

/// One worker's state: its client, token and counters.
struct Worker {
    base: String,
    client: reqwest::Client,
    id: usize,
    token: String,
    logins: u64,
    /// Uploads disconnected mid-body.
    aborted: u64,
    samples: Vec<Sample>,
    started: Instant,
}

impl Worker {
    /// Records how `request` went.
    async fn timed<F>(&mut self, request: F)
    where
        F: Future<Output = Result<u16, String>>,
    {
        let t = Instant::now();
        let outcome = request.await;
        let error = match outcome {
            Ok(status) if (200..300).contains(&status) => None,
            Ok(status) => Some(format!("HTTP {status}")),
            Err(e) => Some(e),
        };
        self.samples.push(Sample { at: t - self.started, latency: t.elapsed(), error });
    }

    async fn send(request: reqwest::RequestBuilder) -> Result<u16, String> {
        let resp = request.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        resp.bytes().await.map_err(|e| e.to_string())?;
        Ok(status)
    }

    /// Registers a new user and logs it in (two requests, both recorded).
    async fn sign_up(&mut self) {
        let username = format!("soak{}x{}", self.id, self.logins);
        self.logins += 1;
        let form = server::register_form(&username);
        let register = self.client.post(format!("{}/api/v1/users/register", self.base)).multipart(form);
        self.timed(Self::send(register)).await;
        let body = serde_json::json!({"username": username, "password": "bench-password"});
        let login = self.client.post(format!("{}/api/v1/users/login", self.base)).json(&body);
        let t = Instant::now();
        let answer = async {
            let resp = login.send().await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
            Ok::<_, String>((status, body["data"]["accessToken"].as_str().map(str::to_owned)))
        }
        .await;
        let error = match answer {
            Ok((200, Some(token))) => {
                self.token = token;
                None
            }
            Ok((status, _)) => Some(format!("login: HTTP {status}")),
            Err(e) => Some(e),
        };
        self.samples.push(Sample { at: t - self.started, latency: t.elapsed(), error });
    }

    async fn act(&mut self, action: Action, k: u64) {
        let video = server::video_id(k * 31 % SEEDED_VIDEOS);
        let base = self.base.clone();
        let get = |path: String| self.client.get(format!("{base}{path}")).bearer_auth(&self.token);
        let post = |path: String| self.client.post(format!("{base}{path}")).bearer_auth(&self.token);
        let request = match action {
            Action::Watch => get(format!("/api/v1/videos/{video}")),
            Action::Feed => get(format!("/api/v1/videos?limit=20&page={}", k % 5 + 1)),
            Action::SubscriptionFeed => get("/api/v1/subscriptions/feed?limit=20".into()),
            Action::Comments => get(format!("/api/v1/comments/{video}?limit=20")),
            Action::Search => get(format!("/api/v1/search/videos?q=video%20number%20{}", k % 1000)),
            Action::Suggest => {
                get(format!("/api/v1/search/suggest?q=vid{}", ["", "eo n", "eo number 1"][k as usize % 3]))
            }
            Action::Related => get(format!("/api/v1/videos/{video}/related")),
            Action::Comment => {
                post(format!("/api/v1/comments/{video}")).json(&serde_json::json!({"content": "Soak comment"}))
            }
            Action::Like => post(format!("/api/v1/likes/toggle/v/{video}")),
            // The seeded owners (ids 1..=10): never the worker's own channel.
            Action::Subscribe => post(format!("/api/v1/subscriptions/c/{:024x}", k % 10 + 1)),
            Action::Upload => {
                let (url, token) = (format!("{base}/api/v1/videos"), self.token.clone());
                let upload = async move {
                    crate::load::multipart_upload(&url, &token, UPLOAD_BYTES).await.map_err(|e| e.to_string())
                };
                return self.timed(upload).await;
            }
            Action::Tus => {
                let token = self.token.clone();
                let upload = async move {
                    crate::load::tus_upload(&base, &token, UPLOAD_BYTES, UPLOAD_BYTES / 2)
                        .await
                        .map_err(|e| e.to_string())
                };
                return self.timed(upload).await;
            }
            Action::AbortedUpload => {
                self.aborted += 1;
                if let Err(e) = aborted_upload(&base, &self.token).await {
                    self.samples.push(Sample {
                        at: self.started.elapsed(),
                        latency: Duration::ZERO,
                        error: Some(format!("aborted upload: {e}")),
                    });
                }
                return;
            }
        };
        self.timed(Self::send(request)).await
    }
}

/// A multipart video upload that declares `ABORTED_DECLARED` bytes, sends `ABORTED_SENT` of them
/// and disconnects: the server must clean up its temp file and carry on. Counted apart from requests.
async fn aborted_upload(base: &str, token: &str) -> anyhow::Result<()> {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/v1/videos HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=soakboundary\r\nContent-Length: {ABORTED_DECLARED}\r\n\r\n\
         --soakboundary\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nAborted\r\n\
         --soakboundary\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nAborted upload\r\n\
         --soakboundary\r\nContent-Disposition: form-data; name=\"videoFile\"; filename=\"a.mp4\"\r\n\
         Content-Type: video/mp4\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut body = vec![7u8; ABORTED_SENT];
    body[..4].fill(0);
    body[4..12].copy_from_slice(b"ftypisom");
    stream.write_all(&body).await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(())
}

/// Resident memory (KiB) and open file descriptors of the server, when sampled.
struct Usage {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    /// The machine's 1-minute load average (other work on the shared cores shows here).
    load: f64,
    /// Of `rss_kib`: anonymous memory (the heap: caches, SQLite's page caches) and file pages.
    anon_kib: u64,
    file_kib: u64,
}

fn usage(server: &Server, started: Instant) -> anyhow::Result<Usage> {
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN);
    Ok(Usage {
        at: started.elapsed(),
        rss_kib: server.memory_kib("VmRSS")?,
        fds: server.open_fds()?,
        load,
        anon_kib: server.memory_kib("RssAnon")?,
        file_kib: server.memory_kib("RssFile")?,
    })
}

/// The p99 (ms) of each whole minute of `samples`.
fn p99_per_minute(samples: &[Sample], minutes: u64) -> Vec<f64> {
    (0..minutes)
        .map(|m| {
            let mut latencies: Vec<Duration> =
                samples.iter().filter(|s| s.at.as_secs() / 60 == m).map(|s| s.latency).collect();
            latencies.sort();
            let i = (latencies.len() as f64 * 0.99) as usize;
            latencies.get(i.min(latencies.len().saturating_sub(1))).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        })
        .collect()
}

/// A seed the server cannot read would show as fast empty answers: the feed must hold every
/// seeded video, and a search for one title must find it.
async fn check_seed(server: &Server) -> anyhow::Result<()> {
    let feed: serde_json::Value = reqwest::get(server.url("/api/v1/videos?limit=20")).await?.json().await?;
    anyhow::ensure!(
        feed["data"]["totalDocs"] == SEEDED_VIDEOS && feed["data"]["docs"].as_array().map(Vec::len) == Some(20),
        "the seeded feed reads back wrong: {}",
        &feed.to_string()[..feed.to_string().len().min(300)]
    );
    let found: serde_json::Value =
        reqwest::get(server.url("/api/v1/search/videos?q=video%20number%20123")).await?.json().await?;
    let docs = found["data"]["docs"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        docs >= 1,
        "a search for a seeded title found nothing: {}",
        &found.to_string()[..300.min(found.to_string().len())]
    );
    Ok(())
}

/// Entries left in `dir` (missing counts as empty).
fn entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// The soak on SQLite, or on the MongoDB database `mongo` names (fresh: the server creates its
/// indexes, then the same owners and videos are inserted with the driver, `mongo::seed`).
pub async fn soak(duration: Duration, mongo: Option<&str>) -> anyhow::Result<Row> {
    let warm_up = duration / 10;
    let dir = tempfile::tempdir()?;
    let mut vars = vec![("RATE_LIMIT_ENABLED", "false")];
    if let Some(uri) = mongo {
        vars.push(("MONGODB_URI", uri));
    }
    let server = Server::start(dir.path(), &vars).await?;
    match mongo {
        Some(uri) => crate::mongo::seed(uri, SEEDED_VIDEOS).await.map(drop)?,
        None => server.seed(SEEDED_VIDEOS).await.map(drop)?,
    }
    check_seed(&server).await?;
    let started = Instant::now();
    let stop = started + duration;
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let base = server.url("");
            tokio::spawn(async move {
                let client = reqwest::Client::builder().http1_only().pool_max_idle_per_host(1).build().unwrap();
                let mut worker = Worker {
                    base,
                    client,
                    id,
                    token: String::new(),
                    logins: 0,
                    aborted: 0,
                    samples: Vec::new(),
                    started,
                };
                let mut k = id as u64;
                while Instant::now() < stop {
                    if (k / WORKERS as u64).is_multiple_of(RELOGIN_EVERY) {
                        worker.sign_up().await;
                    }
                    worker.act(action(k), k).await;
                    k += WORKERS as u64;
                }
                (worker.samples, worker.aborted)
            })
        })
        .collect();
    let mut usages = vec![usage(&server, started)?];
    while Instant::now() + SAMPLE_EVERY <= stop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        usages.push(usage(&server, started)?);
    }
    let (mut samples, mut aborted) = (Vec::new(), 0);
    for w in workers {
        let (done, cut) = w.await?;
        samples.extend(done);
        aborted += cut;
    }
    // Connections closed, in-flight work (aborted uploads' cleanup) settled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let end = usage(&server, started)?;
    let data = dir.path().join("data");
    let temp_left = entries(&data.join("tmp"));
    let tus_left = match mongo {
        Some(uri) => usize::try_from(crate::mongo::uploads_left(uri).await?)?,
        None => entries(&data.join("tus")),
    };

    // RSS moves by tens of MiB from one sample to the next under load (requests in flight), so
    // each end is the median of a minute of samples: the minute after warm-up, and the last one
    // under load (the same 16 connections open in both).
    let window = |from: Duration, to: Duration| -> (f64, f64) {
        let (mut rss, mut fds): (Vec<f64>, Vec<f64>) =
            usages.iter().filter(|u| u.at >= from && u.at < to).map(|u| (u.rss_kib as f64, u.fds as f64)).unzip();
        if rss.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        (crate::median(&mut rss) / 1024.0, crate::median(&mut fds))
    };
    let minute = Duration::from_secs(60);
    let (warm_rss, warm_fds) = window(warm_up, warm_up + minute);
    let (end_rss, end_fds) = window(duration.saturating_sub(minute), duration);
    let rss_growth = end_rss / warm_rss;
    let fd_growth = end_fds / warm_fds;
    let errors: Vec<&String> = samples.iter().filter_map(|s| s.error.as_ref()).collect();
    let server_errors = errors.iter().filter(|e| is_5xx(e)).count();
    // Each kind of error (its first 60 characters) with how often it happened.
    let mut kinds: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for e in &errors {
        *kinds.entry(e.chars().take(60).collect()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.into_iter().map(|(kind, n)| format!("{n}× {kind}")).collect();
    let minutes = duration.as_secs() / 60;
    let p99s = p99_per_minute(&samples, minutes);
    let flatness = p99s.iter().copied().fold(0.0, f64::max) / p99s.iter().copied().fold(f64::INFINITY, f64::min);
    let rss_mib = |u: &Usage| u.rss_kib as f64 / 1024.0;
    eprintln!(
        "bench: soak: samples (s, RSS MiB (anonymous+file), fds, load average): {}",
        usages
            .iter()
            .map(|u| {
                format!(
                    "{}:{:.1}({:.1}+{:.1}):{}:{:.1}",
                    u.at.as_secs(),
                    rss_mib(u),
                    u.anon_kib as f64 / 1024.0,
                    u.file_kib as f64 / 1024.0,
                    u.fds,
                    u.load
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(Row {
        scenario: match mongo {
            None => {
                "Soak, SQLite: one server, 16 connections of mixed requests (register/login, watch, feeds, comments, \
                 search, suggest, related, comment, like, subscribe, 64 KiB multipart and tus uploads, uploads \
                 disconnected mid-body), 10k videos, RSS and fds sampled every 10 s"
            }
            Some(_) => {
                "Soak, MongoDB: one server, 16 connections of mixed requests (register/login, watch, feeds, comments, \
                 search, suggest, related, comment, like, subscribe, 64 KiB multipart and tus uploads, uploads \
                 disconnected mid-body), 10k videos, RSS and fds sampled every 10 s"
            }
        },
        baseline: format!(
            "the minute after {} s of warm-up (medians of its samples): RSS {warm_rss:.1} MiB, {warm_fds:.0} fds",
            warm_up.as_secs()
        ),
        measured: format!(
            "the last minute under load: RSS {end_rss:.1} MiB, {end_fds:.0} fds; 2 s after the clients closed: RSS \
             {:.1} MiB, {} fds; {} requests (and {aborted} uploads cut off), {server_errors} 5xx, {} other errors{}; p99 per \
             minute {} ms (highest/lowest {flatness:.2}×); temp/tus entries left {temp_left}/{tus_left}",
            rss_mib(&end),
            end.fds,
            samples.len(),
            errors.len() - server_errors,
            if kinds.is_empty() { String::new() } else { format!(" ({})", kinds.join("; ")) },
            crate::slashed(&p99s, "")
        ),
        ratio: format!("RSS {rss_growth:.2}×, fds {fd_growth:.2}×"),
        target: "RSS and fds ≤ 1.1× (growth ≤ 10 %), 0 5xx, 0 other errors, temp and tus areas empty",
        met: rss_growth <= 1.1 && fd_growth <= 1.1 && errors.is_empty() && temp_left == 0 && tus_left == 0,
    })
}
