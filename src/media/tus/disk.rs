//! The tus area on disk, used with the SQLite store (one process): resumable uploads in progress
//! under `DATA_DIR/tus`, so they survive a restart. Each upload is a data file named by its id plus
//! a JSON sidecar (`<id>.json`, written atomically) with its owner, field, length and expiry. The
//! offset is the data file's length, so whatever reached the disk before a dropped connection is
//! exactly what a client resumes from. One writer per upload at a time, within this process.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{AppendError, BodyStream, Partial, Turn, TusStorage, UploadMeta};
use crate::domain::{Id, Timestamp};
use crate::error::BoxError;

/// Reads of a finished upload that cannot be moved: big enough for few syscalls, small enough that
/// memory stays flat.
const READ_CHUNK: usize = 256 * 1024;

/// The resumable uploads of this instance.
pub struct TusArea {
    dir: PathBuf,
    writers: Mutex<HashSet<Id>>,
}

/// An upload's place in `writers`, given back on drop (what a disk `Turn` holds).
struct Held<'a> {
    area: &'a TusArea,
    id: Id,
}

impl super::Hold for Held<'_> {}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.area.writers.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

impl TusArea {
    /// Opens (creating it, private) the area at `dir`; half-written sidecars of a crash are removed.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(TusArea { dir: dir.to_path_buf(), writers: Mutex::new(HashSet::new()) })
    }

    fn data_path(&self, id: Id) -> PathBuf {
        self.dir.join(id.to_hex())
    }

    fn meta_path(&self, id: Id) -> PathBuf {
        self.dir.join(format!("{}.json", id.to_hex()))
    }

    /// Records a new, empty upload. The sidecar comes first: a data file without one is debris the
    /// sweep removes.
    pub async fn create(&self, meta: &UploadMeta) -> std::io::Result<Id> {
        let id = Id::generate();
        // Held until both files exist, so a sweep never takes the half-made upload for debris.
        let _turn = self.try_turn(id);
        self.write_meta(id, meta).await?;
        // Private, as a multipart part's temp file is: publishing moves this file into the media
        // store as it is.
        let mut data = tokio::fs::OpenOptions::new();
        data.write(true).create_new(true);
        #[cfg(unix)]
        data.mode(0o600);
        if let Err(e) = data.open(self.data_path(id)).await {
            let _ = tokio::fs::remove_file(self.meta_path(id)).await;
            return Err(e);
        }
        Ok(id)
    }

    /// Replaces the sidecar atomically (temp file, then rename).
    pub async fn write_meta(&self, id: Id, meta: &UploadMeta) -> std::io::Result<()> {
        let json = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
        let temp = self.dir.join(format!("{}.json.tmp", id.to_hex()));
        let written = match tokio::fs::write(&temp, json).await {
            Ok(()) => tokio::fs::rename(&temp, self.meta_path(id)).await,
            Err(e) => Err(e),
        };
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        written
    }

    /// The upload and its offset; `None` when it does not exist (or only half of it does).
    pub async fn get(&self, id: Id) -> std::io::Result<Option<Partial>> {
        let raw = match tokio::fs::read(self.meta_path(id)).await {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok(meta) = serde_json::from_slice::<UploadMeta>(&raw) else {
            return Ok(None);
        };
        match tokio::fs::metadata(self.data_path(id)).await {
            Ok(data) => Ok(Some(Partial { id, meta, offset: data.len() })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The writing turn of an upload, unless another request holds it.
    pub fn try_turn(&self, id: Id) -> Option<Turn<'_>> {
        let inserted = self.writers.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
        // Built only when taken: a `Turn` dropped here would give back someone else's turn.
        inserted.then(|| Turn::new(id, String::new(), Held { area: self, id }))
    }

    /// Appends the body at the upload's current end and returns the new offset. Bytes that would
    /// pass the declared length undo the whole append (the file is cut back to where it was); a
    /// body that breaks off keeps what arrived. Chunks are written one at a time, so memory does
    /// not grow with the body.
    pub async fn append<S, E>(&self, turn: &Turn<'_>, partial: &Partial, body: S) -> Result<u64, AppendError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<BoxError>,
    {
        let mut file = tokio::fs::OpenOptions::new().append(true).open(self.data_path(turn.id())).await?;
        let room = partial.meta.length - partial.offset;
        let mut written = 0u64;
        let mut body = std::pin::pin!(body);
        let outcome = loop {
            match body.next().await {
                None => break Ok(()),
                Some(Err(e)) => break Err(AppendError::Body(e.into())),
                Some(Ok(chunk)) if written + chunk.len() as u64 > room => break Err(AppendError::Overflow),
                Some(Ok(chunk)) => {
                    file.write_all(&chunk).await?;
                    written += chunk.len() as u64;
                }
            }
        };
        file.flush().await?;
        if let Err(AppendError::Overflow) = outcome {
            file.set_len(partial.offset).await?;
        }
        outcome.map(|()| partial.offset + written)
    }

    /// Moves the data of an upload into a new temp file in `dir`, to consume it: a rename, so the
    /// bytes are written once. `Ok(None)` (the data stays) when `dir` is on another filesystem,
    /// where only a copy can move them.
    pub async fn take(&self, _turn: &Turn<'_>, id: Id, dir: &Path) -> std::io::Result<Option<TempPath>> {
        let (data, dir) = (self.data_path(id), dir.to_owned());
        let moved = tokio::task::spawn_blocking(move || {
            tempfile::Builder::new().prefix("upload-").make_in(&dir, |path| std::fs::rename(&data, path))
        })
        .await
        .map_err(std::io::Error::other)?;
        match moved {
            Ok(file) => Ok(Some(file.into_temp_path())),
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes an upload: sidecar first, so a crash in between leaves only debris for the sweep.
    pub async fn remove(&self, id: Id) -> std::io::Result<()> {
        for path in [self.meta_path(id), self.data_path(id)] {
            match tokio::fs::remove_file(&path).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Deletes uploads whose expiry has passed and data files left without a sidecar, skipping
    /// uploads being written; returns how many uploads went.
    pub async fn sweep(&self, now: Timestamp) -> std::io::Result<usize> {
        let mut ids = HashSet::new();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let stem = name.to_str().map(|n| n.strip_suffix(".json").unwrap_or(n));
            ids.extend(stem.and_then(Id::parse));
        }
        let mut removed = 0;
        for id in ids {
            // Looked at without the turn first (sidecars are replaced whole): a live upload's turn
            // is never taken, so a PATCH arriving meanwhile is not refused with 409.
            if self.get(id).await?.is_some_and(|p| p.meta.expires > now.millis()) {
                continue;
            }
            let Some(_turn) = self.try_turn(id) else { continue };
            // `None`: a sidecar without data or data without a (readable) sidecar, left by a crash.
            let partial = self.get(id).await?;
            if partial.is_none_or(|p| p.meta.expires <= now.millis()) {
                self.remove(id).await?;
                tracing::info!(upload = %id, "removed expired resumable upload");
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The disk as the home of resumable uploads: the inherent methods above, errors kept whole.
#[async_trait]
impl TusStorage for TusArea {
    async fn create(&self, meta: &UploadMeta) -> Result<Id, BoxError> {
        Ok(TusArea::create(self, meta).await?)
    }

    async fn get(&self, id: Id) -> Result<Option<Partial>, BoxError> {
        Ok(TusArea::get(self, id).await?)
    }

    async fn try_turn(&self, id: Id) -> Result<Option<Turn<'_>>, BoxError> {
        Ok(TusArea::try_turn(self, id))
    }

    async fn append(&self, turn: &Turn<'_>, partial: &Partial, body: BodyStream<'_>) -> Result<u64, AppendError> {
        TusArea::append(self, turn, partial, body).await
    }

    async fn set_expiry(&self, _turn: &Turn<'_>, partial: &Partial, expires: i64) -> Result<(), BoxError> {
        let meta = UploadMeta { expires, ..partial.meta.clone() };
        Ok(self.write_meta(partial.id, &meta).await?)
    }

    async fn take(&self, turn: &Turn<'_>, id: Id, dir: &Path) -> Result<Option<TempPath>, BoxError> {
        Ok(TusArea::take(self, turn, id, dir).await?)
    }

    async fn read<'a>(
        &'a self,
        _turn: &'a Turn<'_>,
        partial: &Partial,
    ) -> Result<BoxStream<'a, Result<Bytes, BoxError>>, BoxError> {
        let file = tokio::fs::File::open(self.data_path(partial.id)).await?;
        // One buffer, refilled: `Bytes` handed on are copies of at most READ_CHUNK bytes.
        let chunks = futures_util::stream::try_unfold((file, vec![0u8; READ_CHUNK]), |(mut file, mut buffer)| async {
            let n = file.read(&mut buffer).await?;
            let chunk = Bytes::copy_from_slice(&buffer[..n]);
            Ok::<_, BoxError>((n > 0).then_some((chunk, (file, buffer))))
        });
        Ok(chunks.boxed())
    }

    async fn remove(&self, id: Id) -> Result<(), BoxError> {
        Ok(TusArea::remove(self, id).await?)
    }

    async fn sweep(&self, now: Timestamp) -> Result<usize, BoxError> {
        Ok(TusArea::sweep(self, now).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(length: u64, expires: i64) -> UploadMeta {
        UploadMeta { owner: Id::generate(), field: "videoFile".into(), length, filename: None, expires }
    }

    fn body(chunks: &[&[u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(chunks.iter().map(|c| Ok(Bytes::copy_from_slice(c))).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn appends_reject_overflow_whole_and_keep_bytes_of_a_broken_body() {
        let dir = tempfile::tempdir().unwrap();
        let area = TusArea::open(dir.path()).unwrap();
        let id = area.create(&meta(10, i64::MAX)).await.unwrap();
        let turn = area.try_turn(id).unwrap();
        assert!(area.try_turn(id).is_none(), "one writer at a time");
        let partial = area.get(id).await.unwrap().unwrap();
        assert_eq!(area.append(&turn, &partial, body(&[b"abc", b"de"])).await.unwrap(), 5);
        let partial = area.get(id).await.unwrap().unwrap();
        assert_eq!(partial.offset, 5);
        let overflow = area.append(&turn, &partial, body(&[b"fgh", b"ijk"])).await;
        assert!(matches!(overflow, Err(AppendError::Overflow)));
        assert_eq!(area.get(id).await.unwrap().unwrap().offset, 5, "nothing of the overflowing append kept");
        let broken =
            futures_util::stream::iter(vec![Ok(Bytes::from_static(b"fg")), Err(std::io::Error::other("gone"))]);
        assert!(matches!(area.append(&turn, &partial, broken).await, Err(AppendError::Body(_))));
        assert_eq!(area.get(id).await.unwrap().unwrap().offset, 7, "bytes before the break are kept");
        drop(turn);
        assert!(area.try_turn(id).is_some(), "the turn is given back on drop");
    }

    #[tokio::test]
    async fn sweep_removes_expired_uploads_and_debris_only() {
        let dir = tempfile::tempdir().unwrap();
        let area = TusArea::open(dir.path()).unwrap();
        let expired = area.create(&meta(4, 1_000)).await.unwrap();
        let live = area.create(&meta(4, i64::MAX)).await.unwrap();
        let debris = Id::generate();
        std::fs::write(dir.path().join(debris.to_hex()), b"x").unwrap();
        assert_eq!(area.sweep(Timestamp(2_000)).await.unwrap(), 2);
        assert!(area.get(expired).await.unwrap().is_none());
        assert!(area.get(live).await.unwrap().is_some());
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, vec![live.to_hex(), format!("{}.json", live.to_hex())]);
    }
}
