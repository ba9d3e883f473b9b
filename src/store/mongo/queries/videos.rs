//! Builders for videos: the feed, single reads, updates, counted views and the hourly view records
//! trending reads.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::coll;
use super::{Read, counters, index, levels_filter, owner_lookup, skip, visible_to};
use crate::domain::search::distinct_words;
use crate::domain::video::{VideoQuery, VideoSort};
use crate::domain::visibility::{Place, Visibility};
use crate::store::records::RecordKind;
use crate::store::{NewVideo, VideoUpdate};

/// A new video document; `owner_words` are its owner's names as search words.
pub fn new_video(id: ObjectId, owner: ObjectId, video: &NewVideo, now: DateTime, owner_words: &[String]) -> Document {
    let mut document = doc! {
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
        "tags": video.tags.as_slice(),
    };
    document.extend(super::search::video_fields(&video.title, video.tags.as_slice(), &video.description, owner_words));
    document.extend(super::counters::zeroes(RecordKind::Videos));
    document.insert(super::counters::COUNTED_LEVEL, video.visibility.as_str());
    document
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

/// The index a feed page reads (its `hint`; none for a text search, whose matches no index finds).
/// The site's feed by date walks `_id` (an ObjectId starts with its creation time, and every video's
/// is made when it is created), which DocumentDB can read in order (with
/// `documentdb.enableIndexOrderbyPushdown`) where it sorts every match of any other index; MongoDB
/// walks either in order. The other site sorts read the listed videos through the index ending with
/// their sort; a channel's listing its own videos through the owner's index (never another list's
/// index beside it, see `index`), but by date when `read` is `Walk` (`queries::read_for`, from the
/// channel's and the site's kept counts, `walks_by_date`): then it walks `_id` as the site's feed.
pub fn feed_index(query: &VideoQuery, read: Read) -> Option<&'static str> {
    if query.search.is_some() {
        return None;
    }
    if query.owner.is_some() {
        return Some(if walks_by_date(query) && read == Read::Walk { index::ID } else { index::VIDEOS_OF_OWNER });
    }
    match query.sort {
        VideoSort::CreatedAt => Some(index::ID),
        // These lead with `isPublished`: the site's listing is its public videos.
        _ if query.levels != [Visibility::Public] => None,
        VideoSort::Views => Some(index::VIDEOS_BY_VIEWS),
        VideoSort::Duration => Some(index::VIDEOS_BY_DURATION),
        VideoSort::Title => Some(index::VIDEOS_BY_TITLE),
    }
}

/// Whether `read` decides how the page is read: a channel's listing by date (without a text
/// search), which may walk `_id` or sort the channel's videos. The site's feed by date always walks.
pub fn walks_by_date(query: &VideoQuery) -> bool {
    query.owner.is_some() && query.search.is_none() && query.sort == VideoSort::CreatedAt
}

