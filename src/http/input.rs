//! Request input: JSON, urlencoded and multipart bodies read into typed string fields (docs/api.md §1.2),
//! with file parts streamed to temp files. The body is read lazily, so handlers check auth, ids,
//! existence and ownership before any byte of it is consumed (docs/api.md §1.4 order of checks).

use std::collections::HashMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use serde_json::Value;

use crate::http::error::AppError;
use crate::media::{MediaKind, TempUpload, UploadError, UploadSink, human_size};
use crate::services::FieldError;
use crate::services::Incoming;

const MAX_PARTS: usize = 20;
const MAX_TEXT_PART_BYTES: usize = 16 * 1024;

/// Named input values, first occurrence wins. Values keep their JSON type until a route reads them.
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
    pub fn require_strings(&self, names: &[&str]) -> Result<(), AppError> {
        let errors: Vec<FieldError> = self
            .values
            .iter()
            .filter(|(n, v)| names.contains(&n.as_str()) && !matches!(v, Value::String(_) | Value::Null))
            .map(|(n, _)| FieldError::new(n.as_str(), format!("{n} must be a string")))
            .collect();
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(AppError::invalid(StatusCode::BAD_REQUEST, first.message.clone(), errors)),
        }
    }

    /// The trimmed value of a text field; `None` when absent or null.
    pub fn text(&self, name: &str) -> Option<String> {
        self.raw(name).map(|s| s.trim().to_owned())
    }

    /// The untrimmed value (passwords are never trimmed).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.values.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_str().map(str::to_owned))
    }
}

/// The uploaded files of a multipart request, by field name.
#[derive(Default, Debug)]
pub struct Files(HashMap<String, TempUpload>);

impl Files {
    pub fn take(&mut self, name: &str) -> Option<TempUpload> {
        self.0.remove(name)
    }

    /// The media for file field `name`: its uploaded part, else the direct-upload result sent in
    /// the text field `<name>Upload` (the file part wins when both are present).
    pub fn incoming(&mut self, fields: &Fields, name: &'static str) -> Option<Incoming> {
        self.take(name).map(Incoming::File).or_else(|| {
            let result = fields.text(&format!("{name}Upload")).filter(|r| !r.is_empty())?;
            Some(Incoming::Direct { field: name, result })
        })
    }
}

/// A file field a route accepts.
pub struct FileSpec {
    pub name: &'static str,
    pub kind: MediaKind,
    pub max_bytes: u64,
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

    /// Reads a JSON or urlencoded body; other bodies (multipart included) count as empty.
    pub async fn fields(self, max_bytes: usize) -> Result<Fields, AppError> {
        let kind = self.body_type();
        match kind {
            BodyType::Json | BodyType::Form => read_small(self.0.into_body(), kind, max_bytes).await,
            BodyType::Multipart | BodyType::Other => Ok(Fields::default()),
        }
    }

    /// Reads any accepted body; multipart file parts listed in `files` are streamed to `temp_dir`.
    pub async fn upload(
        self,
        files: &[FileSpec],
        temp_dir: &Path,
        max_bytes: usize,
    ) -> Result<(Fields, Files), AppError> {
        let kind = self.body_type();
        match kind {
            BodyType::Multipart => {
                let multipart = Multipart::from_request(self.0, &())
                    .await
                    .map_err(|_| AppError::bad_request("Invalid multipart body"))?;
                read_multipart(multipart, files, temp_dir).await
            }
            _ => Ok((self.fields(max_bytes).await?, Files::default())),
        }
    }
}

async fn read_small(body: Body, kind: BodyType, max_bytes: usize) -> Result<Fields, AppError> {
    let bytes = axum::body::to_bytes(body, max_bytes).await.map_err(|_| {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body exceeds the maximum size of {}", human_size(max_bytes as u64)),
        )
    })?;
    if let BodyType::Form = kind {
        return Ok(Fields::from_urlencoded(&bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::default());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(Fields { values: map.into_iter().collect() }),
        Ok(_) => Err(AppError::bad_request("Request body must be a JSON object")),
        Err(_) => Err(AppError::bad_request("Invalid JSON body")),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::new(status, "Request body is too large")
    } else {
        AppError::bad_request("Invalid multipart body")
    }
}

fn upload_error(e: UploadError) -> AppError {
    match &e {
        UploadError::TooLarge { field, .. } => AppError::field(StatusCode::PAYLOAD_TOO_LARGE, field, e.to_string()),
        UploadError::WrongType { field, .. } => {
            AppError::field(StatusCode::UNSUPPORTED_MEDIA_TYPE, field, e.to_string())
        }
        UploadError::Io(_) => AppError::internal(e),
    }
}

async fn read_multipart(
    mut multipart: Multipart,
    specs: &[FileSpec],
    temp_dir: &Path,
) -> Result<(Fields, Files), AppError> {
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
            return Err(AppError::bad_request("Too many form fields"));
        }
        let name = part.name().unwrap_or_default().to_owned();
        if part.file_name().is_some() {
            let spec = specs.iter().find(|s| s.name == name);
            let Some(spec) = spec.filter(|_| !seen_files.contains(&name)) else {
                return Err(AppError::field(StatusCode::BAD_REQUEST, &name, format!("Unexpected field: {name}")));
            };
            seen_files.push(name.clone());
            let mut sink =
                UploadSink::create(temp_dir, &name, spec.kind, spec.max_bytes).map_err(AppError::internal)?;
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                sink.push(&chunk).await.map_err(upload_error)?;
            }
            if let Some(upload) = sink.finish().await.map_err(upload_error)? {
                files.0.insert(name, upload);
            }
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_TEXT_PART_BYTES {
                    let message = format!("{name} exceeds the maximum size of 16 KB");
                    return Err(AppError::field(StatusCode::PAYLOAD_TOO_LARGE, &name, message));
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
        let err = f.require_strings(&["a", "b", "n"]).unwrap_err();
        assert_eq!(err.message, "b must be a string");
        assert_eq!(err.errors.len(), 2);
        assert!(f.text("n").is_none());
        assert!(f.require_strings(&["n", "zzz"]).is_ok());
    }
}
