//! On MongoDB: the engine's own `explain` of the site's feed page, as the store builds it, shows an
//! index walked in order: the documents examined are bounded by skip + limit and the filter's
//! rejects, not by the videos stored (docs/decisions.md D26). Needs `TEST_MONGODB_URI`; on DocumentDB
//! also `documentdb.enableIndexOrderbyPushdown` (set by `.ci/documentdb`).

use bson::{Bson, Document, doc};
use videotube::domain::video::{VideoQuery, VideoSort};
use videotube::domain::visibility::Place;
use videotube::store::mongo::queries::videos::{feed_index, feed_page};

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
    let index = feed_index(&query).expect("the site's feed by date names its index");
    let explain = db
        .run_command(doc! {
            "explain": { "aggregate": "videos", "pipeline": feed_page(&query), "cursor": {}, "hint": index },
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
    drop_mongodb_database(&uri);
}
