//! A guard over every builder at once: each `$` word they emit is one MongoDB 5.0 knows, in a place
//! where it is valid (stages at the top of a pipeline, update operators at the top of an update,
//! query and expression operators below). It catches a misspelt or misplaced operator without a server.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::Change;
use super::cascade::Removed;
use super::notifications::Touched;
use super::{
    cascade, comments, content_update, counters, dashboard, history, keys_in, likes, moderation, notifications,
    playlists, processing, search, sessions, subscriptions, transfer, tweets, uploads, users, videos,
};
use crate::domain::choice::Choice;
use crate::domain::moderation::{ReportStatus, TargetType};
use crate::domain::processing::ProcessingStatus;
use crate::domain::search::{DurationFilter, Relation, SearchSort, SearchText, Tags, VideoSearchQuery};
use crate::domain::social::{CommentSort, LikeTarget};
use crate::domain::video::{VideoQuery, VideoSort};
use crate::domain::visibility::{Place, Visibility};
use crate::domain::{Id, Timestamp};
use crate::store::records::RecordKind;
use crate::store::transfer::{HistoryRecord, Kind, LikeRecord, Record};
use crate::store::{
    LogFilter, MediaRef, NewSession, NewUser, NewVideo, ProcessedVideo, ProfileUpdate, RefreshGrant, VideoUpdate,
};

const STAGES: &[&str] = &[
    "$match",
    "$sort",
    "$skip",
    "$limit",
    "$lookup",
    "$unwind",
    "$project",
    "$set",
    "$unset",
    "$group",
    "$count",
    "$unionWith",
];
/// Stages an update pipeline may use.
const UPDATE_STAGES: &[&str] = &["$set", "$unset", "$project", "$addFields", "$replaceWith"];
const UPDATE_OPERATORS: &[&str] = &["$set", "$setOnInsert", "$unset", "$inc", "$max", "$push", "$pull"];
const OPERATORS: &[&str] = &[
    "$regex",
    "$setUnion",
    "$anyElementTrue",
    "$add",
    "$or",
    "$and",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$exists",
    "$type",
    "$elemMatch",
    "$expr",
    "$indexOfCP",
    "$toLower",
    "$ifNull",
    "$first",
    "$sum",
    "$max",
    "$min",
    "$push",
    "$cond",
    "$filter",
    "$concatArrays",
    "$slice",
    "$size",
    "$not",
    "$range",
    "$map",
    "$arrayElemAt",
];

/// Query and expression operators anywhere below the top level; `$literal` values are data.
fn check_expression(value: &Bson, path: &str) {
    match value {
        Bson::Document(document) => {
            for (key, inner) in document {
                if key == "$literal" {
                    continue;
                }
                if key.starts_with('$') {
                    assert!(OPERATORS.contains(&key.as_str()), "unknown operator {key} at {path}");
                }
                check_expression(inner, &format!("{path}.{key}"));
            }
        }
        Bson::Array(items) => items.iter().for_each(|item| check_expression(item, path)),
        Bson::String(s) if s.starts_with("$$") => assert!(s.starts_with("$$this"), "unknown variable {s} at {path}"),
        _ => {}
    }
}

fn check_pipeline(pipeline: &[Document], stages: &[&str], path: &str) {
    for stage in pipeline {
        assert_eq!(stage.len(), 1, "a stage has exactly one key at {path}: {stage}");
        let (name, body) = stage.iter().next().unwrap();
        assert!(stages.contains(&name.as_str()), "{name} is not a valid stage at {path}");
        if name == "$lookup" {
            let lookup = body.as_document().unwrap();
            for required in ["from", "as"] {
                assert!(lookup.get_str(required).is_ok(), "$lookup without {required} at {path}");
            }
            assert_eq!(lookup.contains_key("localField"), lookup.contains_key("foreignField"), "{path}");
            if let Ok(inner) = lookup.get_array("pipeline") {
                let inner: Vec<Document> = inner.iter().map(|s| s.as_document().unwrap().clone()).collect();
                check_pipeline(&inner, STAGES, &format!("{path}.$lookup"));
            }
        } else if name == "$unionWith" {
            let union = body.as_document().unwrap();
            assert!(union.get_str("coll").is_ok(), "$unionWith without coll at {path}");
            let inner: Vec<Document> =
                union.get_array("pipeline").unwrap().iter().map(|s| s.as_document().unwrap().clone()).collect();
            check_pipeline(&inner, STAGES, &format!("{path}.$unionWith"));
        } else {
            check_expression(body, &format!("{path}.{name}"));
        }
    }
}

