//! Typed request shapes: each struct both parses its input (`LazyBody::read`, `QueryParams`,
//! `PathParams`) and documents it in the OpenAPI document, with the rules of docs/api.md stated in
//! its schema (`src/http/openapi.rs` has the schema builders). Text fields are optional strings,
//! trimmed except passwords (docs/api.md §1.2); required, empty and length rules are checked by the
//! services, in the order docs/api.md §1.4 gives. File fields take their multipart part; a
//! `<field>Upload` direct-upload result stands in for a missing part (docs/api.md §3.11).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::Id;
use crate::http::input::{Shape, file_part, trimmed};
use crate::http::openapi::{
    PathId, UsernameParam, content, description, image, login_name, new_password, optional_description, optional_image,
    optional_playlist_name, optional_text, optional_title, password, playlist_name, query_user_id, refresh_token,
    required_text, required_upload_result, search_query, sort_by, sort_type, title, trending_hours, upload_field,
    upload_result, video, visibility,
};
use crate::media::MediaKind;
use crate::services::Incoming;
use crate::services::users::{AccountUpdate, Credentials, Registration};
use crate::services::videos::{FeedParams, NewVideoInput, VideoChanges};

/// The media of a file field: its part, else its non-empty `<field>Upload` result.
fn media(part: Option<Incoming>, upload: Option<String>, field: &'static str) -> Option<Incoming> {
    part.or_else(|| upload.filter(|result| !result.is_empty()).map(|result| Incoming::Direct { field, result }))
}

// ---- Path parameters (docs/api.md §1.5) ----

/// A resumable upload's id: 24 hex digits, but anything else is an unknown upload (404), not a
/// malformed id (docs/api.md §3.13).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct UploadPath {
    /// The id at the end of the upload's `Location`
    pub upload_id: String,
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
pub struct SessionPath {
    /// 24-hex id of one of the caller's sessions
    #[param(value_type = PathId)]
    pub session_id: Id,
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub playlist_id: Id,
}

/// `/playlist/add|remove/:videoId/:playlistId`: the video id first (docs/api.md §2 #38).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistVideoPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub video_id: Id,
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub playlist_id: Id,
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
pub struct ChannelPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub channel_id: Id,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub subscriber_id: Id,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UsernamePath {
    /// Channel username
    #[param(value_type = UsernameParam)]
    pub username: String,
}

// ---- Query strings (docs/api.md §1.6, §3.4.1) ----

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

impl From<FeedQuery> for FeedParams {
    fn from(q: FeedQuery) -> Self {
        FeedParams {
            page: q.page,
            limit: q.limit,
            query: q.query,
            sort_by: q.sort_by,
            sort_type: q.sort_type,
            user_id: q.user_id,
        }
    }
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

/// Pagination parameters.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PageQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
}

impl Shape for PageQuery {}

// ---- Users (docs/api.md §3.3) ----

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub username: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub password: Option<String>,
    /// Required unless `avatarUpload` is given.
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for RegisterForm {
    const FILES: &'static [(&'static str, MediaKind)] =
        &[("avatar", MediaKind::Image), ("coverImage", MediaKind::Image)];
}

impl From<RegisterForm> for Registration {
    fn from(f: RegisterForm) -> Self {
        Registration {
            full_name: f.full_name,
            email: f.email,
            username: f.username,
            password: f.password,
            avatar: media(f.avatar, f.avatar_upload, "avatar"),
            cover_image: media(f.cover_image, f.cover_image_upload, "coverImage"),
        }
    }
}

/// Registration without file parts: the avatar comes from a direct upload result.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterJson {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub username: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub password: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_upload_result, required = true)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for RegisterJson {}

impl From<RegisterJson> for Registration {
    fn from(j: RegisterJson) -> Self {
        Registration {
            full_name: j.full_name,
            email: j.email,
            username: j.username,
            password: j.password,
            avatar: media(None, j.avatar_upload, "avatar"),
            cover_image: media(None, j.cover_image_upload, "coverImage"),
        }
    }
}

