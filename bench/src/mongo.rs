//! The MongoDB side of the `mongo` scenario: where the deployment comes from (`BENCH_MONGODB_URI`, or
//! a DocumentDB started with the repository's `.ci/documentdb`), fresh databases, seeding them with
//! the driver, and dropping them afterwards.

use std::hash::{BuildHasher, Hasher};
use std::process::{Command, Stdio};

use anyhow::Context;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, Document, doc};

/// The repository's DocumentDB script, found from this crate so the working directory does not matter.
const DOCUMENTDB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/documentdb");

/// The MongoDB deployment of a run. Stops the DocumentDB it started, if any, when dropped.
pub struct Deployment {
    pub uri: String,
    /// Where the URI came from, for the progress line.
    pub source: &'static str,
    /// `DOCUMENTDB_STATE` of a DocumentDB this run started.
    state: Option<String>,
}

impl Deployment {
    /// `BENCH_MONGODB_URI`, unless `start` is set or the variable is unset or empty: then a DocumentDB
    /// started by `.ci/documentdb` (DOCUMENTDB_HOME, else the build machines' copy beside the checkout).
    pub fn acquire(start: bool) -> anyhow::Result<Self> {
        if !start && let Some(uri) = std::env::var("BENCH_MONGODB_URI").ok().filter(|uri| !uri.is_empty()) {
            return Ok(Deployment { uri, source: "BENCH_MONGODB_URI", state: None });
        }
        eprintln!("bench: starting DocumentDB with .ci/documentdb");
        let output = Command::new(DOCUMENTDB_SCRIPT)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("running .ci/documentdb")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let exported = |name: &str| {
            let prefix = format!("export {name}='");
            stdout.lines().find_map(|line| Some(line.strip_prefix(&prefix)?.strip_suffix('\'')?.to_owned()))
        };
        // Made before checking the rest, so a half-started server is still stopped.
        let deployment = Deployment {
            uri: exported("TEST_MONGODB_URI").unwrap_or_default(),
            source: "started by .ci/documentdb",
            state: exported("DOCUMENTDB_STATE"),
        };
        anyhow::ensure!(
            output.status.success() && !deployment.uri.is_empty(),
            ".ci/documentdb did not start DocumentDB ({})",
            output.status
        );
        Ok(deployment)
    }
}

impl Deployment {
    /// The state directory of the DocumentDB serving `uri`, when it is known to run on this machine:
    /// the one this run started, else `DOCUMENTDB_STATE` (as `.ci/documentdb` exports it).
    pub fn local_state(&self) -> Option<String> {
        self.state.clone().or_else(|| std::env::var("DOCUMENTDB_STATE").ok().filter(|s| !s.is_empty()))
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if let Some(state) = &self.state {
            eprintln!("bench: stopping the DocumentDB this run started");
            let _ = Command::new(DOCUMENTDB_SCRIPT).arg("stop").env("DOCUMENTDB_STATE", state).status();
        }
    }
}

/// A database name no earlier run used: `bench_` and 48 random bits.
pub fn fresh_database_name() -> String {
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("bench_{:012x}", random & 0xffff_ffff_ffff)
}

/// The URI with its database path replaced by `database`; hosts, credentials and options are kept.
pub fn with_database(uri: &str, database: &str) -> String {
    let (base, query) = uri.split_once('?').map_or((uri, None), |(base, query)| (base, Some(query)));
    let hosts_start = base.find("://").map_or(0, |i| i + 3);
    let hosts_end = base[hosts_start..].find('/').map_or(base.len(), |i| hosts_start + i);
    match query {
        Some(query) => format!("{}/{database}?{query}", &base[..hosts_end]),
        None => format!("{}/{database}", &base[..hosts_end]),
    }
}

pub async fn database(uri: &str) -> anyhow::Result<mongodb::Database> {
    let client = mongodb::Client::with_uri_str(uri).await.context("connecting to MongoDB")?;
    client.default_database().context("the URI names no database")
}

/// The id SQLite's seed writes as `printf('%024x', n)`.
pub fn id(n: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    bytes[4..].copy_from_slice(&n.to_be_bytes());
    ObjectId::from_bytes(bytes)
}

/// Inserts the same ten owners and `count` published videos as `Server::seed` does on SQLite, as
/// the documents the server writes (src/store/mongo/queries: `new_user`, `new_video`, with their
/// search words and the counts the server keeps, `queries::counters`; no `announced`, as SQLite's
/// seed leaves it 0); returns the first owner's id. The server creates the indexes and its (empty)
/// counts when it starts, so start it first.
pub async fn seed(uri: &str, count: u64) -> anyhow::Result<String> {
    seed_owners(uri, 10, count, &plain_text).await
}

