//! The OpenAPI 3 document: its info, tags and shared components here, its paths collected from the
//! handlers' `#[utoipa::path]` annotations as `router.rs` registers them, and the schema builders
//! of the typed request shapes (`requests.rs`). Served at `/api/v1/openapi.json`, with Swagger UI at
//! `/api/v1/docs`.

use utoipa::openapi::RefOr;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::config::Limits;
use crate::domain::trending::{DEFAULT_HOURS, INVALID_HOURS, MAX_HOURS};
use crate::domain::visibility::ALL_LEVELS;
use crate::http::error::ErrorEnvelope;
use crate::media::human_size;

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
        crate::domain::visibility::Visibility,
        crate::domain::trending::TrendingVideo,
        crate::domain::social::ChannelCard,
        crate::http::error::ErrorEnvelope,
        crate::services::FieldError,
        PathId,
        UsernameParam
    )),
    tags(
        (name = "health"), (name = "users"), (name = "videos"), (name = "comments"), (name = "likes"),
        (name = "tweets"), (name = "subscriptions"), (name = "playlists"), (name = "dashboard"),
        (name = "uploads", description = "Direct browser uploads to Cloudinary and resumable (tus 1.0.0) uploads (extensions)")
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
    RequestRules.modify(&mut document);
    TusRules.modify(&mut document);
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

#[derive(IntoResponses)]
pub enum TusErrors {
    #[response(status = 412, description = "Tus-Resumable is missing or not 1.0.0 (the answer carries Tus-Version)")]
    PreconditionFailed(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum TusContentErrors {
    #[response(status = 415, description = "Content-Type is not application/offset+octet-stream")]
    WrongContentType(ErrorEnvelope),
}

#[derive(IntoResponses)]
pub enum TusConflictErrors {
    #[response(
        status = 409,
        description = "Upload-Offset is not the upload's offset, or another request is writing the upload"
    )]
    Conflict(ErrorEnvelope),
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

// ---- Schemas of the request shapes (src/http/requests.rs; docs/api.md §1.2, §2, §3) ----
//
// Every rule the server applies to an input is stated here, so generated clients validate what
// the server validates: text fields are trimmed before they are judged (passwords excepted), so
// "non-empty" is a pattern asking for one character `str::trim` keeps; lengths are the defaults
// of `Limits::DEFAULT` (configurable, docs/api.md §1.13); JSON `null` counts as absent, so optional
// fields admit it; file parts are judged by their content (§1.11), listed in each form's
// `encoding`; "at least one of" rules are `anyOf` alternatives added by [`complete`].

/// The characters `str::trim` removes (Unicode `White_Space`), for patterns.
const WHITESPACE: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A value with one character that survives trimming: what "non-empty" means for a text field.
fn non_blank_pattern() -> String {
    format!("[^{WHITESPACE}]")
}

/// The image content types a file part may carry (decided by content, docs/api.md §1.11).
pub const IMAGE_TYPES: &str = "image/jpeg, image/png, image/gif, image/webp";
/// The video content types a file part may carry (decided by content, docs/api.md §1.11).
pub const VIDEO_TYPES: &str = "video/mp4, video/webm, video/quicktime, video/x-matroska";

fn string_type(nullable: bool) -> SchemaType {
    if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::Type(Type::String) }
}

/// A trimmed text field that must not be empty, at most `max` characters after trimming.
fn text(nullable: bool, max: Option<usize>) -> Object {
    let description = match max {
        Some(max) => format!("Trimmed; must not be empty; at most {max} characters."),
        None => "Trimmed; must not be empty.".to_owned(),
    };
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .min_length(Some(1))
        .max_length(max)
        .pattern(Some(non_blank_pattern()))
        .description(Some(description))
        .build()
}

/// A required trimmed text field (`fullName`, `email`, `username`): no format rule beyond non-empty.
pub fn required_text() -> Object {
    text(false, None)
}

/// An optional trimmed text field that must not be empty when given.
pub fn optional_text() -> Object {
    text(true, None)
}

pub fn title() -> Object {
    text(false, Some(Limits::DEFAULT.title_chars))
}

pub fn optional_title() -> Object {
    text(true, Some(Limits::DEFAULT.title_chars))
}

pub fn description() -> Object {
    text(false, Some(Limits::DEFAULT.description_chars))
}

pub fn optional_description() -> Object {
    text(true, Some(Limits::DEFAULT.description_chars))
}

pub fn content() -> Object {
    text(false, Some(Limits::DEFAULT.content_chars))
}

pub fn playlist_name() -> Object {
    text(false, Some(Limits::DEFAULT.playlist_name_chars))
}

pub fn optional_playlist_name() -> Object {
    text(true, Some(Limits::DEFAULT.playlist_name_chars))
}

/// `username` or `email` of login: trimmed and lowercased; one of them must not be empty.
pub fn login_name() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some("Trimmed and lowercased; at least one of username and email must not be empty."))
        .build()
}

