//! Group commit of the watch page's writes: the watches of concurrent requests queue for one
//! thread, which applies whatever has queued in one transaction of a few set-based statements.
//!
//! Applied one request at a time, a watch cost about eight statements and a write turn of its own,
//! and that queue, not SQLite, bounded the page's throughput (decision D17). A batch runs on the
//! write path's connection while this thread holds its turn, so it takes its place among the other
//! writes. Each caller gets the exact count its own view produced.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{OwnedMutexGuard, mpsc, oneshot};

use super::access::Writes;
use super::{is_unavailable, map_err};
use crate::domain::trending::view_hour;
use crate::error::Context;
use crate::store::{StoreError, StoreResult, Watch};

/// Most watches per transaction: bounds a statement's parameter and one batch's latency.
const MAX_BATCH: usize = 512;
/// Watches queued beyond this make callers wait to enqueue.
const QUEUE_DEPTH: usize = 4096;
/// Longest the writer keeps the write turn while watches keep arriving: the most another write
/// waits for it beyond one batch.
const TURN_HOLD: Duration = Duration::from_millis(5);

type Reply = oneshot::Sender<StoreResult<Option<i64>>>;

/// What waits in the queue: a watch with its caller's reply, or a flush, answered once every
/// watch queued before it has been applied.
enum Queued {
    Watch(Watch, Reply),
    Flush(oneshot::Sender<()>),
}
/// Why a whole batch was not applied; shared, since every caller of the batch reports it.
type Failure = Arc<dyn std::error::Error + Send + Sync>;

/// The queue in front of the thread that applies watches.
#[derive(Clone)]
pub(super) struct WatchWriter {
    queue: mpsc::Sender<Queued>,
}

impl WatchWriter {
    /// Starts the thread that applies batches on the write path `writes`; it ends when the last
    /// `WatchWriter` is dropped.
    pub(super) fn start(writes: Writes) -> StoreResult<Self> {
        let (queue, waiting) = mpsc::channel(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("watch-writer".into())
            .spawn(move || run(&writes, waiting))
            .map_err(|e| StoreError::context("could not start the watch writer", e))?;
        Ok(WatchWriter { queue })
    }

    /// Applies `watch` with the others queued beside it; the new view count when it was counted.
    pub(super) async fn record(&self, watch: Watch) -> StoreResult<Option<i64>> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || StoreError::backend("the watch writer has stopped");
        self.queue.send(Queued::Watch(watch, reply)).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    /// Returns once every watch queued before the call has been applied (or the writer stopped).
    pub(super) async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.queue.send(Queued::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

/// The writer thread's loop. It is an OS thread of its own rather than a task that hands each
/// batch to the blocking pool: a batch then starts as soon as the first watch arrives, instead of
/// after a task wake-up and a thread hand-off behind the request tasks.
///
/// The write turn is kept across consecutive batches for up to `TURN_HOLD`, and given back as
/// soon as no watch is waiting: under a stream of watches the batches follow each other without
/// queueing again behind the other writes each time, and those writes wait at most one batch
/// plus `TURN_HOLD`.
fn run(writes: &Writes, mut waiting: mpsc::Receiver<Queued>) {
    let mut batch: Vec<(Watch, Reply)> = Vec::with_capacity(MAX_BATCH);
    let mut turn: Option<(OwnedMutexGuard<Connection>, Instant)> = None;
    // A flush met while filling a batch, answered once the batch is applied.
    let mut flushed: Option<oneshot::Sender<()>> = None;
    loop {
        let first = match waiting.try_recv() {
            Ok(first) => first,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                turn = None;
                match waiting.blocking_recv() {
                    Some(first) => first,
                    None => break,
                }
            }
        };
        let mut next = Some(first);
        while let Some(queued) = next.take() {
            match queued {
                Queued::Watch(watch, reply) => batch.push((watch, reply)),
                Queued::Flush(done) => {
                    flushed = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = waiting.try_recv().ok();
            }
        }
        if batch.is_empty() {
            if let Some(done) = flushed.take() {
                let _ = done.send(());
            }
            continue;
        }
        if turn.as_ref().is_some_and(|(_, since)| since.elapsed() >= TURN_HOLD) {
            turn = None;
        }
        let (connection, _) = turn.get_or_insert_with(|| (writes.blocking_turn(), Instant::now()));
        let watches: Vec<Watch> = batch.iter().map(|(watch, _)| *watch).collect();
        match apply_each_or_all(connection, &watches) {
            Ok(outcomes) => {
                writes.note(None);
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(outcome.map_err(map_err));
                }
            }
            // Nothing was written: every caller gets the cause.
            Err((failure, unavailable)) => {
                let error = |failure: Failure| {
                    let cause = Box::new(Context::new("the watch batch failed", failure));
                    if unavailable { StoreError::Unavailable(cause) } else { StoreError::Backend(cause) }
                };
                writes.note(Some(&error(failure.clone())));
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(error(failure.clone())));
                }
            }
        }
        if let Some(done) = flushed.take() {
            let _ = done.send(());
        }
    }
}

/// Applies `watches` (the caller holds the write turn); one outcome per watch, or
/// the reason none was applied. A constraint that one watch breaks must not fail the others, so
/// after such a failure each is applied alone; any other failure (I/O, a lock that timed out)
/// fails the batch at once instead of being met again watch by watch.
/// The reason says whether the file could not be written now (`is_unavailable`).
fn apply_each_or_all(
    db: &mut Connection,
    watches: &[Watch],
) -> Result<Vec<rusqlite::Result<Option<i64>>>, (Failure, bool)> {
    match apply(db, watches) {
        Ok(views) => Ok(views.into_iter().map(Ok).collect()),
        Err(e) if is_constraint(&e) && watches.len() > 1 => Ok(watches
            .iter()
            .map(|watch| apply(db, std::slice::from_ref(watch)).map(|views| views.first().copied().flatten()))
            .collect()),
        Err(e) => {
            let unavailable = is_unavailable(&e);
            Err((Arc::new(e) as Failure, unavailable))
        }
    }
}