/// The title and description `Server::seed_owners` gives video `n` on SQLite.
pub fn plain_text(n: u64) -> (String, String) {
    (format!("Video number {n}"), format!("A benchmark video, number {n}"))
}

/// Video inserts (`insertMany` of `VIDEO_BATCH`) run at once while seeding.
const VIDEO_INSERTS: usize = 2;
const VIDEO_BATCH: u64 = 5_000;

/// As `seed`, with `owners` owners (`owner<n>`, id `n + 1`, as `Server::seed_owners`) and video `n`
/// titled and described by `text(n)`, owned by owner `n % owners`; each owner's and the site's
/// count of public videos set as the uploads would have left them.
pub async fn seed_owners(
    uri: &str,
    owners: u64,
    count: u64,
    text: &(dyn Fn(u64) -> (String, String) + Sync),
) -> anyhow::Result<String> {
    use futures_util::{StreamExt, TryStreamExt};
    let db = database(uri).await?;
    let at = |n: u64| DateTime::from_millis(1_700_000_000_000 + n as i64);
    let users: Vec<Document> = (0..owners)
        .map(|n| {
            let mut owner = user(n + 1, &format!("owner{n}"), &format!("Owner {n}"));
            let public = (count / owners + u64::from(n < count % owners)) as i64;
            owner.insert("videoCounts", doc! { "public": public, "unlisted": 0_i64, "private": 0_i64 });
            owner
        })
        .collect();
    db.collection::<Document>("users").insert_many(users).await.context("inserting users")?;
    let videos = db.collection::<Document>("videos");
    let batch = |start: u64| -> Vec<Document> {
        (start..(start + VIDEO_BATCH).min(count))
            .map(|n| {
                let (title, description) = text(n);
                let owner = n % owners;
                let mut video = doc! {
                    "_id": id(n + 4096),
                    "videoFile": "http://bench/v.mp4",
                    "videoKey": "local:videos/none.mp4",
                    "thumbnail": "http://bench/t.jpg",
                    "thumbnailKey": "local:images/none.jpg",
                    "title": &title,
                    "description": &description,
                    "duration": (n % 600) as f64 + 0.5,
                    "views": ((n * 7919) % 100_000) as i64,
                    "visibility": "public",
                    "isPublished": true,
                    "owner": id(owner + 1),
                    "createdAt": at(n),
                    "updatedAt": at(n),
                    "processingStatus": "off",
                    "processingProgress": 0,
                    "width": 0,
                    "height": 0,
                    "hlsUrl": null,
                    "hlsKey": "",
                    "tags": [],
                    "likes": 0_i64,
                    "commentsCount": 0_i64,
                    "countedLevel": "public",
                };
                video.extend(search_fields(distinct_words(&title), distinct_words(&description), owner_words(owner)));
                video
            })
            .collect()
    };
    futures_util::stream::iter((0..count).step_by(VIDEO_BATCH as usize))
        .map(|start| {
            let (videos, docs) = (videos.clone(), batch(start));
            async move { videos.insert_many(docs).ordered(false).await.context("inserting videos") }
        })
        .buffer_unordered(VIDEO_INSERTS)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    db.collection::<Document>("counters")
        .update_one(
            doc! { "_id": "site" },
            // `built`: the server's version of its set of counts (`COUNTS_VERSION`), so that a server
            // started on the seeded database does not count everything again.
            doc! { "$set": { "videos": { "public": count as i64, "unlisted": 0_i64, "private": 0_i64 }, "built": 3 } },
        )
        .upsert(true)
        .await
        .context("setting the site's counts")?;
    Ok(format!("{:024x}", 1))
}

/// The distinct words of `text` as `domain::search::distinct_words` folds ASCII text: lower case,
/// split at anything not a letter or digit, in order of first appearance.
pub fn distinct_words(text: &str) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = word.to_lowercase();
        if !all.contains(&word) {
            all.push(word);
        }
    }
    all
}

