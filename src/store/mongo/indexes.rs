//! Startup housekeeping: the indexes of every record kind (docs/api.md §4, created idempotently), the
//! one-time lowercasing of emails stored mixed-case by the original API, and ids for sessions stored
//! before sessions had them.

use bson::oid::ObjectId;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::docs::SessionDoc;
use super::queries::{sessions as sq, users as q};
use super::{backend, coll, collection, decode, queries};
use crate::store::records::RecordKind;
use crate::store::{StoreError, StoreResult};

fn index(keys: Document) -> IndexModel {
    IndexModel::builder().keys(keys).build()
}

fn named(keys: Document, name: &str, unique: bool) -> IndexModel {
    let options = IndexOptions::builder().name(name.to_owned()).unique(unique.then_some(true)).build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// A unique index applying only to documents where `field` holds an id (likes target exactly one).
fn unique_where_set(keys: Document, field: &str) -> IndexModel {
    let options =
        IndexOptions::builder().unique(true).partial_filter_expression(doc! { field: { "$type": "objectId" } }).build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Removes each document once the time in `expiresAt` has passed (the server sweeps about once a
/// minute; readers never rely on the sweep, they compare times themselves).
fn expiring() -> IndexModel {
    let options = IndexOptions::builder().expire_after(std::time::Duration::ZERO).build();
    IndexModel::builder().keys(doc! { "expiresAt": 1 }).options(options).build()
}

/// The indexes a kind needs, on the collection it lives in (its holder's for a kind kept inside
/// another kind's documents). The three user indexes keep the original API's names so an existing
/// database is reused as is; list indexes end in `_id` so pages sort by the index alone.
fn indexes(kind: RecordKind) -> Vec<IndexModel> {
    let newest = |field: &str| doc! { field: 1, "createdAt": -1, "_id": -1 };
    match kind {
        RecordKind::Users => vec![
            named(doc! { "username": 1 }, "username_1", true),
            named(doc! { "email": 1 }, "email_1", true),
            named(doc! { "fullName": 1 }, "fullName_1", false),
            index(doc! { "avatarKey": 1 }),
            index(doc! { "coverImageKey": 1 }),
            // Counts the admins (an account may not demote the last one).
            index(doc! { "role": 1 }),
            // Channel search: the folded words of the names (docs/decisions.md D22).
            index(doc! { "searchWords": 1 }),
        ],
        RecordKind::Sessions => vec![index(doc! { "refreshSessions.jti": 1 })],
        RecordKind::Videos => vec![
            index(newest("owner")),
            index(newest("isPublished")),
            index(doc! { "isPublished": 1, "views": -1, "_id": -1 }),
            index(doc! { "isPublished": 1, "duration": -1, "_id": -1 }),
            index(doc! { "isPublished": 1, "title": 1, "_id": 1 }),
            index(doc! { "videoKey": 1 }),
            index(doc! { "thumbnailKey": 1 }),
            index(doc! { "hlsKey": 1 }),
            index(doc! { "processingStatus": 1, "createdAt": 1, "_id": 1 }),
            // Search and suggestions: the folded words of videos alone, so a search reads only its
            // words' keys; whether listed is checked on the videos found (docs/decisions.md D22:
            // on DocumentDB a compound with `isPublished`, in either order, reads every listed
            // video's key). Named in `queries::index`.
            index(doc! { "searchWords": 1 }),
            index(doc! { "suggestWords": 1 }),
        ],
        // Trending reads the hours of its window; a deleted video's records go by video.
        RecordKind::ViewHours => vec![index(doc! { "hour": 1, "video": 1, "n": 1 }), index(doc! { "video": 1 })],
        // A video's comments (its cascades); its top-level ones, newest first; a thread's replies,
        // oldest first (also their counts and the thread's cascade).
        RecordKind::Comments => vec![
            index(newest("video")),
            index(doc! { "video": 1, "parent": 1, "createdAt": -1, "_id": -1 }),
            index(doc! { "parent": 1, "createdAt": 1, "_id": 1 }),
            // An author's own hidden comments on a video or in a thread (added to the kept counts
            // for them), and an author's comments when suspended, blocked or deleted.
            index(doc! { "owner": 1, "parent": 1, "video": 1 }),
        ],
        RecordKind::Tweets => vec![index(newest("owner"))],
        RecordKind::Likes => vec![
            unique_where_set(doc! { "likedBy": 1, "video": 1 }, "video"),
            unique_where_set(doc! { "likedBy": 1, "comment": 1 }, "comment"),
            unique_where_set(doc! { "likedBy": 1, "tweet": 1 }, "tweet"),
            index(doc! { "video": 1 }),
            index(doc! { "comment": 1 }),
            index(doc! { "tweet": 1 }),
            index(newest("likedBy")),
        ],
        RecordKind::Subscriptions => vec![
            named(doc! { "subscriber": 1, "channel": 1 }, "subscriber_1_channel_1", true),
            index(newest("channel")),
            index(newest("subscriber")),
        ],
        RecordKind::Playlists => vec![index(newest("owner"))],
        RecordKind::PlaylistEntries => vec![index(doc! { "videos": 1 })],
        RecordKind::WatchHistory => vec![index(doc! { "watchHistory": 1 })],
        RecordKind::Reports => vec![
            // One open report per reporter and target: `openBy` holds the reporter while it is open.
            unique_where_set(doc! { "openBy": 1, "targetType": 1, "target": 1 }, "openBy"),
            // A reporter's reports, for the account cascade and the report budget.
            index(doc! { "reporter": 1 }),
            // The reports on one target, by status (actions closing them), and the queue's groups.
            index(doc! { "targetType": 1, "target": 1, "status": 1 }),
            index(doc! { "status": 1, "targetType": 1, "target": 1, "createdAt": 1 }),
        ],
        // One block per pair; a blocker's list, newest first; the blocks of a blocked user.
        RecordKind::Blocks => vec![
            named(doc! { "blocker": 1, "blocked": 1 }, "blocker_1_blocked_1", true),
            index(doc! { "blocker": 1, "createdAt": -1, "_id": -1 }),
            index(doc! { "blocked": 1 }),
        ],
        // Kept under the account's id: found by `_id`.
        RecordKind::NotificationSettings => vec![],
        // A recipient's page, newest first, and their unread ones; the stream's tail and the
        // retention sweep; the cascades' lookups by actor, video and comment.
        RecordKind::Notifications => vec![
            index(newest("recipient")),
            index(doc! { "recipient": 1, "read": 1, "createdAt": -1, "_id": -1 }),
            index(doc! { "createdAt": 1 }),
            index(doc! { "actor": 1 }),
            index(doc! { "video": 1 }),
            index(doc! { "comment": 1 }),
        ],
        // The log, newest first: whole, or of one kind or target.
        RecordKind::ModerationActions => vec![
            index(doc! { "createdAt": -1, "_id": -1 }),
            index(doc! { "targetType": 1, "target": 1, "createdAt": -1, "_id": -1 }),
        ],
        RecordKind::ViewMarks | RecordKind::RequestBudgets => vec![expiring()],
    }
}

/// Every index, per collection, in the order the collections' kinds come in the registry.
pub fn models() -> Vec<(&'static str, Vec<IndexModel>)> {
    let mut models: Vec<(&'static str, Vec<IndexModel>)> = Vec::new();
    for kind in RecordKind::ALL {
        let name = collection(kind);
        match models.iter_mut().find(|(known, _)| *known == name) {
            Some((_, known)) => known.extend(indexes(kind)),
            None => models.push((name, indexes(kind))),
        }
    }
    models.retain(|(_, indexes)| !indexes.is_empty());
    models
}

/// Indexes earlier versions created that nothing reads any more, per collection, by name: dropped
/// at startup once their replacements exist.
pub const RETIRED: [(&str, &str); 2] = [
    // Search and suggestions led with `isPublished`, which every public video shares: DocumentDB
    // read every listed video's keys (BENCHMARKS.md, Search); replaced by `searchWords_1` and
    // `suggestWords_1`.
    ("videos", "isPublished_1_searchWords_1"),
    ("videos", "isPublished_1_suggestWords_1"),
];

/// Drops the `RETIRED` indexes a database still has (another server starting at the same time may
/// drop one first: an index already gone is no error).
async fn retire(db: &Database) -> StoreResult<()> {
    for (name, index) in RETIRED {
        let collection = db.collection::<Document>(name);
        let existing = collection.list_index_names().await.map_err(backend)?;
        if !existing.iter().any(|known| known == index) {
            continue;
        }
        match collection.drop_index(index).await {
            Ok(()) => tracing::info!(collection = name, index, "retired index dropped"),
            Err(e) if matches!(*e.kind, mongodb::error::ErrorKind::Command(ref c) if c.code == 27) => {}
            Err(e) => return Err(StoreError::context(format!("dropping the index {index} of `{name}` failed"), e)),
        }
    }
    Ok(())
}

/// Creates missing indexes; existing identical ones are left alone by the server. Collections are
/// done concurrently: on a database that already holds documents, DocumentDB builds each index in
/// a background job, seconds apiece. Then drops the `RETIRED` ones.
pub async fn ensure(db: &Database) -> StoreResult<()> {
    let builds = models().into_iter().map(|(name, models)| async move {
        db.collection::<Document>(name)
            .create_indexes(models)
            .await
            .map(drop)
            .map_err(|e| StoreError::context(format!("creating the indexes of `{name}` failed"), e))
    });
    futures_util::future::try_join_all(builds).await?;
    retire(db).await
}

/// Gives every session stored before sessions had ids its `_id` (and a last use: its creation), once,
/// so the devices list shows it and can revoke it. Each session is matched by its grant and only
/// while it still has no id, so concurrent starts name it once.
pub async fn name_sessions(db: &Database) -> StoreResult<()> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Unnamed {
        #[serde(rename = "_id")]
        id: ObjectId,
        #[serde(default)]
        refresh_sessions: Vec<SessionDoc>,
    }
    let users = db.collection::<Document>(coll::USERS);
    let (filter, projection) = sq::sessions_without_id();
    let found: Vec<Document> =
        users.find(filter).projection(projection).await.map_err(backend)?.try_collect().await.map_err(backend)?;
    for user in found {
        let user: Unnamed = decode(user)?;
        for session in user.refresh_sessions.iter().filter(|s| s.id.is_none()) {
            let (filter, update) = sq::name_session(user.id, &session.jti, ObjectId::new(), session.created_at);
            users.update_one(filter, update).await.map_err(backend)?;
        }
    }
    Ok(())
}

/// Lowercases stored emails once, so lookups by the (lowercased) login email find old accounts.
/// Stops, changing nothing, when two accounts would end up with the same email.
pub async fn normalise_emails(db: &Database) -> StoreResult<()> {
    let users = db.collection::<Document>(coll::USERS);
    let cursor = users.find(q::mixed_case_emails()).projection(doc! { "email": 1 }).await.map_err(backend)?;
    let found: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
    let changes: Vec<(ObjectId, String)> = found
        .iter()
        .filter_map(|user| Some((user.get_object_id("_id").ok()?, user.get_str("email").ok()?.to_lowercase())))
        .collect();
    let mut holders = Vec::new();
    for (id, email) in &changes {
        let cursor =
            users.find(q::email_of_another(*id, email)).projection(doc! { "_id": 1 }).await.map_err(backend)?;
        let others: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
        holders.extend(others.iter().filter_map(|d| d.get_object_id("_id").ok()).map(|other| (*id, other)));
    }
    if let Some(clashes) = clashes(&changes, &holders) {
        return Err(StoreError::backend(format!(
            "cannot lowercase stored emails: accounts would share an email ({clashes}); merge or rename them first"
        )));
    }
    for (id, email) in changes {
        users.update_one(queries::by_id(id), q::email_update(&email)).await.map_err(backend)?;
        tracing::info!(user = %id.to_hex(), "stored email lowercased");
    }
    Ok(())
}

/// Which lowercased emails would collide: with an account already holding it (`holders` pairs a
/// changing account with such an account) or with another changing account.
fn clashes(changes: &[(ObjectId, String)], holders: &[(ObjectId, ObjectId)]) -> Option<String> {
    let lines: Vec<String> = changes
        .iter()
        .filter_map(|(id, email)| {
            let mut others: Vec<String> =
                holders.iter().filter(|(changing, _)| changing == id).map(|(_, other)| other.to_hex()).collect();
            others.extend(changes.iter().filter(|(other, e)| other != id && e == email).map(|(o, _)| o.to_hex()));
            (!others.is_empty()).then(|| format!("{} clashes with {}", id.to_hex(), others.join(", ")))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_indexes_keep_the_original_names() {
        let users = of("users");
        let named: Vec<(Option<String>, Option<bool>)> = users[..3]
            .iter()
            .map(|m| (m.options.as_ref().and_then(|o| o.name.clone()), m.options.as_ref().and_then(|o| o.unique)))
            .collect();
        assert_eq!(
            named,
            [
                (Some("username_1".into()), Some(true)),
                (Some("email_1".into()), Some(true)),
                (Some("fullName_1".into()), None)
            ]
        );
    }

    #[test]
    fn likes_are_unique_per_target_only_where_the_target_is_set() {
        let likes = of("likes");
        for (model, field) in likes[..3].iter().zip(["video", "comment", "tweet"]) {
            let options = model.options.as_ref().unwrap();
            assert_eq!(model.keys, doc! { "likedBy": 1, field: 1 });
            assert_eq!(options.unique, Some(true));
            assert_eq!(options.partial_filter_expression, Some(doc! { field: { "$type": "objectId" } }));
        }
    }

    fn of(name: &str) -> Vec<IndexModel> {
        models().into_iter().find(|(collection, _)| *collection == name).unwrap().1
    }

    #[test]
    fn every_collection_of_the_contract_is_indexed() {
        let mut names: Vec<&str> = models().iter().map(|(name, _)| *name).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "blocks",
                "comments",
                "likes",
                "moderationActions",
                "notifications",
                "playlists",
                "reports",
                "requestBudgets",
                "subscriptions",
                "tweets",
                "users",
                "videos",
                "viewHours",
                "viewMarks"
            ]
        );
        let subscriptions = &of("subscriptions")[0];
        assert_eq!(subscriptions.keys, doc! { "subscriber": 1, "channel": 1 });
        assert_eq!(subscriptions.options.as_ref().unwrap().unique, Some(true));
        for shared_state in [of("viewMarks"), of("requestBudgets")] {
            assert_eq!(shared_state[0].keys, doc! { "expiresAt": 1 });
            let options = shared_state[0].options.as_ref().unwrap();
            assert_eq!(options.expire_after, Some(std::time::Duration::ZERO), "removed once expired");
        }
    }

    /// The name MongoDB (and DocumentDB) gives an index created without one: `field_direction` joined by `_`.
    fn default_name(keys: &Document) -> String {
        keys.iter().map(|(field, direction)| format!("{field}_{direction}")).collect::<Vec<_>>().join("_")
    }

    #[test]
    fn every_hinted_index_is_defined_under_its_name() {
        assert_eq!(default_name(&doc! { "owner": 1, "createdAt": -1, "_id": -1 }), "owner_1_createdAt_-1__id_-1");
        for (collection, name) in queries::index::HINTED {
            let defined = of(collection).iter().any(|model| {
                model.options.as_ref().and_then(|o| o.name.clone()).unwrap_or_else(|| default_name(&model.keys)) == name
            });
            assert!(defined, "{collection} has no index named {name}");
        }
    }

    #[test]
    fn retired_indexes_are_no_longer_defined_nor_hinted() {
        for (collection, name) in RETIRED {
            assert!(!of(collection).iter().any(|model| default_name(&model.keys) == name), "{name} is still defined");
            assert!(!queries::index::HINTED.iter().any(|(_, hinted)| *hinted == name), "{name} is hinted");
        }
    }

    /// Every index as `collection keys options`, one line each, sorted.
    fn described() -> Vec<String> {
        let mut lines: Vec<String> = models()
            .iter()
            .flat_map(|(name, models)| {
                models.iter().map(move |model| {
                    let options = model.options.as_ref();
                    format!(
                        "{name} {} name={:?} unique={:?} partial={:?} expire={:?}",
                        model.keys,
                        options.and_then(|o| o.name.clone()),
                        options.and_then(|o| o.unique),
                        options.and_then(|o| o.partial_filter_expression.as_ref().map(ToString::to_string)),
                        options.and_then(|o| o.expire_after),
                    )
                })
            })
            .collect();
        lines.sort();
        lines
    }

    /// A deployment keeps its indexes only if every definition stays the same: same collection,
    /// keys, name and options (a changed one would be built again, or refused as a conflict).
    #[test]
    fn index_definitions_stay_as_deployed() {
        let plain = |name: &str, keys: &str| format!("{name} {keys} name=None unique=None partial=None expire=None");
        let mut expected = vec![
            r#"users { "username": 1 } name=Some("username_1") unique=Some(true) partial=None expire=None"#.to_owned(),
            r#"users { "email": 1 } name=Some("email_1") unique=Some(true) partial=None expire=None"#.to_owned(),
            r#"users { "fullName": 1 } name=Some("fullName_1") unique=None partial=None expire=None"#.to_owned(),
            plain("users", r#"{ "watchHistory": 1 }"#),
            plain("users", r#"{ "refreshSessions.jti": 1 }"#),
            plain("users", r#"{ "avatarKey": 1 }"#),
            plain("users", r#"{ "coverImageKey": 1 }"#),
            plain("users", r#"{ "role": 1 }"#),
            plain("users", r#"{ "searchWords": 1 }"#),
            plain("videos", r#"{ "owner": 1, "createdAt": -1, "_id": -1 }"#),
            plain("videos", r#"{ "isPublished": 1, "createdAt": -1, "_id": -1 }"#),
            plain("videos", r#"{ "isPublished": 1, "views": -1, "_id": -1 }"#),
            plain("videos", r#"{ "isPublished": 1, "duration": -1, "_id": -1 }"#),
            plain("videos", r#"{ "isPublished": 1, "title": 1, "_id": 1 }"#),
            plain("videos", r#"{ "videoKey": 1 }"#),
            plain("videos", r#"{ "thumbnailKey": 1 }"#),
            plain("videos", r#"{ "hlsKey": 1 }"#),
            plain("videos", r#"{ "processingStatus": 1, "createdAt": 1, "_id": 1 }"#),
            plain("videos", r#"{ "searchWords": 1 }"#),
            plain("videos", r#"{ "suggestWords": 1 }"#),
            plain("comments", r#"{ "video": 1, "createdAt": -1, "_id": -1 }"#),
            plain("comments", r#"{ "video": 1, "parent": 1, "createdAt": -1, "_id": -1 }"#),
            plain("comments", r#"{ "parent": 1, "createdAt": 1, "_id": 1 }"#),
            plain("comments", r#"{ "owner": 1, "parent": 1, "video": 1 }"#),
            plain("likes", r#"{ "video": 1 }"#),
            plain("likes", r#"{ "comment": 1 }"#),
            plain("likes", r#"{ "tweet": 1 }"#),
            plain("likes", r#"{ "likedBy": 1, "createdAt": -1, "_id": -1 }"#),
            concat!(
                r#"subscriptions { "subscriber": 1, "channel": 1 } name=Some("subscriber_1_channel_1") "#,
                "unique=Some(true) partial=None expire=None"
            )
            .to_owned(),
            plain("subscriptions", r#"{ "channel": 1, "createdAt": -1, "_id": -1 }"#),
            plain("subscriptions", r#"{ "subscriber": 1, "createdAt": -1, "_id": -1 }"#),
            plain("playlists", r#"{ "owner": 1, "createdAt": -1, "_id": -1 }"#),
            plain("playlists", r#"{ "videos": 1 }"#),
            plain("tweets", r#"{ "owner": 1, "createdAt": -1, "_id": -1 }"#),
            r#"viewMarks { "expiresAt": 1 } name=None unique=None partial=None expire=Some(0ns)"#.to_owned(),
            r#"requestBudgets { "expiresAt": 1 } name=None unique=None partial=None expire=Some(0ns)"#.to_owned(),
            plain("viewHours", r#"{ "hour": 1, "video": 1, "n": 1 }"#),
            plain("viewHours", r#"{ "video": 1 }"#),
            concat!(
                r#"reports { "openBy": 1, "targetType": 1, "target": 1 } name=None unique=Some(true) "#,
                r#"partial=Some("{ \"openBy\": { \"$type\": \"objectId\" } }") expire=None"#
            )
            .to_owned(),
            plain("reports", r#"{ "reporter": 1 }"#),
            plain("reports", r#"{ "targetType": 1, "target": 1, "status": 1 }"#),
            plain("reports", r#"{ "status": 1, "targetType": 1, "target": 1, "createdAt": 1 }"#),
            plain("moderationActions", r#"{ "createdAt": -1, "_id": -1 }"#),
            concat!(
                r#"blocks { "blocker": 1, "blocked": 1 } name=Some("blocker_1_blocked_1") "#,
                "unique=Some(true) partial=None expire=None"
            )
            .to_owned(),
            plain("blocks", r#"{ "blocker": 1, "createdAt": -1, "_id": -1 }"#),
            plain("blocks", r#"{ "blocked": 1 }"#),
            plain("notifications", r#"{ "recipient": 1, "createdAt": -1, "_id": -1 }"#),
            plain("notifications", r#"{ "recipient": 1, "read": 1, "createdAt": -1, "_id": -1 }"#),
            plain("notifications", r#"{ "createdAt": 1 }"#),
            plain("notifications", r#"{ "actor": 1 }"#),
            plain("notifications", r#"{ "video": 1 }"#),
            plain("notifications", r#"{ "comment": 1 }"#),
            plain("moderationActions", r#"{ "targetType": 1, "target": 1, "createdAt": -1, "_id": -1 }"#),
        ];
        for target in ["video", "comment", "tweet"] {
            expected.push(format!(
                "likes {{ \"likedBy\": 1, \"{target}\": 1 }} name=None unique=Some(true) \
                 partial=Some(\"{{ \\\"{target}\\\": {{ \\\"$type\\\": \\\"objectId\\\" }} }}\") expire=None"
            ));
        }
        expected.sort();
        assert_eq!(described(), expected);
    }

    #[test]
    fn email_clashes_name_every_account_involved() {
        let (a, b, c) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]), ObjectId::from_bytes([3; 12]));
        let changes = vec![(a, "x@y.z".to_owned()), (b, "x@y.z".to_owned()), (c, "c@y.z".to_owned())];
        assert_eq!(
            clashes(&changes, &[]).unwrap(),
            format!("{a} clashes with {b}; {b} clashes with {a}", a = a.to_hex(), b = b.to_hex())
        );
        let existing = ObjectId::from_bytes([4; 12]);
        let only_c = vec![(c, "c@y.z".to_owned())];
        assert_eq!(
            clashes(&only_c, &[(c, existing)]).unwrap(),
            format!("{} clashes with {}", c.to_hex(), existing.to_hex())
        );
        assert_eq!(clashes(&only_c, &[]), None);
    }
}
