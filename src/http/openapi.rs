//! The OpenAPI 3 document: its info, tags and shared components, the error answers and schema
//! builders shared by the request shapes of many areas, and [`complete`], which adds what the
//! annotations cannot say. The paths come from the handlers' `#[utoipa::path]` annotations as
//! `router.rs` registers them; each request shape, with the schema rules only it uses, lives beside
//! its handler in `routes/`. Served at `/api/v1/openapi.json`, with Swagger UI at `/api/v1/docs`.

use utoipa::openapi::RefOr;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::config::Limits;
use crate::domain::choice::Choice;
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
        (name = "moderation", description = "Roles, reports and the moderation of content and accounts"),
        (name = "notifications", description = "New videos, comments, replies and subscribers, listed and live"),
        (name = "uploads", description = "Direct browser uploads to Cloudinary and resumable (tus 1.0.0) uploads (extensions)")
    )
)]
pub struct ApiDoc;

/// Adds what the annotations cannot say: the security schemes, the create links, the rules of the
/// request shapes (`shapes`, declared beside each shape) and those of single areas (`areas`, such as
/// the tus headers).
pub fn complete(
    mut document: utoipa::openapi::OpenApi,
    shapes: &[&[ShapeRule]],
    areas: &[&dyn Modify],
) -> utoipa::openapi::OpenApi {
    SecurityAddon.modify(&mut document);
    CreateLinks.modify(&mut document);
    RequestRules(shapes).modify(&mut document);
    for area in areas {
        area.modify(&mut document);
    }
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
    #[response(
        status = 503,
        description = "Service temporarily unavailable: the database is down or cannot write (see Retry-After)"
    )]
    Unavailable(ErrorEnvelope),
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
pub enum RoleErrors {
    #[response(status = 403, description = "The caller's role does not allow this route")]
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
    #[response(status = 507, description = STORAGE_FULL)]
    InsufficientStorage(ErrorEnvelope),
}

/// The 507 of upload routes (docs/api.md §1.11).
pub const STORAGE_FULL: &str = "Not enough storage: the disk filled up during the upload";

/// The full disk of the routes that write uploads without `UploadErrors` (tus).
#[derive(IntoResponses)]
pub enum StorageErrors {
    #[response(status = 507, description = STORAGE_FULL)]
    InsufficientStorage(ErrorEnvelope),
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

// ---- Schemas shared by the request shapes (src/http/routes/; docs/api.md §1.2, §2, §3) ----
//
// Every rule the server applies to an input is stated here, so generated clients validate what
// the server validates: text fields are trimmed before they are judged (passwords excepted), so
// "non-empty" is a pattern asking for one character `str::trim` keeps; lengths are the defaults
// of `Limits::DEFAULT` (configurable, docs/api.md §1.13); JSON `null` counts as absent, so optional
// fields admit it; file parts are judged by their content (§1.11), listed in each form's
// `encoding`; "at least one of" rules are `anyOf` alternatives added by [`complete`].

/// The characters `str::trim` removes (Unicode `White_Space`), for patterns.
pub const WHITESPACE: &str = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A value with one character that survives trimming: what "non-empty" means for a text field.
pub fn non_blank_pattern() -> String {
    format!("[^{WHITESPACE}]")
}

/// The image content types a file part may carry (decided by content, docs/api.md §1.11).
pub const IMAGE_TYPES: &str = "image/jpeg, image/png, image/gif, image/webp";

/// A string, or also `null` (which counts as absent) when `nullable`.
/// An input read as one of the names of `C` exactly (lowercase, not trimmed).
pub fn choice<C: Choice>() -> Object {
    let names = C::ALL.iter().map(|value| serde_json::Value::from(value.as_str()));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .description(Some(format!("Exactly one of these names; any other value is 400 `{}`.", C::invalid())))
        .build()
}

/// A query parameter read as one of the names of `C` exactly; absent or empty for the default.
pub fn optional_choice<C: Choice>() -> Schema {
    let names: Vec<&str> = C::ALL.iter().map(|value| value.as_str()).collect();
    let exact = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names));
    let empty = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([""]));
    AnyOfBuilder::new()
        .item(exact)
        .item(empty)
        .description(Some(format!("Absent or empty for the default; any other value is 400 `{}`.", C::invalid())))
        .into()
}

pub fn string_type(nullable: bool) -> SchemaType {
    if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::Type(Type::String) }
}

/// A trimmed text field that must not be empty, at most `max` characters after trimming.
pub fn text(nullable: bool, max: Option<usize>) -> Object {
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

pub fn description() -> Object {
    text(false, Some(Limits::DEFAULT.description_chars))
}

pub fn optional_description() -> Object {
    text(true, Some(Limits::DEFAULT.description_chars))
}

/// A password that is only compared: used exactly as sent, non-empty.
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

/// A file part of `kind` with these content `types`, at most `max_bytes`.
pub fn file(kind: &str, types: &str, max_bytes: u64, required: bool) -> Object {
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

/// A value the server trims and compares with `values` (case-insensitively when asked); empty
/// means the default. An `enum` for clients, and the exact set the server accepts beside it.
pub fn lenient_enum(values: &[&str], case_insensitive: bool, empty_is_default: bool) -> Schema {
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

/// What a field alternative asks for in an "at least one of" rule.
#[derive(Clone, Copy)]
pub enum Given {
    /// A text field present, a string, and not empty after trimming.
    Text,
    /// A file part with at least one byte.
    File,
}

/// What the derive cannot state of a request shape, declared beside the shape: its "at least one
/// of" rule (docs/api.md §2, §3), satisfied by any of the listed fields (required single fields are
/// plain `required` entries instead), and whether it is a multipart form. A part name with a
/// control character other than tab, line feed and carriage return (which clients escape) cannot be
/// sent in a part header, and such a body is refused as invalid multipart, so forms say so.
pub struct ShapeRule {
    /// The shape's schema name (its type name).
    shape: &'static str,
    at_least_one: &'static [(&'static str, Given)],
    multipart: bool,
}

impl ShapeRule {
    /// A JSON or urlencoded body satisfied by any of `at_least_one`.
    pub const fn body(shape: &'static str, at_least_one: &'static [(&'static str, Given)]) -> Self {
        ShapeRule { shape, at_least_one, multipart: false }
    }

    /// A multipart form satisfied by any of `at_least_one`.
    pub const fn form(shape: &'static str, at_least_one: &'static [(&'static str, Given)]) -> Self {
        ShapeRule { shape, at_least_one, multipart: true }
    }
}

/// Adds the rules derive macros cannot state: "at least one of" alternatives and multipart part names.
struct RequestRules<'a>(&'a [&'a [ShapeRule]]);

impl Modify for RequestRules<'_> {
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
        for rule in self.0.iter().copied().flatten() {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(rule.shape) else {
                panic!("request shape {} is not an object schema", rule.shape)
            };
            if !rule.at_least_one.is_empty() {
                let alternatives = rule.at_least_one.iter().map(|(field, given)| {
                    let property = match given {
                        Given::Text => serde_json::json!({"type": "string", "pattern": non_blank_pattern()}),
                        Given::File => serde_json::json!({"type": "string", "minLength": 1}),
                    };
                    serde_json::json!({"required": [field], "properties": {*field: property}})
                });
                let extensions = object.extensions.get_or_insert_with(Default::default);
                extensions.insert("anyOf".into(), serde_json::Value::Array(alternatives.collect()));
            }
            if rule.multipart {
                let names = ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"))
                    .build();
                object.property_names = Some(Box::new(Schema::Object(names)));
            }
        }
    }
}