/// Subscriptions of viewer 0 (`seed_viewers`) to the first `count` owners (ids `1..=count`), as
/// `FOLLOW_SQL` on SQLite, with the counts a subscribe keeps on both sides.
pub async fn seed_follows(db: &mongodb::Database, count: u64) -> anyhow::Result<()> {
    let at = DateTime::from_millis(1_700_000_000_000);
    let follower = id(1_048_576);
    let subscriptions: Vec<Document> = (0..count)
        .map(|n| {
            doc! { "_id": id(n + 1_073_741_824), "subscriber": follower, "channel": id(n + 1),
            "createdAt": at, "updatedAt": at }
        })
        .collect();
    db.collection::<Document>("subscriptions").insert_many(subscriptions).await.context("inserting follows")?;
    let users = db.collection::<Document>("users");
    let channels = doc! { "_id": { "$gte": id(1), "$lt": id(count + 1) } };
    users.update_many(channels, doc! { "$inc": { "subscribersCount": 1_i64 } }).await.context("counting")?;
    let subscribed = doc! { "$inc": { "subscribedToCount": count as i64 } };
    users.update_one(doc! { "_id": follower }, subscribed).await.context("counting")?;
    Ok(())
}

/// Comments inserted per `insertMany` while seeding.
const COMMENT_BATCH: u64 = 5_000;

/// `count` top-level comments of owner 0 spread over the first 100 videos of `seed`, as
/// `COMMENTS_SQL` on SQLite and as a comment is written (`queries::comments::new_comment`: its kept
/// `likes` and `repliesCount`, `countedVisible`); then each video's `commentsCount`.
pub async fn seed_comments(db: &mongodb::Database, count: u64) -> anyhow::Result<()> {
    use futures_util::{StreamExt, TryStreamExt};
    let comments = db.collection::<Document>("comments");
    let batch = |start: u64| -> Vec<Document> {
        (start..(start + COMMENT_BATCH).min(count))
            .map(|n| {
                let at = DateTime::from_millis(1_700_000_000_000 + n as i64);
                doc! {
                    "_id": id(n + 2_147_483_648),
                    "content": format!("A benchmark comment, number {n}"),
                    "video": id(n % 100 + 4096),
                    "owner": id(1),
                    "likes": 0_i64,
                    "repliesCount": 0_i64,
                    "countedVisible": true,
                    "createdAt": at,
                    "updatedAt": at,
                }
            })
            .collect()
    };
    futures_util::stream::iter((0..count).step_by(COMMENT_BATCH as usize))
        .map(|start| {
            let (comments, docs) = (comments.clone(), batch(start));
            async move { comments.insert_many(docs).ordered(false).await.context("inserting comments") }
        })
        .buffer_unordered(VIDEO_INSERTS)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    let videos = db.collection::<Document>("videos");
    for v in 0..100u64.min(count) {
        let on_video = (count / 100 + u64::from(v < count % 100)) as i64;
        videos
            .update_one(doc! { "_id": id(v + 4096) }, doc! { "$set": { "commentsCount": on_video } })
            .await
            .context("counting the comments")?;
    }
    Ok(())
}

/// The user document of `username` (password "x": never logged in) as `new_user` writes it.
fn user(n: u64, username: &str, full_name: &str) -> Document {
    let at = DateTime::from_millis(1_700_000_000_000);
    let full_words: Vec<String> = full_name.split(' ').map(str::to_lowercase).collect();
    let mut search_words = vec![username.to_owned()];
    search_words.extend(full_words.iter().filter(|w| *w != username).cloned());
    doc! {
        "_id": id(n),
        "username": username,
        "email": format!("{username}@bench.test"),
        "fullName": full_name,
        "avatar": "http://bench/a.png",
        "avatarKey": "local:images/none.png",
        "coverImage": "",
        "watchHistory": [],
        "watchHistoryAt": [],
        "historyPaused": false,
        "password": "x",
        "refreshSessions": [],
        "createdAt": at,
        "updatedAt": at,
        "searchWords": search_words,
        "search": { "username": [username], "fullName": full_words },
        "subscribersCount": 0_i64,
        "subscribedToCount": 0_i64,
        "videoCounts": { "public": 0_i64, "unlisted": 0_i64, "private": 0_i64 },
    }
}

/// Inserts `count` users `viewer<n>` with ids `n + 1048576`, as `Server::seed_viewers` does on SQLite.
pub async fn seed_viewers(db: &mongodb::Database, count: u64) -> anyhow::Result<()> {
    let users = db.collection::<Document>("users");
    for start in (0..count).step_by(5_000) {
        let batch: Vec<Document> = (start..(start + 5_000).min(count))
            .map(|n| user(n + 1_048_576, &format!("viewer{n}"), &format!("Viewer {n}")))
            .collect();
        users.insert_many(batch).ordered(false).await.context("inserting viewers")?;
    }
    Ok(())
}

