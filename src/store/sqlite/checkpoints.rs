//! WAL checkpoints on a thread of their own, so that no write transaction pays for one.
//!
//! By default SQLite checkpoints inside the COMMIT that takes the WAL past 1000 pages: that
//! commit copies the pages into the database file and waits for two fsyncs while the next
//! writers queue behind it. On the watch page (a write per request) those stalls cost a fifth of
//! the throughput and doubled the p99 (BENCHMARKS.md, decision D17). Every connection of the store
//! is opened with `wal_autocheckpoint = 0`, and this thread runs a PASSIVE checkpoint on a short
//! period instead: PASSIVE neither waits for nor blocks readers and writers, and the WAL restarts
//! from its beginning once a checkpoint has caught up, as it does with automatic checkpoints.
//!
//! The thread has a read-write connection of its own (a checkpoint needs one), outside the write
//! path of `access.rs`: a checkpoint writes no rows, and waiting for the write turn would put it
//! back in the writers' queue.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is copied into the database file: short enough that the WAL stays small
/// (about what one automatic checkpoint would have let it grow to under a heavy write load).
const PERIOD: Duration = Duration::from_millis(100);

/// Keeps the checkpoint thread running; the thread stops (after a last checkpoint) when this is
/// dropped.
pub(super) struct Checkpointer {
    _running: mpsc::Sender<()>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> std::io::Result<Self> {
        let connection = super::access::open_read_write(path).map_err(std::io::Error::other)?;
        let (running, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("wal-checkpoints".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
                checkpoint(&connection);
            }
            checkpoint(&connection);
        })?;
        Ok(Checkpointer { _running: running })
    }
}

fn checkpoint(connection: &Connection) {
    // A failed checkpoint loses nothing (the pages stay in the WAL for the next one), so it is
    // logged rather than reported to a request.
    if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "WAL checkpoint failed");
    }
}
