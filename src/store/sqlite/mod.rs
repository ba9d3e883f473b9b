//! The embedded SQLite store: one file in DATA_DIR, WAL, foreign keys, migrations embedded in the binary.

mod checkpoints;
mod direct;
mod processing;
mod social;
mod transfer;
mod users;
mod videos;
mod watches;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use self::checkpoints::Checkpointer;
use self::direct::DirectReads;
use self::watches::WatchWriter;
use super::ephemeral::{Budget, EphemeralState, MemoryState, Spend};
use super::{MediaIndex, StoreError, StoreHealth, StoreResult};
use crate::domain::user::OwnerSummary;
use crate::domain::visibility::{ALL_LEVELS, Place, Visibility};
use crate::domain::{Id, Timestamp};

/// The SQLite implementation of every repository trait.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection for write transactions: SQLite admits one writer at a time, and writers that
    /// queue here wait their turn in order instead of polling the lock through SQLite's busy handler
    /// (which sleeps in growing steps and made the watch page's p99 spike under concurrent views).
    writer: SqlitePool,
    /// One process serves a SQLite file, so its short-lived shared state can live in memory.
    ephemeral: Arc<MemoryState>,
    /// The hot reads through rusqlite (the caller, a video, the watch page, feed and comment pages).
    direct: Arc<DirectReads>,
    /// The watch page's writes, grouped across concurrent requests (on the `writer` connection).
    watches: WatchWriter,
    /// Keeps the WAL checkpoint thread running while any clone of the store lives.
    _checkpoints: Arc<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // The checkpointer's thread copies the WAL into the database instead of a commit.
            .pragma("wal_autocheckpoint", "0")
            .pragma("cache_size", (-direct::PAGE_CACHE_KIB).to_string());
        // No ping before lending a connection: a round trip to its thread that says nothing
        // about a local file, paid by every statement (decision D17).
        let pool_of = |size: u32| SqlitePoolOptions::new().max_connections(size).test_before_acquire(false);
        let pool = pool_of(8).connect_with(options.clone()).await.map_err(backend)?;
        let migrator = sqlx::migrate!("./migrations/sqlite");
        accept_reworded_migrations(&pool, &migrator).await?;
        migrator.run(&pool).await.map_err(|e| StoreError::context("migration failed", e))?;
        let writer = pool_of(1).connect_with(options).await.map_err(backend)?;
        let watches = WatchWriter::start(path, writer.clone())?;
        let direct = Arc::new(DirectReads::new(path));
        let checkpoints =
            Checkpointer::start(path).map_err(|e| StoreError::context("could not start WAL checkpoints", e))?;
        Ok(SqliteStore {
            pool,
            writer,
            ephemeral: Arc::default(),
            direct,
            watches,
            _checkpoints: Arc::new(checkpoints),
        })
    }

    /// A write transaction that takes the write lock up front, so read-then-write sequences
    /// (toggles, rotations) are serialised instead of failing with SQLITE_BUSY on lock upgrade.
    async fn write_tx(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
    }
}

/// Migrations whose text changed after they shipped without changing what they do, with the
/// SHA-384 checksum their old text had. The migrator refuses a database whose recorded checksum
/// differs from the file's, so a database that applied the old text is given the new checksum
/// first. Version 1 had a comment that pointed at a specification outside this repository; it now
/// points at docs/api.md.
const REWORDED_MIGRATIONS: [(i64, &str); 1] =
    [(1, "6eb5f2e20ee58505b47f6aa881da7456218812a57eca2396a99638f17b3520f4a908af4a9ec2fd79c1b32b3edb080c95")];

