//! The OpenAPI 3 document: its info, tags and shared components here, its paths collected from the
//! handlers' `#[utoipa::path]` annotations as `router.rs` registers them, plus the request shapes
//! that only exist on the wire. Served at `/api/v1/openapi.json`, with Swagger UI at `/api/v1/docs`.

// The request shapes below describe bodies the handlers read field by field (docs/api.md §1.2);
// they are never constructed, only documented.
#![allow(dead_code)]

use utoipa::openapi::RefOr;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use crate::domain::Id;
use crate::http::error::ErrorEnvelope;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "videotube",
        description = "A video-sharing REST API compatible with the VideoTube (chai-backend) API. \
                       Every answer is a JSON envelope ({statusCode, data, message, success}, plus errors on \
                       failure); the full reference is docs/api.md in the source repository.",
        license(name = "MIT")
    ),
    components(schemas(
        crate::domain::user::OwnerSummary,
        crate::domain::user::User,
        crate::domain::video::Video,
        crate::domain::social::ChannelCard,
        crate::http::error::ErrorEnvelope,
        crate::services::FieldError
    )),
    tags(
        (name = "health"), (name = "users"), (name = "videos"), (name = "comments"), (name = "likes"),
        (name = "tweets"), (name = "subscriptions"), (name = "playlists"), (name = "dashboard"),
        (name = "uploads", description = "Direct browser uploads to Cloudinary (an extension)")
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as served: the routes registered in `router.rs` (each handler's
/// `#[utoipa::path]`), completed by [`complete`].
pub fn document() -> utoipa::openapi::OpenApi {
    super::router::api().1
}

/// Adds what the routes cannot say themselves: the security schemes and the create links.
pub fn complete(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    SecurityAddon.modify(&mut document);
    CreateLinks.modify(&mut document);
    document
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components
            .add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("accessToken"))));
    }
}

