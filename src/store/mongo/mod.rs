//! The MongoDB store: one shared `Client`, where each record kind lives (the collections and field
//! names of docs/api.md §4), indexes ensured at startup. Queries are built by the pure functions in
//! `queries`; the modules of each area run them.

mod blocks;
mod cascade;
mod comments;
mod counters;
mod dashboard;
mod docs;
mod ephemeral;
mod history;
mod indexes;
mod likes;
mod moderation;
mod notifications;
mod playlists;
mod processing;
pub mod queries;
mod reports;
mod search;
mod sessions;
mod subscriptions;
mod transfer;
mod tweets;
mod uploads;
mod users;
mod videos;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};

use super::records::RecordKind;
use super::{MediaIndex, StoreError, StoreHealth, StoreResult};
use crate::domain::{Id, Timestamp};

pub use uploads::MongoUploads;

/// The database used when the URI names none (the original API's name, so its data is found).
pub const DEFAULT_DATABASE: &str = "videotube";

/// Connections per process unless the URI sets `maxPoolSize`: enough for every request that runs
/// at once on a few cores, few enough that several instances stay under a server's connection limit.
pub const DEFAULT_MAX_POOL_SIZE: u32 = 32;

/// How long an operation waits for a server it can use, unless the URI sets
/// `serverSelectionTimeoutMS`. The driver's own default, 30 s, held every request that long while
/// the database was down; with this one they answer 503 within a few seconds (docs/api.md §1.4).
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening a connection (and a monitor's check) may take, unless the URI sets
/// `connectTimeoutMS` (the driver's default: 10 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the records of a kind live on MongoDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Home {
    /// The documents of a collection of their own.
    Collection(&'static str),
    /// Entries of the array `field` in the documents of `holder`, as the original API kept a user's
    /// sessions and history in the user and a playlist's videos in the playlist.
    Within { holder: RecordKind, field: &'static str },
}

/// Where each kind lives. The collection names are those of docs/api.md §4, shared with a database
/// created by the original API, and our own for view hours, view marks and request budgets.
pub(crate) const fn home(kind: RecordKind) -> Home {
    match kind {
        RecordKind::Users => Home::Collection("users"),
        RecordKind::Sessions => Home::Within { holder: RecordKind::Users, field: "refreshSessions" },
        RecordKind::Videos => Home::Collection("videos"),
        // Counted views per video and hour, for trending.
        RecordKind::ViewHours => Home::Collection("viewHours"),
        RecordKind::Comments => Home::Collection("comments"),
        RecordKind::Tweets => Home::Collection("tweets"),
        RecordKind::Likes => Home::Collection("likes"),
        RecordKind::Subscriptions => Home::Collection("subscriptions"),
        RecordKind::Playlists => Home::Collection("playlists"),
        RecordKind::PlaylistEntries => Home::Within { holder: RecordKind::Playlists, field: "videos" },
        // `watchHistory` holds the video ids; `watchHistoryAt`, aligned with it, their times.
        RecordKind::WatchHistory => Home::Within { holder: RecordKind::Users, field: "watchHistory" },
        RecordKind::Reports => Home::Collection("reports"),
        RecordKind::ModerationActions => Home::Collection("moderationActions"),
        RecordKind::Blocks => Home::Collection("blocks"),
        RecordKind::NotificationSettings => Home::Collection("notificationSettings"),
        RecordKind::Notifications => Home::Collection("notifications"),
        // Shared short-lived state, so that several instances on one database agree.
        RecordKind::ViewMarks => Home::Collection("viewMarks"),
        RecordKind::RequestBudgets => Home::Collection("requestBudgets"),
    }
}

/// The collection holding records of `kind`: its own, or its holder's.
pub(crate) const fn collection(kind: RecordKind) -> &'static str {
    match home(kind) {
        Home::Collection(name) => name,
        Home::Within { holder, .. } => collection(holder),
    }
}

/// The collections by name, as the queries use them; each is the `collection` of its kind.
pub(crate) mod coll {
    use super::collection;
    use crate::store::records::RecordKind;

    pub const USERS: &str = collection(RecordKind::Users);
    pub const VIDEOS: &str = collection(RecordKind::Videos);
    pub const COMMENTS: &str = collection(RecordKind::Comments);
    pub const LIKES: &str = collection(RecordKind::Likes);
    pub const PLAYLISTS: &str = collection(RecordKind::Playlists);
    pub const SUBSCRIPTIONS: &str = collection(RecordKind::Subscriptions);
    pub const TWEETS: &str = collection(RecordKind::Tweets);
    pub const VIEW_MARKS: &str = collection(RecordKind::ViewMarks);
    pub const REQUEST_BUDGETS: &str = collection(RecordKind::RequestBudgets);
    pub const VIEW_HOURS: &str = collection(RecordKind::ViewHours);
    pub const REPORTS: &str = collection(RecordKind::Reports);
    pub const MODERATION_ACTIONS: &str = collection(RecordKind::ModerationActions);
    pub const BLOCKS: &str = collection(RecordKind::Blocks);
    pub const NOTIFICATION_SETTINGS: &str = collection(RecordKind::NotificationSettings);
    pub const NOTIFICATIONS: &str = collection(RecordKind::Notifications);
}

/// The MongoDB implementation of every repository trait.
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    /// Toggles of one pair (a like, a subscription) from this process take turns: concurrent inserts
    /// and deletes of one unique key deadlock on DocumentDB (each costing a second of detection),
    /// and conflict on MongoDB. Instances still race each other; retries cover that.
    toggle_turns: Arc<[tokio::sync::Mutex<()>]>,
    /// Works through the changes queued for `notifications::Settler` (none for a store that was
    /// only connected to, or the settler's own handle).
    settler: Arc<notifications::Settler>,
}

