//! The processing queue's filters and updates: a job is fields of its video document, claimed by
//! one `findOneAndUpdate` whose filter only matches a claimable job.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::literal;
use crate::store::{MediaRef, ProcessedVideo};

/// Queued jobs, and jobs whose instance let the lease run out before `now`.
pub fn claimable(now: DateTime) -> Document {
    doc! { "$or": [
        { "processingStatus": "queued" },
        { "processingStatus": "processing", "leaseUntil": { "$lt": now } },
    ] }
}

/// Oldest job first.
pub fn claim_order() -> Document {
    doc! { "createdAt": 1, "_id": 1 }
}

pub fn claim(holder: &str, until: DateTime) -> Document {
    doc! { "$set": { "processingStatus": "processing", "leaseHolder": holder, "leaseUntil": until } }
}

/// The video's job while `holder` still holds it.
pub fn held(video: ObjectId, holder: &str) -> Document {
    doc! { "_id": video, "leaseHolder": holder, "processingStatus": "processing" }
}

pub fn renew(progress: u8, until: DateTime) -> Document {
    doc! { "$max": { "processingProgress": i32::from(progress) }, "$set": { "leaseUntil": until } }
}

/// Takes `media` only while the stored key is empty (no thumbnail yet); a literal either way.
fn when_missing(field: &str, key_field: &str, value: Option<&String>) -> Bson {
    match value {
        None => Bson::String(format!("${field}")),
        Some(value) => Bson::Document(doc! { "$cond": [
            { "$eq": [{ "$ifNull": [format!("${key_field}"), ""] }, ""] },
            literal(value.as_str()),
            format!("${field}"),
        ] }),
    }
}

/// An update pipeline: every result of the job, the thumbnail only if the video still has none.
pub fn finish(done: &ProcessedVideo) -> Vec<Document> {
    let mut set = doc! {
        "processingStatus": "ready", "processingProgress": 100, "processingError": Bson::Null,
        "leaseHolder": Bson::Null, "leaseUntil": Bson::Null,
        "duration": done.duration, "width": done.width, "height": done.height,
        "hlsUrl": literal(done.hls.url.as_str()), "hlsKey": literal(done.hls.key.as_str()),
    };
    if let Some(MediaRef { url, key }) = &done.video_file {
        set.insert("videoFile", literal(url.as_str()));
        set.insert("videoKey", literal(key.as_str()));
    }
    let (url, key) = done.thumbnail.as_ref().map(|m| (&m.url, &m.key)).unzip();
    set.insert("thumbnail", when_missing("thumbnail", "thumbnailKey", url));
    set.insert("thumbnailKey", when_missing("thumbnailKey", "thumbnailKey", key));
    vec![doc! { "$set": set }]
}

pub fn fail(error: &str) -> Document {
    doc! { "$set": {
        "processingStatus": "failed", "processingError": error, "leaseHolder": Bson::Null, "leaseUntil": Bson::Null,
    } }
}

/// Back in the queue, held by nobody.
pub fn release() -> Document {
    doc! { "$set": { "processingStatus": "queued", "leaseHolder": Bson::Null, "leaseUntil": Bson::Null } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(thumbnail: Option<MediaRef>) -> ProcessedVideo {
        ProcessedVideo {
            duration: 2.0,
            width: 160,
            height: 120,
            video_file: None,
            thumbnail,
            hls: MediaRef { url: "$h".into(), key: "hk".into() },
        }
    }

    #[test]
    fn a_job_is_claimable_when_queued_or_abandoned() {
        let now = DateTime::from_millis(5);
        assert_eq!(
            claimable(now),
            doc! { "$or": [
                { "processingStatus": "queued" },
                { "processingStatus": "processing", "leaseUntil": { "$lt": now } },
            ] }
        );
    }

    #[test]
    fn finishing_keeps_an_uploaded_thumbnail_and_quotes_values() {
        let set = finish(&done(None)).remove(0).get_document("$set").unwrap().clone();
        assert_eq!(set.get_str("thumbnail").unwrap(), "$thumbnail");
        assert_eq!(set.get_document("hlsUrl").unwrap(), &doc! { "$literal": "$h" });
        assert!(!set.contains_key("videoFile"));
        let extracted = Some(MediaRef { url: "t".into(), key: "tk".into() });
        let set = finish(&done(extracted)).remove(0).get_document("$set").unwrap().clone();
        assert_eq!(
            set.get_document("thumbnailKey").unwrap(),
            &doc! { "$cond": [{ "$eq": [{ "$ifNull": ["$thumbnailKey", ""] }, ""] }, { "$literal": "tk" }, "$thumbnailKey"] }
        );
    }

    #[test]
    fn renewing_never_lowers_the_progress() {
        let until = DateTime::from_millis(9);
        assert_eq!(renew(40, until), doc! { "$max": { "processingProgress": 40 }, "$set": { "leaseUntil": until } });
    }
}
