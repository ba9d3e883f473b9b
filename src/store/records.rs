//! The registry of record kinds: every kind of record a store keeps, and the decisions each kind
//! needs whatever the store. Every decision is an exhaustive `match`, so a kind added here does not
//! build until each is made: what it refers to, what deleting a video or an account does to it, and
//! whether and in what order `videotube migrate` copies it. Each store then answers its own
//! questions per kind with exhaustive matches of its own (on MongoDB: where the kind lives, how it
//! holds its references, its indexes), and its cascades and copies follow from both.
//!
//! Derived state is not a record kind: SQLite's counter tables are kept by triggers from the records
//! they count, and go (or are rebuilt) with them.

/// A kind of stored record, on either store (some live inside another kind's record on one store
/// and in a table of their own on the other, such as sessions and history entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKind {
    Users,
    /// A login on one device (a refresh grant).
    Sessions,
    /// A video with its processing job (the job is part of the video).
    Videos,
    /// The views of one video counted in one hour (trending).
    ViewHours,
    Comments,
    Tweets,
    /// A like of a video, a comment or a tweet.
    Likes,
    Subscriptions,
    Playlists,
    /// One video in a playlist, in order.
    PlaylistEntries,
    /// One video in a user's watch history, with its latest watch.
    WatchHistory,
    /// A user's report of a video, comment, tweet or user. Its target is not a reference: the
    /// report outlives it (the moderation queue shows a deleted target as gone).
    Reports,
    /// One entry of the append-only moderation log. Its moderator and target are not references:
    /// the log keeps every action whatever is deleted later.
    ModerationActions,
    /// That a user hides another from their channel.
    Blocks,
    /// Which kinds of notification a user wants.
    NotificationSettings,
    /// Something a user is told of: who did it (the actor), to what (a video, a comment).
    Notifications,
    /// That a viewer's view of a video was counted, until its window is over (MongoDB only: SQLite
    /// keeps it in memory).
    ViewMarks,
    /// A client's requests in a rate-limit window (MongoDB only, as view marks).
    RequestBudgets,
}

/// What deleting a record (a video, an account) does to the records of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDelete {
    /// The deleted record itself: it goes last, after everything that goes with it, so a failure
    /// part-way leaves it in place and a retry finishes the job.
    Itself,
    /// Removed too: the records that refer to it, or to a record removed with it. Each kind goes
    /// before the kinds it refers to (children before parents), one idempotent step at a time, no
    /// transaction needed.
    Removed,
    /// Left to run out: short-lived records keyed by it that disappear within their window.
    Expires,
    /// Untouched: it refers neither to the deleted record nor to anything removed with it.
    Kept,
}

impl OnDelete {
    /// Whether records of the kind are gone once the deletion is done.
    pub const fn removes(self) -> bool {
        matches!(self, OnDelete::Itself | OnDelete::Removed)
    }
}

/// Whether and how `videotube migrate` copies a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copied {
    /// As a kind of its own: a `transfer::Kind`, copied in `RecordKind::ALL` order.
    Own(Kind),
    /// Inside the records of another kind (a user's sessions, a video's view hours, a playlist's entries).
    Within(RecordKind),
    /// Not at all: short-lived state that fills again by itself.
    No,
}

impl RecordKind {
    /// Every kind, each after the kinds it refers to: `migrate` copies in this order, and the
    /// cascades delete in the reverse one (children first).
    pub const ALL: [RecordKind; 18] = [
        RecordKind::Users,
        RecordKind::Sessions,
        RecordKind::Videos,
        RecordKind::ViewHours,
        RecordKind::Comments,
        RecordKind::Tweets,
        RecordKind::Likes,
        RecordKind::Subscriptions,
        RecordKind::Playlists,
        RecordKind::PlaylistEntries,
        RecordKind::WatchHistory,
        RecordKind::Reports,
        RecordKind::ModerationActions,
        RecordKind::Blocks,
        RecordKind::NotificationSettings,
        RecordKind::Notifications,
        RecordKind::ViewMarks,
        RecordKind::RequestBudgets,
    ];

