//! Builders for the `videos` collection: the feed, single reads, updates, cascades and dashboard figures.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::coll;
use super::{count_lookup, levels_filter, newest_first, owner_lookup, skip, visible_to};
use mongodb::options::UpdateModifications;

use crate::domain::video::{VideoQuery, VideoSort};
use crate::domain::visibility::{Place, Visibility};
use crate::store::{NewVideo, VideoUpdate};

pub fn new_video(id: ObjectId, owner: ObjectId, video: &NewVideo, now: DateTime) -> Document {
    doc! {
        "_id": id,
        "videoFile": &video.video_file.url,
        "videoKey": &video.video_file.key,
        "thumbnail": &video.thumbnail.url,
        "thumbnailKey": &video.thumbnail.key,
        "title": &video.title,
        "description": &video.description,
        "duration": video.duration,
        "views": 0i64,
        "visibility": video.visibility.as_str(),
        "isPublished": video.visibility.is_published(),
        "owner": owner,
        "createdAt": now,
        "updatedAt": now,
        "processingStatus": video.processing.as_str(),
        "processingProgress": i32::from(video.processing.starting_progress()),
        "width": video.width,
        "height": video.height,
        "hlsUrl": video.hls_url.as_deref().map_or(Bson::Null, |url| Bson::String(url.to_owned())),
        "hlsKey": "",
    }
}

/// Records matching `filter`, each with its owner summary.
pub fn with_owner(filter: Document) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

fn sort_field(sort: VideoSort) -> &'static str {
    match sort {
        VideoSort::CreatedAt => "createdAt",
        VideoSort::Views => "views",
        VideoSort::Duration => "duration",
        VideoSort::Title => "title",
    }
}

/// The feed's filter. A search is a literal, case-insensitive substring test (`$indexOfCP`), so
/// regex syntax in the query matches itself, exactly as on SQLite.
pub fn feed_filter(query: &VideoQuery) -> Document {
    let mut filter = Document::new();
    if let Some(owner) = query.owner {
        filter.insert("owner", super::super::oid(owner));
    }
    if let Some(levels) = levels_filter(query.levels) {
        filter.extend(levels);
    }
    if let Some(search) = &query.search {
        // $toLower folds ASCII only; the needle is folded the same way, as on SQLite.
        let needle = search.to_ascii_lowercase();
        let contains = |field: &str| {
            doc! { "$gte": [{ "$indexOfCP": [{ "$toLower": format!("${field}") }, super::literal(needle.as_str())] }, 0] }
        };
        filter.insert("$expr", doc! { "$or": [contains("title"), contains("description")] });
    }
    filter
}

/// One page of the feed: filter, indexed sort with the id as tie-breaker, skip, limit, then owners.
pub fn feed_page(query: &VideoQuery) -> Vec<Document> {
    let direction = if query.descending { -1 } else { 1 };
    let mut pipeline = vec![
        doc! { "$match": feed_filter(query) },
        doc! { "$sort": { sort_field(query.sort): direction, "_id": direction } },
        skip(query.offset),
        doc! { "$limit": i64::from(query.limit) },
    ];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

pub fn video_update(update: &VideoUpdate, now: DateTime) -> Document {
    let mut set = doc! { "updatedAt": now };
    if let Some(title) = &update.title {
        set.insert("title", title);
    }
    if let Some(description) = &update.description {
        set.insert("description", description);
    }
    if let Some(thumbnail) = &update.thumbnail {
        set.insert("thumbnail", &thumbnail.url);
        set.insert("thumbnailKey", &thumbnail.key);
    }
    if let Some(visibility) = update.visibility {
        set.extend(visibility_fields(visibility));
    }
    doc! { "$set": set }
}

/// A level as stored: `visibility`, and `isPublished` for the original API's readers.
pub fn visibility_fields(visibility: Visibility) -> Document {
    doc! { "visibility": visibility.as_str(), "isPublished": visibility.is_published() }
}

pub fn visibility_update(visibility: Visibility, now: DateTime) -> Document {
    let mut set = visibility_fields(visibility);
    set.insert("updatedAt", now);
    doc! { "$set": set }
}

pub fn add_view() -> Document {
    doc! { "$inc": { "views": 1 } }
}

/// The one record of a video's counted views in one hour.
fn view_hour_id(video: ObjectId, hour: i64) -> String {
    format!("{}:{hour}", video.to_hex())
}

/// One more counted view in the video's record for `hour`, when that record exists.
pub fn count_in_hour(video: ObjectId, hour: i64) -> (Document, Document) {
    (doc! { "_id": view_hour_id(video, hour) }, doc! { "$inc": { "n": 1_i64 } })
}

/// The video's record for `hour` holding `n` counted views: the first view is inserted this way,
/// so that the unique `_id` arbitrates concurrent first views (and `migrate` copies records so).
pub fn new_view_hour(video: ObjectId, hour: i64, n: i64) -> Document {
    doc! { "_id": view_hour_id(video, hour), "video": video, "hour": hour, "n": n }
}

/// The hourly view records of these videos (for `migrate`).
pub fn view_hours_of(videos: Vec<ObjectId>) -> Document {
    doc! { "video": { "$in": videos } }
}

/// The view records of the window summed per video, joined to the videos that are public.
fn trending_videos(first_hour: i64) -> Vec<Document> {
    vec![
        doc! { "$match": { "hour": { "$gte": first_hour } } },
        doc! { "$group": { "_id": "$video", "recentViews": { "$sum": "$n" } } },
        doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "_id",
            "foreignField": "_id",
            "pipeline": [{ "$match": visible_to(Place::Listing, None) }],
            "as": "video",
        } },
        doc! { "$unwind": "$video" },
    ]
}

