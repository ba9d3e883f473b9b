//! Builders for tweets: one tweet and an owner's tweets, each with its author and like facts.

use bson::oid::ObjectId;
use bson::{Document, doc};

use super::{by_id, posts, seen_posts};
use crate::store::records::RecordKind;

/// The like field naming a tweet.
const LIKED_AS: &str = "tweet";

/// A new tweet's fields.
pub fn new_tweet(owner: ObjectId, content: &str) -> Document {
    let mut fields = doc! { "content": content, "owner": owner };
    fields.extend(super::counters::zeroes(RecordKind::Tweets));
    fields
}

pub fn tweet(id: ObjectId, viewer: Option<ObjectId>) -> Vec<Document> {
    posts(by_id(id), LIKED_AS, viewer, None)
}

/// The owner's tweets `viewer` sees, newest first.
pub fn tweets_of(owner: ObjectId, viewer: Option<ObjectId>) -> Vec<Document> {
    posts(seen_posts(doc! { "owner": owner }, viewer), LIKED_AS, viewer, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_s_tweets_are_read_whole_with_their_like_facts() {
        let owner = ObjectId::from_bytes([1; 12]);
        let pipeline = tweets_of(owner, None);
        assert_eq!(pipeline[0], doc! { "$match": { "owner": owner, "hidden": { "$ne": true } } });
        assert_eq!(pipeline.len(), 5, "no page: sort, owner lookup (2) and like facts (1 for nobody)");
        let lookup = tweets_of(owner, Some(owner))[4].get_document("$lookup").unwrap().clone();
        assert_eq!(lookup.get_str("foreignField").unwrap(), "tweet");
        assert_eq!(new_tweet(owner, "t").get_i64("likes").unwrap(), 0);
    }
}
