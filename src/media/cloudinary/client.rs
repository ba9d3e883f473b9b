//! Our Cloudinary REST client: signed uploads (chunked above a threshold, one part in memory at a
//! time, failed parts retried), destroy by resource type, and a reachability probe.

use std::path::Path;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::sign::sign_params;
use crate::config::{CloudinaryCredentials, ExposeSecret};

const PART_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CloudinaryError {
    #[error("cloudinary answered {status}: {message} (x-request-id {request_id})")]
    Api { status: u16, message: String, request_id: String },
    #[error("cloudinary request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("reading the upload failed: {0}")]
    Io(#[from] std::io::Error),
}

impl CloudinaryError {
    /// Worth another attempt: network trouble, rate limiting or a server error.
    fn is_transient(&self) -> bool {
        match self {
            CloudinaryError::Api { status, .. } => *status == 420 || *status == 429 || *status >= 500,
            CloudinaryError::Transport(e) => !e.is_decode(),
            CloudinaryError::Io(_) => false,
        }
    }
}

/// The fields of an upload result videotube relies on.
#[derive(Deserialize, Debug, Clone)]
pub struct UploadResult {
    pub public_id: String,
    pub version: i64,
    pub resource_type: String,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub bytes: Option<u64>,
    pub secure_url: String,
    #[serde(default)]
    pub duration: Option<f64>,
    #[serde(default)]
    pub width: Option<i64>,
    #[serde(default)]
    pub height: Option<i64>,
    #[serde(default)]
    pub signature: Option<String>,
}

pub struct CloudinaryClient {
    http: reqwest::Client,
    base_url: String,
    credentials: CloudinaryCredentials,
    part_bytes: u64,
}

impl CloudinaryClient {
    pub fn new(base_url: &str, credentials: CloudinaryCredentials, part_bytes: u64) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(CloudinaryClient { http, base_url: base_url.trim_end_matches('/').to_owned(), credentials, part_bytes })
    }

    pub fn credentials(&self) -> &CloudinaryCredentials {
        &self.credentials
    }

    pub fn endpoint(&self, resource_type: &str, action: &str) -> String {
        format!("{}/v1_1/{}/{resource_type}/{action}", self.base_url, self.credentials.cloud_name)
    }

    /// `params` plus `timestamp`, `signature` and `api_key`.
    pub fn signed(&self, mut params: Vec<(&'static str, String)>, timestamp: i64) -> Vec<(&'static str, String)> {
        params.push(("timestamp", timestamp.to_string()));
        let signature = sign_params(&params, self.credentials.api_secret.expose_secret());
        params.push(("signature", signature));
        params.push(("api_key", self.credentials.api_key.clone()));
        params
    }

    /// Uploads a file into `folder`; files above the part size go up in parts of that size.
    #[tracing::instrument(skip(self, path), fields(size))]
    pub async fn upload(
        &self,
        path: &Path,
        resource_type: &str,
        folder: &str,
    ) -> Result<UploadResult, CloudinaryError> {
        let mut file = tokio::fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        tracing::Span::current().record("size", size);
        let params = self.signed(vec![("folder", folder.to_owned())], now_secs());
        let url = self.endpoint(resource_type, "upload");
        if size <= self.part_bytes {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).await?;
            return self.send_with_retry(&url, &params, bytes, None).await;
        }
        let upload_id = hex::encode(rand::random::<[u8; 16]>());
        let mut offset = 0u64;
        loop {
            let end = (offset + self.part_bytes).min(size);
            let mut part = vec![0u8; (end - offset) as usize];
            file.seek(std::io::SeekFrom::Start(offset)).await?;
            file.read_exact(&mut part).await?;
            let range = format!("bytes {offset}-{}/{size}", end - 1);
            let chunk = Some((upload_id.as_str(), range.as_str()));
            if end == size {
                return self.send_with_retry(&url, &params, part, chunk).await;
            }
            // Intermediate answers only promise a public_id, so any JSON will do.
            self.send_with_retry::<serde_json::Value>(&url, &params, part, chunk).await?;
            offset = end;
        }
    }

    async fn send_with_retry<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        params: &[(&'static str, String)],
        bytes: Vec<u8>,
        chunk: Option<(&str, &str)>,
    ) -> Result<T, CloudinaryError> {
        let mut attempt = 1;
        loop {
            let mut form = Form::new();
            for (k, v) in params {
                form = form.text(*k, v.clone());
            }
            form = form.part("file", Part::bytes(bytes.clone()).file_name("upload"));
            let mut request = self.http.post(url).multipart(form);
            if let Some((upload_id, range)) = chunk {
                request = request.header("X-Unique-Upload-Id", upload_id).header("Content-Range", range);
            }
            let outcome = match request.send().await {
                Ok(response) => decode(response).await,
                Err(e) => Err(e.into()),
            };
            match outcome {
                Err(e) if e.is_transient() && attempt < PART_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, range = chunk.map(|c| c.1), "cloudinary upload part failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Destroys an asset; "not found" counts as success (the asset is gone either way).
    pub async fn destroy(&self, resource_type: &str, public_id: &str) -> Result<(), CloudinaryError> {
        let params =
            self.signed(vec![("public_id", public_id.to_owned()), ("invalidate", "true".to_owned())], now_secs());
        let response = self.http.post(self.endpoint(resource_type, "destroy")).form(&params).send().await?;
        #[derive(Deserialize)]
        struct Destroyed {
            result: String,
        }
        let destroyed: Destroyed = decode(response).await?;
        match destroyed.result.as_str() {
            "ok" | "not found" => Ok(()),
            other => Err(CloudinaryError::Api {
                status: 200,
                message: format!("destroy result {other}"),
                request_id: "-".into(),
            }),
        }
    }

    /// Any HTTP answer from the API host within two seconds counts as reachable.
    pub async fn ping(&self) -> bool {
        self.http.get(&self.base_url).timeout(Duration::from_secs(2)).send().await.is_ok()
    }
}

async fn decode<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, CloudinaryError> {
    let status = response.status();
    let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    if status.is_success() {
        return Ok(response.json().await?);
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or("no message").to_owned();
    let error = CloudinaryError::Api { status: status.as_u16(), message, request_id };
    tracing::warn!(error = %error, "cloudinary request failed");
    Err(error)
}

pub fn now_secs() -> i64 {
    crate::domain::Timestamp::now().millis() / 1000
}
