//! Search and discovery (docs/api.md §3.17): tags, the words text is matched by, search requests,
//! the relevance score, suggestions and related videos. One rule each, shared by both stores: the
//! stores find candidates through their indexes, and score and order them by the weights here.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

#[cfg(test)]
use super::choice::Choice;
use super::choice::choice;
use super::page::PageRequest;
use super::social::ChannelCard;
use super::time::Timestamp;
use super::video::Video;

/// At most this many tags on a video.
pub const MAX_TAGS: usize = 15;
/// Each tag has 1 to this many characters (after trimming and dropping a leading `#`).
pub const MAX_TAG_CHARS: usize = 30;
pub const INVALID_TAGS: &str = "tags must be at most 15, each 1 to 30 characters";
pub const QUERY_REQUIRED: &str = "Search query is required";
/// `GET /search/suggest`: `q` has 1 to this many characters.
pub const MAX_SUGGEST_CHARS: usize = 100;
/// Suggestions answered at most.
pub const SUGGESTIONS: usize = 10;
/// Only the first this many distinct words of a query are matched: a bound on the statement.
pub const MAX_QUERY_WORDS: usize = 16;
/// Suggestions and related videos rank at most this many candidates from the index (the first
/// found): a bound on their cost at any size (docs/decisions.md D22).
pub const CANDIDATES: u32 = 500;

/// How much a query word is worth by the best field it matches: the relevance rule.
pub const TITLE_WEIGHT: u32 = 3;
pub const TAG_WEIGHT: u32 = 2;
/// Description, or the owner's username or full name.
pub const OTHER_WEIGHT: u32 = 1;
/// A channel search word matching the username, else the full name.
pub const USERNAME_WEIGHT: u32 = 2;
pub const FULL_NAME_WEIGHT: u32 = 1;

/// A video's tags, normalised (docs/api.md §3.16.1): lowercase, trimmed, without a leading `#`,
/// duplicates removed, order kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Tags from one comma-separated string; `""` (or only spaces) is no tags. `None` when the list
    /// breaks a rule ([`INVALID_TAGS`]).
    pub fn parse(raw: &str) -> Option<Tags> {
        if raw.trim().is_empty() {
            return Some(Tags::default());
        }
        let mut tags: Vec<String> = Vec::new();
        for piece in raw.split(',') {
            let piece = piece.trim();
            let tag = piece.strip_prefix('#').unwrap_or(piece).trim().to_lowercase();
            let chars = tag.chars().count();
            if chars == 0 || chars > MAX_TAG_CHARS {
                return None;
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        (tags.len() <= MAX_TAGS).then_some(Tags(tags))
    }

    /// Tags as stored, trusted (a store's own record).
    pub fn from_stored(tags: Vec<String>) -> Tags {
        Tags(tags)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl utoipa::PartialSchema for Tags {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(utoipa::openapi::schema::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String))
            .max_items(Some(MAX_TAGS))
            .into()
    }
}

impl utoipa::ToSchema for Tags {}

/// Text folded the way matching compares it: accents removed (canonical decomposition without
/// combining marks), lowercase.
pub fn fold(text: &str) -> String {
    // ASCII has nothing to decompose: the same result, without the normalisation's lookups.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words of `text` as matching sees them: folded, split at anything not a letter or digit.
/// SQLite's `unicode61` tokenizer with `remove_diacritics 2` splits and folds the same way.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// The distinct words of `texts`, in order of first appearance.
pub fn distinct_words<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for text in texts {
        for word in words(text) {
            if !all.contains(&word) {
                all.push(word);
            }
        }
    }
    all
}

/// What a query matches: every word whole, and the last one also as a prefix (`tide po` finds
/// "Tide pools"). Made only from words, so no syntax of any index's query language gets through.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SearchText {
    /// Words matched whole, distinct, without the prefix.
    pub whole: Vec<String>,
    /// The last word, matched as the start of a word.
    pub prefix: String,
}

impl SearchText {
    /// The words of `q`; `None` when it has none (only punctuation or spaces).
    pub fn parse(q: &str) -> Option<SearchText> {
        let mut all = distinct_words([q]);
        all.truncate(MAX_QUERY_WORDS);
        let prefix = all.pop()?;
        Some(SearchText { whole: all, prefix })
    }

