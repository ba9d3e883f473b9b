//! SQLite persistence of comments on videos: writing them, one comment, and a video's pages.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::access::BOUNDED_OFFSET;
use super::rows::{PostRow, post_columns};
use super::sql::page_clause;
use super::{SqliteStore, now, parse_id};
use crate::domain::social::Comment;
use crate::domain::{Id, moderation};
use crate::store::{CommentRef, CommentRepo, StoreResult};

/// Comments with their like facts for the viewer `?1` and their authors, as `PostRow` reads them.
macro_rules! comment_select {
    () => {
        concat!(
            "SELECT ",
            post_columns!("comment_id", "p.video_id"),
            " FROM comments p JOIN users u ON u.id = p.owner_id"
        )
    };
}

/// The comment `?2`.
const COMMENT_BY_ID: &str = concat!(comment_select!(), " WHERE p.id = ?2");

/// A page of the video `?2`'s comments the viewer `?1` sees (a removed one only its author),
/// newest first (limit `?3`, offset `?4`).
static COMMENT_PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE p.video_id = ?2 AND (p.hidden = 0 OR p.owner_id = ?1) \
         ORDER BY p.created_at DESC, p.id DESC {}",
        comment_select!(),
        page_clause("?3", "?4")
    )
});

/// A video's comment count for the viewer `?2`: one lookup in `comment_counts` (kept by triggers,
/// migrations 0009 and 0014, of the comments everyone sees), plus the viewer's own hidden ones.
const COMMENT_TOTAL: &str = "SELECT COALESCE((SELECT n FROM comment_counts WHERE video_id = ?1), 0) \
     + (SELECT COUNT(*) FROM comments WHERE video_id = ?1 AND owner_id = ?2 AND hidden = 1)";

#[async_trait]
impl CommentRepo for SqliteStore {
    async fn insert(&self, video: Id, owner: Id, content: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let content = content.to_owned();
        self.writes
            .write(move |db| {
                db.prepare_cached(
                    "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )?
                .execute((id.to_hex(), video.to_hex(), owner.to_hex(), content, now()))
            })
            .await?;
        Ok(id)
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let sql = "SELECT id, video_id, owner_id, hidden FROM comments WHERE id = ?1";
        let row = self.reads.read(|db| {
            db.prepare_cached(sql)?
                .query_row([id.to_hex()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get(3)?))
                })
                .optional()
        })?;
        row.map(|(id, video, owner, hidden)| {
            Ok(CommentRef { id: parse_id(&id)?, video: parse_id(&video)?, owner: parse_id(&owner)?, hidden })
        })
        .transpose()
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let row = self.reads.read(|db| {
            db.prepare_cached(COMMENT_BY_ID)?.query_row((viewer.map(Id::to_hex), id.to_hex()), PostRow::read).optional()
        })?;
        row.map(PostRow::into_comment).transpose()
    }

    async fn list(&self, video: Id, viewer: Option<Id>, offset: u64, limit: u32) -> StoreResult<(Vec<Comment>, u64)> {
        // A page through an index and a counter lookup stay on the request's thread, unless the page is deep (D17).
        let bounded = offset <= BOUNDED_OFFSET;
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .reads
            .read_page(bounded, move |db| {
                let binds = (viewer.map(Id::to_hex), video.to_hex(), i64::from(limit), offset);
                let rows = db
                    .prepare_cached(&COMMENT_PAGE)?
                    .query_map(binds, PostRow::read)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db
                    .prepare_cached(COMMENT_TOTAL)?
                    .query_row((video.to_hex(), viewer.map(Id::to_hex)), |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        Ok((rows.into_iter().map(PostRow::into_comment).collect::<StoreResult<_>>()?, total as u64))
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        let content = content.to_owned();
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached("UPDATE comments SET content = ?1, updated_at = ?2 WHERE id = ?3")?.execute((
                    content,
                    now(),
                    id.to_hex(),
                ))
            })
            .await?;
        Ok(changed > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        let deleted = self
            .writes
            .write(move |db| db.prepare_cached("DELETE FROM comments WHERE id = ?1")?.execute([id.to_hex()]))
            .await?;
        Ok(deleted > 0)
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let sql = "UPDATE comments SET removed_reason = ?2, hidden = ?3 WHERE id = ?1";
        let hidden = moderation::hidden(reason.is_some(), owner_suspended);
        let changed =
            self.writes.write(move |db| db.prepare_cached(sql)?.execute((id.to_hex(), reason, hidden))).await?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::rows::POST_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, query_plan, test_store};
    use crate::store::{NewUser, NewVideo, UserRepo, VideoRepo};

    #[tokio::test]
    async fn comment_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        assert_eq!(column_names(&store, COMMENT_BY_ID), POST_COLUMN_NAMES);
        assert_eq!(column_names(&store, &COMMENT_PAGE), POST_COLUMN_NAMES);
    }

    #[tokio::test]
    async fn comment_totals_are_lookups_kept_by_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let plan = query_plan(&store, COMMENT_TOTAL, &["a", "b"]);
        assert!(plan.iter().any(|d| d.starts_with("SEARCH comment_counts")), "{plan:?}");
        // The viewer's own hidden comments on the video: a search by author, never a scan.
        assert!(plan.iter().all(|d| !d.starts_with("SCAN") || d == "SCAN CONSTANT ROW"), "{plan:?}");
        assert!(plan.iter().any(|d| d.starts_with("SEARCH comments USING COVERING INDEX comments_hidden")), "{plan:?}");

        let media =
            |name: &str| crate::store::MediaRef { url: format!("http://m/{name}"), key: format!("local:{name}") };
        let user = NewUser {
            username: "ann".into(),
            email: "ann@example.com".into(),
            full_name: "Ann".into(),
            avatar: media("a.png"),
            cover_image: None,
            password_hash: "x".into(),
        };
        let owner = store.create(user).await.unwrap().user.id;
        let video = |title: &str| NewVideo {
            owner,
            video_file: media(&format!("{title}.mp4")),
            thumbnail: media(&format!("{title}.jpg")),
            title: title.into(),
            description: "d".into(),
            tags: Default::default(),
            duration: 1.0,
            visibility: crate::domain::visibility::Visibility::Public,
            processing: crate::domain::processing::ProcessingStatus::Off,
            width: 0,
            height: 0,
            hls_url: None,
        };
        let clip = VideoRepo::insert(&store, video("clip")).await.unwrap().video.id;
        let mut comments = Vec::new();
        for n in 0..3 {
            comments.push(CommentRepo::insert(&store, clip, owner, &format!("c{n}")).await.unwrap());
        }
        let total = |store: &SqliteStore| {
            let store = store.clone();
            async move { CommentRepo::list(&store, clip, None, 0, 1).await.unwrap().1 }
        };
        assert_eq!(total(&store).await, 3);
        CommentRepo::delete(&store, comments[0]).await.unwrap();
        assert_eq!(total(&store).await, 2);
        VideoRepo::delete(&store, clip).await.unwrap();
        let rows: i64 =
            store.reads.read(|db| db.query_row("SELECT COUNT(*) FROM comment_counts", [], |row| row.get(0))).unwrap();
        assert_eq!(rows, 0, "the count goes with its video");
    }
}
