//! Builders for deletions that take other records with them (a video, an account, a comment, a
//! tweet, a playlist): how each record kind holds its references on MongoDB, and from that and the
//! registry's decisions (`store::records`), the steps of a deletion. The steps go children first and
//! the deleted records last, each an idempotent `deleteMany` or `updateMany`, so a retry after a
//! failure part-way finishes the job without a transaction.

use bson::oid::ObjectId;
use bson::{Document, doc};

use super::super::{Home, collection, home};
use super::Change;
use crate::store::records::{OnDelete, RecordKind};

/// How a stored record of one kind holds the id of a record it refers to.
#[derive(Clone, Copy)]
pub enum Ref {
    /// In a top-level field of its own document.
    Field(&'static str),
    /// By living inside that record's document (`Home::Within`): it goes with the document.
    Holder,
    /// As an entry of the array its `Home::Within` names, in every holder's document; `remove` is
    /// the update taking the given ids out of a holder.
    Entry { remove: fn(&[ObjectId]) -> Change },
    /// Inside its `_id` (view marks): nothing finds it by that id, it is left to expire.
    Key,
}

/// Where each reference of a kind (`RecordKind::references`) is held on MongoDB.
pub fn refs(kind: RecordKind) -> &'static [(RecordKind, Ref)] {
    use RecordKind::*;
    match kind {
        Users | ModerationActions | RequestBudgets => &[],
        Sessions => &[(Users, Ref::Holder)],
        Videos => &[(Users, Ref::Field("owner"))],
        ViewHours => &[(Videos, Ref::Field("video"))],
        Comments => &[(Videos, Ref::Field("video")), (Users, Ref::Field("owner")), (Comments, Ref::Field("parent"))],
        Tweets => &[(Users, Ref::Field("owner"))],
        Likes => &[
            (Comments, Ref::Field("comment")),
            (Tweets, Ref::Field("tweet")),
            (Videos, Ref::Field("video")),
            (Users, Ref::Field("likedBy")),
        ],
        Subscriptions => &[(Users, Ref::Field("subscriber")), (Users, Ref::Field("channel"))],
        Playlists => &[(Users, Ref::Field("owner"))],
        PlaylistEntries => {
            &[(Playlists, Ref::Holder), (Videos, Ref::Entry { remove: super::playlists::without_videos })]
        }
        WatchHistory => &[(Users, Ref::Holder), (Videos, Ref::Entry { remove: super::history::without_videos })],
        Reports => &[(Users, Ref::Field("reporter"))],
        Blocks => &[(Users, Ref::Field("blocker")), (Users, Ref::Field("blocked"))],
        // Kept under the account's own id.
        NotificationSettings => &[(Users, Ref::Field("_id"))],
        Notifications => &[
            (Comments, Ref::Field("comment")),
            (Videos, Ref::Field("video")),
            (Users, Ref::Field("recipient")),
            (Users, Ref::Field("actor")),
        ],
        ViewMarks => &[(Users, Ref::Key), (Videos, Ref::Key)],
    }
}

/// The ids of the records a deletion removes: the deleted ones, and those of every removed kind
/// that another removed kind refers to (read before anything goes).
#[derive(Debug, Default)]
pub struct Removed(Vec<(RecordKind, Vec<ObjectId>)>);

impl Removed {
    pub fn new(kind: RecordKind, ids: Vec<ObjectId>) -> Self {
        Removed(vec![(kind, ids)])
    }

    pub fn insert(&mut self, kind: RecordKind, ids: Vec<ObjectId>) {
        self.0.retain(|(known, _)| *known != kind);
        self.0.push((kind, ids));
    }

    pub fn of(&self, kind: RecordKind) -> &[ObjectId] {
        self.0.iter().find(|(known, _)| *known == kind).map_or(&[], |(_, ids)| ids)
    }
}

/// One step of a deletion: what it does to which documents, and for which kind of record.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub kind: RecordKind,
    pub collection: &'static str,
    pub filter: Document,
    pub change: Change,
}

fn any_of(field: &str, ids: &[ObjectId]) -> Document {
    doc! { field: { "$in": ids } }
}

