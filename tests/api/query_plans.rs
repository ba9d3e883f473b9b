//! On MongoDB: the engine's own `explain` of each list the API returns, built by the store's query
//! builders (with the index each names, `queries::index`) and run against the store's own indexes
//! (docs/decisions.md D26). Needs `TEST_MONGODB_URI`; on DocumentDB also
//! `documentdb.enableIndexOrderbyPushdown` (set by `.ci/documentdb`).
//!
//! Two kinds of assertion:
//! - The site's feed by date walks `_id` in order: the documents examined are bounded by skip +
//!   limit and the filter's rejects, not by the videos stored. So do a channel's listing by date and
//!   the subscription feed when their videos are enough of the site's that the walk is the cheaper
//!   read (`queries::read_for`, from the counts the store keeps; here counted from the data seeded):
//!   then a page examines at most `WALK_MARGIN` × (skip + limit) documents.
//! - Every other list reads its own index (an index scan, not a collection scan, not an index of
//!   another list beside it) and examines at most the documents its filter matches, not the
//!   collection. On DocumentDB 0.108 that is all it does: it fetches every match and sorts them (a
//!   `SORT` stage; it pushes a sort down only for `_id` on the `_id` index; D26 shows the plans and
//!   the settings tried). MongoDB itself (untested-live: it cannot run on the build machines) would
//!   walk the same indexes in order where the index ends with the list's sort (no `SORT` stage; a
//!   page examines at most skip + limit + the filter's rejects): the channel listing by date, the
//!   site's other sorts, the subscription feed, the newest comments, replies, and the whole lists
//!   (liked videos, playlists, the dashboard). It too sorts the matches of top comments and trending
//!   (computed values) and of a channel's videos by views, duration or title (no index of theirs
//!   ends with those).

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use futures_util::TryStreamExt;
use videotube::domain::Id;
use videotube::domain::social::CommentSort;
use videotube::domain::video::{VideoQuery, VideoSort};
use videotube::domain::visibility::Place;
use videotube::store::mongo::queries::videos::{feed_index, feed_page, with_site_counts};
use videotube::store::mongo::queries::{
    Read, WALK_MARGIN, comments, dashboard, history, index, likes, playlists, read_for, subscriptions, users, videos,
};

use crate::helpers::{drop_mongodb_database, fresh_mongodb_database};

/// The largest `totalDocsExamined` anywhere in an explain answer (its shape differs by engine).
fn most_examined(value: &Bson) -> i64 {
    match value {
        Bson::Document(document) => document
            .iter()
            .map(|(key, value)| match (key.as_str(), value) {
                ("totalDocsExamined", Bson::Int32(n)) => i64::from(*n),
                ("totalDocsExamined", Bson::Int64(n)) => *n,
                ("totalDocsExamined", Bson::Double(n)) => *n as i64,
                _ => most_examined(value),
            })
            .max()
            .unwrap_or(0),
        Bson::Array(items) => items.iter().map(most_examined).max().unwrap_or(0),
        _ => 0,
    }
}

/// Every stage named anywhere in an explain answer, with the index it reads (if any).
fn stages(value: &Bson, found: &mut Vec<(String, Option<String>)>) {
    match value {
        Bson::Document(document) => {
            if let Ok(stage) = document.get_str("stage") {
                found.push((stage.to_owned(), document.get_str("indexName").ok().map(str::to_owned)));
            }
            document.values().for_each(|value| stages(value, found));
        }
        Bson::Array(items) => items.iter().for_each(|value| stages(value, found)),
        _ => {}
    }
}

/// What one explained list did.
struct Plan {
    /// The indexes its own query reads: the first stage's, where the answer is split by stage (the
    /// later ones' lookups read other collections).
    scanned: Vec<String>,
    /// A collection scan appears.
    collection_scan: bool,
    /// A scan reads `_id_` (DocumentDB calls its ordered scan of the primary key a `COLLSCAN` naming
    /// `_id_`, with a direction; MongoDB an `IXSCAN` of `_id_`).
    walks_ids: bool,
    /// A `SORT` stage appears in the list's own query.
    sorts: bool,
    examined: i64,
    explain: Document,
}

