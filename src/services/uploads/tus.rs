//! Resumable uploads (tus 1.0.0, docs/api.md §3.13): the rules around the `media::tus` storage
//! (on disk or in MongoDB, whichever the store is) — who may see, write and delete an upload, the
//! per-field limits, expiry, one writer at a time, and turning a finished upload into the same
//! streamed file a multipart part gives.

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};

use super::direct::field_kind;
use crate::domain::{Id, Timestamp};
use crate::error::{BoxError, Chain};
use crate::media::tus::{AppendError, Partial, Turn, UploadMeta};
use crate::media::{MediaKind, TempUpload, UploadError, UploadSink};
use crate::services::{FieldError, ServiceError, Services};

/// The one tus protocol version spoken (docs/api.md §3.13).
pub const TUS_VERSION: &str = "1.0.0";

/// What the client declared when creating an upload (docs/api.md §3.13).
pub struct NewUpload {
    pub length: u64,
    pub field: Option<String>,
    pub filename: Option<String>,
}

/// Bytes sent with a request: the length it announced, if any, and the stream.
pub struct Chunk<S> {
    pub declared: Option<u64>,
    pub body: S,
}

/// Where an upload stands, as the tus headers tell it.
pub struct UploadState {
    pub id: Id,
    pub offset: u64,
    pub length: u64,
    pub expires: Timestamp,
}

impl From<&Partial> for UploadState {
    fn from(p: &Partial) -> Self {
        UploadState { id: p.id, offset: p.offset, length: p.meta.length, expires: Timestamp(p.meta.expires) }
    }
}

fn not_found() -> ServiceError {
    ServiceError::not_found("Upload not found")
}

fn busy() -> ServiceError {
    ServiceError::conflict("Upload is being written by another request")
}

/// The upload a `<field>Upload` value names: a bare id, or a tus `Location` URL. `None` when the
/// value is neither (a direct-upload result, say); `Some(None)` for a tus URL whose id is malformed.
pub(in crate::services) fn upload_reference(value: &str) -> Option<Option<Id>> {
    if let Some(id) = Id::parse(value) {
        return Some(Some(id));
    }
    let is_url = value.starts_with("http://") || value.starts_with("https://");
    let (_, rest) = value.split_once("/api/v1/uploads/tus/").filter(|_| is_url)?;
    Some(Id::parse(rest.trim_end_matches('/')))
}

impl Services {
    /// The largest upload accepted (`Tus-Max-Size`): the video limit, the largest of the fields.
    pub fn tus_max_size(&self) -> u64 {
        self.config.limits.video_bytes
    }