/// One page of trending videos: `{_id, recentViews, video}` with the video's owner joined. The
/// owner is looked up into a top-level field and then set into the video: DocumentDB answers `[]`
/// for a `$lookup` whose `as` is a dotted path.
pub fn trending_page(first_hour: i64, offset: u64, limit: u32) -> Vec<Document> {
    let mut pipeline = trending_videos(first_hour);
    let [mut lookup, unwind] = owner_lookup("owner");
    if let Ok(lookup) = lookup.get_document_mut("$lookup") {
        lookup.insert("localField", "video.owner");
    }
    pipeline.extend([
        doc! { "$sort": { "recentViews": -1, "video.views": -1, "video.createdAt": -1, "_id": -1 } },
        skip(offset),
        doc! { "$limit": i64::from(limit) },
        lookup,
        unwind,
        doc! { "$set": { "video.owner": "$owner" } },
        doc! { "$unset": "owner" },
    ]);
    pipeline
}

/// How many public videos have views in the window.
pub fn trending_count(first_hour: i64) -> Vec<Document> {
    let mut pipeline = trending_videos(first_hour);
    pipeline.push(doc! { "$count": "n" });
    pipeline
}

pub fn view_hours_before(first_kept_hour: i64) -> Document {
    doc! { "hour": { "$lt": first_kept_hour } }
}

/// The subscription feed's filter: public videos of the followed `channels` (the owner index serves it).
pub fn subscription_feed_filter(channels: Vec<ObjectId>) -> Document {
    let mut filter = doc! { "owner": { "$in": channels } };
    filter.extend(visible_to(Place::Listing, None));
    filter
}

/// One page of the subscription feed, newest first, owners joined.
pub fn subscription_feed_page(channels: Vec<ObjectId>, offset: u64, limit: u32) -> Vec<Document> {
    let mut pipeline = vec![
        doc! { "$match": subscription_feed_filter(channels) },
        newest_first(),
        skip(offset),
        doc! { "$limit": i64::from(limit) },
    ];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

/// The given videos that `viewer` sees in a list built from ids; the caller restores the requested order.
pub fn visible_by_ids(ids: &[ObjectId], viewer: Option<ObjectId>) -> Vec<Document> {
    with_owner(doc! { "$and": [{ "_id": { "$in": ids } }, visible_to(Place::ByLink, viewer)] })
}

/// All of the owner's videos, newest first, each with its like count.
pub fn dashboard_videos(owner: ObjectId) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": { "owner": owner } }, newest_first()];
    pipeline.extend(owner_lookup("owner"));
    pipeline.extend(count_lookup(coll::LIKES, "video", "likesCount"));
    pipeline
}

/// Video count, total views and likes on the owner's videos, in one pass over the owner's videos.
pub fn channel_totals(owner: ObjectId) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": { "owner": owner } }];
    pipeline.extend(count_lookup(coll::LIKES, "video", "likes"));
    pipeline.push(doc! { "$group": {
        "_id": Bson::Null,
        "totalVideos": { "$sum": 1 },
        "totalViews": { "$sum": "$views" },
        "totalLikes": { "$sum": "$likes" },
    } });
    pipeline
}

