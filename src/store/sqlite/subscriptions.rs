//! SQLite persistence of subscriptions: following, the lists on both sides, and the subscription
//! feed.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::rows::{LatestVideoRow, OwnerRow, VideoRow, videos_from};
use super::sql::{LATEST_VIDEO, OWNER_OF_VIDEO, VIDEO_COLUMNS, levels_sql, owner_columns, page_clause, visible_sql};
use super::{SqliteStore, parse_id, toggle_pair};
use crate::domain::social::{ChannelCard, SubscribedChannelItem, SubscriberCard, SubscriberItem};
use crate::domain::video::Video;
use crate::domain::visibility::Place;
use crate::domain::{Id, Timestamp, Twin};
use crate::store::{StoreResult, SubscriptionRepo};

const UNSUBSCRIBE: &str = "DELETE FROM subscriptions WHERE subscriber_id = ?1 AND channel_id = ?2";
const SUBSCRIBE: &str =
    "INSERT INTO subscriptions (id, subscriber_id, channel_id, created_at, updated_at) VALUES (?3, ?1, ?2, ?4, ?4)";

/// Subscriptions whose `filter_column` is `?1`, newest first, each with the user on the other
/// side (`side`), that user's subscriber count and newest listed video, as `SubscriptionRow`
/// reads them.
fn subscription_select(side: &str, filter_column: &str) -> String {
    format!(
        "SELECT s.id, s.subscriber_id, s.channel_id, s.created_at, s.updated_at, \
         COALESCE((SELECT c.subscribers FROM subscription_counts c WHERE c.user_id = u.id), 0) AS subscribers_count, \
         (SELECT v.id FROM videos v WHERE v.owner_id = u.id AND {public} \
             ORDER BY v.created_at DESC, v.id DESC LIMIT 1) AS latest_video_id, \
         {owner} FROM subscriptions s JOIN users u ON u.id = s.{side} WHERE s.{filter_column} = ?1 \
         ORDER BY s.created_at DESC, s.id DESC",
        public = visible_sql("v", Place::Listing, None),
        owner = owner_columns!(),
    )
}

/// A channel's subscribers.
static SUBSCRIBERS: LazyLock<String> = LazyLock::new(|| subscription_select("subscriber_id", "channel_id"));
/// The channels a user follows.
static SUBSCRIBED_CHANNELS: LazyLock<String> = LazyLock::new(|| subscription_select("channel_id", "subscriber_id"));

/// The subscription feed's page query (binds: subscriber, limit, offset) and count (binds: subscriber):
/// the followed channels come from the subscriber index; the page's ids are picked from
/// `videos_owner_created` alone, channel by channel (the index holds the visibility too), and only
/// the page's rows are then read with their channels. Left to itself the planner walks
/// `videos_visibility_created` instead, which reads every public video of the site until the page
/// is full; reading whole rows while picking read a row (and its channel) for every candidate.
static SUBSCRIPTION_FEED: LazyLock<(String, String)> = LazyLock::new(|| {
    let filter = format!(
        "WHERE v.owner_id IN (SELECT s.channel_id FROM subscriptions s WHERE s.subscriber_id = ?1) AND {}",
        visible_sql("v", Place::Listing, None)
    );
    let order = "ORDER BY v.created_at DESC, v.id DESC";
    let page = format!(
        "WITH page AS MATERIALIZED (SELECT v.id FROM videos v INDEXED BY videos_owner_created {filter} {order} {}) \
         SELECT {VIDEO_COLUMNS} FROM page CROSS JOIN videos v USING (id) {OWNER_OF_VIDEO} {order}",
        page_clause("?2", "?3")
    );
    // The total from the per-owner counts the triggers keep: one lookup per followed channel instead
    // of a walk over all their videos (500 channels, 1M videos: 1 s as COUNT(*), 0.1 ms as this sum).
    let listed = levels_sql("c", Place::Listing.levels(false)).map_or_else(String::new, |l| format!(" AND {l}"));
    let count = format!(
        "SELECT COALESCE(SUM(c.n), 0) FROM subscriptions s JOIN video_counts c ON c.owner_id = s.channel_id \
         WHERE s.subscriber_id = ?1{listed}"
    );
    (page, count)
});

/// A subscription with the user on its other side: the columns of `subscription_select`.
struct SubscriptionRow {
    id: String,
    subscriber_id: String,
    channel_id: String,
    created_at: i64,
    updated_at: i64,
    subscribers_count: i64,
    latest_video_id: Option<String>,
    user: OwnerRow,
}

impl SubscriptionRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(SubscriptionRow {
            id: row.get(0)?,
            subscriber_id: row.get(1)?,
            channel_id: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            subscribers_count: row.get(5)?,
            latest_video_id: row.get(6)?,
            user: OwnerRow::read(row, 7)?,
        })
    }
}

