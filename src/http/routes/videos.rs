//! `/videos` handlers (docs/api.md §2 rows 20–25, 51 and 54).

use axum::extract::State;

use crate::domain::page::Page;
use crate::domain::processing::ProcessingReport;
use crate::domain::trending::TrendingVideo;
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, ClientIp, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams};
use crate::http::requests::{
    FeedQuery, PublishForm, PublishJson, TrendingQuery, VideoPatchBody, VideoPatchForm, VideoPath,
};
use crate::services::videos::{NewVideoInput, VideoChanges};

#[utoipa::path(
    get,
    path = "/api/v1/videos",
    tag = "videos",
    params(crate::http::requests::FeedQuery),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::page::Page<crate::domain::video::Video>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    QueryParams(query): QueryParams<FeedQuery>,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    let page = state.services.list_videos(query.into(), viewer.id()).await?;
    Ok(ApiResponse::ok("Videos fetched successfully", page))
}

#[utoipa::path(
    get,
    path = "/api/v1/videos/trending",
    tag = "videos",
    description = "Public videos ranked by the views counted in the last `hours` hours (docs/api.md §3.4.7).",
    params(crate::http::requests::TrendingQuery),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::page::Page<crate::domain::trending::TrendingVideo>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn trending(
    State(state): State<AppState>,
    // Optional login: a token that is sent must be valid (docs/api.md §1.7), though the ranking is
    // the same for everyone.
    _viewer: MaybeAuthUser,
    QueryParams(query): QueryParams<TrendingQuery>,
) -> Result<ApiResponse<Page<TrendingVideo>>, AppError> {
    let (hours, page, limit) = (query.hours.as_deref(), query.page.as_deref(), query.limit.as_deref());
    let page = state.services.trending(hours, page, limit).await?;
    Ok(ApiResponse::ok("Trending videos fetched successfully", page))
}

#[utoipa::path(
    post,
    path = "/api/v1/videos",
    tag = "videos",
    request_body(content((crate::http::requests::PublishForm = "multipart/form-data", encoding(("videoFile" = (content_type = crate::http::openapi::VIDEO_TYPES)), ("thumbnail" = (content_type = crate::http::openapi::IMAGE_TYPES)))), (crate::http::requests::PublishJson = "application/json"))),
    responses(
        (status = 201, description = "Success", body = crate::http::envelope::Envelope<crate::domain::video::Video>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<Video>, AppError> {
    let input: NewVideoInput = if body.is_multipart() {
        body.read::<PublishForm>(&state).await?.into()
    } else {
        body.read::<PublishJson>(&state).await?.into()
    };
    let video = state.services.publish_video(&caller.0, input).await?;
    Ok(ApiResponse::created("Video uploaded successfully", video))
}

#[utoipa::path(
    get,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::video::Video>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    ClientIp(ip): ClientIp,
) -> Result<ApiResponse<Video>, AppError> {
    let video = state.services.watch_video(video_id, viewer.0.as_ref(), ip).await?;
    Ok(ApiResponse::ok("Video fetched successfully", video))
}

#[utoipa::path(
    get,
    path = "/api/v1/videos/{videoId}/processing",
    tag = "videos",
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::processing::ProcessingReport>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
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

#[utoipa::path(
    patch,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(crate::http::requests::VideoPath),
    request_body(content((crate::http::requests::VideoPatchBody = "application/json"), (crate::http::requests::VideoPatchForm = "multipart/form-data", encoding(("thumbnail" = (content_type = crate::http::openapi::IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::video::Video>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    body: LazyBody,
) -> Result<ApiResponse<Video>, AppError> {
    let record = state.services.owned_video(video_id, &caller.0).await?;
    let changes: VideoChanges = if body.is_multipart() {
        body.read::<VideoPatchForm>(&state).await?.into()
    } else {
        body.read::<VideoPatchBody>(&state).await?.into()
    };
    let video = state.services.update_video(record, changes).await?;
    Ok(ApiResponse::ok("Video updated successfully", video))
}

#[utoipa::path(
    delete,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
) -> Result<ApiResponse<Empty>, AppError> {
    let record = state.services.owned_video(video_id, &caller.0).await?;
    state.services.delete_video(record).await?;
    Ok(ApiResponse::ok("Video deleted successfully", Empty {}))
}

#[utoipa::path(
    patch,
    path = "/api/v1/videos/toggle/publish/{videoId}",
    tag = "videos",
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::video::Video>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn toggle_publish(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
) -> Result<ApiResponse<Video>, AppError> {
    let record = state.services.owned_video(video_id, &caller.0).await?;
    let video = state.services.toggle_publish(record).await?;
    Ok(ApiResponse::ok("Publish status toggled successfully", video))
}
