//! Video processing as the API shows it: the state of a video's job, its streams and dimensions.

use serde::Serialize;

/// Where a video's processing stands (docs/api.md §3.14).
#[derive(Serialize, utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProcessingStatus {
    /// Waiting for an instance to claim its job.
    Queued,
    /// Claimed; ffmpeg is working on it.
    Processing,
    Ready,
    Failed,
    /// Published while processing was off: served as uploaded.
    Off,
}

impl ProcessingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingStatus::Queued => "queued",
            ProcessingStatus::Processing => "processing",
            ProcessingStatus::Ready => "ready",
            ProcessingStatus::Failed => "failed",
            ProcessingStatus::Off => "off",
        }
    }

    /// The progress a video starts with in this state: 100 when it is ready from the start.
    pub fn starting_progress(self) -> u8 {
        if self == ProcessingStatus::Ready { 100 } else { 0 }
    }

    /// A stored value; anything unknown (a document written by the original API has none) is `Off`.
    pub fn from_stored(raw: Option<&str>) -> Self {
        match raw {
            Some("queued") => ProcessingStatus::Queued,
            Some("processing") => ProcessingStatus::Processing,
            Some("ready") => ProcessingStatus::Ready,
            Some("failed") => ProcessingStatus::Failed,
            _ => ProcessingStatus::Off,
        }
    }
}

/// `processing` on every Video.
#[derive(Serialize, utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Processing {
    pub status: ProcessingStatus,
    /// 0–100, never decreasing; 100 when ready.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: u8,
}

/// `streams` on every Video.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug, Default, PartialEq, Eq)]
pub struct Streams {
    /// The HLS master playlist, once made.
    pub hls: Option<String>,
}

/// `GET /videos/:videoId/processing`.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
pub struct ProcessingReport {
    pub status: ProcessingStatus,
    #[schema(minimum = 0, maximum = 100)]
    pub progress: u8,
    /// Why the job failed, in a few words; null unless `status` is `failed`.
    pub error: Option<String>,
}
