//! The database going away under load and coming back (docs/api.md §1.4, 503). MongoDB: the
//! deployment is cut off by a proxy between the server and `TEST_MONGODB_URI` (existing connections
//! closed, new ones refused), then let through again. SQLite: the disk holding the database fills
//! up, then space returns. While the store is out, every request that needs it answers 503
//! `"Service temporarily unavailable"` with `Retry-After`, never 500 and never a hang; the
//! healthcheck reports the store unreachable; afterwards the same process serves again, and every
//! write that was acknowledged is there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::helpers::{Resp, Session, SmallDisk, StoreBackend, TestApp, http_client, test_mongodb_uri};

/// A TCP proxy to one upstream address that can be cut (open connections closed, new ones closed
/// as soon as they are accepted) and restored.
struct Proxy {
    address: String,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (up, _) = watch::channel(true);
        let state = up.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                if !*state.borrow() {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = state.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { address, up, task }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How long a client waits for any answer: the requests of an outage must be answered well within
/// it (the driver gives up selecting a server after 5 s, and a retried operation selects twice).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client that waits `CLIENT_TIMEOUT` for an answer.
fn patient_client() -> reqwest::Client {
    http_client();
    reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().unwrap()
}

/// What one request of the load saw.
#[derive(Debug)]
struct Seen {
    status: u16,
    /// The tweet's id, for an acknowledged write.
    id: Option<String>,
}

/// Asserts the 503 a client sees while the store is out.
fn assert_unavailable(resp: &Resp) {
    assert_eq!(resp.err(503, "Service temporarily unavailable"), &json!([]));
    let retry_after = resp.headers.get("retry-after").expect("a 503 carries Retry-After");
    assert!(retry_after.to_str().unwrap().parse::<u64>().unwrap() > 0);
}

/// One writer of the load: tweets until `stop`, recording what each answer was.
async fn write_tweets(app_url: String, token: String, writer: usize, stop: Arc<AtomicBool>) -> Vec<Seen> {
    let client = patient_client();
    let mut seen = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let request = client.post(format!("{app_url}/tweets")).bearer_auth(&token);
        let sent = request.json(&json!({ "content": format!("writer {writer} tweet {n}") })).send().await;
        let resp = Resp::from(sent.unwrap_or_else(|e| panic!("writer {writer}: no answer (a hang?): {e}"))).await;
        match resp.status.as_u16() {
            201 => {
                let id = resp.ok(201, "Tweet created successfully")["_id"].as_str().unwrap().to_owned();
                seen.push(Seen { status: 201, id: Some(id) });
            }
            503 => {
                assert_unavailable(&resp);
                seen.push(Seen { status: 503, id: None });
            }
            other => panic!("writer {writer}: unexpected {other}: {}", resp.body),
        }
    }
    seen
}

/// One reader of the load: the caller, then the feed, until `stop`; counts the 503s.
async fn read_pages(app_url: String, token: String, stop: Arc<AtomicBool>, unavailable: Arc<AtomicUsize>) {
    let client = patient_client();
    while !stop.load(Ordering::Relaxed) {
        for path in ["/users/current-user", "/videos?limit=5"] {
            let sent = client.get(format!("{app_url}{path}")).bearer_auth(&token).send().await;
            let resp = Resp::from(sent.unwrap_or_else(|e| panic!("GET {path}: no answer (a hang?): {e}"))).await;
            match resp.status.as_u16() {
                200 => {}
                503 => {
                    assert_unavailable(&resp);
                    unavailable.fetch_add(1, Ordering::Relaxed);
                }
                other => panic!("GET {path}: unexpected {other}: {}", resp.body),
            }
        }
    }
}

/// Polls `check` every 50 ms until it holds, failing after `deadline`; returns how long it took.
async fn within<F, Fut>(deadline: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < deadline, "{what}: not within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

async fn store_reachable(app: &TestApp) -> bool {
    let resp = app.get("/healthcheck", None).await;
    resp.ok(200, "OK")["store"]["reachable"].as_bool().unwrap()
}

/// The tweets of `user`, by id.
async fn stored_tweets(app: &TestApp, user: &Session) -> Vec<String> {
    let resp = app.get(&format!("/tweets/user/{}", user.id), None).await;
    let tweets = resp.ok(200, "Tweets fetched successfully").as_array().unwrap().clone();
    tweets.iter().map(|t: &Value| t["_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mongodb_going_away_under_load_answers_503_and_recovers_without_losing_writes() {
    let Some(uri) = test_mongodb_uri() else {
        eprintln!("skipped: the MongoDB outage test needs TEST_MONGODB_URI (CI sets it); SQLite has its own below");
        return;
    };
    let proxy = Proxy::start(crate::helpers::mongodb_address(&uri).await).await;
    let app = TestApp::builder().store(StoreBackend::Mongo).mongodb_via(&proxy.address).spawn().await;
    let asha = app.user("asha").await;
    let stop = Arc::new(AtomicBool::new(false));
    let read_503s = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> =
        (0..6).map(|w| tokio::spawn(write_tweets(app.url(""), asha.access.clone(), w, stop.clone()))).collect();
    let readers: Vec<_> = (0..4)
        .map(|_| tokio::spawn(read_pages(app.url(""), asha.access.clone(), stop.clone(), read_503s.clone())))
        .collect();
    within(Duration::from_secs(30), "tweets are written before the cut", || async {
        stored_tweets(&app, &asha).await.len() >= 12
    })
    .await;

    proxy.cut();
    let cut_at = Instant::now();
    within(Duration::from_secs(30), "the healthcheck reports the store unreachable", || async {
        !store_reachable(&app).await
    })
    .await;
    // A request of its own during the outage: answered 503 within the client's patience.
    let during = Resp::from(
        patient_client().get(app.url("/users/current-user")).bearer_auth(&asha.access).send().await.unwrap(),
    )
    .await;
    assert_unavailable(&during);
    within(Duration::from_secs(30), "readers see 503s", || async { read_503s.load(Ordering::Relaxed) >= 4 }).await;
    eprintln!("outage: {:?} so far, {} reads answered 503", cut_at.elapsed(), read_503s.load(Ordering::Relaxed));

    proxy.restore();
    let recovered = within(Duration::from_secs(5), "the server serves again within 5 s of the database", || async {
        app.get("/users/current-user", Some(&asha)).await.status == 200
    })
    .await;
    eprintln!("served again {recovered:?} after the database came back");
    assert!(store_reachable(&app).await, "the healthcheck reports the store reachable again");
    let resp = app.json(Method::POST, "/tweets", Some(&asha), json!({ "content": "after the outage" })).await;
    let last = resp.ok(201, "Tweet created successfully")["_id"].as_str().unwrap().to_owned();

    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }
    let mut seen = Vec::new();
    for writer in writers {
        seen.extend(writer.await.unwrap());
    }
    let acknowledged: Vec<&String> = seen.iter().filter_map(|s| s.id.as_ref()).collect();
    let refused = seen.iter().filter(|s| s.status == 503).count();
    let stored = stored_tweets(&app, &asha).await;
    eprintln!("writes: {} acknowledged, {refused} answered 503, {} stored", acknowledged.len(), stored.len());
    assert!(refused > 0, "some writes met the outage");
    for id in acknowledged.iter().copied().chain([&last]) {
        assert!(stored.contains(id), "acknowledged tweet {id} was lost");
    }
    // A write cut off after the database applied it but before its answer may be stored though
    // answered 503; nothing that was not sent is.
    assert!(stored.len() <= acknowledged.len() + refused + 1, "more tweets stored than were sent");
}

/// Posts large `content` to `path` as `user` until a write is refused: the ids acknowledged
/// before, and the refusal (a 503).
async fn write_until_refused(app: &TestApp, user: &Session, path: &str) -> (Vec<String>, Resp) {
    let long = "x".repeat(1900);
    let mut acknowledged = Vec::new();
    for n in 0..2000 {
        let resp = app.json(Method::POST, path, Some(user), json!({ "content": format!("{n} {long}") })).await;
        if resp.status != 201 {
            assert_unavailable(&resp);
            return (acknowledged, resp);
        }
        acknowledged.push(resp.data()["_id"].as_str().unwrap().to_owned());
    }
    panic!("{path}: 2000 writes went through on a full disk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_503_writes_nothing_half_and_recovers_when_space_returns() {
    let Some(mut disk) = SmallDisk::mount("4m") else { return };
    let app = TestApp::builder().store(StoreBackend::Sqlite).data_dir(disk.dir.take().unwrap()).spawn().await;
    let asha = app.user("asha").await;
    let video = app.publish(&asha, "On a small disk").await["_id"].as_str().unwrap().to_owned();
    let filler = disk.fill(0);
    eprintln!("disk filled: {} bytes free", disk.free());

    // Writes go on until the database needs a page it cannot get; each answer is 201 or 503.
    let comments = format!("/comments/{video}");
    let (mut acknowledged, refusal) = write_until_refused(&app, &asha, &comments).await;
    assert!(!refusal.body.to_string().contains("full"), "no internals reach the client");
    eprintln!("{} comments acknowledged before the disk ran out", acknowledged.len());
    assert!(!store_reachable(&app).await, "the healthcheck reports the store unable to write");
    // Other writes meet the same disk (a small one may still fit where a failed one had written;
    // the watch page too, as it records a view); reads answer.
    let (tweets, _) = write_until_refused(&app, &asha, "/tweets").await;
    app.get("/videos?limit=5", None).await.ok(200, "Videos fetched successfully");
    app.get(&comments, None).await.ok(200, "Comments fetched successfully");

    // Space returns: the same process writes again, and nothing half-written is there.
    std::fs::remove_file(filler).unwrap();
    within(Duration::from_secs(5), "the healthcheck reports the store reachable again", || store_reachable(&app)).await;
    let resp = app.json(Method::POST, &format!("/comments/{video}"), Some(&asha), json!({ "content": "after" })).await;
    acknowledged.push(resp.ok(201, "Comment added successfully")["_id"].as_str().unwrap().to_owned());
    let resp = app.get(&format!("/comments/{video}?limit=100&page=1"), None).await;
    let page = resp.ok(200, "Comments fetched successfully");
    let mut stored: Vec<String> = Vec::new();
    let total = page["totalDocs"].as_u64().unwrap() as usize;
    for p in 1..=total.div_ceil(100) {
        let resp = app.get(&format!("/comments/{video}?limit=100&page={p}"), None).await;
        let docs = resp.ok(200, "Comments fetched successfully")["docs"].as_array().unwrap().clone();
        stored.extend(docs.iter().map(|c| c["_id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(total, acknowledged.len(), "exactly the acknowledged comments are stored");
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged comment {id} is missing");
    }
    let mut kept = stored_tweets(&app, &asha).await;
    kept.sort();
    let mut tweets = tweets;
    tweets.sort();
    assert_eq!(kept, tweets, "exactly the acknowledged tweets are stored");
    drop(app);
    drop(disk);
}
