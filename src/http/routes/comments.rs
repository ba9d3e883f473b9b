//! Comments on videos (docs/api.md §3.5): top-level comments and their threads of replies, the
//! video owner's pin and hearts.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, ToSchema};

use super::shared::{CommentPath, ContentBody, PageQuery, VideoPath, content, content_schema, optional_name};
use crate::domain::Id;
use crate::domain::page::Page;
use crate::domain::social::{Comment, CommentSort, ReplyTarget};
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams, Shape, trimmed};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, OwnerErrors, PathId, optional_choice};

/// `GET /comments/{videoId}` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct CommentsQuery {
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
    /// `newest` when absent or empty; otherwise 400 sort must be one of newest, top.
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = sort)]
    pub sort: Option<String>,
}

impl Shape for CommentsQuery {}

fn sort() -> Schema {
    optional_choice::<CommentSort>()
}

#[utoipa::path(
    get,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(VideoPath, CommentsQuery),
    responses(
        (status = 200, description = "Success: top-level comments, the pinned one first on page 1", body = Envelope<Page<Comment>>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list_comments(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    QueryParams(query): QueryParams<CommentsQuery>,
) -> Result<ApiResponse<Page<Comment>>, AppError> {
    // The video (404) before the query's own checks (docs/api.md §1.4).
    let video = state.services.visible_video(video_id, viewer.id()).await?;
    let sort = optional_name::<CommentSort>(query.sort.as_deref())?.unwrap_or(CommentSort::Newest);
    let page = PageQuery { page: query.page, limit: query.limit };
    let page = page.page_request(state.services.config().limits.page_limit_max);
    let page = state.services.list_comments(&video, viewer.id(), sort, page).await?;
    Ok(ApiResponse::ok("Comments fetched successfully", page))
}

/// A new comment: its `content`, and for a reply the comment it answers.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CommentBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = content_schema, required = true)]
    pub content: Option<String>,
    /// The comment answered (a top-level comment or a reply, on the same video); absent or empty
    /// for a top-level comment. Otherwise 24 hex digits (400 Invalid parentId).
    #[serde(deserialize_with = "trimmed")]
    #[schema(value_type = Option<PathId>)]
    pub parent_id: Option<String>,
}

impl Shape for CommentBody {}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(VideoPath),
    request_body(content((CommentBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<Comment>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    // Existence and visibility (404) come before body validation (docs/api.md §1.4).
    let video = state.services.visible_video(video_id, Some(caller.id())).await?;
    let body = body.read::<CommentBody>(&state).await?;
    let target = ReplyTarget::parse(body.parent_id.as_deref());
    let comment = state.services.add_comment(&caller.0, &video, body.content.as_deref(), target).await?;
    Ok(ApiResponse::created("Comment added successfully", comment))
}

#[utoipa::path(
    get,
    path = "/api/v1/comments/c/{commentId}/replies",
    tag = "comments",
    params(CommentPath, PageQuery),
    responses(
        (status = 200, description = "Success: the thread's replies, oldest first", body = Envelope<Page<Comment>>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list_replies(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<ApiResponse<Page<Comment>>, AppError> {
    let page = query.page_request(state.services.config().limits.page_limit_max);
    let page = state.services.list_replies(comment_id, viewer.id(), page).await?;
    Ok(ApiResponse::ok("Replies fetched successfully", page))
}

#[derive(Serialize, ToSchema)]
pub struct PinState {
    pinned: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/c/{commentId}/pin",
    tag = "comments",
    params(CommentPath),
    responses(
        (status = 200, description = "Pinned; the video's previous pin ends", body = Envelope<PinState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn pin_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<PinState>, AppError> {
    let pinned = state.services.pin_comment(&caller.0, comment_id, true).await?;
    Ok(ApiResponse::ok("Comment pinned", PinState { pinned }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/comments/c/{commentId}/pin",
    tag = "comments",
    params(CommentPath),
    responses(
        (status = 200, description = "Unpinned (also when it was not pinned)", body = Envelope<PinState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn unpin_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<PinState>, AppError> {
    let pinned = state.services.pin_comment(&caller.0, comment_id, false).await?;
    Ok(ApiResponse::ok("Comment unpinned", PinState { pinned }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartState {
    hearted_by_creator: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/c/{commentId}/heart",
    tag = "comments",
    params(CommentPath),
    responses(
        (status = 200, description = "Heart added or removed (a toggle)", body = Envelope<HeartState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn heart_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<HeartState>, AppError> {
    let hearted = state.services.heart_comment(&caller.0, comment_id).await?;
    let message = if hearted { "Heart added" } else { "Heart removed" };
    Ok(ApiResponse::ok(message, HeartState { hearted_by_creator: hearted }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/comments/c/{commentId}",
    tag = "comments",
    params(CommentPath),
    request_body(content((ContentBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Comment>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, comment_id).await?;
    let content = content(&state, body).await?;
    let comment = state.services.update_comment(&caller.0, comment, content.as_deref()).await?;
    Ok(ApiResponse::ok("Comment updated successfully", comment))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedComment {
    comment_id: Id,
}

#[utoipa::path(
    delete,
    path = "/api/v1/comments/c/{commentId}",
    tag = "comments",
    params(CommentPath),
    responses(
        (status = 200, description = "Success", body = Envelope<DeletedComment>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<DeletedComment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, comment_id).await?;
    let comment_id = comment.id;
    state.services.delete_comment(comment).await?;
    Ok(ApiResponse::ok("Comment deleted successfully", DeletedComment { comment_id }))
}