    /// Creates an upload for `field`, within that field's limit, then writes the bytes sent with
    /// the creation request, if any. An overflowing first chunk takes the new upload with it.
    pub async fn create_upload<S, E>(
        &self,
        caller: Id,
        new: NewUpload,
        first: Option<Chunk<S>>,
    ) -> Result<UploadState, ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        let (field, kind) =
            new.field.as_deref().and_then(|name| field_kind(name).map(|kind| (name, kind))).ok_or_else(|| {
                ServiceError::invalid_field(
                    "Upload-Metadata",
                    "Upload-Metadata field must be one of videoFile, thumbnail, avatar or coverImage",
                )
            })?;
        let limit = self.file_limit(kind);
        if new.length > limit {
            return Err(UploadError::TooLarge { field: field.to_owned(), limit }.into());
        }
        let meta = UploadMeta {
            owner: caller,
            field: field.to_owned(),
            length: new.length,
            filename: new.filename,
            expires: Timestamp::now().plus_secs(self.config.upload_expiry_secs).millis(),
        };
        let id = self.tus.create(&meta).await.map_err(ServiceError::internal)?;
        let created = Partial { id, meta, offset: 0 };
        let Some(chunk) = first else {
            return Ok(UploadState::from(&created));
        };
        let written = self.append_upload(caller, id, 0, chunk).await;
        if matches!(written, Err(ServiceError::TooLarge(_))) {
            self.tus.remove(id).await.map_err(ServiceError::internal)?;
        }
        written
    }

    /// The caller's live upload `id` (a malformed, unknown, expired or someone else's id is 404).
    pub async fn owned_upload(&self, caller: Id, id: &str) -> Result<UploadState, ServiceError> {
        let id = Id::parse(id).ok_or_else(not_found)?;
        Ok(UploadState::from(&self.live_upload(caller, id).await?))
    }

    async fn live_upload(&self, caller: Id, id: Id) -> Result<Partial, ServiceError> {
        let partial = self.tus.get(id).await.map_err(ServiceError::internal)?;
        partial.filter(|p| p.meta.owner == caller && p.meta.expires > Timestamp::now().millis()).ok_or_else(not_found)
    }

    /// Appends a PATCH body at `offset`, which must be the upload's current offset; one writer at a
    /// time. Bytes past the declared length undo the whole PATCH; a body that breaks off keeps what
    /// arrived. Every PATCH moves the expiry forward.
    pub async fn append_upload<S, E>(
        &self,
        caller: Id,
        id: Id,
        offset: u64,
        chunk: Chunk<S>,
    ) -> Result<UploadState, ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        self.live_upload(caller, id).await?;
        let turn = self.tus.try_turn(id).await.map_err(ServiceError::internal)?.ok_or_else(busy)?;
        let appended = self.append_in_turn(caller, &turn, offset, chunk).await;
        // On a full disk the upload ends: its files go, giving the space back (docs/api.md §3.13).
        if matches!(appended, Err(ServiceError::InsufficientStorage(_)))
            && let Err(e) = self.tus.remove(id).await
        {
            tracing::error!(upload = %id, error = %Chain(e.as_ref()), "could not delete a resumable upload after a full disk");
        }
        self.give_back(turn).await;
        appended
    }

    /// The part of `append_upload` that runs holding the upload's turn.
    async fn append_in_turn<S, E>(
        &self,
        caller: Id,
        turn: &Turn<'_>,
        offset: u64,
        chunk: Chunk<S>,
    ) -> Result<UploadState, ServiceError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<BoxError>,
    {
        let id = turn.id();
        // Read again under the turn: the offset may have moved before it was taken.
        let mut partial = self.live_upload(caller, id).await?;
        if offset != partial.offset {
            return Err(ServiceError::conflict(format!(
                "Upload-Offset {offset} does not match the upload's offset {}",
                partial.offset
            )));
        }
        let overflow = || {
            ServiceError::TooLarge(FieldError::new("Upload-Length", "The PATCH would pass the upload's Upload-Length"))
        };
        if chunk.declared.is_some_and(|n| n > partial.meta.length - offset) {
            return Err(overflow());
        }
        let body = chunk.body.map_err(Into::into).boxed();
        match self.tus.append(turn, &partial, body).await {
            Ok(_) => {}
            Err(AppendError::Overflow) => return Err(overflow()),
            // The client is usually gone; what arrived counts, and HEAD reports it.
            Err(AppendError::Body(cause)) => {
                tracing::info!(upload = %id, error = %Chain(cause.as_ref()), "resumable upload body broke off");
            }
            Err(AppendError::TurnLost) => return Err(busy()),
            Err(AppendError::Storage(e)) => return Err(ServiceError::internal(e)),
        }
        let expires = Timestamp::now().plus_secs(self.config.upload_expiry_secs).millis();
        self.tus.set_expiry(turn, &partial, expires).await.map_err(ServiceError::internal)?;
        partial = self.tus.get(id).await.map_err(ServiceError::internal)?.ok_or_else(not_found)?;
        Ok(UploadState::from(&partial))
    }

    /// Gives a turn back; a failure only delays the next writer until the turn runs out.
    async fn give_back(&self, turn: Turn<'_>) {
        let id = turn.id();
        if let Err(e) = self.tus.give_back(turn).await {
            tracing::warn!(upload = %id, error = %Chain(e.as_ref()), "could not give back a resumable upload's turn");
        }
    }

    /// Deletes the caller's upload and its data (not while it is being written).
    pub async fn delete_upload(&self, caller: Id, id: &str) -> Result<(), ServiceError> {
        let id = Id::parse(id).ok_or_else(not_found)?;
        self.live_upload(caller, id).await?;
        let turn = self.tus.try_turn(id).await.map_err(ServiceError::internal)?.ok_or_else(busy)?;
        let removed = self.tus.remove(id).await.map_err(ServiceError::internal);
        // The upload is gone with its lease; the turn ends here.
        drop(turn);
        removed
    }

    /// Consumes the finished upload `id` as the file of `field`: it must be the caller's (`scope`
    /// is the caller's id; registration has none), declared for that field and complete, else 400
    /// and it stays. Then its file is moved into the temp dir and judged there as a multipart part
    /// is (sniffing, the field's limit), so its bytes are written once, or, where it cannot be
    /// moved (MongoDB, another filesystem), streamed through an upload sink; the upload is deleted
    /// whatever the outcome.
    pub(in crate::services) async fn take_finished_upload(
        &self,
        field: &'static str,
        id: Option<Id>,
        scope: &str,
    ) -> Result<TempUpload, ServiceError> {
        let not_yours = || {
            ServiceError::invalid_field(
                &format!("{field}Upload"),
                format!("{field}Upload is not a finished upload of yours"),
            )
        };
        let (Some(caller), Some(id), Some(kind)) = (Id::parse(scope), id, field_kind(field)) else {
            return Err(not_yours());
        };
        let turn = self.tus.try_turn(id).await.map_err(ServiceError::internal)?.ok_or_else(not_yours)?;
        let partial = match self.live_upload(caller, id).await {
            Ok(partial) if partial.meta.field == field && partial.is_complete() => partial,
            _ => {
                self.give_back(turn).await;
                return Err(not_yours());
            }
        };
        let limit = self.file_limit(kind);
        let taken = async {
            let moved = self.tus.take(&turn, id, &self.temp_dir).await.map_err(ServiceError::internal)?;
            let judged = match moved {
                Some(moved) => tokio::task::spawn_blocking(move || TempUpload::judge(moved, field, kind, limit))
                    .await
                    .map_err(std::io::Error::other)
                    .map_err(UploadError::from)??,
                None => self.copy_upload(&turn, &partial, field, kind, limit).await?,
            };
            // An empty upload has no type to sniff.
            Ok(judged.ok_or(UploadError::WrongType { field: field.to_owned(), kind })?)
        }
        .await;
        if let Err(e) = self.tus.remove(id).await {
            tracing::error!(upload = %id, error = %Chain(e.as_ref()), "could not delete a consumed resumable upload");
        }
        drop(turn);
        taken
    }

    /// A finished upload's bytes streamed through an upload sink into the temp dir, a chunk at a
    /// time: for uploads kept in MongoDB, or in a tus area on another filesystem than the temp dir.
    async fn copy_upload(
        &self,
        turn: &Turn<'_>,
        partial: &Partial,
        field: &str,
        kind: MediaKind,
        limit: u64,
    ) -> Result<Option<TempUpload>, ServiceError> {
        let mut chunks = self.tus.read(turn, partial).await.map_err(ServiceError::internal)?;
        let mut sink = UploadSink::create(&self.temp_dir, field, kind, limit).map_err(ServiceError::internal)?;
        while let Some(chunk) = chunks.try_next().await.map_err(ServiceError::internal)? {
            sink.push(&chunk).await?;
        }
        Ok(sink.finish().await?)
    }

    /// Deletes expired uploads; run by the media reconciliation.
    pub(in crate::services) async fn sweep_uploads(&self) -> Result<usize, ServiceError> {
        self.tus.sweep(Timestamp::now()).await.map_err(ServiceError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_bare_ids_or_tus_locations() {
        let id = "6650a1b2c3d4e5f601234567";
        assert_eq!(upload_reference(id), Some(Id::parse(id)));
        let url = format!("https://example.com/api/v1/uploads/tus/{id}");
        assert_eq!(upload_reference(&url), Some(Id::parse(id)));
        assert_eq!(upload_reference("http://x/api/v1/uploads/tus/nope"), Some(None));
        assert_eq!(upload_reference(r#"{"public_id":"x"}"#), None);
        assert_eq!(upload_reference("/api/v1/uploads/tus/6650a1b2c3d4e5f601234567"), None);
    }
}
