//! Startup housekeeping: the indexes of contract §4 (created idempotently) and the one-time
//! lowercasing of emails stored mixed-case by the original API.

use bson::oid::ObjectId;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use super::{backend, coll, queries};
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

/// Every index, per collection. The three user indexes keep the original API's names so an existing
/// database is reused as is; list indexes end in `_id` so pages sort by the index alone.
pub fn models() -> Vec<(&'static str, Vec<IndexModel>)> {
    let newest = |field: &str| doc! { field: 1, "createdAt": -1, "_id": -1 };
    vec![
        (
            coll::USERS,
            vec![
                named(doc! { "username": 1 }, "username_1", true),
                named(doc! { "email": 1 }, "email_1", true),
                named(doc! { "fullName": 1 }, "fullName_1", false),
                index(doc! { "watchHistory": 1 }),
                index(doc! { "refreshSessions.jti": 1 }),
                index(doc! { "avatarKey": 1 }),
                index(doc! { "coverImageKey": 1 }),
            ],
        ),
        (
            coll::VIDEOS,
            vec![
                index(newest("owner")),
                index(newest("isPublished")),
                index(doc! { "isPublished": 1, "views": -1, "_id": -1 }),
                index(doc! { "isPublished": 1, "duration": -1, "_id": -1 }),
                index(doc! { "isPublished": 1, "title": 1, "_id": 1 }),
                index(doc! { "videoKey": 1 }),
                index(doc! { "thumbnailKey": 1 }),
            ],
        ),
        (coll::COMMENTS, vec![index(newest("video"))]),
        (
            coll::LIKES,
            vec![
                unique_where_set(doc! { "likedBy": 1, "video": 1 }, "video"),
                unique_where_set(doc! { "likedBy": 1, "comment": 1 }, "comment"),
                unique_where_set(doc! { "likedBy": 1, "tweet": 1 }, "tweet"),
                index(doc! { "video": 1 }),
                index(doc! { "comment": 1 }),
                index(doc! { "tweet": 1 }),
                index(newest("likedBy")),
            ],
        ),
        (
            coll::SUBSCRIPTIONS,
            vec![
                named(doc! { "subscriber": 1, "channel": 1 }, "subscriber_1_channel_1", true),
                index(newest("channel")),
                index(newest("subscriber")),
            ],
        ),
        (coll::PLAYLISTS, vec![index(newest("owner")), index(doc! { "videos": 1 })]),
        (coll::TWEETS, vec![index(newest("owner"))]),
    ]
}

/// Creates missing indexes; existing identical ones are left alone by the server.
pub async fn ensure(db: &Database) -> StoreResult<()> {
    for (name, models) in models() {
        db.collection::<Document>(name)
            .create_indexes(models)
            .await
            .map_err(|e| StoreError::Backend(format!("creating the indexes of `{name}` failed: {e}")))?;
    }
    Ok(())
}

/// Lowercases stored emails once, so lookups by the (lowercased) login email find old accounts.
/// Stops, changing nothing, when two accounts would end up with the same email.
pub async fn normalise_emails(db: &Database) -> StoreResult<()> {
    let users = db.collection::<Document>(coll::USERS);
    let cursor =
        users.find(queries::users::mixed_case_emails()).projection(doc! { "email": 1 }).await.map_err(backend)?;
    let found: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
    let mut changes: Vec<(ObjectId, String)> = Vec::new();
    for user in &found {
        let (Ok(id), Ok(email)) = (user.get_object_id("_id"), user.get_str("email")) else { continue };
        changes.push((id, email.to_lowercase()));
    }
    let mut clashes = Vec::new();
    for (id, email) in &changes {
        let others = doc! { "_id": { "$ne": id }, "email": { "$in": [email] } };
        let duplicates = users.find(others).projection(doc! { "_id": 1 }).await.map_err(backend)?;
        let duplicates: Vec<Document> = duplicates.try_collect().await.map_err(backend)?;
        let mut ids: Vec<String> =
            duplicates.iter().filter_map(|d| d.get_object_id("_id").ok()).map(|o| o.to_hex()).collect();
        ids.extend(changes.iter().filter(|(other, e)| other != id && e == email).map(|(o, _)| o.to_hex()));
        if !ids.is_empty() {
            clashes.push(format!("{} clashes with {}", id.to_hex(), ids.join(", ")));
        }
    }
    if !clashes.is_empty() {
        return Err(StoreError::Backend(format!(
            "cannot lowercase stored emails: accounts would share an email ({}); merge or rename them first",
            clashes.join("; ")
        )));
    }
    for (id, email) in changes {
        users.update_one(doc! { "_id": id }, doc! { "$set": { "email": &email } }).await.map_err(backend)?;
        tracing::info!(user = %id.to_hex(), "stored email lowercased");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_indexes_keep_the_original_names() {
        let all = models();
        let users = &all.iter().find(|(name, _)| *name == "users").unwrap().1;
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
        let all = models();
        let likes = &all.iter().find(|(name, _)| *name == "likes").unwrap().1;
        for (model, field) in likes[..3].iter().zip(["video", "comment", "tweet"]) {
            let options = model.options.as_ref().unwrap();
            assert_eq!(model.keys, doc! { "likedBy": 1, field: 1 });
            assert_eq!(options.unique, Some(true));
            assert_eq!(options.partial_filter_expression, Some(doc! { field: { "$type": "objectId" } }));
        }
    }

    #[test]
    fn every_collection_of_the_contract_is_indexed() {
        let names: Vec<&str> = models().iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["users", "videos", "comments", "likes", "subscriptions", "playlists", "tweets"]);
        let subscriptions = &models()[4].1[0];
        assert_eq!(subscriptions.keys, doc! { "subscriber": 1, "channel": 1 });
        assert_eq!(subscriptions.options.as_ref().unwrap().unique, Some(true));
    }
}
