//! Streaming uploads: bytes go to a private temp file as they arrive, with the type sniffed from the
//! first bytes and the size limit enforced while streaming. The temp file is deleted on drop,
//! so every outcome (error, disconnect, success after the backend took it) leaves nothing behind.

use std::io::Read;
use std::path::{Path, PathBuf};

use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::human_size;
use super::sniff::{Format, MediaKind, SNIFF_LEN};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{field} exceeds the maximum size of {}", human_size(*limit))]
    TooLarge { field: String, limit: u64 },
    #[error("{}", wrong_type_message(field, *kind))]
    WrongType { field: String, kind: MediaKind },
    #[error("upload i/o error: {0}")]
    Io(#[from] std::io::Error),
}

fn wrong_type_message(field: &str, kind: MediaKind) -> String {
    match kind {
        MediaKind::Image => format!("{field} must be an image (jpeg, png, webp or gif)"),
        MediaKind::Video => format!("{field} must be a video (mp4, webm, quicktime or matroska)"),
    }
}

/// A complete, type-checked upload waiting in the temp dir.
#[derive(Debug)]
pub struct TempUpload {
    pub field: String,
    pub format: Format,
    pub size: u64,
    path: TempPath,
}

impl TempUpload {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file this server made in the temp dir (a transcode, an extracted frame), to be stored like
    /// an upload of `format`.
    pub fn adopt(field: &str, format: Format, path: TempPath) -> std::io::Result<Self> {
        let size = std::fs::metadata(&path)?.len();
        Ok(TempUpload { field: field.to_owned(), format, size, path })
    }

    /// A finished file of `field` already on this filesystem (a completed resumable upload), judged
    /// where it lies as an [`UploadSink`] judges the same bytes streamed: the same errors in the
    /// same order, `None` when it is empty. Synced to disk before it is returned, as a finished
    /// sink's file is. Blocking: call it off the async workers.
    pub fn judge(path: TempPath, field: &str, kind: MediaKind, limit: u64) -> Result<Option<Self>, UploadError> {
        let mut file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        if size == 0 {
            return Ok(None);
        }
        let mut head = Vec::with_capacity(SNIFF_LEN);
        (&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head)?;
        let too_large = || UploadError::TooLarge { field: field.to_owned(), limit };
        // The sink counts the head before it judges it.
        if head.len() as u64 > limit {
            return Err(too_large());
        }
        let format = match Format::sniff(&head) {
            Some(format) if format.kind() == kind => format,
            _ => return Err(UploadError::WrongType { field: field.to_owned(), kind }),
        };
        if size > limit {
            return Err(too_large());
        }
        file.sync_data()?;
        Ok(Some(TempUpload { field: field.to_owned(), format, size, path }))
    }

    /// Moves the file to `dest` (same filesystem), ending its temporary life.
    pub fn persist(self, dest: &Path) -> std::io::Result<()> {
        self.path.persist(dest).map_err(|e| e.error)
    }
}

/// Receives one file part chunk by chunk. The verdict (size, type) depends only on the bytes,
/// never on how they were split into chunks.
pub struct UploadSink {
    field: String,
    kind: MediaKind,
    limit: u64,
    head: Vec<u8>,
    format: Option<Format>,
    size: u64,
    file: tokio::fs::File,
    path: TempPath,
}

impl UploadSink {
    pub fn create(dir: &Path, field: &str, kind: MediaKind, limit: u64) -> std::io::Result<Self> {
        let (file, path) = tempfile::Builder::new().prefix("upload-").tempfile_in(dir)?.into_parts();
        Ok(UploadSink {
            field: field.to_owned(),
            kind,
            limit,
            head: Vec::with_capacity(SNIFF_LEN),
            format: None,
            size: 0,
            file: tokio::fs::File::from_std(file),
            path,
        })
    }

    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        let mut rest = chunk;
        if self.format.is_none() {
            let take = rest.len().min(SNIFF_LEN - self.head.len());
            self.count(take)?;
            self.head.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.head.len() == SNIFF_LEN {
                self.decide().await?;
            }
        }
        if !rest.is_empty() {
            self.count(rest.len())?;
            self.file.write_all(rest).await?;
        }
        Ok(())
    }

    /// Ends the part: `None` when it was empty (an empty file part counts as absent).
    pub async fn finish(mut self) -> Result<Option<TempUpload>, UploadError> {
        if self.size == 0 {
            return Ok(None);
        }
        let format = match self.format {
            Some(format) => format,
            None => self.decide().await?,
        };
        self.file.flush().await?;
        self.file.sync_data().await?;
        Ok(Some(TempUpload { field: self.field, format, size: self.size, path: self.path }))
    }

    fn count(&mut self, bytes: usize) -> Result<(), UploadError> {
        self.size += bytes as u64;
        if self.size > self.limit {
            return Err(UploadError::TooLarge { field: self.field.clone(), limit: self.limit });
        }
        Ok(())
    }

    /// Judges the buffered head, then writes it out; the verdict holds for the rest of the part.
    async fn decide(&mut self) -> Result<Format, UploadError> {
        match Format::sniff(&self.head) {
            Some(format) if format.kind() == self.kind => {
                self.format = Some(format);
                self.file.write_all(&self.head).await?;
                self.head = Vec::new();
                Ok(format)
            }
            _ => Err(UploadError::WrongType { field: self.field.clone(), kind: self.kind }),
        }
    }
}

