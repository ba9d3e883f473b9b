//! Graceful shutdown of the real binary (README, "Stopping the server"): SIGTERM with uploads and
//! view-counting watches in flight answers every one of them and exits 0; no acknowledged view is
//! lost; the SQLite WAL is checkpointed into the database file; the processing job that was running
//! is given back, so the next start resumes it at once although its lease would last an hour.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixtures;
use crate::helpers::{
    PROCESSING_OFF, ServerProcess, TestApp, drop_mongodb_database, fresh_mongodb_database, http_client,
};
use crate::processing::{clip, tools};

const UPLOADS: usize = 8;
const WATCHES: usize = 56;
/// Bounds on waits for the server, far above what they take: a hung server fails the test.
const PATIENCE: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(50);

/// A `/proc/net/tcp` queue of the connection from port `local` to port `remote`: `tx` (sent, not
/// yet acknowledged) or `rx` (received, not yet read by the program).
fn queue(local: u16, remote: u16, rx: bool) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |address: &str| u16::from_str_radix(address.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if port(fields[1]) != Some(local) || port(fields[2]) != Some(remote) {
            return None;
        }
        let (tx_queue, rx_queue) = fields[4].split_once(':')?;
        u64::from_str_radix(if rx { rx_queue } else { tx_queue }, 16).ok()
    })
}

