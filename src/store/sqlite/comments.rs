//! SQLite persistence of comments on videos: writing them, one comment, a video's pages of
//! top-level comments, a thread's replies, pins and hearts.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::access::BOUNDED_OFFSET;
use super::rows::{PostRow, ThreadRow, post_columns, thread_columns};
use super::sql::page_clause;
use super::{SqliteStore, now, parse_id};
use crate::domain::social::{Comment, CommentSort};
use crate::domain::{Id, moderation};
use crate::store::{CommentRef, CommentRepo, NewReply, StoreResult};

/// Comments with their like facts for the viewer `?1`, their authors and their place in a thread,
/// as `CommentRow` reads them.
macro_rules! comment_select {
    () => {
        concat!(
            "SELECT ",
            post_columns!("comment_id", "p.video_id"),
            ", ",
            thread_columns!(),
            " FROM comments p JOIN users u ON u.id = p.owner_id LEFT JOIN users r ON r.id = p.reply_to_id"
        )
    };
}

/// The comments the viewer `?1` sees (a removed one only its author).
const SEEN: &str = "(p.hidden = 0 OR p.owner_id = ?1)";

/// The comment `?2`.
const COMMENT_BY_ID: &str = concat!(comment_select!(), " WHERE p.id = ?2");

/// A page of the video `?2`'s top-level comments the viewer `?1` sees but `?5` (the pinned one),
/// in `order` (limit `?3`, offset `?4`).
fn top_level_page(order: &str) -> String {
    format!(
        "{} WHERE p.video_id = ?2 AND p.parent_id IS NULL AND {SEEN} AND p.id IS NOT ?5 ORDER BY {order} {}",
        comment_select!(),
        page_clause("?3", "?4")
    )
}

/// Newest first, through `comments_video_threads`.
static NEWEST_PAGE: LazyLock<String> = LazyLock::new(|| top_level_page("p.created_at DESC, p.id DESC"));

/// Most liked, then most replied, then newest, through `comments_video_top` (the two counts are
/// kept by triggers, migration 0017).
static TOP_PAGE: LazyLock<String> =
    LazyLock::new(|| top_level_page("p.like_total DESC, p.replies_count DESC, p.created_at DESC, p.id DESC"));

/// A page of the thread `?2`'s replies the viewer `?1` sees, oldest first (limit `?3`, offset `?4`;
/// `?5` is always `NULL`: every page statement takes the same binds).
static REPLY_PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} WHERE p.parent_id = ?2 AND {SEEN} AND p.id IS NOT ?5 ORDER BY p.created_at, p.id {}",
        comment_select!(),
        page_clause("?3", "?4")
    )
});

/// The video `?2`'s pinned comment, if the viewer `?1` sees it.
const PINNED: &str = concat!(
    comment_select!(),
    " WHERE p.video_id = ?2 AND p.pinned = 1 AND p.parent_id IS NULL AND (p.hidden = 0 OR p.owner_id = ?1)"
);

/// A video's top-level comment count for the viewer `?2`: one lookup in `comment_counts` (kept by
/// triggers, migrations 0009, 0014 and 0017, of the top-level comments everyone sees), plus the
/// viewer's own hidden ones.
const COMMENT_TOTAL: &str = "SELECT COALESCE((SELECT n FROM comment_counts WHERE video_id = ?1), 0) \
     + (SELECT COUNT(*) FROM comments WHERE video_id = ?1 AND owner_id = ?2 AND parent_id IS NULL AND hidden = 1)";

/// A thread `?1`'s reply count for the viewer `?2`: its `replies_count` (kept by triggers, migration
/// 0017, of the replies everyone sees), plus the viewer's own hidden ones.
const REPLY_TOTAL: &str = "SELECT COALESCE((SELECT replies_count FROM comments WHERE id = ?1), 0) \
     + (SELECT COUNT(*) FROM comments WHERE video_id = (SELECT video_id FROM comments WHERE id = ?1) \
        AND owner_id = ?2 AND parent_id = ?1 AND hidden = 1)";

/// A comment row: its post columns, then its thread columns.
fn read_comment(row: &rusqlite::Row) -> rusqlite::Result<(PostRow, ThreadRow)> {
    Ok((PostRow::read(row)?, ThreadRow::read(row, PostRow::WIDTH)?))
}