/// Creates the private temp dir and removes anything a previous run left in it.
pub fn prepare_temp_dir(dir: &Path) -> std::io::Result<PathBuf> {
    if dir.exists() {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::remove_file(&path)?;
                tracing::info!(path = %path.display(), "removed leftover temp upload");
            }
        }
    } else {
        std::fs::create_dir_all(dir)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

    async fn verdict(bytes: &[u8], splits: &[usize], kind: MediaKind, limit: u64) -> Result<Option<u64>, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = UploadSink::create(dir.path(), "avatar", kind, limit).unwrap();
        let mut start = 0;
        for &end in splits.iter().chain(std::iter::once(&bytes.len())) {
            let end = end.clamp(start, bytes.len());
            sink.push(&bytes[start..end]).await.map_err(|e| e.to_string())?;
            start = end;
        }
        let upload = sink.finish().await.map_err(|e| e.to_string())?;
        let size = upload.as_ref().map(|u| u.size);
        if let Some(u) = &upload {
            assert_eq!(std::fs::read(u.path()).unwrap(), bytes);
        }
        drop(upload);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "temp file left behind");
        Ok(size)
    }

    #[tokio::test]
    async fn accepts_a_png_and_keeps_its_bytes() {
        let mut bytes = PNG.to_vec();
        bytes.extend(std::iter::repeat_n(7u8, 200));
        assert_eq!(verdict(&bytes, &[3, 70], MediaKind::Image, 1000).await, Ok(Some(208)));
    }

    #[tokio::test]
    async fn rejects_wrong_type_and_oversize_with_contract_messages() {
        assert_eq!(
            verdict(b"not an image at all", &[], MediaKind::Image, 1000).await,
            Err("avatar must be an image (jpeg, png, webp or gif)".into())
        );
        assert_eq!(
            verdict(PNG, &[], MediaKind::Video, 1000).await,
            Err("avatar must be a video (mp4, webm, quicktime or matroska)".into())
        );
        let big = [PNG, &[0u8; 2048]].concat();
        assert_eq!(
            verdict(&big, &[], MediaKind::Image, 1024).await,
            Err("avatar exceeds the maximum size of 1 KB".into())
        );
    }

    #[tokio::test]
    async fn empty_part_counts_as_absent() {
        assert_eq!(verdict(b"", &[], MediaKind::Image, 10).await, Ok(None));
    }

    fn arbitrary_upload() -> impl proptest::strategy::Strategy<Value = (Vec<u8>, Vec<usize>, u64)> {
        use proptest::prelude::*;
        let body = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|tail| [PNG, &tail].concat()),
        ];
        (body, proptest::collection::vec(0usize..320, 0..8), 1u64..400)
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]
        #[test]
        fn verdict_does_not_depend_on_chunk_boundaries((bytes, mut splits, limit) in arbitrary_upload()) {
            splits.sort_unstable();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let whole = runtime.block_on(verdict(&bytes, &[], MediaKind::Image, limit));
            let split = runtime.block_on(verdict(&bytes, &splits, MediaKind::Image, limit));
            proptest::prop_assert_eq!(whole, split);
        }

        #[test]
        fn a_file_judged_in_place_gets_the_streamed_verdict((bytes, _, limit) in arbitrary_upload()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let streamed = runtime.block_on(verdict(&bytes, &[], MediaKind::Image, limit));
            let dir = tempfile::tempdir().unwrap();
            let file = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
            std::fs::write(file.path(), &bytes).unwrap();
            let judged = TempUpload::judge(file.into_temp_path(), "avatar", MediaKind::Image, limit)
                .map(|upload| upload.map(|u| u.size))
                .map_err(|e| e.to_string());
            proptest::prop_assert_eq!(judged, streamed);
            proptest::prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "file left behind");
        }
    }
}