    /// Every word with whether it is the prefix, in order.
    pub fn terms(&self) -> impl Iterator<Item = (&str, bool)> {
        self.whole.iter().map(|w| (w.as_str(), false)).chain(std::iter::once((self.prefix.as_str(), true)))
    }
}

choice! {
    /// The order of search results.
    pub enum SearchSort for "sort" { Relevance = "relevance", Newest = "newest", Views = "views" }
}

choice! {
    /// A length class of videos.
    pub enum DurationFilter for "duration" { Short = "short", Medium = "medium", Long = "long" }
}

choice! {
    /// How recently videos were uploaded.
    pub enum UploadedFilter for "uploaded" { Hour = "hour", Day = "day", Week = "week", Month = "month", Year = "year" }
}

impl DurationFilter {
    /// Whether a video of `seconds` belongs to this class (`long` is more than 20 minutes).
    pub fn contains(self, seconds: f64) -> bool {
        match self {
            DurationFilter::Short => seconds < 240.0,
            DurationFilter::Medium => (240.0..=1200.0).contains(&seconds),
            DurationFilter::Long => seconds > 1200.0,
        }
    }
}

impl UploadedFilter {
    /// The earliest creation time this filter keeps, seen from `now`.
    pub fn since(self, now: Timestamp) -> Timestamp {
        const HOUR: i64 = 3_600_000;
        let span = match self {
            UploadedFilter::Hour => HOUR,
            UploadedFilter::Day => 24 * HOUR,
            UploadedFilter::Week => 7 * 24 * HOUR,
            UploadedFilter::Month => 30 * 24 * HOUR,
            UploadedFilter::Year => 365 * 24 * HOUR,
        };
        Timestamp(now.0 - span)
    }
}

/// `GET /search/videos` as parsed at the edge.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoSearch {
    /// `None` when `q` had no words: nothing matches.
    pub text: Option<SearchText>,
    pub sort: SearchSort,
    pub duration: Option<DurationFilter>,
    pub uploaded: Option<UploadedFilter>,
    pub page: PageRequest,
}

/// A search as the stores run it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VideoSearchQuery {
    pub text: SearchText,
    pub sort: SearchSort,
    pub duration: Option<DurationFilter>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    pub offset: u64,
    pub limit: u32,
}

/// A video found by a search, with its relevance.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SearchedVideo {
    #[serde(flatten)]
    pub video: Video,
    /// The relevance: higher is better (present for every sort).
    pub score: f64,
}

/// A channel found by a search, with its relevance.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct SearchedChannel {
    #[serde(flatten)]
    pub channel: ChannelCard,
    pub score: f64,
}

/// The relevance of a video for `text`, from the fields a word matches: each word counts by the
/// best of title, tags, other (description or owner). Both stores compute this same sum in their
/// queries; this is the rule they are tested against.
pub fn video_score(text: &SearchText, title: &[String], tags: &[String]) -> u32 {
    text.terms()
        .map(|(word, prefix)| {
            if matches(title, word, prefix) {
                TITLE_WEIGHT
            } else if matches(tags, word, prefix) {
                TAG_WEIGHT
            } else {
                OTHER_WEIGHT
            }
        })
        .sum()
}

/// What a search's order reads of a match (`SearchSort::order`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked<'a> {
    pub score: u32,
    pub views: i64,
    pub created_at: i64,
    /// The video's id as text: newer ids of the same millisecond sort first.
    pub id: &'a str,
}

impl SearchSort {
    /// The order of two matches, first ranked first: relevance is the score, then views; every
    /// order ends with the newest (creation, then id), so pages never overlap.
    pub fn order(self, a: &Ranked, b: &Ranked) -> std::cmp::Ordering {
        let newest = || (b.created_at, b.id).cmp(&(a.created_at, a.id));
        match self {
            SearchSort::Relevance => (b.score, b.views).cmp(&(a.score, a.views)).then_with(newest),
            SearchSort::Newest => newest(),
            SearchSort::Views => b.views.cmp(&a.views).then_with(newest),
        }
    }
}

/// Whether one of `words` is `word`, or starts with it when `prefix`.
pub fn matches(words: &[String], word: &str, prefix: bool) -> bool {
    words.iter().any(|w| if prefix { w.starts_with(word) } else { w == word })
}