    /// The kinds whose ids a record of this kind holds.
    pub const fn references(self) -> &'static [RecordKind] {
        use RecordKind::*;
        match self {
            Users => &[],
            Sessions => &[Users],
            Videos => &[Users],
            ViewHours => &[Videos],
            // A reply also refers to its thread, a comment: the one kind that refers to itself.
            Comments => &[Videos, Users, Comments],
            Tweets => &[Users],
            Likes => &[Users, Videos, Comments, Tweets],
            // Both the subscriber and the channel are users.
            Subscriptions => &[Users],
            Playlists => &[Users],
            PlaylistEntries => &[Playlists, Videos],
            WatchHistory => &[Users, Videos],
            // The reporter.
            Reports => &[Users],
            ModerationActions => &[],
            // The blocker and the blocked user.
            Blocks => &[Users],
            NotificationSettings => &[Users],
            // The recipient and the actor; the video and the comment it points to, if any.
            Notifications => &[Users, Videos, Comments],
            // Keyed by the viewer (a user or an address) and the video.
            ViewMarks => &[Users, Videos],
            // Keyed by scope and client address.
            RequestBudgets => &[],
        }
    }

    /// What deleting a video does to records of this kind (docs/api.md §3.4.5: its likes, its
    /// comments and their likes, its entries in every playlist and history, and its hourly views).
    pub const fn on_video_deleted(self) -> OnDelete {
        match self {
            RecordKind::Videos => OnDelete::Itself,
            RecordKind::ViewHours
            | RecordKind::Comments
            | RecordKind::Likes
            | RecordKind::PlaylistEntries
            | RecordKind::WatchHistory
            | RecordKind::Notifications => OnDelete::Removed,
            // A new view of a video id that no longer exists is never counted.
            RecordKind::ViewMarks => OnDelete::Expires,
            RecordKind::Users
            | RecordKind::Sessions
            | RecordKind::Tweets
            | RecordKind::Subscriptions
            | RecordKind::Playlists
            | RecordKind::Reports
            | RecordKind::ModerationActions
            | RecordKind::Blocks
            | RecordKind::NotificationSettings
            | RecordKind::RequestBudgets => OnDelete::Kept,
        }
    }

    /// What deleting an account does to records of this kind (docs/api.md §3.3.10: everything the
    /// user owns, and with their videos everything a deleted video takes).
    pub const fn on_account_deleted(self) -> OnDelete {
        match self {
            RecordKind::Users => OnDelete::Itself,
            RecordKind::Sessions
            | RecordKind::Videos
            | RecordKind::ViewHours
            | RecordKind::Comments
            | RecordKind::Tweets
            | RecordKind::Likes
            | RecordKind::Subscriptions
            | RecordKind::Playlists
            | RecordKind::PlaylistEntries
            | RecordKind::WatchHistory
            | RecordKind::Reports
            | RecordKind::Blocks
            | RecordKind::NotificationSettings
            | RecordKind::Notifications => OnDelete::Removed,
            RecordKind::ViewMarks => OnDelete::Expires,
            RecordKind::ModerationActions | RecordKind::RequestBudgets => OnDelete::Kept,
        }
    }

    /// What deleting a record of `root` does to records of this kind: the decisions above for a
    /// video and an account; for any other record (a comment, a tweet, a playlist), whatever refers
    /// to it, directly or through something removed with it, goes with it.
    pub fn on_deleted(self, root: RecordKind) -> OnDelete {
        match root {
            RecordKind::Videos => self.on_video_deleted(),
            RecordKind::Users => self.on_account_deleted(),
            _ if self == root => OnDelete::Itself,
            // A reference to its own kind (a reply's thread) decides nothing new: such records go
            // with the records they refer to, whatever removes those.
            _ if self.references().iter().any(|parent| *parent != self && parent.on_deleted(root).removes()) => {
                OnDelete::Removed
            }
            _ => OnDelete::Kept,
        }
    }

    /// Whether and how `videotube migrate` copies records of this kind.
    pub const fn copied(self) -> Copied {
        match self {
            RecordKind::Users => Copied::Own(Kind::Users),
            RecordKind::Sessions => Copied::Within(RecordKind::Users),
            RecordKind::Videos => Copied::Own(Kind::Videos),
            RecordKind::ViewHours => Copied::Within(RecordKind::Videos),
            RecordKind::Comments => Copied::Own(Kind::Comments),
            RecordKind::Tweets => Copied::Own(Kind::Tweets),
            RecordKind::Likes => Copied::Own(Kind::Likes),
            RecordKind::Subscriptions => Copied::Own(Kind::Subscriptions),
            RecordKind::Playlists => Copied::Own(Kind::Playlists),
            RecordKind::PlaylistEntries => Copied::Within(RecordKind::Playlists),
            RecordKind::WatchHistory => Copied::Own(Kind::WatchHistory),
            RecordKind::Reports => Copied::Own(Kind::Reports),
            RecordKind::ModerationActions => Copied::Own(Kind::ModerationActions),
            RecordKind::Blocks => Copied::Own(Kind::Blocks),
            RecordKind::NotificationSettings => Copied::Own(Kind::NotificationSettings),
            RecordKind::Notifications => Copied::Own(Kind::Notifications),
            RecordKind::ViewMarks | RecordKind::RequestBudgets => Copied::No,
        }
    }
}

