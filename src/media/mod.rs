//! Media: the `MediaStore` trait with its backends, streaming uploads, content sniffing and probing.

pub mod cloudinary;
pub mod ffmpeg;
pub mod hls;
pub mod local;
pub mod probe;
pub mod routed;
pub mod sniff;
pub mod tus;
pub mod upload;

use std::path::PathBuf;

use async_trait::async_trait;

pub use sniff::{Format, MediaKind};
pub use upload::{TempUpload, UploadError, UploadSink};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("media backend error: {0}")]
    Backend(String),
}

/// A stored object: its public URL and the internal key that names it (the key says which backend holds it).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMedia {
    pub url: String,
    pub key: String,
    /// Duration reported by the backend, when it measures one.
    pub duration: Option<f64>,
    /// How the backend streams a video itself, when it does (Cloudinary).
    pub streaming: Option<Streaming>,
}

/// A video the backend transcodes and streams itself: its HLS playlist and picture size.
#[derive(Clone, Debug, PartialEq)]
pub struct Streaming {
    pub hls: String,
    pub width: i64,
    pub height: i64,
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    fn backend(&self) -> &'static str;
    /// True when `key` names an object of this backend.
    fn owns(&self, key: &str) -> bool;
    /// Takes ownership of a finished upload and stores it durably.
    async fn put(&self, upload: TempUpload) -> Result<StoredMedia, MediaError>;
    /// Deletes a stored object; deleting an absent object succeeds.
    async fn delete(&self, key: &str) -> Result<(), MediaError>;
    /// A cheap reachability probe for the healthcheck.
    async fn ping(&self) -> bool;
    /// Keys of stored objects older than `age`, for orphan reconciliation; backends that cannot
    /// list their objects return none.
    async fn keys_older_than(&self, age: std::time::Duration) -> Result<Vec<String>, MediaError>;
    /// The file of a stored object on this machine, when the backend keeps its objects here (video
    /// processing reads originals from it).
    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }
    /// Stores a finished directory of files (HLS renditions) as one object: one key deletes it all,
    /// and the URL names `entry` inside it. Backends that stream videos themselves do not take them.
    async fn put_dir(&self, _dir: tempfile::TempDir, _entry: &str) -> Result<StoredMedia, MediaError> {
        Err(MediaError::Backend(format!("the {} media backend does not store renditions", self.backend())))
    }
}

/// Deletes objects that are no longer referenced; failures are logged, never reported (docs/api.md §1.11).
/// Empty keys (a thumbnail or renditions not made yet) name nothing and are skipped.
pub async fn delete_quietly(store: &dyn MediaStore, keys: impl IntoIterator<Item = String>) {
    for key in keys.into_iter().filter(|key| !key.is_empty()) {
        if let Err(e) = store.delete(&key).await {
            tracing::warn!(%key, error = %e, "could not delete media object");
        }
    }
}

/// A byte count as docs/api.md writes limits: the largest of GB/MB/KB dividing it exactly, else bytes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map_or_else(|| format!("{bytes} bytes"), |(unit, name)| format!("{} {name}", bytes / unit))
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_are_written_as_the_contract_shows() {
        assert_eq!(human_size(5_242_880), "5 MB");
        assert_eq!(human_size(2_147_483_648), "2 GB");
        assert_eq!(human_size(16_384), "16 KB");
        assert_eq!(human_size(1_500_000), "1500000 bytes");
        assert_eq!(human_size(1536), "1536 bytes");
    }
}
