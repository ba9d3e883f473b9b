//! `GET /healthcheck`: liveness plus a bounded probe of each backend (docs/api.md §3.2).

use std::time::Duration;

use axum::extract::State;
use serde::Serialize;

use crate::http::AppState;
use crate::http::envelope::ApiResponse;

#[derive(Serialize, utoipa::ToSchema)]
pub struct BackendHealth {
    backend: &'static str,
    reachable: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    store: BackendHealth,
    media: BackendHealth,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[utoipa::path(
    get,
    path = "/api/v1/healthcheck",
    tag = "health",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::health::Health>),
        crate::http::openapi::BaseErrors
    ),
    security(())
)]
pub async fn healthcheck(State(state): State<AppState>) -> ApiResponse<Health> {
    let services = &state.services;
    let (store_ok, media_ok) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, services.store.health.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, services.media.ping()),
    );
    ApiResponse::ok(
        "OK",
        Health {
            status: "OK",
            store: BackendHealth { backend: services.store.health.backend(), reachable: store_ok.unwrap_or(false) },
            media: BackendHealth { backend: services.media.backend(), reachable: media_ok.unwrap_or(false) },
        },
    )
}