impl Kind {
    /// The record kind a copied kind is.
    pub const fn record(self) -> RecordKind {
        match self {
            Kind::Users => RecordKind::Users,
            Kind::Videos => RecordKind::Videos,
            Kind::Comments => RecordKind::Comments,
            Kind::Tweets => RecordKind::Tweets,
            Kind::Likes => RecordKind::Likes,
            Kind::Subscriptions => RecordKind::Subscriptions,
            Kind::Playlists => RecordKind::Playlists,
            Kind::WatchHistory => RecordKind::WatchHistory,
            Kind::Reports => RecordKind::Reports,
            Kind::ModerationActions => RecordKind::ModerationActions,
            Kind::Blocks => RecordKind::Blocks,
            Kind::NotificationSettings => RecordKind::NotificationSettings,
            Kind::Notifications => RecordKind::Notifications,
        }
    }
}

/// The kinds copied on their own, in registry order: `transfer::Kind::ALL`. Evaluated while
/// compiling, so a copied kind missing from `Kind::ALL`'s length (or one too many) stops the build.
pub(crate) const fn copied_kinds<const N: usize>() -> [Kind; N] {
    let mut kinds = [Kind::Users; N];
    let (mut i, mut n) = (0, 0);
    while i < RecordKind::ALL.len() {
        if let Copied::Own(kind) = RecordKind::ALL[i].copied() {
            assert!(n < N, "more record kinds are copied on their own than transfer::Kind::ALL holds");
            kinds[n] = kind;
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "fewer record kinds are copied on their own than transfer::Kind::ALL holds");
    kinds
}

/// What is copied as a kind of its own, in an order where every reference points at something
/// already copied. Each is a record kind of the registry (`Kind::record`, `RecordKind::copied`),
/// whose order `ALL` follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Users,
    Videos,
    Comments,
    Tweets,
    Likes,
    Subscriptions,
    Playlists,
    WatchHistory,
    Reports,
    ModerationActions,
    Blocks,
    NotificationSettings,
    Notifications,
}

impl Kind {
    pub const ALL: [Kind; 13] = copied_kinds();

    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Videos => "videos",
            Kind::Comments => "comments",
            Kind::Tweets => "tweets",
            Kind::Likes => "likes",
            Kind::Subscriptions => "subscriptions",
            Kind::Playlists => "playlists",
            Kind::WatchHistory => "watch histories",
            Kind::Reports => "reports",
            Kind::ModerationActions => "moderation actions",
            Kind::Blocks => "blocks",
            Kind::NotificationSettings => "notification settings",
            Kind::Notifications => "notifications",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(kind: RecordKind) -> usize {
        RecordKind::ALL.iter().position(|k| *k == kind).unwrap()
    }

