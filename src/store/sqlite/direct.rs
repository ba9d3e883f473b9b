//! SQLite through rusqlite, without sqlx's connection threads: point reads on the request's own
//! thread (the caller's account, the video with its facts — what every watch page and every
//! authenticated request reads), and the connection the watch writer's batches run on. sqlx's
//! SQLite driver hands each statement to a connection thread and back, two context switches that
//! cost more than an index lookup itself (decision D17 in docs/decisions.md). Only single-row,
//! index-backed reads belong here: they take microseconds, so an async worker thread is not stalled.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::{StoreError, StoreResult};

/// Idle connections kept for reuse; a burst opens more, and those beyond this are closed after use.
const KEEP_IDLE: usize = 8;
/// Prepared statements kept per connection (each read here has a fixed text).
const STATEMENT_CACHE: usize = 32;

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

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }
}

/// A read-write connection set up as the sqlx pools' are (foreign keys, `synchronous = NORMAL`
/// under WAL, the same busy timeout), for the watch writer's batches.
pub(super) fn open_for_writes(path: &Path) -> rusqlite::Result<Connection> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}
