//! The store contract as one story told through the repository traits: it runs on SQLite always and
//! also on MongoDB when `TEST_MONGODB_URI` is set (a fresh database, dropped afterwards). The same
//! behaviour is also exercised through HTTP by the rest of the suite on whichever store is selected.

use std::sync::Arc;

use videotube::domain::processing::ProcessingStatus;
use videotube::domain::social::LikeTarget;
use videotube::domain::trending::view_hour;
use videotube::domain::video::{VideoQuery, VideoSort};
use videotube::domain::visibility::{Place, Visibility, may_see};
use videotube::domain::{Id, Timestamp};
use videotube::store::mongo::MongoStore;
use videotube::store::sqlite::SqliteStore;
use videotube::store::{
    HistoryEntry, MediaRef, NewReply, NewSession, NewUser, NewVideo, ProcessedVideo, ProfileUpdate, RefreshGrant,
    Store, StoreError, VideoUpdate, Watch, WatchFacts,
};

use crate::helpers::{drop_mongodb_database, fresh_mongodb_database};

/// The store under test; drops its MongoDB database (if any) when dropped.
struct StoreUnderTest {
    store: Store,
    _dir: tempfile::TempDir,
    mongodb: Option<String>,
}

impl Drop for StoreUnderTest {
    fn drop(&mut self) {
        if let Some(uri) = &self.mongodb {
            drop_mongodb_database(uri);
        }
    }
}

/// SQLite always, and MongoDB too when the suite has a deployment: the story runs on each.
async fn stores() -> Vec<StoreUnderTest> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::from_backend(SqliteStore::open(&dir.path().join("story.db")).await.unwrap());
    let mut stores = vec![StoreUnderTest { store: sqlite, _dir: dir, mongodb: None }];
    if let Some(uri) = fresh_mongodb_database() {
        let mongo = Store::from_backend(MongoStore::connect(&uri).await.unwrap());
        stores.push(StoreUnderTest { store: mongo, _dir: tempfile::tempdir().unwrap(), mongodb: Some(uri) });
    }
    stores
}

fn media(name: &str) -> MediaRef {
    MediaRef { url: format!("http://media.test/{name}"), key: format!("local:{name}") }
}

fn new_user(username: &str, email: &str) -> NewUser {
    NewUser {
        username: username.into(),
        email: email.into(),
        full_name: format!("{username} Full"),
        avatar: media(&format!("{username}.png")),
        cover_image: None,
        password_hash: "$2b$04$0123456789012345678901uQ9vV2bqWJ3a0m7lD6r9i3f0B8sY1Ce".into(),
    }
}

fn grant(jti: &str) -> RefreshGrant {
    RefreshGrant {
        jti: jti.into(),
        token_hash: format!("hash-{jti}"),
        expires_at: videotube::domain::Timestamp::now().plus_secs(3600),
    }
}

fn session(user: Id, jti: &str) -> NewSession {
    NewSession { id: Id::generate(), user_id: user, user_agent: format!("agent {jti}"), grant: grant(jti) }
}

fn video(owner: Id, title: &str) -> NewVideo {
    NewVideo {
        owner,
        video_file: media(&format!("{title}.mp4")),
        thumbnail: media(&format!("{title}.jpg")),
        title: title.into(),
        description: format!("About {title}"),
        tags: Default::default(),
        duration: 2.5,
        visibility: Visibility::Public,
        processing: ProcessingStatus::Off,
        width: 0,
        height: 0,
        hls_url: None,
    }
}

/// A counted view at `at`, without history.
fn view(video: Id, at: Timestamp) -> Watch {
    Watch { video, at, counted: true, history: None }
}

/// A repeat view (not counted) recorded in `user`'s history, capped at `max`.
fn watched_by(user: Id, video: Id, max: u32) -> Watch {
    Watch { video, at: Timestamp::now(), counted: false, history: Some(HistoryEntry { user, max }) }
}

/// A site listing (`owner` None) or the channel listing of `owner` as its owner sees it (`owns`) or not.
fn feed(owner: Option<Id>, owns: bool) -> VideoQuery {
    let place = if owner.is_some() { Place::Channel } else { Place::Listing };
    VideoQuery {
        search: None,
        owner,
        levels: place.levels(owns),
        sort: VideoSort::CreatedAt,
        descending: true,
        offset: 0,
        limit: 10,
    }
}

#[tokio::test]
async fn accounts_are_unique_and_sessions_rotate_exactly_once() {
    for under_test in stores().await {
        accounts_story(&under_test.store).await;
    }
}

