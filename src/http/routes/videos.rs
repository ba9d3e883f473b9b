//! `/videos` (docs/api.md §3.4): the feed, trending, publishing, watching, editing, deleting and the
//! publish toggle. The feed and trending queries are parsed here, into the domain's types.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use super::shared::{VideoPath, media};
use crate::config::Limits;
use crate::domain::Id;
use crate::domain::page::{Page, PageRequest};
use crate::domain::search::{INVALID_TAGS, MAX_TAG_CHARS, MAX_TAGS};
use crate::domain::trending::{DEFAULT_HOURS, INVALID_HOURS, MAX_HOURS, TrendingVideo, Window};
use crate::domain::video::{FeedRequest, Video, VideoSort};
use crate::domain::visibility::ALL_LEVELS;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, ClientIp, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams, Shape, file_part, trimmed};
use crate::http::openapi::Given::{File, Text};
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, IMAGE_TYPES, NotFoundErrors, OwnerErrors, ShapeRule, UploadErrors, WHITESPACE,
    description, file, image, lenient_enum, optional_description, optional_image, required_upload_result, string_type,
    text, upload_result,
};
use crate::media::MediaKind;
use crate::services::Incoming;
use crate::services::validate::max_chars;
use crate::services::videos::{NewVideoInput, VideoChanges};

/// `GET /videos` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[serde(rename_all = "camelCase", default)]
pub struct FeedQuery {
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = search_query)]
    pub query: Option<String>,
    /// `createdAt` when absent or empty; otherwise 400 Invalid sortBy.
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = sort_by)]
    pub sort_by: Option<String>,
    /// `desc` when absent or empty; otherwise 400 Invalid sortType.
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = sort_type)]
    pub sort_type: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = query_user_id)]
    pub user_id: Option<String>,
}

impl Shape for FeedQuery {}

impl FeedQuery {
    /// The feed this query asks for: `userId`, `sortBy`, `sortType` and the length of `query` are
    /// checked in that order (docs/api.md §1.4, §3.4.1); `page` and `limit` are read leniently.
    pub fn parse(self, limits: &Limits) -> Result<FeedRequest, AppError> {
        let owner = match self.user_id.as_deref() {
            Some(raw) => Some(Id::parse(raw).ok_or_else(|| AppError::bad_request("Invalid userId"))?),
            None => None,
        };
        let sort = match self.sort_by.as_deref() {
            None | Some("") => VideoSort::CreatedAt,
            Some(raw) => VideoSort::parse(raw).ok_or_else(|| AppError::bad_request("Invalid sortBy"))?,
        };
        let descending = match self.sort_type.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("desc") => true,
            Some("asc") => false,
            Some(_) => return Err(AppError::bad_request("Invalid sortType")),
        };
        max_chars("query", self.query.as_deref(), limits.query_chars)?;
        let page = PageRequest::parse(self.page.as_deref(), self.limit.as_deref(), limits.page_limit_max);
        Ok(FeedRequest { search: self.query.filter(|q| !q.is_empty()), owner, sort, descending, page })
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/videos",
    tag = "videos",
    params(FeedQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<Video>>),
        BaseErrors, AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    QueryParams(query): QueryParams<FeedQuery>,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    let feed = query.parse(&state.services.config().limits)?;
    let page = state.services.list_videos(feed, viewer.id()).await?;
    Ok(ApiResponse::ok("Videos fetched successfully", page))
}

/// `GET /videos/trending` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct TrendingQuery {
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = trending_hours)]
    pub hours: Option<String>,
}

impl Shape for TrendingQuery {}

