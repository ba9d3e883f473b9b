//! `bench`: measures videotube against baselines taken in the same run on the same machine and
//! prints raw numbers and ratios as a markdown table (paste it into BENCHMARKS.md).
//!
//! Run with `cargo run --release -p videotube-bench` (it builds the release server binaries first).

mod load;
mod server;

use std::time::{Duration, Instant};

use anyhow::Context;
use load::{load, sequential};
use server::{Server, cargo_build, target_bin};

/// Scenario names accepted on the command line, in the order they run.
const SCENARIOS: [&str; 6] = ["cold", "throughput", "scale", "login", "range", "upload"];

struct Row {
    scenario: &'static str,
    baseline: String,
    measured: String,
    ratio: String,
    target: &'static str,
    met: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is shared with the server crate, which builds it without a bundled TLS provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Arguments are checked before the (slow) release build, so a typo fails at once.
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 2 } else { 5 };
    // Scenario names given on the command line select a subset (cold, throughput, scale, login, range, upload).
    let picked: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if let Some(flag) = std::env::args().skip(1).find(|a| a.starts_with("--") && a != "--quick") {
        anyhow::bail!("unknown option {flag}; usage: bench [--quick] [{}]...", SCENARIOS.join("|"));
    }
    if let Some(name) = picked.iter().find(|p| !SCENARIOS.contains(&p.as_str())) {
        anyhow::bail!("unknown scenario {name:?}; the scenarios are {}", SCENARIOS.join(", "));
    }
    cargo_build()?;
    // Says which scenario starts, so a long run shows progress before the final table.
    let run = |name: &str| {
        let selected = picked.is_empty() || picked.iter().any(|p| p == name);
        if selected {
            eprintln!("bench: running {name}{}", if quick { " (quick)" } else { "" });
        }
        selected
    };
    let mut rows = Vec::new();
    if run("cold") {
        rows.push(cold_start().await?);
    }
    if run("throughput") {
        let (middleware, feed) = throughput(secs).await?;
        rows.push(middleware);
        rows.push(feed);
    }
    if run("scale") {
        rows.push(feed_at_scale(if quick { 100_000 } else { 1_000_000 }).await?);
    }
    if run("login") {
        rows.push(login_pressure(secs).await?);
    }
    if run("range") {
        rows.push(range_reads().await?);
    }
    if run("upload") {
        rows.push(upload(if quick { 256 } else { 1024 }).await?);
    }

    let mut report = String::from(
        "| Scenario | Baseline (same run) | videotube | Ratio | Target | Met |\n|---|---|---|---|---|---|\n",
    );
    for r in &rows {
        report.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.baseline,
            r.measured,
            r.ratio,
            r.target,
            if r.met { "yes" } else { "**no**" }
        ));
    }
    println!("\n{report}");
    std::fs::write("target/bench-report.md", &report).context("writing target/bench-report.md")?;
    Ok(())
}

async fn cold_start() -> anyhow::Result<Row> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir()?;
        let started = Instant::now();
        let server = Server::start(dir.path(), &[]).await?;
        times.push(started.elapsed());
        drop(server);
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64() * 1000.0;
    Ok(Row {
        scenario: "Cold start to first healthcheck (SQLite, empty DATA_DIR), median of 5",
        baseline: "—".into(),
        measured: format!("{median:.0} ms"),
        ratio: "—".into(),
        target: "≤ 200 ms",
        met: median <= 200.0,
    })
}

