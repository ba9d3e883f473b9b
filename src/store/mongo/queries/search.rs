//! Builders for search (docs/api.md §3.16, D22). Each listed video keeps the words of its fields,
//! folded by `domain::search::words`, in `search.{title,tags,description,owner}`; `searchWords`
//! holds all of them and `suggestWords` those of the title and tags, each under a multikey index of
//! its own (a search reads only its words' keys; the listed flag is checked on those). Whole
//! words are equality keys, the last word of a query an anchored regex (an index range); the score
//! is `domain::search::video_score` as an expression. A search's page and total are one aggregate
//! (`$facet` after the indexed `$match`).

use bson::{Bson, Document, doc};

use super::{literal, owner_lookup, skip, visible_to};
use crate::domain::search::{
    DurationFilter, FULL_NAME_WEIGHT, OTHER_WEIGHT, Relation, SearchSort, SearchText, TAG_WEIGHT, TITLE_WEIGHT,
    USERNAME_WEIGHT, VideoSearchQuery, distinct_words, words,
};
use crate::domain::visibility::Place;

/// A video's search fields from its title, tags, description and owner's names.
pub fn video_fields(title: &str, tags: &[String], description: &str, owner: &[String]) -> Document {
    let title = distinct_words([title]);
    let tags = distinct_words(tags.iter().map(String::as_str));
    let description = distinct_words([description]);
    let union = |parts: &[&Vec<String>]| {
        let mut all: Vec<String> = Vec::new();
        for word in parts.iter().flat_map(|part| part.iter()) {
            if !all.contains(word) {
                all.push(word.clone());
            }
        }
        all
    };
    doc! {
        "searchWords": union(&[&title, &tags, &description, &owner.to_vec()]),
        "suggestWords": union(&[&title, &tags]),
        "search": { "title": &title, "tags": &tags, "description": &description, "owner": owner },
    }
}

/// The words a user's videos are found by through their owner.
pub fn owner_words(username: &str, full_name: &str) -> Vec<String> {
    distinct_words([username, full_name])
}

/// A user's search fields.
pub fn user_fields(username: &str, full_name: &str) -> Document {
    doc! {
        "searchWords": owner_words(username, full_name),
        "search": { "username": words(username), "fullName": words(full_name) },
    }
}

fn array(path: &str) -> Document {
    doc! { "$ifNull": [path, []] }
}

/// After a change to some of `search.*`: `searchWords` and `suggestWords` again (an update
/// pipeline; it reads only stored fields).
pub fn refresh_video_words() -> Vec<Document> {
    let all = ["$search.title", "$search.tags", "$search.description", "$search.owner"].map(array);
    let suggest = ["$search.title", "$search.tags"].map(array);
    vec![
        doc! { "$set": { "searchWords": { "$setUnion": all.to_vec() }, "suggestWords": { "$setUnion": suggest.to_vec() } } },
    ]
}

