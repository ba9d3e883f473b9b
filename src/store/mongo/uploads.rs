//! Resumable uploads kept in MongoDB (docs/decisions.md D15), so that every instance on one
//! database serves every upload: the state in `tusUploads`, the bytes in `tusChunks` (builders in
//! `queries::uploads`). The one-writer rule is a lease in the state document, taken by one
//! conditional update, renewed while its request runs and given back when it ends; a crashed
//! writer's lease runs out after `LEASE`. Not GridFS: a GridFS file is written once, while a tus
//! upload grows by appends from several requests and must report exactly what it holds after each.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Bson, Document, doc};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, TryStreamExt};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use super::queries::uploads as q;
use super::{MongoStore, backend, date, id_of, ids_found, now, oid, retry_transient};
use crate::domain::{Id, Timestamp};
use crate::error::BoxError;
use crate::media::tus::{AppendError, BodyStream, Hold, Partial, Turn, TusStorage, UploadMeta};
use crate::store::{StoreError, StoreResult};

/// How long a writer's lease lasts unless renewed: the longest a crashed instance keeps others
/// from an upload.
const LEASE: Duration = Duration::from_secs(30);

/// How often a running request renews its lease: often enough that a slow client never loses it.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The most bytes a chunk document holds (far below MongoDB's 16 MiB document limit). A chunk is
/// also stored as soon as the body pauses, so HEAD follows a slow client closely. 1 MiB pieces
/// cost a 96 MiB upload's server twice the peak memory of these (the allocator keeps large blocks).
const CHUNK: usize = 256 * 1024;

/// Chunk documents fetched per round trip when an upload is read back: memory stays a few MiB
/// whatever the upload's size.
const READ_BATCH: u32 = 8;

fn lease_until() -> bson::DateTime {
    date(Timestamp::now().plus_secs(LEASE.as_secs()))
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The resumable uploads of every instance on one database.
pub struct MongoUploads {
    uploads: Collection<Document>,
    chunks: Collection<Document>,
}

impl MongoStore {
    /// The home of resumable uploads on this database, its indexes ensured.
    pub async fn tus_storage(&self) -> StoreResult<MongoUploads> {
        let uploads = self.collection(q::UPLOADS);
        let chunks = self.collection(q::CHUNKS);
        let position = IndexOptions::builder().name("upload_at".to_owned()).unique(true).build();
        chunks
            .create_index(IndexModel::builder().keys(doc! { "upload": 1, "at": 1 }).options(position).build())
            .await
            .map_err(|e| StoreError::context(format!("creating the indexes of `{}` failed", q::CHUNKS), e))?;
        uploads
            .create_index(IndexModel::builder().keys(doc! { "expires": 1 }).build())
            .await
            .map_err(|e| StoreError::context(format!("creating the indexes of `{}` failed", q::UPLOADS), e))?;
        Ok(MongoUploads { uploads, chunks })
    }
}

/// What a MongoDB `Turn` holds: the lease's renewal, stopped on drop, and the lease given back
/// in the background unless `MongoUploads::give_back` already did.
struct Lease {
    uploads: Collection<Document>,
    id: ObjectId,
    holder: String,
    renewal: tokio::task::JoinHandle<()>,
    given_back: AtomicBool,
}

impl Hold for Lease {
    fn given_back(&self) {
        self.given_back.store(true, Ordering::Release);
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
        if self.given_back.load(Ordering::Acquire) {
            return;
        }
        // A request cancelled mid-way: the lease goes back as soon as possible, else it runs out.
        let (uploads, filter) = (self.uploads.clone(), q::held(self.id, &self.holder));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = uploads.update_one(filter, q::release()).await;
            });
        }
    }
}

fn storage(e: mongodb::error::Error) -> BoxError {
    Box::new(backend(e))
}

impl MongoUploads {
    fn partial(document: &Document) -> Option<Partial> {
        let number = |name: &str| {
            document.get_i64(name).ok().or_else(|| document.get_i32(name).ok().map(i64::from)).unwrap_or(0)
        };
        let meta = UploadMeta {
            owner: id_of(document.get_object_id("owner").ok()?),
            field: document.get_str("field").ok()?.to_owned(),
            length: u64::try_from(number("length")).ok()?,
            filename: document.get_str("filename").ok().map(str::to_owned),
            expires: document.get_datetime("expires").ok()?.timestamp_millis(),
        };
        let id = id_of(document.get_object_id("_id").ok()?);
        Some(Partial { id, meta, offset: u64::try_from(number("offset")).ok()? })
    }

