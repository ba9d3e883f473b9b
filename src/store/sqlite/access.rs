//! The two ways to the database, and the only two (decisions D17 and D19 in docs/decisions.md):
//!
//! - **Reads** ([`Reads`]): read-only connections, one taken per read from an idle list. A read
//!   bounded by an index and a page runs on the caller's thread (tens of microseconds: an async
//!   worker is not stalled, and no thread hand-off is paid); one that may scan (a search, a deep
//!   page, a whole list, hundreds of index seeks) runs on the blocking pool ([`Reads::read_page`],
//!   [`Reads::read_off_thread`]), at most two per core at once, the others waiting their turn in
//!   arrival order. The idle list keeps a connection for each of those and for each runtime worker,
//!   so a steady load opens none, and is reused last-in first-out, so the connection used last,
//!   whose page cache is warm, is the one taken next.
//! - **Writes** ([`Writes`]): one read-write connection, which every write takes in turn behind a
//!   fair (first come, first served) lock: write transactions (`BEGIN IMMEDIATE`), single
//!   statements, and the watch writer's batches (`watches.rs`, which takes the same lock from its
//!   thread). SQLite admits one writer at a time anyway; waiting in our own queue, in arrival
//!   order, replaces polling SQLite's lock through its busy handler (which sleeps in growing steps,
//!   and made the watch page's p99 spike under concurrent writes). A write runs on the blocking
//!   pool: a commit may wait for the disk.
//!
//! Every connection: foreign keys on, the same busy timeout (for other processes on the file, such
//! as `videotube migrate`), no automatic checkpoints (`checkpoints.rs`), an 8 MiB page cache and a
//! prepared-statement cache. The read-write connection also puts the file in WAL mode with
//! `synchronous = NORMAL`, and the write path keeps its temporary files (statement journals) in
//! memory.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use tokio::sync::{OwnedMutexGuard, Semaphore};

use super::map_err;
use crate::store::{StoreError, StoreResult};

/// Deepest page offset read on the request's thread: beyond it the index walk that skips the
/// offset rows is no longer a matter of microseconds.
pub(super) const BOUNDED_OFFSET: u64 = 1_000;
/// Idle read connections kept for reuse, at the least; a burst opens more, and those beyond the
/// number kept are closed after use.
const KEEP_IDLE: usize = 8;
/// Reads run on the blocking pool at once, per core; the others wait their turn in arrival order.
/// Unbounded, 64 concurrent searches on 2 cores ran as many threads and connections at once, those
/// beyond the idle ones opened and closed per read; bounded, the same throughput within noise and a
/// shorter tail (BENCHMARKS.md, search).
const SCANS_PER_CORE: usize = 2;
/// Prepared statements kept per connection. Each statement has a fixed text; the feed alone has a
/// few dozen shapes (sort, direction, owner, search), and the writer runs every write statement.
const STATEMENT_CACHE: usize = 128;
/// Each connection's page cache, in KiB (SQLite's `cache_size` takes it negated), for every
/// connection of the store. SQLite's default, 2 MiB, is 500 pages: a subscription feed over 500
/// channels touches about as many index pages, so at a million videos each feed read them again
/// from the OS, a system call each (1M videos: 0.96 ms per feed query, 0.44 ms with 8 MiB).
pub(super) const PAGE_CACHE_KIB: i64 = 8 * 1024;
/// How long a statement waits for a lock another process holds before it fails.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The read path: read-only connections to the database file, taken one per read.
pub(super) struct Reads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Idle connections kept: enough for every scan and every runtime worker's bounded read at
    /// once, so a steady load opens none.
    keep_idle: usize,
    /// Turns to run on the blocking pool, `SCANS_PER_CORE` per core.
    scans: Arc<Semaphore>,
}

impl Reads {
    pub(super) fn new(path: &Path) -> Self {
        // Tokio's runtime runs a worker per core, each of which may hold a connection for a bounded read.
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let scans = SCANS_PER_CORE * cores;
        Reads {
            path: path.to_owned(),
            idle: Mutex::default(),
            keep_idle: KEEP_IDLE.max(scans + cores),
            scans: Arc::new(Semaphore::new(scans)),
        }
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `read` on the caller's thread, on an idle connection (opening one when none is idle):
    /// for reads bounded by an index and a page.
    pub(super) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let taken = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let connection = match taken {
            Some(connection) => connection,
            None => open_read_only(&self.path).map_err(map_err)?,
        };
        let outcome = read(&connection).map_err(map_err);
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < self.keep_idle {
            idle.push(connection);
        }
        outcome
    }

    /// Runs `read` on the blocking pool, when one of the `scans` turns is free: for reads that may
    /// scan. The turn is held until `read` ends, even if the caller stops waiting.
    pub(super) async fn read_off_thread<T: Send + 'static>(
        self: &Arc<Self>,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        let turn = self.scans.clone().acquire_owned().await.map_err(StoreError::backend)?;
        let reads = self.clone();
        let read = move || {
            let outcome = reads.read(read);
            drop(turn);
            outcome
        };
        tokio::task::spawn_blocking(read).await.map_err(StoreError::backend)?
    }

    /// A page read: on the calling thread when `bounded`, else on the blocking pool (it may scan).
    pub(super) async fn read_page<T: Send + 'static>(
        self: &Arc<Self>,
        bounded: bool,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        if bounded { self.read(read) } else { self.read_off_thread(read).await }
    }
}

