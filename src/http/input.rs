//! Request input: JSON, urlencoded and multipart bodies and query strings read into typed request
//! shapes (each declared beside its handlers in `src/http/routes/`, docs/api.md §1.2), with file
//! parts streamed to temp files. The body is read lazily, so handlers check auth, ids, existence and
//! ownership before any byte of it is consumed (docs/api.md §1.4 order of checks). Every refusal of
//! this layer is an [`InputError`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::http::AppState;
use crate::http::error::AppError;
use crate::media::{MediaKind, TempUpload, UploadError, UploadSink, human_size};
use crate::services::Incoming;
use crate::services::{FieldError, ServiceError};

const MAX_PARTS: usize = 20;
const MAX_TEXT_PART_BYTES: usize = 16 * 1024;

/// Why the input of a request was refused, with the messages and statuses of docs/api.md: the one
/// rejection of the input layer (path ids, query strings, bodies, multipart parts).
#[derive(Debug)]
pub enum InputError {
    /// 400 `Invalid <name>`: a path id that is not 24 hex digits (§1.5), the first in path order.
    InvalidId(String),
    /// 400 `Invalid path parameter`: a path parameter that does not decode to text (§1.1).
    InvalidPathParameter,
    /// 413 `Request body exceeds the maximum size of <limit>` for JSON and urlencoded bodies (§1.2).
    BodyTooLarge(usize),
    /// 400 `Invalid JSON body`.
    InvalidJson,
    /// 400 `Request body must be a JSON object`.
    NotAnObject,
    /// 400 `<field> must be a string`, one entry per offending field in body order (§1.2).
    NotStrings(Vec<FieldError>),
    /// 400 `Invalid multipart body` (§1.11).
    InvalidMultipart,
    /// 413 `Request body is too large`: the multipart stream itself.
    MultipartTooLarge,
    /// 400 `Too many form fields`: more than 20 parts.
    TooManyParts,
    /// 400 `Unexpected field: <name>`: a file part the route does not list, or a second one.
    UnexpectedField(String),
    /// 413 `<field> exceeds the maximum size of 16 KB`: a text part.
    TextPartTooLarge(String),
    /// 413 or 415 of a file part (§1.11), or the temp file failing (500).
    Upload(UploadError),
    /// A temp file that could not be created, or a request shape that does not fit its input
    /// (a programming error: shapes have optional text fields only); 500.
    Internal(String),
}

impl From<InputError> for AppError {
    fn from(err: InputError) -> Self {
        match err {
            InputError::InvalidId(name) => AppError::bad_request(format!("Invalid {name}")),
            InputError::InvalidPathParameter => AppError::bad_request("Invalid path parameter"),
            InputError::BodyTooLarge(limit) => AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body exceeds the maximum size of {}", human_size(limit as u64)),
            ),
            InputError::InvalidJson => AppError::bad_request("Invalid JSON body"),
            InputError::NotAnObject => AppError::bad_request("Request body must be a JSON object"),
            InputError::NotStrings(errors) => {
                let message = errors.first().map(|e| e.message.clone()).unwrap_or_default();
                AppError::invalid(StatusCode::BAD_REQUEST, message, errors)
            }
            InputError::InvalidMultipart => AppError::bad_request("Invalid multipart body"),
            InputError::MultipartTooLarge => AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large"),
            InputError::TooManyParts => AppError::bad_request("Too many form fields"),
            InputError::UnexpectedField(name) => {
                AppError::field(StatusCode::BAD_REQUEST, &name, format!("Unexpected field: {name}"))
            }
            InputError::TextPartTooLarge(name) => {
                let message = format!("{name} exceeds the maximum size of 16 KB");
                AppError::field(StatusCode::PAYLOAD_TOO_LARGE, &name, message)
            }
            InputError::Upload(e) => match &e {
                UploadError::TooLarge { field, .. } => {
                    AppError::field(StatusCode::PAYLOAD_TOO_LARGE, field, e.to_string())
                }
                UploadError::WrongType { field, .. } => {
                    AppError::field(StatusCode::UNSUPPORTED_MEDIA_TYPE, field, e.to_string())
                }
                // A full disk is a 507; the sink's temp file is already gone.
                UploadError::Io(_) => ServiceError::from(e).into(),
            },
            InputError::Internal(cause) => ServiceError::internal(cause).into(),
        }
    }
}