/// Records the current checksum of each reworded migration a database applied in its old wording.
async fn accept_reworded_migrations(pool: &SqlitePool, migrator: &sqlx::migrate::Migrator) -> StoreResult<()> {
    let tracked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    if !tracked {
        return Ok(());
    }
    for (version, old) in REWORDED_MIGRATIONS {
        let Some(current) = migrator.iter().find(|m| m.version == version) else { continue };
        let old = hex::decode(old).map_err(|e| StoreError::context("a reworded migration's checksum", e))?;
        sqlx::query("UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = ?2 AND checksum = ?3")
            .bind(&*current.checksum)
            .bind(version)
            .bind(old)
            .execute(pool)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// `LIMIT`/`OFFSET` over the bound parameters `limit` and `offset` (such as `?2`). A bare parameter
/// there is read by SQLite's planner, which then marks the statement to be prepared again every
/// time the parameter is bound (same value or not): every page query was parsed and planned anew.
/// `(? + 0)` is not read at prepare time.
pub(super) fn page_clause(limit: &str, offset: &str) -> String {
    format!("LIMIT ({limit} + 0) OFFSET ({offset} + 0)")
}

/// `levels` as a SQL condition on the `visibility` column of the row `alias` (of videos or of
/// `video_counts`); `None` when every level passes.
pub fn levels_sql(alias: &str, levels: &[Visibility]) -> Option<String> {
    if ALL_LEVELS.iter().all(|level| levels.contains(level)) {
        return None;
    }
    let names: Vec<String> = levels.iter().map(|level| format!("'{}'", level.as_str())).collect();
    Some(match names.as_slice() {
        [one] => format!("{alias}.visibility = {one}"),
        _ => format!("{alias}.visibility IN ({})", names.join(", ")),
    })
}

/// The visibility rule (`domain::visibility::may_see`) for `place` as a SQL condition on the row
/// `alias` of videos: `viewer` is the SQL expression holding the viewer's id (a placeholder such
/// as `?1`, which may be bound to NULL), `None` for an anonymous viewer. Every query that shows
/// videos of more than one owner uses it.
pub fn visible_sql(alias: &str, place: Place, viewer: Option<&str>) -> String {
    let (anyone, owner) = (place.levels(false), place.levels(true));
    let for_anyone = levels_sql(alias, anyone).unwrap_or_else(|| "1".to_owned());
    match viewer {
        Some(viewer) if owner != anyone => {
            let own = match levels_sql(alias, owner) {
                Some(levels) => format!("({alias}.owner_id = {viewer} AND {levels})"),
                None => format!("{alias}.owner_id = {viewer}"),
            };
            format!("({for_anyone} OR {own})")
        }
        _ => for_anyone,
    }
}

#[async_trait]
impl MediaIndex for SqliteStore {
    async fn unreferenced(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let mut orphans = Vec::new();
        for key in keys {
            let referenced: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM users WHERE avatar_key = ?1) \
                     OR EXISTS (SELECT 1 FROM users WHERE cover_image_key = ?1) \
                     OR EXISTS (SELECT 1 FROM videos WHERE video_key = ?1) \
                     OR EXISTS (SELECT 1 FROM videos WHERE thumbnail_key = ?1) \
                     OR EXISTS (SELECT 1 FROM videos WHERE hls_key = ?1)",
            )
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
            if !referenced {
                orphans.push(key.clone());
            }
        }
        Ok(orphans)
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

    async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

/// Maps unique-constraint failures to `Conflict` naming the column, everything else to `Backend`.
fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let message = db.message();
        let field = ["username", "email", "subscriber_id", "liked_by"]
            .into_iter()
            .find(|f| message.contains(f))
            .unwrap_or("unique");
        return StoreError::Conflict { field };
    }
    backend(e)
}

fn parse_id(raw: &str) -> StoreResult<Id> {
    Id::parse(raw).ok_or_else(|| StoreError::backend(format!("corrupt id in database: {raw:?}")))
}

fn parse_visibility(raw: &str) -> StoreResult<Visibility> {
    Visibility::parse(raw).ok_or_else(|| StoreError::backend(format!("corrupt visibility in database: {raw:?}")))
}

fn now() -> i64 {
    Timestamp::now().millis()
}

/// The owner columns selected as `owner_id, owner_username, owner_full_name, owner_avatar`.
#[derive(sqlx::FromRow)]
struct OwnerRow {
    owner_id: String,
    owner_username: String,
    owner_full_name: String,
    owner_avatar: String,
}

impl OwnerRow {
    /// The same columns read through rusqlite (`direct`), at positions `first`.. in the order above.
    fn from_direct(row: &rusqlite::Row, first: usize) -> rusqlite::Result<Self> {
        Ok(OwnerRow {
            owner_id: row.get(first)?,
            owner_username: row.get(first + 1)?,
            owner_full_name: row.get(first + 2)?,
            owner_avatar: row.get(first + 3)?,
        })
    }

