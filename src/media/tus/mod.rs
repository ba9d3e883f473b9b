//! Where resumable uploads (tus, docs/decisions.md D15) wait while their bytes arrive: one trait,
//! `TusStorage`, and its two homes, chosen by the store (`app::build`). On SQLite (one process)
//! `disk::TusArea` keeps them under `DATA_DIR/tus`, so a finished upload is renamed into the media
//! store rather than copied; on MongoDB `store::mongo::uploads` keeps their state and bytes in the
//! database, so every instance on it can serve every upload. Either way the offset is exactly the
//! bytes kept, one request writes an upload at a time, and nothing here is ever served.

pub mod disk;

use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tempfile::TempPath;

use crate::domain::{Id, Timestamp};
use crate::error::BoxError;

/// What a resumable upload was declared as, at creation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadMeta {
    pub owner: Id,
    pub field: String,
    pub length: u64,
    pub filename: Option<String>,
    /// Milliseconds since the epoch; moved forward by every PATCH.
    pub expires: i64,
}

/// An upload in the storage and how many of its bytes have arrived.
#[derive(Clone, Debug)]
pub struct Partial {
    pub id: Id,
    pub meta: UploadMeta,
    pub offset: u64,
}

impl Partial {
    pub fn is_complete(&self) -> bool {
        self.offset == self.meta.length
    }
}

/// Why an append stopped early.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The bytes would pass the declared length; nothing of this append was kept.
    #[error("the body passes the declared upload length")]
    Overflow,
    /// The body broke off (client gone); the bytes received before that were kept.
    #[error("the upload body broke off")]
    Body(#[source] BoxError),
    /// The turn was lost while writing (a lease that ran out and was taken by another request);
    /// the bytes kept before that stay.
    #[error("the upload's writing turn was lost")]
    TurnLost,
    /// The storage failed (a disk, the database); its error is kept to tell a full disk or an
    /// unreachable database from the rest.
    #[error("upload storage error")]
    Storage(#[source] BoxError),
}

impl From<std::io::Error> for AppendError {
    fn from(e: std::io::Error) -> Self {
        AppendError::Storage(Box::new(e))
    }
}

/// A request body as the storage reads it: chunks, or the error that broke it off.
pub type BodyStream<'a> = BoxStream<'a, Result<Bytes, BoxError>>;

/// What a `Turn` holds; dropping it gives the turn back (a lock in this process on disk, a
/// lease released in the background on MongoDB).
pub trait Hold: Send + Sync {
    /// The turn was given back already (`TusStorage::give_back`): nothing is left for the drop.
    fn given_back(&self) {}
}

/// The right to write or consume one upload; given back by `TusStorage::give_back`, or on drop.
pub struct Turn<'a> {
    id: Id,
    /// Who holds the turn, for storages that check it on every write (the MongoDB lease).
    holder: String,
    held: Box<dyn Hold + 'a>,
}

impl<'a> Turn<'a> {
    pub fn new(id: Id, holder: String, held: impl Hold + 'a) -> Self {
        Turn { id, holder, held: Box::new(held) }
    }

    /// Ends the turn once the storage gave it back itself.
    pub fn disarm(self) {
        self.held.given_back();
    }

    pub fn id(&self) -> Id {
        self.id
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }
}

/// Resumable uploads in progress: their declared metadata, their bytes and the one-writer rule.
/// Errors are kept whole (`BoxError`): the services tell a full disk and an unreachable database
/// from other failures by their chain.
#[async_trait]
pub trait TusStorage: Send + Sync {
    /// Records a new, empty upload and returns its id.
    async fn create(&self, meta: &UploadMeta) -> Result<Id, BoxError>;

    /// The upload and its offset; `None` when it does not exist (or only half of it does).
    async fn get(&self, id: Id) -> Result<Option<Partial>, BoxError>;

    /// The writing turn of an upload, `None` while another request (on any instance sharing the
    /// storage) holds it, or when there is no such upload.
    async fn try_turn(&self, id: Id) -> Result<Option<Turn<'_>>, BoxError>;

    /// Gives the turn back before answering, so that the client's next request finds the upload
    /// free (on drop the release may land after it).
    async fn give_back(&self, turn: Turn<'_>) -> Result<(), BoxError> {
        drop(turn);
        Ok(())
    }

    /// Appends the body at the upload's current end (`partial`, read under the turn) and returns
    /// the new offset. Bytes that would pass the declared length undo the whole append; a body
    /// that breaks off keeps what arrived. Memory does not grow with the body.
    async fn append(&self, turn: &Turn<'_>, partial: &Partial, body: BodyStream<'_>) -> Result<u64, AppendError>;

    /// Moves the upload's expiry (milliseconds since the epoch).
    async fn set_expiry(&self, turn: &Turn<'_>, partial: &Partial, expires: i64) -> Result<(), BoxError>;

    /// Moves the data of a finished upload into a new temp file in `dir` when that costs no copy
    /// (a rename); `None` when it cannot, and `read` must stream it instead.
    async fn take(&self, _turn: &Turn<'_>, _id: Id, _dir: &Path) -> Result<Option<TempPath>, BoxError> {
        Ok(None)
    }

    /// The bytes of the upload, in order, in chunks of bounded size.
    async fn read<'a>(
        &'a self,
        turn: &'a Turn<'_>,
        partial: &Partial,
    ) -> Result<BoxStream<'a, Result<Bytes, BoxError>>, BoxError>;

    /// Deletes an upload and its bytes (nothing when it is gone already).
    async fn remove(&self, id: Id) -> Result<(), BoxError>;

    /// Deletes uploads whose expiry has passed (not while written) and any debris of a crash;
    /// returns how many uploads went.
    async fn sweep(&self, now: Timestamp) -> Result<usize, BoxError>;
}
