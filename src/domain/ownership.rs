//! Ownership and visibility, each stated once. `Owned<T>` can only be made by the ownership check,
//! so every service function that changes or deletes a record takes one and no handler can reach
//! those functions without the check. `is_visible` is the visibility rule of docs/api.md §1.12;
//! the stores express the same rule in their query languages with one builder each
//! (`store::sqlite::visible_sql`, `store::mongo::queries::visible_to`), tested against it.

use super::Id;

/// The visibility rule: a published video is visible to everyone, an unpublished one to its owner.
pub fn is_visible(is_published: bool, owner: Id, viewer: Option<Id>) -> bool {
    is_published || viewer == Some(owner)
}

/// A record that names its owner.
pub trait HasOwner {
    fn owner_id(&self) -> Id;
}

/// A record the caller was checked to own.
#[derive(Debug)]
pub struct Owned<T>(T);

impl<T: HasOwner> Owned<T> {
    /// The record as owned by `caller`, or `None` when someone else owns it.
    pub fn check(record: T, caller: Id) -> Option<Self> {
        (record.owner_id() == caller).then_some(Owned(record))
    }
}

impl<T> Owned<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Owned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// A record known by its id and owner only (a tweet, before it is changed or deleted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnedBy {
    pub id: Id,
    pub owner: Id,
}

impl HasOwner for OwnedBy {
    fn owner_id(&self) -> Id {
        self.owner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_videos_are_visible_to_all_unpublished_to_their_owner() {
        let (owner, other) = (Id::generate(), Id::generate());
        assert!(is_visible(true, owner, None) && is_visible(true, owner, Some(other)));
        assert!(is_visible(false, owner, Some(owner)));
        assert!(!is_visible(false, owner, Some(other)) && !is_visible(false, owner, None));
    }

    #[test]
    fn only_the_owner_gets_an_owned_record() {
        let record = OwnedBy { id: Id::generate(), owner: Id::generate() };
        assert!(Owned::check(record, Id::generate()).is_none());
        let owned = Owned::check(record, record.owner).unwrap();
        assert_eq!(owned.id, record.id);
        assert_eq!(owned.into_inner(), record);
    }
}