/// Whether deleting records of `root` needs the ids of the `kind` records it removes beforehand:
/// another removed kind refers to them by a field or an entry.
pub fn needs_ids(root: RecordKind, kind: RecordKind) -> bool {
    kind != root
        && kind.on_deleted(root) == OnDelete::Removed
        && RecordKind::ALL.into_iter().any(|child| {
            child.on_deleted(root).removes()
                && refs(child)
                    .iter()
                    .any(|(parent, by)| *parent == kind && matches!(by, Ref::Field(_) | Ref::Entry { .. }))
        })
}

/// The filter finding the `kind` records that refer by a field to `ids` of their own kind (the
/// replies of comments); `None` for a kind that does not refer to itself. A deletion removes them
/// with the records they refer to, as records of the same decision.
pub fn own_referrers(kind: RecordKind, ids: &[ObjectId]) -> Option<Document> {
    refs(kind).iter().find_map(|(parent, by)| match by {
        Ref::Field(field) if *parent == kind && !ids.is_empty() => Some(any_of(field, ids)),
        _ => None,
    })
}

/// Filters finding the `kind` records that refer to `removed` ones by a field, one per reference
/// so that each is served by its own index.
pub fn referring(kind: RecordKind, removed: &Removed) -> Vec<Document> {
    refs(kind)
        .iter()
        .filter_map(|(parent, by)| match by {
            Ref::Field(field) if !removed.of(*parent).is_empty() => Some(any_of(field, removed.of(*parent))),
            _ => None,
        })
        .collect()
}

/// The steps taking the `kind` records that refer to `removed` ones away: a deletion per field,
/// an update of the holders per entry; records inside a removed holder go with it, keyed ones expire.
fn removal(kind: RecordKind, removed: &Removed) -> Vec<Step> {
    refs(kind)
        .iter()
        .filter(|(parent, _)| !removed.of(*parent).is_empty())
        .filter_map(|(parent, by)| {
            let ids = removed.of(*parent);
            let (filter, change) = match (by, home(kind)) {
                (Ref::Field(field), _) => (any_of(field, ids), Change::Delete),
                (Ref::Entry { remove }, Home::Within { field, .. }) => (any_of(field, ids), remove(ids)),
                (Ref::Entry { .. }, Home::Collection(_)) | (Ref::Holder | Ref::Key, _) => return None,
            };
            Some(Step { kind, collection: collection(kind), filter, change })
        })
        .collect()
}