/// `refreshToken` of logout and refresh: trimmed; read only without a `refreshToken` cookie.
pub fn refresh_token() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some("Used when no `refreshToken` cookie is sent."))
        .build()
}

/// A password that is stored: used exactly as sent, non-empty, at most 72 bytes (bcrypt).
pub fn new_password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .min_length(Some(1))
        .max_length(Some(72))
        .description(Some("Used exactly as sent (not trimmed); not empty; at most 72 bytes in UTF-8."))
        .build()
}

/// A password that is only compared: used exactly as sent, non-empty.
/// A `visibility` input (docs/api.md §1.12): one of the three words exactly.
pub fn visibility() -> Object {
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

pub fn password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .min_length(Some(1))
        .description(Some("Used exactly as sent (not trimmed); not empty."))
        .build()
}

/// A direct-upload result (docs/api.md §3.11); empty counts as absent.
pub fn upload_result() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some(
            "The JSON upload result of a direct upload to Cloudinary, as a string (docs/api.md §3.11): \
             it must carry a valid Cloudinary signature, so it needs the Cloudinary media backend. \
             Empty counts as absent; a file part of the same field wins over it.",
        ))
        .build()
}

/// A required direct-upload result (the JSON variants of register and publish).
pub fn required_upload_result() -> Object {
    let mut schema = upload_result();
    schema.schema_type = string_type(false);
    schema.min_length = Some(1);
    schema.pattern = Some(non_blank_pattern());
    schema
}

fn file(kind: &str, types: &str, max_bytes: u64, required: bool) -> Object {
    let presence = if required { "required" } else { "optional" };
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "An" } else { "A" };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .min_length(required.then_some(1))
        .description(Some(format!(
            "{article} {kind} file part ({presence}; an empty part counts as absent): {types}, decided by the content, \
             not the declared type or name (415 otherwise); at most {} (413 otherwise, MAX_{}_BYTES).",
            human_size(max_bytes),
            kind.to_uppercase()
        )))
        .build()
}

pub fn image() -> Object {
    file("image", IMAGE_TYPES, Limits::DEFAULT.image_bytes, true)
}

pub fn optional_image() -> Object {
    file("image", IMAGE_TYPES, Limits::DEFAULT.image_bytes, false)
}

pub fn video() -> Object {
    file("video", VIDEO_TYPES, Limits::DEFAULT.video_bytes, true)
}

/// A value the server trims and compares with `values` (case-insensitively when asked); empty
/// means the default. An `enum` for clients, and the exact set the server accepts beside it.
fn lenient_enum(values: &[&str], case_insensitive: bool, empty_is_default: bool) -> Schema {
    let spelled = |v: &str| -> String {
        if !case_insensitive {
            return v.to_owned();
        }
        v.chars().map(|c| format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())).collect()
    };
    let alternatives = values.iter().map(|v| spelled(v)).collect::<Vec<_>>().join("|");
    let optional = if empty_is_default { "?" } else { "" };
    let lenient = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITESPACE}]*(?:(?:{alternatives})[{WHITESPACE}]*){optional}$")))
        .description(Some(format!(
            "The same values{}{}, surrounding whitespace ignored.",
            if case_insensitive { " in any letter case" } else { "" },
            if empty_is_default { ", or empty for the default" } else { "" }
        )));
    let exact = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied()));
    AnyOfBuilder::new().item(exact).item(lenient).into()
}

/// A path id as the server reads it: exactly 24 hex digits, either case (docs/api.md §1.5).
pub struct PathId;

impl utoipa::PartialSchema for PathId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-fA-F]{24}$"))
            .description(Some("24 hex digits (an ObjectId), either letter case; otherwise 400 Invalid <name>."))
            .examples(["6650a1b2c3d4e5f601234567"])
            .into()
    }
}