impl TrendingQuery {
    /// The window, 48 hours when `hours` is absent (400 unless a whole number from 1 to 720), and the page.
    pub fn parse(self, limits: &Limits) -> Result<(Window, PageRequest), AppError> {
        let window = match self.hours.as_deref() {
            None => Window::default(),
            Some(raw) => {
                Window::parse(raw).ok_or_else(|| AppError::field(StatusCode::BAD_REQUEST, "hours", INVALID_HOURS))?
            }
        };
        Ok((window, PageRequest::parse(self.page.as_deref(), self.limit.as_deref(), limits.page_limit_max)))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/videos/trending",
    tag = "videos",
    description = "Public videos ranked by the views counted in the last `hours` hours (docs/api.md §3.4.7).",
    params(TrendingQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<TrendingVideo>>),
        BaseErrors, AuthErrors
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
    let (window, page) = query.parse(&state.services.config().limits)?;
    let page = state.services.trending(window, page).await?;
    Ok(ApiResponse::ok("Trending videos fetched successfully", page))
}

/// `videoFile` or `videoFileUpload`, and `thumbnail` or `thumbnailUpload` (the thumbnail may be
/// left out when the server processes videos: it is then extracted from the video).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PublishForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = title, required = true)]
    pub title: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = description, required = true)]
    pub description: Option<String>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = video)]
    pub video_file: Option<Incoming>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub thumbnail: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub video_file_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub thumbnail_upload: Option<String>,
    /// Default `public`.
    #[schema(schema_with = visibility)]
    pub visibility: Option<String>,
    #[schema(schema_with = tags)]
    pub tags: Option<String>,
}

impl Shape for PublishForm {
    const FILES: &'static [(&'static str, MediaKind)] =
        &[("videoFile", MediaKind::Video), ("thumbnail", MediaKind::Image)];
}

impl From<PublishForm> for NewVideoInput {
    fn from(f: PublishForm) -> Self {
        NewVideoInput {
            title: f.title,
            description: f.description,
            video_file: media(f.video_file, f.video_file_upload, "videoFile"),
            thumbnail: media(f.thumbnail, f.thumbnail_upload, "thumbnail"),
            visibility: f.visibility,
            tags: f.tags,
        }
    }
}

/// Publishing with direct upload results instead of file parts.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct PublishJson {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = title, required = true)]
    pub title: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = description, required = true)]
    pub description: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_upload_result, required = true)]
    pub video_file_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_upload_result, required = true)]
    pub thumbnail_upload: Option<String>,
    /// Default `public`.
    #[schema(schema_with = visibility)]
    pub visibility: Option<String>,
    #[schema(schema_with = tags)]
    pub tags: Option<String>,
}

impl Shape for PublishJson {}

impl From<PublishJson> for NewVideoInput {
    fn from(j: PublishJson) -> Self {
        NewVideoInput {
            title: j.title,
            description: j.description,
            video_file: media(None, j.video_file_upload, "videoFile"),
            thumbnail: media(None, j.thumbnail_upload, "thumbnail"),
            visibility: j.visibility,
            tags: j.tags,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/videos",
    tag = "videos",
    request_body(content((PublishForm = "multipart/form-data", encoding(("videoFile" = (content_type = VIDEO_TYPES)), ("thumbnail" = (content_type = IMAGE_TYPES)))), (PublishJson = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<Video>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors, UploadErrors
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
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Video>),
        BaseErrors, AuthErrors, NotFoundErrors
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

/// At least one of `title`, `description`, `thumbnailUpload`, `visibility`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VideoPatchBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_title)]
    pub title: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_description)]
    pub description: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub thumbnail_upload: Option<String>,
    #[schema(schema_with = visibility)]
    pub visibility: Option<String>,
    #[schema(schema_with = tags)]
    pub tags: Option<String>,
}

impl Shape for VideoPatchBody {}

impl From<VideoPatchBody> for VideoChanges {
    fn from(b: VideoPatchBody) -> Self {
        VideoChanges {
            title: b.title,
            description: b.description,
            thumbnail: media(None, b.thumbnail_upload, "thumbnail"),
            visibility: b.visibility,
            tags: b.tags,
        }
    }
}

/// At least one of `title`, `description`, `thumbnail`, `thumbnailUpload`, `visibility`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct VideoPatchForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_title)]
    pub title: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_description)]
    pub description: Option<String>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub thumbnail: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub thumbnail_upload: Option<String>,
    #[schema(schema_with = visibility)]
    pub visibility: Option<String>,
    #[schema(schema_with = tags)]
    pub tags: Option<String>,
}

impl Shape for VideoPatchForm {
    const FILES: &'static [(&'static str, MediaKind)] = &[("thumbnail", MediaKind::Image)];
}