/// A typed request shape (declared beside its handlers in `src/http/routes/`): a `Deserialize`
/// struct whose fields are the input's text fields, all optional (required, empty and length rules
/// are the services', docs/api.md §1.4 step 7), and for multipart forms its file fields, listed in
/// `FILES`.
pub trait Shape: DeserializeOwned {
    /// The file parts a multipart body may carry: field name and kind (docs/api.md §1.11).
    const FILES: &'static [(&'static str, MediaKind)] = &[];
}

/// Deserializes a text field trimmed (docs/api.md §1.2: every text field but passwords).
pub fn trimmed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(|s| s.trim().to_owned()))
}

thread_local! {
    /// The file parts of the shape being deserialized, taken by [`file_part`]: a shape is
    /// deserialized synchronously, on one thread, between filling and clearing this table.
    static FILE_PARTS: RefCell<Vec<Option<TempUpload>>> = const { RefCell::new(Vec::new()) };
}

/// Deserializes a file field of a shape: its uploaded part (see [`Fields::into_shape`]).
pub fn file_part<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Incoming>, D::Error> {
    let index = usize::deserialize(deserializer)?;
    let upload = FILE_PARTS.with(|parts| parts.borrow_mut().get_mut(index).and_then(Option::take));
    Ok(upload.map(Incoming::File))
}

/// The field names `T` deserializes (after renames), read from its derived `Deserialize`, which
/// hands them to `Deserializer::deserialize_struct`.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("a request shape is a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut names));
    names
}

/// Named input values, first occurrence wins. Values keep their JSON type until read into a shape.
#[derive(Default, Debug)]
pub struct Fields {
    values: Vec<(String, Value)>,
}

impl Fields {
    fn insert(&mut self, name: String, value: Value) {
        if !self.values.iter().any(|(n, _)| *n == name) {
            self.values.push((name, value));
        }
    }

    /// Parses `a=1&b=2` (query strings and urlencoded bodies); brackets are not expanded.
    pub fn from_urlencoded(raw: &[u8]) -> Self {
        let mut fields = Fields::default();
        for (k, v) in form_urlencoded::parse(raw) {
            fields.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        fields
    }

    /// Rejects non-string values among the route's text fields (`null` counts as absent).
    pub fn require_strings(&self, names: &[&str]) -> Result<(), InputError> {
        let errors: Vec<FieldError> = self
            .values
            .iter()
            .filter(|(n, v)| names.contains(&n.as_str()) && !matches!(v, Value::String(_) | Value::Null))
            .map(|(n, _)| FieldError::new(n.as_str(), format!("{n} must be a string")))
            .collect();
        if errors.is_empty() { Ok(()) } else { Err(InputError::NotStrings(errors)) }
    }

    /// The trimmed value of a text field; `None` when absent or null.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).map(|s| s.trim().to_owned())
    }

    /// The untrimmed value (passwords are never trimmed).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.values.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_str().map(str::to_owned))
    }

    /// Reads the fields and file parts into the shape `T`: its text fields must be strings (all
    /// offenders reported, in input order), then each field takes its string value (absent when
    /// missing or null) and each file field its part.
    pub fn into_shape<T: Shape>(self, mut files: Files) -> Result<T, InputError> {
        let is_file = |name: &str| T::FILES.iter().any(|(file, _)| *file == name);
        let text: Vec<&str> = field_names::<T>().iter().copied().filter(|name| !is_file(name)).collect();
        self.require_strings(&text)?;
        let mut object = Map::new();
        for name in text {
            if let Some(value) = self.raw(name) {
                object.insert(name.to_owned(), Value::String(value));
            }
        }
        let mut parts = Vec::new();
        for (name, _) in T::FILES {
            if let Some(upload) = files.0.remove(*name) {
                object.insert((*name).to_owned(), Value::from(parts.len()));
                parts.push(Some(upload));
            }
        }
        FILE_PARTS.with(|table| *table.borrow_mut() = parts);
        let shape = T::deserialize(Value::Object(object));
        // Parts the shape did not take are dropped here, which deletes their temp files.
        FILE_PARTS.with(|table| table.borrow_mut().clear());
        shape.map_err(|e| InputError::Internal(format!("request shape {}: {e}", std::any::type_name::<T>())))
    }
}