/// `username` or `email` (at least one, not empty) and `password`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct LoginBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = login_name)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = login_name)]
    pub username: Option<String>,
    #[schema(schema_with = password, required = true)]
    pub password: Option<String>,
}

impl Shape for LoginBody {}

impl From<LoginBody> for Credentials {
    fn from(b: LoginBody) -> Self {
        Credentials { username: b.username, email: b.email, password: b.password }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RefreshBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = refresh_token)]
    pub refresh_token: Option<String>,
}

impl Shape for RefreshBody {}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangePasswordBody {
    #[schema(schema_with = password, required = true)]
    pub old_password: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub new_password: Option<String>,
}

impl Shape for ChangePasswordBody {}

/// The caller's current password, confirming an account deletion.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DeleteAccountBody {
    #[schema(schema_with = password, required = true)]
    pub password: Option<String>,
}

impl Shape for DeleteAccountBody {}

/// At least one field; `email` must not belong to another user (409).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for AccountBody {}

impl From<AccountBody> for AccountUpdate {
    fn from(b: AccountBody) -> Self {
        AccountUpdate {
            full_name: b.full_name,
            email: b.email,
            avatar: media(None, b.avatar_upload, "avatar"),
            cover_image: media(None, b.cover_image_upload, "coverImage"),
        }
    }
}

/// At least one field or file; `email` must not belong to another user (409).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub email: Option<String>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for AccountForm {
    const FILES: &'static [(&'static str, MediaKind)] =
        &[("avatar", MediaKind::Image), ("coverImage", MediaKind::Image)];
}

impl From<AccountForm> for AccountUpdate {
    fn from(f: AccountForm) -> Self {
        AccountUpdate {
            full_name: f.full_name,
            email: f.email,
            avatar: media(f.avatar, f.avatar_upload, "avatar"),
            cover_image: media(f.cover_image, f.cover_image_upload, "coverImage"),
        }
    }
}

/// `avatar` or `avatarUpload`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AvatarForm {
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
}

impl Shape for AvatarForm {
    const FILES: &'static [(&'static str, MediaKind)] = &[("avatar", MediaKind::Image)];
}

impl AvatarForm {
    pub fn media(self) -> Option<Incoming> {
        media(self.avatar, self.avatar_upload, "avatar")
    }
}

/// `coverImage` or `coverImageUpload`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CoverForm {
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for CoverForm {
    const FILES: &'static [(&'static str, MediaKind)] = &[("coverImage", MediaKind::Image)];
}

impl CoverForm {
    pub fn media(self) -> Option<Incoming> {
        media(self.cover_image, self.cover_image_upload, "coverImage")
    }
}

// ---- Videos (docs/api.md §3.4) ----

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
        }
    }
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
}

impl Shape for VideoPatchBody {}

impl From<VideoPatchBody> for VideoChanges {
    fn from(b: VideoPatchBody) -> Self {
        VideoChanges {
            title: b.title,
            description: b.description,
            thumbnail: media(None, b.thumbnail_upload, "thumbnail"),
            visibility: b.visibility,
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
        }
    }
}

// ---- Comments, tweets, playlists, direct uploads (docs/api.md §3.5–3.11) ----

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ContentBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = content, required = true)]
    pub content: Option<String>,
}

impl Shape for ContentBody {}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PlaylistBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = playlist_name, required = true)]
    pub name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = description, required = true)]
    pub description: Option<String>,
}

impl Shape for PlaylistBody {}

/// At least one of `name`, `description`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PlaylistPatchBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_playlist_name)]
    pub name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_description)]
    pub description: Option<String>,
}

impl Shape for PlaylistPatchBody {}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SignBody {
    /// The field to sign for; anonymous callers may sign only `avatar` and `coverImage`.
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_field, required = true)]
    pub field: Option<String>,
}

impl Shape for SignBody {}