/// The write path: the one read-write connection, taken in turn.
#[derive(Clone)]
pub(super) struct Writes {
    /// Tokio's mutex queues its waiters in arrival order; the watch writer's thread takes it with
    /// `blocking_turn`.
    connection: Arc<tokio::sync::Mutex<Connection>>,
    /// Set when a write failed because the file could not be written (`Unavailable`: a full disk,
    /// a read-only file), cleared by the next write that succeeds; the healthcheck reads it.
    failing: Arc<AtomicBool>,
}

impl Writes {
    pub(super) fn new(connection: Connection) -> Self {
        Writes { connection: Arc::new(tokio::sync::Mutex::new(connection)), failing: Arc::default() }
    }

    /// Runs `write` on the connection when its turn comes, on the blocking pool. A unique key
    /// that refuses the write is a `Conflict`; a file that cannot be written now, `Unavailable`.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        let mut turn = self.connection.clone().lock_owned().await;
        let write = move || {
            reload_changed_schema(&turn)?;
            write(&mut turn)
        };
        let outcome = tokio::task::spawn_blocking(write).await.map_err(StoreError::backend)?.map_err(map_err);
        self.note(outcome.as_ref().err());
        outcome
    }

    /// Records how a write ended, for `failing`.
    pub(super) fn note(&self, failure: Option<&StoreError>) {
        match failure {
            None => self.failing.store(false, Ordering::Relaxed),
            Some(e) if e.is_unavailable() => self.failing.store(true, Ordering::Relaxed),
            Some(_) => {}
        }
    }

    /// Whether the last write that ended failed because the file could not be written.
    pub(super) fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Runs `write` in a transaction that takes SQLite's write lock up front (`BEGIN IMMEDIATE`),
    /// so a read-then-write sequence (toggles, rotations) cannot be interleaved with another
    /// process's writes. An error rolls the transaction back.
    pub(super) async fn transaction<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Transaction) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.write(|db| {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Under the write lock the schema stays as it is now: read it again if it changed
            // since the check `write` made before the lock was taken.
            reload_changed_schema(&tx)?;
            let outcome = write(&tx)?;
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    /// The connection's turn, waited for on a thread outside the runtime (the watch writer's). No
    /// schema check is made: the watch writer's statements reach no FTS5 table (see
    /// `reload_changed_schema`).
    pub(super) fn blocking_turn(&self) -> OwnedMutexGuard<Connection> {
        self.connection.clone().blocking_lock_owned()
    }
}

/// The read-write connection to `path` (created when missing), in WAL mode: the write path's, and
/// the checkpointer's.
pub(super) fn open_read_write(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // Switching to WAL takes a lock the busy timeout does not wait for: only done when needed.
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    set_up(&connection)?;
    Ok(connection)
}

/// Keeps the write path's temporary files in memory, once the schema is migrated (an in-memory
/// temp store also keeps a `CREATE INDEX`'s sort in memory, which a migration over a large table
/// must not do).
///
/// A statement that fires triggers inside a transaction keeps a statement journal (to undo just
/// that statement if a trigger fails); in a temp file that is a write per statement. In memory, a
/// fan-out's insert with its counting and settling triggers took 23 µs instead of 49 (a no-op
/// trigger: 17 instead of 26; none: 9-11). The writer's journals are as small as its statements.
pub(super) fn keep_journals_in_memory(connection: &Connection) -> rusqlite::Result<()> {
    connection.pragma_update(None, "temp_store", "MEMORY")
}

/// A read-only connection to `path`: the read path's, and `videotube backup`'s and `restore`'s
/// (`snapshot.rs`), which only read.
pub(super) fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    set_up(&connection)?;
    Ok(connection)
}

/// Reads the schema again when another process changed it (an `ANALYZE` or `CREATE TABLE` from a
/// shell, `PRAGMA optimize`) since this connection last ran a statement.
///
/// SQLite checks the schema when a statement runs, not when it is prepared. A write prepared on an
/// out-of-date schema whose triggers are the first to reach an FTS5 table (`video_search`,
/// `user_search`) makes FTS5 run a statement of its own while the triggers are being compiled;
/// that one reloads the schema, and the write's prepare fails with "no such table: videos"
/// (SQLite 3.51; the test in `mod.rs` shows it). A statement run first reloads the schema before
/// anything is compiled against it, for about a point read's cost (3 µs). Reads are not
/// affected: a search prepared on an old schema runs (same test).
fn reload_changed_schema(connection: &Connection) -> rusqlite::Result<()> {
    connection.prepare_cached("SELECT 1 FROM sqlite_schema LIMIT 0")?.query([])?.next()?;
    Ok(())
}

/// What every connection shares.
fn set_up(connection: &Connection) -> rusqlite::Result<()> {
    connection.pragma_update(None, "foreign_keys", true)?;
    // The checkpointer's thread copies the WAL into the database instead of a commit.
    connection.pragma_update(None, "wal_autocheckpoint", 0)?;
    connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}
