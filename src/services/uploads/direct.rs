//! Direct browser uploads to Cloudinary: signing upload parameters for one scoped folder, and
//! verifying the upload result a client hands back before it is recorded.

use crate::media::cloudinary::client::UploadResult;
use crate::media::cloudinary::{CloudinaryMedia, DirectUploadParams, resource_type};
use crate::media::{MediaKind, UploadError};
use crate::services::{ServiceError, Services, Stored};
use crate::store::MediaRef;

/// Fields that can be uploaded directly, their kind, and whether registration (anonymous) may use them.
const DIRECT_FIELDS: [(&str, MediaKind, bool); 4] = [
    ("avatar", MediaKind::Image, true),
    ("coverImage", MediaKind::Image, true),
    ("thumbnail", MediaKind::Image, false),
    ("videoFile", MediaKind::Video, false),
];

const IMAGE_FORMATS: [&str; 5] = ["jpg", "jpeg", "png", "webp", "gif"];
const VIDEO_FORMATS: [&str; 4] = ["mp4", "webm", "mov", "mkv"];

/// The kind of an upload field (the four fields of direct and resumable uploads).
pub(super) fn field_kind(field: &str) -> Option<MediaKind> {
    DIRECT_FIELDS.iter().find(|(name, ..)| *name == field).map(|f| f.1)
}

/// The folder scope of a caller: their user id, or `register` for anonymous registration uploads.
pub fn scope_of(user: Option<crate::domain::Id>) -> String {
    user.map_or_else(|| "register".to_owned(), |id| id.to_hex())
}

impl Services {
    fn direct_backend(&self) -> Result<&CloudinaryMedia, ServiceError> {
        self.cloudinary.as_deref().ok_or_else(|| {
            ServiceError::invalid("Direct uploads need the Cloudinary media backend, which is not configured")
        })
    }

    /// Signed parameters for uploading one field straight to Cloudinary.
    pub fn sign_direct_upload(
        &self,
        field: Option<&str>,
        user: Option<crate::domain::Id>,
    ) -> Result<DirectUploadParams, ServiceError> {
        let backend = self.direct_backend()?;
        let (name, kind, anonymous_ok) =
            DIRECT_FIELDS.iter().find(|(name, ..)| Some(*name) == field).copied().ok_or_else(|| {
                ServiceError::invalid_field("field", "field must be one of avatar, coverImage, thumbnail or videoFile")
            })?;
        if user.is_none() && !anonymous_ok {
            return Err(ServiceError::unauthorized("Unauthorized request"));
        }
        Ok(backend.sign_direct_upload(CloudinaryMedia::direct_folder(&scope_of(user), name), kind))
    }

    /// Checks a direct upload result: Cloudinary's signature, the caller's folder, the resource type
    /// and the size and format limits. A genuine result that fails the checks is destroyed.
    pub(in crate::services) async fn accept_direct_upload(
        &self,
        field: &'static str,
        raw: &str,
        scope: &str,
    ) -> Result<Stored, ServiceError> {
        let backend = self.direct_backend()?;
        let invalid = || {
            ServiceError::invalid_field(
                &format!("{field}Upload"),
                format!("{field}Upload is not a valid upload result"),
            )
        };
        let result: UploadResult = serde_json::from_str(raw).map_err(|_| invalid())?;
        if !backend.result_is_authentic(&result) {
            return Err(invalid());
        }
        let kind = field_kind(field).unwrap_or(MediaKind::Image);
        let folder = format!("{}/", CloudinaryMedia::direct_folder(scope, field));
        let rejection = if !result.public_id.starts_with(&folder) || result.resource_type != resource_type(kind) {
            Some(invalid())
        } else {
            self.direct_limits(field, kind, &result).err()
        };
        if let Some(error) = rejection {
            backend.destroy_result(&result).await;
            return Err(error);
        }
        Ok(Stored {
            media: MediaRef {
                url: result.secure_url.clone(),
                key: CloudinaryMedia::key(&result.resource_type, &result.public_id),
            },
            duration: result.duration,
            streaming: CloudinaryMedia::streaming(&result),
        })
    }

    fn direct_limits(&self, field: &str, kind: MediaKind, result: &UploadResult) -> Result<(), ServiceError> {
        let limit = self.file_limit(kind);
        let formats: &[&str] = match kind {
            MediaKind::Image => &IMAGE_FORMATS,
            MediaKind::Video => &VIDEO_FORMATS,
        };
        if result.bytes.is_none_or(|b| b > limit) {
            return Err(UploadError::TooLarge { field: field.to_owned(), limit }.into());
        }
        if !result.format.as_deref().is_some_and(|f| formats.contains(&f)) {
            return Err(UploadError::WrongType { field: field.to_owned(), kind }.into());
        }
        Ok(())
    }
}
