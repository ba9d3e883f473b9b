//! SQLite persistence of likes, comments, tweets, subscriptions and playlists.

use async_trait::async_trait;

use super::direct::BOUNDED_OFFSET;
use super::videos::{VIDEO_SELECT, VideoRow, subscription_feed_sql, videos_from};
use super::{OwnerRow, SqliteStore, backend, map_err, now, page_clause, parse_id, visible_sql};
use crate::domain::social::{
    ChannelCard, Comment, LatestVideo, LikeTarget, LikedVideoItem, PlaylistRecord, SubscribedChannelItem,
    SubscriberCard, SubscriberItem, Tweet,
};
use crate::domain::video::Video;
use crate::domain::visibility::Place;
use crate::domain::{Id, Timestamp, Twin};
use crate::store::{CommentRef, CommentRepo, LikeRepo, PlaylistRepo, StoreResult, SubscriptionRepo, TweetRepo};

/// A bind value for the small statements below.
enum Value {
    Text(String),
    Int(i64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<Id> for Value {
    fn from(id: Id) -> Self {
        Value::Text(id.to_hex())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

fn target_column(target: LikeTarget) -> (&'static str, Id) {
    match target {
        LikeTarget::Video(id) => ("video_id", id),
        LikeTarget::Comment(id) => ("comment_id", id),
        LikeTarget::Tweet(id) => ("tweet_id", id),
    }
}

/// A video's comment count: one lookup in `comment_counts` (kept by triggers, migration 0009).
const COMMENT_TOTAL_SQL: &str = "SELECT COALESCE((SELECT n FROM comment_counts WHERE video_id = ?), 0)";

/// A comment or tweet row with its author and like facts for one viewer.
#[derive(sqlx::FromRow)]
struct PostRow {
    id: String,
    content: String,
    video_id: Option<String>,
    likes_count: i64,
    is_liked: bool,
    created_at: i64,
    updated_at: i64,
    #[sqlx(flatten)]
    owner: OwnerRow,
}

/// Selects comments (`table` = comments) or tweets with like counts; `?1` binds the viewer.
fn post_select(table: &str, like_column: &str, video_column: &str) -> String {
    format!(
        "SELECT p.id, p.content, {video_column} AS video_id, p.created_at, p.updated_at, \
         (SELECT COUNT(*) FROM likes l WHERE l.{like_column} = p.id) AS likes_count, \
         EXISTS (SELECT 1 FROM likes l WHERE l.{like_column} = p.id AND l.liked_by = ?1) AS is_liked, \
         u.id AS owner_id, u.username AS owner_username, u.full_name AS owner_full_name, u.avatar AS owner_avatar \
         FROM {table} p JOIN users u ON u.id = p.owner_id"
    )
}

pub(super) fn comment_select() -> String {
    post_select("comments", "comment_id", "p.video_id")
}

fn tweet_select() -> String {
    post_select("tweets", "tweet_id", "NULL")
}

impl PostRow {
    /// The same row read through rusqlite (`direct`), by position in `post_select`'s order.
    fn from_direct(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(PostRow {
            id: row.get(0)?,
            content: row.get(1)?,
            video_id: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            likes_count: row.get(5)?,
            is_liked: row.get(6)?,
            owner: OwnerRow::from_direct(row, 7)?,
        })
    }

    fn into_comment(self) -> StoreResult<Comment> {
        let video = parse_id(self.video_id.as_deref().unwrap_or_default())?;
        Ok(Comment {
            id: parse_id(&self.id)?,
            content: self.content,
            video,
            owner: Video::owner_twin(self.owner.into_summary()?),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }

    fn into_tweet(self) -> StoreResult<Tweet> {
        Ok(Tweet {
            id: parse_id(&self.id)?,
            content: self.content,
            owner: Video::owner_twin(self.owner.into_summary()?),
            likes_count: self.likes_count,
            is_liked: self.is_liked,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

impl SqliteStore {
    async fn posts(&self, sql: String, viewer: Option<Id>, binds: Vec<Value>) -> StoreResult<Vec<PostRow>> {
        let mut query = sqlx::query_as::<_, PostRow>(sqlx::AssertSqlSafe(sql)).bind(viewer.map(Id::to_hex));
        for value in binds {
            query = match value {
                Value::Text(t) => query.bind(t),
                Value::Int(i) => query.bind(i),
            };
        }
        query.fetch_all(&self.pool).await.map_err(backend)
    }

    async fn execute(&self, sql: &'static str, binds: Vec<Value>) -> StoreResult<u64> {
        let mut query = sqlx::query(sql);
        for value in binds {
            query = match value {
                Value::Text(t) => query.bind(t),
                Value::Int(i) => query.bind(i),
            };
        }
        Ok(query.execute(&self.pool).await.map_err(map_err)?.rows_affected())
    }

    /// Deletes the (a, b) row of a toggle table, or inserts it if absent, under one write lock.
    async fn flip(&self, delete_sql: String, insert_sql: String, a: Id, b: Id) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query(sqlx::AssertSqlSafe(delete_sql))
            .bind(a.to_hex())
            .bind(b.to_hex())
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        if removed == 0 {
            let now = now();
            sqlx::query(sqlx::AssertSqlSafe(insert_sql))
                .bind(Id::generate().to_hex())
                .bind(a.to_hex())
                .bind(b.to_hex())
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(removed == 0)
    }
}

#[async_trait]
impl LikeRepo for SqliteStore {
    async fn toggle(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        let (column, id) = target_column(target);
        self.flip(
            format!("DELETE FROM likes WHERE liked_by = ? AND {column} = ?"),
            format!("INSERT INTO likes (id, liked_by, {column}, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"),
            user,
            id,
        )
        .await
    }

    async fn count(&self, target: LikeTarget) -> StoreResult<i64> {
        let (column, id) = target_column(target);
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM likes WHERE {column} = ?")))
            .bind(id.to_hex())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn is_liked(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        let (column, id) = target_column(target);
        let sql = format!("SELECT EXISTS (SELECT 1 FROM likes WHERE liked_by = ? AND {column} = ?)");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(user.to_hex())
            .bind(id.to_hex())
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn liked_videos(&self, user: Id) -> StoreResult<Vec<LikedVideoItem>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            like_id: String,
            like_created: i64,
            like_updated: i64,
            #[sqlx(flatten)]
            video: VideoRow,
        }
        let sql = VIDEO_SELECT.replacen(
            "SELECT ",
            "SELECT l.id AS like_id, l.created_at AS like_created, l.updated_at AS like_updated, ",
            1,
        ) + &format!(
            " JOIN likes l ON l.video_id = v.id WHERE l.liked_by = ?1 AND {} ORDER BY l.created_at DESC, l.id DESC",
            visible_sql("v", Place::ByLink, Some("?1"))
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.to_hex())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|row| {
                Ok(LikedVideoItem {
                    id: parse_id(&row.like_id)?,
                    liked_by: user,
                    video: Twin::new(row.video.into_video()?),
                    created_at: Timestamp(row.like_created),
                    updated_at: Timestamp(row.like_updated),
                })
            })
            .collect()
    }
}

#[async_trait]
impl CommentRepo for SqliteStore {
    async fn insert(&self, video: Id, owner: Id, content: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let now = now();
        self.execute(
            "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![id.into(), video.into(), owner.into(), content.into(), now.into(), now.into()],
        )
        .await?;
        Ok(id)
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT id, video_id, owner_id FROM comments WHERE id = ?")
                .bind(id.to_hex())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|(id, video, owner)| {
            Ok(CommentRef { id: parse_id(&id)?, video: parse_id(&video)?, owner: parse_id(&owner)? })
        })
        .transpose()
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let sql = format!("{} WHERE p.id = ?2", comment_select());
        let rows = self.posts(sql, viewer, vec![id.into()]).await?;
        rows.into_iter().next().map(PostRow::into_comment).transpose()
    }

    async fn list(&self, video: Id, viewer: Option<Id>, offset: u64, limit: u32) -> StoreResult<(Vec<Comment>, u64)> {
        let sql = format!(
            "{} WHERE p.video_id = ?2 ORDER BY p.created_at DESC, p.id DESC {}",
            comment_select(),
            page_clause("?3", "?4")
        );
        // A page through an index and a counter lookup stay on the request's thread, unless the page is deep (D17).
        let bounded = offset <= BOUNDED_OFFSET;
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .direct
            .read_page(bounded, move |db| {
                let binds = (viewer.map(Id::to_hex), video.to_hex(), i64::from(limit), offset);
                let rows = db
                    .prepare_cached(&sql)?
                    .query_map(binds, PostRow::from_direct)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(COMMENT_TOTAL_SQL)?.query_row([video.to_hex()], |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        Ok((rows.into_iter().map(PostRow::into_comment).collect::<StoreResult<_>>()?, total as u64))
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        let sql = "UPDATE comments SET content = ?, updated_at = ? WHERE id = ?";
        Ok(self.execute(sql, vec![content.into(), now().into(), id.into()]).await? > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM comments WHERE id = ?", vec![id.into()]).await? > 0)
    }
}

#[async_trait]
impl TweetRepo for SqliteStore {
    async fn insert(&self, owner: Id, content: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let now = now();
        self.execute(
            "INSERT INTO tweets (id, owner_id, content, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?)",
            vec![id.into(), owner.into(), content.into(), now.into(), now.into()],
        )
        .await?;
        Ok(id)
    }

    async fn owner_of(&self, id: Id) -> StoreResult<Option<Id>> {
        let owner: Option<String> = sqlx::query_scalar("SELECT owner_id FROM tweets WHERE id = ?")
            .bind(id.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        owner.as_deref().map(parse_id).transpose()
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Tweet>> {
        let rows = self.posts(format!("{} WHERE p.id = ?2", tweet_select()), viewer, vec![id.into()]).await?;
        rows.into_iter().next().map(PostRow::into_tweet).transpose()
    }

    async fn by_owner(&self, owner: Id, viewer: Option<Id>) -> StoreResult<Vec<Tweet>> {
        let sql = format!("{} WHERE p.owner_id = ?2 ORDER BY p.created_at DESC, p.id DESC", tweet_select());
        let rows = self.posts(sql, viewer, vec![owner.into()]).await?;
        rows.into_iter().map(PostRow::into_tweet).collect()
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        let sql = "UPDATE tweets SET content = ?, updated_at = ? WHERE id = ?";
        Ok(self.execute(sql, vec![content.into(), now().into(), id.into()]).await? > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM tweets WHERE id = ?", vec![id.into()]).await? > 0)
    }
}

/// A subscription joined with the user on its other side and that user's subscriber count.
#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: String,
    subscriber_id: String,
    channel_id: String,
    created_at: i64,
    updated_at: i64,
    subscribers_count: i64,
    latest_video_id: Option<String>,
    #[sqlx(flatten)]
    user: OwnerRow,
}

/// `side` is the column naming the user to show (`subscriber_id` or `channel_id`).
fn subscription_select(side: &str, filter_column: &str) -> String {
    format!(
        "SELECT s.id, s.subscriber_id, s.channel_id, s.created_at, s.updated_at, \
         COALESCE((SELECT c.subscribers FROM subscription_counts c WHERE c.user_id = u.id), 0) AS subscribers_count, \
         (SELECT v.id FROM videos v WHERE v.owner_id = u.id AND {public} \
             ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_video_id, \
         u.id AS owner_id, u.username AS owner_username, u.full_name AS owner_full_name, u.avatar AS owner_avatar \
         FROM subscriptions s JOIN users u ON u.id = s.{side} WHERE s.{filter_column} = ? \
         ORDER BY s.created_at DESC, s.id DESC",
        public = visible_sql("v", Place::Listing, None)
    )
}

#[async_trait]
impl SubscriptionRepo for SqliteStore {
    async fn toggle(&self, subscriber: Id, channel: Id) -> StoreResult<bool> {
        self.flip(
            "DELETE FROM subscriptions WHERE subscriber_id = ? AND channel_id = ?".into(),
            "INSERT INTO subscriptions (id, subscriber_id, channel_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
                .into(),
            subscriber,
            channel,
        )
        .await
    }

    async fn subscribers(&self, channel: Id) -> StoreResult<Vec<SubscriberItem>> {
        let rows: Vec<SubscriptionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(subscription_select("subscriber_id", "channel_id")))
                .bind(channel.to_hex())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.into_iter()
            .map(|row| {
                let user = row.user.into_summary()?;
                Ok(SubscriberItem {
                    id: parse_id(&row.id)?,
                    channel: parse_id(&row.channel_id)?,
                    subscriber: SubscriberCard {
                        id: user.id,
                        username: user.username,
                        full_name: user.full_name,
                        avatar: user.avatar,
                        subscribers_count: row.subscribers_count,
                    },
                    created_at: Timestamp(row.created_at),
                    updated_at: Timestamp(row.updated_at),
                })
            })
            .collect()
    }

    async fn subscribed_channels(&self, subscriber: Id) -> StoreResult<Vec<SubscribedChannelItem>> {
        let rows: Vec<SubscriptionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(subscription_select("channel_id", "subscriber_id")))
                .bind(subscriber.to_hex())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let latest_video = match &row.latest_video_id {
                Some(id) => self.latest_video(id).await?,
                None => None,
            };
            let user = row.user.into_summary()?;
            let card = ChannelCard {
                id: user.id,
                username: user.username,
                full_name: user.full_name,
                avatar: user.avatar,
                subscribers_count: row.subscribers_count,
                latest_video,
            };
            items.push(SubscribedChannelItem {
                id: parse_id(&row.id)?,
                subscriber: parse_id(&row.subscriber_id)?,
                channel: Twin::new(card),
                created_at: Timestamp(row.created_at),
                updated_at: Timestamp(row.updated_at),
            });
        }
        Ok(items)
    }

    async fn subscription_feed(&self, subscriber: Id, offset: u64, limit: u32) -> StoreResult<(Vec<Video>, u64)> {
        let (page, count) = subscription_feed_sql();
        let subscriber = subscriber.to_hex();
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // Through rusqlite on the blocking pool: hundreds of index seeks are too long for the
        // request's thread, and the direct reads reuse the connection used last, whose page cache
        // holds the followed channels' index pages (sqlx hands out its connections in turn).
        let (rows, total) = self
            .direct
            .read_page(false, move |db| {
                let rows = db
                    .prepare_cached(&page)?
                    .query_map((&subscriber, i64::from(limit), offset), VideoRow::from_direct)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(&count)?.query_row([&subscriber], |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        Ok((videos_from(rows)?, total as u64))
    }
}

impl SqliteStore {
    async fn latest_video(&self, id: &str) -> StoreResult<Option<LatestVideo>> {
        let row: Option<(String, String, String, f64, i64, i64)> =
            sqlx::query_as("SELECT id, title, thumbnail, duration, views, created_at FROM videos WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|(id, title, thumbnail, duration, views, created_at)| {
            Ok(LatestVideo { id: parse_id(&id)?, title, thumbnail, duration, views, created_at: Timestamp(created_at) })
        })
        .transpose()
    }

    async fn playlists_where(&self, column: &'static str, value: Id) -> StoreResult<Vec<PlaylistRecord>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            name: String,
            description: String,
            created_at: i64,
            updated_at: i64,
            #[sqlx(flatten)]
            owner: OwnerRow,
        }
        let sql = format!(
            "SELECT p.id, p.name, p.description, p.created_at, p.updated_at, u.id AS owner_id, \
             u.username AS owner_username, u.full_name AS owner_full_name, u.avatar AS owner_avatar \
             FROM playlists p JOIN users u ON u.id = p.owner_id WHERE p.{column} = ? \
             ORDER BY p.created_at DESC, p.id DESC"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(value.to_hex())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut playlists = Vec::with_capacity(rows.len());
        for row in rows {
            let ids: Vec<String> =
                sqlx::query_scalar("SELECT video_id FROM playlist_videos WHERE playlist_id = ? ORDER BY position")
                    .bind(&row.id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
            playlists.push(PlaylistRecord {
                id: parse_id(&row.id)?,
                name: row.name,
                description: row.description,
                owner: row.owner.into_summary()?,
                video_ids: ids.iter().map(|i| parse_id(i)).collect::<StoreResult<_>>()?,
                created_at: Timestamp(row.created_at),
                updated_at: Timestamp(row.updated_at),
            });
        }
        Ok(playlists)
    }

    async fn touch_playlist(&self, id: Id) -> StoreResult<()> {
        self.execute("UPDATE playlists SET updated_at = ? WHERE id = ?", vec![now().into(), id.into()]).await.map(drop)
    }
}

#[async_trait]
impl PlaylistRepo for SqliteStore {
    async fn insert(&self, owner: Id, name: &str, description: &str) -> StoreResult<Id> {
        let id = Id::generate();
        let now = now();
        self.execute(
            "INSERT INTO playlists (id, owner_id, name, description, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![id.into(), owner.into(), name.into(), description.into(), now.into(), now.into()],
        )
        .await?;
        Ok(id)
    }

    async fn get(&self, id: Id) -> StoreResult<Option<PlaylistRecord>> {
        Ok(self.playlists_where("id", id).await?.into_iter().next())
    }

    async fn by_owner(&self, owner: Id) -> StoreResult<Vec<PlaylistRecord>> {
        self.playlists_where("owner_id", owner).await
    }

    async fn update(&self, id: Id, name: Option<&str>, description: Option<&str>) -> StoreResult<bool> {
        let changed = sqlx::query(
            "UPDATE playlists SET name = COALESCE(?, name), description = COALESCE(?, description), updated_at = ? \
             WHERE id = ?",
        )
        .bind(name)
        .bind(description)
        .bind(now())
        .bind(id.to_hex())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(changed.rows_affected() > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM playlists WHERE id = ?", vec![id.into()]).await? > 0)
    }

    async fn add_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let added = self
            .execute(
                "INSERT INTO playlist_videos (playlist_id, video_id, position) VALUES (?1, ?2, \
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM playlist_videos WHERE playlist_id = ?1)) \
                 ON CONFLICT (playlist_id, video_id) DO NOTHING",
                vec![id.into(), video.into()],
            )
            .await?;
        if added > 0 {
            self.touch_playlist(id).await?;
        }
        Ok(())
    }

    async fn remove_video(&self, id: Id, video: Id) -> StoreResult<()> {
        let removed = self
            .execute(
                "DELETE FROM playlist_videos WHERE playlist_id = ? AND video_id = ?",
                vec![id.into(), video.into()],
            )
            .await?;
        if removed > 0 {
            self.touch_playlist(id).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CommentRepo, NewUser, NewVideo, UserRepo, VideoRepo};

    #[tokio::test]
    async fn comment_totals_are_lookups_kept_by_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("comments.db")).await.unwrap();
        let plan = super::super::query_plan(&store, COMMENT_TOTAL_SQL, &["a"]).await;
        assert!(plan.iter().any(|d| d.starts_with("SEARCH comment_counts")), "{plan:?}");
        assert!(!plan.iter().any(|d| d.contains(" comments ")), "{plan:?}");

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
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comment_counts").fetch_one(&store.pool).await.unwrap();
        assert_eq!(rows, 0, "the count goes with its video");
    }
}
