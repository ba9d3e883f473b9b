//! Group commit of the watch page's writes: the watches of concurrent requests queue for one task,
//! which applies whatever has queued in one transaction of a few set-based statements.
//!
//! Each statement is a round trip to the writer connection's thread; applied one request at a
//! time, a watch cost about eight of them and the writer's queue, not SQLite, bounded the page's
//! throughput (BENCHMARKS.md). Each caller still gets the exact count its own view produced.

use std::collections::HashMap;

use serde_json::json;
use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::backend;
use crate::domain::trending::view_hour;
use crate::store::{StoreError, StoreResult, Watch};

/// Most watches per transaction: bounds a statement's parameter and one batch's latency.
const MAX_BATCH: usize = 512;
/// Watches queued beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

type Reply = oneshot::Sender<StoreResult<Option<i64>>>;

/// The queue in front of the task that applies watches.
#[derive(Clone)]
pub(super) struct WatchWriter {
    queue: mpsc::Sender<(Watch, Reply)>,
}

impl WatchWriter {
    /// Starts the task on the current runtime; it ends when the last `WatchWriter` is dropped.
    pub(super) fn start(writer: SqlitePool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(writer, waiting));
        WatchWriter { queue }
    }

    /// Applies `watch` with the others queued beside it; the new view count when it was counted.
    pub(super) async fn record(&self, watch: Watch) -> StoreResult<Option<i64>> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || StoreError::backend("the watch writer has stopped");
        self.queue.send((watch, reply)).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

async fn run(writer: SqlitePool, mut waiting: mpsc::Receiver<(Watch, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let watches: Vec<Watch> = batch.iter().map(|(watch, _)| *watch).collect();
        match apply(&writer, &watches).await {
            Ok(views) => {
                for ((_, reply), views) in batch.drain(..).zip(views) {
                    let _ = reply.send(Ok(views));
                }
            }
            // One failing watch must not fail the others: each is applied alone, with its own outcome.
            Err(_) if batch.len() > 1 => {
                for (watch, reply) in batch.drain(..) {
                    let alone = apply(&writer, &[watch]).await.map(|views| views.first().copied().flatten());
                    let _ = reply.send(alone);
                }
            }
            Err(e) => {
                if let Some((_, reply)) = batch.pop() {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }
}

/// The views counted per video (first arrival first), then the history entries, in one transaction.
/// Watches of videos or users deleted meanwhile write nothing; their count is `None`.
async fn apply(writer: &SqlitePool, watches: &[Watch]) -> StoreResult<Vec<Option<i64>>> {
    let counted: Vec<_> =
        watches.iter().filter(|w| w.counted).map(|w| json!([w.video.to_hex(), view_hour(w.at)])).collect();
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let mut totals = HashMap::new();
    if !counted.is_empty() {
        let counted = serde_json::Value::from(counted).to_string();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "UPDATE videos SET views = views + c.n \
             FROM (SELECT value ->> 0 AS id, COUNT(*) AS n FROM json_each(?1) GROUP BY 1) AS c \
             WHERE videos.id = c.id RETURNING videos.id, videos.views",
        )
        .bind(&counted)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        totals.extend(rows);
        sqlx::query(
            "INSERT INTO video_view_hours (video_id, hour, n) \
             SELECT value ->> 0, value ->> 1, COUNT(*) FROM json_each(?1) \
             WHERE EXISTS (SELECT 1 FROM videos WHERE id = value ->> 0) GROUP BY 1, 2 \
             ON CONFLICT (video_id, hour) DO UPDATE SET n = n + excluded.n",
        )
        .bind(&counted)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    let mut caps: HashMap<u32, Vec<serde_json::Value>> = HashMap::new();
    for watch in watches {
        if let Some(entry) = watch.history {
            let row = json!([entry.user.to_hex(), watch.video.to_hex(), watch.at.millis()]);
            caps.entry(entry.max).or_default().push(row);
        }
    }
    for (max, entries) in caps {
        let entries = serde_json::Value::from(entries).to_string();
        // Later watches of a user get higher `seq`s (the batch's order), so the newest is first.
        sqlx::query(
            "INSERT INTO watch_history (user_id, video_id, seq, watched_at) \
             SELECT e.value ->> 0, e.value ->> 1, \
                    (SELECT COALESCE(MAX(seq), 0) FROM watch_history WHERE user_id = e.value ->> 0) \
                    + ROW_NUMBER() OVER (PARTITION BY e.value ->> 0 ORDER BY e.key), \
                    e.value ->> 2 \
             FROM json_each(?1) AS e \
             WHERE EXISTS (SELECT 1 FROM videos WHERE id = e.value ->> 1) \
               AND EXISTS (SELECT 1 FROM users WHERE id = e.value ->> 0) \
             ORDER BY e.key \
             ON CONFLICT (user_id, video_id) DO UPDATE SET seq = excluded.seq, watched_at = excluded.watched_at",
        )
        .bind(&entries)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "DELETE FROM watch_history AS h \
             WHERE h.user_id IN (SELECT value ->> 0 FROM json_each(?1)) AND h.seq <= \
             (SELECT w.seq FROM watch_history w WHERE w.user_id = h.user_id ORDER BY w.seq DESC LIMIT 1 OFFSET ?2)",
        )
        .bind(&entries)
        .bind(i64::from(max))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(views_per_watch(watches, totals))
}

/// Hands out each video's new total in arrival order: with `n` counted watches of a video that
/// now has `total` views, the first sees `total - n + 1` and the last `total`.
fn views_per_watch(watches: &[Watch], totals: HashMap<String, i64>) -> Vec<Option<i64>> {
    let mut remaining: HashMap<String, i64> = HashMap::new();
    for watch in watches.iter().filter(|w| w.counted) {
        *remaining.entry(watch.video.to_hex()).or_default() += 1;
    }
    watches
        .iter()
        .map(|watch| {
            if !watch.counted {
                return None;
            }
            let video = watch.video.to_hex();
            let total = *totals.get(&video)?;
            let left = remaining.get_mut(&video)?;
            *left -= 1;
            Some(total - *left)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Id, Timestamp};

    fn watch(video: Id, counted: bool) -> Watch {
        Watch { video, at: Timestamp(0), counted, history: None }
    }

    #[test]
    fn each_counted_watch_sees_the_total_its_own_view_made() {
        let (a, b, gone) = (Id::generate(), Id::generate(), Id::generate());
        let watches = [watch(a, true), watch(b, true), watch(a, false), watch(a, true), watch(gone, true)];
        let totals = HashMap::from([(a.to_hex(), 10), (b.to_hex(), 3)]);
        assert_eq!(views_per_watch(&watches, totals), [Some(9), Some(3), None, Some(10), None]);
    }
}