/// Scenarios against the bare axum hello-world: the trivial route and the 10k-video feed.
async fn throughput(secs: u64) -> anyhow::Result<(Row, Row)> {
    let hello_port = server::free_port();
    let mut hello = std::process::Command::new(target_bin("hello")).env("PORT", hello_port.to_string()).spawn()?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let duration = Duration::from_secs(secs);
    let baseline = load(&format!("http://127.0.0.1:{hello_port}/"), 64, duration).await;
    hello.kill()?;
    hello.wait()?;

    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path(), &[("RATE_LIMIT_ENABLED", "false")]).await?;
    // The JSON 404 of an unknown path: no I/O, every layer of the stack.
    let trivial = load(&server.url("/api/v1/bench-trivial"), 64, duration).await;
    server.seed(10_000).await?;
    let feed = load(&server.url("/api/v1/videos?limit=20"), 64, duration).await;
    let trivial_ratio = trivial.rps / baseline.rps;
    let feed_ratio = feed.rps / baseline.rps;
    Ok((
        Row {
            scenario: "Trivial route (JSON 404 of an unknown path) through the full middleware stack, 64 connections",
            baseline: format!("hello-world {:.0} req/s", baseline.rps),
            measured: format!("{:.0} req/s (p99 {:.1} ms)", trivial.rps, trivial.p99_ms),
            ratio: format!("{trivial_ratio:.2}×"),
            target: "≥ 0.8×",
            met: trivial_ratio >= 0.8,
        },
        Row {
            scenario: "GET /videos?limit=20, 10k videos, 64 connections",
            baseline: format!("hello-world {:.0} req/s", baseline.rps),
            measured: format!("{:.0} req/s, p99 {:.1} ms", feed.rps, feed.p99_ms),
            ratio: format!("{feed_ratio:.2}×"),
            target: "≥ 0.25× and p99 ≤ 25 ms",
            met: feed_ratio >= 0.25 && feed.p99_ms <= 25.0,
        },
    ))
}

/// p50 of the three feed shapes at `large` videos against the same at 10k.
async fn feed_at_scale(large: u64) -> anyhow::Result<Row> {
    let queries =
        ["/api/v1/videos?limit=20", "/api/v1/videos?limit=20&userId={owner}", "/api/v1/videos?limit=20&sortBy=views"];
    let mut p50s = Vec::new();
    for count in [10_000, large] {
        let dir = tempfile::tempdir()?;
        // The database path, not the feed cache: this row is about index-backed queries.
        let server =
            Server::start(dir.path(), &[("RATE_LIMIT_ENABLED", "false"), ("FEED_CACHE_ENABLED", "false")]).await?;
        let owner = server.seed(count).await?;
        let mut row = Vec::new();
        for q in queries {
            let stats = sequential(&server.url(&q.replace("{owner}", &owner)), 300).await;
            row.push(stats.p50_ms);
        }
        p50s.push(row);
    }
    let ratios: Vec<f64> = (0..queries.len()).map(|i| p50s[1][i] / p50s[0][i]).collect();
    let worst = ratios.iter().copied().fold(0.0, f64::max);
    let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(" / ");
    Ok(Row {
        scenario: "GET /videos p50 (default / userId / sortBy=views) at scale",
        baseline: format!("10k videos: {} ms", fmt(&p50s[0])),
        measured: format!("{} videos: {} ms", large, fmt(&p50s[1])),
        ratio: format!(
            "{} (worst {worst:.2}×)",
            ratios.iter().map(|r| format!("{r:.2}×")).collect::<Vec<_>>().join(" / ")
        ),
        target: "≤ 1.5×",
        met: worst <= 1.5,
    })
}

