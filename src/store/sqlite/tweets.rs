//! SQLite persistence of tweets: writing them, one tweet, and a user's tweets.

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::rows::{PostRow, post_columns};
use super::{SqliteStore, now, parse_id};
use crate::domain::social::Tweet;
use crate::domain::{Id, moderation};
use crate::store::{StoreResult, TweetRef, TweetRepo};

/// Tweets with their like facts for the viewer `?1` and their authors, as `PostRow` reads them.
macro_rules! tweet_select {
    () => {
        concat!("SELECT ", post_columns!("tweet_id", "NULL"), " FROM tweets p JOIN users u ON u.id = p.owner_id")
    };
}

/// The tweet `?2`.
const TWEET_BY_ID: &str = concat!(tweet_select!(), " WHERE p.id = ?2");
/// Every tweet of the user `?2` the viewer `?1` sees (a removed one only its author), newest first.
const TWEETS_BY_OWNER: &str = concat!(
    tweet_select!(),
    " WHERE p.owner_id = ?2 AND (p.hidden = 0 OR p.owner_id = ?1) ORDER BY p.created_at DESC, p.id DESC"
);

#[async_trait]
impl TweetRepo for SqliteStore {
    async fn insert(&self, owner: Id, content: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let content = content.to_owned();
        self.writes
            .write(move |db| {
                db.prepare_cached(
                    "INSERT INTO tweets (id, owner_id, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                )?
                .execute((id.to_hex(), owner.to_hex(), content, now()))
            })
            .await?;
        Ok(id)
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<TweetRef>> {
        let sql = "SELECT owner_id, hidden FROM tweets WHERE id = ?1";
        let read = |row: &rusqlite::Row| Ok((row.get::<_, String>(0)?, row.get(1)?));
        let found = self.reads.read(|db| db.prepare_cached(sql)?.query_row([id.to_hex()], read).optional())?;
        found.map(|(owner, hidden)| Ok(TweetRef { id, owner: parse_id(&owner)?, hidden })).transpose()
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let sql = "UPDATE tweets SET removed_reason = ?2, hidden = ?3 WHERE id = ?1";
        let hidden = moderation::hidden(reason.is_some(), owner_suspended);
        let changed =
            self.writes.write(move |db| db.prepare_cached(sql)?.execute((id.to_hex(), reason, hidden))).await?;
        Ok(changed > 0)
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Tweet>> {
        let row = self.reads.read(|db| {
            db.prepare_cached(TWEET_BY_ID)?.query_row((viewer.map(Id::to_hex), id.to_hex()), PostRow::read).optional()
        })?;
        row.map(PostRow::into_tweet).transpose()
    }

    async fn by_owner(&self, owner: Id, viewer: Option<Id>) -> StoreResult<Vec<Tweet>> {
        // Every tweet of the user: no page bounds it.
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut tweets = db.prepare_cached(TWEETS_BY_OWNER)?;
                let rows = tweets.query_map((viewer.map(Id::to_hex), owner.to_hex()), PostRow::read)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter().map(PostRow::into_tweet).collect()
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        let content = content.to_owned();
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached("UPDATE tweets SET content = ?1, updated_at = ?2 WHERE id = ?3")?.execute((
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
            .write(move |db| db.prepare_cached("DELETE FROM tweets WHERE id = ?1")?.execute([id.to_hex()]))
            .await?;
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::rows::POST_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, test_store};

    #[tokio::test]
    async fn tweet_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        assert_eq!(column_names(&store, TWEET_BY_ID), POST_COLUMN_NAMES);
        assert_eq!(column_names(&store, TWEETS_BY_OWNER), POST_COLUMN_NAMES);
    }
}
