//! ffmpeg and ffprobe as child processes: never through a shell (paths are arguments), at idle
//! priority, killed when dropped or when their time limit passes, with progress read from ffmpeg's
//! own `-progress` output. Failures keep the end of stderr for the log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// How much of a failed run's stderr is kept for the log.
const STDERR_TAIL: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum FfmpegError {
    #[error("could not start {tool}: {source}")]
    Spawn { tool: &'static str, source: std::io::Error },
    #[error("{tool} ran longer than its limit of {limit:?}")]
    TimedOut { tool: &'static str, limit: Duration },
    #[error("{tool} failed ({status}): {stderr}")]
    Failed { tool: &'static str, status: String, stderr: String },
    #[error("unexpected ffprobe output: {0}")]
    Output(String),
}

/// The two programs, found and answering.
#[derive(Debug)]
pub struct Tools {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    /// ffmpeg's version as it states it (`5.1.6-0+deb12u1`).
    pub version: String,
}

/// What ffprobe says about a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub duration: f64,
    /// The displayed picture: coded size, turned when the stream is rotated by a quarter.
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
}

impl Tools {
    /// Both tools when each runs and answers `-version`; `None` otherwise.
    pub async fn detect(ffmpeg: &Path, ffprobe: &Path) -> Option<Tools> {
        let version = |path: PathBuf| async move {
            let output = Command::new(path).arg("-version").stdin(Stdio::null()).kill_on_drop(true).output();
            let output = tokio::time::timeout(Duration::from_secs(10), output).await.ok()?.ok()?;
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            output.status.success().then_some(text)
        };
        let (ffmpeg_says, ffprobe_says) = tokio::join!(version(ffmpeg.to_owned()), version(ffprobe.to_owned()));
        ffprobe_says?;
        let first = ffmpeg_says?.lines().next().unwrap_or_default().to_owned();
        let version = first.strip_prefix("ffmpeg version ").and_then(|v| v.split_whitespace().next());
        Some(Tools {
            ffmpeg: ffmpeg.to_owned(),
            ffprobe: ffprobe.to_owned(),
            version: version.unwrap_or(first.as_str()).to_owned(),
        })
    }

    /// Probes `input` within `limit`.
    pub async fn probe(&self, input: &Path, limit: Duration) -> Result<Probe, FfmpegError> {
        let mut args: Vec<OsString> =
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams"].map(OsString::from).into();
        args.push(input.as_os_str().to_owned());
        let out = run(&self.ffprobe, "ffprobe", &args, limit, |_| {}).await?;
        parse_probe(&out)
    }

    /// Runs ffmpeg with `args` (after the common ones) within `limit`, calling `progress` with the
    /// fraction of `duration` written so far.
    pub async fn ffmpeg(
        &self,
        args: &[OsString],
        duration: f64,
        limit: Duration,
        progress: impl Fn(f64) + Send + Sync,
    ) -> Result<(), FfmpegError> {
        let mut all: Vec<OsString> =
            ["-nostdin", "-y", "-v", "error", "-nostats", "-progress", "pipe:1"].map(OsString::from).into();
        all.extend_from_slice(args);
        let total_us = (duration * 1e6).max(1.0);
        run(&self.ffmpeg, "ffmpeg", &all, limit, |line| {
            if let Some(us) = line.strip_prefix("out_time_us=").and_then(|v| v.trim().parse::<f64>().ok()) {
                progress((us / total_us).clamp(0.0, 1.0));
            } else if line.trim() == "progress=end" {
                progress(1.0);
            }
        })
        .await
        .map(drop)
    }
}

/// Starts `program` from a fresh thread at idle priority, so the child (and its threads) inherit it
/// and every other thread of the server keeps its own priority.
async fn spawn_low(mut command: Command, tool: &'static str) -> Result<Child, FfmpegError> {
    let runtime = tokio::runtime::Handle::current();
    let spawned = tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || {
            crate::priority::lowest_priority();
            let _entered = runtime.enter();
            command.spawn()
        })
        .join()
    })
    .await;
    match spawned {
        Ok(Ok(result)) => result.map_err(|source| FfmpegError::Spawn { tool, source }),
        _ => Err(FfmpegError::Spawn { tool, source: std::io::Error::other("the spawning thread failed") }),
    }
}

