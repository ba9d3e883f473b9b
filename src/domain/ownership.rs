//! Ownership, stated once: `Owned<T>` can only be made by the ownership check, so every service
//! function that changes or deletes a record takes one and no handler can reach those functions
//! without the check. Visibility is `super::visibility`.

use super::Id;

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
    fn only_the_owner_gets_an_owned_record() {
        let record = OwnedBy { id: Id::generate(), owner: Id::generate() };
        assert!(Owned::check(record, Id::generate()).is_none());
        let owned = Owned::check(record, record.owner).unwrap();
        assert_eq!(owned.id, record.id);
        assert_eq!(owned.into_inner(), record);
    }
}
