//! The file system `/media` is served from: tower-http's `ServeDir` keeps the HTTP rules (ranges,
//! preconditions, HEAD, content types); this backend opens a file and reads its metadata in one
//! blocking call and keeps the next read of the file in flight while the last one is being sent.

use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use tokio::task::JoinHandle;
use tower_http::services::fs::{Backend, File};

/// The `ServeDir` backend for local media (decision D18).
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadAheadFiles;

type IoFuture<T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send>>;

impl Backend for ReadAheadFiles {
    type File = ReadAheadFile;
    type Metadata = std::fs::Metadata;
    type OpenFuture = IoFuture<ReadAheadFile>;
    type MetadataFuture = IoFuture<std::fs::Metadata>;

    fn open(&self, path: PathBuf) -> Self::OpenFuture {
        Box::pin(async move {
            let (file, metadata) = blocking(move || {
                let file = std::fs::File::open(path)?;
                let metadata = file.metadata()?;
                Ok((file, metadata))
            })
            .await?;
            Ok(ReadAheadFile {
                metadata,
                handle: Handle::Here(file),
                position: 0,
                seek_to: None,
                read_size: 0,
                ready: Bytes::new(),
            })
        })
    }

    fn metadata(&self, path: PathBuf) -> Self::MetadataFuture {
        Box::pin(blocking(move || std::fs::metadata(path)))
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(io::Error::other)?
}

/// The read in flight owns the file's handle and gives it back, with the bytes read or the error.
type ReadInFlight = JoinHandle<(std::fs::File, io::Result<Bytes>)>;

enum Handle {
    Here(std::fs::File),
    Reading(ReadInFlight),
    /// The blocking task of a read panicked and took the handle with it.
    Lost,
}

/// An open file that reads ahead: once the caller has taken all of a read's bytes, the next read
/// of the same size is already running on the blocking pool.
pub struct ReadAheadFile {
    /// Read when the file was opened; `ServeDir` asks for it right after.
    metadata: std::fs::Metadata,
    handle: Handle,
    /// The offset of the caller's next byte (the first byte of `ready`).
    position: u64,
    /// A seek not applied to the handle yet; while a read is in flight, it also marks that read's
    /// outcome as stale (it read from before the seek).
    seek_to: Option<u64>,
    /// The size of the read kept in flight: the caller's buffer when a read last had to start
    /// from scratch (the first read, or the first after a seek).
    read_size: usize,
    /// Bytes read and not yet handed to the caller.
    ready: Bytes,
}

impl ReadAheadFile {
    /// Starts reading `size` bytes of `file` after the pending seek, or where its last read ended.
    fn start_read(&mut self, mut file: std::fs::File, size: usize) {
        let seek = self.seek_to.take();
        self.handle = Handle::Reading(tokio::task::spawn_blocking(move || {
            let read = (|| {
                if let Some(at) = seek {
                    file.seek(SeekFrom::Start(at))?;
                }
                let mut bytes = Vec::with_capacity(size);
                (&mut file).take(size as u64).read_to_end(&mut bytes)?;
                Ok(Bytes::from(bytes))
            })();
            (file, read)
        }));
    }

    /// Whether the file, as it was when opened, has bytes beyond those already read.
    fn more_to_read(&self) -> bool {
        self.position + (self.ready.len() as u64) < self.metadata.len()
    }
}

impl AsyncRead for ReadAheadFile {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready[..n]);
                this.ready.advance(n);
                this.position += n as u64;
                // Read ahead only once this piece is all taken: a range that ends inside it (the
                // caller reads through `Take`) then makes no read it will not use.
                if this.ready.is_empty() && this.more_to_read() {
                    let handle = std::mem::replace(&mut this.handle, Handle::Lost);
                    match handle {
                        Handle::Here(file) => this.start_read(file, this.read_size),
                        other => this.handle = other,
                    }
                }
                return Poll::Ready(Ok(()));
            }
            match std::mem::replace(&mut this.handle, Handle::Lost) {
                Handle::Here(file) => {
                    this.read_size = buf.remaining();
                    this.start_read(file, this.read_size);
                }
                Handle::Reading(mut read) => {
                    let (file, bytes) = match Pin::new(&mut read).poll(cx) {
                        Poll::Pending => {
                            this.handle = Handle::Reading(read);
                            return Poll::Pending;
                        }
                        Poll::Ready(Ok(done)) => done,
                        Poll::Ready(Err(panicked)) => return Poll::Ready(Err(io::Error::other(panicked))),
                    };
                    this.handle = Handle::Here(file);
                    // A read from before a seek: its bytes (or its error) are not the caller's.
                    if this.seek_to.is_some() {
                        continue;
                    }
                    this.ready = bytes?;
                    if this.ready.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                }
                Handle::Lost => return Poll::Ready(Err(io::Error::other("an earlier read of this file panicked"))),
            }
        }
    }
}

