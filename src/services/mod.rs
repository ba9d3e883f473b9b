//! Business rules: validation, ownership, visibility, counters, cascades and the order of media side
//! effects. Handlers call one method here; stores only persist.

pub mod channels;
pub mod maintenance;
pub mod social;
pub mod users;
pub mod validate;
pub mod videos;
pub mod views;

use std::sync::Arc;

use crate::auth::{PasswordHasher, Tokens};
use crate::config::Config;
use crate::error::AppError;
use crate::media::{self, MediaStore, TempUpload};
use crate::store::{MediaRef, Store};
use views::ViewTracker;

/// Everything the rules need, cheap to clone (shared handles only).
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub media: Arc<dyn MediaStore>,
    pub tokens: Arc<Tokens>,
    pub hasher: PasswordHasher,
    pub views: Arc<ViewTracker>,
}

impl Services {
    pub fn new(config: Arc<Config>, store: Store, media: Arc<dyn MediaStore>, tokens: Tokens) -> Self {
        Services {
            hasher: PasswordHasher::new(config.bcrypt_cost),
            views: Arc::new(ViewTracker::new(config.view_window_secs)),
            config,
            store,
            media,
            tokens: Arc::new(tokens),
        }
    }

    /// Stores an upload; a backend failure answers 500 with the route's upload message.
    async fn store_media(&self, upload: TempUpload, failure: &'static str) -> Result<MediaRef, AppError> {
        match self.media.put(upload).await {
            Ok(stored) => Ok(MediaRef { url: stored.url, key: stored.key }),
            Err(e) => Err(AppError::upload_failed(failure, e)),
        }
    }

    /// Best-effort deletion of media that is no longer (or was never) referenced.
    async fn discard(&self, refs: impl IntoIterator<Item = MediaRef>) {
        media::delete_quietly(self.media.as_ref(), refs.into_iter().map(|r| r.key)).await;
    }

    /// Runs the database write after media was stored; if it fails, the new media is deleted (§1.11).
    async fn commit_or_discard<T, E: Into<AppError>>(
        &self,
        stored: Vec<MediaRef>,
        write: impl Future<Output = Result<T, E>>,
    ) -> Result<T, AppError> {
        match write.await {
            Ok(value) => Ok(value),
            Err(e) => {
                self.discard(stored).await;
                Err(e.into())
            }
        }
    }
}