/// The steps deleting the `root` records in `removed` and everything the registry says goes with
/// them: each kind before the kinds it refers to (the reverse of `RecordKind::ALL`), the root
/// records themselves last.
pub fn steps(root: RecordKind, removed: &Removed) -> Vec<Step> {
    let mut steps = Vec::new();
    for kind in RecordKind::ALL.into_iter().rev() {
        match kind.on_deleted(root) {
            // Entries inside another record's document are deleted by their own area's updates.
            OnDelete::Itself if matches!(home(kind), Home::Collection(_)) && !removed.of(kind).is_empty() => {
                // Records of the root's own kind that refer to it (replies) go just before it, also
                // those written after its ids were read.
                if let Some(filter) = own_referrers(kind, removed.of(kind)) {
                    steps.push(Step { kind, collection: collection(kind), filter, change: Change::Delete });
                }
                steps.push(Step {
                    kind,
                    collection: collection(kind),
                    filter: any_of("_id", removed.of(kind)),
                    change: Change::Delete,
                })
            }
            OnDelete::Removed => steps.extend(removal(kind, removed)),
            OnDelete::Itself | OnDelete::Expires | OnDelete::Kept => {}
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    fn step(kind: RecordKind, collection: &'static str, filter: Document, change: Change) -> Step {
        Step { kind, collection, filter, change }
    }

    #[test]
    fn every_reference_of_the_registry_is_held_somewhere() {
        for kind in RecordKind::ALL {
            let mut held: Vec<RecordKind> = refs(kind).iter().map(|(parent, _)| *parent).collect();
            held.sort();
            held.dedup();
            assert_eq!(held.len(), kind.references().len(), "{kind:?}");
            assert!(held.iter().all(|parent| kind.references().contains(parent)), "{kind:?}");
            for (parent, by) in refs(kind) {
                match (by, home(kind)) {
                    (Ref::Holder, Home::Within { holder, .. }) => assert_eq!(holder, *parent, "{kind:?}"),
                    (Ref::Entry { .. }, Home::Within { .. }) | (Ref::Field(_) | Ref::Key, Home::Collection(_)) => {}
                    _ => panic!("{kind:?} refers to {parent:?} in a way its home cannot hold"),
                }
            }
        }
    }

    #[test]
    fn every_removed_kind_has_a_step_or_goes_with_its_holder() {
        let all: Vec<ObjectId> = (1..=20).map(id).collect();
        for root in RecordKind::ALL.into_iter().filter(|kind| matches!(home(*kind), Home::Collection(_))) {
            let mut removed = Removed::default();
            for kind in RecordKind::ALL {
                if kind == root || needs_ids(root, kind) {
                    removed.insert(kind, all.clone());
                    assert!(matches!(home(kind), Home::Collection(_)), "{kind:?}: ids are read from a collection");
                }
            }
            let steps = steps(root, &removed);
            for kind in RecordKind::ALL {
                let touched = steps.iter().any(|s| s.kind == kind);
                let in_removed_holder =
                    matches!(home(kind), Home::Within { holder, .. } if holder.on_deleted(root).removes());
                if kind.on_deleted(root).removes() && !in_removed_holder {
                    assert!(touched, "deleting {root:?}: no step removes {kind:?}");
                }
                if !kind.on_deleted(root).removes() {
                    assert!(!touched, "deleting {root:?} touches {kind:?}");
                }
            }
            assert_eq!(steps.last().map(|s| s.kind), Some(root), "deleting {root:?}: the root goes last");
            for s in &steps {
                assert_eq!(s.collection, collection(s.kind));
            }
        }
    }

    #[test]
    fn deleting_videos_removes_children_before_the_videos() {
        let (video, comment) = (id(6), id(7));
        assert!(needs_ids(RecordKind::Videos, RecordKind::Comments), "likes on the comments go too");
        assert!(!needs_ids(RecordKind::Videos, RecordKind::Tweets));
        let mut removed = Removed::new(RecordKind::Videos, vec![video]);
        removed.insert(RecordKind::Comments, vec![comment]);
        assert_eq!(
            referring(RecordKind::Comments, &removed),
            [doc! { "video": { "$in": [video] } }, doc! { "parent": { "$in": [comment] } }],
            "the video's comments, and the replies in their threads"
        );
        assert_eq!(
            steps(RecordKind::Videos, &removed),
            [
                step(
                    RecordKind::Notifications,
                    "notifications",
                    doc! { "comment": { "$in": [comment] } },
                    Change::Delete
                ),
                step(RecordKind::Notifications, "notifications", doc! { "video": { "$in": [video] } }, Change::Delete),
                step(
                    RecordKind::WatchHistory,
                    "users",
                    doc! { "watchHistory": { "$in": [video] } },
                    Change::Pipeline(super::super::history::forget_watches(&[video]))
                ),
                step(
                    RecordKind::PlaylistEntries,
                    "playlists",
                    doc! { "videos": { "$in": [video] } },
                    Change::Update(doc! { "$pull": { "videos": { "$in": [video] } } })
                ),
                step(RecordKind::Likes, "likes", doc! { "comment": { "$in": [comment] } }, Change::Delete),
                step(RecordKind::Likes, "likes", doc! { "video": { "$in": [video] } }, Change::Delete),
                step(RecordKind::Comments, "comments", doc! { "video": { "$in": [video] } }, Change::Delete),
                step(RecordKind::Comments, "comments", doc! { "parent": { "$in": [comment] } }, Change::Delete),
                step(RecordKind::ViewHours, "viewHours", doc! { "video": { "$in": [video] } }, Change::Delete),
                step(RecordKind::Videos, "videos", doc! { "_id": { "$in": [video] } }, Change::Delete),
            ]
        );
        assert_eq!(steps(RecordKind::Videos, &Removed::new(RecordKind::Videos, Vec::new())), []);
    }

    #[test]
    fn deleting_an_account_removes_everything_it_owns_and_the_user_last() {
        let (user, video, comment, tweet) = (id(1), id(2), id(3), id(4));
        let needed: Vec<RecordKind> =
            RecordKind::ALL.into_iter().filter(|kind| needs_ids(RecordKind::Users, *kind)).collect();
        assert_eq!(needed, [RecordKind::Videos, RecordKind::Comments, RecordKind::Tweets]);
        let mut removed = Removed::new(RecordKind::Users, vec![user]);
        removed.insert(RecordKind::Videos, vec![video]);
        assert_eq!(
            referring(RecordKind::Comments, &removed),
            [doc! { "video": { "$in": [video] } }, doc! { "owner": { "$in": [user] } }],
            "comments on the account's videos, and the account's comments"
        );
        removed.insert(RecordKind::Comments, vec![comment]);
        removed.insert(RecordKind::Tweets, vec![tweet]);
        let steps = steps(RecordKind::Users, &removed);
        let done: Vec<(&str, Document)> = steps.iter().map(|s| (s.collection, s.filter.clone())).collect();
        assert_eq!(
            done,
            [
                ("notifications", doc! { "comment": { "$in": [comment] } }),
                ("notifications", doc! { "video": { "$in": [video] } }),
                ("notifications", doc! { "recipient": { "$in": [user] } }),
                ("notifications", doc! { "actor": { "$in": [user] } }),
                ("notificationSettings", doc! { "_id": { "$in": [user] } }),
                ("blocks", doc! { "blocker": { "$in": [user] } }),
                ("blocks", doc! { "blocked": { "$in": [user] } }),
                ("reports", doc! { "reporter": { "$in": [user] } }),
                ("users", doc! { "watchHistory": { "$in": [video] } }),
                ("playlists", doc! { "videos": { "$in": [video] } }),
                ("playlists", doc! { "owner": { "$in": [user] } }),
                ("subscriptions", doc! { "subscriber": { "$in": [user] } }),
                ("subscriptions", doc! { "channel": { "$in": [user] } }),
                ("likes", doc! { "comment": { "$in": [comment] } }),
                ("likes", doc! { "tweet": { "$in": [tweet] } }),
                ("likes", doc! { "video": { "$in": [video] } }),
                ("likes", doc! { "likedBy": { "$in": [user] } }),
                ("tweets", doc! { "owner": { "$in": [user] } }),
                ("comments", doc! { "video": { "$in": [video] } }),
                ("comments", doc! { "owner": { "$in": [user] } }),
                ("comments", doc! { "parent": { "$in": [comment] } }),
                ("viewHours", doc! { "video": { "$in": [video] } }),
                ("videos", doc! { "owner": { "$in": [user] } }),
                ("users", doc! { "_id": { "$in": [user] } }),
            ]
        );
        let updates: Vec<&str> = steps.iter().filter(|s| s.change != Change::Delete).map(|s| s.collection).collect();
        assert_eq!(updates, ["users", "playlists"], "only entries (history, playlist videos) are updated");
    }

    #[test]
    fn deleting_a_comment_or_a_tweet_takes_its_likes() {
        let done = |root: RecordKind, ids: Vec<ObjectId>| -> Vec<(&str, Document)> {
            steps(root, &Removed::new(root, ids)).iter().map(|s| (s.collection, s.filter.clone())).collect()
        };
        assert_eq!(
            done(RecordKind::Tweets, vec![id(5)]),
            [("likes", doc! { "tweet": { "$in": [id(5)] } }), ("tweets", doc! { "_id": { "$in": [id(5)] } })]
        );
        // A thread: the comment and its replies (read beforehand), their likes, then replies written since.
        let thread = vec![id(5), id(8)];
        assert_eq!(
            done(RecordKind::Comments, thread.clone()),
            [
                ("notifications", doc! { "comment": { "$in": thread.clone() } }),
                ("likes", doc! { "comment": { "$in": thread.clone() } }),
                ("comments", doc! { "parent": { "$in": thread.clone() } }),
                ("comments", doc! { "_id": { "$in": thread.clone() } }),
            ]
        );
        assert_eq!(own_referrers(RecordKind::Comments, &[id(5)]), Some(doc! { "parent": { "$in": [id(5)] } }));
        assert_eq!(own_referrers(RecordKind::Tweets, &[id(5)]), None);
        assert_eq!(own_referrers(RecordKind::Comments, &[]), None);
        let playlist = steps(RecordKind::Playlists, &Removed::new(RecordKind::Playlists, vec![id(6)]));
        assert_eq!(playlist.len(), 1, "its entries live inside it");
    }
}
