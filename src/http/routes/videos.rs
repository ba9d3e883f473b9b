//! `/videos` handlers (docs/api.md §2 rows 20–25).

use axum::extract::State;
use axum::http::Uri;

use crate::domain::page::Page;
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, ClientIp, MaybeAuthUser, Params};
use crate::http::input::{Fields, FileSpec, LazyBody};
use crate::media::MediaKind;
use crate::services::videos::{FeedParams, NewVideoInput, VideoChanges};

fn thumbnail_spec(state: &AppState) -> FileSpec {
    FileSpec { name: "thumbnail", kind: MediaKind::Image, max_bytes: state.services.config().limits.image_bytes }
}

#[utoipa::path(
    get,
    path = "/api/v1/videos",
    tag = "videos",
    params(crate::http::openapi::FeedQuery),
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
    uri: Uri,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    let query = Fields::from_urlencoded(uri.query().unwrap_or("").as_bytes());
    let params = FeedParams {
        page: query.raw("page"),
        limit: query.raw("limit"),
        query: query.text("query"),
        sort_by: query.text("sortBy"),
        sort_type: query.text("sortType"),
        user_id: query.text("userId"),
    };
    let page = state.services.list_videos(params, viewer.id()).await?;
    Ok(ApiResponse::ok("Videos fetched successfully", page))
}

#[utoipa::path(
    post,
    path = "/api/v1/videos",
    tag = "videos",
    request_body(content((crate::http::openapi::PublishForm = "multipart/form-data", encoding(("videoFile" = (content_type = crate::http::openapi::VIDEO_TYPES)), ("thumbnail" = (content_type = crate::http::openapi::IMAGE_TYPES)))), (crate::http::openapi::PublishJson = "application/json"))),
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
    let limits = &state.services.config().limits;
    let specs =
        [FileSpec { name: "videoFile", kind: MediaKind::Video, max_bytes: limits.video_bytes }, thumbnail_spec(&state)];
    let (fields, mut files) = body.upload(&specs, &state.temp_dir, limits.json_body_bytes).await?;
    fields.require_strings(&["title", "description", "videoFileUpload", "thumbnailUpload"])?;
    let input = NewVideoInput {
        title: fields.text("title"),
        description: fields.text("description"),
        video_file: files.incoming(&fields, "videoFile"),
        thumbnail: files.incoming(&fields, "thumbnail"),
    };
    let video = state.services.publish_video(&caller.0, input).await?;
    Ok(ApiResponse::created("Video uploaded successfully", video))
}

#[utoipa::path(
    get,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
    ClientIp(ip): ClientIp,
) -> Result<ApiResponse<Video>, AppError> {
    let id = params.id(0, "videoId")?;
    let video = state.services.watch_video(id, viewer.0.as_ref(), ip).await?;
    Ok(ApiResponse::ok("Video fetched successfully", video))
}

#[utoipa::path(
    patch,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
    request_body(content((crate::http::openapi::VideoPatchBody = "application/json"), (crate::http::openapi::VideoPatchForm = "multipart/form-data", encoding(("thumbnail" = (content_type = crate::http::openapi::IMAGE_TYPES)))))),
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
    params: Params,
    body: LazyBody,
) -> Result<ApiResponse<Video>, AppError> {
    let record = state.services.owned_video(params.id(0, "videoId")?, &caller.0).await?;
    let (fields, mut files) =
        body.upload(&[thumbnail_spec(&state)], &state.temp_dir, state.services.config().limits.json_body_bytes).await?;
    fields.require_strings(&["title", "description", "thumbnailUpload"])?;
    let changes = VideoChanges {
        title: fields.text("title"),
        description: fields.text("description"),
        thumbnail: files.incoming(&fields, "thumbnail"),
    };
    let video = state.services.update_video(record, changes).await?;
    Ok(ApiResponse::ok("Video updated successfully", video))
}

#[utoipa::path(
    delete,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<Empty>, AppError> {
    let record = state.services.owned_video(params.id(0, "videoId")?, &caller.0).await?;
    state.services.delete_video(record).await?;
    Ok(ApiResponse::ok("Video deleted successfully", Empty {}))
}

#[utoipa::path(
    patch,
    path = "/api/v1/videos/toggle/publish/{videoId}",
    tag = "videos",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<Video>, AppError> {
    let record = state.services.owned_video(params.id(0, "videoId")?, &caller.0).await?;
    let video = state.services.toggle_publish(record).await?;
    Ok(ApiResponse::ok("Publish status toggled successfully", video))
}
