//! SQLite persistence of playlists and their entries.

use async_trait::async_trait;

use super::rows::OwnerRow;
use super::sql::owner_columns;
use super::{SqliteStore, now, parse_id};
use crate::domain::social::PlaylistRecord;
use crate::domain::{Id, Timestamp};
use crate::store::{PlaylistRepo, StoreResult};

/// Playlists with their owners, as `PlaylistRow` reads them.
macro_rules! playlist_select {
    () => {
        concat!(
            "SELECT p.id, p.name, p.description, p.created_at, p.updated_at, ",
            owner_columns!(),
            " FROM playlists p JOIN users u ON u.id = p.owner_id"
        )
    };
}

/// The playlist `?1`.
const PLAYLIST_BY_ID: &str = concat!(playlist_select!(), " WHERE p.id = ?1");
/// Every playlist of the user `?1`, newest first.
const PLAYLISTS_BY_OWNER: &str =
    concat!(playlist_select!(), " WHERE p.owner_id = ?1 ORDER BY p.created_at DESC, p.id DESC");
/// A playlist's video ids, in order.
const ENTRIES: &str = "SELECT video_id FROM playlist_videos WHERE playlist_id = ?1 ORDER BY position";
/// Marks the playlist `?1` changed.
const TOUCH: &str = "UPDATE playlists SET updated_at = ?2 WHERE id = ?1";

/// A playlist with its owner: the columns of `playlist_select!`.
struct PlaylistRow {
    id: String,
    name: String,
    description: String,
    created_at: i64,
    updated_at: i64,
    owner: OwnerRow,
}

impl PlaylistRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(PlaylistRow {
            id: row.get(0)?,
            name: row.get(1)?,
            description: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            owner: OwnerRow::read(row, 5)?,
        })
    }

    fn into_record(self, videos: Vec<String>) -> StoreResult<PlaylistRecord> {
        Ok(PlaylistRecord {
            id: parse_id(&self.id)?,
            name: self.name,
            description: self.description,
            owner: self.owner.into_summary()?,
            video_ids: videos.iter().map(|id| parse_id(id)).collect::<StoreResult<_>>()?,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

impl SqliteStore {
    /// The playlists `select` finds by `value`, each with its entries, on the blocking pool (a
    /// playlist's entries are not bounded).
    async fn playlists_where(&self, select: &'static str, value: Id) -> StoreResult<Vec<PlaylistRecord>> {
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let playlists = db
                    .prepare_cached(select)?
                    .query_map([value.to_hex()], PlaylistRow::read)?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut entries = db.prepare_cached(ENTRIES)?;
                let mut with_entries = Vec::with_capacity(playlists.len());
                for playlist in playlists {
                    let videos = entries.query_map([&playlist.id], |row| row.get(0))?.collect::<Result<Vec<_>, _>>()?;
                    with_entries.push((playlist, videos));
                }
                Ok(with_entries)
            })
            .await?;
        rows.into_iter().map(|(playlist, videos)| playlist.into_record(videos)).collect()
    }

    /// Runs `change` (binds: playlist, video) and marks the playlist changed when it changed a row.
    async fn change_entries(&self, change: &'static str, id: Id, video: Id) -> StoreResult<()> {
        self.writes
            .transaction(move |tx| {
                let id = id.to_hex();
                if tx.prepare_cached(change)?.execute((&id, video.to_hex()))? > 0 {
                    tx.prepare_cached(TOUCH)?.execute((&id, now()))?;
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl PlaylistRepo for SqliteStore {
    async fn insert(&self, owner: Id, name: &str, description: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let (name, description) = (name.to_owned(), description.to_owned());
        self.writes
            .write(move |db| {
                db.prepare_cached(
                    "INSERT INTO playlists (id, owner_id, name, description, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )?
                .execute((id.to_hex(), owner.to_hex(), name, description, now()))
            })
            .await?;
        Ok(id)
    }

    async fn get(&self, id: Id) -> StoreResult<Option<PlaylistRecord>> {
        Ok(self.playlists_where(PLAYLIST_BY_ID, id).await?.into_iter().next())
    }

    async fn by_owner(&self, owner: Id) -> StoreResult<Vec<PlaylistRecord>> {
        self.playlists_where(PLAYLISTS_BY_OWNER, owner).await
    }

    async fn update(&self, id: Id, name: Option<&str>, description: Option<&str>) -> StoreResult<bool> {
        let (name, description) = (name.map(str::to_owned), description.map(str::to_owned));
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE playlists SET name = COALESCE(?1, name), description = COALESCE(?2, description), \
                     updated_at = ?3 WHERE id = ?4",
                )?
                .execute((name, description, now(), id.to_hex()))
            })
            .await?;
        Ok(changed > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        let deleted = self
            .writes
            .write(move |db| db.prepare_cached("DELETE FROM playlists WHERE id = ?1")?.execute([id.to_hex()]))
            .await?;
        Ok(deleted > 0)
    }

    async fn add_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let add = "INSERT INTO playlist_videos (playlist_id, video_id, position) VALUES (?1, ?2, \
                   (SELECT COALESCE(MAX(position), 0) + 1 FROM playlist_videos WHERE playlist_id = ?1)) \
                   ON CONFLICT (playlist_id, video_id) DO NOTHING";
        self.change_entries(add, id, video).await
    }

    async fn remove_video(&self, id: Id, video: Id) -> StoreResult<()> {
        self.change_entries("DELETE FROM playlist_videos WHERE playlist_id = ?1 AND video_id = ?2", id, video).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::OWNER_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, test_store};

    #[tokio::test]
    async fn playlist_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let mut expected = vec!["id", "name", "description", "created_at", "updated_at"];
        expected.extend(OWNER_COLUMN_NAMES);
        assert_eq!(column_names(&store, PLAYLIST_BY_ID), expected);
        assert_eq!(column_names(&store, PLAYLISTS_BY_OWNER), expected);
    }
}
