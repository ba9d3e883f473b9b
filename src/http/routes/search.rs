//! Search and discovery (docs/api.md §3.17): videos, channels, suggestions, related videos. The
//! queries are parsed here into the domain's types, in the order of the spec's messages.

use axum::extract::State;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, Modify};

use super::shared::{PageQuery, VideoPath, optional_name};
use crate::config::Limits;
use crate::domain::page::{Page, PageRequest};
use crate::domain::search::{
    DurationFilter, MAX_SUGGEST_CHARS, QUERY_REQUIRED, SearchSort, SearchText, SearchedChannel, SearchedVideo,
    UploadedFilter, VideoSearch,
};
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{MaybeAuthUser, PathParams};
use crate::http::input::{QueryParams, Shape, trimmed};
use crate::http::openapi::{AuthErrors, BaseErrors, NotFoundErrors, WHITESPACE, optional_choice};
use crate::services::validate::max_chars;

/// `q`: required (after trimming), at most `max` characters.
fn required_query(q: Option<String>, max: usize) -> Result<String, AppError> {
    let q = q.filter(|q| !q.is_empty()).ok_or_else(|| AppError::bad_request(QUERY_REQUIRED))?;
    max_chars("q", Some(&q), max)?;
    Ok(q)
}

/// `GET /search/videos` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct VideoSearchParams {
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = search_text, required = true)]
    pub q: Option<String>,
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
    /// `relevance` when absent or empty.
    #[param(schema_with = sort)]
    pub sort: Option<String>,
    #[param(schema_with = duration)]
    pub duration: Option<String>,
    #[param(schema_with = uploaded)]
    pub uploaded: Option<String>,
}

impl Shape for VideoSearchParams {}

impl VideoSearchParams {
    /// `q`, then `sort`, `duration` and `uploaded`, in that order (docs/api.md §3.16.2).
    pub fn parse(self, limits: &Limits) -> Result<VideoSearch, AppError> {
        let q = required_query(self.q, limits.query_chars)?;
        let sort = optional_name::<SearchSort>(self.sort.as_deref())?.unwrap_or(SearchSort::Relevance);
        let duration = optional_name::<DurationFilter>(self.duration.as_deref())?;
        let uploaded = optional_name::<UploadedFilter>(self.uploaded.as_deref())?;
        let page = PageRequest::parse(self.page.as_deref(), self.limit.as_deref(), limits.page_limit_max);
        Ok(VideoSearch { text: SearchText::parse(&q), sort, duration, uploaded, page })
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/search/videos",
    tag = "search",
    description = "Listed videos matching every word of `q` (the last also as a prefix), ranked (docs/api.md §3.16.2).",
    params(VideoSearchParams),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<SearchedVideo>>),
        BaseErrors, AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn videos(
    State(state): State<AppState>,
    // Optional login: a token that is sent must be valid (docs/api.md §1.7); results are the same
    // for everyone.
    _viewer: MaybeAuthUser,
    QueryParams(params): QueryParams<VideoSearchParams>,
) -> Result<ApiResponse<Page<SearchedVideo>>, AppError> {
    let search = params.parse(&state.services.config().limits)?;
    let page = state.services.search_videos(search).await?;
    Ok(ApiResponse::ok("Search results fetched successfully", page))
}

/// `GET /search/channels` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ChannelSearchParams {
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = search_text, required = true)]
    pub q: Option<String>,
    /// Page number; lenient integer parsing, 1 when absent.
    pub page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    pub limit: Option<String>,
}

impl Shape for ChannelSearchParams {}

#[utoipa::path(
    get,
    path = "/api/v1/search/channels",
    tag = "search",
    description = "Channels whose username or full name match every word of `q` (docs/api.md §3.16.3).",
    params(ChannelSearchParams),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<SearchedChannel>>),
        BaseErrors, AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn channels(
    State(state): State<AppState>,
    _viewer: MaybeAuthUser,
    QueryParams(params): QueryParams<ChannelSearchParams>,
) -> Result<ApiResponse<Page<SearchedChannel>>, AppError> {
    let limits = &state.services.config().limits;
    let q = required_query(params.q, limits.query_chars)?;
    let page = PageQuery { page: params.page, limit: params.limit }.page_request(limits.page_limit_max);
    let page = state.services.search_channels(SearchText::parse(&q), page).await?;
    Ok(ApiResponse::ok("Channels fetched successfully", page))
}