#[async_trait]
impl SubscriptionRepo for SqliteStore {
    async fn toggle(&self, subscriber: Id, channel: Id) -> StoreResult<bool> {
        self.writes.transaction(move |tx| toggle_pair(tx, UNSUBSCRIBE, SUBSCRIBE, subscriber, channel)).await
    }

    async fn subscribers(&self, channel: Id) -> StoreResult<Vec<SubscriberItem>> {
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut subscribers = db.prepare_cached(&SUBSCRIBERS)?;
                let rows = subscribers.query_map([channel.to_hex()], SubscriptionRow::read)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
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
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut channels = db.prepare_cached(&SUBSCRIBED_CHANNELS)?;
                let rows = channels.query_map([subscriber.to_hex()], SubscriptionRow::read)?;
                let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                let mut latest = db.prepare_cached(LATEST_VIDEO)?;
                let mut with_latest = Vec::with_capacity(rows.len());
                for row in rows {
                    let video = match &row.latest_video_id {
                        Some(id) => latest.query_row([id], LatestVideoRow::read).optional()?,
                        None => None,
                    };
                    with_latest.push((row, video));
                }
                Ok(with_latest)
            })
            .await?;
        rows.into_iter()
            .map(|(row, video)| {
                let latest_video = video.map(LatestVideoRow::into_latest).transpose()?;
                let user = row.user.into_summary()?;
                let card = ChannelCard {
                    id: user.id,
                    username: user.username,
                    full_name: user.full_name,
                    avatar: user.avatar,
                    subscribers_count: row.subscribers_count,
                    latest_video,
                };
                Ok(SubscribedChannelItem {
                    id: parse_id(&row.id)?,
                    subscriber: parse_id(&row.subscriber_id)?,
                    channel: Twin::new(card),
                    created_at: Timestamp(row.created_at),
                    updated_at: Timestamp(row.updated_at),
                })
            })
            .collect()
    }

    async fn subscription_feed(&self, subscriber: Id, offset: u64, limit: u32) -> StoreResult<(Vec<Video>, u64)> {
        let subscriber = subscriber.to_hex();
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        // On the blocking pool: hundreds of index seeks are too long for the request's thread. The
        // read connections are reused last-in first-out, so the one used last, whose page cache
        // holds the followed channels' index pages, serves the next feed.
        let (rows, total) = self
            .reads
            .read_off_thread(move |db| {
                let (page, count) = &*SUBSCRIPTION_FEED;
                let rows = db
                    .prepare_cached(page)?
                    .query_map((&subscriber, i64::from(limit), offset), VideoRow::read)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(count)?.query_row([&subscriber], |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        Ok((videos_from(rows)?, total as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::{OWNER_COLUMN_NAMES, VIDEO_COLUMN_NAMES};
    use crate::store::sqlite::{column_names, query_plan, test_store};

    #[tokio::test]
    async fn subscription_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let mut expected = vec![
            "id",
            "subscriber_id",
            "channel_id",
            "created_at",
            "updated_at",
            "subscribers_count",
            "latest_video_id",
        ];
        expected.extend(OWNER_COLUMN_NAMES);
        assert_eq!(column_names(&store, &SUBSCRIBERS), expected);
        assert_eq!(column_names(&store, &SUBSCRIBED_CHANNELS), expected);
        let latest = ["id", "title", "thumbnail", "duration", "views", "created_at"];
        assert_eq!(column_names(&store, LATEST_VIDEO), latest);
        assert_eq!(column_names(&store, &SUBSCRIPTION_FEED.0), VIDEO_COLUMN_NAMES, "the feed's page");
    }

    #[tokio::test]
    async fn the_subscription_feed_reads_the_followed_channels_through_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let (page, count) = &*SUBSCRIPTION_FEED;
        let subscriber = Id::generate().to_hex();
        let binds = [subscriber.as_str(), "10", "0"];
        let details = query_plan(&store, page, &binds);
        // The materialised page of ids is the one thing scanned.
        let full_scan = |details: &[String]| {
            details.iter().any(|d| d.starts_with("SCAN") && !d.contains("INDEX") && d != "SCAN page")
        };
        assert!(!full_scan(&details), "{details:?}");
        assert!(details.iter().any(|d| d.contains("USING COVERING INDEX videos_owner_created")), "{details:?}");
        // Whole rows only for the page: the table is searched by id, never walked.
        let row_reads: Vec<_> = details.iter().filter(|d| d.contains(" v ")).collect();
        assert!(
            row_reads.iter().all(|d| d.contains("COVERING INDEX videos_owner_created") || d.contains("(id=?)")),
            "{details:?}"
        );
        let details = query_plan(&store, count, &binds[..1]);
        assert!(!full_scan(&details), "{details:?}");
        assert!(!details.iter().any(|d| d.contains(" v ") || d.contains("videos")), "no video is read: {details:?}");
        assert!(details.iter().any(|d| d.contains("SEARCH c USING PRIMARY KEY")), "{details:?}");
    }
}