impl ToSchema for PathId {
    fn name() -> std::borrow::Cow<'static, str> {
        "ObjectIdParam".into()
    }
}

/// `:username` of `GET /users/c/:username`: trimmed, must not be empty.
pub struct UsernameParam;

impl utoipa::PartialSchema for UsernameParam {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(non_blank_pattern()))
            .description(Some("Trimmed and lowercased; empty → 400 username is missing."))
            .into()
    }
}

impl ToSchema for UsernameParam {
    fn name() -> std::borrow::Cow<'static, str> {
        "UsernameParam".into()
    }
}

pub fn sort_by() -> Schema {
    lenient_enum(&["createdAt", "views", "duration", "title"], false, true)
}

pub fn sort_type() -> Schema {
    lenient_enum(&["asc", "desc"], true, true)
}

pub fn query_user_id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITESPACE}]*[0-9a-fA-F]{{24}}[{WHITESPACE}]*$")))
        .description(Some(
            "Only this owner's videos (all of them when it is the caller); trimmed; 24 hex digits, \
             else 400 Invalid userId.",
        ))
        .build()
}

pub fn search_query() -> Object {
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
pub fn trending_hours() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[{WHITESPACE}]*0*(?:[1-9][0-9]?|[1-6][0-9]{{2}}|7[01][0-9]|720)[{WHITESPACE}]*$")))
        .description(Some(format!(
            "The window in hours, {DEFAULT_HOURS} when absent; trimmed; a whole number from 1 to {MAX_HOURS}, else \
             400 `{INVALID_HOURS}`."
        )))
        .build()
}

pub fn upload_field() -> Schema {
    lenient_enum(&["avatar", "coverImage", "thumbnail", "videoFile"], false, false)
}

/// What a field alternative asks for in an "at least one of" rule.
#[derive(Clone, Copy)]
enum Given {
    /// A text field present, a string, and not empty after trimming.
    Text,
    /// A file part with at least one byte.
    File,
}

/// "At least one of" rules of request shapes (docs/api.md §2, §3): each inner list is one rule,
/// satisfied by any of its fields. Required single fields are plain `required` entries instead.
/// One "at least one of" rule: the alternatives that satisfy it.
type Rule = &'static [(&'static str, Given)];

const AT_LEAST_ONE: &[(&str, &[Rule])] = &[
    ("LoginBody", &[&[("username", Given::Text), ("email", Given::Text)]]),
    (
        "AccountBody",
        &[&[
            ("fullName", Given::Text),
            ("email", Given::Text),
            ("avatarUpload", Given::Text),
            ("coverImageUpload", Given::Text),
        ]],
    ),
    (
        "AccountForm",
        &[&[
            ("fullName", Given::Text),
            ("email", Given::Text),
            ("avatar", Given::File),
            ("coverImage", Given::File),
            ("avatarUpload", Given::Text),
            ("coverImageUpload", Given::Text),
        ]],
    ),
    ("RegisterForm", &[&[("avatar", Given::File), ("avatarUpload", Given::Text)]]),
    ("AvatarForm", &[&[("avatar", Given::File), ("avatarUpload", Given::Text)]]),
    ("CoverForm", &[&[("coverImage", Given::File), ("coverImageUpload", Given::Text)]]),
    // The thumbnail may be left out when processing is on (it is extracted from the video).
    ("PublishForm", &[&[("videoFile", Given::File), ("videoFileUpload", Given::Text)]]),
    (
        "VideoPatchBody",
        &[&[
            ("title", Given::Text),
            ("description", Given::Text),
            ("thumbnailUpload", Given::Text),
            ("visibility", Given::Text),
        ]],
    ),
    (
        "VideoPatchForm",
        &[&[
            ("title", Given::Text),
            ("description", Given::Text),
            ("thumbnail", Given::File),
            ("thumbnailUpload", Given::Text),
            ("visibility", Given::Text),
        ]],
    ),
    ("PlaylistPatchBody", &[&[("name", Given::Text), ("description", Given::Text)]]),
];

