//! The embedded SQLite store: one file in DATA_DIR, WAL, foreign keys, migrations embedded in the
//! binary, one client library (rusqlite, decision D19). Reads and writes each have one way to the
//! file (`access.rs`); each area's store code has its own module.

mod access;
mod blocks;
mod checkpoints;
mod comments;
mod dashboard;
mod history;
mod likes;
mod migrations;
mod moderation;
mod notifications;
mod playlists;
mod processing;
#[cfg(test)]
mod records;
mod reports;
mod rows;
mod search;
mod sessions;
mod snapshot;
mod sql;
mod subscriptions;
mod transfer;
mod tweets;
mod users;
mod videos;
mod watches;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::ErrorCode;
use rusqlite::ffi;

use self::access::{Reads, Writes};
use self::checkpoints::Checkpointer;
use self::watches::WatchWriter;
use super::ephemeral::{Budget, EphemeralState, MemoryState, Spend};
use super::{MediaIndex, StoreError, StoreHealth, StoreResult};
use crate::domain::{Id, Timestamp};

pub use self::snapshot::{snapshot_into, verify_copy};
pub use self::sql::{levels_sql, visible_sql};

/// The SQLite implementation of every repository trait.
#[derive(Clone)]
pub struct SqliteStore {
    /// The read path: read-only connections, on the caller's thread or the blocking pool.
    reads: Arc<Reads>,
    /// The write path: the one read-write connection, every write in its turn.
    writes: Writes,
    /// One process serves a SQLite file, so its short-lived shared state can live in memory.
    ephemeral: Arc<MemoryState>,
    /// The watch page's writes, grouped across concurrent requests (on the write path).
    watches: WatchWriter,
    /// Keeps the WAL checkpoint thread running while any clone of the store lives.
    _checkpoints: Arc<Checkpointer>,
    /// Settles the notifications' queued refreshes while any clone of the store lives, until `close`.
    settler: Arc<notifications::ShownSettler>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let file = path.to_owned();
        let connection = tokio::task::spawn_blocking(move || {
            let mut connection = access::open_read_write(&file).map_err(StoreError::backend)?;
            migrations::run(&mut connection, &migrations::embedded())
                .map_err(|e| StoreError::context("migration failed", e))?;
            notifications::keep_shown_in_step(&mut connection)
                .map_err(|e| StoreError::context("could not make the notifications' triggers", e))?;
            access::keep_journals_in_memory(&connection).map_err(StoreError::backend)?;
            Ok::<_, StoreError>(connection)
        })
        .await
        .map_err(StoreError::backend)??;
        let writes = Writes::new(connection);
        let watches = WatchWriter::start(writes.clone())?;
        let checkpoints =
            Checkpointer::start(path).map_err(|e| StoreError::context("could not start WAL checkpoints", e))?;
        let reads = Arc::new(Reads::new(path));
        let settler = notifications::ShownSettler::start(reads.clone(), writes.clone());
        Ok(SqliteStore {
            reads,
            settler: Arc::new(settler),
            writes,
            ephemeral: Arc::default(),
            watches,
            _checkpoints: Arc::new(checkpoints),
        })
    }
}

/// Whether a stored media key is referenced: by an account's images or a video's files. The same
/// columns as [`snapshot::REFERENCED_KEYS`] (what a backup copies).
const KEY_REFERENCED: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE avatar_key = ?1) \
     OR EXISTS (SELECT 1 FROM users WHERE cover_image_key = ?1) \
     OR EXISTS (SELECT 1 FROM videos WHERE video_key = ?1) \
     OR EXISTS (SELECT 1 FROM videos WHERE thumbnail_key = ?1) \
     OR EXISTS (SELECT 1 FROM videos WHERE hls_key = ?1)";