/// Shards of `toggle_turns`: unrelated pairs rarely share one.
const TOGGLE_SHARDS: usize = 64;

/// How often a toggle retries when a concurrent toggle of the same pair keeps winning.
const TOGGLE_ATTEMPTS: usize = 16;

impl MongoStore {
    /// Connects with one process-wide client, then ensures indexes and normalises legacy emails and sessions.
    pub async fn connect(uri: &str) -> StoreResult<Self> {
        let store = Self::connect_unprepared(uri).await?;
        indexes::ensure(&store.db).await?;
        indexes::normalise_emails(&store.db).await?;
        indexes::name_sessions(&store.db).await?;
        search::index_words(&store.db).await?;
        store.build_counters().await?;
        let settler = Arc::new(notifications::Settler::start(store.clone()));
        Ok(MongoStore { settler, ..store })
    }

    /// Connects without writing anything: for reading a database as the source of a copy, which
    /// may be an original API's database with duplicates a unique index would refuse.
    pub async fn connect_unprepared(uri: &str) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(|e| StoreError::context("MONGODB_URI", e))?;
        // The driver's default of 10 connections queues requests behind each other under load.
        options.max_pool_size = options.max_pool_size.or(Some(DEFAULT_MAX_POOL_SIZE));
        // A database that is down must not hold requests for the driver's 30 s (docs/decisions.md D24).
        options.server_selection_timeout = options.server_selection_timeout.or(Some(DEFAULT_SERVER_SELECTION_TIMEOUT));
        options.connect_timeout = options.connect_timeout.or(Some(DEFAULT_CONNECT_TIMEOUT));
        let name = database_name(&options);
        let hosts: Vec<String> = options.hosts.iter().map(ToString::to_string).collect();
        let client = Client::with_options(options).map_err(backend)?;
        let toggle_turns = (0..TOGGLE_SHARDS).map(|_| tokio::sync::Mutex::new(())).collect();
        let store = MongoStore { db: client.database(&name), toggle_turns, settler: Arc::default() };
        store.db.run_command(doc! { "ping": 1 }).await.map_err(|e| {
            StoreError::context(format!("cannot reach MongoDB at {} (database `{name}`)", hosts.join(",")), e)
        })?;
        Ok(store)
    }

    /// Drops the whole database; the test suite uses it to start every run from nothing.
    pub async fn drop_database(&self) -> StoreResult<()> {
        self.db.drop().await.map_err(backend)
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    async fn aggregate(&self, name: &str, pipeline: Vec<Document>) -> StoreResult<Vec<Document>> {
        let cursor = self.collection(name).aggregate(pipeline).await.map_err(backend)?;
        cursor.try_collect().await.map_err(backend)
    }

    /// Runs a pipeline and decodes each result into `T`.
    async fn aggregate_as<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        pipeline: Vec<Document>,
    ) -> StoreResult<Vec<T>> {
        self.aggregate(name, pipeline).await?.into_iter().map(decode).collect()
    }

    /// Runs a pipeline reading the index named `hint` (one of `queries::index`), decoding each result.
    async fn aggregate_hinted<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        pipeline: Vec<Document>,
        hint: Option<&str>,
    ) -> StoreResult<Vec<T>> {
        let collection = self.collection(name);
        let aggregate = collection.aggregate(pipeline);
        let cursor = match hint {
            Some(index) => aggregate.hint(mongodb::options::Hint::Name(index.to_owned())).await,
            None => aggregate.await,
        }
        .map_err(backend)?;
        let found: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
        found.into_iter().map(decode).collect()
    }

    async fn count(&self, name: &str, filter: Document) -> StoreResult<u64> {
        self.collection(name).count_documents(filter).await.map_err(backend)
    }

    /// The `_id`s of the documents of `name` matching `filter`.
    async fn ids_where(&self, name: &str, filter: Document) -> StoreResult<Vec<ObjectId>> {
        ids_found(self.collection(name).find(filter).projection(doc! { "_id": 1 }), "_id").await
    }

    /// Inserts a record (a comment, a tweet, a playlist) of `fields` with a new id and its times.
    async fn insert_record(&self, name: &str, fields: Document) -> StoreResult<Id> {
        let id = Id::generate();
        let record = queries::record(oid(id), fields, now());
        let collection = self.collection(name);
        retry_transient(|| collection.insert_one(record.clone())).await.map_err(backend)?;
        Ok(id)
    }

    /// Applies `update` to the record `id`; false when there is none.
    async fn update_record(&self, name: &str, id: Id, update: Document) -> StoreResult<bool> {
        let result = self.collection(name).update_one(queries::by_id(oid(id)), update).await.map_err(backend)?;
        Ok(result.matched_count > 0)
    }

    /// Flips the record matching `key` (unique): deletes it if present, else inserts it. Without a
    /// transaction, the unique index arbitrates concurrent flips: a loser retries, so every call is
    /// one delete or one insert and N concurrent flips leave the parity of N. Each write is retried
    /// on its own while it fails transiently (a lost lock wrote nothing).
    async fn flip(&self, name: &str, key: Document) -> StoreResult<bool> {
        let _turn = self.toggle_turn(name, &key).await;
        let collection = self.collection(name);
        for _ in 0..TOGGLE_ATTEMPTS {
            let deleted = retry_transient(|| collection.delete_one(key.clone())).await.map_err(backend)?;
            if deleted.deleted_count > 0 {
                return Ok(false);
            }
            let record = queries::record(oid(Id::generate()), key.clone(), now());
            match retry_transient(|| collection.insert_one(record.clone())).await.map_err(conflict_on("pair")) {
                Ok(_) => return Ok(true),
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::backend(format!("toggle on {name} kept losing races")))
    }

    /// Waits for this process's turn to toggle the pair `key` in `name`.
    async fn toggle_turn(&self, name: &str, key: &Document) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut hasher);
        key.to_string().hash(&mut hasher);
        let shard = (hasher.finish() % self.toggle_turns.len() as u64) as usize;
        self.toggle_turns[shard].lock().await
    }
}