/// One page of the feed: filter, indexed sort with the id as tie-breaker, skip, limit, then owners;
/// read as `read` says where it has a choice (`feed_index`).
pub fn feed_page(query: &VideoQuery, read: Read) -> Vec<Document> {
    let direction = if query.descending { -1 } else { 1 };
    let order = match feed_index(query, read) {
        Some(index::ID) => doc! { "_id": direction },
        _ => doc! { sort_field(query.sort): direction, "_id": direction },
    };
    let mut pipeline = vec![
        doc! { "$match": feed_filter(query) },
        doc! { "$sort": order },
        skip(query.offset),
        doc! { "$limit": i64::from(query.limit) },
    ];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

/// `page` followed by the site's counts document (`counters`, `_id: "site"`): a page of the site's
/// feed and its total in one aggregate, where reading the count beside it took a second command
/// (docs/decisions.md D26, "one command per page"). The store tells that document by its `_id`, a
/// string where every video's is an ObjectId. The page's own stages keep their index (the
/// aggregate's `hint` applies to them, not to the counters read).
pub fn with_site_counts(mut page: Vec<Document>) -> Vec<Document> {
    page.push(doc! { "$unionWith": {
        "coll": counters::COUNTERS,
        "pipeline": [{ "$match": { "_id": counters::SITE } }],
    } });
    page
}

pub fn video_update(update: &VideoUpdate, now: DateTime) -> Document {
    let mut set = doc! { "updatedAt": now };
    if let Some(title) = &update.title {
        set.insert("title", title);
        set.insert("search.title", distinct_words([title.as_str()]));
    }
    if let Some(description) = &update.description {
        set.insert("description", description);
        set.insert("search.description", distinct_words([description.as_str()]));
    }
    if let Some(tags) = &update.tags {
        set.insert("tags", tags.as_slice());
        set.insert("search.tags", distinct_words(tags.as_slice().iter().map(String::as_str)));
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

/// The given videos that `viewer` sees in a list built from ids; the caller restores the requested order.
pub fn visible_by_ids(ids: &[ObjectId], viewer: Option<ObjectId>) -> Vec<Document> {
    with_owner(doc! { "$and": [{ "_id": { "$in": ids } }, visible_to(Place::ByLink, viewer)] })
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
    fn the_default_feed_is_public_newest_first_by_id() {
        assert_eq!(feed_index(&query(), Read::Sort), Some("_id_"));
        assert_eq!(
            feed_page(&query(), Read::Sort)[..4],
            [
                doc! { "$match": { "isPublished": true } },
                doc! { "$sort": { "_id": -1 } },
                doc! { "$skip": 20i64 },
                doc! { "$limit": 10i64 },
            ]
        );
        assert_eq!(feed_page(&query(), Read::Sort).len(), 6, "then the owner lookup and unwind");
    }

    #[test]
    fn the_site_feed_reads_its_total_in_the_same_aggregate() {
        let page = feed_page(&query(), Read::Sort);
        let counted = with_site_counts(page.clone());
        assert_eq!(counted[..page.len()], page[..], "the page's stages first, unchanged");
        assert_eq!(
            counted[page.len()..],
            [doc! { "$unionWith": { "coll": "counters", "pipeline": [{ "$match": { "_id": "site" } }] } }]
        );
    }

    #[test]
    fn sorts_map_to_stored_fields_in_both_directions() {
        for (sort, field) in [
            (VideoSort::Views, "views"),
            (VideoSort::Duration, "duration"),
            (VideoSort::Title, "title"),
            (VideoSort::CreatedAt, "createdAt"),
        ] {
            let q = VideoQuery { sort, descending: false, owner: Some(Id::generate()), ..query() };
            assert_eq!(feed_page(&q, Read::Sort)[1], doc! { "$sort": { field: 1, "_id": 1 } });
            assert_eq!(
                feed_index(&q, Read::Sort),
                Some(index::VIDEOS_OF_OWNER),
                "a channel's videos are read through its own index"
            );
        }
    }

    #[test]
    fn each_site_sort_reads_the_index_ending_with_it() {
        for (sort, index, order) in [
            (VideoSort::Views, index::VIDEOS_BY_VIEWS, doc! { "views": -1, "_id": -1 }),
            (VideoSort::Duration, index::VIDEOS_BY_DURATION, doc! { "duration": -1, "_id": -1 }),
            (VideoSort::Title, index::VIDEOS_BY_TITLE, doc! { "title": -1, "_id": -1 }),
        ] {
            let q = VideoQuery { sort, ..query() };
            assert_eq!(feed_index(&q, Read::Sort), Some(index));
            assert_eq!(
                feed_page(&q, Read::Sort)[..2],
                [doc! { "$match": { "isPublished": true } }, doc! { "$sort": order }]
            );
            let every_level = VideoQuery { levels: ALL_LEVELS, ..q };
            assert_eq!(feed_index(&every_level, Read::Walk), None, "those indexes lead with isPublished");
        }
        let search = VideoQuery { search: Some("a".into()), ..query() };
        assert_eq!(feed_index(&search, Read::Walk), None);
        assert_eq!(feed_index(&VideoQuery { owner: Some(Id::generate()), ..search }, Read::Walk), None);
    }

    #[test]
    fn a_channel_listing_by_date_walks_ids_when_told_and_sorts_otherwise() {
        let owner = Some(Id::generate());
        for descending in [true, false] {
            let direction = if descending { -1 } else { 1 };
            let q = VideoQuery { owner, descending, ..query() };
            assert!(walks_by_date(&q));
            assert_eq!(feed_index(&q, Read::Walk), Some(index::ID));
            assert_eq!(feed_page(&q, Read::Walk)[1], doc! { "$sort": { "_id": direction } });
            assert_eq!(feed_index(&q, Read::Sort), Some(index::VIDEOS_OF_OWNER));
            assert_eq!(feed_page(&q, Read::Sort)[1], doc! { "$sort": { "createdAt": direction, "_id": direction } });
            assert_eq!(feed_page(&q, Read::Walk)[0], feed_page(&q, Read::Sort)[0], "the same filter");
        }
        for q in [
            VideoQuery { owner, sort: VideoSort::Views, ..query() },
            VideoQuery { owner, search: Some("a".into()), ..query() },
            query(),
        ] {
            assert!(!walks_by_date(&q), "no choice: {q:?}");
            assert_eq!(feed_index(&q, Read::Walk), feed_index(&q, Read::Sort));
            assert_eq!(feed_page(&q, Read::Walk), feed_page(&q, Read::Sort));
        }
    }

    #[test]
    fn an_owner_feed_may_include_every_level() {
        let owner = Id::generate();
        let q = VideoQuery { owner: Some(owner), levels: ALL_LEVELS, ..query() };
        assert_eq!(feed_filter(&q), doc! { "owner": ObjectId::from_bytes(owner.bytes()) });
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
        let set = doc! { "$set": { "updatedAt": at, "title": "T", "search.title": ["t"] } };
        assert_eq!(video_update(&update, at), set, "the title's search words follow it");
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
            tags: Default::default(),
            duration: 1.5,
            visibility: Visibility::Private,
            processing: ProcessingStatus::Off,
            width: 0,
            height: 0,
            hls_url: None,
        };
        let owner = ObjectId::from_bytes([1; 12]);
        let document = new_video(ObjectId::from_bytes([2; 12]), owner, &video, at, &[]);
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
    fn videos_by_ids_are_those_seen_by_link() {
        let video = ObjectId::from_bytes([6; 12]);
        assert_eq!(
            visible_by_ids(&[video], None)[0],
            doc! { "$match": { "$and": [{ "_id": { "$in": [video] } }, { "$or": [
                { "isPublished": true }, { "isPublished": false, "visibility": "unlisted" },
            ] }] } }
        );
    }
}