impl From<VideoPatchForm> for VideoChanges {
    fn from(f: VideoPatchForm) -> Self {
        VideoChanges {
            title: f.title,
            description: f.description,
            thumbnail: media(f.thumbnail, f.thumbnail_upload, "thumbnail"),
            visibility: f.visibility,
            tags: f.tags,
        }
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/videos/{videoId}",
    tag = "videos",
    params(VideoPath),
    request_body(content((VideoPatchBody = "application/json"), (VideoPatchForm = "multipart/form-data", encoding(("thumbnail" = (content_type = IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = Envelope<Video>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors, BodyErrors, UploadErrors
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
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
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
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Video>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
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

// ---- Schema rules of the shapes above ----

fn title() -> Object {
    text(false, Some(Limits::DEFAULT.title_chars))
}

fn optional_title() -> Object {
    text(true, Some(Limits::DEFAULT.title_chars))
}

/// The video content types a file part may carry (decided by content, docs/api.md §1.11).
const VIDEO_TYPES: &str = "video/mp4, video/webm, video/quicktime, video/x-matroska";

fn video() -> Object {
    file("video", VIDEO_TYPES, Limits::DEFAULT.video_bytes, true)
}

/// A `visibility` input (docs/api.md §1.12): one of the three words exactly.
fn visibility() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .enum_values(Some(
            ALL_LEVELS.iter().map(|level| serde_json::Value::from(level.as_str())).chain([serde_json::Value::Null]),
        ))
        .description(Some(
            "Exactly one of these words (lowercase, not trimmed); any other value is 400 \
             `visibility must be one of public, unlisted, private`. null counts as absent.",
        ))
        .build()
}

/// A `tags` input (docs/api.md §3.16.1): one comma-separated string.
fn tags() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some(format!(
            "Comma-separated; each trimmed, lowercased, a leading `#` dropped, duplicates removed; at most {MAX_TAGS} \
             of 1 to {MAX_TAG_CHARS} characters, else 400 `{INVALID_TAGS}`. `\"\"` clears them on PATCH. null \
             counts as absent."
        )))
        .build()
}

fn sort_by() -> Schema {
    lenient_enum(&["createdAt", "views", "duration", "title"], false, true)
}

fn sort_type() -> Schema {
    lenient_enum(&["asc", "desc"], true, true)
}

fn query_user_id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITESPACE}]*[0-9a-fA-F]{{24}}[{WHITESPACE}]*$")))
        .description(Some(
            "Only this owner's videos (all of them when it is the caller); trimmed; 24 hex digits, \
             else 400 Invalid userId.",
        ))
        .build()
}

fn search_query() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(Limits::DEFAULT.query_chars))
        .description(Some(format!(
            "Literal, case-insensitive substring of the title or description; trimmed; at most {} characters.",
            Limits::DEFAULT.query_chars
        )))
        .build()
}

/// `hours` of `GET /videos/trending`: a whole number from 1 to 720 (leading zeros allowed), trimmed.
fn trending_hours() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITESPACE}]*0*(?:[1-9][0-9]?|[1-6][0-9]{{2}}|7[01][0-9]|720)[{WHITESPACE}]*$")))
        .description(Some(format!(
            "The window in hours, {DEFAULT_HOURS} when absent; trimmed; a whole number from 1 to {MAX_HOURS}, else \
             400 `{INVALID_HOURS}`."
        )))
        .build()
}

/// What the derives cannot state of the shapes above (`openapi::complete`).
pub const SHAPE_RULES: &[ShapeRule] = &[
    // The thumbnail may be left out when processing is on (it is extracted from the video).
    ShapeRule::form("PublishForm", &[("videoFile", File), ("videoFileUpload", Text)]),
    ShapeRule::body(
        "VideoPatchBody",
        &[("title", Text), ("description", Text), ("thumbnailUpload", Text), ("visibility", Text), ("tags", Text)],
    ),
    ShapeRule::form(
        "VideoPatchForm",
        &[
            ("title", Text),
            ("description", Text),
            ("thumbnail", File),
            ("thumbnailUpload", Text),
            ("visibility", Text),
            ("tags", Text),
        ],
    ),
];