fn check_update(update: &Document, path: &str) {
    for (operator, fields) in update {
        assert!(UPDATE_OPERATORS.contains(&operator.as_str()), "{operator} is not an update operator at {path}");
        for (field, value) in fields.as_document().unwrap() {
            assert!(!field.starts_with('$'), "field {field} at {path}");
            check_expression(value, &format!("{path}.{operator}.{field}"));
        }
    }
}

fn id(n: u8) -> ObjectId {
    ObjectId::from_bytes([n; 12])
}

fn media() -> MediaRef {
    MediaRef { url: "u".into(), key: "k".into() }
}

fn processed() -> ProcessedVideo {
    ProcessedVideo {
        duration: 1.0,
        width: 2,
        height: 2,
        video_file: Some(media()),
        thumbnail: Some(media()),
        hls: media(),
    }
}

#[test]
fn every_builder_speaks_mongodb() {
    let at = DateTime::from_millis(1);
    let mut pipelines: Vec<(&str, Vec<Document>)> = vec![
        ("watch_history", history::watch_history(id(1))),
        ("dashboard_videos", dashboard::dashboard_videos(id(1))),
        ("channel_totals", dashboard::channel_totals(id(1))),
        ("visible_by_ids", videos::visible_by_ids(&[id(1)], Some(id(2)))),
        ("trending_page", videos::trending_page(5, 10, 20)),
        ("trending_count", videos::trending_count(5)),
        ("liked_videos", likes::liked_videos(id(1)).pipeline),
        ("comment_page", comments::comment_page(id(1), Some(id(2)), CommentSort::Newest, None, 5, 10).pipeline),
        ("comment_top_page", comments::comment_page(id(1), None, CommentSort::Top, Some(id(3)), 0, 10).pipeline),
        ("reply_page", comments::reply_page(id(1), Some(id(2)), 0, 10).pipeline),
        ("pinned", comments::pinned(id(1), id(2), None)),
        ("comment", comments::comment(id(1), None)),
        (
            "log_page",
            moderation::log_page(LogFilter { kind: Some(TargetType::Video), id: Some(Id::from_bytes([1; 12])) }, 0, 5),
        ),
        ("queue_page", moderation::queue_page(ReportStatus::Open, Some(TargetType::User), 5, 10)),
        ("queue_total", moderation::queue_total(ReportStatus::Resolved, None)),
        ("tweet", tweets::tweet(id(1), Some(id(2)))),
        ("tweets_of", tweets::tweets_of(id(1), None)),
        ("subscribers", subscriptions::subscribers(id(1))),
        ("subscribed_channels", subscriptions::subscribed_channels(id(1))),
        (
            "subscription_feed_page",
            subscriptions::subscription_feed_page(vec![id(1)], 5, 10, super::Read::Sort).pipeline,
        ),
        (
            "subscription_feed_walk",
            subscriptions::subscription_feed_page(vec![id(1)], 5, 10, super::Read::Walk).pipeline,
        ),
        ("playlists", playlists::playlists(super::by_id(id(1)))),
        ("notification_page", notifications::page(id(1), true, 5, 10)),
        ("notifications_after", notifications::oldest_first(notifications::after(id(1), at, id(2)), id(1), 5)),
        ("notifications_since", notifications::oldest_first(notifications::since(at, &[id(1)]), id(1), 5)),
    ];
    for sort in [VideoSort::CreatedAt, VideoSort::Views, VideoSort::Duration, VideoSort::Title] {
        let query = VideoQuery {
            search: Some("a".into()),
            owner: Some(Id::generate()),
            levels: Place::ByLink.levels(false),
            sort,
            descending: true,
            offset: 0,
            limit: 5,
        };
        pipelines.push(("feed_page", videos::feed_page(&query, super::Read::Sort)));
    }
    let site = VideoQuery {
        search: None,
        owner: None,
        levels: Place::Listing.levels(false),
        sort: VideoSort::CreatedAt,
        descending: true,
        offset: 0,
        limit: 5,
    };
    pipelines.push(("with_site_counts", videos::with_site_counts(videos::feed_page(&site, super::Read::Sort))));
    for sort in SearchSort::ALL {
        let query = VideoSearchQuery {
            text: SearchText::parse("$a b").unwrap(),
            sort: *sort,
            duration: Some(DurationFilter::Medium),
            since: Some(Timestamp(1)),
            offset: 0,
            limit: 5,
        };
        pipelines.push(("search_video_page", search::video_page(&query)));
    }
    let text = SearchText::parse("a b").unwrap();
    let relation = Relation::of("a b", &["c".to_owned()]);
    pipelines.extend([
        ("search_channel_page", search::channel_page(&text, 0, 5)),
        ("suggestions", search::candidates(search::suggestion_filter(&text), 5)),
        ("related", search::candidates(search::related_filter(id(1), &relation), 5)),
    ]);
    for count in counters::all_counts() {
        pipelines.push(("counters_tally", counters::tally(count, Some(&[id(1)]))));
        pipelines.push(("counters_tally_all", counters::tally(count, None)));
    }
    for (name, pipeline) in &pipelines {
        check_pipeline(pipeline, STAGES, name);
    }

    let grant = || RefreshGrant { jti: "j".into(), token_hash: "$h".into(), expires_at: Timestamp(1) };
    let new_session =
        NewSession { id: Id::generate(), user_id: Id::generate(), user_agent: "$ua".into(), grant: grant() };
    let session = sessions::session(&new_session, at);
    for (name, pipeline) in [
        ("add_session", sessions::add_session(session, 3, at)),
        ("record_watch", history::record_watch(id(1), at, 50)),
        ("forget_watches", history::forget_watches(&[id(1), id(2)])),
        ("finish_processing", processing::finish(&processed())),
        ("refresh_video_words", search::refresh_video_words()),
    ] {
        check_pipeline(&pipeline, UPDATE_STAGES, name);
    }

    let user = NewUser {
        username: "a".into(),
        email: "a@b.c".into(),
        full_name: "A".into(),
        avatar: media(),
        cover_image: Some(media()),
        password_hash: "h".into(),
    };
    let profile = ProfileUpdate {
        full_name: Some("n".into()),
        email: Some("e".into()),
        avatar: Some(media()),
        cover_image: Some(media()),
    };
    let video_update = VideoUpdate {
        title: Some("t".into()),
        description: Some("d".into()),
        tags: Some(Tags::parse("x, y").unwrap()),
        thumbnail: Some(media()),
        visibility: Some(Visibility::Unlisted),
    };
    let mut updates = vec![
        users::profile_update(&profile, at),
        users::password_update("h", at),
        users::email_update("e"),
        sessions::remove_session("j"),
        sessions::remove_all_sessions(),
        sessions::next_grant(&grant(), at),
        sessions::revoke_session(id(1), id(2)).1,
        sessions::name_session(id(1), "j", id(2), at).1,
        history::clear_history(),
        history::history_paused(true, at),
        videos::video_update(&video_update, at),
        videos::visibility_update(Visibility::Public, at),
        videos::add_view(),
        processing::claim("h", at),
        processing::renew(5, at),
        processing::fail("e"),
        content_update("c", at),
        playlists::playlist_update(Some("n"), Some("d"), at),
        playlists::add_to_playlist(id(1), id(2), at).1,
        playlists::remove_from_playlist(id(1), id(2), at).1,
        videos::count_in_hour(id(1), 5).1,
        moderation::close(ReportStatus::Dismissed, at),
        comments::pin(id(1), id(2), true).1,
        comments::pin(id(1), id(2), false).1,
        comments::heart_flip(id(1), false).1,
        notifications::claim(id(1)).1,
        doc! { "$set": notifications::settings_fields(Default::default(), at) },
    ];
    for removal in
        [moderation::removal(Some("r"), false), moderation::removal(None, false), moderation::removal(None, true)]
    {
        check_pipeline(&removal, UPDATE_STAGES, "removal");
    }
    // Every deletion's steps, with every kind that others refer to removed too.
    let mut cascade_filters = Vec::new();
    for root in RecordKind::ALL {
        let mut removed = Removed::new(root, vec![id(1)]);
        for kind in RecordKind::ALL {
            if cascade::needs_ids(root, kind) {
                cascade_filters.extend(cascade::referring(kind, &removed));
                cascade_filters.extend(cascade::own_referrers(kind, &[id(2)]));
                removed.insert(kind, vec![id(2)]);
            }
        }
        for step in cascade::steps(root, &removed) {
            match step.change {
                Change::Delete => {}
                Change::Update(update) => updates.push(update),
                Change::Pipeline(pipeline) => check_pipeline(&pipeline, UPDATE_STAGES, "cascade"),
            }
            cascade_filters.push(step.filter);
        }
    }
    for (filter, pipeline) in [moderation::suspended_videos(id(1)), moderation::unsuspended_videos(id(1))] {
        check_pipeline(&pipeline, UPDATE_STAGES, "suspension");
        cascade_filters.push(filter);
    }
    for (filter, update) in [moderation::suspended_posts(id(1)), moderation::unsuspended_posts(id(1))] {
        updates.push(update);
        cascade_filters.push(filter);
    }
    for shown in [true, false] {
        for (filter, update) in [notifications::stamp(&[id(1)], shown, at), notifications::settle_one(id(1), shown, at)]
        {
            updates.push(update);
            cascade_filters.push(filter);
        }
    }
    cascade_filters.push(notifications::unstamped(&[id(1)], at));
    for touched in [Touched::Actor(id(1)), Touched::Video(id(2)), Touched::Comment(id(3))] {
        cascade_filters.push(touched.filter());
    }
    updates.extend([uploads::lease("h", at), uploads::release(), uploads::renew(at), uploads::advance(5, at)]);
    updates.push(uploads::set_expiry(at));
    updates.push(users::suspension(Some("r")));
    updates.push(users::suspension(None));
    let (unsettled, settle) = counters::settle(super::by_id(id(1)));
    check_pipeline(&settle, UPDATE_STAGES, "settle");
    cascade_filters.push(unsettled);
    for count in counters::all_counts() {
        for bump in counters::bumps_of(
            count.counted,
            &bson::doc! { "owner": id(1), "video": id(2) },
            Some(Visibility::Public),
            -1,
        ) {
            updates.push(bump.update);
            cascade_filters.push(bump.filter);
        }
        let (filter, update) = counters::correct(count, Bson::ObjectId(id(1)), Some(Visibility::Private), None, 3);
        updates.push(update);
        cascade_filters.push(filter);
        let step_filter = doc! { "likedBy": { "$in": [id(1)] } };
        if let Some(credited) = counters::credited(count.counted, &step_filter, "likedBy") {
            cascade_filters.push(credited);
        }
        cascade_filters.push(counters::uncredited(count.counted, &step_filter, "likedBy"));
    }
    let records = [
        Record::Like(LikeRecord {
            id: Id::generate(),
            liked_by: Id::generate(),
            target: LikeTarget::Comment(Id::generate()),
            created_at: Timestamp(1),
            updated_at: Timestamp(2),
        }),
        Record::History(HistoryRecord { user: Id::generate(), entries: vec![(Id::generate(), None)] }),
    ];
    updates.extend(records.iter().map(|r| transfer::upsert(r).1));
    for (n, update) in updates.iter().enumerate() {
        check_update(update, &format!("update #{n}"));
    }

    let video = NewVideo {
        owner: Id::generate(),
        video_file: media(),
        thumbnail: media(),
        title: "t".into(),
        description: "d".into(),
        tags: Tags::parse("$t").unwrap(),
        duration: 1.0,
        visibility: Visibility::Public,
        processing: ProcessingStatus::Queued,
        width: 0,
        height: 0,
        hls_url: Some("$h".into()),
    };
    let mut filters = vec![
        notifications::claim(id(1)).0,
        notifications::subscriptions_after(id(1), Some((at, id(2)))),
        notifications::switched_off(&[id(1)], crate::domain::notification::NotificationType::Reply),
        notifications::blocking(&[id(1)], id(2)),
        notifications::subscriber_of(id(1), id(2)),
        users::new_user(id(1), &user, at),
        users::username_or_email("a", "b"),
        sessions::live_session(id(1), "j", "h", at),
        sessions::revoke_session(id(1), id(2)).0,
        sessions::sessions_without_id().0,
        sessions::name_session(id(1), "j", id(2), at).0,
        sessions::user_session(id(1), "j", "h"),
        users::mixed_case_emails(),
        users::email_of_another(id(1), "e"),
        videos::new_video(id(1), id(2), &video, at, &["o".to_owned()]),
        search::channel_filter(&SearchText::parse("a").unwrap()),
        processing::claimable(at),
        processing::held(id(1), "h"),
        likes::like_of(id(1), LikeTarget::Tweet(Id::generate())),
        playlists::add_to_playlist(id(1), id(2), at).0,
        subscriptions::subscription_feed_filter(vec![id(1)]),
        videos::view_hours_of(vec![id(1)]),
        videos::view_hours_before(5),
        keys_in(&["avatarKey"], &["k".to_owned()]),
        transfer::export_filter(Kind::WatchHistory, Some(Id::generate())),
        comments::own_hidden_on_video(id(1), id(2)),
        comments::own_hidden_in_thread(id(1), id(2)),
        counters::settle_comments(doc! { "owner": id(1) }).0,
        comments::pin(id(1), id(2), false).0,
        comments::heart_flip(id(1), true).0,
        uploads::new_upload(id(1), id(2), "videoFile", 5, Some("$f"), at),
        uploads::free(id(1), at),
        uploads::held(id(1), "h"),
        uploads::held_at(id(1), "h", 3),
        uploads::chunks_from(id(1), 3),
        uploads::chunks_below(id(1), 3),
        uploads::expired(at),
    ];
    filters.extend(cascade_filters);
    for (n, filter) in filters.iter().enumerate() {
        check_expression(&Bson::Document(filter.clone()), &format!("filter #{n}"));
    }
}

#[test]
fn the_guard_itself_rejects_a_misspelt_operator() {
    let typo = std::panic::catch_unwind(|| check_pipeline(&[bson::doc! { "$unwnd": "$owner" }], STAGES, "t"));
    assert!(typo.is_err());
    let misplaced = std::panic::catch_unwind(|| check_update(&bson::doc! { "$match": { "a": 1 } }, "t"));
    assert!(misplaced.is_err());
    let nested = std::panic::catch_unwind(|| check_expression(&Bson::Document(bson::doc! { "a": { "$gtt": 1 } }), "t"));
    assert!(nested.is_err());
}