/// p99 of the feed while 50 clients log in continuously, against the same unloaded.
async fn login_pressure(secs: u64) -> anyhow::Result<Row> {
    let dir = tempfile::tempdir()?;
    // Every feed request does its database work here, so the CPU the hashing takes shows.
    let server = Server::start(dir.path(), &[("RATE_LIMIT_ENABLED", "false"), ("FEED_CACHE_ENABLED", "false")]).await?;
    server.seed(10_000).await?;
    server.register("bencher").await?;
    let feed = server.url("/api/v1/videos?limit=20");
    let duration = Duration::from_secs(secs);
    let unloaded = load(&feed, 4, duration).await;
    let stop = Instant::now() + duration + Duration::from_secs(1);
    let login_url = server.url("/api/v1/users/login");
    let logins: Vec<_> = (0..50)
        .map(|_| {
            let url = login_url.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let body = serde_json::json!({"username": "bencher", "password": "bench-password"});
                let mut done = 0u64;
                while Instant::now() < stop {
                    if client.post(&url).json(&body).send().await.is_ok() {
                        done += 1;
                    }
                }
                done
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = load(&feed, 4, duration).await;
    let mut login_count = 0;
    for l in logins {
        login_count += l.await?;
    }
    let ratio = loaded.p99_ms / unloaded.p99_ms;
    Ok(Row {
        scenario: "p99 of GET /videos (4 connections) while 50 clients log in continuously (bcrypt cost 10)",
        baseline: format!("unloaded p99 {:.1} ms", unloaded.p99_ms),
        measured: format!("p99 {:.1} ms ({login_count} logins done)", loaded.p99_ms),
        ratio: format!("{ratio:.2}×"),
        target: "≤ 2×",
        met: ratio <= 2.0,
    })
}

/// Sequential 8 MiB Range reads of a 200 MB local video against reading the file directly.
async fn range_reads() -> anyhow::Result<Row> {
    const SIZE: usize = 200 * 1024 * 1024;
    const CHUNK: usize = 8 * 1024 * 1024;
    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path(), &[("RATE_LIMIT_ENABLED", "false")]).await?;
    let path = dir.path().join("data/media/videos/bench.mp4");
    let mut bytes = vec![0u8; SIZE];
    bytes[4..8].copy_from_slice(b"ftyp");
    std::fs::write(&path, &bytes)?;
    drop(bytes);
    // Warm the page cache for both readers alike.
    std::fs::read(&path)?;
    let raw_started = Instant::now();
    let mut file = std::fs::File::open(&path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let n = std::io::Read::read(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        total += n;
    }
    let raw_mbps = total as f64 / raw_started.elapsed().as_secs_f64() / 1e6;
    let client = reqwest::Client::new();
    let url = server.url("/media/videos/bench.mp4");
    let started = Instant::now();
    let mut received = 0;
    for start in (0..SIZE).step_by(CHUNK) {
        let end = (start + CHUNK).min(SIZE) - 1;
        let resp = client.get(&url).header("Range", format!("bytes={start}-{end}")).send().await?;
        anyhow::ensure!(resp.status() == 206, "expected 206, got {}", resp.status());
        received += resp.bytes().await?.len();
    }
    anyhow::ensure!(received == SIZE, "received {received} of {SIZE} bytes");
    let http_mbps = received as f64 / started.elapsed().as_secs_f64() / 1e6;
    let ratio = http_mbps / raw_mbps;
    Ok(Row {
        scenario: "Range reads (8 MiB each) of a 200 MB local video",
        baseline: format!("raw sequential read {raw_mbps:.0} MB/s"),
        measured: format!("{http_mbps:.0} MB/s"),
        ratio: format!("{ratio:.2}×"),
        target: "≥ 0.8×",
        met: ratio >= 0.8,
    })
}

/// A multipart upload of `mib` MiB against raw TCP loopback → file → fsync of the same bytes.
async fn upload(mib: u64) -> anyhow::Result<Row> {
    let size = mib * 1024 * 1024;
    let dir = tempfile::tempdir()?;
    let baseline_mbps = load::raw_tcp_to_file(size, &dir.path().join("raw.bin")).await? / 1e6;
    let server = Server::start(dir.path(), &[("RATE_LIMIT_ENABLED", "false")]).await?;
    let token = server.register("uploader").await?;
    let before_kib = server.memory_kib("VmRSS")?;
    let started = Instant::now();
    let status = load::multipart_upload(&server.url("/api/v1/videos"), &token, size).await?;
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(status == 201, "upload answered {status}");
    let growth_mib = server.memory_kib("VmHWM")?.saturating_sub(before_kib) as f64 / 1024.0;
    let mbps = size as f64 / elapsed / 1e6;
    let ratio = mbps / baseline_mbps;
    Ok(Row {
        scenario: "Multipart video upload to local media",
        baseline: format!("raw TCP→file→fsync {baseline_mbps:.0} MB/s"),
        measured: format!("{mib} MiB at {mbps:.0} MB/s, peak RSS +{growth_mib:.1} MiB"),
        ratio: format!("{ratio:.2}×"),
        target: "≥ 0.8×, RSS growth ≤ 64 MiB",
        met: ratio >= 0.8 && growth_mib <= 64.0,
    })
}
