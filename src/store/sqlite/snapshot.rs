//! `videotube backup` and `restore`'s side of the database (decision D21): a consistent copy of the
//! live file taken with `VACUUM INTO` on a read-only connection (one read transaction: the server's
//! writer is not blocked), and the checks of a copy (`PRAGMA integrity_check`, foreign keys), each
//! answering with the media keys the copy references.

use std::path::Path;

use super::access::open_read_only;

/// Every media key a record references: the columns of `KEY_REFERENCED` in `mod.rs` (the orphan
/// sweep's), so what a backup copies is what the server keeps.
pub(super) const REFERENCED_KEYS: &str = "SELECT avatar_key FROM users \
     UNION SELECT cover_image_key FROM users WHERE cover_image_key <> '' \
     UNION SELECT video_key FROM videos \
     UNION SELECT thumbnail_key FROM videos \
     UNION SELECT hls_key FROM videos WHERE hls_key <> ''";

/// Writes a consistent copy of the database at `live` to `dest` (which must not exist), flushed
/// to disk, and returns the media keys the copy references.
pub fn snapshot_into(live: &Path, dest: &Path) -> anyhow::Result<Vec<String>> {
    let source = open_read_only(live)?;
    let target = dest.to_str().ok_or_else(|| anyhow::anyhow!("the backup path is not UTF-8: {}", dest.display()))?;
    source.execute("VACUUM INTO ?1", [target])?;
    drop(source);
    // SQLite does not sync the file VACUUM INTO writes.
    std::fs::File::open(dest)?.sync_all()?;
    referenced_keys(dest)
}

/// Checks a copy of the database: `PRAGMA integrity_check` answers `ok` and no foreign key is
/// broken. Returns the media keys the copy references.
pub fn verify_copy(copy: &Path) -> anyhow::Result<Vec<String>> {
    let db = open_read_only(copy)?;
    let mut check = db.prepare("PRAGMA integrity_check")?;
    let problems = check.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    if problems != ["ok"] {
        anyhow::bail!("PRAGMA integrity_check of {} failed: {}", copy.display(), problems.join("; "));
    }
    let broken: i64 = db.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| row.get(0))?;
    if broken != 0 {
        anyhow::bail!("{} has {broken} rows whose foreign key points at nothing", copy.display());
    }
    drop(check);
    drop(db);
    referenced_keys(copy)
}

fn referenced_keys(copy: &Path) -> anyhow::Result<Vec<String>> {
    let db = open_read_only(copy)?;
    let mut keys = db.prepare(REFERENCED_KEYS)?;
    let keys = keys.query_map([], |row| row.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_snapshot_is_a_checked_copy_with_its_media_keys() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("videotube.db");
        let store = super::super::SqliteStore::open(&live).await.unwrap();
        store
            .writes
            .write(|db| {
                db.execute_batch(
                    "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, \
                     created_at, updated_at) VALUES ('u1', 'a', 'a@x', 'A', 'http://x/media/images/a.png', \
                     'local:images/a.png', 'h', 0, 0)",
                )
            })
            .await
            .unwrap();
        let copy = dir.path().join("copy.db");
        let keys = snapshot_into(&live, &copy).unwrap();
        assert_eq!(keys, ["local:images/a.png"]);
        assert_eq!(verify_copy(&copy).unwrap(), keys);
        std::fs::write(dir.path().join("junk.db"), b"not a database at all, not even close").unwrap();
        assert!(verify_copy(&dir.path().join("junk.db")).is_err());
    }
}