/// Subscriptions of the first `count` viewers to the user numbered `channel`, as a subscribe writes them.
pub async fn seed_subscribers(db: &mongodb::Database, channel: u64, count: u64) -> anyhow::Result<()> {
    let subscriptions = db.collection::<Document>("subscriptions");
    let at = DateTime::from_millis(1_700_000_000_000);
    for start in (0..count).step_by(5_000) {
        let batch: Vec<Document> = (start..(start + 5_000).min(count))
            .map(|n| {
                doc! { "_id": id(n + 3_221_225_472), "subscriber": id(n + 1_048_576), "channel": id(channel),
                "createdAt": at, "updatedAt": at }
            })
            .collect();
        subscriptions.insert_many(batch).ordered(false).await.context("inserting subscriptions")?;
    }
    // The counts a subscribe keeps.
    let users = db.collection::<Document>("users");
    users
        .update_one(doc! { "_id": id(channel) }, doc! { "$inc": { "subscribersCount": count as i64 } })
        .await
        .context("counting the subscribers")?;
    let viewers = doc! { "_id": { "$gte": id(1_048_576), "$lt": id(1_048_576 + count) } };
    users
        .update_many(viewers, doc! { "$inc": { "subscribedToCount": 1_i64 } })
        .await
        .context("counting the subscriptions")?;
    Ok(())
}

/// `count` private videos of the user numbered `owner`, never announced, ids from `first`.
pub async fn seed_private_videos(db: &mongodb::Database, owner: u64, count: u64, first: u64) -> anyhow::Result<()> {
    let at = DateTime::from_millis(1_700_000_000_000);
    let videos: Vec<Document> = (0..count)
        .map(|n| {
            let mut video = doc! {
                "_id": id(first + n),
                "videoFile": "http://bench/v.mp4",
                "videoKey": "local:videos/none.mp4",
                "thumbnail": "http://bench/t.jpg",
                "thumbnailKey": "local:images/none.jpg",
                "title": format!("Private video {n}"),
                "description": "Not yet public",
                "duration": 10.5,
                "views": 0i64,
                "visibility": "private",
                "isPublished": false,
                "owner": id(owner),
                "createdAt": at,
                "updatedAt": at,
                "processingStatus": "off",
                "processingProgress": 0,
                "width": 0,
                "height": 0,
                "hlsUrl": null,
                "hlsKey": "",
                "tags": [],
                "likes": 0_i64,
                "countedLevel": "private",
            };
            let title = vec!["private".to_owned(), "video".into(), n.to_string()];
            let description = vec!["not".to_owned(), "yet".into(), "public".into()];
            video.extend(search_fields(title, description, owner_words(owner - 1)));
            video
        })
        .collect();
    db.collection::<Document>("videos").insert_many(videos).await.context("inserting private videos")?;
    // The counts an upload keeps.
    let private = doc! { "$inc": { "videoCounts.private": count as i64 } };
    db.collection::<Document>("users").update_one(doc! { "_id": id(owner) }, private).await.context("counting")?;
    let site = doc! { "$inc": { "videos.private": count as i64 } };
    db.collection::<Document>("counters")
        .update_one(doc! { "_id": "site" }, site)
        .upsert(true)
        .await
        .context("counting")?;
    Ok(())
}

/// Notifications inserted per `insertMany`, and how many of those run at once.
const NOTIFICATION_BATCH: u64 = 10_000;
const NOTIFICATION_INSERTS: usize = 2;