/// The uploaded files of a multipart request, by field name.
#[derive(Default, Debug)]
pub struct Files(HashMap<String, TempUpload>);

/// A file field a route accepts.
struct FileSpec {
    name: &'static str,
    kind: MediaKind,
    max_bytes: u64,
}

/// The query string read into the shape `T` (first value wins, docs/api.md §1.2); query values are
/// always strings.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: Shape> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let fields = Fields::from_urlencoded(parts.uri.query().unwrap_or("").as_bytes());
        Ok(QueryParams(fields.into_shape(Files::default())?))
    }
}

enum BodyType {
    Json,
    Form,
    Multipart,
    Other,
}

/// The request, unread. Take it as the last handler argument and read it when the route is ready.
pub struct LazyBody(Request);

impl<S: Send + Sync> FromRequest<S> for LazyBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        Ok(LazyBody(req))
    }
}

impl LazyBody {
    pub fn headers(&self) -> &axum::http::HeaderMap {
        self.0.headers()
    }

    fn body_type(&self) -> BodyType {
        let content_type = self.0.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => BodyType::Json,
            "application/x-www-form-urlencoded" => BodyType::Form,
            "multipart/form-data" => BodyType::Multipart,
            _ => BodyType::Other,
        }
    }

    /// Whether the body is `multipart/form-data` (the upload routes document it with its own shape).
    pub fn is_multipart(&self) -> bool {
        matches!(self.body_type(), BodyType::Multipart)
    }

    /// Reads the body into the shape `T`. A shape without file fields reads JSON and urlencoded
    /// bodies (any other body, multipart included, counts as no fields); a shape with file fields
    /// also reads multipart bodies, streaming its file parts to the temp directory.
    pub async fn read<T: Shape>(self, state: &AppState) -> Result<T, InputError> {
        let limits = &state.services.config().limits;
        let specs: Vec<FileSpec> = T::FILES
            .iter()
            .map(|&(name, kind)| FileSpec { name, kind, max_bytes: state.services.file_limit(kind) })
            .collect();
        let (fields, files) = match self.body_type() {
            BodyType::Multipart if !specs.is_empty() => {
                let multipart = Multipart::from_request(self.0, &()).await.map_err(|_| InputError::InvalidMultipart)?;
                read_multipart(multipart, &specs, &state.temp_dir).await?
            }
            kind => (self.fields(kind, limits.json_body_bytes).await?, Files::default()),
        };
        fields.into_shape(files)
    }

    /// Reads a JSON or urlencoded body as named values that keep their JSON types (urlencoded
    /// values are strings): for the few inputs that are not text, such as booleans.
    pub async fn values(self, state: &AppState) -> Result<Vec<(String, Value)>, InputError> {
        let kind = self.body_type();
        Ok(self.fields(kind, state.services.config().limits.json_body_bytes).await?.values)
    }

    /// Reads a JSON or urlencoded body; other bodies (multipart included) count as empty.
    async fn fields(self, kind: BodyType, max_bytes: usize) -> Result<Fields, InputError> {
        match kind {
            BodyType::Json | BodyType::Form => read_small(self.0.into_body(), kind, max_bytes).await,
            BodyType::Multipart | BodyType::Other => Ok(Fields::default()),
        }
    }
}