/// Runs one child to completion within `limit`, passing each stdout line to `on_line`; its whole
/// stdout on success.
async fn run(
    program: &Path,
    tool: &'static str,
    args: &[OsString],
    limit: Duration,
    on_line: impl Fn(&str) + Send + Sync,
) -> Result<String, FfmpegError> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = spawn_low(command, tool).await?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(FfmpegError::Output("child pipes missing".into()));
    };
    let work = async {
        let read_out = async {
            let mut lines = BufReader::new(stdout).lines();
            let mut all = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                on_line(&line);
                all.push_str(&line);
                all.push('\n');
            }
            all
        };
        let read_err = async {
            let mut buffer = Vec::new();
            let _ = stderr.read_to_end(&mut buffer).await;
            buffer
        };
        let (out, err) = tokio::join!(read_out, read_err);
        (out, err, child.wait().await)
    };
    // Dropping `work` on timeout drops the child, which kills it (`kill_on_drop`).
    let (out, err, status) =
        tokio::time::timeout(limit, work).await.map_err(|_| FfmpegError::TimedOut { tool, limit })?;
    let status = status.map_err(|source| FfmpegError::Spawn { tool, source })?;
    if status.success() {
        return Ok(out);
    }
    let err = String::from_utf8_lossy(&err);
    let tail = err.char_indices().rev().nth(STDERR_TAIL).map_or(&err[..], |(at, _)| &err[at..]);
    Err(FfmpegError::Failed { tool, status: status.to_string(), stderr: tail.trim().to_owned() })
}

#[derive(Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<StreamInfo>,
    format: Option<FormatInfo>,
}

#[derive(Deserialize)]
struct StreamInfo {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    side_data_list: Vec<serde_json::Value>,
    #[serde(default)]
    tags: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct FormatInfo {
    duration: Option<String>,
}

impl StreamInfo {
    /// A quarter turn (90° or 270°) from the display matrix or the older `rotate` tag.
    fn quarter_turned(&self) -> bool {
        let from_side_data = self.side_data_list.iter().filter_map(|d| d.get("rotation")?.as_f64()).next();
        let from_tag = || self.tags.get("rotate")?.as_str()?.parse::<f64>().ok();
        from_side_data.or_else(from_tag).is_some_and(|degrees| (degrees.abs() as i64) % 180 == 90)
    }
}

fn parse_probe(json: &str) -> Result<Probe, FfmpegError> {
    let output: ProbeOutput = serde_json::from_str(json).map_err(|e| FfmpegError::Output(e.to_string()))?;
    let of = |kind: &str| output.streams.iter().find(|s| s.codec_type.as_deref() == Some(kind));
    let video = of("video").ok_or_else(|| FfmpegError::Output("no video stream".into()))?;
    let (width, height) = (video.width.unwrap_or(0), video.height.unwrap_or(0));
    let (width, height) = if video.quarter_turned() { (height, width) } else { (width, height) };
    let seconds = |raw: Option<&String>| raw.and_then(|d| d.parse::<f64>().ok()).filter(|d| d.is_finite() && *d > 0.0);
    let duration = seconds(output.format.as_ref().and_then(|f| f.duration.as_ref()))
        .or_else(|| seconds(video.duration.as_ref()))
        .unwrap_or(0.0);
    Ok(Probe {
        duration,
        width,
        height,
        video_codec: video.codec_name.clone().unwrap_or_default(),
        audio_codec: of("audio").and_then(|a| a.codec_name.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_read_duration_size_codecs_and_rotation() {
        let json = r#"{"streams":[
            {"codec_type":"video","codec_name":"hevc","width":1920,"height":1080,
             "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
            {"codec_type":"audio","codec_name":"aac"}],
            "format":{"duration":"2.000000"}}"#;
        let probe = parse_probe(json).unwrap();
        assert_eq!(
            probe,
            Probe {
                duration: 2.0,
                width: 1080,
                height: 1920,
                video_codec: "hevc".into(),
                audio_codec: Some("aac".into())
            }
        );
        let silent = r#"{"streams":[{"codec_type":"video","codec_name":"vp9","width":160,"height":120,
            "tags":{"rotate":"180"},"duration":"1.5"}],"format":{}}"#;
        let probe = parse_probe(silent).unwrap();
        assert_eq!((probe.width, probe.height, probe.duration, probe.audio_codec), (160, 120, 1.5, None));
        assert!(parse_probe(r#"{"streams":[{"codec_type":"audio"}],"format":{}}"#).is_err());
    }
}
