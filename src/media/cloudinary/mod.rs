//! The Cloudinary media backend: uploads through our REST client, `secure_url` recorded, public id
//! and resource type kept in the key so replaced and deleted media are destroyed; direct browser
//! uploads are signed and their results verified here.

pub mod client;
pub mod sign;

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::config::ExposeSecret;

use super::{MediaError, MediaKind, MediaStore, StoredMedia, Streaming, TempUpload};
use client::{CloudinaryClient, UploadResult, now_secs};

const KEY_PREFIX: &str = "cloudinary:";
const ROOT_FOLDER: &str = "videotube";

pub fn resource_type(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
    }
}

/// What a browser needs to upload straight to Cloudinary into one signed folder.
#[derive(Serialize, utoipa::ToSchema, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DirectUploadParams {
    pub cloud_name: String,
    pub api_key: String,
    pub timestamp: i64,
    pub folder: String,
    pub signature: String,
    pub resource_type: &'static str,
    pub upload_url: String,
}

pub struct CloudinaryMedia {
    client: CloudinaryClient,
}

impl CloudinaryMedia {
    pub fn new(client: CloudinaryClient) -> Self {
        CloudinaryMedia { client }
    }

    pub fn key(resource_type: &str, public_id: &str) -> String {
        format!("{KEY_PREFIX}{resource_type}:{public_id}")
    }

    /// The folder a caller's direct uploads of one field go to (`scope` is a user id or `register`).
    pub fn direct_folder(scope: &str, field: &str) -> String {
        format!("{ROOT_FOLDER}/direct/{scope}/{field}")
    }

    pub fn sign_direct_upload(&self, folder: String, kind: MediaKind) -> DirectUploadParams {
        let timestamp = now_secs();
        let signed = self.client.signed(vec![("folder", folder.clone())], timestamp);
        let signature = signed.iter().find(|(k, _)| *k == "signature").map(|(_, v)| v.clone()).unwrap_or_default();
        let credentials = self.client.credentials();
        DirectUploadParams {
            cloud_name: credentials.cloud_name.clone(),
            api_key: credentials.api_key.clone(),
            timestamp,
            folder,
            signature,
            resource_type: resource_type(kind),
            upload_url: self.client.endpoint(resource_type(kind), "upload"),
        }
    }

    /// How Cloudinary streams an uploaded video (docs/api.md §3.14): the delivery URL of the video
    /// with the `sp_auto` streaming profile as an HLS playlist, and the size it reported.
    pub fn streaming(result: &UploadResult) -> Option<Streaming> {
        if result.resource_type != "video" {
            return None;
        }
        let (delivery, _) = result.secure_url.split_once("/upload/")?;
        Some(Streaming {
            hls: format!("{delivery}/upload/sp_auto/{}.m3u8", result.public_id),
            width: result.width.unwrap_or(0),
            height: result.height.unwrap_or(0),
        })
    }

    /// True when the result carries Cloudinary's signature for our account.
    pub fn result_is_authentic(&self, result: &UploadResult) -> bool {
        let expected = sign::result_signature(
            &result.public_id,
            result.version,
            self.client.credentials().api_secret.expose_secret(),
        );
        result.signature.as_deref().is_some_and(|given| sign::signatures_match(given, &expected))
    }

    /// Destroys an asset named by an upload result (a rejected direct upload).
    pub async fn destroy_result(&self, result: &UploadResult) {
        if let Err(e) = self.client.destroy(&result.resource_type, &result.public_id).await {
            tracing::warn!(public_id = %result.public_id, error = %e, "could not destroy a rejected direct upload");
        }
    }
}

#[async_trait]
impl MediaStore for CloudinaryMedia {
    fn backend(&self) -> &'static str {
        "cloudinary"
    }

    fn owns(&self, key: &str) -> bool {
        key.starts_with(KEY_PREFIX)
    }

    #[tracing::instrument(skip_all, fields(field = %upload.field, size = upload.size))]
    async fn put(&self, upload: TempUpload) -> Result<StoredMedia, MediaError> {
        let kind = upload.format.kind();
        let folder = format!("{ROOT_FOLDER}/{}", if kind == MediaKind::Image { "images" } else { "videos" });
        let result = self
            .client
            .upload(upload.path(), resource_type(kind), &folder)
            .await
            .map_err(|e| MediaError::Backend(e.to_string()))?;
        Ok(StoredMedia {
            key: Self::key(&result.resource_type, &result.public_id),
            streaming: Self::streaming(&result),
            url: result.secure_url,
            duration: result.duration,
        })
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        let (resource_type, public_id) = key
            .strip_prefix(KEY_PREFIX)
            .and_then(|rest| rest.split_once(':'))
            .ok_or_else(|| MediaError::Backend(format!("not a cloudinary key: {key}")))?;
        self.client.destroy(resource_type, public_id).await.map_err(|e| MediaError::Backend(e.to_string()))
    }

    async fn ping(&self) -> bool {
        self.client.ping().await
    }

    async fn keys_older_than(&self, _age: Duration) -> Result<Vec<String>, MediaError> {
        // Listing a Cloudinary account needs the Admin API, which videotube does not use.
        Ok(Vec::new())
    }
}