fn is_constraint(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}

/// The views counted per video (first arrival first), then the history entries, in one transaction.
/// Watches of videos or users deleted meanwhile write nothing; their count is `None`.
fn apply(db: &mut Connection, watches: &[Watch]) -> rusqlite::Result<Vec<Option<i64>>> {
    let counted: Vec<_> =
        watches.iter().filter(|w| w.counted).map(|w| json!([w.video.to_hex(), view_hour(w.at)])).collect();
    let mut caps: HashMap<u32, Vec<serde_json::Value>> = HashMap::new();
    for watch in watches {
        if let Some(entry) = watch.history {
            let row = json!([entry.user.to_hex(), watch.video.to_hex(), watch.at.millis()]);
            caps.entry(entry.max).or_default().push(row);
        }
    }
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut totals = HashMap::new();
    if !counted.is_empty() {
        let counted = serde_json::Value::from(counted).to_string();
        let mut add = tx.prepare_cached(
            "UPDATE videos SET views = views + c.n \
                 FROM (SELECT value ->> 0 AS id, COUNT(*) AS n FROM json_each(?1) GROUP BY 1) AS c \
                 WHERE videos.id = c.id RETURNING videos.id, videos.views",
        )?;
        let rows = add.query_map([&counted], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)));
        for row in rows? {
            let (video, views) = row?;
            totals.insert(video, views);
        }
        tx.prepare_cached(
            "INSERT INTO video_view_hours (video_id, hour, n) \
             SELECT value ->> 0, value ->> 1, COUNT(*) FROM json_each(?1) \
             WHERE EXISTS (SELECT 1 FROM videos WHERE id = value ->> 0) GROUP BY 1, 2 \
             ON CONFLICT (video_id, hour) DO UPDATE SET n = n + excluded.n",
        )
        .and_then(|mut hours| hours.execute([&counted]))?;
    }
    for (max, entries) in caps {
        let entries = serde_json::Value::from(entries).to_string();
        // Later watches of a user get higher `seq`s (the batch's order), so the newest is first.
        tx.prepare_cached(
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
        .and_then(|mut history| history.execute([&entries]))?;
        tx.prepare_cached(TRIM_HISTORIES).and_then(|mut trim| trim.execute((&entries, i64::from(max))))?;
    }
    tx.commit()?;
    Ok(views_per_watch(watches, totals))
}

/// Deletes what lies beyond the newest `?2` entries of each user in the batch `?1` (a JSON array
/// of entries whose first element is the user). Each user's cut-off (the seq just past their newest
/// `?2`) is looked up once and bounds an index range; tested against every entry instead, a full
/// history cost `?2` index steps per entry (22 users with 51 entries each: 2.2 ms against 0.06 ms).
const TRIM_HISTORIES: &str = "DELETE FROM watch_history WHERE (user_id, seq) IN \
     (SELECT h.user_id, h.seq FROM json_each(?1) AS u JOIN watch_history h ON h.user_id = u.value ->> 0 \
      AND h.seq <= (SELECT w.seq FROM watch_history w WHERE w.user_id = u.value ->> 0 \
                    ORDER BY w.seq DESC LIMIT 1 OFFSET (?2 + 0)))";

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
    fn trimming_full_histories_costs_steps_per_entry_not_per_entry_squared() {
        let db = Connection::open_in_memory().unwrap();
        db.execute_batch(
            "CREATE TABLE watch_history (user_id TEXT NOT NULL, video_id TEXT NOT NULL, seq INTEGER NOT NULL, \
                 watched_at INTEGER, PRIMARY KEY (user_id, video_id)) WITHOUT ROWID; \
             CREATE INDEX watch_history_order ON watch_history (user_id, seq); \
             WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < 21), \
                  e(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM e WHERE k < 51) \
             INSERT INTO watch_history SELECT 'user' || n, 'video' || k, k, 0 FROM u, e;",
        )
        .unwrap();
        let batch = serde_json::Value::from((0..22).map(|n| json!([format!("user{n}")])).collect::<Vec<_>>());
        let mut trim = db.prepare(TRIM_HISTORIES).unwrap();
        assert_eq!(trim.execute((batch.to_string(), 50)).unwrap(), 22, "each user's oldest entry");
        let steps = trim.get_status(rusqlite::StatementStatus::VmStep);
        // 22 users × 51 entries read: about 18.6k steps; testing the cut-off per entry took 189k.
        assert!(steps < 22 * 51 * 25, "{steps} VM steps");
        let left: i64 = db.query_row("SELECT COUNT(*) FROM watch_history WHERE seq = 1", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 0, "the oldest of each went");
    }

    #[test]
    fn each_counted_watch_sees_the_total_its_own_view_made() {
        let (a, b, gone) = (Id::generate(), Id::generate(), Id::generate());
        let watches = [watch(a, true), watch(b, true), watch(a, false), watch(a, true), watch(gone, true)];
        let totals = HashMap::from([(a.to_hex(), 10), (b.to_hex(), 3)]);
        assert_eq!(views_per_watch(&watches, totals), [Some(9), Some(3), None, Some(10), None]);
    }
}
