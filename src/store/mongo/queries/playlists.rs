//! Builders for playlists: the owner's lists, edits, and idempotent additions and removals of videos.

use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};

use super::Change;
use super::{newest_first, owner_lookup};

/// A new playlist's fields, without videos.
pub fn new_playlist(owner: ObjectId, name: &str, description: &str) -> Document {
    doc! { "name": name, "description": description, "videos": [], "owner": owner }
}

pub fn playlists(filter: Document) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }, newest_first()];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

pub fn playlist_update(name: Option<&str>, description: Option<&str>, now: DateTime) -> Document {
    let mut set = doc! { "updatedAt": now };
    if let Some(name) = name {
        set.insert("name", name);
    }
    if let Some(description) = description {
        set.insert("description", description);
    }
    doc! { "$set": set }
}

/// Appends the video only when absent: the filter makes the push idempotent and race-free.
pub fn add_to_playlist(playlist: ObjectId, video: ObjectId, now: DateTime) -> (Document, Document) {
    (
        doc! { "_id": playlist, "videos": { "$ne": video } },
        doc! { "$push": { "videos": video }, "$set": { "updatedAt": now } },
    )
}

pub fn remove_from_playlist(playlist: ObjectId, video: ObjectId, now: DateTime) -> (Document, Document) {
    (doc! { "_id": playlist, "videos": video }, doc! { "$pull": { "videos": video }, "$set": { "updatedAt": now } })
}

/// Takes `videos` out of every playlist holding them (a deletion of those videos).
pub fn without_videos(videos: &[ObjectId]) -> Change {
    Change::Update(doc! { "$pull": { "videos": { "$in": videos } } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn playlist_edits_are_idempotent_by_filter() {
        let at = DateTime::from_millis(2);
        assert_eq!(
            add_to_playlist(id(1), id(2), at),
            (
                doc! { "_id": id(1), "videos": { "$ne": id(2) } },
                doc! { "$push": { "videos": id(2) }, "$set": { "updatedAt": at } }
            )
        );
        assert_eq!(remove_from_playlist(id(1), id(2), at).0, doc! { "_id": id(1), "videos": id(2) });
        assert_eq!(playlist_update(Some("n"), None, at), doc! { "$set": { "updatedAt": at, "name": "n" } });
    }

    #[test]
    fn a_deleted_video_leaves_every_playlist() {
        assert_eq!(without_videos(&[id(2)]), Change::Update(doc! { "$pull": { "videos": { "$in": [id(2)] } } }));
        assert_eq!(
            new_playlist(id(1), "n", "d"),
            doc! { "name": "n", "description": "d", "videos": [], "owner": id(1) }
        );
    }
}