/// A suggestion candidate: a listed video's title and tags, and its views.
#[derive(Clone, Debug)]
pub struct SuggestionSource {
    pub title: String,
    pub tags: Vec<String>,
    pub views: i64,
}

/// Up to [`SUGGESTIONS`] distinct lowercase titles and tags that start with `q`, or one of whose
/// words does (compared folded), most viewed first (ties alphabetical).
pub fn suggestions(q: &str, sources: &[SuggestionSource]) -> Vec<String> {
    let needle = words(q);
    let mut found: Vec<(String, i64)> = Vec::new();
    for source in sources {
        let phrases = std::iter::once(&source.title).chain(&source.tags);
        for phrase in phrases {
            if !starts_at_a_word(&words(phrase), &needle) {
                continue;
            }
            let phrase = phrase.to_lowercase();
            match found.iter_mut().find(|(p, _)| *p == phrase) {
                Some((_, views)) => *views = (*views).max(source.views),
                None => found.push((phrase, source.views)),
            }
        }
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    found.into_iter().take(SUGGESTIONS).map(|(phrase, _)| phrase).collect()
}

/// Whether `needle` (words, the last a prefix) occurs in `phrase` starting at one of its words.
fn starts_at_a_word(phrase: &[String], needle: &[String]) -> bool {
    let Some((last, whole)) = needle.split_last() else { return false };
    (0..phrase.len()).any(|start| {
        let rest = &phrase[start..];
        rest.len() > whole.len()
            && whole.iter().zip(rest).all(|(a, b)| a == b)
            && rest[whole.len()].starts_with(last.as_str())
    })
}

/// Words too common to relate two videos by their titles.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "de", "for", "from", "how", "i", "in", "is", "it", "la", "le",
    "my", "of", "on", "or", "the", "this", "to", "with", "you", "your",
];

/// What relates other videos to one: its tags and the words of its title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub tags: Vec<String>,
    pub title_words: Vec<String>,
}

impl Relation {
    pub fn of(title: &str, tags: &[String]) -> Relation {
        let mut title_words = distinct_words([title]);
        title_words.retain(|w| !STOP_WORDS.contains(&w.as_str()));
        title_words.truncate(MAX_QUERY_WORDS);
        let mut tags = tags.to_vec();
        tags.truncate(MAX_TAGS);
        Relation { tags, title_words }
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.title_words.is_empty()
    }