impl Plan {
    /// Asserts that the list's query reads `index` and no other (`_id_` aside: on engines that
    /// answer in one piece, it is what the lookups of the joined records read), no collection scan,
    /// and at most `matches` documents examined by any stage.
    fn reads(&self, list: &str, index: &str, matches: i64) {
        let Plan { scanned, collection_scan, examined, explain, .. } = self;
        let others: Vec<&String> = scanned.iter().filter(|read| *read != index && *read != "_id_").collect();
        assert!(
            !collection_scan && scanned.iter().any(|read| read == index) && others.is_empty(),
            "{list}: an index scan of {index} only, not {scanned:?} (collection scan: {collection_scan})\n{explain}"
        );
        assert!(
            *examined <= matches,
            "{list}: at most the {matches} documents its filter matches, {examined} examined\n{explain}"
        );
    }
}

impl Plan {
    /// Asserts that the list walks `_id_` in order (no other index, no sort) and examines at most
    /// `bound` documents.
    fn walks(&self, list: &str, bound: i64) {
        let Plan { scanned, walks_ids, sorts, examined, explain, .. } = self;
        let others: Vec<&String> = scanned.iter().filter(|read| *read != index::ID).collect();
        assert!(
            *walks_ids && !sorts && others.is_empty(),
            "{list}: a walk of _id_ only, not {scanned:?} (sorted: {sorts})\n{explain}"
        );
        assert!(*examined <= bound, "{list}: at most {bound} documents examined, {examined}\n{explain}");
    }
}

