//! SQLite through rusqlite, without sqlx's connection threads: the hot reads (the caller's account,
//! a video by id, the watch page, feed, subscription feed and comment pages) and the connection the watch writer's
//! batches run on. sqlx's SQLite driver hands each statement to a connection thread and back, two
//! context switches that cost more than an index lookup itself (decision D17 in docs/decisions.md).
//! A read bounded by an index and a page runs on the request's own thread (tens of microseconds:
//! an async worker is not stalled); one that may scan (a search, a deep page) is sent to the
//! blocking pool with `read_off_thread`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::{StoreError, StoreResult};

/// Deepest page offset read on the request's thread: beyond it the index walk that skips the
/// offset rows is no longer a matter of microseconds.
pub(super) const BOUNDED_OFFSET: u64 = 1_000;
/// Idle connections kept for reuse; a burst opens more, and those beyond this are closed after use.
const KEEP_IDLE: usize = 8;
/// Prepared statements kept per connection (each read here has a fixed text).
const STATEMENT_CACHE: usize = 32;
/// Each connection's page cache, in KiB (SQLite's `cache_size` takes it negated), for every
/// connection of the store. SQLite's default, 2 MiB, is 500 pages: a subscription feed over 500
/// channels touches about as many index pages, so at a million videos each feed read them again
/// from the OS, a system call each (1M videos: 0.96 ms per feed query, 0.44 ms with 8 MiB).
pub(super) const PAGE_CACHE_KIB: i64 = 8 * 1024;

/// Read-only connections to the database file, taken one per read.
pub(super) struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl DirectReads {
    pub(super) fn new(path: &Path) -> Self {
        DirectReads { path: path.to_owned(), idle: Mutex::default() }
    }

    /// Runs `read` on an idle connection (opening one when none is idle).
    pub(super) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let taken = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let connection = match taken {
            Some(connection) => connection,
            None => self.open().map_err(StoreError::backend)?,
        };
        let outcome = read(&connection).map_err(StoreError::backend);
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < KEEP_IDLE {
            idle.push(connection);
        }
        outcome
    }

    /// A page read: on the calling thread when `bounded`, else on the blocking pool (it may scan).
    pub(super) async fn read_page<T: Send + 'static>(
        self: &Arc<Self>,
        bounded: bool,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        if bounded {
            return self.read(read);
        }
        let reads = self.clone();
        tokio::task::spawn_blocking(move || reads.read(read)).await.map_err(StoreError::backend)?
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }
}

/// A read-write connection set up as the sqlx pools' are (foreign keys, `synchronous = NORMAL`
/// under WAL, the same busy timeout and page cache, checkpoints left to the checkpointer), for the watch writer's
/// batches and the checkpointer.
pub(super) fn open_for_writes(path: &Path) -> rusqlite::Result<Connection> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}
