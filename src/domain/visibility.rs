//! Who may see a video, and where it is shown (docs/api.md §1.12): the one rule. The stores turn
//! [`Place::levels`] into their query languages (`store::sqlite::visible_sql`,
//! `store::mongo::queries::visible_to`), and tests check both against [`may_see`].

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Ref, Schema, Type};

use super::Id;

/// A video's visibility level. `isPublished` is `Public` (the original API's one boolean).
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
}

/// Every level, in the order the API names them.
pub const ALL_LEVELS: &[Visibility] = &[Visibility::Public, Visibility::Unlisted, Visibility::Private];

/// 400 message for any other value of a `visibility` input.
pub const INVALID_VISIBILITY: &str = "visibility must be one of public, unlisted, private";

impl Visibility {
    /// The level named exactly (lowercase, untrimmed); `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        ALL_LEVELS.iter().copied().find(|level| level.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
        }
    }

    pub fn is_published(self) -> bool {
        self == Visibility::Public
    }

    /// The level a record of the original API's shape holds: a stored level counts only while the
    /// video is not published (an instance of the original API may have toggled `isPublished` on
    /// a document this API wrote), and a video without one is public or private.
    pub fn from_stored(is_published: bool, stored: Option<&str>) -> Self {
        match (is_published, stored.and_then(Visibility::parse)) {
            (true, _) => Visibility::Public,
            (false, Some(Visibility::Unlisted)) => Visibility::Unlisted,
            (false, _) => Visibility::Private,
        }
    }

    /// The publish toggle: public becomes private, private or unlisted becomes public.
    pub fn toggled(self) -> Self {
        match self {
            Visibility::Public => Visibility::Private,
            Visibility::Unlisted | Visibility::Private => Visibility::Public,
        }
    }
}

/// Where a video is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// Opened by its id (the video, its comments and likes, adding it to a playlist), or in a list
    /// built from ids someone knew: watch history, liked videos, playlists.
    ByLink,
    /// A channel's listing of its own videos: `GET /videos?userId=`, the dashboard.
    Channel,
    /// Site listings: the feed and search, trending, the subscription feed, channel cards'
    /// `latestVideo`.
    Listing,
}

impl Place {
    /// The levels a viewer sees here: `owns` whether the viewer owns the video.
    pub fn levels(self, owns: bool) -> &'static [Visibility] {
        match (self, owns) {
            (Place::Listing, _) | (Place::Channel, false) => &[Visibility::Public],
            (Place::ByLink, false) => &[Visibility::Public, Visibility::Unlisted],
            (Place::ByLink | Place::Channel, true) => ALL_LEVELS,
        }
    }
}

/// The level a video is listed at: its own, or private while moderation hides it (removed, or its
/// owner suspended; docs/api.md §3.15.3). The stores keep this level where every list reads it, and
/// the owner's own level beside it while hidden.
pub fn listed(own: Visibility, hidden_by_moderation: bool) -> Visibility {
    if hidden_by_moderation { Visibility::Private } else { own }
}

/// The rule: may `viewer` (`None` = anonymous) see a video of `owner` at `visibility` in `place`?
pub fn may_see(visibility: Visibility, owner: Id, viewer: Option<Id>, place: Place) -> bool {
    place.levels(viewer == Some(owner)).contains(&visibility)
}

/// Writes a video's level under `visibility` and `isPublished` (for clients of the original API).
pub fn serialize_with_published<S: Serializer>(visibility: &Visibility, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(2))?;
    map.serialize_entry("visibility", visibility)?;
    map.serialize_entry("isPublished", &visibility.is_published())?;
    map.end()
}

/// The schema of [`serialize_with_published`]'s two keys.
pub fn schema_with_published() -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("visibility", Ref::from_schema_name(Visibility::name()))
        .property(
            "isPublished",
            ObjectBuilder::new().schema_type(Type::Boolean).description(Some("`visibility` is `public`")),
        )
        .required("visibility")
        .required("isPublished")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_exact_words_parse() {
        for level in ALL_LEVELS {
            assert_eq!(Visibility::parse(level.as_str()), Some(*level));
        }
        for raw in ["", "Public", "PRIVATE", " public", "unlisted ", "hidden"] {
            assert_eq!(Visibility::parse(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn the_publish_toggle_and_the_published_flag() {
        assert_eq!(Visibility::Public.toggled(), Visibility::Private);
        assert_eq!(Visibility::Private.toggled(), Visibility::Public);
        assert_eq!(Visibility::Unlisted.toggled(), Visibility::Public);
        assert!(Visibility::Public.is_published());
        assert!(!Visibility::Unlisted.is_published() && !Visibility::Private.is_published());
    }

    #[test]
    fn stored_levels_follow_the_published_flag() {
        assert_eq!(Visibility::from_stored(true, None), Visibility::Public);
        assert_eq!(Visibility::from_stored(false, None), Visibility::Private);
        assert_eq!(Visibility::from_stored(false, Some("unlisted")), Visibility::Unlisted);
        assert_eq!(Visibility::from_stored(false, Some("private")), Visibility::Private);
        assert_eq!(Visibility::from_stored(true, Some("unlisted")), Visibility::Public, "republished elsewhere");
        assert_eq!(Visibility::from_stored(false, Some("public")), Visibility::Private, "unpublished elsewhere");
    }

    #[test]
    fn who_sees_what_where() {
        use Visibility::*;
        let (owner, other) = (Id::generate(), Id::generate());
        let sees = |level, viewer, place| may_see(level, owner, viewer, place);
        for place in [Place::ByLink, Place::Channel, Place::Listing] {
            for viewer in [None, Some(owner), Some(other)] {
                assert!(sees(Public, viewer, place), "public is seen everywhere");
            }
            assert!(!sees(Private, None, place) && !sees(Private, Some(other), place), "private: owner only");
        }
        assert!(sees(Unlisted, None, Place::ByLink) && sees(Unlisted, Some(other), Place::ByLink));
        assert!(!sees(Unlisted, Some(other), Place::Channel) && !sees(Unlisted, None, Place::Listing));
        assert!(sees(Unlisted, Some(owner), Place::Channel) && sees(Private, Some(owner), Place::Channel));
        assert!(sees(Private, Some(owner), Place::ByLink));
        assert!(!sees(Unlisted, Some(owner), Place::Listing), "site listings are the same for everyone");
        assert!(!sees(Private, Some(owner), Place::Listing));
    }
}
