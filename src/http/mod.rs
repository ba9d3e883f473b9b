//! The HTTP edge: router, middleware, extractors, input parsing, envelopes and thin route handlers.

pub mod cookies;
pub mod drain;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod input;
mod media_files;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod router;
mod routes;

use std::path::PathBuf;
use std::sync::Arc;

use crate::services::Services;

#[derive(Clone)]
pub struct AppState {
    /// Shared, not cloned per request: a `Services` clone is a score of reference-count updates.
    pub services: Arc<Services>,
    /// Private directory for in-flight uploads; never served.
    pub temp_dir: Arc<PathBuf>,
}
