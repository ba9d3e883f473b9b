//! Request shapes used by several areas: the path ids of videos, users, comments and tweets, the
//! page query, the `content` body of comments and tweets, and the media of a file field.

use serde::Deserialize;
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use crate::config::Limits;
use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::domain::page::PageRequest;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::input::{LazyBody, Shape, trimmed};
use crate::http::openapi::{PathId, text};
use crate::services::{Incoming, ServiceError};

/// The media of a file field: its part, else its non-empty `<field>Upload` result.
pub(super) fn media(part: Option<Incoming>, upload: Option<String>, field: &'static str) -> Option<Incoming> {
    part.or_else(|| upload.filter(|result| !result.is_empty()).map(|result| Incoming::Direct { field, result }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct VideoPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub video_id: Id,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct UserPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub user_id: Id,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct CommentPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub comment_id: Id,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct TweetPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub tweet_id: Id,
}

/// Pagination parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PageQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
}

impl Shape for PageQuery {}

impl PageQuery {
    /// The page asked for, read leniently (docs/api.md §1.6) and capped at `limit_max`.
    pub fn page_request(&self, limit_max: u32) -> PageRequest {
        PageRequest::parse(self.page.as_deref(), self.limit.as_deref(), limit_max)
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ContentBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = content_schema, required = true)]
    pub content: Option<String>,
}

impl Shape for ContentBody {}

/// A name of the closed set `C`, or `None` when absent or empty; otherwise 400 `<field> must be one of ...`.
pub(super) fn optional_name<C: Choice>(raw: Option<&str>) -> Result<Option<C>, ServiceError> {
    match raw.filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => C::parse(raw).map(Some).ok_or_else(|| ServiceError::invalid(C::invalid())),
    }
}

/// The `content` field of a comment or tweet body.
pub(super) async fn content(state: &AppState, body: LazyBody) -> Result<Option<String>, AppError> {
    Ok(body.read::<ContentBody>(state).await?.content)
}

/// The `content` of a comment or tweet.
pub(super) fn content_schema() -> Object {
    text(false, Some(Limits::DEFAULT.content_chars))
}