/// Multipart forms: a part name with a control character other than tab, line feed and carriage
/// return (which clients escape) cannot be sent in a part header, and the body is refused as
/// invalid multipart.
const MULTIPART_FORMS: &[&str] =
    &["RegisterForm", "AccountForm", "AvatarForm", "CoverForm", "PublishForm", "VideoPatchForm"];

/// The tus request headers as the server reads them (docs/api.md §3.13), and upload bytes as
/// binary: header parameters written as tuples in `#[utoipa::path]` cannot carry a pattern.
struct TusRules;

/// HTTP strips the spaces and tabs around a header value; the patterns allow them.
fn header_pattern(value: &str) -> Object {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^[ \\t]*{value}[ \\t]*$"))).build()
}

/// `Upload-Metadata` carrying the `field` the server accepts (base64 of videoFile, thumbnail,
/// avatar, coverImage), optionally followed by a base64 `filename`.
fn upload_metadata() -> Object {
    header_pattern("field (dmlkZW9GaWxl|dGh1bWJuYWls|YXZhdGFy|Y292ZXJJbWFnZQ==)(,filename ([A-Za-z0-9+/]{4})*)?")
}

/// The schema of a tus request header, by name.
fn tus_header(name: &str) -> Option<Object> {
    match name {
        "Tus-Resumable" => Some(header_pattern("1\\.0\\.0")),
        "Upload-Length" | "Upload-Offset" => Some(header_pattern("[0-9]{1,10}")),
        "Upload-Metadata" => Some(upload_metadata()),
        _ => None,
    }
}

impl Modify for TusRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut().filter(|(path, _)| path.starts_with("/api/v1/uploads/tus")) {
            let operations = [&mut item.post, &mut item.head, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    let RefOr::T(parameter) = parameter else { continue };
                    if let Some(schema) = tus_header(&parameter.name) {
                        parameter.schema = Some(RefOr::T(Schema::Object(schema)));
                    }
                }
                let Some(RefOr::T(body)) = operation.request_body.as_mut() else { continue };
                for content in body.content.values_mut() {
                    let RefOr::T(content) = content else { continue };
                    let bytes = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
                    content.schema = Some(RefOr::T(Schema::Object(bytes.build())));
                }
                // Creation may come without bytes (creation-with-upload is optional).
                if path == "/api/v1/uploads/tus" {
                    body.required = Some(utoipa::openapi::Required::False);
                }
            }
        }
    }
}

/// Adds the rules derive macros cannot state: "at least one of" alternatives and multipart part names.
struct RequestRules;

impl Modify for RequestRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // An optional body may be left out, but JSON `null` is not an object (400): drop the
        // `null` alternative the derive adds for `Option<Shape>` bodies.
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.post, &mut item.patch, &mut item.put, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let Some(RefOr::T(body)) = operation.request_body.as_mut() else { continue };
                for content in body.content.values_mut() {
                    let RefOr::T(content) = content else { continue };
                    if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
                        let shape = one_of.items.iter().find(|s| matches!(s, RefOr::Ref(_))).cloned();
                        if let Some(shape) = shape {
                            content.schema = Some(shape);
                        }
                    }
                }
            }
        }
        let Some(components) = openapi.components.as_mut() else { return };
        for (name, rules) in AT_LEAST_ONE {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) else {
                panic!("request shape {name} is not an object schema")
            };
            let any_of = |rule: &[(&str, Given)]| {
                let alternatives = rule.iter().map(|(field, given)| {
                    let property = match given {
                        Given::Text => serde_json::json!({"type": "string", "pattern": non_blank_pattern()}),
                        Given::File => serde_json::json!({"type": "string", "minLength": 1}),
                    };
                    serde_json::json!({"required": [field], "properties": {*field: property}})
                });
                serde_json::json!({"anyOf": alternatives.collect::<Vec<_>>()})
            };
            let extensions = object.extensions.get_or_insert_with(Default::default);
            match rules {
                [rule] => extensions.extend(any_of(rule).as_object().cloned().unwrap_or_default()),
                _ => {
                    let all: Vec<_> = rules.iter().map(|rule| any_of(rule)).collect();
                    extensions.insert("allOf".into(), serde_json::Value::Array(all));
                }
            }
        }
        for name in MULTIPART_FORMS {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) else {
                panic!("multipart form {name} is not an object schema")
            };
            let names = ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"))
                .build();
            object.property_names = Some(Box::new(Schema::Object(names)));
        }
    }
}