#[async_trait]
impl MediaIndex for SqliteStore {
    async fn unreferenced(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let keys = keys.to_vec();
        self.reads
            .read_off_thread(move |db| {
                let mut referenced = db.prepare_cached(KEY_REFERENCED)?;
                let mut orphans = Vec::new();
                for key in keys {
                    if !referenced.query_row([&key], |row| row.get::<_, bool>(0))? {
                        orphans.push(key);
                    }
                }
                Ok(orphans)
            })
            .await
    }
}

#[async_trait]
impl EphemeralState for SqliteStore {
    async fn count_view(&self, viewer: &str, video: Id, window: Duration) -> StoreResult<bool> {
        self.ephemeral.count_view(viewer, video, window).await
    }

    async fn spend(&self, key: &str, budget: Budget) -> StoreResult<Spend> {
        self.ephemeral.spend(key, budget).await
    }
}

#[async_trait]
impl StoreHealth for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// `SELECT 1`; and while writes are failing (a full disk, a read-only file), at least
    /// `RECOVERED_FREE_BYTES` free beside the file and a write of the header's `user_version` as it
    /// is, which succeeds again once the file can be written.
    async fn ping(&self) -> bool {
        if self.reads.read(|db| db.query_row("SELECT 1", [], |_| Ok(()))).is_err() {
            return false;
        }
        if !self.writes.failing() {
            return true;
        }
        // A small write may fit in the space a failed larger one left in the WAL: it proves little
        // while the disk is still full.
        if free_bytes(self.reads.path()).is_some_and(|free| free < RECOVERED_FREE_BYTES) {
            return false;
        }
        let probe = |db: &mut rusqlite::Connection| {
            let version: i64 = db.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            db.pragma_update(None, "user_version", version)
        };
        self.writes.write(probe).await.is_ok()
    }

    /// Stops settling queued notification refreshes, applies every queued watch, then copies the
    /// whole WAL into the database file and empties it, so that the file alone holds every write
    /// (a copy of it is complete).
    ///
    /// A checkpoint that meets another one (the checkpoint thread's, see `checkpoints.rs`) answers
    /// "busy" at once; one that waits for a reader on an older snapshot (a backup's `VACUUM INTO`)
    /// waits at most `FINAL_CHECKPOINT_WAIT` per try. Tries go on until `FINAL_CHECKPOINT_DEADLINE`:
    /// the WAL then keeps the writes, which the next start reads, and the process still stops.
    async fn close(&self) {
        self.settler.stop();
        self.watches.flush().await;
        // The first column of the pragma's row is 1 when the checkpoint could not finish.
        let checkpoint = |db: &mut rusqlite::Connection| {
            db.busy_timeout(FINAL_CHECKPOINT_WAIT)?;
            let busy = db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0));
            db.busy_timeout(access::BUSY_TIMEOUT)?;
            busy
        };
        let deadline = tokio::time::Instant::now() + FINAL_CHECKPOINT_DEADLINE;
        while tokio::time::Instant::now() < deadline {
            match self.writes.write(checkpoint).await {
                Ok(0) => return,
                Ok(_) => tokio::time::sleep(FINAL_CHECKPOINT_PAUSE).await,
                Err(error) => {
                    let error = crate::error::Chain(&error);
                    tracing::warn!(error = %error, "the final WAL checkpoint failed; the WAL keeps the writes");
                    return;
                }
            }
        }
        tracing::warn!("the final WAL checkpoint stayed busy; the WAL keeps the writes");
    }
}

/// How long `close` keeps trying the final checkpoint while it answers "busy", how long one try
/// waits for readers, and the pause between tries.
const FINAL_CHECKPOINT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);
const FINAL_CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_millis(200);
const FINAL_CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Free space beside the database file below which writes that failed for lack of space are not
/// taken to work again (see `ping`).
const RECOVERED_FREE_BYTES: u64 = 1 << 20;

/// Bytes an unprivileged writer may still use on the filesystem holding `file`.
#[cfg(unix)]
fn free_bytes(file: &Path) -> Option<u64> {
    let dir = file.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_file: &Path) -> Option<u64> {
    None
}