    #[test]
    fn every_kind_is_listed_once() {
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::ALL.iter().filter(|k| **k == kind).count(), 1, "{kind:?}");
        }
    }

    #[test]
    fn every_referenced_kind_comes_before_its_referrers() {
        for kind in RecordKind::ALL {
            for parent in kind.references().iter().filter(|parent| **parent != kind) {
                assert!(position(*parent) < position(kind), "{kind:?} refers to {parent:?}, listed after it");
            }
        }
        // Records of a kind that refers to itself (replies to comments) are copied and removed with
        // the parents among them first: `migrate` copies in id order, a reply after its thread.
        let own: Vec<RecordKind> = RecordKind::ALL.into_iter().filter(|k| k.references().contains(k)).collect();
        assert_eq!(own, [RecordKind::Comments]);
    }

    /// The rules every deletion's decisions keep, for the deletion of a record of `root`.
    fn check_deletion(root: RecordKind) {
        let decision = |kind: RecordKind| kind.on_deleted(root);
        for kind in RecordKind::ALL {
            assert_eq!(decision(kind) == OnDelete::Itself, kind == root, "{kind:?} on deleting {root:?}");
            // A reference to its own kind (a reply's thread) follows from the others.
            let refers_to_removed =
                kind.references().iter().any(|parent| *parent != kind && decision(*parent).removes());
            if refers_to_removed {
                assert!(
                    matches!(decision(kind), OnDelete::Removed | OnDelete::Expires),
                    "{kind:?} refers to what deleting {root:?} removes, yet is {:?}",
                    decision(kind)
                );
            }
            if decision(kind) == OnDelete::Removed {
                assert!(refers_to_removed, "{kind:?} is removed on deleting {root:?} but refers to nothing removed");
            }
        }
    }

    #[test]
    fn every_kind_that_refers_to_a_video_goes_with_it() {
        check_deletion(RecordKind::Videos);
        assert_eq!(RecordKind::Likes.on_video_deleted(), OnDelete::Removed, "likes on the video and its comments");
    }

    #[test]
    fn every_kind_that_refers_to_a_user_goes_with_the_account() {
        check_deletion(RecordKind::Users);
        for kind in RecordKind::ALL {
            if kind.on_video_deleted().removes() {
                assert!(kind.on_account_deleted().removes(), "{kind:?}: the account's videos go with it");
            }
        }
    }

    #[test]
    fn deleting_any_other_record_removes_what_refers_to_it() {
        for root in RecordKind::ALL {
            check_deletion(root);
        }
        let on_comment = |kind: RecordKind| kind.on_deleted(RecordKind::Comments);
        assert_eq!(on_comment(RecordKind::Likes), OnDelete::Removed);
        assert_eq!(on_comment(RecordKind::Comments), OnDelete::Itself, "its replies go with it, as itself");
        assert_eq!(on_comment(RecordKind::Videos), OnDelete::Kept);
        assert_eq!(RecordKind::PlaylistEntries.on_deleted(RecordKind::Playlists), OnDelete::Removed);
    }

    #[test]
    fn migrate_copies_every_kind_it_copies_after_what_it_refers_to() {
        assert!(Kind::ALL.map(Kind::record).map(position).is_sorted(), "Kind::ALL follows the registry");
        for kind in Kind::ALL {
            assert_eq!(kind.record().copied(), Copied::Own(kind), "{kind:?}");
        }
        for kind in RecordKind::ALL {
            match kind.copied() {
                Copied::Own(copied) => assert!(Kind::ALL.contains(&copied), "{kind:?}"),
                Copied::Within(holder) => {
                    assert!(kind.references().contains(&holder), "{kind:?} is copied inside {holder:?}");
                    assert!(matches!(holder.copied(), Copied::Own(_)), "{holder:?} holds {kind:?}");
                }
                Copied::No => {}
            }
            // What a copied record refers to is copied first (or is the record holding it).
            if kind.copied() != Copied::No {
                for parent in kind.references() {
                    assert_ne!(parent.copied(), Copied::No, "{kind:?} refers to {parent:?}, never copied");
                }
            }
        }
    }
}