/// An anchored, escaped regex: words are letters and digits, escaped all the same.
fn starts_with(prefix: &str) -> Document {
    let mut pattern = String::from("^");
    for c in prefix.chars() {
        if !c.is_alphanumeric() {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    doc! { "$regex": pattern }
}

/// Every word of `text` in `field` (an array), the last as a prefix.
fn all_words(field: &str, text: &SearchText) -> Vec<Document> {
    let mut clauses: Vec<Document> = text.whole.iter().map(|word| doc! { field: word }).collect();
    clauses.push(doc! { field: starts_with(&text.prefix) });
    clauses
}

/// Whether `word` is in the array at `path`, or starts one of its words when `prefix`.
fn holds(path: &str, word: &str, prefix: bool) -> Document {
    if prefix {
        doc! { "$anyElementTrue": [{ "$map": {
            "input": array(path),
            "in": { "$eq": [{ "$indexOfCP": ["$$this", literal(word)] }, 0] },
        } }] }
    } else {
        doc! { "$in": [literal(word), array(path)] }
    }
}

/// The score of `text`: per word the weight of the best of `fields` it is in, else `otherwise`.
fn score(text: &SearchText, fields: &[(&str, u32)], otherwise: u32) -> Document {
    let terms: Vec<Bson> = text
        .terms()
        .map(|(word, prefix)| {
            let mut expression = Bson::Int32(otherwise as i32);
            for (path, weight) in fields.iter().rev() {
                expression = Bson::Document(doc! { "$cond": [holds(path, word, prefix), *weight as i32, expression] });
            }
            expression
        })
        .collect();
    doc! { "$add": terms }
}

/// The filter of a video search: listed, every word, and the filters.
pub fn video_filter(query: &VideoSearchQuery) -> Document {
    let mut clauses = vec![visible_to(Place::Listing, None)];
    clauses.extend(all_words("searchWords", &query.text));
    if let Some(duration) = query.duration {
        clauses.push(match duration {
            DurationFilter::Short => doc! { "duration": { "$lt": 240 } },
            DurationFilter::Medium => doc! { "duration": { "$gte": 240, "$lte": 1200 } },
            DurationFilter::Long => doc! { "duration": { "$gt": 1200 } },
        });
    }
    if let Some(since) = query.since {
        clauses.push(doc! { "createdAt": { "$gte": bson::DateTime::from_millis(since.0) } });
    }
    doc! { "$and": clauses }
}

/// One page of a video search, each with its `score` and owner.
pub fn video_page(query: &VideoSearchQuery) -> Vec<Document> {
    let scored = doc! { "$set": { "score": score(
        &query.text,
        &[("$search.title", TITLE_WEIGHT), ("$search.tags", TAG_WEIGHT)],
        OTHER_WEIGHT,
    ) } };
    let order = match query.sort {
        SearchSort::Relevance => doc! { "score": -1, "views": -1, "createdAt": -1, "_id": -1 },
        SearchSort::Newest => doc! { "createdAt": -1, "_id": -1 },
        SearchSort::Views => doc! { "views": -1, "createdAt": -1, "_id": -1 },
    };
    let page = [doc! { "$sort": order }, skip(query.offset), doc! { "$limit": i64::from(query.limit) }];
    let mut pipeline = vec![doc! { "$match": video_filter(query) }];
    // The score orders a relevance search; for the others only the page needs it.
    if query.sort == SearchSort::Relevance {
        pipeline.push(scored);
        pipeline.extend(page);
    } else {
        pipeline.extend(page);
        pipeline.push(scored);
    }
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

/// The page (`page`, as `video_page`) and the number of matches (`total`, `[{ n }]`, empty when
/// none) of a video search in one aggregate: the filter is matched once, through the index.
pub fn video_search(query: &VideoSearchQuery) -> Vec<Document> {
    let mut page = video_page(query);
    let matched = page.remove(0);
    vec![matched, doc! { "$facet": { "page": page, "total": [{ "$count": "n" }] } }]
}

/// The filter of a channel search: every word, accounts not suspended.
pub fn channel_filter(text: &SearchText) -> Document {
    let mut clauses = all_words("searchWords", text);
    clauses.push(doc! { "suspendedReason": { "$exists": false } });
    doc! { "$and": clauses }
}

/// One page of a channel search: cards (`channel_card`) with their `score`.
pub fn channel_page(text: &SearchText, offset: u64, limit: u32) -> Vec<Document> {
    let mut pipeline = vec![
        doc! { "$match": channel_filter(text) },
        doc! { "$set": { "score": score(text, &[("$search.username", USERNAME_WEIGHT)], FULL_NAME_WEIGHT) } },
    ];
    pipeline.extend(super::subscriptions::channel_card(true, &["score", "createdAt"]));
    pipeline.extend([
        doc! { "$sort": { "score": -1, "subscribersCount": -1, "createdAt": -1, "_id": -1 } },
        skip(offset),
        doc! { "$limit": i64::from(limit) },
    ]);
    pipeline
}

/// As `video_search`, for channels: their page (`channel_page`) and total in one aggregate.
pub fn channel_search(text: &SearchText, offset: u64, limit: u32) -> Vec<Document> {
    let mut page = channel_page(text, offset, limit);
    let matched = page.remove(0);
    vec![matched, doc! { "$facet": { "page": page, "total": [{ "$count": "n" }] } }]
}

/// Listed videos whose title or tags hold every word of `text` (suggestion candidates).
pub fn suggestion_filter(text: &SearchText) -> Document {
    let mut clauses = vec![visible_to(Place::Listing, None)];
    clauses.extend(all_words("suggestWords", text));
    doc! { "$and": clauses }
}

/// Listed videos other than `video` whose title or tags hold one of the relation's words.
pub fn related_filter(video: bson::oid::ObjectId, relation: &Relation) -> Document {
    let words = distinct_words(relation.tags.iter().chain(&relation.title_words).map(String::as_str));
    let mut filter = visible_to(Place::Listing, None);
    filter.insert("suggestWords", doc! { "$in": words });
    filter.insert("_id", doc! { "$ne": video });
    filter
}

/// Suggestion candidates, at most `limit`: only what suggestions rank (title, tags, views), of
/// videos whose owner exists (as `candidates`, whose owner join drops the others).
pub fn suggestion_candidates(text: &SearchText, limit: u32) -> Vec<Document> {
    vec![
        doc! { "$match": suggestion_filter(text) },
        doc! { "$limit": i64::from(limit) },
        doc! { "$project": { "_id": 0, "title": 1, "tags": 1, "views": 1, "owner": 1 } },
        doc! { "$lookup": {
            "from": super::coll::USERS,
            "localField": "owner",
            "foreignField": "_id",
            "pipeline": [{ "$project": { "_id": 1 } }],
            "as": "owner",
        } },
        doc! { "$match": { "owner": { "$ne": [] } } },
    ]
}

/// Candidates with their owners, at most `limit`.
pub fn candidates(filter: Document, limit: u32) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }, doc! { "$limit": i64::from(limit) }];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::search::SearchSort;

    fn query(q: &str, sort: SearchSort) -> VideoSearchQuery {
        VideoSearchQuery {
            text: SearchText::parse(q).unwrap(),
            sort,
            duration: None,
            since: None,
            offset: 0,
            limit: 10,
        }
    }

    #[test]
    fn fields_hold_folded_words_and_their_unions() {
        let fields = video_fields("Café tour", &["Low Tide".to_owned()], "a tour", &["ana".to_owned()]);
        assert_eq!(fields.get_array("searchWords").unwrap().len(), 6);
        let suggest: Vec<&str> = fields.get_array("suggestWords").unwrap().iter().filter_map(Bson::as_str).collect();
        assert_eq!(suggest, ["cafe", "tour", "low", "tide"]);
    }

    #[test]
    fn words_are_keys_and_the_last_an_anchored_prefix() {
        let filter = video_filter(&query("tide po", SearchSort::Relevance));
        let clauses = filter.get_array("$and").unwrap();
        assert_eq!(clauses[1].as_document().unwrap(), &doc! { "searchWords": "tide" });
        assert_eq!(clauses[2].as_document().unwrap(), &doc! { "searchWords": { "$regex": "^po" } });
    }

    #[test]
    fn relevance_scores_before_sorting_other_orders_after_paging() {
        let relevance = video_page(&query("tide", SearchSort::Relevance));
        assert!(relevance[1].contains_key("$set") && relevance[2].contains_key("$sort"));
        let newest = video_page(&query("tide", SearchSort::Newest));
        assert!(newest[1].contains_key("$sort") && newest[4].contains_key("$set"));
    }

    #[test]
    fn a_search_matches_once_then_pages_and_counts_the_matches() {
        let q = query("tide po", SearchSort::Newest);
        let search = video_search(&q);
        assert_eq!(search.len(), 2);
        assert_eq!(search[0], doc! { "$match": video_filter(&q) });
        let facet = search[1].get_document("$facet").unwrap();
        let page: Vec<Document> =
            facet.get_array("page").unwrap().iter().map(|s| s.as_document().unwrap().clone()).collect();
        assert_eq!(page, video_page(&q)[1..]);
        assert_eq!(facet.get_array("total").unwrap(), &vec![Bson::Document(doc! { "$count": "n" })]);
        let channels = channel_search(&q.text, 0, 10);
        assert_eq!(channels[0], doc! { "$match": channel_filter(&q.text) });
        assert!(channels[1].contains_key("$facet"));
    }

    #[test]
    fn suggestion_candidates_are_capped_before_anything_is_joined() {
        let text = SearchText::parse("tid").unwrap();
        let pipeline = suggestion_candidates(&text, 500);
        assert_eq!(pipeline[0], doc! { "$match": suggestion_filter(&text) });
        assert_eq!(pipeline[1], doc! { "$limit": 500_i64 });
        assert!(pipeline[2].contains_key("$project") && pipeline[3].contains_key("$lookup"));
    }

    #[test]
    fn query_words_reach_expressions_as_literals() {
        let page = video_page(&query("$where", SearchSort::Relevance));
        let text = format!("{:?}", page[1]);
        assert!(text.contains("$literal"), "{text}");
    }
}
