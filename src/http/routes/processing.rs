//! `GET /videos/:videoId/processing`: where a video's processing stands (docs/api.md §3.14).

use axum::extract::State;

use super::shared::VideoPath;
use crate::domain::processing::ProcessingReport;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{MaybeAuthUser, PathParams};
use crate::http::openapi::{AuthErrors, BaseErrors, NotFoundErrors};

#[utoipa::path(
    get,
    path = "/api/v1/videos/{videoId}/processing",
    tag = "videos",
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<ProcessingReport>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn processing(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
) -> Result<ApiResponse<ProcessingReport>, AppError> {
    let report = state.services.processing_report(video_id, viewer.id()).await?;
    Ok(ApiResponse::ok("Processing status fetched successfully", report))
}