/// Waits until the server process has read everything sent on `stream`: the request is then in
/// the server's hands (parsed and running, or answered), not waiting in the kernel.
async fn taken_in(stream: &TcpStream) {
    let (client, server) = (stream.local_addr().unwrap().port(), stream.peer_addr().unwrap().port());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if queue(client, server, false) == Some(0) && queue(server, client, true) == Some(0) {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the server never read the request sent from port {client}");
}

/// Reads an HTTP/1.1 answer to the end of the connection: its status and JSON body.
async fn answer(mut stream: TcpStream) -> (u16, Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no answer: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// `POST /api/v1/videos` as raw bytes: the head (with its first half of the body) and the rest.
fn upload(token: &str, title: &str) -> (Vec<u8>, Vec<u8>) {
    let boundary = "shutdown-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [("title", title), ("description", "In flight at SIGTERM")] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    for (name, file, bytes) in [("videoFile", "v.mp4", fixtures::mp4(25)), ("thumbnail", "t.jpg", fixtures::jpeg())] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\r\n")
                .bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    let mut head = format!(
        "POST /api/v1/videos HTTP/1.1\r\nHost: videotube\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    let rest = body.split_off(body.len() / 2);
    head.extend(body);
    (head, rest)
}

async fn processing_status(server: &ServerProcess, token: &str, video: &str) -> String {
    let url = format!("{}/api/v1/videos/{video}/processing", server.base);
    let resp = http_client().get(url).bearer_auth(token).send().await.unwrap();
    let json: Value = resp.json().await.unwrap();
    json["data"]["status"].as_str().unwrap_or_default().to_owned()
}

/// Polls the job of `video` until its status is one of `wanted`.
async fn await_status(server: &ServerProcess, token: &str, video: &str, wanted: &[&str]) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status = processing_status(server, token, video).await;
        if wanted.contains(&status.as_str()) || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn terminate(server: &ServerProcess) {
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
}

/// Waits for the server to exit after SIGTERM; its exit status.
async fn exit_status(server: &mut ServerProcess) -> std::process::ExitStatus {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the server did not exit after SIGTERM");
}

/// An ffprobe that answers `-version` and otherwise runs until it is killed: a job that reaches it
/// stays running until the server stops it.
fn stuck_ffprobe(dir: &Path, real: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("stuck-ffprobe");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = \"-version\" ]; then exec '{}' -version; fi\nexec /bin/sleep 600\n",
        real.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The MongoDB database of a test run on MongoDB (`TEST_MONGODB_URI`), dropped at its end.
struct MongoDatabase(Option<String>);

impl Drop for MongoDatabase {
    fn drop(&mut self) {
        if let Some(uri) = &self.0 {
            drop_mongodb_database(uri);
        }
    }
}

#[tokio::test]
async fn sigterm_answers_every_request_in_flight_keeps_every_view_and_gives_the_job_back() {
    let dir = tempfile::tempdir().unwrap();
    let tools = tools();
    if tools.is_none() {
        eprintln!("ffmpeg is not installed: the processing job part of this test is skipped");
    }
    let ffmpeg = tools.as_ref().map(|(ffmpeg, _)| ffmpeg.to_str().unwrap().to_owned());
    let ffprobe = tools.as_ref().map(|(_, ffprobe)| ffprobe.to_str().unwrap().to_owned());
    let stuck = tools.as_ref().map(|(_, ffprobe)| stuck_ffprobe(dir.path(), ffprobe));
    let mut vars = vec![
        ("RATE_LIMIT_ENABLED", "false"),
        ("BCRYPT_COST", "4"),
        ("VIEW_WINDOW_SECS", "0"),
        ("SHUTDOWN_GRACE_SECS", "120"),
        // Were the job not given back, the next start could only take it over in an hour.
        ("PROCESSING_LEASE_SECS", "3600"),
        ("HLS_RENDITIONS", "120"),
    ];
    // On the suite's store: SQLite, or MongoDB when the suite runs on it.
    let mongodb = MongoDatabase(fresh_mongodb_database());
    if let Some(uri) = &mongodb.0 {
        vars.push(("MONGODB_URI", uri));
    }
    match (&ffmpeg, &stuck) {
        (Some(ffmpeg), Some(stuck)) => {
            vars.extend([("PROCESSING_ENABLED", "true"), ("FFMPEG_PATH", ffmpeg), ("FFPROBE_PATH", stuck)])
        }
        _ => vars.push(("PROCESSING_ENABLED", "false")),
    }
    let mut server = ServerProcess::start(dir.path(), &vars).await.expect("server starts");
    let token = server.user_token("asha").await;
    let video_bytes = match &tools {
        Some(_) => {
            clip(dir.path(), "clip.mp4", "160x120", 2, &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        }
        None => fixtures::mp4(25),
    };
    let form = TestApp::video_form("Watched", video_bytes, "clip.mp4");
    let publish = http_client().post(format!("{}/api/v1/videos", server.base)).bearer_auth(&token).multipart(form);
    let published: Value = publish.send().await.unwrap().json().await.unwrap();
    let video = published["data"]["_id"].as_str().expect("published").to_owned();
    if tools.is_some() {
        let status = await_status(&server, &token, &video, &["processing"]).await;
        assert_eq!(status, "processing", "the job is running (in the stuck ffprobe)");
    }

    let address = server.base.trim_start_matches("http://").to_owned();
    let mut uploads = Vec::new();
    for n in 0..UPLOADS {
        let (head, rest) = upload(&token, &format!("Upload {n}"));
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream.write_all(&head).await.unwrap();
        uploads.push((stream, rest));
    }
    let mut watches = Vec::new();
    for _ in 0..WATCHES {
        let request = format!(
            "GET /api/v1/videos/{video} HTTP/1.1\r\nHost: videotube\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\n\r\n"
        );
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        watches.push(stream);
    }
    for (stream, _) in &uploads {
        taken_in(stream).await;
    }
    for stream in &watches {
        taken_in(stream).await;
    }

    terminate(&server);
    let uploads = uploads.into_iter().map(|(mut stream, rest)| async move {
        stream.write_all(&rest).await.unwrap();
        answer(stream).await
    });
    let (uploaded, watched) = tokio::join!(
        futures_util::future::join_all(uploads),
        futures_util::future::join_all(watches.into_iter().map(answer))
    );
    for (status, body) in &uploaded {
        assert_eq!(*status, 201, "{body}");
        assert_eq!(body["message"], "Video uploaded successfully");
    }
    let mut views: Vec<i64> = watched
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 200, "{body}");
            body["data"]["views"].as_i64().unwrap()
        })
        .collect();
    views.sort_unstable();
    assert_eq!(views, (1..=WATCHES as i64).collect::<Vec<_>>(), "each watch was counted once");
    assert!(exit_status(&mut server).await.success(), "exit status 0");
    if mongodb.0.is_none() {
        let wal = dir.path().join("data/videotube.db-wal");
        assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0, "the WAL was checkpointed into the database");
    }

    let vars: Vec<(&str, &str)> = vars
        .into_iter()
        .map(|(k, v)| if k == "FFPROBE_PATH" { (k, ffprobe.as_deref().unwrap()) } else { (k, v) })
        .collect();
    let mut server = ServerProcess::start(dir.path(), &vars).await.expect("server starts again");
    let url = format!("{}/api/v1/videos/{video}", server.base);
    let watched: Value = http_client().get(url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(watched["data"]["views"], WATCHES as i64 + 1, "every acknowledged view is there, and this one");
    for (_, body) in &uploaded {
        let url = format!("{}/api/v1/videos/{}", server.base, body["data"]["_id"].as_str().unwrap());
        let status = http_client().get(url).bearer_auth(&token).send().await.unwrap().status();
        assert_eq!(status, 200, "the video uploaded during the shutdown is there");
    }
    if tools.is_some() {
        let status = await_status(&server, &token, &video, &["ready", "failed"]).await;
        assert_eq!(status, "ready", "the job given back was resumed at once and finished");
    }
    terminate(&server);
    assert!(exit_status(&mut server).await.success());
}

#[tokio::test]
async fn a_request_still_running_after_the_grace_period_does_not_keep_the_server_up() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("RATE_LIMIT_ENABLED", "false"), ("BCRYPT_COST", "4"), ("SHUTDOWN_GRACE_SECS", "1"), PROCESSING_OFF];
    let mut server = ServerProcess::start(dir.path(), &vars).await.expect("server starts");
    let token = server.user_token("asha").await;
    let (head, _never_sent) = upload(&token, "Never finished");
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(&head).await.unwrap();
    taken_in(&stream).await;
    terminate(&server);
    assert!(exit_status(&mut server).await.success(), "exit status 0 once the grace period is over");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "no answer to the unfinished upload: {}", String::from_utf8_lossy(&rest));
}