    /// Stores `bytes` at `at`, then moves the offset past them while `holder` holds the lease.
    async fn store_chunk(&self, id: ObjectId, holder: &str, at: i64, bytes: Vec<u8>) -> Result<i64, AppendError> {
        let end = at + bytes.len() as i64;
        let chunk = q::chunk(id, at, bytes);
        if let Err(e) = retry_transient(|| self.chunks.insert_one(&chunk)).await {
            // A chunk already there is one a writer that lost its lease stored after we cleared
            // the debris; it counts for nothing (the offset never covered it), so it goes.
            if super::error_code(&e) != Some(super::DUPLICATE_KEY) {
                return Err(AppendError::Storage(storage(e)));
            }
            self.chunks.delete_many(q::chunks_from(id, at)).await.map_err(|e| AppendError::Storage(storage(e)))?;
            retry_transient(|| self.chunks.insert_one(&chunk)).await.map_err(|e| AppendError::Storage(storage(e)))?;
        }
        let moved =
            retry_transient(|| self.uploads.update_one(q::held_at(id, holder, at), q::advance(end, lease_until())))
                .await
                .map_err(|e| AppendError::Storage(storage(e)))?;
        if moved.matched_count == 0 {
            return Err(AppendError::TurnLost);
        }
        Ok(end)
    }

    /// Deletes the state, then the chunks: a crash in between leaves chunks of no upload, which
    /// the sweep removes, never an offset counting bytes that are gone.
    async fn delete(&self, id: ObjectId, filter: Document) -> Result<bool, BoxError> {
        let deleted = retry_transient(|| self.uploads.delete_one(filter.clone())).await.map_err(storage)?;
        self.chunks.delete_many(doc! { "upload": id }).await.map_err(storage)?;
        Ok(deleted.deleted_count > 0)
    }
}

#[async_trait]
impl TusStorage for MongoUploads {
    async fn create(&self, meta: &UploadMeta) -> Result<Id, BoxError> {
        let id = Id::generate();
        let expires = bson::DateTime::from_millis(meta.expires);
        let upload =
            q::new_upload(oid(id), oid(meta.owner), &meta.field, count(meta.length), meta.filename.as_deref(), expires);
        retry_transient(|| self.uploads.insert_one(&upload)).await.map_err(storage)?;
        Ok(id)
    }

    async fn get(&self, id: Id) -> Result<Option<Partial>, BoxError> {
        let found = self.uploads.find_one(doc! { "_id": oid(id) }).await.map_err(storage)?;
        Ok(found.as_ref().and_then(Self::partial))
    }