/// The database named in the URI's path, else `videotube`; the rest of the URI (hosts, options) is untouched.
pub fn database_name(options: &ClientOptions) -> String {
    options.default_database.clone().filter(|name| !name.is_empty()).unwrap_or_else(|| DEFAULT_DATABASE.to_owned())
}

/// The URI with its database path replaced by `database`; hosts, credentials and the query string
/// are kept. Used to point tools and tests at another database of the same deployment.
pub fn with_database(uri: &str, database: &str) -> String {
    let (base, query) = match uri.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (uri, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let hosts_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..hosts_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[async_trait]
impl MediaIndex for MongoStore {
    async fn unreferenced(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        let mut referenced = std::collections::HashSet::new();
        for (name, fields) in [
            (coll::USERS, &["avatarKey", "coverImageKey"][..]),
            (coll::VIDEOS, &["videoKey", "thumbnailKey", "hlsKey"]),
        ] {
            let filter = queries::keys_in(fields, keys);
            let cursor =
                self.collection(name).find(filter).projection(queries::project(fields)).await.map_err(backend)?;
            let found: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
            for document in found {
                for field in fields {
                    if let Ok(key) = document.get_str(field) {
                        referenced.insert(key.to_owned());
                    }
                }
            }
        }
        Ok(keys.iter().filter(|k| !referenced.contains(*k)).cloned().collect())
    }
}

#[async_trait]
impl StoreHealth for MongoStore {
    fn backend(&self) -> &'static str {
        "mongodb"
    }

    /// `ping`, then one document of `users` read: a DocumentDB gateway answers `ping` itself, also
    /// while its PostgreSQL is down.
    async fn ping(&self) -> bool {
        self.db.run_command(doc! { "ping": 1 }).await.is_ok()
            && self.collection(coll::USERS).find_one(doc! {}).projection(doc! { "_id": 1 }).await.is_ok()
    }

    async fn close(&self) {
        self.settler.stop();
    }

    async fn repair_counts(&self) -> StoreResult<u64> {
        self.repair(Some(counters::REPAIR_CONFIRM)).await
    }
}

pub(crate) fn oid(id: Id) -> ObjectId {
    ObjectId::from_bytes(id.bytes())
}

pub(crate) fn id_of(oid: ObjectId) -> Id {
    Id::from_bytes(oid.bytes())
}

pub(crate) fn date(at: Timestamp) -> bson::DateTime {
    bson::DateTime::from_millis(at.millis())
}

pub(crate) fn now() -> bson::DateTime {
    date(Timestamp::now())
}

fn decode<T: serde::de::DeserializeOwned>(document: Document) -> StoreResult<T> {
    bson::deserialize_from_document(document)
        .map_err(|e| StoreError::context("unexpected document shape in database", e))
}

/// A driver error as a `StoreError`: `Unavailable` when the deployment could not be reached or
/// cannot serve now (see `is_unreachable`), else `Backend`.
/// The ObjectIds in `field` of the documents `find` returns (those without one are skipped).
async fn ids_found(find: mongodb::action::Find<'_, Document>, field: &str) -> StoreResult<Vec<ObjectId>> {
    let found: Vec<Document> = find.await.map_err(backend)?.try_collect().await.map_err(backend)?;
    Ok(found.iter().filter_map(|d| d.get_object_id(field).ok()).collect())
}

fn backend(e: mongodb::error::Error) -> StoreError {
    if is_unreachable(&e) { StoreError::Unavailable(Box::new(e)) } else { StoreError::backend(e) }
}

/// Server codes meaning "not now": the server is shutting down or stepping down, is not (or no
/// longer) the primary, or could not reach another host or its own storage in time.
const UNAVAILABLE_CODES: [i32; 11] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    189,   // PrimarySteppedDown
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// DocumentDB answers a PostgreSQL error with its SQLSTATE packed as PostgreSQL packs it (six
/// bits a character, first character lowest): the code of `state`.
const fn sqlstate(state: &[u8; 5]) -> i32 {
    let mut code = 0;
    let mut i = 0;
    while i < 5 {
        code |= ((state[i] - b'0') as i32 & 0x3F) << (6 * i);
        i += 1;
    }
    code
}

/// DocumentDB's codes for its PostgreSQL not serving: shutting down (57P01, 57P02), starting or
/// stopping (57P03, "the database system is starting up / shutting down"), or a connection failure
/// (class 08).
const DOCUMENTDB_UNAVAILABLE_CODES: [i32; 8] = [
    sqlstate(b"57P01"),
    sqlstate(b"57P02"),
    sqlstate(b"57P03"),
    sqlstate(b"08000"),
    sqlstate(b"08001"),
    sqlstate(b"08003"),
    sqlstate(b"08004"),
    sqlstate(b"08006"),
];

/// DocumentDB's gateway answers InternalError (code 1) when it cannot reach its PostgreSQL; only
/// the message tells that apart from other internal errors (seen on DocumentDB with PostgreSQL
/// stopped: "error connecting to server: Connection refused", "error communicating with the
/// server: Connection reset by peer").
const INTERNAL_ERROR: i32 = 1;
const DOCUMENTDB_UNREACHABLE_MESSAGES: [&str; 2] =
    ["error connecting to server", "error communicating with the server"];

/// Whether the deployment was out of reach: no server selected in time, a connection refused, cut
/// or timed out, a pool cleared after such a failure, a name that did not resolve, or a server
/// answering one of `UNAVAILABLE_CODES` (or DocumentDB saying its PostgreSQL is not serving).
fn is_unreachable(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::DnsResolve { .. } => true,
        ErrorKind::Command(c) if c.code == INTERNAL_ERROR => {
            DOCUMENTDB_UNREACHABLE_MESSAGES.iter().any(|m| c.message.starts_with(m))
        }
        // A new connection's login failed because the server could not serve it (DocumentDB: "SCRAM
        // failure: error connecting to server"); the driver keeps that cause as the source.
        ErrorKind::Authentication { .. } => std::error::Error::source(e)
            .and_then(|cause| cause.downcast_ref::<mongodb::error::Error>())
            .is_some_and(is_unreachable),
        _ => error_code(e)
            .is_some_and(|code| UNAVAILABLE_CODES.contains(&code) || DOCUMENTDB_UNAVAILABLE_CODES.contains(&code)),
    }
}