/// The extended result code of a failed statement.
fn extended_code(e: &rusqlite::Error) -> Option<std::ffi::c_int> {
    match e {
        rusqlite::Error::SqliteFailure(failure, _) if failure.code == ErrorCode::ConstraintViolation => {
            Some(failure.extended_code)
        }
        _ => None,
    }
}

/// A unique key (or primary key) refused the write.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(extended_code(e), Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// A foreign key refused the write.
fn is_foreign_key_violation(e: &rusqlite::Error) -> bool {
    extended_code(e) == Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// The file cannot be written (or opened) now, though it may be later: a full disk, a read-only
/// file or directory, an I/O failure, or a lock another process held past the busy timeout.
fn is_unavailable(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            ErrorCode::DiskFull
                | ErrorCode::ReadOnly
                | ErrorCode::SystemIoFailure
                | ErrorCode::CannotOpen
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
        )
    )
}

/// Maps unique-constraint failures to `Conflict` naming the column, a file that cannot be written
/// now to `Unavailable`, everything else to `Backend`.
fn map_err(e: rusqlite::Error) -> StoreError {
    if is_unavailable(&e) {
        return StoreError::Unavailable(Box::new(e));
    }
    if is_unique_violation(&e) {
        let message = match &e {
            rusqlite::Error::SqliteFailure(_, Some(message)) => message.as_str(),
            _ => "",
        };
        let field = ["username", "email", "subscriber_id", "liked_by"]
            .into_iter()
            .find(|f| message.contains(f))
            .unwrap_or("unique");
        return StoreError::Conflict { field };
    }
    StoreError::backend(e)
}

/// Deletes the pair `(a, b)` of a toggle table with `delete` (binds: a, b), or inserts it with
/// `insert` when it was absent (binds: a, b, a new id, now); whether it is there now. Runs in the
/// caller's write transaction, so the read and the write are one step.
fn toggle_pair(tx: &rusqlite::Transaction, delete: &str, insert: &str, a: Id, b: Id) -> rusqlite::Result<bool> {
    let (a, b) = (a.to_hex(), b.to_hex());
    let removed = tx.prepare_cached(delete)?.execute((&a, &b))?;
    if removed == 0 {
        tx.prepare_cached(insert)?.execute((&a, &b, Id::generate().to_hex(), now()))?;
    }
    Ok(removed == 0)
}

fn parse_id(raw: &str) -> StoreResult<Id> {
    Id::parse(raw).ok_or_else(|| StoreError::backend(format!("corrupt id in database: {raw:?}")))
}

fn now() -> i64 {
    Timestamp::now().millis()
}

/// The `EXPLAIN QUERY PLAN` details of `sql` with `binds`, for the tests that pin index use.
#[cfg(test)]
fn query_plan(store: &SqliteStore, sql: &str, binds: &[&str]) -> Vec<String> {
    let sql = format!("EXPLAIN QUERY PLAN {sql}");
    let binds: Vec<String> = binds.iter().map(|b| b.to_string()).collect();
    store
        .reads
        .read(|db| {
            let mut plan = db.prepare(&sql)?;
            let details = plan.query_map(rusqlite::params_from_iter(binds), |row| row.get::<_, String>("detail"))?;
            details.collect()
        })
        .unwrap()
}

/// The names of the columns `sql` yields, for the tests that pin the positions rows are read by.
#[cfg(test)]
fn column_names(store: &SqliteStore, sql: &str) -> Vec<String> {
    store.reads.read(|db| Ok(db.prepare(sql)?.column_names().into_iter().map(str::to_owned).collect())).unwrap()
}

