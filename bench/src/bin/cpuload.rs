//! A probe, not a scenario: loads one URL as the bench does (64 keep-alive connections by default)
//! and reports the requests answered and the CPU time each named process group spent per request
//! (utime + stime from /proc, summed over the process and its children), e.g. the server, the
//! DocumentDB gateway and the PostgreSQL postmaster with its backends.
//!
//! usage: cpuload URL SECS CONNECTIONS NAME=PID...   (Linux only)

#[path = "../load.rs"]
#[allow(dead_code)]
mod load;

use std::time::Duration;

/// CPU seconds of `pid` and, for a postmaster, its children (clock ticks of 1/100 s).
fn cpu_secs(pid: u32) -> f64 {
    let one = |pid: &str| -> u64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
        let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
    };
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let ticks = one(&pid.to_string()) + children.split_whitespace().map(one).sum::<u64>();
    ticks as f64 / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(args.len() >= 3, "usage: cpuload URL SECS CONNECTIONS NAME=PID...");
    let (url, secs, connections) = (&args[0], args[1].parse::<u64>()?, args[2].parse::<usize>()?);
    let mut groups: Vec<(String, u32)> = vec![("load".into(), std::process::id())];
    for arg in &args[3..] {
        let (name, pid) = arg.split_once('=').ok_or_else(|| anyhow::anyhow!("NAME=PID expected: {arg}"))?;
        groups.push((name.into(), pid.parse()?));
    }
    let before: Vec<f64> = groups.iter().map(|(_, pid)| cpu_secs(*pid)).collect();
    let stats = load::load(url, connections, Duration::from_secs(secs)).await;
    let after: Vec<f64> = groups.iter().map(|(_, pid)| cpu_secs(*pid)).collect();
    let requests = stats.rps * secs as f64;
    let mut line =
        format!("{:.0} req/s, p50 {:.2} ms, p99 {:.1} ms; CPU ms/request:", stats.rps, stats.p50_ms, stats.p99_ms);
    let mut total = 0.0;
    for (i, (name, _)) in groups.iter().enumerate() {
        let per = (after[i] - before[i]) * 1000.0 / requests;
        total += per;
        line.push_str(&format!(" {name} {per:.3}"));
    }
    println!("{line}; total {total:.3}");
    Ok(())
}