    /// How related a candidate is: shared tags count [`TAG_WEIGHT`], shared title words
    /// [`OTHER_WEIGHT`].
    pub fn score(&self, tags: &[String], title: &str) -> u32 {
        let shared_tags = self.tags.iter().filter(|t| tags.contains(t)).count() as u32;
        let candidate_words = words(title);
        let shared_words = self.title_words.iter().filter(|w| candidate_words.contains(w)).count() as u32;
        shared_tags * TAG_WEIGHT + shared_words * OTHER_WEIGHT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_checked() {
        let tags = Tags::parse(" #Rust , cooking,rust, Low Tide ").unwrap();
        assert_eq!(tags.as_slice(), ["rust", "cooking", "low tide"]);
        assert_eq!(Tags::parse("").unwrap(), Tags::default());
        assert_eq!(Tags::parse("   ").unwrap(), Tags::default());
        assert!(Tags::parse("a,,b").is_none());
        assert!(Tags::parse("#").is_none());
        assert!(Tags::parse(&"x".repeat(31)).is_none());
        assert!(Tags::parse(&"é".repeat(30)).is_some());
        let sixteen: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&sixteen.join(",")).is_none());
        // Duplicates are removed before counting.
        let repeated: Vec<String> = (0..20).map(|i| format!("t{}", i % 15)).collect();
        assert_eq!(Tags::parse(&repeated.join(",")).unwrap().as_slice().len(), 15);
    }

    #[test]
    fn ascii_folds_as_the_decomposition_does() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        let decomposed: String =
            every_ascii.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect();
        assert_eq!(fold(&every_ascii), decomposed);
        assert_eq!(fold("ÉCOLE Café"), "ecole cafe");
    }

    #[test]
    fn each_sort_orders_by_its_keys_then_newest() {
        let ranked = |score, views, created_at, id| Ranked { score, views, created_at, id };
        let mut all = [
            ranked(3, 5, 10, "b"),
            ranked(3, 9, 1, "a"),
            ranked(1, 99, 20, "c"),
            ranked(3, 5, 10, "c"),
            ranked(2, 0, 30, "d"),
        ];
        fn order<'a>(sort: SearchSort, all: &mut [Ranked<'a>]) -> Vec<&'a str> {
            all.sort_by(|a, b| sort.order(a, b));
            all.iter().map(|r| r.id).collect()
        }
        assert_eq!(order(SearchSort::Relevance, &mut all), ["a", "c", "b", "d", "c"]);
        assert_eq!(all[1], ranked(3, 5, 10, "c"), "same score, views and time: the larger id first");
        assert_eq!(order(SearchSort::Newest, &mut all), ["d", "c", "c", "b", "a"]);
        assert_eq!(order(SearchSort::Views, &mut all), ["c", "a", "c", "b", "d"]);
    }

    #[test]
    fn words_fold_case_and_accents_and_drop_punctuation() {
        assert_eq!(words("Café au LAIT!"), ["cafe", "au", "lait"]);
        assert_eq!(words("rock-n-roll, (live)"), ["rock", "n", "roll", "live"]);
        assert_eq!(words("Ñandú 2024"), ["nandu", "2024"]);
        assert!(words("*** ---").is_empty());
    }

    #[test]
    fn a_query_is_words_with_the_last_as_prefix() {
        let text = SearchText::parse("Tide  po").unwrap();
        assert_eq!(text.whole, ["tide"]);
        assert_eq!(text.prefix, "po");
        let text = SearchText::parse("title:x OR \"y\"*").unwrap();
        assert_eq!(text.whole, ["title", "x", "or"]);
        assert_eq!(text.prefix, "y");
        assert!(SearchText::parse("?!").is_none());
    }

    #[test]
    fn the_score_counts_each_word_by_its_best_field() {
        let text = SearchText::parse("tide pools").unwrap();
        let title = words("Pools at low tide");
        assert_eq!(video_score(&text, &title, &[]), 2 * TITLE_WEIGHT);
        let tags = vec!["tide".to_owned()];
        assert_eq!(video_score(&text, &words("Pools"), &tags), TITLE_WEIGHT + TAG_WEIGHT);
        assert_eq!(video_score(&text, &[], &[]), 2 * OTHER_WEIGHT);
        let prefix = SearchText::parse("tide po").unwrap();
        assert_eq!(video_score(&prefix, &title, &[]), 2 * TITLE_WEIGHT);
    }

    #[test]
    fn durations_and_upload_windows() {
        assert!(DurationFilter::Short.contains(239.9));
        assert!(!DurationFilter::Short.contains(240.0));
        assert!(DurationFilter::Medium.contains(240.0) && DurationFilter::Medium.contains(1200.0));
        assert!(DurationFilter::Long.contains(1200.5) && !DurationFilter::Long.contains(1200.0));
        assert_eq!(UploadedFilter::Day.since(Timestamp(100_000_000)).0, 100_000_000 - 86_400_000);
        assert_eq!(SearchSort::invalid(), "sort must be one of relevance, newest, views");
        assert_eq!(UploadedFilter::invalid(), "uploaded must be one of hour, day, week, month, year");
    }

    #[test]
    fn suggestions_start_at_words_and_prefer_views() {
        let source = |title: &str, tags: &[&str], views| SuggestionSource {
            title: title.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            views,
        };
        let sources = [
            source("Tide pools at dawn", &["ocean"], 5),
            source("Pools at low tide", &["tidal"], 50),
            source("Café tour", &["tide"], 1),
            source("Stide", &[], 100),
        ];
        assert_eq!(suggestions("tid", &sources), ["pools at low tide", "tidal", "tide pools at dawn", "tide"]);
        assert_eq!(suggestions("low ti", &sources), ["pools at low tide"]);
        assert_eq!(suggestions("CAFE", &sources), ["café tour"]);
    }

    #[test]
    fn relations_skip_stop_words() {
        let relation = Relation::of("The art of tide pools", &["ocean".to_owned()]);
        assert_eq!(relation.title_words, ["art", "tide", "pools"]);
        assert_eq!(relation.score(&["ocean".to_owned()], "Tide pools"), TAG_WEIGHT + 2 * OTHER_WEIGHT);
    }
}