/// `count` notifications of viewer 0 (`seed_viewers`), as the fan-out stores them
/// (`queries::notifications::notification_fields` with `counted_as_shown`): `new_video` of one of
/// the 10k public videos of `seed` from its owner, every other one read, created in the `count` ms
/// before `now_ms` (inside the retention window), shown (decided when created). Then the recipient's
/// kept totals (`notificationsShown`, `notificationsUnread`), as the inserts' bumps would leave them.
/// The same rows as `NOTIFICATIONS_SQL` on SQLite (ids, actors, videos, read marks, times).
pub async fn seed_notifications(db: &mongodb::Database, count: u64, now_ms: i64) -> anyhow::Result<()> {
    use futures_util::{StreamExt, TryStreamExt};
    let notifications = db.collection::<Document>("notifications");
    let recipient = id(1_048_576);
    let batch = |start: u64| -> Vec<Document> {
        (start..(start + NOTIFICATION_BATCH).min(count))
            .map(|n| {
                let at = DateTime::from_millis(now_ms - count as i64 + n as i64);
                doc! {
                    "_id": id(n + 68_719_476_736),
                    "recipient": recipient,
                    "type": "new_video",
                    "actor": id(n % 10 + 1),
                    "video": id(n % 10_000 + 4096),
                    "comment": null,
                    "read": n % 2 == 1,
                    "createdAt": at,
                    "shown": true,
                    "shownAt": at,
                }
            })
            .collect()
    };
    futures_util::stream::iter((0..count).step_by(NOTIFICATION_BATCH as usize))
        .map(|start| {
            let notifications = notifications.clone();
            let docs = batch(start);
            async move { notifications.insert_many(docs).ordered(false).await.context("inserting notifications") }
        })
        .buffer_unordered(NOTIFICATION_INSERTS)
        .try_for_each(|_| async { Ok(()) })
        .await?;
    // Unread: the even ones.
    let unread = count.div_ceil(2) as i64;
    let totals = doc! { "$set": { "notificationsShown": count as i64, "notificationsUnread": unread } };
    // Kept in the recipient's notification settings document, made by the first bump.
    db.collection::<Document>("notificationSettings")
        .update_one(doc! { "_id": recipient }, totals)
        .upsert(true)
        .await
        .context("setting the recipient's totals")?;
    Ok(())
}

/// Whether the user numbered `recipient` has a notification of the video numbered `video`.
pub async fn notified(db: &mongodb::Database, recipient: u64, video: u64) -> anyhow::Result<bool> {
    let filter = doc! { "recipient": id(recipient), "video": id(video) };
    Ok(db.collection::<Document>("notifications").count_documents(filter).await? > 0)
}

/// The notifications of the video numbered `video`.
pub async fn notifications_of(db: &mongodb::Database, video: u64) -> anyhow::Result<u64> {
    Ok(db.collection::<Document>("notifications").count_documents(doc! { "video": id(video) }).await?)
}

/// The search words of owner `n` (`queries::search::owner_words` of its username and full name).
fn owner_words(n: u64) -> Vec<String> {
    vec![format!("owner{n}"), "owner".into(), n.to_string()]
}

/// The search fields of a video of these (distinct) title, description and owner words, no tags.
fn search_fields(title: Vec<String>, description: Vec<String>, owner: Vec<String>) -> Document {
    let mut all: Vec<String> = Vec::new();
    for word in title.iter().chain(&description).chain(&owner) {
        if !all.contains(word) {
            all.push(word.clone());
        }
    }
    doc! {
        "searchWords": all,
        "suggestWords": &title,
        "search": { "title": &title, "tags": Vec::<String>::new(), "description": &description, "owner": &owner },
    }
}

/// Drops the database the URI names; keeps it (and says so) when BENCH_MONGODB_KEEP is set, for
/// `explain` after the run (a DocumentDB the run started is stopped all the same).
pub async fn drop_database(uri: &str) -> anyhow::Result<()> {
    let db = database(uri).await?;
    if std::env::var_os("BENCH_MONGODB_KEEP").is_some() {
        eprintln!("bench: BENCH_MONGODB_KEEP: database {} kept", db.name());
        return Ok(());
    }
    db.drop().await.context("dropping the bench database")
}

/// Documents left in the collections of resumable uploads (on MongoDB uploads in progress live in
/// the database, docs/decisions.md D15): none once every upload is published or aborted and swept.
pub async fn uploads_left(uri: &str) -> anyhow::Result<u64> {
    let db = database(uri).await?;
    let mut left = 0;
    for name in ["tusUploads", "tusChunks"] {
        left += db.collection::<Document>(name).count_documents(doc! {}).await?;
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_only_the_path() {
        let uri = "mongodb://u:p@127.0.0.1:27017/?authSource=admin&authMechanism=SCRAM-SHA-256";
        assert_eq!(
            with_database(uri, "bench_x"),
            "mongodb://u:p@127.0.0.1:27017/bench_x?authSource=admin&authMechanism=SCRAM-SHA-256"
        );
        assert_eq!(with_database("mongodb://h1,h2/old", "new"), "mongodb://h1,h2/new");
    }

    #[test]
    fn ids_match_the_sqlite_seed() {
        assert_eq!(id(1).to_hex(), format!("{:024x}", 1));
        assert_eq!(id(4096 + 9999).to_hex(), format!("{:024x}", 4096 + 9999));
    }
}