async fn accounts_story(store: &Store) {
    let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap();
    let ben = store.users.create(new_user("ben", "ben@example.com")).await.unwrap();
    assert!(matches!(
        store.users.create(new_user("asha", "other@example.com")).await,
        Err(StoreError::Conflict { field: "username" })
    ));
    assert!(matches!(
        store.users.create(new_user("other", "ben@example.com")).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    let taken = ProfileUpdate { email: Some("ben@example.com".into()), ..Default::default() };
    assert!(matches!(
        store.users.update_profile(asha.user.id, taken).await,
        Err(StoreError::Conflict { field: "email" })
    ));
    assert_eq!(store.users.by_email("ben@example.com").await.unwrap().unwrap().user.id, ben.user.id);
    assert!(store.users.username_or_email_taken("nobody", "asha@example.com").await.unwrap());
    assert!(!store.users.username_or_email_taken("nobody", "nobody@example.com").await.unwrap());
    let rename = ProfileUpdate { full_name: Some("Asha K".into()), ..Default::default() };
    let (before, after) = store.users.update_profile(asha.user.id, rename).await.unwrap().unwrap();
    assert_eq!((before.user.full_name.as_str(), after.user.full_name.as_str()), ("asha Full", "Asha K"));

    let id = asha.user.id;
    let mut ids = Vec::new();
    for jti in ["s1", "s2", "s3"] {
        let new = session(id, jti);
        ids.push(new.id);
        store.sessions.create(new, 2).await.unwrap();
    }
    let listed = store.sessions.list(id).await.unwrap();
    let listed_ids: Vec<Id> = listed.iter().map(|s| s.id).collect();
    assert_eq!(listed_ids, [ids[2], ids[1]], "newest first; s1 was evicted (max 2)");
    assert_eq!(listed[0].user_agent, "agent s3");
    assert!(store.sessions.rotate(id, "s1", "hash-s1", grant("x")).await.unwrap().is_none(), "s1 was evicted");
    assert_eq!(store.sessions.rotate(id, "s2", "hash-s2", grant("s4")).await.unwrap(), Some(ids[1]), "same session");
    assert!(store.sessions.rotate(id, "s2", "hash-s2", grant("s5")).await.unwrap().is_none(), "s2 was used");
    assert!(store.sessions.rotate(id, "s3", "wrong", grant("s6")).await.unwrap().is_none(), "hash must match");
    assert!(store.sessions.rotate(ben.user.id, "s3", "hash-s3", grant("s6")).await.unwrap().is_none(), "not ben's");
    let after = store.sessions.list(id).await.unwrap();
    let rotated = after.iter().find(|s| s.id == ids[1]).unwrap();
    assert_eq!((rotated.created_at, rotated.user_agent.as_str()), (listed[1].created_at, "agent s2"));
    assert!(rotated.last_used_at >= listed[1].last_used_at);
    let racers = (0..8).map(|i| {
        let sessions = store.sessions.clone();
        tokio::spawn(async move { sessions.rotate(id, "s3", "hash-s3", grant(&format!("r{i}"))).await.unwrap() })
    });
    let winners =
        futures_util::future::join_all(racers).await.into_iter().filter(|r| r.as_ref().unwrap().is_some()).count();
    assert_eq!(winners, 1, "exactly one concurrent rotation wins");
    assert!(store.sessions.delete(id, "s4", "hash-s4").await.unwrap());
    assert!(!store.sessions.delete(id, "s4", "hash-s4").await.unwrap());
    assert!(!store.sessions.revoke(ben.user.id, ids[2]).await.unwrap(), "another user's session");
    assert!(store.sessions.revoke(id, ids[2]).await.unwrap());
    assert!(!store.sessions.revoke(id, ids[2]).await.unwrap(), "already revoked");
    assert!(store.sessions.list(id).await.unwrap().is_empty());
    store.sessions.create(session(id, "s7"), 2).await.unwrap();
    store.sessions.delete_all(id).await.unwrap();
    let survivor = (0..8).map(|i| format!("r{i}")).chain(["s7".to_owned()]).collect::<Vec<_>>();
    for jti in survivor {
        assert!(store.sessions.rotate(id, &jti, &format!("hash-{jti}"), grant("z")).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn toggles_counts_visibility_and_cascades() {
    for under_test in stores().await {
        social_story(&under_test.store).await;
    }
}

async fn social_story(store: &Store) {
    let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let ben = store.users.create(new_user("ben", "ben@example.com")).await.unwrap().user.id;
    let public = store.videos.insert(video(asha, "public")).await.unwrap().video.id;
    let hidden = store.videos.insert(video(asha, "hidden")).await.unwrap().video.id;
    store.videos.set_visibility(hidden, Visibility::Private).await.unwrap();

    let (page, total) = store.videos.list(&feed(None, false)).await.unwrap();
    assert_eq!((page.iter().map(|v| v.id).collect::<Vec<_>>(), total), (vec![public], 1));
    let (page, total) = store.videos.list(&feed(Some(asha), true)).await.unwrap();
    assert_eq!((page.len(), total), (2, 2));
    assert_eq!(store.videos.visible_by_ids(&[hidden, public], Some(ben)).await.unwrap().len(), 1);
    assert_eq!(store.videos.visible_by_ids(&[hidden, public], Some(asha)).await.unwrap()[0].id, hidden, "in order");
    assert_eq!(store.videos.record_watch(view(public, Timestamp::now())).await.unwrap(), Some(1));

    for (toggles, liked) in [(6, false), (5, true)] {
        let target = LikeTarget::Video(public);
        let racers = (0..toggles).map(|_| {
            let likes = store.likes.clone();
            tokio::spawn(async move { likes.toggle(ben, target).await.unwrap() })
        });
        futures_util::future::join_all(racers).await;
        assert_eq!(store.likes.is_liked(ben, target).await.unwrap(), liked, "{toggles} concurrent toggles");
        assert_eq!(store.likes.count(target).await.unwrap(), i64::from(liked));
        if liked {
            store.likes.toggle(ben, target).await.unwrap();
        }
    }
    assert!(store.subscriptions.toggle(ben, asha).await.unwrap());
    let counts = store.users.channel_counts(asha, Some(ben)).await.unwrap();
    assert_eq!((counts.subscribers, counts.subscribed_to, counts.viewer_subscribed), (1, 0, true));
    let (channel, channel_counts) = store.users.channel("asha", Some(ben)).await.unwrap().unwrap();
    assert_eq!((channel.user.id, channel_counts), (asha, counts), "one call gives the user and the same counts");
    let (_, anonymous) = store.users.channel("ben", None).await.unwrap().unwrap();
    assert_eq!((anonymous.subscribers, anonymous.subscribed_to, anonymous.viewer_subscribed), (0, 1, false));
    assert!(store.users.channel("nobody", None).await.unwrap().is_none());
    assert_eq!(
        store.subscriptions.subscribed_channels(ben).await.unwrap()[0].channel.value.latest_video.as_ref().unwrap().id,
        public
    );

    let comment = store.comments.insert(public, ben, "first", None).await.unwrap();
    store.likes.toggle(asha, LikeTarget::Comment(comment)).await.unwrap();
    let reply =
        store.comments.insert(public, asha, "re", Some(NewReply { thread: comment, reply_to: ben })).await.unwrap();
    store.likes.toggle(ben, LikeTarget::Comment(reply)).await.unwrap();
    assert_eq!(store.comments.get(comment, None).await.unwrap().unwrap().replies_count, 1);
    store.likes.toggle(ben, LikeTarget::Video(public)).await.unwrap();
    let playlist = store.playlists.insert(ben, "mix", "songs").await.unwrap();
    store.playlists.add_video(playlist, public).await.unwrap();
    store.playlists.add_video(playlist, public).await.unwrap();
    assert_eq!(store.playlists.get(playlist).await.unwrap().unwrap().video_ids, vec![public], "added once");
    for watched in [public, hidden, public] {
        store.videos.record_watch(watched_by(ben, watched, 50)).await.unwrap();
    }
    assert_eq!(store.users.by_id(ben).await.unwrap().unwrap().user.watch_history, vec![public, hidden]);
    let history: Vec<Id> = store.history.watch_history(ben).await.unwrap().iter().map(|v| v.video.id).collect();
    assert_eq!(history, vec![public], "ben cannot see asha's unpublished video");
    assert_eq!(store.dashboard.channel_stats(asha).await.unwrap().total_likes, 1);

    assert!(store.videos.delete(public).await.unwrap());
    assert!(!store.videos.delete(public).await.unwrap(), "a second delete finds nothing");
    assert!(store.comments.get_ref(comment).await.unwrap().is_none(), "comments go with the video");
    assert_eq!(store.likes.count(LikeTarget::Comment(comment)).await.unwrap(), 0, "and their likes");
    assert!(store.comments.get_ref(reply).await.unwrap().is_none(), "replies too");
    assert_eq!(store.likes.count(LikeTarget::Comment(reply)).await.unwrap(), 0, "and theirs");
    assert_eq!(store.likes.count(LikeTarget::Video(public)).await.unwrap(), 0);
    assert!(store.playlists.get(playlist).await.unwrap().unwrap().video_ids.is_empty());
    assert_eq!(store.users.by_id(ben).await.unwrap().unwrap().user.watch_history, vec![hidden]);
    let stats = store.dashboard.channel_stats(asha).await.unwrap();
    assert_eq!((stats.total_videos, stats.total_likes, stats.total_subscribers), (1, 0, 1));

    let keys = vec!["local:asha.png".to_owned(), "local:hidden.mp4".to_owned(), "local:public.mp4".to_owned()];
    assert_eq!(store.media_index.unreferenced(&keys).await.unwrap(), vec!["local:public.mp4".to_owned()]);
    assert!(store.health.ping().await);
}

#[tokio::test]
async fn concurrent_watches_each_get_their_own_count_and_the_page_facts_follow() {
    for under_test in stores().await {
        watch_story(&under_test.store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_writes_get_their_turn_while_watches_keep_coming() {
    for under_test in stores().await {
        turn_story(&under_test.store).await;
    }
}

/// While watches arrive without a pause (the SQLite writer then keeps the write turn from batch to
/// batch, for a bounded time), other write transactions still complete, and every watch is counted
/// exactly once.
async fn turn_story(store: &Store) {
    let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let clip = store.videos.insert(video(asha, "busy")).await.unwrap().video.id;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // More watches in flight than one batch takes (512), so some are always queued when a batch
    // ends and the writer would keep its turn if nothing bounded that.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(1024));
    let producer = {
        let (videos, stop, counted, in_flight) =
            (store.videos.clone(), stop.clone(), counted.clone(), in_flight.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let permit = in_flight.clone().acquire_owned().await.unwrap();
                let (videos, counted) = (videos.clone(), counted.clone());
                tokio::spawn(async move {
                    videos.record_watch(view(clip, Timestamp::now())).await.unwrap().expect("counted");
                    counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    drop(permit);
                });
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for i in 0..20 {
        let write = store.sessions.create(session(asha, &format!("t{i}")), 50);
        tokio::time::timeout(std::time::Duration::from_secs(20), write)
            .await
            .expect("a session write got its turn while watches kept coming")
            .unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    producer.await.unwrap();
    // Every permit back: every watch answered.
    let _all = in_flight.acquire_many(1024).await.unwrap();
    let watched = counted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(watched > 0);
    assert_eq!(store.sessions.list(asha).await.unwrap().len(), 20);
    let views = store.videos.get(clip).await.unwrap().unwrap().video.views;
    assert_eq!(views as u64, watched, "every watch counted once");
}

async fn watch_story(store: &Store) {
    let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let ben = store.users.create(new_user("ben", "ben@example.com")).await.unwrap().user.id;
    let mut clips = Vec::new();
    for title in ["a", "b", "c"] {
        clips.push(store.videos.insert(video(asha, title)).await.unwrap().video.id);
    }
    let (a, b, c) = (clips[0], clips[1], clips[2]);

    // 16 counted views of `a` and 4 of `b`, 4 repeats of `a`, all at once, each in ben's history.
    let plan = (0..24).map(|i| {
        let (video, counted) = match i % 6 {
            0..=3 => (a, true),
            4 => (b, true),
            _ => (a, false),
        };
        Watch { video, at: Timestamp::now(), counted, history: Some(HistoryEntry { user: ben, max: 50 }) }
    });
    let racers = plan.map(|watch| {
        let videos = store.videos.clone();
        tokio::spawn(async move { (watch, videos.record_watch(watch).await.unwrap()) })
    });
    let outcomes: Vec<(Watch, Option<i64>)> =
        futures_util::future::join_all(racers).await.into_iter().map(Result::unwrap).collect();
    for (video, n) in [(a, 16), (b, 4)] {
        let mut counts: Vec<i64> = outcomes
            .iter()
            .filter(|(w, _)| w.video == video && w.counted)
            .map(|(_, views)| views.expect("a counted view returns the count"))
            .collect();
        counts.sort_unstable();
        assert_eq!(counts, (1..=n).collect::<Vec<_>>(), "each counted view saw the total its own view made");
        assert_eq!(store.videos.get(video).await.unwrap().unwrap().video.views, n);
    }
    assert!(outcomes.iter().filter(|(w, _)| !w.counted).all(|(_, views)| views.is_none()), "repeats return no count");
    let mut history = store.users.by_id(ben).await.unwrap().unwrap().user.watch_history;
    history.sort_unstable_by_key(|id| id.to_hex());
    let mut expected = vec![a, b];
    expected.sort_unstable_by_key(|id| id.to_hex());
    assert_eq!(history, expected, "one entry per video");

    for watched in [a, b, c] {
        store.videos.record_watch(watched_by(ben, watched, 2)).await.unwrap();
    }
    assert_eq!(store.users.by_id(ben).await.unwrap().unwrap().user.watch_history, vec![c, b], "newest first, capped");
    // Several users' histories capped in one go: whatever batches the watches fall into, each
    // keeps exactly its newest two.
    let together = [asha, ben].into_iter().flat_map(|user| {
        [a, b, c].map(|watched| {
            let videos = store.videos.clone();
            tokio::spawn(async move { videos.record_watch(watched_by(user, watched, 2)).await.unwrap() })
        })
    });
    futures_util::future::join_all(together.collect::<Vec<_>>()).await;
    for user in [asha, ben] {
        let history = store.users.by_id(user).await.unwrap().unwrap().user.watch_history;
        assert_eq!(history.len(), 2, "{history:?}");
    }
    // The concurrent watches left ben's two newest in whatever order their batches took; watch
    // again one after the other so what follows starts from a known history.
    for watched in [b, c] {
        store.videos.record_watch(watched_by(ben, watched, 2)).await.unwrap();
    }
    assert_eq!(store.users.by_id(ben).await.unwrap().unwrap().user.watch_history, vec![c, b]);

    let (record, facts) = store.videos.watch_page(a, Some(ben)).await.unwrap().unwrap();
    assert_eq!((record.video.id, record.video.views), (a, 16));
    assert_eq!(facts, WatchFacts::default(), "no likes or subscriptions yet");
    store.likes.toggle(ben, LikeTarget::Video(a)).await.unwrap();
    store.subscriptions.toggle(ben, asha).await.unwrap();
    let (_, facts) = store.videos.watch_page(a, Some(ben)).await.unwrap().unwrap();
    assert_eq!(
        (facts.likes, facts.viewer_liked, facts.channel.subscribers, facts.channel.viewer_subscribed),
        (1, true, 1, true)
    );
    let (_, anonymous) = store.videos.watch_page(a, None).await.unwrap().unwrap();
    assert_eq!(
        (anonymous.likes, anonymous.viewer_liked, anonymous.channel.subscribers, anonymous.channel.viewer_subscribed),
        (1, false, 1, false)
    );
    assert!(store.videos.watch_page(Id::generate(), Some(ben)).await.unwrap().is_none());

    assert!(store.videos.delete(c).await.unwrap());
    let gone = Watch { history: Some(HistoryEntry { user: ben, max: 50 }), ..view(c, Timestamp::now()) };
    assert_eq!(store.videos.record_watch(gone).await.unwrap(), None, "a deleted video counts nothing");
    assert_eq!(store.users.by_id(ben).await.unwrap().unwrap().user.watch_history, vec![b], "and enters no history");
}

#[tokio::test]
async fn views_count_once_per_window_and_budgets_are_spent_exactly() {
    for under_test in stores().await {
        ephemeral_story(&under_test.store).await;
    }
}

async fn ephemeral_story(store: &Store) {
    use std::time::Duration;
    use videotube::store::ephemeral::{Budget, Spend};

    let (video, hour) = (Id::generate(), Duration::from_secs(3600));
    let racers = (0..8).map(|_| {
        let state = store.ephemeral.clone();
        tokio::spawn(async move { state.count_view("user:ben", video, hour).await.unwrap() })
    });
    let counted = futures_util::future::join_all(racers).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(counted, 1, "of 8 concurrent first views exactly one counts");
    assert!(!store.ephemeral.count_view("user:ben", video, hour).await.unwrap());
    assert!(store.ephemeral.count_view("ip:10.0.0.9", video, hour).await.unwrap(), "another viewer");
    assert!(store.ephemeral.count_view("user:ben", Id::generate(), hour).await.unwrap(), "another video");
    let short = Duration::from_millis(300);
    assert!(store.ephemeral.count_view("user:cy", video, short).await.unwrap());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(store.ephemeral.count_view("user:cy", video, short).await.unwrap(), "the window is over");

    let budget = Budget { requests: 4, window: Duration::from_secs(60) };
    let racers = (0..10).map(|_| {
        let state = store.ephemeral.clone();
        tokio::spawn(async move { state.spend("auth|10.0.0.1", budget).await.unwrap() })
    });
    let outcomes: Vec<Spend> = futures_util::future::join_all(racers).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes.iter().filter(|s| **s == Spend::Allowed).count(), 4, "exactly the budget: {outcomes:?}");
    for refused in outcomes.iter().filter(|s| **s != Spend::Allowed) {
        assert!(matches!(refused, Spend::Refused { retry_after_secs: 59 | 60 }), "{refused:?}");
    }
    assert_eq!(store.ephemeral.spend("auth|10.0.0.2", budget).await.unwrap(), Spend::Allowed, "per key");
    let brief = Budget { requests: 1, window: Duration::from_millis(300) };
    assert_eq!(store.ephemeral.spend("api|10.0.0.3", brief).await.unwrap(), Spend::Allowed);
    assert_eq!(store.ephemeral.spend("api|10.0.0.3", brief).await.unwrap(), Spend::Refused { retry_after_secs: 1 });
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(store.ephemeral.spend("api|10.0.0.3", brief).await.unwrap(), Spend::Allowed, "a new window");
}

#[tokio::test]
async fn trending_ranks_the_views_of_the_window() {
    for under_test in stores().await {
        trending_story(&under_test.store).await;
    }
}

/// Views recorded at chosen times: the window, the ranking and its tie-breaks, public videos only,
/// and pruning.
async fn trending_story(store: &Store) {
    const HOUR: i64 = 3_600_000;
    let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let mut ids = Vec::new();
    for title in ["old hit", "steady", "fresh", "hidden"] {
        ids.push(store.videos.insert(video(asha, title)).await.unwrap().video.id);
    }
    let [old_hit, steady, fresh, hidden] = ids[..] else { unreachable!() };
    store.videos.set_visibility(hidden, Visibility::Unlisted).await.unwrap();
    let now = Timestamp::now();
    let ago = |hours: i64| Timestamp(now.millis() - hours * HOUR);
    for (video, at, times) in [(old_hit, ago(100), 5), (steady, ago(100), 1), (steady, ago(2), 1), (fresh, now, 1)] {
        for _ in 0..times {
            store.videos.record_watch(view(video, at)).await.unwrap();
        }
    }
    for _ in 0..9 {
        store.videos.record_watch(view(hidden, now)).await.unwrap();
    }
    let rank = |hours: i64| async move {
        let (page, total) = store.videos.trending(view_hour(ago(hours)), 0, 10).await.unwrap();
        (page.iter().map(|t| (t.video.id, t.recent_views)).collect::<Vec<_>>(), total)
    };
    // Last 48 hours: one view each for steady and fresh; steady has more views in all, so it leads.
    assert_eq!(rank(48).await, (vec![(steady, 1), (fresh, 1)], 2), "ties go by total views");
    assert_eq!(rank(200).await, (vec![(old_hit, 5), (steady, 2), (fresh, 1)], 3), "the unlisted video never");
    let (page, total) = store.videos.trending(view_hour(ago(200)), 1, 1).await.unwrap();
    assert_eq!((page.iter().map(|t| t.video.id).collect::<Vec<_>>(), total), (vec![steady], 3), "paged");
    let (page, _) = store.videos.trending(view_hour(ago(48)), 0, 1).await.unwrap();
    assert_eq!(page[0].video.views, 2, "the video as a whole");

    assert_eq!(store.videos.prune_view_hours(view_hour(ago(50))).await.unwrap(), 2, "two old records");
    assert_eq!(rank(200).await, (vec![(steady, 1), (fresh, 1)], 2), "pruned records are gone");
    store.videos.delete(fresh).await.unwrap();
    assert_eq!(rank(200).await, (vec![(steady, 1)], 1), "deleted with the video");
}

#[tokio::test]
async fn every_store_applies_the_one_visibility_rule() {
    for under_test in stores().await {
        visibility_story(&under_test.store).await;
    }
}

/// The stores' query-language forms of the rule agree with `domain::visibility::may_see` for every
/// level, viewer and place: by id, in lists built from ids, in listings, and in their totals.
async fn visibility_story(store: &Store) {
    let owner = store.users.create(new_user("owner", "owner@example.com")).await.unwrap().user.id;
    let other = store.users.create(new_user("other", "other@example.com")).await.unwrap().user.id;
    // Public first, so that the channel's newest videos are the ones a listing must skip.
    let mut videos = Vec::new();
    for level in [Visibility::Public, Visibility::Unlisted, Visibility::Private] {
        let new = NewVideo { visibility: level, ..video(owner, level.as_str()) };
        let record = store.videos.insert(new).await.unwrap();
        assert_eq!(record.video.visibility, level, "stored as given");
        videos.push((record.video.id, level));
    }
    let all: Vec<Id> = videos.iter().map(|(id, _)| *id).collect();
    let expected = |viewer: Option<Id>, place: Place| -> Vec<Id> {
        videos.iter().filter(|(_, level)| may_see(*level, owner, viewer, place)).map(|(id, _)| *id).collect()
    };
    let ids = |videos: Vec<videotube::domain::video::Video>| videos.iter().map(|v| v.id).collect::<Vec<_>>();
    store.subscriptions.toggle(other, owner).await.unwrap();
    for viewer in [None, Some(owner), Some(other)] {
        let by_link = ids(store.videos.visible_by_ids(&all, viewer).await.unwrap());
        assert_eq!(by_link, expected(viewer, Place::ByLink), "by id, viewer {viewer:?}");
        let newest_first = |mut ids: Vec<Id>| {
            ids.reverse();
            let total = ids.len() as u64;
            (ids, total)
        };
        let (page, total) = store.videos.list(&feed(None, false)).await.unwrap();
        assert_eq!((ids(page), total), newest_first(expected(viewer, Place::Listing)), "site listing");
        let owns = viewer == Some(owner);
        let (page, total) = store.videos.list(&feed(Some(owner), owns)).await.unwrap();
        assert_eq!((ids(page), total), newest_first(expected(viewer, Place::Channel)), "channel, {viewer:?}");
    }
    let (followed, total) = store.subscriptions.subscription_feed(other, 0, 10).await.unwrap();
    assert_eq!((ids(followed), total), (expected(Some(other), Place::Listing), 1), "subscription feed: public only");
    let channels = store.subscriptions.subscribed_channels(other).await.unwrap();
    let latest = channels[0].channel.value.latest_video.as_ref().unwrap().id;
    assert_eq!(vec![latest], expected(Some(other), Place::Listing), "latestVideo: the newest public video");
    for viewer in [owner, other] {
        for watched in all.iter().copied() {
            store.videos.record_watch(watched_by(viewer, watched, 50)).await.unwrap();
            store.likes.toggle(viewer, LikeTarget::Video(watched)).await.unwrap();
        }
        let mut shown = expected(Some(viewer), Place::ByLink);
        shown.reverse();
        let history = store.history.watch_history(viewer).await.unwrap();
        assert_eq!(ids(history.into_iter().map(|w| w.video).collect()), shown, "history of {viewer:?}");
        let liked = store.likes.liked_videos(viewer).await.unwrap();
        let liked: Vec<Id> = liked.iter().map(|item| item.video.value.id).collect();
        assert_eq!(liked, shown, "liked videos of {viewer:?}");
    }
    // Changing the level moves the video between listings and their totals.
    let (unlisted, _) = videos[1];
    let published = store.videos.set_visibility(unlisted, Visibility::Public).await.unwrap().unwrap();
    assert_eq!(published.video.visibility, Visibility::Public);
    assert_eq!(store.videos.list(&feed(None, false)).await.unwrap().1, 2, "site total follows the level");
    let update = VideoUpdate { visibility: Some(Visibility::Private), ..Default::default() };
    let hidden = store.videos.update(unlisted, update).await.unwrap().unwrap();
    assert_eq!(hidden.video.visibility, Visibility::Private);
    assert_eq!(store.videos.list(&feed(Some(owner), false)).await.unwrap().1, 1, "channel total for others");
    assert_eq!(store.videos.list(&feed(Some(owner), true)).await.unwrap().1, 3, "channel total for its owner");
}

/// A fault that makes deleting tweets fail, on the store under test: a trigger on SQLite; on MongoDB
/// the `tweets` collection swapped for a view (views refuse writes), its documents kept aside.
struct TweetDeletionFault<'a> {
    under_test: &'a StoreUnderTest,
}

impl<'a> TweetDeletionFault<'a> {
    async fn inject(under_test: &'a StoreUnderTest) -> Self {
        match &under_test.mongodb {
            None => {
                let db = rusqlite::Connection::open(sqlite_path(under_test)).unwrap();
                let trigger = "CREATE TRIGGER injected_fault BEFORE DELETE ON tweets \
                               BEGIN SELECT RAISE(ABORT, 'injected fault'); END";
                db.execute(trigger, []).unwrap();
            }
            Some(uri) => {
                let db = mongo_database(uri).await;
                let tweets: Vec<bson::Document> =
                    futures_util::TryStreamExt::try_collect(db.collection("tweets").find(bson::doc! {}).await.unwrap())
                        .await
                        .unwrap();
                db.collection("tweets_aside").insert_many(tweets).await.unwrap();
                db.collection::<bson::Document>("tweets").drop().await.unwrap();
                db.create_collection("tweets").view_on("tweets_aside".to_owned()).pipeline(vec![]).await.unwrap();
            }
        }
        TweetDeletionFault { under_test }
    }

    async fn remove(self) {
        match &self.under_test.mongodb {
            None => {
                let db = rusqlite::Connection::open(sqlite_path(self.under_test)).unwrap();
                db.execute("DROP TRIGGER injected_fault", []).unwrap();
            }
            Some(uri) => {
                let db = mongo_database(uri).await;
                let aside: Vec<bson::Document> = futures_util::TryStreamExt::try_collect(
                    db.collection("tweets_aside").find(bson::doc! {}).await.unwrap(),
                )
                .await
                .unwrap();
                db.collection::<bson::Document>("tweets").drop().await.unwrap();
                db.collection("tweets").insert_many(aside).await.unwrap();
            }
        }
    }
}

fn sqlite_path(under_test: &StoreUnderTest) -> std::path::PathBuf {
    under_test._dir.path().join("story.db")
}

async fn mongo_database(uri: &str) -> mongodb::Database {
    let options = mongodb::options::ClientOptions::parse(uri).await.unwrap();
    let name = videotube::store::mongo::database_name(&options);
    mongodb::Client::with_options(options).unwrap().database(&name)
}

#[tokio::test]
async fn a_failed_account_deletion_leaves_a_usable_account_and_a_retry_finishes_it() {
    for under_test in stores().await {
        let store = &under_test.store;
        let asha = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
        let ben = store.users.create(new_user("ben", "ben@example.com")).await.unwrap().user.id;
        let clip = store.videos.insert(video(asha, "clip")).await.unwrap();
        let tweet = store.tweets.insert(asha, "hello").await.unwrap();
        store.likes.toggle(ben, LikeTarget::Tweet(tweet)).await.unwrap();
        store.likes.toggle(ben, LikeTarget::Video(clip.video.id)).await.unwrap();
        store.subscriptions.toggle(ben, asha).await.unwrap();
        store.videos.record_watch(watched_by(ben, clip.video.id, 50)).await.unwrap();

        let fault = TweetDeletionFault::inject(&under_test).await;
        assert!(store.users.delete_account(asha).await.is_err(), "the injected fault stops the deletion");
        assert!(store.users.by_id(asha).await.unwrap().is_some(), "the account is still there to log in");
        match store.videos.get(clip.video.id).await.unwrap() {
            // SQLite: one transaction, nothing happened.
            Some(found) => assert_eq!(found.video.owner_id(), asha),
            // MongoDB: the videos went first; nothing of them is left to reach.
            None => assert!(store.history.watch_history(ben).await.unwrap().is_empty()),
        }
        fault.remove().await;

        let keys = store.users.delete_account(asha).await.unwrap();
        assert!(keys.contains(&"local:asha.png".to_owned()), "{keys:?}");
        assert!(store.users.by_id(asha).await.unwrap().is_none());
        assert!(store.videos.get(clip.video.id).await.unwrap().is_none());
        assert!(store.tweets.get(tweet, None).await.unwrap().is_none());
        assert_eq!(store.likes.liked_videos(ben).await.unwrap().len(), 0);
        assert_eq!(store.users.channel_counts(ben, None).await.unwrap().subscribed_to, 0);
        assert!(store.history.watch_history(ben).await.unwrap().is_empty());
        // Media keys a failed attempt no longer reports are unreferenced: the reconciler deletes them.
        let video_keys = [clip.video_key.clone(), clip.thumbnail_key.clone()];
        let unreferenced = store.media_index.unreferenced(&video_keys).await.unwrap();
        assert_eq!(unreferenced.len(), 2, "{unreferenced:?}");
        assert!(store.users.delete_account(asha).await.unwrap().is_empty(), "a repeat finds nothing");
        assert!(store.users.by_id(ben).await.unwrap().is_some(), "ben is untouched");
    }
}

#[tokio::test]
async fn processing_jobs_are_claimed_once_under_a_lease() {
    for under_test in stores().await {
        processing_story(&under_test.store).await;
    }
}

async fn processing_story(store: &Store) {
    let owner = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let queued = |title: &str, thumbnail: bool| NewVideo {
        processing: ProcessingStatus::Queued,
        thumbnail: if thumbnail { media(&format!("{title}.jpg")) } else { MediaRef { url: "".into(), key: "".into() } },
        ..video(owner, title)
    };
    let off = store.videos.insert(video(owner, "off")).await.unwrap();
    let first = store.videos.insert(queued("first", false)).await.unwrap();
    let second = store.videos.insert(queued("second", true)).await.unwrap();
    assert_eq!(off.video.processing.status, ProcessingStatus::Off);
    assert_eq!((first.video.processing.status, first.video.processing.progress), (ProcessingStatus::Queued, 0));

    let now = Timestamp::now();
    let claimed = store.processing.claim("a", now, now.plus_secs(60)).await.unwrap().unwrap();
    assert_eq!(claimed.video.id, first.video.id, "oldest first");
    assert_eq!(claimed.video.processing.status, ProcessingStatus::Processing);
    let claimed = store.processing.claim("b", now, now.plus_secs(60)).await.unwrap().unwrap();
    assert_eq!(claimed.video.id, second.video.id, "a held job is not claimed again");
    assert!(store.processing.claim("c", now, now.plus_secs(60)).await.unwrap().is_none(), "videos that are off never");

    assert!(store.processing.renew(first.video.id, "a", 40, now.plus_secs(60)).await.unwrap());
    assert!(store.processing.renew(first.video.id, "a", 30, now.plus_secs(600)).await.unwrap());
    assert_eq!(store.videos.get(first.video.id).await.unwrap().unwrap().video.processing.progress, 40, "monotonic");
    assert!(!store.processing.renew(first.video.id, "b", 50, now.plus_secs(60)).await.unwrap(), "not b's job");

    // Holder "b" dies while "a" keeps renewing: once b's lease has run out, another instance takes
    // b's job over, and b's late writes are refused.
    let later = now.plus_secs(120);
    let taken = store.processing.claim("c", later, later.plus_secs(60)).await.unwrap().unwrap();
    assert_eq!(taken.video.id, second.video.id);
    assert!(!store.processing.fail(second.video.id, "b", "late").await.unwrap());

    let done = ProcessedVideo {
        duration: 2.0,
        width: 160,
        height: 120,
        video_file: Some(media("first.mp4")),
        thumbnail: Some(media("first-extracted.jpg")),
        hls: media("hls/first"),
    };
    assert!(store.processing.finish(first.video.id, "b", &done).await.unwrap().is_none(), "not b's job");
    let finished = store.processing.finish(first.video.id, "a", &done).await.unwrap().unwrap();
    assert_eq!(finished.video.processing.status, ProcessingStatus::Ready);
    assert_eq!(finished.video.processing.progress, 100);
    assert_eq!((finished.video.width, finished.video.height, finished.video.duration), (160, 120, 2.0));
    assert_eq!(finished.video_key, "local:first.mp4");
    assert_eq!(finished.thumbnail_key, "local:first-extracted.jpg", "the video had no thumbnail");
    assert_eq!(finished.hls_key, "local:hls/first");
    assert_eq!(finished.video.streams.hls.as_deref(), Some("http://media.test/hls/first"));
    let listed = store.videos.list(&feed(None, false)).await.unwrap().0;
    let in_feed = listed.iter().find(|v| v.id == first.video.id).unwrap();
    assert_eq!((in_feed.processing.status, in_feed.width), (ProcessingStatus::Ready, 160), "every Video shape");

    let kept = ProcessedVideo { video_file: None, ..done };
    let finished = store.processing.finish(second.video.id, "c", &kept).await.unwrap().unwrap();
    assert_eq!(finished.thumbnail_key, "local:second.jpg", "an uploaded thumbnail is kept");
    assert_eq!(finished.video_key, "local:second.mp4", "no transcode: the original stays");

    let third = store.videos.insert(queued("third", true)).await.unwrap();
    let now = Timestamp::now();
    store.processing.claim("a", now, now.plus_secs(60)).await.unwrap().unwrap();
    assert!(store.processing.fail(third.video.id, "a", "The video file could not be read").await.unwrap());
    let failed = store.videos.get(third.video.id).await.unwrap().unwrap();
    assert_eq!(failed.video.processing.status, ProcessingStatus::Failed);
    assert_eq!(failed.processing_error.as_deref(), Some("The video file could not be read"));
    let later = now.plus_secs(600);
    assert!(store.processing.claim("b", later, later).await.unwrap().is_none(), "a failed job is not retried");

    let unreferenced = store.media_index.unreferenced(&["local:hls/first".into(), "local:gone".into()]).await.unwrap();
    assert_eq!(unreferenced, ["local:gone"], "renditions are referenced");
    let mut keys = store.users.delete_account(owner).await.unwrap();
    keys.sort();
    assert!(keys.contains(&"local:hls/first".to_owned()), "{keys:?}");
    assert!(!keys.iter().any(String::is_empty), "{keys:?}");
}

/// `videotube migrate` copies the processing state of every video (status, progress, error, size,
/// renditions and their key); a job that was running is queued again in the copy, since its lease
/// belonged to an instance of the old store.
#[tokio::test]
async fn migration_copies_processing_state_and_requeues_running_jobs() {
    use videotube::store::transfer::{Transfer, copy_all};
    let dir = tempfile::tempdir().unwrap();
    let source = SqliteStore::open(&dir.path().join("from.db")).await.unwrap();
    let store = Store::from_backend(source.clone());
    let owner = store.users.create(new_user("asha", "asha@example.com")).await.unwrap().user.id;
    let queued = |title: &str| NewVideo { processing: ProcessingStatus::Queued, ..video(owner, title) };
    let done = store.videos.insert(queued("done")).await.unwrap().video.id;
    let running = store.videos.insert(queued("running")).await.unwrap().video.id;
    let now = Timestamp::now();
    store.processing.claim("a", now, now.plus_secs(60)).await.unwrap();
    let processed = ProcessedVideo {
        duration: 2.0,
        width: 120,
        height: 160,
        video_file: None,
        thumbnail: None,
        hls: media("hls/done"),
    };
    store.processing.finish(done, "a", &processed).await.unwrap().unwrap();
    store.processing.claim("a", now, now.plus_secs(60)).await.unwrap();
    store.processing.renew(running, "a", 40, now.plus_secs(60)).await.unwrap();

    let mut hops: Vec<(Box<dyn Transfer>, Store, Option<String>)> = Vec::new();
    let copy = SqliteStore::open(&dir.path().join("to.db")).await.unwrap();
    hops.push((Box::new(copy.clone()), Store::from_backend(copy), None));
    if let Some(uri) = fresh_mongodb_database() {
        let mongo = MongoStore::connect(&uri).await.unwrap();
        hops.push((Box::new(mongo.clone()), Store::from_backend(mongo), Some(uri)));
    }
    for (target, copied, mongodb) in hops {
        copy_all(&source, target.as_ref(), 100, &mut |_, _| {}).await.unwrap();
        let finished = copied.videos.get(done).await.unwrap().unwrap();
        assert_eq!(finished.video.processing.status, ProcessingStatus::Ready);
        assert_eq!((finished.video.processing.progress, finished.video.width, finished.video.height), (100, 120, 160));
        assert_eq!(finished.video.streams.hls.as_deref(), Some("http://media.test/hls/done"));
        assert_eq!(finished.hls_key, "local:hls/done");
        let requeued = copied.videos.get(running).await.unwrap().unwrap();
        assert_eq!(
            (requeued.video.processing.status, requeued.video.processing.progress),
            (ProcessingStatus::Queued, 40)
        );
        let later = Timestamp::now();
        let claimed = copied.processing.claim("b", later, later.plus_secs(60)).await.unwrap().unwrap();
        assert_eq!(claimed.video.id, running, "the copy resumes the job at once");
        if let Some(uri) = mongodb {
            drop_mongodb_database(&uri);
        }
    }
}
