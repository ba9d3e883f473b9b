//! Video processing (docs/api.md §3.14): the background runner that claims jobs from the store's
//! queue, runs ffmpeg on them under a renewed lease, stores the results through the media backend
//! and records them; and the processing status a viewer may read.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::{TempDir, TempPath};
use tokio::sync::{Notify, Semaphore, oneshot};

use super::{ServiceError, Services};
use crate::domain::processing::ProcessingReport;
use crate::domain::video::VideoRecord;
use crate::domain::{Id, Timestamp};
use crate::error::{BoxError, Chain};
use crate::media::ffmpeg::{Probe, Tools};
use crate::media::hls::{self, MASTER};
use crate::media::sniff::SNIFF_LEN;
use crate::media::{self, Format, TempUpload};
use crate::store::{MediaRef, ProcessedVideo};

/// How often a running job looks at its progress and lease.
const TICK: Duration = Duration::from_millis(500);
/// How often the runner looks for jobs nobody woke it for (other instances' uploads, expired leases).
const POLL: Duration = Duration::from_secs(2);
/// Time allowed to ffprobe, and to each ffmpeg run beyond `RUN_SECS_PER_SECOND` per second of video.
const BASE_LIMIT: Duration = Duration::from_secs(120);
const RUN_SECS_PER_SECOND: f64 = 20.0;
const UNREADABLE: &str = "The video file could not be read";
const STORE_FAILED: &str = "The processed video could not be stored";
const RENDITIONS_FAILED: &str = "Making the streaming renditions failed";

/// This instance's processing: the tools, the name its leases carry, and its running jobs.
pub struct Processor {
    tools: Tools,
    /// Whether this instance runs jobs (it does when new media is stored locally).
    runs_jobs: bool,
    holder: String,
    wake: Notify,
    running: Mutex<HashMap<Id, oneshot::Sender<()>>>,
    /// Set (with `running` locked) when the process stops: no job is claimed or started after it.
    stopping: AtomicBool,
    /// The runner's task and the permits its jobs hold, for waiting on them when stopping.
    runner: Mutex<Option<(tokio::task::JoinHandle<()>, Arc<Semaphore>)>>,
}

