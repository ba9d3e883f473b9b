//! Comments on videos (docs/api.md §3.5).

use axum::extract::State;
use serde::Serialize;

use super::shared::{CommentPath, ContentBody, PageQuery, VideoPath, content};
use crate::domain::Id;
use crate::domain::page::Page;
use crate::domain::social::Comment;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, OwnerErrors};

#[utoipa::path(
    get,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(VideoPath, PageQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<Comment>>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list_comments(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<ApiResponse<Page<Comment>>, AppError> {
    let page = query.page_request(state.services.config().limits.page_limit_max);
    let page = state.services.list_comments(video_id, viewer.id(), page).await?;
    Ok(ApiResponse::ok("Comments fetched successfully", page))
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(VideoPath),
    request_body(content((ContentBody = "application/json"))),
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
    let content = content(&state, body).await?;
    let comment = state.services.add_comment(&caller.0, &video, content.as_deref()).await?;
    Ok(ApiResponse::created("Comment added successfully", comment))
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
