//! MongoDB side of store-to-store copies: `_id`-ordered export and upserting import. Documents that
//! do not fit the model (say, a like naming no target) are counted as unreadable and passed over.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};
use futures_util::TryStreamExt;
use serde::Deserialize;

use super::docs::{ActionDoc, BlockDoc, NotificationDoc, ReportDoc, SettingsDoc, UserDoc, number, time};
use super::queries::transfer as q;
use super::queries::videos as vq;
use super::{MongoStore, backend, coll, conflict_on, decode, id_of, ids_found, is_conflict, oid, retry_transient};
use crate::domain::Id;
use crate::domain::social::LikeTarget;
use crate::domain::visibility::Visibility;
use crate::store::StoreResult;
use crate::store::transfer::{
    Batch, HistoryRecord, Imported, Kind, LikeRecord, PlaylistRow, PostRecord, Record, SessionRecord,
    SubscriptionRecord, ThreadFields, Transfer, UserRecord, VideoProcessing, VideoRow, ViewHourRecord,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredVideo {
    #[serde(rename = "_id")]
    id: ObjectId,
    owner: ObjectId,
    video_file: String,
    video_key: Option<String>,
    thumbnail: String,
    thumbnail_key: Option<String>,
    title: String,
    description: String,
    duration: f64,
    #[serde(deserialize_with = "number")]
    views: i64,
    is_published: bool,
    visibility: Option<String>,
    created_at: DateTime,
    updated_at: DateTime,
    processing_status: Option<String>,
    #[serde(default, deserialize_with = "number")]
    processing_progress: i64,
    processing_error: Option<String>,
    #[serde(default, deserialize_with = "number")]
    width: i64,
    #[serde(default, deserialize_with = "number")]
    height: i64,
    hls_url: Option<String>,
    hls_key: Option<String>,
    #[serde(default)]
    removed_reason: Option<String>,
    #[serde(default)]
    held_visibility: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// Comments, tweets, likes, subscriptions and playlists share these optional reference fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRecord {
    #[serde(rename = "_id")]
    id: ObjectId,
    owner: Option<ObjectId>,
    video: Option<ObjectId>,
    comment: Option<ObjectId>,
    tweet: Option<ObjectId>,
    liked_by: Option<ObjectId>,
    subscriber: Option<ObjectId>,
    channel: Option<ObjectId>,
    content: Option<String>,
    #[serde(default)]
    removed_reason: Option<String>,
    #[serde(default)]
    hidden: bool,
    /// A reply's thread and the author it answered; a comment's heart.
    parent: Option<ObjectId>,
    reply_to: Option<ObjectId>,
    #[serde(default)]
    hearted: bool,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    videos: Vec<ObjectId>,
    created_at: DateTime,
    updated_at: DateTime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredHistory {
    #[serde(rename = "_id")]
    id: ObjectId,
    #[serde(default)]
    watch_history: Vec<ObjectId>,
    #[serde(default)]
    watch_history_at: Vec<Option<DateTime>>,
}

fn user_record(user: UserDoc) -> Record {
    let sessions = user
        .refresh_sessions
        .iter()
        .map(|s| SessionRecord {
            // Sessions get ids when a server starts on the database; one copied before that gets one here.
            id: s.id.map_or_else(Id::generate, id_of),
            jti: s.jti.clone(),
            token_hash: s.token_hash.clone(),
            user_agent: s.user_agent.clone().unwrap_or_default(),
            expires_at: time(s.expires_at),
            created_at: time(s.created_at),
            last_used_at: time(s.last_used_at.unwrap_or(s.created_at)),
        })
        .collect();
    let account = UserDoc { refresh_sessions: Vec::new(), ..user }.into_account();
    Record::User(UserRecord {
        id: account.user.id,
        username: account.user.username,
        // Emails are stored lowercase (the original API kept some mixed-case); two accounts that
        // then collide are reported as skipped by the destination's unique index.
        email: account.user.email.to_lowercase(),
        full_name: account.user.full_name,
        avatar: account.user.avatar,
        avatar_key: account.avatar_key,
        cover_image: account.user.cover_image,
        cover_image_key: account.cover_image_key,
        password_hash: account.password_hash,
        sessions,
        history_paused: account.user.history_paused,
        role: account.user.role,
        suspended_reason: account.suspended_reason,
        created_at: account.user.created_at,
        updated_at: account.user.updated_at,
    })
}

/// The record a document of `kind` holds, or `None` when it lacks what the model requires.
fn record(kind: Kind, document: Document) -> Option<Record> {
    match kind {
        Kind::Users => decode::<UserDoc>(document).ok().map(user_record),
        Kind::Videos => decode::<StoredVideo>(document).ok().map(video_record),
        Kind::WatchHistory => {
            let h = decode::<StoredHistory>(document).ok()?;
            let times = h.watch_history_at.into_iter().chain(std::iter::repeat(None)).map(|at| at.map(time));
            let entries = h.watch_history.into_iter().map(id_of).zip(times).collect();
            Some(Record::History(HistoryRecord { user: id_of(h.id), entries }))
        }
        Kind::Comments => {
            let stored = decode::<StoredRecord>(document).ok()?;
            // `pinned` is the video's to say: filled in by `attach_pins` for the whole batch.
            let thread = ThreadFields {
                parent: stored.parent.map(id_of),
                reply_to: stored.reply_to.map(id_of),
                pinned: false,
                hearted: stored.hearted,
            };
            stored.post().map(|post| Record::Comment(PostRecord { thread, ..post }))
        }
        Kind::Tweets => decode::<StoredRecord>(document).ok()?.post().map(Record::Tweet),
        Kind::Likes => decode::<StoredRecord>(document).ok()?.like(),
        Kind::Subscriptions => decode::<StoredRecord>(document).ok()?.subscription(),
        Kind::Playlists => decode::<StoredRecord>(document).ok()?.playlist(),
        Kind::Reports => decode::<ReportDoc>(document).ok()?.into_record().map(Record::Report),
        Kind::ModerationActions => decode::<ActionDoc<ObjectId>>(document).ok()?.into_record().map(Record::Action),
        Kind::Blocks => decode::<BlockDoc>(document).ok().map(|b| Record::Block(b.into_record())),
        Kind::NotificationSettings => {
            decode::<SettingsDoc>(document).ok().map(|s| Record::NotificationSettings(s.into_record()))
        }
        Kind::Notifications => decode::<NotificationDoc>(document).ok()?.into_record().map(Record::Notification),
    }
}

fn video_record(v: StoredVideo) -> Record {
    Record::Video(VideoRow {
        id: id_of(v.id),
        owner: id_of(v.owner),
        video_file: v.video_file,
        video_key: v.video_key.unwrap_or_default(),
        thumbnail: v.thumbnail,
        thumbnail_key: v.thumbnail_key.unwrap_or_default(),
        title: v.title,
        description: v.description,
        duration: v.duration,
        views: v.views,
        visibility: Visibility::from_stored(v.is_published, v.visibility.as_deref()),
        created_at: time(v.created_at),
        updated_at: time(v.updated_at),
        // Filled in by `attach_view_hours`, which reads them for a whole batch at once.
        view_hours: Vec::new(),
        processing: VideoProcessing {
            status: VideoProcessing::exported(v.processing_status.as_deref()),
            progress: v.processing_progress,
            error: v.processing_error,
            width: v.width,
            height: v.height,
            hls_url: v.hls_url,
            hls_key: v.hls_key.unwrap_or_default(),
        },
        removed_reason: v.removed_reason,
        held_visibility: v.held_visibility.as_deref().and_then(Visibility::parse),
        tags: v.tags,
    })
}

impl StoredRecord {
    fn post(self) -> Option<PostRecord> {
        Some(PostRecord {
            id: id_of(self.id),
            owner: id_of(self.owner?),
            video: self.video.map(id_of),
            content: self.content?,
            removed_reason: self.removed_reason,
            hidden: self.hidden,
            thread: ThreadFields::default(),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        })
    }

    fn like(self) -> Option<Record> {
        let target = match (self.video, self.comment, self.tweet) {
            (Some(v), None, None) => LikeTarget::Video(id_of(v)),
            (None, Some(c), None) => LikeTarget::Comment(id_of(c)),
            (None, None, Some(t)) => LikeTarget::Tweet(id_of(t)),
            _ => return None,
        };
        Some(Record::Like(LikeRecord {
            id: id_of(self.id),
            liked_by: id_of(self.liked_by?),
            target,
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }))
    }

    fn subscription(self) -> Option<Record> {
        Some(Record::Subscription(SubscriptionRecord {
            id: id_of(self.id),
            subscriber: id_of(self.subscriber?),
            channel: id_of(self.channel?),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }))
    }

    fn playlist(self) -> Option<Record> {
        Some(Record::Playlist(PlaylistRow {
            id: id_of(self.id),
            owner: id_of(self.owner?),
            name: self.name?,
            description: self.description.unwrap_or_default(),
            videos: self.videos.into_iter().map(id_of).collect(),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        }))
    }
}

/// One hourly view record of a video.
#[derive(Deserialize)]
struct StoredViewHour {
    video: ObjectId,
    #[serde(deserialize_with = "number")]
    hour: i64,
    #[serde(deserialize_with = "number")]
    n: i64,
}

impl MongoStore {
    /// Reads the hourly view records of the exported videos into their records.
    async fn attach_view_hours(&self, records: &mut [Record]) -> StoreResult<()> {
        let videos: Vec<ObjectId> =
            records.iter().filter_map(|r| if let Record::Video(v) = r { Some(oid(v.id)) } else { None }).collect();
        if videos.is_empty() {
            return Ok(());
        }
        let hours: Vec<StoredViewHour> = self
            .collection(coll::VIEW_HOURS)
            .find(vq::view_hours_of(videos))
            .sort(doc! { "video": 1, "hour": 1 })
            .await
            .map_err(backend)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(backend)?
            .into_iter()
            .filter_map(|d| decode(d).ok())
            .collect();
        for record in records {
            if let Record::Video(v) = record {
                let id = oid(v.id);
                let of_video = hours.iter().filter(|h| h.video == id);
                v.view_hours = of_video.map(|h| ViewHourRecord { hour: h.hour, views: h.n }).collect();
            }
        }
        Ok(())
    }

    /// Marks the exported comments their video pins (`pinnedComment`, read for the whole batch).
    async fn attach_pins(&self, records: &mut [Record]) -> StoreResult<()> {
        let mut videos: Vec<ObjectId> =
            records.iter().filter_map(|r| if let Record::Comment(c) = r { c.video.map(oid) } else { None }).collect();
        videos.sort();
        videos.dedup();
        if videos.is_empty() {
            return Ok(());
        }
        let pinned = doc! { "_id": { "$in": videos }, "pinnedComment": { "$exists": true } };
        let collection = self.collection(coll::VIDEOS);
        let pins = ids_found(collection.find(pinned).projection(doc! { "pinnedComment": 1 }), "pinnedComment").await?;
        for record in records {
            if let Record::Comment(c) = record {
                c.thread.pinned = pins.contains(&oid(c.id));
            }
        }
        Ok(())
    }

    /// A copied comment's pin is its video's: set when pinned, ended when it was this comment.
    async fn import_pin(&self, comment: &PostRecord) -> StoreResult<()> {
        let Some(video) = comment.video else { return Ok(()) };
        let (filter, update) = super::queries::comments::pin(oid(video), oid(comment.id), comment.thread.pinned);
        self.collection(coll::VIDEOS).update_one(filter, update).await.map_err(backend)?;
        Ok(())
    }

    /// Replaces a copied video's hourly view records (one writer: `migrate`).
    async fn import_view_hours(&self, video: &VideoRow) -> StoreResult<()> {
        let hours = self.collection(coll::VIEW_HOURS);
        let id = oid(video.id);
        hours.delete_many(doc! { "video": id }).await.map_err(backend)?;
        let records: Vec<Document> = video.view_hours.iter().map(|h| vq::new_view_hour(id, h.hour, h.views)).collect();
        if !records.is_empty() {
            hours.insert_many(records).await.map_err(backend)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Transfer for MongoStore {
    fn describe(&self) -> String {
        format!("MongoDB database `{}`", self.db.name())
    }

    async fn count(&self, kind: Kind) -> StoreResult<u64> {
        MongoStore::count(self, q::collection(kind), q::export_filter(kind, None)).await
    }

    async fn export(&self, kind: Kind, after: Option<Id>, limit: u32) -> StoreResult<Batch> {
        let documents: Vec<Document> = self
            .collection(q::collection(kind))
            .find(q::export_filter(kind, after))
            .sort(doc! { "_id": 1 })
            .limit(i64::from(limit))
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        let last = documents.last().and_then(|d| d.get_object_id("_id").ok()).map(id_of);
        let mut batch = Batch { records: Vec::with_capacity(documents.len()), last, unreadable: 0 };
        for document in documents {
            match record(kind, document) {
                Some(record) => batch.records.push(record),
                None => batch.unreadable += 1,
            }
        }
        self.attach_view_hours(&mut batch.records).await?;
        self.attach_pins(&mut batch.records).await?;
        Ok(batch)
    }

    async fn import(&self, records: Vec<Record>) -> StoreResult<Imported> {
        let mut imported = Imported::default();
        for record in &records {
            let (filter, update, upsert) = q::upsert(record);
            let collection = self.collection(q::target(record));
            let result = retry_transient(|| collection.update_one(filter.clone(), update.clone()).upsert(upsert)).await;
            // A unique key held by another record (a username taken at the destination) refuses it.
            match result.map_err(conflict_on("unique key")) {
                Ok(r) if r.matched_count > 0 || r.upserted_id.is_some() => {
                    match record {
                        Record::Video(video) => {
                            self.import_view_hours(video).await?;
                            self.reindex_video(oid(video.id)).await?;
                        }
                        Record::User(user) => {
                            self.reindex_user(oid(user.id), &user.username, &user.full_name).await?;
                        }
                        Record::Comment(comment) => self.import_pin(comment).await?,
                        _ => {}
                    }
                    imported.written += 1
                }
                Ok(_) => imported.skipped += 1,
                Err(e) if is_conflict(&e) => imported.skipped += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(imported)
    }

    async fn finish(&self) -> StoreResult<()> {
        self.rebuild_counters().await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Home, home};
    use super::*;
    use crate::store::records::{Copied, RecordKind};

    #[test]
    fn a_like_naming_no_single_target_is_unreadable() {
        let at = DateTime::from_millis(1);
        let base = doc! { "_id": ObjectId::new(), "likedBy": ObjectId::new(), "createdAt": at, "updatedAt": at };
        assert!(record(Kind::Likes, base.clone()).is_none());
        let mut both = base.clone();
        both.insert("video", ObjectId::new());
        both.insert("tweet", ObjectId::new());
        assert!(record(Kind::Likes, both).is_none());
        let mut video = base;
        video.insert("video", ObjectId::new());
        assert!(
            matches!(record(Kind::Likes, video), Some(Record::Like(l)) if matches!(l.target, LikeTarget::Video(_)))
        );
    }

    #[test]
    fn kinds_copied_inside_others_are_read_with_them() {
        for kind in RecordKind::ALL {
            let Copied::Within(holder) = kind.copied() else { continue };
            match home(kind) {
                Home::Within { holder: kept_in, .. } => assert_eq!(kept_in, holder, "{kind:?} is read with its holder"),
                // Stored apart on MongoDB: the export reads them beside their holders' batch.
                Home::Collection(_) => assert_eq!(kind, RecordKind::ViewHours, "{kind:?} needs a reader"),
            }
        }
    }

    #[test]
    fn users_of_the_original_api_are_exported_with_lowercase_emails_and_no_sessions() {
        let at = DateTime::from_millis(7);
        let original = doc! {
            "_id": ObjectId::from_bytes([1; 12]), "username": "asha", "email": "Asha@Example.COM", "fullName": "Asha",
            "avatar": "a", "coverImage": "", "watchHistory": [], "password": "$2a$10$x", "refreshToken": "old",
            "createdAt": at, "updatedAt": at,
        };
        let Some(Record::User(user)) = record(Kind::Users, original) else { panic!("a user record") };
        assert_eq!(user.email, "asha@example.com");
        assert!(user.sessions.is_empty(), "the plain-text refreshToken is not a session");
        assert_eq!((user.avatar_key.as_str(), user.cover_image_key), ("", None));
        assert_eq!(user.created_at, crate::domain::Timestamp(7));
    }
}