    async fn try_turn(&self, id: Id) -> Result<Option<Turn<'_>>, BoxError> {
        let holder = hex::encode(rand::random::<[u8; 12]>());
        let taken =
            retry_transient(|| self.uploads.update_one(q::free(oid(id), now()), q::lease(&holder, lease_until())))
                .await
                .map_err(storage)?;
        if taken.matched_count == 0 {
            return Ok(None);
        }
        // Renewed while the request runs, however long its client pauses; stopped with the turn.
        let (uploads, filter) = (self.uploads.clone(), q::held(oid(id), &holder));
        let renewal = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RENEW_EVERY);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let renewed = uploads.update_one(filter.clone(), q::renew(lease_until())).await;
                if renewed.is_ok_and(|r| r.matched_count == 0) {
                    return;
                }
            }
        });
        let lease = Lease {
            uploads: self.uploads.clone(),
            id: oid(id),
            holder: holder.clone(),
            renewal,
            given_back: AtomicBool::new(false),
        };
        Ok(Some(Turn::new(id, holder, lease)))
    }

    async fn give_back(&self, turn: Turn<'_>) -> Result<(), BoxError> {
        let released =
            retry_transient(|| self.uploads.update_one(q::held(oid(turn.id()), turn.holder()), q::release())).await;
        if released.is_ok() {
            turn.disarm();
        }
        released.map(drop).map_err(storage)
    }

    async fn append(&self, turn: &Turn<'_>, partial: &Partial, body: BodyStream<'_>) -> Result<u64, AppendError> {
        let (id, holder) = (oid(partial.id), turn.holder());
        let start = count(partial.offset);
        let room = count(partial.meta.length - partial.offset);
        // Chunks at or past the offset were stored by a writer that died before moving it.
        self.chunks.delete_many(q::chunks_from(id, start)).await.map_err(|e| AppendError::Storage(storage(e)))?;
        // One piece filled at a time and handed to its document whole (never copied to get there).
        let fresh = || Vec::with_capacity(CHUNK);
        let (mut stored, mut buffer) = (start, fresh());
        let mut body = body;
        let outcome = loop {
            // Whatever is buffered is stored once the body pauses, so HEAD follows the client.
            let next = match body.next().now_or_never() {
                Some(next) => next,
                None if !buffer.is_empty() => {
                    stored = self.store_chunk(id, holder, stored, std::mem::replace(&mut buffer, fresh())).await?;
                    body.next().await
                }
                None => body.next().await,
            };
            match next {
                None => break Ok(()),
                Some(Err(e)) => break Err(AppendError::Body(e)),
                Some(Ok(bytes)) if stored - start + (buffer.len() + bytes.len()) as i64 > room => {
                    break Err(AppendError::Overflow);
                }
                Some(Ok(bytes)) => {
                    let mut rest = bytes.as_ref();
                    while !rest.is_empty() {
                        let (now, later) = rest.split_at(rest.len().min(CHUNK - buffer.len()));
                        buffer.extend_from_slice(now);
                        rest = later;
                        if buffer.len() == CHUNK {
                            stored =
                                self.store_chunk(id, holder, stored, std::mem::replace(&mut buffer, fresh())).await?;
                        }
                    }
                }
            }
        };
        match outcome {
            Err(AppendError::Overflow) => {
                // The whole append is undone: the offset back where it was, then its chunks gone.
                let undo = q::advance(start, lease_until());
                let back = retry_transient(|| self.uploads.update_one(q::held(id, holder), undo.clone()))
                    .await
                    .map_err(|e| AppendError::Storage(storage(e)))?;
                if back.matched_count == 0 {
                    return Err(AppendError::TurnLost);
                }
                self.chunks
                    .delete_many(q::chunks_from(id, start))
                    .await
                    .map_err(|e| AppendError::Storage(storage(e)))?;
                Err(AppendError::Overflow)
            }
            // A body that broke off keeps what arrived, as the bytes on disk do.
            other => {
                if !buffer.is_empty() {
                    stored = self.store_chunk(id, holder, stored, buffer).await?;
                }
                other.map(|()| stored as u64)
            }
        }
    }

    async fn set_expiry(&self, turn: &Turn<'_>, partial: &Partial, expires: i64) -> Result<(), BoxError> {
        let update = q::set_expiry(bson::DateTime::from_millis(expires));
        retry_transient(|| self.uploads.update_one(q::held(oid(partial.id), turn.holder()), update.clone()))
            .await
            .map_err(storage)?;
        Ok(())
    }

    async fn read<'a>(
        &'a self,
        _turn: &'a Turn<'_>,
        partial: &Partial,
    ) -> Result<BoxStream<'a, Result<Bytes, BoxError>>, BoxError> {
        let (id, offset) = (oid(partial.id), count(partial.offset));
        let cursor = self
            .chunks
            .find(q::chunks_below(id, offset))
            .sort(q::by_position())
            .batch_size(READ_BATCH)
            .await
            .map_err(storage)?;
        // Each chunk must start where the last ended, and the last end at the offset: anything
        // else is an upload whose bytes are not all there, never published short.
        let chunks = futures_util::stream::try_unfold((cursor, 0_i64), move |(mut cursor, expected)| async move {
            let Some(mut chunk) = cursor.try_next().await.map_err(storage)? else {
                if expected != offset {
                    return Err(BoxError::from(format!("upload {id} holds {expected} of its {offset} bytes")));
                }
                return Ok(None);
            };
            let at = chunk.get_i64("at").unwrap_or(-1);
            let Some(Bson::Binary(data)) = chunk.remove("data") else {
                return Err(BoxError::from(format!("chunk at {at} of upload {id} has no data")));
            };
            if at != expected {
                return Err(BoxError::from(format!("upload {id} has no chunk at {expected}")));
            }
            let end = expected + data.bytes.len() as i64;
            Ok(Some((Bytes::from(data.bytes), (cursor, end))))
        });
        Ok(chunks.boxed())
    }

    async fn remove(&self, id: Id) -> Result<(), BoxError> {
        self.delete(oid(id), doc! { "_id": oid(id) }).await.map(drop)
    }

    async fn sweep(&self, at: Timestamp) -> Result<usize, BoxError> {
        let at = date(at);
        let expired = ids_found(self.uploads.find(q::expired(at)).projection(doc! { "_id": 1 }), "_id")
            .await
            .map_err(BoxError::from)?;
        let mut removed = 0;
        for id in expired {
            // Deleted only if still expired and unleased: a PATCH may have taken it meanwhile.
            let mut filter = q::expired(at);
            filter.insert("_id", id);
            if self.delete(id, filter).await? {
                tracing::info!(upload = %id, "removed expired resumable upload");
                removed += 1;
            }
        }
        // Chunks of no upload: left by a crash between deleting an upload's state and its chunks.
        let holders = self.chunks.distinct("upload", doc! {}).await.map_err(storage)?;
        let holders: Vec<ObjectId> = holders.iter().filter_map(Bson::as_object_id).collect();
        if !holders.is_empty() {
            let find = self.uploads.find(doc! { "_id": { "$in": holders.clone() } }).projection(doc! { "_id": 1 });
            let live = ids_found(find, "_id").await.map_err(BoxError::from)?;
            let orphans: Vec<ObjectId> = holders.into_iter().filter(|h| !live.contains(h)).collect();
            if !orphans.is_empty() {
                self.chunks.delete_many(doc! { "upload": { "$in": orphans } }).await.map_err(storage)?;
            }
        }
        Ok(removed)
    }
}