async fn explain(db: &mongodb::Database, collection: &str, pipeline: Vec<Document>, hint: Option<&str>) -> Plan {
    let mut aggregate = doc! { "aggregate": collection, "pipeline": pipeline, "cursor": {} };
    if let Some(hint) = hint {
        aggregate.insert("hint", hint);
    }
    let explain = db.run_command(doc! { "explain": aggregate, "verbosity": "executionStats" }).await.unwrap();
    let answer = Bson::Document(explain.clone());
    let own = explain.get_array("stages").ok().and_then(|stages| stages.first()).unwrap_or(&answer);
    let mut found = Vec::new();
    stages(own, &mut found);
    let scanned = found
        .iter()
        .filter(|(stage, _)| stage == "IXSCAN")
        .filter_map(|(_, index)| index.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let collection_scan = found.iter().any(|(stage, _)| stage == "COLLSCAN");
    let walks_ids = found.iter().any(|(stage, index)| {
        matches!(stage.as_str(), "COLLSCAN" | "IXSCAN")
            && index.as_deref() == Some(videotube::store::mongo::queries::index::ID)
    });
    let sorts = found.iter().any(|(stage, _)| stage == "SORT");
    Plan { scanned, collection_scan, walks_ids, sorts, examined: most_examined(&answer), explain }
}

/// A fresh database with the store's indexes, and its URI (to drop it).
async fn indexed_database() -> Option<(mongodb::Database, String)> {
    let uri = fresh_mongodb_database()?;
    videotube::store::mongo::MongoStore::connect(&uri).await.unwrap();
    let options = mongodb::options::ClientOptions::parse(&uri).await.unwrap();
    let db = mongodb::Client::with_options(options.clone())
        .unwrap()
        .database(&videotube::store::mongo::database_name(&options));
    Some((db, uri))
}

/// Distinct creation times, one second apart, in insertion order (as `_id`s are).
fn at(i: usize) -> DateTime {
    DateTime::from_millis(1_700_000_000_000 + i as i64 * 1000)
}

/// A video document as the store writes one (the fields the lists read), public unless `i` is a multiple of 3.
fn video(i: usize, owner: ObjectId) -> Document {
    let public = !i.is_multiple_of(3);
    doc! {
        "_id": ObjectId::new(), "title": format!("v{i}"), "owner": owner, "isPublished": public,
        "visibility": if public { "public" } else { "private" }, "createdAt": at(i), "views": (i * 7 % 1000) as i64,
        "duration": (i % 97) as f64,
    }
}

async fn insert(db: &mongodb::Database, collection: &str, documents: Vec<Document>) {
    db.collection::<Document>(collection).insert_many(documents).await.unwrap();
}

/// Users with these ids, for the owner lookups.
async fn insert_users(db: &mongodb::Database, ids: &[ObjectId]) {
    let users = ids.iter().map(|id| {
        doc! { "_id": *id, "username": id.to_hex(), "email": format!("{}@example.com", id.to_hex()), "fullName": "U" }
    });
    insert(db, "users", users.collect()).await;
}

fn id_of(oid: ObjectId) -> Id {
    Id::from_bytes(oid.bytes())
}

#[tokio::test]
async fn the_site_feed_walks_an_index_in_order() {
    let Some(uri) = fresh_mongodb_database() else { return };
    let options = mongodb::options::ClientOptions::parse(&uri).await.unwrap();
    let db = mongodb::Client::with_options(options.clone())
        .unwrap()
        .database(&videotube::store::mongo::database_name(&options));
    // Two thirds public, as a site's videos might be; created one after another.
    let videos: Vec<Document> = (0..3000)
        .map(|i| {
            doc! {
                "_id": bson::oid::ObjectId::new(), "title": format!("v{i}"), "isPublished": i % 3 != 0,
                "owner": bson::oid::ObjectId::new(), "createdAt": bson::DateTime::now(), "views": i,
            }
        })
        .collect();
    db.collection::<Document>("videos").insert_many(videos).await.unwrap();

    let query = VideoQuery {
        search: None,
        owner: None,
        levels: Place::Listing.levels(false),
        sort: VideoSort::CreatedAt,
        descending: true,
        offset: 20,
        limit: 10,
    };
    // The site's feed by date always walks, whatever the read (it has no choice to make).
    assert_eq!(feed_index(&query, Read::Sort), feed_index(&query, Read::Walk));
    let index = feed_index(&query, Read::Sort).expect("the site's feed by date names its index");
    // As served: the page, then the site's counts document in the same aggregate.
    let served = with_site_counts(feed_page(&query, Read::Sort));
    let explain = db
        .run_command(doc! {
            "explain": { "aggregate": "videos", "pipeline": served.clone(), "cursor": {}, "hint": index },
            "verbosity": "executionStats",
        })
        .await
        .unwrap();
    let examined = most_examined(&Bson::Document(explain.clone()));
    assert!(
        (30..=60).contains(&examined),
        "30 listed videos read for page 3 of 10, with about 15 private ones passed over: {examined} examined \
         (on DocumentDB, is documentdb.enableIndexOrderbyPushdown on?)\n{explain}"
    );
    db.collection::<Document>("counters")
        .insert_one(doc! { "_id": "site", "videos": { "public": 2000_i64, "unlisted": 0_i64, "private": 1000_i64 } })
        .await
        .unwrap();
    let answered: Vec<Document> = db
        .collection::<Document>("videos")
        .aggregate(served)
        .hint(mongodb::options::Hint::Name(index.to_owned()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    // These videos' owners are not users, so the owner lookup leaves the page empty here (the API
    // tests read full pages and their totals); the counts document still comes, last.
    let (counts, videos) = answered.split_last().expect("the counts document");
    assert_eq!(counts.get_str("_id").ok(), Some("site"), "the counts document comes last: {answered:?}");
    assert!(videos.len() <= 10 && videos.iter().all(|video| video.get_bool("isPublished").is_ok_and(|public| public)));
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn the_site_feed_by_views_duration_and_title_reads_the_listed_videos_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owners: Vec<ObjectId> = (0..30).map(|_| ObjectId::new()).collect();
    insert_users(&db, &owners).await;
    insert(&db, "videos", (0..3000).map(|i| video(i, owners[i % 30])).collect()).await;
    for (sort, index) in [
        (VideoSort::Views, index::VIDEOS_BY_VIEWS),
        (VideoSort::Duration, index::VIDEOS_BY_DURATION),
        (VideoSort::Title, index::VIDEOS_BY_TITLE),
    ] {
        let query = VideoQuery {
            search: None,
            owner: None,
            levels: Place::Listing.levels(false),
            sort,
            descending: sort != VideoSort::Title,
            offset: 20,
            limit: 10,
        };
        assert_eq!(feed_index(&query, Read::Sort), Some(index));
        // 2,000 public videos of 3,000.
        explain(&db, "videos", feed_page(&query, Read::Sort), feed_index(&query, Read::Sort)).await.reads(
            &format!("feed by {sort:?}"),
            index,
            2000,
        );
    }
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn a_channel_listing_reads_the_channel_s_videos_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owners: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    insert_users(&db, &owners).await;
    // 300 videos per channel, 200 of them public.
    insert(&db, "videos", (0..3000).map(|i| video(i, owners[i % 10])).collect()).await;
    let channel = id_of(owners[3]);
    for (sort, own) in [(VideoSort::CreatedAt, false), (VideoSort::CreatedAt, true), (VideoSort::Views, false)] {
        let query = VideoQuery {
            search: None,
            owner: Some(channel),
            levels: Place::Channel.levels(own),
            sort,
            descending: true,
            offset: 20,
            limit: 10,
        };
        // 200 (300) of 3,000: the walk would pass about 450 (300) videos to find 30.
        let read = read_for(30, if own { 300 } else { 200 }, 3000);
        assert_eq!(read, Read::Sort);
        assert_eq!(feed_index(&query, read), Some(index::VIDEOS_OF_OWNER));
        let list = format!("channel listing by {sort:?} (seen by its owner: {own})");
        explain(&db, "videos", feed_page(&query, read), feed_index(&query, read)).await.reads(
            &list,
            index::VIDEOS_OF_OWNER,
            300,
        );
    }
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn a_large_channel_s_listing_by_date_walks_ids() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owners: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    insert_users(&db, &owners).await;
    // 2,400 of the 3,000 videos are one channel's (1,600 of them public), in among the others'.
    let of = |i: usize| if i.is_multiple_of(5) { owners[1 + i % 9] } else { owners[0] };
    let all: Vec<Document> = (0..3000).map(|i| video(i, of(i))).collect();
    let count = |owner: ObjectId, own: bool| {
        let listed = |v: &&Document| {
            v.get_object_id("owner").ok() == Some(owner) && (own || v.get_bool("isPublished").ok() == Some(true))
        };
        all.iter().filter(listed).count() as u64
    };
    insert(&db, "videos", all.clone()).await;
    for (own, descending) in [(false, true), (true, true), (false, false)] {
        let query = VideoQuery {
            search: None,
            owner: Some(id_of(owners[0])),
            levels: Place::Channel.levels(own),
            sort: VideoSort::CreatedAt,
            descending,
            offset: 20,
            limit: 10,
        };
        let read = read_for(30, count(owners[0], own), 3000);
        assert_eq!(read, Read::Walk, "about 56 (38) examined instead of {}", count(owners[0], own));
        assert_eq!(feed_index(&query, read), Some(index::ID));
        let list = format!("large channel's listing (seen by its owner: {own}, newest first: {descending})");
        let wanted = 30 * WALK_MARGIN as i64;
        explain(&db, "videos", feed_page(&query, read), feed_index(&query, read)).await.walks(&list, wanted);
    }
    // A channel of the 600 others' sorts its 66 or 67 videos.
    let small = VideoQuery {
        owner: Some(id_of(owners[1])),
        ..VideoQuery {
            search: None,
            owner: None,
            levels: Place::Channel.levels(true),
            sort: VideoSort::CreatedAt,
            descending: true,
            offset: 20,
            limit: 10,
        }
    };
    let matches = count(owners[1], true);
    let read = read_for(30, matches, 3000);
    assert_eq!(read, Read::Sort);
    explain(&db, "videos", feed_page(&small, read), feed_index(&small, read)).await.reads(
        "small channel",
        index::VIDEOS_OF_OWNER,
        67,
    );
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn the_dashboard_reads_the_owner_s_videos_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owners: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    insert_users(&db, &owners).await;
    insert(&db, "videos", (0..3000).map(|i| video(i, owners[i % 10])).collect()).await;
    // Not hinted: the owner's index is the only one holding `owner`.
    let plan = explain(&db, "videos", dashboard::dashboard_videos(owners[4]), None).await;
    plan.reads("dashboard videos", index::VIDEOS_OF_OWNER, 300);
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn the_subscription_feed_reads_the_followed_channels_videos_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owners: Vec<ObjectId> = (0..30).map(|_| ObjectId::new()).collect();
    insert_users(&db, &owners).await;
    // 100 videos per channel; five channels followed.
    insert(&db, "videos", (0..3000).map(|i| video(i, owners[i % 30])).collect()).await;
    // Five channels followed: 333 public videos of 3,000, sorted.
    let followed = owners[..5].to_vec();
    let read = read_for(30, 333, 3000);
    assert_eq!(read, Read::Sort);
    let feed = subscriptions::subscription_feed_page(followed, 20, 10, read);
    explain(&db, "videos", feed.pipeline, Some(feed.index)).await.reads(
        "subscription feed",
        index::VIDEOS_OF_OWNER,
        500,
    );
    // Twenty followed: 1,333 public of 3,000, walked; about 68 examined.
    let read = read_for(30, 1333, 3000);
    assert_eq!(read, Read::Walk);
    let feed = subscriptions::subscription_feed_page(owners[..20].to_vec(), 20, 10, read);
    assert_eq!(feed.index, index::ID);
    explain(&db, "videos", feed.pipeline, Some(feed.index))
        .await
        .walks("subscription feed of many channels", 30 * WALK_MARGIN as i64);
    drop_mongodb_database(&uri);
}

/// 3,000 comments on ten videos, 300 each: on each video 100 top-level ones and 200 replies in
/// its first thread, created one after another.
async fn insert_comments(db: &mongodb::Database) -> (Vec<ObjectId>, Vec<ObjectId>) {
    let authors: Vec<ObjectId> = (0..20).map(|_| ObjectId::new()).collect();
    insert_users(db, &authors).await;
    let videos: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    let threads: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    let comments = (0..3000).map(|i| {
        let (video, round) = (i % 10, i / 10);
        let mut comment = doc! {
            "_id": if round == 0 { threads[video] } else { ObjectId::new() }, "content": format!("c{i}"),
            "video": videos[video], "owner": authors[i % 20], "createdAt": at(i), "likes": (i % 13) as i64,
            "repliesCount": 0_i64, "countedVisible": true,
        };
        if round >= 100 {
            comment.insert("parent", threads[video]);
            comment.insert("replyTo", authors[0]);
        }
        comment
    });
    insert(db, "comments", comments.collect()).await;
    (videos, threads)
}

#[tokio::test]
async fn a_comment_page_reads_the_video_s_comments_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let (videos, _) = insert_comments(&db).await;
    for sort in [CommentSort::Newest, CommentSort::Top] {
        for viewer in [None, Some(ObjectId::new())] {
            let page = comments::comment_page(videos[2], viewer, sort, None, 20, 10);
            let list = format!("comments by {sort:?} (signed in: {})", viewer.is_some());
            let plan = explain(&db, "comments", page.pipeline, Some(page.index)).await;
            // The video's 100 top-level comments.
            plan.reads(&list, index::TOP_LEVEL_COMMENTS, 100);
        }
    }
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn a_reply_page_reads_the_thread_s_replies_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let (_, threads) = insert_comments(&db).await;
    for viewer in [None, Some(ObjectId::new())] {
        let page = comments::reply_page(threads[5], viewer, 20, 10);
        let plan = explain(&db, "comments", page.pipeline, Some(page.index)).await;
        plan.reads(&format!("replies (signed in: {})", viewer.is_some()), index::REPLIES, 200);
    }
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn liked_videos_read_the_user_s_likes_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let users: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    insert_users(&db, &users).await;
    let liked: Vec<Document> = (0..300).map(|i| video(i, users[i % 10])).collect();
    let ids: Vec<ObjectId> = liked.iter().map(|v| v.get_object_id("_id").unwrap()).collect();
    insert(&db, "videos", liked).await;
    // Every user likes all 300 videos.
    let likes = (0..3000).map(|i| {
        doc! { "_id": ObjectId::new(), "likedBy": users[i / 300], "video": ids[i % 300], "createdAt": at(i) }
    });
    insert(&db, "likes", likes.collect()).await;
    let liked = likes::liked_videos(users[7]);
    let plan = explain(&db, "likes", liked.pipeline, Some(liked.index)).await;
    plan.reads("liked videos", index::LIKES_OF_USER, 300);
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn a_user_s_playlists_read_their_playlists_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let users: Vec<ObjectId> = (0..10).map(|_| ObjectId::new()).collect();
    insert_users(&db, &users).await;
    let lists = (0..3000).map(|i| {
        doc! {
            "_id": ObjectId::new(), "name": format!("p{i}"), "description": "", "videos": [], "owner": users[i % 10],
            "createdAt": at(i),
        }
    });
    insert(&db, "playlists", lists.collect()).await;
    // Not hinted: the owner's index is the only one holding `owner`.
    let plan = explain(&db, "playlists", playlists::playlists(doc! { "owner": users[1] }), None).await;
    plan.reads("playlists", "owner_1_createdAt_-1__id_-1", 300);
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn the_watch_history_reads_its_own_videos_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owner = ObjectId::new();
    let all: Vec<Document> = (0..3000).map(|i| video(i, owner)).collect();
    let watched: Vec<Bson> = all.iter().step_by(100).map(|v| v.get("_id").unwrap().clone()).collect();
    let viewer = ObjectId::new();
    insert(&db, "videos", all).await;
    insert_users(&db, &[viewer, owner]).await;
    let history = doc! { "$set": { "watchHistory": watched } };
    db.collection::<Document>("users").update_one(doc! { "_id": viewer }, history).await.unwrap();
    // The user by `_id`, then each of the 30 watched videos (and its owner) by `_id`.
    let plan = explain(&db, "users", history::watch_history(viewer), None).await;
    plan.reads("watch history", index::ID, 61);
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn a_logged_in_viewer_s_channel_profile_reads_one_subscription_key() {
    let Some((db, uri)) = indexed_database().await else { return };
    let (channel, viewer, stranger) = (ObjectId::new(), ObjectId::new(), ObjectId::new());
    let subscribers: Vec<ObjectId> = (0..500).map(|_| ObjectId::new()).collect();
    let others: Vec<ObjectId> = (0..300).map(|_| ObjectId::new()).collect();
    insert_users(&db, &[channel, viewer, stranger]).await;
    // The channel's 500 subscribers and the viewer; the viewer also follows 300 other channels.
    let follows = subscribers.iter().chain([&viewer]).map(|s| (*s, channel)).chain(others.iter().map(|o| (viewer, *o)));
    let follows =
        follows.map(|(subscriber, channel)| doc! { "subscriber": subscriber, "channel": channel, "createdAt": at(0) });
    insert(&db, "subscriptions", follows.collect()).await;
    let username = channel.to_hex();
    // The channel by its username, then the one (subscriber, channel) key of the viewer.
    let plan = explain(&db, "users", users::channel_profile(&username, viewer), None).await;
    plan.reads("channel profile", "username_1", 1);
    let mut everywhere = Vec::new();
    stages(&Bson::Document(plan.explain.clone()), &mut everywhere);
    assert!(
        everywhere.iter().any(|(stage, index)| stage == "IXSCAN" && index.as_deref() == Some("subscriber_1_channel_1"))
            && !everywhere.iter().any(|(stage, _)| stage == "COLLSCAN"),
        "the viewer's subscription by its unique key, no collection scan: {everywhere:?}\n{}",
        plan.explain
    );
    let joined = |found: Vec<Document>| found[0].get_array(users::VIEWER_SUBSCRIPTION).unwrap().len();
    let users_of = db.collection::<Document>("users");
    let run = |viewer| {
        use futures_util::TryStreamExt;
        let (users_of, pipeline) = (users_of.clone(), users::channel_profile(&username, viewer));
        async move { users_of.aggregate(pipeline).await.unwrap().try_collect::<Vec<Document>>().await.unwrap() }
    };
    assert_eq!(joined(run(viewer).await), 1, "the viewer is subscribed");
    assert_eq!(joined(run(stranger).await), 0, "a stranger is not");
    drop_mongodb_database(&uri);
}

#[tokio::test]
async fn trending_reads_the_window_s_view_records_only() {
    let Some((db, uri)) = indexed_database().await else { return };
    let owner = ObjectId::new();
    insert_users(&db, &[owner]).await;
    let all: Vec<Document> = (0..100).map(|i| video(i, owner)).collect();
    let ids: Vec<ObjectId> = all.iter().map(|v| v.get_object_id("_id").unwrap()).collect();
    insert(&db, "videos", all).await;
    // 30 hours of records for each video; the window holds the last 3 (300 records).
    let hours = (0..3000).map(|i| {
        let (video, hour) = (ids[i % 100], 1000 + (i / 100) as i64);
        videos::new_view_hour(video, hour, 1 + (i % 5) as i64)
    });
    insert(&db, "viewHours", hours.collect()).await;
    let plan = explain(&db, "viewHours", videos::trending_page(1027, 20, 10), None).await;
    plan.reads("trending", "hour_1_video_1_n_1", 300);
    drop_mongodb_database(&uri);
}
