//! The schema's migrations (`migrations/sqlite/NNNN_*.sql`, embedded in the binary) and their
//! runner, which keeps the history where sqlx's migrator kept it (decision D19).
//!
//! Every database created before D19 recorded its migrations in `_sqlx_migrations`: one row per
//! version, with the description (the file name after the version, `_` as spaces), the SHA-384 of
//! the file's text as `checksum`, `success`, `installed_on` and `execution_time` (nanoseconds).
//! This runner reads and writes that same table, the same way: such a database opens unchanged and
//! gets only the migrations it lacks, and a new database gets the same table. As sqlx did, it
//! refuses a database whose recorded checksum differs from the file's (the file was edited after
//! it shipped: never edit one, add a migration), one that records a version this binary does not
//! know (a newer build migrated it), and one with a migration recorded as failed. Each migration
//! runs in one transaction with its history row; a file starting with `-- no-transaction` runs
//! outside one (no migration here uses it).

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha384};

/// Each file's name with its text, read at compile time.
macro_rules! embed {
    ($($file:literal),* $(,)?) => {
        [$(($file, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite/", $file)))),*]
    };
}

/// Every migration file, in version order; a test checks that this lists the directory.
const FILES: [(&str, &str); 19] = embed![
    "0001_initial.sql",
    "0002_media_key_indexes.sql",
    "0003_video_counts.sql",
    "0004_devices_and_history.sql",
    "0005_visibility.sql",
    "0006_view_hours.sql",
    "0007_processing.sql",
    "0008_subscription_counts.sql",
    "0009_comment_counts.sql",
    "0010_owner_index_covers_visibility.sql",
    "0011_roles.sql",
    "0012_reports.sql",
    "0013_moderation.sql",
    "0014_removed_posts.sql",
    "0015_blocks.sql",
    "0016_search.sql",
    "0017_comment_threads.sql",
    "0018_notifications.sql",
    "0019_notification_counts.sql",
];

/// The history table, as sqlx 0.9 creates it.
const HISTORY_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);";

/// Migrations whose text changed after they shipped without changing what they do, with the
/// SHA-384 checksum their old text had. A database that applied the old text is given the new
/// checksum before the checksums are compared. Version 1 had a comment that pointed at a
/// specification outside this repository; it now points at docs/api.md.
const REWORDED_MIGRATIONS: [(i64, &str); 1] =
    [(1, "6eb5f2e20ee58505b47f6aa881da7456218812a57eca2396a99638f17b3520f4a908af4a9ec2fd79c1b32b3edb080c95")];

/// One migration file.
pub(super) struct Migration {
    version: i64,
    description: String,
    sql: &'static str,
    checksum: Vec<u8>,
}

impl Migration {
    /// The migration in `file` (`NNNN_words.sql`), as sqlx named and checksummed it.
    fn new(file: &str, sql: &'static str) -> Self {
        let (version, rest) = file.split_once('_').expect("a migration file is named NNNN_description.sql");
        Migration {
            version: version.parse().expect("a migration file name starts with its version"),
            description: rest.trim_end_matches(".sql").replace('_', " "),
            sql,
            checksum: Sha384::digest(sql.as_bytes()).to_vec(),
        }
    }

    fn in_transaction(&self) -> bool {
        !self.sql.starts_with("-- no-transaction")
    }
}

/// The migrations this binary carries, in version order.
pub(super) fn embedded() -> Vec<Migration> {
    FILES.iter().map(|(file, sql)| Migration::new(file, sql)).collect()
}

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub(super) enum MigrationError {
    #[error(
        "migration {0} is recorded as failed in _sqlx_migrations: the database is partly migrated; \
         repair it and remove that row"
    )]
    Failed(i64),
    #[error(
        "the database has migration {0} applied, which this build does not have (was it opened by a newer \
         build?)"
    )]
    Unknown(i64),
    #[error(
        "migration {version} ({description}) was applied from a different text: the checksum recorded in \
         _sqlx_migrations is not that of migrations/sqlite/{version:04}_*.sql"
    )]
    Changed { version: i64, description: String },
    #[error("migration {version} ({description}) failed")]
    Apply {
        version: i64,
        description: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("reading or writing the migration history failed")]
    History(#[from] rusqlite::Error),
}

