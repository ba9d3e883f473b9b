//! A fake Cloudinary upload API on 127.0.0.1:0, behaving like the parts of Cloudinary's upload API
//! that videotube uses (docs/decisions.md D8): it checks the path, the signature (computed here
//! independently of videotube's client), stale timestamps and the API key; assembles chunked
//! uploads by `X-Unique-Upload-Id` with contiguous, size-checked ranges; answers realistic results;
//! destroys; logs every request; and fails on demand.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub const CLOUD: &str = "demo-cloud";
pub const API_KEY: &str = "123456789012345";
pub const API_SECRET: &str = "fake-cloudinary-secret";

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub resource_type: String,
    pub action: String,
    pub fields: BTreeMap<String, String>,
    pub upload_id: Option<String>,
    pub content_range: Option<String>,
    pub file_len: usize,
    pub status: u16,
}

#[derive(Clone, Debug)]
pub struct Asset {
    pub resource_type: String,
    pub public_id: String,
    pub secure_url: String,
    pub bytes: u64,
}

struct Partial {
    received: u64,
    last_start: u64,
    head: Vec<u8>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    assets: Vec<Asset>,
    partials: HashMap<String, Partial>,
    failures: VecDeque<(String, u16)>,
}

#[derive(Clone)]
pub struct FakeCloudinary {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

struct Shared {
    inner: Arc<Mutex<Inner>>,
    min_part: u64,
}

fn sha1_hex(s: &str) -> String {
    hex::encode(Sha1::digest(s.as_bytes()))
}

/// The string Cloudinary signs: non-empty parameters except the unsigned ones, sorted, `&`-joined.
fn string_to_sign(fields: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<String> = fields
        .iter()
        .filter(|(k, v)| {
            !v.is_empty() && !["file", "cloud_name", "resource_type", "api_key", "signature"].contains(&k.as_str())
        })
        .map(|(k, v)| format!("{k}={}", v.replace('&', "%26")))
        .collect();
    pairs.sort();
    pairs.join("&")
}

pub fn result_signature(public_id: &str, version: i64) -> String {
    sha1_hex(&format!("public_id={public_id}&version={version}{API_SECRET}"))
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({"error": {"message": message}}))).into_response()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl FakeCloudinary {
    /// Starts the fake; parts smaller than `min_part` (except the last) are refused.
    pub async fn start(min_part: u64) -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = Arc::new(Shared { inner: inner.clone(), min_part });
        let app = Router::new()
            .route("/v1_1/{cloud}/{resource_type}/{action}", post(handle))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not found".into()) })
            .layer(DefaultBodyLimit::disable())
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeCloudinary { base, inner }
    }

    pub fn url(&self) -> String {
        format!("cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}")
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn assets(&self) -> Vec<Asset> {
        self.inner.lock().unwrap().assets.clone()
    }

    /// The next `times` requests for `action` (`upload`, `destroy`, or with a resource type such as
    /// `image/upload`) answer `status`.
    pub fn fail_next(&self, action: &str, status: u16, times: usize) {
        let mut inner = self.inner.lock().unwrap();
        for _ in 0..times {
            inner.failures.push_back((action.to_owned(), status));
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((cloud, resource_type, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let mut fields = BTreeMap::new();
    let mut file: Option<Vec<u8>> = None;
    if action == "upload" {
        let Ok(mut multipart) = Multipart::from_request(req, &()).await else {
            return error(StatusCode::BAD_REQUEST, "Invalid multipart".into());
        };
        while let Ok(Some(field)) = multipart.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.unwrap_or_default().to_vec();
            if name == "file" {
                file = Some(bytes);
            } else {
                fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
        for (k, v) in form_urlencoded::parse(&bytes) {
            fields.insert(k.into_owned(), v.into_owned());
        }
    }
    let upload_id = headers.get("x-unique-upload-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_range = headers.get("content-range").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let file_len = file.as_ref().map_or(0, Vec::len);
    let response = respond(
        &shared,
        &cloud,
        &resource_type,
        &action,
        &fields,
        file,
        upload_id.as_deref(),
        content_range.as_deref(),
    );
    let mut inner = shared.inner.lock().unwrap();
    inner.requests.push(Recorded {
        resource_type,
        action,
        fields,
        upload_id,
        content_range,
        file_len,
        status: response.status().as_u16(),
    });
    response
}

#[allow(clippy::too_many_arguments)]
fn respond(
    shared: &Shared,
    cloud: &str,
    resource_type: &str,
    action: &str,
    fields: &BTreeMap<String, String>,
    file: Option<Vec<u8>>,
    upload_id: Option<&str>,
    content_range: Option<&str>,
) -> Response {
    if cloud != CLOUD
        || !["image", "video", "raw", "auto"].contains(&resource_type)
        || !["upload", "destroy"].contains(&action)
    {
        return error(StatusCode::NOT_FOUND, format!("Unknown path /{cloud}/{resource_type}/{action}"));
    }
    let mut inner = shared.inner.lock().unwrap();
    let target = format!("{resource_type}/{action}");
    if inner.failures.front().is_some_and(|(a, _)| a == action || *a == target) {
        let (_, status) = inner.failures.pop_front().unwrap();
        return error(StatusCode::from_u16(status).unwrap(), "Injected failure".into());
    }
    if fields.get("api_key").map(String::as_str) != Some(API_KEY) {
        return error(StatusCode::UNAUTHORIZED, "Invalid api_key".into());
    }
    let to_sign = string_to_sign(fields);
    let expected = sha1_hex(&format!("{to_sign}{API_SECRET}"));
    let given = fields.get("signature").cloned().unwrap_or_default();
    if given != expected {
        return error(StatusCode::UNAUTHORIZED, format!("Invalid Signature {given}. String to sign - '{to_sign}'."));
    }
    let timestamp: i64 = fields.get("timestamp").and_then(|t| t.parse().ok()).unwrap_or(0);
    if now_secs() - timestamp > 3600 {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Stale request - reported time is {timestamp} which is more than 1 hour ago"),
        );
    }
    if action == "destroy" {
        let public_id = fields.get("public_id").cloned().unwrap_or_default();
        let before = inner.assets.len();
        inner.assets.retain(|a| !(a.public_id == public_id && a.resource_type == resource_type));
        let result = if inner.assets.len() < before { "ok" } else { "not found" };
        return axum::Json(json!({"result": result})).into_response();
    }
    let Some(file) = file else {
        return error(StatusCode::BAD_REQUEST, "Missing required parameter - file".into());
    };
    let (head, total) = match (upload_id, content_range) {
        (Some(id), Some(range)) => {
            let parsed = range.strip_prefix("bytes ").and_then(|r| {
                let (span, total) = r.split_once('/')?;
                let (start, end) = span.split_once('-')?;
                Some((start.parse::<u64>().ok()?, end.parse::<u64>().ok()?, total.parse::<u64>().ok()?))
            });
            let Some((start, end, total)) = parsed else {
                return error(StatusCode::BAD_REQUEST, format!("Invalid Content-Range {range}"));
            };
            if end + 1 - start != file.len() as u64 {
                return error(StatusCode::BAD_REQUEST, "Content-Range does not match the part".into());
            }
            if end + 1 < total && (file.len() as u64) < shared.min_part {
                return error(StatusCode::BAD_REQUEST, "Chunk size is too small".into());
            }
            let partial =
                inner.partials.entry(id.to_owned()).or_insert(Partial { received: 0, last_start: 0, head: Vec::new() });
            let retry = start == partial.last_start && end + 1 == partial.received;
            if start != partial.received && !retry {
                return error(StatusCode::BAD_REQUEST, format!("Chunk {start}-{end} is not contiguous"));
            }
            if start == 0 {
                partial.head = file[..file.len().min(16)].to_vec();
            }
            partial.last_start = start;
            partial.received = end + 1;
            if end + 1 < total {
                return axum::Json(json!({"public_id": format!("pending-{id}"), "done": false})).into_response();
            }
            let head = inner.partials.remove(id).map(|p| p.head).unwrap_or_default();
            (head, total)
        }
        _ => (file[..file.len().min(16)].to_vec(), file.len() as u64),
    };
    let format = match resource_type {
        "video" if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) => "webm",
        "video" => "mp4",
        _ if head.starts_with(&[0x89, b'P']) => "png",
        _ if head.starts_with(b"GIF") => "gif",
        _ => "jpg",
    };
    let folder = fields.get("folder").cloned().unwrap_or_default();
    let public_id = format!("{folder}/{}", hex::encode(rand::random::<[u8; 8]>())).trim_start_matches('/').to_owned();
    let version = now_secs();
    let secure_url =
        format!("https://res.cloudinary.com/{CLOUD}/{resource_type}/upload/v{version}/{public_id}.{format}");
    inner.assets.push(Asset {
        resource_type: resource_type.to_owned(),
        public_id: public_id.clone(),
        secure_url: secure_url.clone(),
        bytes: total,
    });
    let mut result = json!({
        "public_id": public_id, "version": version, "resource_type": resource_type, "format": format,
        "bytes": total, "secure_url": secure_url, "url": secure_url.replacen("https", "http", 1),
        "width": 16, "height": 16, "created_at": "2026-11-25T10:00:00Z",
        "signature": result_signature(&public_id, version),
    });
    if resource_type == "video" {
        result["duration"] = Value::from(12.5);
        result["width"] = Value::from(640);
        result["height"] = Value::from(360);
        result["frame_rate"] = Value::from(25);
    }
    axum::Json(result).into_response()
}