/// Error answers shared by operations, composed per route in `responses(...)`.
#[derive(IntoResponses)]
pub enum BaseErrors {
    #[response(status = 400, description = "Invalid input (the message names it)")]
    BadRequest(ErrorEnvelope),
    #[response(status = 429, description = "Too many requests (see Retry-After)")]
    TooManyRequests(ErrorEnvelope),
    #[response(status = 500, description = "Something went wrong")]
    Internal(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum AuthErrors {
    #[response(status = 401, description = "Missing, invalid or expired token")]
    Unauthorized(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum OwnerErrors {
    #[response(status = 403, description = "Not the owner, or a cross-site cookie-authenticated request")]
    Forbidden(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum NotFoundErrors {
    #[response(status = 404, description = "Not found or not visible")]
    NotFound(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum ConflictErrors {
    #[response(status = 409, description = "Already taken")]
    Conflict(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum BodyErrors {
    #[response(status = 413, description = "Body or file too large")]
    TooLarge(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum UploadErrors {
    #[response(status = 415, description = "File of the wrong type")]
    WrongType(ErrorEnvelope),
}

/// OpenAPI links from each create operation to the operations that take the created id, so
/// clients and stateful testers can chain create → get → update → delete.
struct CreateLinks;

/// (path, method, operations that take the new `data._id` as `param`, param).
const CREATE_LINKS: [(&str, &str, &[&str], &str); 4] = [
    ("/api/v1/tweets", "post", &["update_tweet", "delete_tweet", "like_tweet"], "tweetId"),
    ("/api/v1/playlist", "post", &["get_playlist", "update_playlist", "delete_playlist"], "playlistId"),
    ("/api/v1/comments/{videoId}", "post", &["update_comment", "delete_comment", "like_comment"], "commentId"),
    (
        "/api/v1/videos",
        "post",
        &["get", "update", "delete", "toggle_publish", "list_comments", "add_comment", "like_video"],
        "videoId",
    ),
];

impl Modify for CreateLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, method, targets, param) in CREATE_LINKS {
            let Some(item) = openapi.paths.paths.get_mut(path) else { continue };
            let operation = match method {
                "post" => item.post.as_mut(),
                _ => None,
            };
            let Some(RefOr::T(created)) = operation.and_then(|op| op.responses.responses.get_mut("201")) else {
                continue;
            };
            for target in targets {
                let link =
                    LinkBuilder::new().operation_id(*target).parameter(param, "$response.body#/data/_id").build();
                created.links.insert((*target).to_owned(), RefOr::T(link));
            }
        }
    }
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SortBy {
    CreatedAt,
    Views,
    Duration,
    Title,
}

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortType {
    Asc,
    Desc,
}

/// `GET /videos` query parameters (docs/api.md §1.6, §3.4.1).
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct FeedQuery {
    /// Page number; lenient integer parsing, 1 when absent.
    page: Option<String>,
    /// Page size, clamped to PAGE_LIMIT_MAX (100); 10 when absent.
    limit: Option<String>,
    /// Literal, case-insensitive substring of the title or description.
    #[param(max_length = 200)]
    query: Option<String>,
    #[param(inline)]
    sort_by: Option<SortBy>,
    #[param(inline)]
    sort_type: Option<SortType>,
    /// Only this owner's videos (all of them when it is the caller).
    user_id: Option<Id>,
}

/// Pagination parameters (docs/api.md §1.6).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    page: Option<String>,
    limit: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterForm {
    full_name: String,
    email: String,
    username: String,
    #[schema(format = Password)]
    password: String,
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
    #[schema(value_type = Option<String>, format = Binary)]
    cover_image: Option<Vec<u8>>,
}

/// Registration without file parts: the avatar comes from a direct upload result.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterJson {
    full_name: String,
    email: String,
    username: String,
    #[schema(format = Password)]
    password: String,
    /// The JSON upload result of a direct upload, as a string.
    avatar_upload: Option<String>,
    cover_image_upload: Option<String>,
}

#[derive(ToSchema)]
pub struct LoginBody {
    email: Option<String>,
    username: Option<String>,
    #[schema(format = Password)]
    password: String,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    /// Used when no `refreshToken` cookie is sent.
    refresh_token: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordBody {
    #[schema(format = Password)]
    old_password: String,
    #[schema(format = Password)]
    new_password: String,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    full_name: Option<String>,
    email: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountForm {
    full_name: Option<String>,
    email: Option<String>,
    #[schema(value_type = Option<String>, format = Binary)]
    avatar: Option<Vec<u8>>,
    #[schema(value_type = Option<String>, format = Binary)]
    cover_image: Option<Vec<u8>>,
}

#[derive(ToSchema)]
pub struct AvatarForm {
    #[schema(value_type = String, format = Binary)]
    avatar: Vec<u8>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoverForm {
    #[schema(value_type = String, format = Binary)]
    cover_image: Vec<u8>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishForm {
    #[schema(max_length = 200)]
    title: String,
    #[schema(max_length = 5000)]
    description: String,
    #[schema(value_type = String, format = Binary)]
    video_file: Vec<u8>,
    #[schema(value_type = String, format = Binary)]
    thumbnail: Vec<u8>,
}

/// Publishing with direct upload results instead of file parts.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishJson {
    #[schema(max_length = 200)]
    title: String,
    #[schema(max_length = 5000)]
    description: String,
    video_file_upload: Option<String>,
    thumbnail_upload: Option<String>,
}

#[derive(ToSchema)]
pub struct VideoPatchBody {
    #[schema(max_length = 200)]
    title: Option<String>,
    #[schema(max_length = 5000)]
    description: Option<String>,
}

#[derive(ToSchema)]
pub struct VideoPatchForm {
    #[schema(max_length = 200)]
    title: Option<String>,
    #[schema(max_length = 5000)]
    description: Option<String>,
    #[schema(value_type = Option<String>, format = Binary)]
    thumbnail: Option<Vec<u8>>,
}

#[derive(ToSchema)]
pub struct ContentBody {
    #[schema(max_length = 2000)]
    content: String,
}

#[derive(ToSchema)]
pub struct PlaylistBody {
    #[schema(max_length = 100)]
    name: String,
    #[schema(max_length = 5000)]
    description: String,
}

#[derive(ToSchema)]
pub struct PlaylistPatchBody {
    #[schema(max_length = 100)]
    name: Option<String>,
    #[schema(max_length = 5000)]
    description: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum UploadField {
    Avatar,
    CoverImage,
    Thumbnail,
    VideoFile,
}

#[derive(ToSchema)]
pub struct SignBody {
    field: UploadField,
}
