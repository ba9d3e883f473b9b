//! Where each record kind of the registry (`store::records`) lives in SQLite, as an exhaustive
//! match: a kind added to the registry does not build (under `cargo test`) until it has its table
//! here. The schema's foreign keys carry the cascades, so the store's code never names a kind; the
//! tests below hold the schema and `ACCOUNT_DELETIONS` to the registry's decisions.

use crate::store::records::RecordKind;

/// The table holding records of `kind`; `None` for state the SQLite store keeps in memory.
pub(super) const fn table(kind: RecordKind) -> Option<&'static str> {
    match kind {
        RecordKind::Users => Some("users"),
        RecordKind::Sessions => Some("refresh_sessions"),
        RecordKind::Videos => Some("videos"),
        RecordKind::ViewHours => Some("video_view_hours"),
        RecordKind::Comments => Some("comments"),
        RecordKind::Tweets => Some("tweets"),
        RecordKind::Likes => Some("likes"),
        RecordKind::Subscriptions => Some("subscriptions"),
        RecordKind::Playlists => Some("playlists"),
        RecordKind::PlaylistEntries => Some("playlist_videos"),
        RecordKind::WatchHistory => Some("watch_history"),
        RecordKind::Reports => Some("reports"),
        RecordKind::ModerationActions => Some("moderation_actions"),
        RecordKind::Blocks => Some("blocks"),
        RecordKind::NotificationSettings => Some("notification_settings"),
        RecordKind::Notifications => Some("notifications"),
        // One process serves a SQLite file: counted views and budgets live in its memory.
        RecordKind::ViewMarks | RecordKind::RequestBudgets => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::OnDelete;
    use crate::store::sqlite::test_store;
    use crate::store::sqlite::users::ACCOUNT_DELETIONS;

    /// `(parent table, ON DELETE action)` of every foreign key of `table`.
    fn foreign_keys(store: &crate::store::sqlite::SqliteStore, table: &str) -> Vec<(String, String)> {
        let sql = format!("SELECT \"table\", on_delete FROM pragma_foreign_key_list('{table}')");
        store.reads.read(|db| db.prepare(&sql)?.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect()).unwrap()
    }

    fn kind_of(table: &str) -> RecordKind {
        RecordKind::ALL.into_iter().find(|k| super::table(*k) == Some(table)).unwrap_or_else(|| panic!("{table}"))
    }

    #[tokio::test]
    async fn every_table_exists_and_refers_only_to_the_kinds_the_registry_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for kind in RecordKind::ALL {
            let Some(name) = table(kind) else { continue };
            let exists = format!("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{name}'");
            let found: i64 = store.reads.read(|db| db.query_row(&exists, [], |row| row.get(0))).unwrap();
            assert_eq!(found, 1, "{kind:?}: no table {name}");
            for (parent, _) in foreign_keys(&store, name) {
                assert!(kind.references().contains(&kind_of(&parent)), "{name} refers to {parent}: not in {kind:?}");
            }
        }
    }

    /// Deleting a video is one `DELETE FROM videos`: whatever the registry removes with it must go by
    /// `ON DELETE CASCADE` from the video, or from a record removed with it.
    #[tokio::test]
    async fn what_a_video_takes_with_it_cascades_in_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for kind in RecordKind::ALL {
            let Some(name) = table(kind) else { continue };
            let cascades = foreign_keys(&store, name)
                .into_iter()
                .any(|(parent, action)| action == "CASCADE" && kind_of(&parent).on_video_deleted().removes());
            match kind.on_video_deleted() {
                OnDelete::Removed => assert!(cascades, "{name} is removed with a video but does not cascade"),
                OnDelete::Itself | OnDelete::Kept | OnDelete::Expires => {}
            }
        }
    }

    /// Deleting an account runs `ACCOUNT_DELETIONS`: every kind the registry removes with it goes by
    /// a statement there or by `ON DELETE CASCADE` from a record removed with it.
    #[tokio::test]
    async fn what_an_account_takes_with_it_is_deleted_or_cascades() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for kind in RecordKind::ALL {
            let Some(name) = table(kind) else { continue };
            let deleted = ACCOUNT_DELETIONS.iter().any(|s| s.starts_with(&format!("DELETE FROM {name} ")));
            let cascades = foreign_keys(&store, name)
                .into_iter()
                .any(|(parent, action)| action == "CASCADE" && kind_of(&parent).on_account_deleted().removes());
            match kind.on_account_deleted() {
                OnDelete::Itself | OnDelete::Removed => {
                    assert!(deleted || cascades, "{name} is removed with an account but nothing deletes it")
                }
                OnDelete::Kept | OnDelete::Expires => assert!(!deleted, "{name} is kept, yet deleted"),
            }
        }
    }
}