/// The MongoDB code for a duplicate key on a unique index.
const DUPLICATE_KEY: i32 = 11000;

/// The code of a write that lost to a concurrent one: MongoDB's WriteConflict, which DocumentDB also
/// answers when two writes on one unique key deadlock in PostgreSQL. The write did not happen.
const WRITE_CONFLICT: i32 = 112;

/// How many times a write that lost to a concurrent one is tried in all.
const TRANSIENT_ATTEMPTS: u32 = 8;

fn error_code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}

/// A failure that left nothing written and may succeed if the same operation is sent again.
fn is_transient(e: &mongodb::error::Error) -> bool {
    error_code(e) == Some(WRITE_CONFLICT) || e.contains_label(mongodb::error::TRANSIENT_TRANSACTION_ERROR)
}

/// Runs a single-document operation, sending it again (bounded, with a short growing pause) while it
/// fails transiently. Only for operations that are safe to repeat: a transient failure wrote nothing.
async fn retry_transient<T, F, Fut>(mut operation: F) -> mongodb::error::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = mongodb::error::Result<T>>,
{
    let mut attempt = 1;
    loop {
        match operation().await {
            Err(e) if attempt < TRANSIENT_ATTEMPTS && is_transient(&e) => {
                let pause_ms = (1u64 << attempt).min(64) + rand::random_range(0..4u64);
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Maps a duplicate-key error to `Conflict` on `field` (the caller knows which unique key its write
/// can break: error texts differ between servers and some name no index); the rest to `Backend`.
fn conflict_on(field: &'static str) -> impl Fn(mongodb::error::Error) -> StoreError {
    move |e| if error_code(&e) == Some(DUPLICATE_KEY) { StoreError::Conflict { field } } else { backend(e) }
}

fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn name_of(uri: &str) -> String {
        database_name(&ClientOptions::parse(uri).await.unwrap())
    }

    #[tokio::test]
    async fn the_database_name_comes_from_the_uri_path_or_defaults() {
        assert_eq!(name_of("mongodb://localhost:27017").await, "videotube");
        assert_eq!(name_of("mongodb://localhost:27017/").await, "videotube");
        assert_eq!(name_of("mongodb://h1,h2/?replicaSet=rs0").await, "videotube");
        assert_eq!(name_of("mongodb://u:p@h1:27017,h2:27018/tube?replicaSet=rs0&authSource=admin").await, "tube");
    }

    #[tokio::test]
    async fn the_query_string_survives_parsing() {
        let options = ClientOptions::parse("mongodb://h1,h2/app?replicaSet=rs0&retryWrites=false").await.unwrap();
        assert_eq!(options.repl_set_name.as_deref(), Some("rs0"));
        assert_eq!(options.retry_writes, Some(false));
        assert_eq!(options.hosts.len(), 2);
    }

    #[test]
    fn another_database_of_the_same_deployment() {
        assert_eq!(with_database("mongodb://localhost:27017", "t1"), "mongodb://localhost:27017/t1");
        assert_eq!(with_database("mongodb://h/app?w=majority", "t2"), "mongodb://h/t2?w=majority");
        assert_eq!(
            with_database("mongodb+srv://u:p@cluster.example.net/?retryWrites=true", "t3"),
            "mongodb+srv://u:p@cluster.example.net/t3?retryWrites=true"
        );
    }

    #[test]
    fn every_kind_lives_in_one_collection_of_its_own_or_in_its_holder() {
        let mut names = Vec::new();
        for kind in RecordKind::ALL {
            match home(kind) {
                Home::Collection(name) => names.push(name),
                Home::Within { holder, .. } => {
                    assert!(matches!(home(holder), Home::Collection(_)), "{kind:?} is held by {holder:?}");
                    assert!(kind.references().contains(&holder), "{kind:?} refers to its holder {holder:?}");
                }
            }
        }
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), names.len(), "one kind per collection: {names:?}");
        assert_eq!(collection(RecordKind::Sessions), "users");
        assert_eq!(collection(RecordKind::PlaylistEntries), "playlists");
    }

    #[test]
    fn documentdb_codes_are_packed_sqlstates() {
        // As DocumentDB answered with PostgreSQL stopping and starting.
        assert_eq!(sqlstate(b"57P03"), 50_463_173);
        let error = |code: i32, message: &str| -> mongodb::error::Error {
            let command = bson::doc! { "ok": 0, "code": code, "codeName": "x", "errmsg": message };
            let command: mongodb::error::CommandError = bson::deserialize_from_document(command).unwrap();
            ErrorKind::Command(command).into()
        };
        assert!(is_unreachable(&error(50_463_173, "the database system is shutting down")));
        assert!(is_unreachable(&error(1, "error connecting to server: Connection refused (os error 111)")));
        assert!(!is_unreachable(&error(1, "something else broke")));
        assert!(!is_unreachable(&error(DUPLICATE_KEY, "E11000 duplicate key")));
        assert!(is_unreachable(&error(91, "ShutdownInProgress")));
    }

    #[test]
    fn ids_round_trip_through_object_ids() {
        let id = Id::generate();
        assert_eq!(id_of(oid(id)), id);
        assert_eq!(oid(id).to_hex(), id.to_hex());
        assert_eq!(date(Timestamp(1_700_000_000_123)).timestamp_millis(), 1_700_000_000_123);
    }
}