impl AsyncSeek for ReadAheadFile {
    fn start_seek(mut self: Pin<&mut Self>, to: SeekFrom) -> io::Result<()> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::Current(by) => self.position.checked_add_signed(by),
            SeekFrom::End(by) => self.metadata.len().checked_add_signed(by),
        };
        // The handle's own seek takes offsets up to `i64::MAX`: refused here rather than on a read.
        let target = target
            .filter(|at| i64::try_from(*at).is_ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek outside the file's offsets"))?;
        self.ready.clear();
        self.position = target;
        self.seek_to = Some(target);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.position))
    }
}

impl File for ReadAheadFile {
    type Metadata = std::fs::Metadata;
    type MetadataFuture<'a> = std::future::Ready<io::Result<std::fs::Metadata>>;

    fn metadata(&self) -> Self::MetadataFuture<'_> {
        std::future::ready(Ok(self.metadata.clone()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    use super::*;

    /// A file of `len` bytes made of little-endian word counters, so a misplaced piece shows.
    fn numbered_file(len: usize) -> (tempfile::TempDir, PathBuf, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("numbered.bin");
        let bytes: Vec<u8> = (0..len as u32).flat_map(u32::to_le_bytes).take(len).collect();
        std::fs::write(&path, &bytes).unwrap();
        (dir, path, bytes)
    }

    async fn read_all_in_pieces(file: &mut (impl AsyncRead + Unpin), piece: usize) -> Vec<u8> {
        let mut read = Vec::new();
        let mut buf = vec![0u8; piece];
        loop {
            let n = file.read(&mut buf).await.unwrap();
            if n == 0 {
                return read;
            }
            read.extend_from_slice(&buf[..n]);
        }
    }

    #[tokio::test]
    async fn reads_the_whole_file_in_any_piece_size() {
        let (_dir, path, bytes) = numbered_file(3 * 1024 * 1024 + 17);
        for piece in [4093, 1 << 20, 8 << 20] {
            let mut file = ReadAheadFiles.open(path.clone()).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), bytes.len() as u64);
            assert!(read_all_in_pieces(&mut file, piece).await == bytes, "piece {piece}: bytes differ");
            assert_eq!(file.read(&mut [0u8; 16]).await.unwrap(), 0, "a read after the end");
        }
        // A small read after a large one takes part of what the large one's read-ahead brought.
        let mut file = ReadAheadFiles.open(path).await.unwrap();
        let mut buf = vec![0u8; 1 << 20];
        file.read_exact(&mut buf).await.unwrap();
        let mut rest = read_all_in_pieces(&mut file, 100).await;
        buf.append(&mut rest);
        assert!(buf == bytes, "large then small reads: bytes differ");
    }

    #[tokio::test]
    async fn a_range_is_a_seek_and_a_limited_read() {
        let (_dir, path, bytes) = numbered_file(2 * 1024 * 1024 + 5);
        let mut file = ReadAheadFiles.open(path).await.unwrap();
        file.seek(SeekFrom::Start(1_000_003)).await.unwrap();
        let range = read_all_in_pieces(&mut (&mut file).take(1_048_576), 65536).await;
        assert!(range == bytes[1_000_003..1_000_003 + 1_048_576], "the range's bytes");
    }

    #[tokio::test]
    async fn a_seek_while_reading_ahead_discards_what_was_read_ahead() {
        let (_dir, path, bytes) = numbered_file(1024 * 1024);
        let mut file = ReadAheadFiles.open(path).await.unwrap();
        let mut buf = vec![0u8; 4096];
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(file.seek(SeekFrom::Current(-96)).await.unwrap(), 4000);
        file.read_exact(&mut buf[..100]).await.unwrap();
        assert!(buf[..100] == bytes[4000..4100], "bytes after a seek back");
        assert_eq!(file.seek(SeekFrom::End(-10)).await.unwrap(), bytes.len() as u64 - 10);
        assert!(read_all_in_pieces(&mut file, 4096).await == bytes[bytes.len() - 10..], "the last bytes");
        let before_start = file.seek(SeekFrom::Current(-(bytes.len() as i64) - 1)).await.unwrap_err();
        assert_eq!(before_start.kind(), io::ErrorKind::InvalidInput);
        let beyond_offsets = file.seek(SeekFrom::Start(u64::MAX)).await.unwrap_err();
        assert_eq!(beyond_offsets.kind(), io::ErrorKind::InvalidInput);
        assert!(read_all_in_pieces(&mut file, 4096).await.is_empty(), "still at the end after refused seeks");
    }

    #[tokio::test]
    async fn an_empty_file_reads_as_nothing_every_time() {
        let (_dir, path, _) = numbered_file(0);
        let mut file = ReadAheadFiles.open(path).await.unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..3 {
            assert_eq!(file.read(&mut buf).await.unwrap(), 0);
        }
    }

    #[tokio::test]
    async fn a_failed_read_is_reported_and_the_file_stays_usable() {
        // Reading a directory fails (EISDIR) after opening it succeeded.
        let dir = tempfile::tempdir().unwrap();
        let mut file = ReadAheadFiles.open(dir.path().to_owned()).await.unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..2 {
            let failed = file.read(&mut buf).await.unwrap_err();
            assert_ne!(failed.to_string(), "an earlier read of this file panicked", "{failed}");
        }
    }
}