impl Processor {
    pub fn new(tools: Tools, runs_jobs: bool) -> Self {
        Processor {
            tools,
            runs_jobs,
            holder: hex::encode(rand::random::<[u8; 12]>()),
            wake: Notify::new(),
            running: Mutex::default(),
            stopping: AtomicBool::new(false),
            runner: Mutex::default(),
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<Id, oneshot::Sender<()>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a job failed: the short message shown to the owner, and what caused it (logged).
struct JobError {
    message: &'static str,
    cause: Option<BoxError>,
}

impl JobError {
    fn new(message: &'static str, cause: impl Into<BoxError>) -> Self {
        JobError { message, cause: Some(cause.into()) }
    }
}

/// What ffmpeg made, still in the job's temp directory (`work`, declared last so it goes last).
struct Made {
    probe: Probe,
    transcoded: Option<TempPath>,
    renditions: TempDir,
    thumbnail: Option<TempPath>,
    work: TempDir,
}

/// H.264 (with AAC or no audio) in MP4, or VP8/VP9/AV1 (with Opus, Vorbis or no audio) in WebM.
fn browser_playable(format: Option<Format>, probe: &Probe) -> bool {
    let audio = probe.audio_codec.as_deref();
    match format {
        Some(Format::Mp4) => probe.video_codec == "h264" && matches!(audio, None | Some("aac")),
        Some(Format::Webm) => {
            matches!(probe.video_codec.as_str(), "vp8" | "vp9" | "av1")
                && matches!(audio, None | Some("opus" | "vorbis"))
        }
        _ => false,
    }
}

fn run_limit(duration: f64) -> Duration {
    BASE_LIMIT + Duration::from_secs_f64(duration.max(0.0) * RUN_SECS_PER_SECOND)
}

async fn sniff_file(path: &Path) -> Option<Format> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let file = tokio::fs::File::open(path).await.ok()?;
    file.take(SNIFF_LEN as u64).read_to_end(&mut head).await.ok()?;
    Format::sniff(&head)
}

impl Services {
    /// Whether new videos get a processing job here (and so may be published without a thumbnail).
    pub(super) fn processes_locally(&self) -> bool {
        self.processor.as_ref().is_some_and(|p| p.runs_jobs)
    }

    /// The healthcheck's view: whether jobs run here, and ffmpeg's version when it was found.
    pub fn processing_health(&self) -> (bool, Option<String>) {
        (self.processes_locally(), self.processor.as_ref().map(|p| p.tools.version.clone()))
    }

    /// Tells the runner a job was queued.
    pub(super) fn wake_processing(&self) {
        if let Some(processor) = &self.processor {
            processor.wake.notify_one();
        }
    }

    /// Stops this instance's job on `video` now, if it runs one (the video was deleted).
    pub(super) fn cancel_processing(&self, video: Id) {
        if let Some(processor) = &self.processor
            && let Some(stop) = processor.running().remove(&video)
        {
            let _ = stop.send(());
        }
    }

    /// `GET /videos/:id/processing`: the job's state, visible to whoever may open the video.
    pub async fn processing_report(&self, id: Id, viewer: Option<Id>) -> Result<ProcessingReport, ServiceError> {
        let record = self.visible_video(id, viewer).await?;
        let processing = record.video.processing;
        Ok(ProcessingReport {
            status: processing.status,
            progress: processing.progress,
            error: record.processing_error,
        })
    }

    /// Runs queued jobs, `PROCESSING_CONCURRENCY` at a time, for the life of the process.
    pub fn spawn_processing(&self) {
        let Some(processor) = self.processor.clone().filter(|p| p.runs_jobs) else {
            return;
        };
        let services = self.clone();
        let permits = Arc::new(Semaphore::new(self.config.processing.concurrency));
        let (runner_permits, owner) = (permits.clone(), processor.clone());
        let runner = tokio::spawn(async move {
            let permits = runner_permits;
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else { return };
                if processor.stopping.load(Ordering::Acquire) {
                    return;
                }
                let now = Timestamp::now();
                let until = now.plus_secs(services.config.processing.lease_secs);
                match services.store.processing.claim(&processor.holder, now, until).await {
                    Ok(Some(record)) => {
                        let id = record.video.id;
                        let (stop, stopped) = oneshot::channel();
                        let started = {
                            let mut running = processor.running();
                            let started = !processor.stopping.load(Ordering::Acquire);
                            if started {
                                running.insert(id, stop);
                            }
                            started
                        };
                        if !started {
                            services.release_job(&processor, id).await;
                            return;
                        }
                        let (services, processor) = (services.clone(), processor.clone());
                        tokio::spawn(async move {
                            services.run_job(&processor, record, stopped).await;
                            drop(permit);
                        });
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %Chain(&e), "could not claim a processing job"),
                }
                drop(permit);
                tokio::select! {
                    () = processor.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        });
        *owner.runner.lock().unwrap_or_else(|p| p.into_inner()) = Some((runner, permits));
    }

    /// Stops processing for the process's exit: nothing more is claimed, running jobs are stopped
    /// (their ffmpeg killed) and given back to the queue, so that the next start (or another
    /// instance) resumes them at once instead of after their lease. Returns once every job ended.
    pub async fn stop_processing(&self) {
        let Some(processor) = &self.processor else { return };
        let jobs: Vec<(Id, oneshot::Sender<()>)> = {
            let mut running = processor.running();
            processor.stopping.store(true, Ordering::Release);
            running.drain().collect()
        };
        processor.wake.notify_one();
        for (video, stop) in jobs {
            let _ = stop.send(());
            self.release_job(processor, video).await;
        }
        let runner = processor.runner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((runner, permits)) = runner {
            let _ = runner.await;
            let all = u32::try_from(self.config.processing.concurrency).unwrap_or(u32::MAX);
            let _ = permits.acquire_many(all).await;
        }
    }

    async fn release_job(&self, processor: &Processor, video: Id) {
        match self.store.processing.release(video, &processor.holder).await {
            Ok(_) => tracing::info!(video = %video, "processing job given back to the queue"),
            Err(e) => tracing::error!(video = %video, error = %Chain(&e), "could not give a processing job back"),
        }
    }

    /// One job: the ffmpeg work (stopped when the video is deleted or the lease is lost), then the
    /// results stored and recorded, or the failure recorded.
    async fn run_job(&self, processor: &Processor, record: VideoRecord, stopped: oneshot::Receiver<()>) {
        let id = record.video.id;
        let progress = AtomicU8::new(record.video.processing.progress);
        tracing::info!(video = %id, "processing started");
        let outcome = tokio::select! {
            made = self.make(&processor.tools, &record, &progress) => Some(made),
            () = self.keep_lease(id, &processor.holder, &progress) => None,
            _ = stopped => None,
        };
        // Gone from `running`: stopped meanwhile (the video deleted, or the process stopping).
        let ours = processor.running().remove(&id).is_some();
        let result = match outcome {
            Some(_) if !ours => {
                tracing::info!(video = %id, "processing results dropped: the job was stopped");
                return;
            }
            None => {
                tracing::info!(video = %id, "processing stopped: the video was deleted, the job taken over or the server is stopping");
                return;
            }
            Some(Ok(made)) => self.record_results(&processor.holder, &record, made).await,
            Some(Err(e)) => Err(e),
        };
        if let Err(e) = result {
            let cause = e.cause.as_deref().map(|c| Chain(c).to_string()).unwrap_or_default();
            tracing::warn!(video = %id, error = %cause, "processing failed: {}", e.message);
            if let Err(e) = self.store.processing.fail(id, &processor.holder, e.message).await {
                tracing::error!(video = %id, error = %Chain(&e), "could not record a failed processing job");
            }
        }
    }

    /// Renews the lease with the current progress until the job is no longer ours; returns then.
    async fn keep_lease(&self, id: Id, holder: &str, progress: &AtomicU8) {
        let lease = self.config.processing.lease_secs;
        let renew_every = Duration::from_secs(lease) / 3;
        let (mut written, mut written_at) = (progress.load(Ordering::Relaxed), Instant::now());
        loop {
            tokio::time::sleep(TICK).await;
            let now = progress.load(Ordering::Relaxed);
            if now == written && written_at.elapsed() < renew_every {
                continue;
            }
            match self.store.processing.renew(id, holder, now, Timestamp::now().plus_secs(lease)).await {
                Ok(true) => (written, written_at) = (now, Instant::now()),
                Ok(false) => return,
                Err(e) => tracing::warn!(video = %id, error = %Chain(&e), "could not renew a processing lease"),
            }
        }
    }

    /// The ffmpeg part: probe, transcode when not browser-playable, the HLS ladder, a thumbnail
    /// when the video has none. Progress (0–99) counts the ffmpeg runs over the probed duration.
    async fn make(&self, tools: &Tools, record: &VideoRecord, progress: &AtomicU8) -> Result<Made, JobError> {
        let missing = || JobError { message: "The original video file is missing", cause: None };
        let original = self.media.local_path(&record.video_key).ok_or_else(missing)?;
        if !tokio::fs::try_exists(&original).await.unwrap_or(false) {
            return Err(missing());
        }
        let probe = tools.probe(&original, BASE_LIMIT).await.map_err(|e| JobError::new(UNREADABLE, e))?;
        if probe.width == 0 || probe.height == 0 {
            return Err(JobError { message: UNREADABLE, cause: Some("ffprobe found no picture size".into()) });
        }
        let limit = run_limit(probe.duration);
        let work = tempfile::Builder::new()
            .prefix("job-")
            .tempdir_in(self.config.data_dir.join("tmp"))
            .map_err(|e| JobError::new("Processing could not start", e))?;
        let playable = browser_playable(sniff_file(&original).await, &probe);
        let ladder = hls::ladder(&self.config.processing.renditions, probe.width, probe.height);
        let runs = ladder.len() + usize::from(!playable);
        let report = |run: usize| {
            move |fraction: f64| {
                let overall = (run as f64 + fraction) / runs as f64 * 99.0;
                progress.fetch_max(overall.floor() as u8, Ordering::Relaxed);
            }
        };

        let transcoded = if playable {
            None
        } else {
            let out = work.path().join("video.mp4");
            let mut args: Vec<std::ffi::OsString> = vec!["-i".into(), original.clone().into()];
            args.extend(
                [
                    "-map",
                    "0:v:0",
                    "-map",
                    "0:a:0?",
                    "-vf",
                    "scale=trunc(iw/2)*2:trunc(ih/2)*2",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-crf",
                    "23",
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "128k",
                    "-movflags",
                    "+faststart",
                ]
                .map(Into::into),
            );
            args.push(out.clone().into());
            tools
                .ffmpeg(&args, probe.duration, limit, report(0))
                .await
                .map_err(|e| JobError::new("Transcoding failed", e))?;
            Some(TempPath::try_from_path(out).map_err(|e| JobError::new(STORE_FAILED, e))?)
        };
        let source = transcoded.as_deref().unwrap_or(&original).to_path_buf();

        let renditions = tempfile::Builder::new()
            .prefix("hls-")
            .tempdir_in(work.path())
            .map_err(|e| JobError::new("Processing could not start", e))?;
        let first = usize::from(!playable);
        for (n, rendition) in ladder.iter().enumerate() {
            tools
                .ffmpeg(&rendition.args(&source, renditions.path()), probe.duration, limit, report(first + n))
                .await
                .map_err(|e| JobError::new(RENDITIONS_FAILED, e))?;
        }
        let dir = renditions.path().to_path_buf();
        tokio::task::spawn_blocking(move || hls::write_master(&dir, &ladder))
            .await
            .map_err(|e| JobError::new(RENDITIONS_FAILED, e))?
            .map_err(|e| JobError::new(RENDITIONS_FAILED, e))?;

        let thumbnail = if record.thumbnail_key.is_empty() {
            let out = work.path().join("thumbnail.jpg");
            let at = format!("{:.3}", probe.duration * 0.1);
            let mut args: Vec<std::ffi::OsString> = ["-ss", at.as_str(), "-i"].map(Into::into).into();
            args.push(source.clone().into());
            args.extend(["-frames:v", "1", "-q:v", "3", "-f", "image2"].map(Into::into));
            args.push(out.clone().into());
            tools
                .ffmpeg(&args, probe.duration, limit, |_| {})
                .await
                .map_err(|e| JobError::new("Extracting a thumbnail failed", e))?;
            Some(TempPath::try_from_path(out).map_err(|e| JobError::new(STORE_FAILED, e))?)
        } else {
            None
        };
        Ok(Made { probe, transcoded, renditions, thumbnail, work })
    }

    /// Stores one file ffmpeg made, noting it in `stored` for the cleanup of a failure.
    async fn keep_made(&self, upload: TempUpload, stored: &mut Vec<MediaRef>) -> Result<MediaRef, JobError> {
        let media = self.media.put(upload).await.map_err(|e| JobError::new(STORE_FAILED, e))?;
        let media = MediaRef { url: media.url, key: media.key };
        stored.push(media.clone());
        Ok(media)
    }

    /// Stores what ffmpeg made and records it on the video while the lease is still ours; deletes
    /// whatever ended up unreferenced (the replaced original, an extracted thumbnail that lost to an
    /// uploaded one, or everything when the job was no longer ours).
    async fn record_results(&self, holder: &str, record: &VideoRecord, made: Made) -> Result<(), JobError> {
        let id = record.video.id;
        let stored_failure = |e: media::MediaError| JobError::new(STORE_FAILED, e);
        let adopt = |field: &str, format: Format, path: TempPath| {
            TempUpload::adopt(field, format, path).map_err(|e| stored_failure(e.into()))
        };
        let Made { probe, transcoded, renditions, thumbnail, work } = made;
        let mut stored: Vec<MediaRef> = Vec::new();
        let result = async {
            let video_file = match transcoded {
                Some(path) => Some(self.keep_made(adopt("videoFile", Format::Mp4, path)?, &mut stored).await?),
                None => None,
            };
            let thumbnail = match thumbnail {
                Some(path) => Some(self.keep_made(adopt("thumbnail", Format::Jpeg, path)?, &mut stored).await?),
                None => None,
            };
            let hls = self.media.put_dir(renditions, MASTER).await.map_err(stored_failure)?;
            let hls = MediaRef { url: hls.url, key: hls.key };
            stored.push(hls.clone());
            Ok(ProcessedVideo {
                duration: probe.duration,
                width: i64::from(probe.width),
                height: i64::from(probe.height),
                video_file,
                thumbnail,
                hls,
            })
        }
        .await;
        drop(work);
        let done = match result {
            Ok(done) => done,
            Err(e) => {
                self.discard(stored).await;
                return Err(e);
            }
        };
        match self.store.processing.finish(id, holder, &done).await {
            Ok(Some(now)) => {
                let mut unused = Vec::new();
                if done.video_file.is_some() {
                    unused.push(MediaRef { url: record.video.video_file.clone(), key: record.video_key.clone() });
                }
                if let Some(thumbnail) = done.thumbnail.filter(|t| t.key != now.thumbnail_key) {
                    unused.push(thumbnail);
                }
                self.discard(unused).await;
                tracing::info!(video = %id, "processing finished");
                Ok(())
            }
            Ok(None) => {
                tracing::info!(video = %id, "processing results dropped: the video was deleted or its job taken over");
                self.discard(stored).await;
                Ok(())
            }
            Err(e) => {
                self.discard(stored).await;
                Err(JobError::new("The processed video could not be recorded", e))
            }
        }
    }
}
