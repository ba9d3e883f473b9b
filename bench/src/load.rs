//! The load generator (one HTTP/1.1 keep-alive connection per worker) and the raw baselines.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Copy, Debug)]
pub struct LoadStats {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

fn stats(mut latencies: Vec<Duration>, elapsed: Duration) -> LoadStats {
    latencies.sort();
    let pick = |q: f64| {
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    LoadStats { rps: latencies.len() as f64 / elapsed.as_secs_f64(), p50_ms: pick(0.5), p99_ms: pick(0.99) }
}

/// `connections` workers sending GETs back to back for `duration`.
pub async fn load(url: &str, connections: usize, duration: Duration) -> LoadStats {
    let started = Instant::now();
    let stop = started + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move {
                let client = reqwest::Client::builder().http1_only().pool_max_idle_per_host(1).build().unwrap();
                let mut latencies = Vec::new();
                while Instant::now() < stop {
                    let t = Instant::now();
                    if let Ok(resp) = client.get(&url).send().await
                        && resp.bytes().await.is_ok()
                    {
                        latencies.push(t.elapsed());
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    stats(all, started.elapsed())
}

/// `connections` workers for `duration`; request number `k` (counted over all workers) is the one
/// `build(client, k)` makes. Returns the stats of the requests answered 2xx and their numbers.
pub async fn load_numbered<F>(connections: usize, duration: Duration, build: F) -> (LoadStats, Vec<u64>)
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let build = std::sync::Arc::new(build);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let stop = started + duration;
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (build, next) = (build.clone(), next.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::builder().http1_only().pool_max_idle_per_host(1).build().unwrap();
                let mut done = Vec::new();
                while Instant::now() < stop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let t = Instant::now();
                    if let Ok(resp) = build(&client, k).send().await
                        && resp.status().is_success()
                        && resp.bytes().await.is_ok()
                    {
                        done.push((t.elapsed(), k));
                    }
                }
                done
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    let numbers = all.iter().map(|(_, k)| *k).collect();
    (stats(all.into_iter().map(|(t, _)| t).collect(), elapsed), numbers)
}

/// `count` GETs one after another on one connection (latency without queueing).
pub async fn sequential(url: &str, count: usize) -> LoadStats {
    sequential_with(url, None, count).await
}

/// As [`sequential`], with a bearer token when one is given.
pub async fn sequential_with(url: &str, token: Option<&str>, count: usize) -> LoadStats {
    let client = reqwest::Client::new();
    let get = || match token {
        Some(token) => client.get(url).bearer_auth(token),
        None => client.get(url),
    };
    let _ = get().send().await;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        if let Ok(resp) = get().send().await
            && resp.bytes().await.is_ok()
        {
            latencies.push(t.elapsed());
        }
    }
    stats(latencies, started.elapsed())
}

const CHUNK: usize = 1 << 20;

/// Baseline for range reads: the file at `path` read in 1 MiB pieces (as the media route reads) and
/// sent over a loopback TCP connection to a reader in this process; bytes/s. The HTTP path does this
/// copy too, so it bounds what a range request can reach on this machine.
pub async fn file_over_loopback(path: &Path) -> anyhow::Result<f64> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let path = path.to_owned();
    let sender = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut file = tokio::fs::File::open(&path).await?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            socket.write_all(&buf[..n]).await?;
        }
        socket.shutdown().await?;
        anyhow::Ok(())
    });
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut buf = vec![0u8; CHUNK];
    let mut received = 0u64;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    sender.await??;
    Ok(received as f64 / started.elapsed().as_secs_f64())
}

/// Baseline: `size` bytes over a loopback TCP connection into a file, then fsync; bytes/s.
pub async fn raw_tcp_to_file(size: u64, path: &Path) -> anyhow::Result<f64> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let path = path.to_owned();
    let receiver = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut file = tokio::fs::File::create(&path).await?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = socket.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).await?;
        }
        file.sync_data().await?;
        anyhow::Ok(())
    });
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let chunk = vec![7u8; CHUNK];
    let mut sent = 0u64;
    while sent < size {
        let n = (size - sent).min(CHUNK as u64) as usize;
        stream.write_all(&chunk[..n]).await?;
        sent += n as u64;
    }
    stream.shutdown().await?;
    receiver.await??;
    Ok(size as f64 / started.elapsed().as_secs_f64())
}

/// Bytes `start..end` of the synthetic video both upload scenarios send: an `ftyp` signature,
/// then filler, produced `CHUNK` bytes at a time (the chunks at `start` and `end` trimmed).
fn video_bytes(start: u64, end: u64) -> reqwest::Body {
    let mut head = vec![7u8; CHUNK];
    head[..4].fill(0);
    head[4..8].copy_from_slice(b"ftyp");
    head[8..12].copy_from_slice(b"isom");
    let head = bytes::Bytes::from(head);
    let filler = bytes::Bytes::from(vec![7u8; CHUNK]);
    let mut at = start;
    let chunks = std::iter::from_fn(move || {
        (at < end).then(|| {
            let within = (at % CHUNK as u64) as usize;
            let n = (end - at).min((CHUNK - within) as u64) as usize;
            let source = if at < CHUNK as u64 { &head } else { &filler };
            at += n as u64;
            source.slice(within..within + n)
        })
    });
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks.map(Ok::<_, std::io::Error>)))
}

/// The publish form of both upload scenarios: the video as a file part or as a finished
/// resumable upload, and a thumbnail.
fn publish_form(video: reqwest::multipart::Form) -> reqwest::multipart::Form {
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0];
    video
        .text("title", "Bench upload")
        .text("description", "A large upload")
        .part("thumbnail", reqwest::multipart::Part::bytes(jpeg).file_name("t.jpg"))
}

/// Publishes a video of `size` bytes as one multipart request; returns the status.
pub async fn multipart_upload(url: &str, token: &str, size: u64) -> anyhow::Result<u16> {
    let part = reqwest::multipart::Part::stream_with_length(video_bytes(0, size), size).file_name("big.mp4");
    let form = publish_form(reqwest::multipart::Form::new().part("videoFile", part));
    let resp = reqwest::Client::new().post(url).bearer_auth(token).multipart(form).send().await?;
    Ok(resp.status().as_u16())
}

/// Sends the same video through tus (`base` is the server's origin) in PATCHes of `patch` bytes,
/// then publishes it from the finished upload; returns the publish status.
pub async fn tus_upload(base: &str, token: &str, size: u64, patch: u64) -> anyhow::Result<u16> {
    let client = reqwest::Client::new();
    let tus = |method: reqwest::Method, url: &str| {
        client.request(method, url).bearer_auth(token).header("Tus-Resumable", "1.0.0")
    };
    let created = tus(reqwest::Method::POST, &format!("{base}/api/v1/uploads/tus"))
        .header("Upload-Length", size.to_string())
        .header("Upload-Metadata", "field dmlkZW9GaWxl") // base64 of videoFile
        .send()
        .await?;
    anyhow::ensure!(created.status() == 201, "tus creation answered {}", created.status());
    let location = created.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    for start in (0..size).step_by(patch as usize) {
        let end = (start + patch).min(size);
        let resp = tus(reqwest::Method::PATCH, &location)
            .header("Upload-Offset", start.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Content-Length", (end - start).to_string())
            .body(video_bytes(start, end))
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 204, "PATCH at {start} answered {}", resp.status());
    }
    let form = publish_form(reqwest::multipart::Form::new().text("videoFileUpload", location));
    let resp = client.post(format!("{base}/api/v1/videos")).bearer_auth(token).multipart(form).send().await?;
    Ok(resp.status().as_u16())
}