/// Applies the migrations of `migrations` that `db` lacks, after checking the ones it has.
pub(super) fn run(db: &mut Connection, migrations: &[Migration]) -> Result<(), MigrationError> {
    db.execute_batch(HISTORY_TABLE)?;
    accept_reworded(db, migrations)?;
    let failed: Option<i64> = db
        .query_row("SELECT version FROM _sqlx_migrations WHERE success = false ORDER BY version LIMIT 1", [], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(version) = failed {
        return Err(MigrationError::Failed(version));
    }
    let applied = applied(db)?;
    if let Some((version, _)) = applied.iter().find(|(version, _)| !migrations.iter().any(|m| m.version == *version)) {
        return Err(MigrationError::Unknown(*version));
    }
    for migration in migrations {
        match applied.iter().find(|(version, _)| *version == migration.version) {
            Some((_, checksum)) if *checksum == migration.checksum => {}
            Some(_) => {
                let (version, description) = (migration.version, migration.description.clone());
                return Err(MigrationError::Changed { version, description });
            }
            None => apply(db, migration).map_err(|source| MigrationError::Apply {
                version: migration.version,
                description: migration.description.clone(),
                source,
            })?,
        }
    }
    Ok(())
}

/// The recorded versions with their checksums.
fn applied(db: &Connection) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
    let mut recorded = db.prepare("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")?;
    let rows = recorded.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Records the current checksum of each reworded migration a database applied in its old wording.
fn accept_reworded(db: &Connection, migrations: &[Migration]) -> Result<(), MigrationError> {
    for (version, old) in REWORDED_MIGRATIONS {
        let Some(current) = migrations.iter().find(|m| m.version == version) else { continue };
        let old = hex::decode(old).expect("a reworded migration's checksum is hex");
        db.execute(
            "UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = ?2 AND checksum = ?3",
            (&current.checksum, version, old),
        )?;
    }
    Ok(())
}

/// Runs `migration` and records it, in one transaction (unless the file opts out), as sqlx did:
/// the row is written with `execution_time` -1, then given the time the whole took.
fn apply(db: &mut Connection, migration: &Migration) -> rusqlite::Result<()> {
    let started = Instant::now();
    let record = |db: &Connection| {
        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, -1)",
            (migration.version, &migration.description, &migration.checksum),
        )
    };
    if migration.in_transaction() {
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have applied it while this one waited for the write lock.
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = ?1)",
            [migration.version],
            |row| row.get(0),
        )?;
        if done {
            return Ok(());
        }
        tx.execute_batch(migration.sql)?;
        record(&tx)?;
        tx.commit()?;
    } else {
        db.execute_batch(migration.sql)?;
        record(db)?;
    }
    let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    db.execute("UPDATE _sqlx_migrations SET execution_time = ?1 WHERE version = ?2", (nanos, migration.version))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;
    use crate::store::sqlite::SqliteStore;

    /// A history row as `_sqlx_migrations` holds it.
    type Row = (i64, String, String, bool, Vec<u8>, i64);

    fn history(db: &Connection) -> Vec<Row> {
        let mut rows = db
            .prepare(
                "SELECT version, description, installed_on, success, checksum, execution_time \
                 FROM _sqlx_migrations ORDER BY version",
            )
            .unwrap();
        let rows = rows
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// A database migrated up to `last` by sqlx 0.9's migrator, statement for statement
    /// (`sqlx-sqlite`'s `migrate.rs`: the table, then per migration `BEGIN`, the file's text, the
    /// row with `execution_time` -1, `COMMIT`, and the time), written with a fixed `installed_on`.
    fn migrated_by_sqlx(path: &std::path::Path, last: i64) -> Connection {
        let db = Connection::open(path).unwrap();
        db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;").unwrap();
        db.execute_batch(
            r#"
CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
);
                "#,
        )
        .unwrap();
        for migration in embedded().iter().filter(|m| m.version <= last) {
            db.execute_batch("BEGIN").unwrap();
            db.execute_batch(migration.sql).unwrap();
            db.execute(
                r#"
    INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time )
    VALUES ( ?1, ?2, TRUE, ?3, -1 )
        "#,
                (migration.version, &migration.description, &migration.checksum),
            )
            .unwrap();
            db.execute_batch("COMMIT").unwrap();
            db.execute(
                r#"
    UPDATE _sqlx_migrations
    SET execution_time = ?1
    WHERE version = ?2
                "#,
                (1_000_000 + migration.version, migration.version),
            )
            .unwrap();
        }
        db.execute("UPDATE _sqlx_migrations SET installed_on = '2026-01-02 03:04:05'", []).unwrap();
        db
    }

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut files: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        assert_eq!(files, FILES.map(|(file, _)| file));
        let versions: Vec<i64> = embedded().iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=FILES.len() as i64).collect::<Vec<_>>());
    }

    #[test]
    fn names_and_checksums_are_those_sqlx_recorded() {
        // As sqlx 0.9 recorded them in a database the previous build created.
        let migrations = embedded();
        let tenth = &migrations[9];
        assert_eq!((tenth.version, tenth.description.as_str()), (10, "owner index covers visibility"));
        assert_eq!(
            hex::encode(&tenth.checksum),
            "70603395a607754808e02fe0761e7058df93ec6340bec1c0a621bac6fb6c1537c368f46de2e56c36c4ec2efda956373b"
        );
        assert_eq!(migrations[0].description, "initial");
        assert_eq!(
            hex::encode(&migrations[0].checksum),
            "2cc95445adf5381202753b9a9037684942b2fe33f50ae4cda837ea976db6a4f224bea3a8b70559bc99c436b47b76a7ea"
        );
    }

    #[test]
    fn no_migration_opts_out_of_its_transaction() {
        assert!(embedded().iter().all(Migration::in_transaction));
    }

    #[tokio::test]
    async fn a_database_migrated_by_sqlx_opens_unchanged_and_gets_only_the_newer_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sqlx.db");
        let before = history(&migrated_by_sqlx(&path, 8));
        assert_eq!(before.len(), 8);
        let store = SqliteStore::open(&path).await.unwrap();
        let after = store.writes.write(|db| Ok(history(db))).await.unwrap();
        assert_eq!(after[..8], before[..], "the rows sqlx wrote are kept as they are");
        let added: Vec<(i64, &str, bool)> = after[8..].iter().map(|r| (r.0, r.1.as_str(), r.3)).collect();
        assert_eq!(added[..2], [(9, "comment counts", true), (10, "owner index covers visibility", true)]);
        let migrations = embedded();
        assert_eq!(after.len(), migrations.len(), "every newer migration is applied");
        for (row, migration) in after.iter().zip(&migrations) {
            assert_eq!(row.4, migration.checksum, "version {}", row.0);
        }
        for row in &after[8..] {
            assert!(row.5 > 0, "execution time recorded: {row:?}");
            assert_eq!(row.2.len(), "2026-01-02 03:04:05".len(), "installed_on by the table's default: {row:?}");
        }
        // The schema works: the two new migrations' objects are there and used.
        let tables = store
            .reads
            .read(|db| {
                db.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('comment_counts', 'videos_owner_created')",
                    [],
                    |row| row.get::<_, i64>(0),
                )
            })
            .unwrap();
        assert_eq!(tables, 2);
        drop(store);
        // Opening again changes nothing.
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reopened.writes.write(|db| Ok(history(db))).await.unwrap(), after);
    }

    #[tokio::test]
    async fn a_new_database_gets_the_history_table_sqlx_made() {
        let dir = tempfile::tempdir().unwrap();
        let ours = SqliteStore::open(&dir.path().join("new.db")).await.unwrap();
        let theirs = migrated_by_sqlx(&dir.path().join("sqlx.db"), 0);
        let table = |db: &Connection| -> String {
            db.query_row("SELECT sql FROM sqlite_master WHERE name = '_sqlx_migrations'", [], |row| row.get(0)).unwrap()
        };
        let ours_table = ours.writes.write(move |db| Ok(table(db))).await.unwrap();
        assert_eq!(ours_table, table(&theirs));
        let rows = ours.writes.write(|db| Ok(history(db))).await.unwrap();
        let expected: Vec<(i64, String, Vec<u8>)> =
            embedded().into_iter().map(|m| (m.version, m.description, m.checksum)).collect();
        assert_eq!(rows.iter().map(|r| (r.0, r.1.clone(), r.4.clone())).collect::<Vec<_>>(), expected);
        assert!(rows.iter().all(|r| r.3 && r.5 > 0), "{rows:?}");
    }

    #[test]
    fn a_changed_checksum_an_unknown_version_and_a_failed_migration_are_refused() {
        const FUTURE: i64 = FILES.len() as i64 + 1;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sqlx.db");
        let mut db = migrated_by_sqlx(&path, 10);
        let migrations = embedded();
        run(&mut db, &migrations).unwrap();

        db.execute("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 4", []).unwrap();
        let error = run(&mut db, &migrations).unwrap_err();
        assert!(matches!(error, MigrationError::Changed { version: 4, .. }), "{error:?}");
        assert!(error.to_string().contains("migration 4 (devices and history) was applied from a different text"));
        db.execute("UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = 4", [&migrations[3].checksum]).unwrap();

        db.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, 'from the future', TRUE, x'00', 1)",
            [FUTURE],
        )
        .unwrap();
        let error = run(&mut db, &migrations).unwrap_err();
        assert!(matches!(error, MigrationError::Unknown(FUTURE)), "{error:?}");
        assert!(error.to_string().contains(&format!("migration {FUTURE} applied, which this build does not have")));
        db.execute("DELETE FROM _sqlx_migrations WHERE version = ?1", [FUTURE]).unwrap();

        db.execute("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 7", []).unwrap();
        assert!(matches!(run(&mut db, &migrations).unwrap_err(), MigrationError::Failed(7)));
        db.execute("UPDATE _sqlx_migrations SET success = TRUE WHERE version = 7", []).unwrap();

        run(&mut db, &migrations).expect("opens again once repaired");
    }

    #[tokio::test]
    async fn a_refused_database_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sqlx.db");
        let db = migrated_by_sqlx(&path, 10);
        db.execute("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2", []).unwrap();
        drop(db);
        let Err(error) = SqliteStore::open(&path).await else { panic!("opened a database with a changed migration") };
        let chain = crate::error::Chain(&error).to_string();
        assert!(chain.contains("migration failed") && chain.contains("migration 2 (media key indexes)"), "{chain}");
    }

    #[tokio::test]
    async fn a_database_that_applied_the_old_wording_of_a_migration_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old = hex::decode(REWORDED_MIGRATIONS[0].1).unwrap();
        {
            let db = migrated_by_sqlx(&path, 10);
            db.execute("UPDATE _sqlx_migrations SET checksum = ?1 WHERE version = 1", [&old]).unwrap();
        }
        let reopened = SqliteStore::open(&path).await.expect("opens after the rewording");
        let recorded = reopened.writes.write(|db| Ok(history(db)[0].4.clone())).await.unwrap();
        let current = embedded().remove(0).checksum;
        assert_eq!(recorded, current);
        assert_ne!(recorded, old, "the file's text did change");
    }

    /// A database of the published-flag schema (migrations up to 0003) keeps its videos: published
    /// ones become public, the others private, and the per-level totals match.
    #[tokio::test]
    async fn published_flags_become_levels_with_their_totals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let owner = Id::generate().to_hex();
        {
            let db = migrated_by_sqlx(&path, 3);
            db.execute(
                "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, \
                 updated_at) VALUES (?1, 'asha', 'asha@example.com', 'Asha', 'a', 'k', 'h', 1, 1)",
                [&owner],
            )
            .unwrap();
            for (title, published) in [("out", 1), ("draft", 0), ("also out", 1)] {
                db.execute(
                    "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
                     description, is_published, created_at, updated_at) \
                     VALUES (?1, ?2, 'v', 'vk', 't', 'tk', ?3, 'd', ?4, 1, 1)",
                    (Id::generate().to_hex(), &owner, title, published),
                )
                .unwrap();
            }
        }

        let store = SqliteStore::open(&path).await.unwrap();
        let (levels, totals) = store
            .reads
            .read(|db| {
                let levels = db
                    .prepare("SELECT title, visibility FROM videos ORDER BY title")?
                    .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let totals = db
                    .prepare("SELECT owner_id, visibility, n FROM video_counts ORDER BY owner_id, visibility")?
                    .query_map([], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok((levels, totals))
            })
            .unwrap();
        let expected = [("also out", "public"), ("draft", "private"), ("out", "public")];
        assert_eq!(levels, expected.map(|(t, l)| (t.to_owned(), l.to_owned())));
        let expected =
            [("*", "private", 1), ("*", "public", 2), (owner.as_str(), "private", 1), (owner.as_str(), "public", 2)];
        assert_eq!(totals, expected.map(|(o, l, n)| (o.to_owned(), l.to_owned(), n)));
    }
}