fn into_comment((post, thread): (PostRow, ThreadRow)) -> StoreResult<Comment> {
    post.into_comment(thread)
}

/// A page statement (binds: viewer, key, limit, offset, skip) and its total's (binds: key, viewer).
struct PageSql {
    page: &'static str,
    total: &'static str,
}

impl SqliteStore {
    /// One page of `sql` and its total. A page through an index and a counter lookup stay on the
    /// request's thread, unless the page is deep (D17).
    async fn comment_page(
        &self,
        sql: PageSql,
        key: Id,
        viewer: Option<Id>,
        skip: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)> {
        let bounded = offset <= BOUNDED_OFFSET;
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .reads
            .read_page(bounded, move |db| {
                let viewer = viewer.map(Id::to_hex);
                let binds = (&viewer, key.to_hex(), i64::from(limit), offset, skip.map(Id::to_hex));
                let rows = db
                    .prepare_cached(sql.page)?
                    .query_map(binds, read_comment)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(sql.total)?.query_row((key.to_hex(), &viewer), |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        Ok((rows.into_iter().map(into_comment).collect::<StoreResult<_>>()?, total as u64))
    }
}

#[async_trait]
impl CommentRepo for SqliteStore {
    async fn insert(&self, video: Id, owner: Id, content: &str, reply: Option<NewReply>) -> StoreResult<Id> {
        let id = Id::generate();
        let content = content.to_owned();
        let (parent, reply_to) = (reply.map(|r| r.thread.to_hex()), reply.map(|r| r.reply_to.to_hex()));
        // A reply whose thread went meanwhile is not written (the service then answers 404).
        self.writes
            .write(move |db| {
                db.prepare_cached(
                    "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at, parent_id, \
                     reply_to_id) SELECT ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7 \
                     WHERE ?6 IS NULL OR EXISTS (SELECT 1 FROM comments WHERE id = ?6)",
                )?
                .execute((
                    id.to_hex(),
                    video.to_hex(),
                    owner.to_hex(),
                    content,
                    now(),
                    parent,
                    reply_to,
                ))
            })
            .await?;
        Ok(id)
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let sql = "SELECT id, video_id, owner_id, hidden, parent_id FROM comments WHERE id = ?1";
        let row = self.reads.read(|db| {
            db.prepare_cached(sql)?
                .query_row([id.to_hex()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                })
                .optional()
        })?;
        row.map(|(id, video, owner, hidden, parent)| {
            Ok(CommentRef {
                id: parse_id(&id)?,
                video: parse_id(&video)?,
                owner: parse_id(&owner)?,
                hidden,
                parent: parent.as_deref().map(parse_id).transpose()?,
            })
        })
        .transpose()
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let row = self.reads.read(|db| {
            db.prepare_cached(COMMENT_BY_ID)?.query_row((viewer.map(Id::to_hex), id.to_hex()), read_comment).optional()
        })?;
        row.map(into_comment).transpose()
    }

    async fn list(
        &self,
        video: Id,
        viewer: Option<Id>,
        sort: CommentSort,
        skip: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)> {
        let page: &'static str = match sort {
            CommentSort::Newest => &NEWEST_PAGE,
            CommentSort::Top => &TOP_PAGE,
        };
        self.comment_page(PageSql { page, total: COMMENT_TOTAL }, video, viewer, skip, offset, limit).await
    }

    async fn replies(
        &self,
        thread: Id,
        viewer: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)> {
        self.comment_page(PageSql { page: &REPLY_PAGE, total: REPLY_TOTAL }, thread, viewer, None, offset, limit).await
    }

    async fn pinned(&self, video: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let row = self.reads.read(|db| {
            db.prepare_cached(PINNED)?.query_row((viewer.map(Id::to_hex), video.to_hex()), read_comment).optional()
        })?;
        row.map(into_comment).transpose()
    }

    async fn set_pinned(&self, video: Id, id: Id, pinned: bool) -> StoreResult<()> {
        // One transaction: the video's previous pin ends as this one starts (at most one, by the
        // unique index `comments_pinned`).
        self.writes
            .transaction(move |tx| {
                if pinned {
                    tx.prepare_cached(
                        "UPDATE comments SET pinned = 0 WHERE video_id = ?1 AND pinned = 1 AND id <> ?2",
                    )?
                    .execute((video.to_hex(), id.to_hex()))?;
                }
                tx.prepare_cached("UPDATE comments SET pinned = ?2 WHERE id = ?1 AND parent_id IS NULL")?
                    .execute((id.to_hex(), pinned))?;
                Ok(())
            })
            .await
    }

    async fn toggle_heart(&self, id: Id) -> StoreResult<bool> {
        let hearted = self
            .writes
            .write(move |db| {
                db.prepare_cached("UPDATE comments SET hearted = 1 - hearted WHERE id = ?1 RETURNING hearted")?
                    .query_row([id.to_hex()], |row| row.get::<_, bool>(0))
                    .optional()
            })
            .await?;
        Ok(hearted.unwrap_or(false))
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
        // Its likes, its replies and theirs go by `ON DELETE CASCADE`.
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
    use crate::store::sqlite::rows::{POST_COLUMN_NAMES, THREAD_COLUMN_NAMES};
    use crate::store::sqlite::{column_names, query_plan, test_store};
    use crate::store::{NewUser, NewVideo, UserRepo, VideoRepo};

    #[tokio::test]
    async fn comment_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let names: Vec<&str> = POST_COLUMN_NAMES.iter().chain(&THREAD_COLUMN_NAMES).copied().collect();
        assert_eq!(POST_COLUMN_NAMES.len(), PostRow::WIDTH);
        for sql in [COMMENT_BY_ID, &NEWEST_PAGE, &TOP_PAGE, &REPLY_PAGE, PINNED] {
            assert_eq!(column_names(&store, sql), names, "{sql}");
        }
    }

    /// Every list is a walk along an index in its order: no sort of the video's comments.
    #[tokio::test]
    async fn comment_pages_walk_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for (sql, index) in [
            (NEWEST_PAGE.as_str(), "comments_video_threads"),
            (TOP_PAGE.as_str(), "comments_video_top"),
            (REPLY_PAGE.as_str(), "comments_parent_created"),
            (PINNED, "comments_pinned"),
        ] {
            let binds: &[&str] = if sql == PINNED { &["a", "b"] } else { &["a", "b", "1", "0", "c"] };
            let plan = query_plan(&store, sql, binds);
            assert!(plan.iter().any(|d| d.starts_with(&format!("SEARCH p USING INDEX {index}"))), "{sql}: {plan:?}");
            assert!(plan.iter().all(|d| !d.contains("TEMP B-TREE")), "{sql}: {plan:?}");
        }
        let plan = query_plan(&store, REPLY_TOTAL, &["a", "b"]);
        assert!(plan.iter().any(|d| d.starts_with("SEARCH comments USING COVERING INDEX comments_hidden")), "{plan:?}");
        assert!(plan.iter().all(|d| !d.starts_with("SCAN") || d == "SCAN CONSTANT ROW"), "{plan:?}");
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
            comments.push(CommentRepo::insert(&store, clip, owner, &format!("c{n}"), None).await.unwrap());
        }
        let total = |store: &SqliteStore| {
            let store = store.clone();
            async move { CommentRepo::list(&store, clip, None, CommentSort::Newest, None, 0, 1).await.unwrap().1 }
        };
        assert_eq!(total(&store).await, 3);
        let reply = NewReply { thread: comments[1], reply_to: owner };
        CommentRepo::insert(&store, clip, owner, "r", Some(reply)).await.unwrap();
        assert_eq!(total(&store).await, 3, "a reply is not a top-level comment");
        let thread = CommentRepo::get(&store, comments[1], None).await.unwrap().unwrap();
        assert_eq!(thread.replies_count, 1);
        CommentRepo::delete(&store, comments[0]).await.unwrap();
        assert_eq!(total(&store).await, 2);
        VideoRepo::delete(&store, clip).await.unwrap();
        let rows: i64 =
            store.reads.read(|db| db.query_row("SELECT COUNT(*) FROM comment_counts", [], |row| row.get(0))).unwrap();
        assert_eq!(rows, 0, "the count goes with its video");
    }
}
