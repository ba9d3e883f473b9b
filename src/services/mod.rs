//! Business rules: validation, ownership, visibility, counters, cascades and the order of media side
//! effects. Handlers call one method here; stores only persist.

pub mod blocks;
pub mod comments;
pub mod dashboard;
mod error;
pub mod health;
pub mod history;
pub mod likes;
pub mod maintenance;
pub mod moderation;
pub mod notifications;
pub mod playlists;
pub mod processing;
pub mod rate_limits;
pub mod reports;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod subscriptions;
pub mod tweets;
pub mod uploads;
pub mod users;
pub mod validate;
pub mod videos;

use std::path::PathBuf;
use std::sync::Arc;

use crate::auth::{PasswordHasher, Tokens};
use crate::config::Config;
use crate::media::cloudinary::CloudinaryMedia;
use crate::media::probe::video_duration;
use crate::media::tus::TusStorage;
use crate::media::{self, MediaKind, MediaStore, TempUpload};
use crate::store::{MediaRef, Store};

pub use error::{FieldError, ServiceError};

/// Everything the rules need, cheap to clone (shared handles only). The backends are private: the
/// HTTP edge reaches them only through the methods here.
#[derive(Clone)]
pub struct Services {
    config: Arc<Config>,
    store: Store,
    media: Arc<dyn MediaStore>,
    /// Present when Cloudinary is configured: signs and verifies direct browser uploads.
    cloudinary: Option<Arc<CloudinaryMedia>>,
    tokens: Arc<Tokens>,
    hasher: PasswordHasher,
    /// Resumable uploads in progress: on disk (`DATA_DIR/tus`) with SQLite, in the database with
    /// MongoDB, so that every instance serves every upload.
    tus: Arc<dyn TusStorage>,
    /// Private directory where uploads wait while they are checked (`DATA_DIR/tmp`).
    temp_dir: Arc<PathBuf>,
    /// Present when ffmpeg and ffprobe were found and processing is not turned off.
    processor: Option<Arc<processing::Processor>>,
    /// Open notification streams and their poller's channel.
    notifications: Arc<notifications::NotificationHub>,
}

/// Where files live while they are not yet media.
pub struct UploadDirs {
    pub tus: Arc<dyn TusStorage>,
    pub temp: Arc<PathBuf>,
}

/// A media item arriving with a request: a streamed file part, or the text of a `<field>Upload`
/// field (a direct-upload result, or a finished resumable upload's id or URL).
pub enum Incoming {
    File(TempUpload),
    Direct { field: &'static str, result: String },
}

/// A stored media item and, for videos, its duration and how the backend streams it.
pub struct Stored {
    pub media: MediaRef,
    pub duration: Option<f64>,
    pub streaming: Option<media::Streaming>,
}

impl Services {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        media: Arc<dyn MediaStore>,
        tokens: Tokens,
        cloudinary: Option<Arc<CloudinaryMedia>>,
        dirs: UploadDirs,
    ) -> Self {
        Services {
            tus: dirs.tus,
            temp_dir: dirs.temp,
            hasher: PasswordHasher::new(config.bcrypt_cost),
            config,
            store,
            media,
            cloudinary,
            tokens: Arc::new(tokens),
            processor: None,
            notifications: Arc::default(),
        }
    }

    /// Adds video processing with these tools (docs/api.md §3.14); jobs run here only when new
    /// media is stored locally.
    pub fn with_processing(mut self, processor: processing::Processor) -> Self {
        self.processor = Some(Arc::new(processor));
        self
    }

    /// Ends the open notification streams, so that the server's graceful shutdown is not held by them.
    pub fn close_streams(&self) {
        self.notifications.close();
    }

    /// The process is stopping and no request is running any more: processing jobs are given
    /// back, then the store finishes its background writes.
    pub async fn shutdown(&self) {
        self.stop_processing().await;
        self.store.health.close().await;
    }

    /// The configuration the services run with (the edge reads its limits and cookie settings).
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The size limit of a file field of this kind (docs/api.md §1.11).
    pub fn file_limit(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.config.limits.image_bytes,
            MediaKind::Video => self.config.limits.video_bytes,
        }
    }

    /// Stores an upload (measuring a video's duration), a finished resumable upload of the caller
    /// (`scope`) through the same checks, or accepts a verified direct upload made in `scope`; a
    /// backend failure is `UploadFailed` with the route's upload message (`InsufficientStorage`
    /// when the disk is full).
    async fn store_media(
        &self,
        incoming: Incoming,
        failure: &'static str,
        scope: &str,
    ) -> Result<Stored, ServiceError> {
        let upload = match incoming {
            Incoming::File(upload) => upload,
            Incoming::Direct { field, result } => match uploads::tus::upload_reference(&result) {
                Some(id) => self.take_finished_upload(field, id, scope).await?,
                None => return self.accept_direct_upload(field, &result, scope).await,
            },
        };
        let measured = if upload.format.kind() == MediaKind::Video {
            let (path, format) = (upload.path().to_path_buf(), upload.format);
            Some(tokio::task::spawn_blocking(move || video_duration(&path, format)).await.unwrap_or(0.0))
        } else {
            None
        };
        match self.media.put(upload).await {
            Ok(stored) => Ok(Stored {
                media: MediaRef { url: stored.url, key: stored.key },
                duration: stored.duration.or(measured),
                streaming: stored.streaming,
            }),
            Err(source) => Err(ServiceError::upload_failed(failure, source)),
        }
    }

    /// Stores an image; see `store_media`.
    async fn store_image(
        &self,
        incoming: Incoming,
        failure: &'static str,
        scope: &str,
    ) -> Result<MediaRef, ServiceError> {
        Ok(self.store_media(incoming, failure, scope).await?.media)
    }

    /// Best-effort deletion of media that is no longer (or was never) referenced.
    async fn discard(&self, refs: impl IntoIterator<Item = MediaRef>) {
        media::delete_quietly(self.media.as_ref(), refs.into_iter().map(|r| r.key)).await;
    }

    /// Runs the database write after media was stored; if it fails, the new media is deleted (docs/api.md §1.11).
    async fn commit_or_discard<T, E: Into<ServiceError>>(
        &self,
        stored: Vec<MediaRef>,
        write: impl Future<Output = Result<T, E>>,
    ) -> Result<T, ServiceError> {
        match write.await {
            Ok(value) => Ok(value),
            Err(e) => {
                self.discard(stored).await;
                Err(e.into())
            }
        }
    }
}
