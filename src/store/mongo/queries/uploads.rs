//! Resumable uploads on MongoDB (docs/decisions.md D15): an upload's state document in
//! `tusUploads` and its bytes as documents of `tusChunks`, each naming its upload and where in it
//! it starts. The offset is a field of the state, moved forward only after the chunk it covers is
//! stored, and only by the writer holding the lease; chunks at or past the offset are debris of a
//! writer that died in between, deleted by the next one.

use bson::oid::ObjectId;
use bson::{Binary, Bson, DateTime, Document, doc, spec::BinarySubtype};

/// The state of each upload: owner, field, length, filename, expiry, offset, writer lease.
pub const UPLOADS: &str = "tusUploads";
/// The bytes of the uploads, a bounded piece per document.
pub const CHUNKS: &str = "tusChunks";

/// A new upload with nothing received.
pub fn new_upload(
    id: ObjectId,
    owner: ObjectId,
    field: &str,
    length: i64,
    filename: Option<&str>,
    expires: DateTime,
) -> Document {
    doc! {
        "_id": id, "owner": owner, "field": field, "length": length,
        "filename": filename.map_or(Bson::Null, Bson::from), "expires": expires, "offset": 0_i64,
    }
}

/// The upload while nobody holds its writing lease (never taken, given back, or run out).
pub fn free(id: ObjectId, now: DateTime) -> Document {
    doc! { "_id": id, "$or": [{ "writer": Bson::Null }, { "writerUntil": { "$lte": now } }] }
}

/// Takes (or renews) the lease for `holder` until `until`.
pub fn lease(holder: &str, until: DateTime) -> Document {
    doc! { "$set": { "writer": holder, "writerUntil": until } }
}

/// The upload while `holder` holds its lease.
pub fn held(id: ObjectId, holder: &str) -> Document {
    doc! { "_id": id, "writer": holder }
}

/// The upload while `holder` holds its lease and its offset is still `offset`: the condition of
/// every offset move, so a writer that lost its lease moves nothing.
pub fn held_at(id: ObjectId, holder: &str, offset: i64) -> Document {
    doc! { "_id": id, "writer": holder, "offset": offset }
}

/// Gives the lease back.
pub fn release() -> Document {
    doc! { "$set": { "writer": Bson::Null, "writerUntil": Bson::Null } }
}

/// Keeps the lease while its request runs.
pub fn renew(until: DateTime) -> Document {
    doc! { "$set": { "writerUntil": until } }
}

/// Moves the offset to `offset` (forward past a stored chunk, or back to undo an append), renewing the lease as the writer is alive.
pub fn advance(offset: i64, until: DateTime) -> Document {
    doc! { "$set": { "offset": offset, "writerUntil": until } }
}

pub fn set_expiry(expires: DateTime) -> Document {
    doc! { "$set": { "expires": expires } }
}

/// A piece of an upload's bytes starting at `at`.
pub fn chunk(upload: ObjectId, at: i64, bytes: Vec<u8>) -> Document {
    doc! {
        "_id": ObjectId::new(), "upload": upload, "at": at,
        "data": Binary { subtype: BinarySubtype::Generic, bytes },
    }
}

/// The chunks of `upload` from `from` on: debris past the offset, or an undone append.
pub fn chunks_from(upload: ObjectId, from: i64) -> Document {
    doc! { "upload": upload, "at": { "$gte": from } }
}

/// The chunks of `upload` below `offset`: its bytes, read in the order of `by_position`.
pub fn chunks_below(upload: ObjectId, offset: i64) -> Document {
    doc! { "upload": upload, "at": { "$lt": offset } }
}

pub fn by_position() -> Document {
    doc! { "at": 1 }
}

/// Uploads past their expiry that nobody is writing (a writer's lease protects its upload until
/// its PATCH ends and moves the expiry).
pub fn expired(now: DateTime) -> Document {
    doc! {
        "expires": { "$lte": now },
        "$or": [{ "writer": Bson::Null }, { "writerUntil": { "$lte": now } }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_upload_is_one_without_a_live_lease() {
        let (id, now) = (ObjectId::from_bytes([1; 12]), DateTime::from_millis(5));
        assert_eq!(
            free(id, now),
            doc! { "_id": id, "$or": [{ "writer": Bson::Null }, { "writerUntil": { "$lte": now } }] }
        );
        assert_eq!(held_at(id, "h", 3), doc! { "_id": id, "writer": "h", "offset": 3_i64 });
    }
}