/// `GET /search/suggest` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct SuggestParams {
    #[serde(deserialize_with = "trimmed")]
    #[param(schema_with = suggest_text, required = true)]
    pub q: Option<String>,
}

impl Shape for SuggestParams {}

#[utoipa::path(
    get,
    path = "/api/v1/search/suggest",
    tag = "search",
    description = "Up to 10 lowercase titles and tags starting with `q` or with a word that does, most viewed first \
                   (docs/api.md §3.16.4).",
    params(SuggestParams),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<String>>),
        BaseErrors, AuthErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn suggest(
    State(state): State<AppState>,
    _viewer: MaybeAuthUser,
    QueryParams(params): QueryParams<SuggestParams>,
) -> Result<ApiResponse<Vec<String>>, AppError> {
    let q = params
        .q
        .filter(|q| !q.is_empty() && q.chars().count() <= MAX_SUGGEST_CHARS)
        .ok_or_else(|| AppError::bad_request(QUERY_REQUIRED))?;
    let suggestions = state.services.suggest(&q).await?;
    Ok(ApiResponse::ok("Suggestions fetched successfully", suggestions))
}

/// `GET /videos/:videoId/related` query parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct RelatedParams {
    /// How many, clamped to PAGE_LIMIT_MAX (100); 10 when absent; lenient integer parsing.
    pub limit: Option<String>,
}

impl Shape for RelatedParams {}

#[utoipa::path(
    get,
    path = "/api/v1/videos/{videoId}/related",
    tag = "videos",
    description = "Listed videos sharing tags or title words with the video, then its channel's newest \
                   (docs/api.md §3.17.3).",
    params(VideoPath, RelatedParams),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<Video>>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn related(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    QueryParams(params): QueryParams<RelatedParams>,
) -> Result<ApiResponse<Vec<Video>>, AppError> {
    let limit = PageRequest::parse(None, params.limit.as_deref(), state.services.config().limits.page_limit_max).limit;
    let related = state.services.related_videos(video_id, viewer.id(), limit).await?;
    Ok(ApiResponse::ok("Related videos fetched successfully", related))
}

// ---- Schema rules of the shapes above ----

/// `q` is required on the search routes: utoipa drops `required` from a parameter whose schema
/// is given by `schema_with`, so it is set here (`openapi::complete`).
pub struct SearchRules;

impl Modify for SearchRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let searches = openapi.paths.paths.iter_mut().filter(|(path, _)| path.starts_with("/api/v1/search/"));
        for (_, item) in searches {
            for parameter in item.get.iter_mut().flat_map(|get| get.parameters.iter_mut().flatten()) {
                let RefOr::T(parameter) = parameter else { continue };
                if parameter.name == "q" {
                    parameter.required = Required::True;
                }
            }
        }
    }
}

/// A search query: words, trimmed, not empty.
fn search_text() -> Object {
    query_text(Limits::DEFAULT.query_chars)
}

fn suggest_text() -> Object {
    query_text(MAX_SUGGEST_CHARS)
}

fn query_text(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("[^{WHITESPACE}]")))
        .description(Some(format!(
            "Words to find, trimmed; case, accents and punctuation are ignored and nothing is read as an \
             operator. Absent or empty: 400 `{QUERY_REQUIRED}`; at most {max} characters."
        )))
        .build()
}

fn sort() -> Schema {
    optional_choice::<SearchSort>()
}

fn duration() -> Schema {
    optional_choice::<DurationFilter>()
}

fn uploaded() -> Schema {
    optional_choice::<UploadedFilter>()
}