async fn read_small(body: Body, kind: BodyType, max_bytes: usize) -> Result<Fields, InputError> {
    let bytes = axum::body::to_bytes(body, max_bytes).await.map_err(|_| InputError::BodyTooLarge(max_bytes))?;
    if let BodyType::Form = kind {
        return Ok(Fields::from_urlencoded(&bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::default());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(Fields { values: map.into_iter().collect() }),
        Ok(_) => Err(InputError::NotAnObject),
        Err(_) => Err(InputError::InvalidJson),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> InputError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        InputError::MultipartTooLarge
    } else {
        InputError::InvalidMultipart
    }
}

async fn read_multipart(
    mut multipart: Multipart,
    specs: &[FileSpec],
    temp_dir: &Path,
) -> Result<(Fields, Files), InputError> {
    let mut fields = Fields::default();
    let mut files = Files::default();
    let mut seen_files: Vec<String> = Vec::new();
    let mut parts = 0usize;
    loop {
        let next = multipart.next_field().await;
        // A body with no parts at all (just the closing boundary) is an empty form, not a malformed one.
        let mut part = match next {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(_) if parts == 0 => break,
            Err(e) => return Err(multipart_error(e)),
        };
        parts += 1;
        if parts > MAX_PARTS {
            return Err(InputError::TooManyParts);
        }
        let name = part.name().unwrap_or_default().to_owned();
        if part.file_name().is_some() {
            let spec = specs.iter().find(|s| s.name == name);
            let Some(spec) = spec.filter(|_| !seen_files.contains(&name)) else {
                return Err(InputError::UnexpectedField(name));
            };
            seen_files.push(name.clone());
            let mut sink = UploadSink::create(temp_dir, &name, spec.kind, spec.max_bytes)
                .map_err(|e| InputError::Internal(format!("temp file: {e}")))?;
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                sink.push(&chunk).await.map_err(InputError::Upload)?;
            }
            if let Some(upload) = sink.finish().await.map_err(InputError::Upload)? {
                files.0.insert(name, upload);
            }
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_TEXT_PART_BYTES {
                    return Err(InputError::TextPartTooLarge(name));
                }
            }
            // A listed file field sent as text counts as absent.
            if !specs.iter().any(|s| s.name == name) {
                fields.insert(name, Value::String(String::from_utf8_lossy(&text).into_owned()));
            }
        }
    }
    Ok((fields, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_first_value_wins_and_brackets_stay_literal() {
        let f = Fields::from_urlencoded(b"a=1&a=2&b%5Bc%5D=3&d=+x+");
        assert_eq!(f.raw("a").as_deref(), Some("1"));
        assert_eq!(f.raw("b[c]").as_deref(), Some("3"));
        assert_eq!(f.text("d").as_deref(), Some("x"));
        assert_eq!(f.raw("d").as_deref(), Some(" x "));
    }

    #[test]
    fn non_string_values_are_rejected_in_request_order() {
        let f = Fields {
            values: vec![("b".into(), Value::from(1)), ("a".into(), Value::Bool(true)), ("n".into(), Value::Null)],
        };
        let err = AppError::from(f.require_strings(&["a", "b", "n"]).unwrap_err());
        assert_eq!(err.message, "b must be a string");
        assert_eq!(err.errors.len(), 2);
        assert!(f.text("n").is_none());
        assert!(f.require_strings(&["n", "zzz"]).is_ok());
    }

    #[derive(serde::Deserialize, Default, Debug)]
    #[serde(rename_all = "camelCase", default)]
    struct Probe {
        #[serde(deserialize_with = "trimmed")]
        full_name: Option<String>,
        password: Option<String>,
    }

    impl Shape for Probe {}

    #[test]
    fn shapes_read_strings_trimmed_except_passwords_and_ignore_other_fields() {
        assert_eq!(field_names::<Probe>(), ["fullName", "password"]);
        let f = Fields {
            values: vec![("password".into(), " p ".into()), ("fullName".into(), " A ".into()), ("x".into(), 1.into())],
        };
        let probe: Probe = f.into_shape(Files::default()).unwrap();
        assert_eq!((probe.full_name.as_deref(), probe.password.as_deref()), (Some("A"), Some(" p ")));
        let f = Fields { values: vec![("fullName".into(), Value::Null), ("password".into(), 7.into())] };
        let err = AppError::from(f.into_shape::<Probe>(Files::default()).unwrap_err());
        assert_eq!((err.message.as_str(), err.errors.len()), ("password must be a string", 1));
    }
}