    fn into_summary(self) -> StoreResult<OwnerSummary> {
        Ok(OwnerSummary::new(parse_id(&self.owner_id)?, self.owner_username, self.owner_full_name, self.owner_avatar))
    }
}

/// The `EXPLAIN QUERY PLAN` details of `sql` with `binds`, for the tests that pin index use.
#[cfg(test)]
async fn query_plan(store: &SqliteStore, sql: &str, binds: &[&str]) -> Vec<String> {
    use sqlx::Row;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    for bind in binds {
        query = query.bind(bind.to_string());
    }
    let rows = query.fetch_all(&store.pool).await.unwrap();
    rows.iter().map(|row| row.get::<String, _>("detail")).collect()
}

/// The names of the columns `sql` yields, as the direct reads see them, for the tests that pin
/// the positions rows are read by.
#[cfg(test)]
fn column_names(store: &SqliteStore, sql: &str) -> Vec<String> {
    store.direct.read(|db| Ok(db.prepare(sql)?.column_names().into_iter().map(str::to_owned).collect())).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_that_applied_the_old_wording_of_a_migration_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let old = hex::decode(REWORDED_MIGRATIONS[0].1).unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = ? WHERE version = 1")
            .bind(&old)
            .execute(&store.pool)
            .await
            .unwrap();
        store.pool.close().await;
        store.writer.close().await;
        let reopened = SqliteStore::open(&path).await.expect("opens after the rewording");
        let recorded: Vec<u8> = sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
            .fetch_one(&reopened.pool)
            .await
            .unwrap();
        let current = sqlx::migrate!("./migrations/sqlite").iter().find(|m| m.version == 1).unwrap().checksum.to_vec();
        assert_eq!(recorded, current);
        assert_ne!(recorded, old, "the file's text did change");
    }

    #[tokio::test]
    async fn every_connection_keeps_the_larger_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("cache.db")).await.unwrap();
        let pragma = "PRAGMA cache_size";
        let pool: i64 = sqlx::query_scalar(pragma).fetch_one(&store.pool).await.unwrap();
        let writer: i64 = sqlx::query_scalar(pragma).fetch_one(&store.writer).await.unwrap();
        let direct: i64 = store.direct.read(|db| db.query_row(pragma, [], |row| row.get(0))).unwrap();
        let batches: i64 = direct::open_for_writes(&dir.path().join("cache.db"))
            .unwrap()
            .query_row(pragma, [], |row| row.get(0))
            .unwrap();
        assert_eq!([pool, writer, direct, batches], [-direct::PAGE_CACHE_KIB; 4]);
    }

    #[test]
    fn a_page_clause_is_prepared_once() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); CREATE INDEX tb ON t (b, a);").unwrap();
        let reprepares = |page: &str| {
            let mut statement = db.prepare(&format!("SELECT a FROM t ORDER BY b DESC, a DESC {page}")).unwrap();
            for _ in 0..5 {
                statement.query_map((20, 0), |row| row.get::<_, i64>(0)).unwrap().for_each(drop);
            }
            statement.get_status(rusqlite::StatementStatus::RePrepare)
        };
        assert_eq!(reprepares("LIMIT ?1 OFFSET ?2"), 5, "the form this avoids is re-prepared on every run");
        assert_eq!(reprepares(&page_clause("?1", "?2")), 0);
    }
    use crate::domain::visibility::may_see;

    #[tokio::test]
    async fn the_sql_visibility_rule_agrees_with_the_domain_rule() {
        let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        let (owner, other) = (Id::generate(), Id::generate());
        for place in [Place::ByLink, Place::Channel, Place::Listing] {
            for level in ALL_LEVELS.iter().copied() {
                for viewer in [None, Some(owner), Some(other)] {
                    let condition = visible_sql("v", place, viewer.map(|_| "?3"));
                    let sql = format!("SELECT {condition} FROM (SELECT ?1 AS visibility, ?2 AS owner_id) v");
                    let visible: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                        .bind(level.as_str())
                        .bind(owner.to_hex())
                        .bind(viewer.map(Id::to_hex))
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    let expected = may_see(level, owner, viewer, place);
                    assert_eq!(visible, expected, "{level:?} in {place:?} to {viewer:?}");
                }
            }
        }
        assert_eq!(levels_sql("v", ALL_LEVELS), None, "no condition when every level passes");
    }
}