/// A store in a fresh temporary directory (kept while the directory lives).
#[cfg(test)]
async fn test_store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("test.db")).await.unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::visibility::Visibility;
    use crate::store::VideoRepo;

    #[tokio::test]
    async fn every_connection_keeps_the_larger_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let pragma = "PRAGMA cache_size";
        let read: i64 = store.reads.read(|db| db.query_row(pragma, [], |row| row.get(0))).unwrap();
        let write: i64 = store.writes.write(|db| db.query_row(pragma, [], |row| row.get(0))).await.unwrap();
        // The checkpointer's connection is opened as the write path's is.
        let checkpoints: i64 = access::open_read_write(&dir.path().join("test.db"))
            .unwrap()
            .query_row(pragma, [], |row| row.get(0))
            .unwrap();
        assert_eq!([read, write, checkpoints], [-access::PAGE_CACHE_KIB; 3]);
    }

    #[tokio::test]
    async fn the_write_path_keeps_wal_normal_sync_foreign_keys_memory_journals_and_no_automatic_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let settings = |db: &rusqlite::Connection| -> rusqlite::Result<(String, i64, bool, i64)> {
            Ok((
                db.query_row("PRAGMA journal_mode", [], |row| row.get(0))?,
                db.query_row("PRAGMA synchronous", [], |row| row.get(0))?,
                db.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?,
                db.query_row("PRAGMA wal_autocheckpoint", [], |row| row.get(0))?,
            ))
        };
        let written = store.writes.write(move |db| settings(db)).await.unwrap();
        assert_eq!(written, ("wal".to_owned(), 1, true, 0), "NORMAL is 1");
        let temp_store: i64 =
            store.writes.write(|db| db.query_row("PRAGMA temp_store", [], |row| row.get(0))).await.unwrap();
        assert_eq!(temp_store, 2, "MEMORY is 2");
        let (mode, _, foreign_keys, _) = store.reads.read(settings).unwrap();
        assert_eq!((mode.as_str(), foreign_keys), ("wal", true));
    }

    /// Another process changes the schema (here `ANALYZE`, as an operator's shell might) while the
    /// store's connections hold the old one; the next statements that reach an FTS5 table, a
    /// write firing the search triggers and a search, still run.
    #[tokio::test]
    async fn statements_reaching_the_search_index_run_after_another_process_changed_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let (user, video) = (Id::generate(), Id::generate());
        let other = access::open_read_write(&dir.path().join("test.db")).unwrap();
        other
            .execute(
                "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, \
                 updated_at) VALUES (?1, 'asha', 'asha@example.com', 'Asha', 'a', 'a', 'x', 0, 0)",
                [user.to_hex()],
            )
            .unwrap();
        other
            .execute(
                "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
                 description, created_at, updated_at, visibility) \
                 VALUES (?1, ?2, 'v', 'v', 't', 't', 'Tide pools', 'd', 0, 0, 'private')",
                [video.to_hex(), user.to_hex()],
            )
            .unwrap();
        // Both paths have read the schema as it is before the change.
        let count = "SELECT COUNT(*) FROM videos";
        store.writes.write(move |db| db.query_row(count, [], |row| row.get::<_, i64>(0))).await.unwrap();
        store.reads.read_off_thread(move |db| db.query_row(count, [], |row| row.get::<_, i64>(0))).await.unwrap();
        other.execute_batch("ANALYZE").unwrap();

        let published = store.set_visibility(video, Visibility::Public).await.unwrap();
        assert_eq!(published.map(|v| v.video.visibility), Some(Visibility::Public));
        other.execute_batch("ANALYZE").unwrap();
        let search = "SELECT COUNT(*) FROM video_search s JOIN videos v ON v.search_rowid = s.rowid \
             WHERE video_search MATCH 'tide' AND v.visibility = 'public'";
        let found = store.reads.read_off_thread(move |db| db.query_row(search, [], |row| row.get::<_, i64>(0))).await;
        assert_eq!(found.unwrap(), 1);
    }

    #[tokio::test]
    async fn no_write_goes_through_a_read_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let refused = store.reads.read(|db| db.execute("DELETE FROM users", [])).unwrap_err();
        assert!(format!("{:?}", std::error::Error::source(&refused)).contains("ReadOnly"), "{refused:?}");
    }
}