/// The steps of deleting videos before the video documents themselves, children first so that a
/// retry after a crash finishes the job (no transaction is needed): `(collection, filter, update)`;
/// `None` as update means delete. `comments` are the comments on those videos.
pub fn video_cascade(
    videos: &[ObjectId],
    comments: &[ObjectId],
) -> Vec<(&'static str, Document, Option<UpdateModifications>)> {
    vec![
        (coll::LIKES, doc! { "comment": { "$in": comments } }, None),
        (coll::COMMENTS, doc! { "video": { "$in": videos } }, None),
        (coll::LIKES, doc! { "video": { "$in": videos } }, None),
        (coll::VIEW_HOURS, doc! { "video": { "$in": videos } }, None),
        (
            coll::PLAYLISTS,
            doc! { "videos": { "$in": videos } },
            Some(UpdateModifications::Document(doc! { "$pull": { "videos": { "$in": videos } } })),
        ),
        (
            coll::USERS,
            doc! { "watchHistory": { "$in": videos } },
            Some(UpdateModifications::Pipeline(super::users::forget_watches(videos))),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;
    use crate::domain::processing::ProcessingStatus;
    use crate::domain::visibility::ALL_LEVELS;
    use crate::store::MediaRef;

    fn query() -> VideoQuery {
        VideoQuery {
            search: None,
            owner: None,
            levels: Place::Listing.levels(false),
            sort: VideoSort::CreatedAt,
            descending: true,
            offset: 20,
            limit: 10,
        }
    }

    #[test]
    fn the_default_feed_is_public_newest_first() {
        assert_eq!(
            feed_page(&query())[..4],
            [
                doc! { "$match": { "isPublished": true } },
                doc! { "$sort": { "createdAt": -1, "_id": -1 } },
                doc! { "$skip": 20i64 },
                doc! { "$limit": 10i64 },
            ]
        );
        assert_eq!(feed_page(&query()).len(), 6, "then the owner lookup and unwind");
    }

    #[test]
    fn sorts_map_to_stored_fields_in_both_directions() {
        for (sort, field) in [
            (VideoSort::Views, "views"),
            (VideoSort::Duration, "duration"),
            (VideoSort::Title, "title"),
            (VideoSort::CreatedAt, "createdAt"),
        ] {
            let q = VideoQuery { sort, descending: false, ..query() };
            assert_eq!(feed_page(&q)[1], doc! { "$sort": { field: 1, "_id": 1 } });
        }
    }

    #[test]
    fn an_owner_feed_may_include_every_level() {
        let owner = Id::generate();
        let q = VideoQuery { owner: Some(owner), levels: ALL_LEVELS, ..query() };
        assert_eq!(feed_filter(&q), doc! { "owner": ObjectId::from_bytes(owner.bytes()) });
    }

    #[test]
    fn the_subscription_feed_lists_public_videos_of_followed_channels_newest_first() {
        let (a, b) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let filter = doc! { "owner": { "$in": [a, b] }, "isPublished": true };
        assert_eq!(subscription_feed_filter(vec![a, b]), filter);
        let page = subscription_feed_page(vec![a, b], 20, 10);
        assert_eq!(
            page[..4],
            [
                doc! { "$match": filter },
                doc! { "$sort": { "createdAt": -1, "_id": -1 } },
                doc! { "$skip": 20_i64 },
                doc! { "$limit": 10_i64 }
            ]
        );
    }

    #[test]
    fn search_is_literal_and_case_insensitive() {
        let q = VideoQuery { search: Some("$Title.*_%".into()), ..query() };
        assert_eq!(
            feed_filter(&q),
            doc! { "isPublished": true, "$expr": { "$or": [
                { "$gte": [{ "$indexOfCP": [{ "$toLower": "$title" }, { "$literal": "$title.*_%" }] }, 0] },
                { "$gte": [{ "$indexOfCP": [{ "$toLower": "$description" }, { "$literal": "$title.*_%" }] }, 0] },
            ] } },
            "the needle is data even when it looks like a field path"
        );
    }

    #[test]
    fn writes_touch_updated_at_and_views_increment() {
        let at = DateTime::from_millis(3);
        let update = VideoUpdate { title: Some("T".into()), ..Default::default() };
        assert_eq!(video_update(&update, at), doc! { "$set": { "updatedAt": at, "title": "T" } });
        assert_eq!(
            visibility_update(Visibility::Unlisted, at),
            doc! { "$set": { "visibility": "unlisted", "isPublished": false, "updatedAt": at } }
        );
        let update = VideoUpdate { visibility: Some(Visibility::Public), ..Default::default() };
        assert_eq!(
            video_update(&update, at),
            doc! { "$set": { "updatedAt": at, "visibility": "public", "isPublished": true } },
            "every write sets both fields"
        );
        assert_eq!(add_view(), doc! { "$inc": { "views": 1 } });
        let video = NewVideo {
            owner: Id::generate(),
            video_file: MediaRef { url: "v".into(), key: "vk".into() },
            thumbnail: MediaRef { url: "t".into(), key: "tk".into() },
            title: "T".into(),
            description: "D".into(),
            duration: 1.5,
            visibility: Visibility::Private,
            processing: ProcessingStatus::Off,
            width: 0,
            height: 0,
            hls_url: None,
        };
        let owner = ObjectId::from_bytes([1; 12]);
        let document = new_video(ObjectId::from_bytes([2; 12]), owner, &video, at);
        assert_eq!(document.get_f64("duration").unwrap(), 1.5);
        assert_eq!(document.get_i64("views").unwrap(), 0);
        assert!(!document.get_bool("isPublished").unwrap());
        assert_eq!(document.get_str("visibility").unwrap(), "private");
        assert_eq!(document.get_object_id("owner").unwrap(), owner);
    }

    #[test]
    fn trending_sums_the_hours_of_the_window_then_keeps_public_videos() {
        let page = trending_page(1000, 10, 5);
        assert_eq!(page[0], doc! { "$match": { "hour": { "$gte": 1000_i64 } } });
        assert_eq!(page[1], doc! { "$group": { "_id": "$video", "recentViews": { "$sum": "$n" } } });
        let lookup = page[2].get_document("$lookup").unwrap();
        assert_eq!(
            lookup.get_array("pipeline").unwrap()[0].as_document().unwrap(),
            &doc! { "$match": { "isPublished": true } }
        );
        assert_eq!(
            page[4..7],
            [
                doc! { "$sort": { "recentViews": -1, "video.views": -1, "video.createdAt": -1, "_id": -1 } },
                doc! { "$skip": 10_i64 },
                doc! { "$limit": 5_i64 },
            ]
        );
        let owner = page[7].get_document("$lookup").unwrap();
        assert_eq!((owner.get_str("localField").unwrap(), owner.get_str("as").unwrap()), ("video.owner", "owner"));
        assert_eq!(
            page[8..],
            [doc! { "$unwind": "$owner" }, doc! { "$set": { "video.owner": "$owner" } }, doc! { "$unset": "owner" }]
        );
        assert_eq!(trending_count(1000)[4], doc! { "$count": "n" });
        let video = ObjectId::from_bytes([3; 12]);
        let (filter, update) = count_in_hour(video, 7);
        assert_eq!(filter, doc! { "_id": "030303030303030303030303:7" });
        assert_eq!(update, doc! { "$inc": { "n": 1_i64 } });
        assert_eq!(new_view_hour(video, 7, 1).get_i64("n").unwrap(), 1);
        assert_eq!(view_hours_before(5), doc! { "hour": { "$lt": 5_i64 } });
    }

    #[test]
    fn dashboard_and_totals_count_likes_per_video() {
        let owner = ObjectId::from_bytes([5; 12]);
        let totals = channel_totals(owner);
        assert_eq!(totals[0], doc! { "$match": { "owner": owner } });
        assert_eq!(
            totals[3],
            doc! { "$group": { "_id": null, "totalVideos": { "$sum": 1 }, "totalViews": { "$sum": "$views" },
            "totalLikes": { "$sum": "$likes" } } }
        );
        let dashboard = dashboard_videos(owner);
        assert_eq!(dashboard[1], doc! { "$sort": { "createdAt": -1, "_id": -1 } });
        assert_eq!(dashboard.len(), 6);
    }

    #[test]
    fn deleting_a_video_removes_children_before_the_video() {
        let video = ObjectId::from_bytes([6; 12]);
        let comment = ObjectId::from_bytes([7; 12]);
        let steps = video_cascade(&[video], &[comment]);
        let collections: Vec<&str> = steps.iter().map(|s| s.0).collect();
        assert_eq!(collections, ["likes", "comments", "likes", "viewHours", "playlists", "users"]);
        assert_eq!(steps[0].1, doc! { "comment": { "$in": [comment] } });
        assert_eq!(steps[5].1, doc! { "watchHistory": { "$in": [video] } });
        assert!(
            matches!(&steps[5].2, Some(UpdateModifications::Pipeline(p)) if *p == super::super::users::forget_watches(&[video])),
            "history entries leave with their times"
        );
        assert_eq!(
            visible_by_ids(&[video], None)[0],
            doc! { "$match": { "$and": [{ "_id": { "$in": [video] } }, { "$or": [
                { "isPublished": true }, { "isPublished": false, "visibility": "unlisted" },
            ] }] } }
        );
    }
}
