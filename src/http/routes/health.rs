//! `GET /healthcheck`: liveness plus a bounded probe of each backend (docs/api.md §3.2).

use axum::extract::State;
use serde::Serialize;

use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::openapi::BaseErrors;
use crate::services::health::Probe;

#[derive(Serialize, utoipa::ToSchema)]
pub struct BackendHealth {
    backend: &'static str,
    reachable: bool,
}

impl From<Probe> for BackendHealth {
    fn from(probe: Probe) -> Self {
        BackendHealth { backend: probe.backend, reachable: probe.reachable }
    }
}

/// Video processing on this instance: whether it runs, and the ffmpeg found (null when none).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProcessingHealth {
    enabled: bool,
    ffmpeg: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    store: BackendHealth,
    media: BackendHealth,
    processing: ProcessingHealth,
}

#[utoipa::path(
    get,
    path = "/api/v1/healthcheck",
    tag = "health",
    responses(
        (status = 200, description = "Success", body = Envelope<Health>),
        BaseErrors
    ),
    security(())
)]
pub async fn healthcheck(State(state): State<AppState>) -> ApiResponse<Health> {
    let report = state.services.health().await;
    let (enabled, ffmpeg) = state.services.processing_health();
    let processing = ProcessingHealth { enabled, ffmpeg };
    ApiResponse::ok("OK", Health { status: "OK", store: report.store.into(), media: report.media.into(), processing })
}
