//! Plain data: identifiers, time, pagination and the entities the API returns. No I/O here.

pub mod choice;
pub mod id;
pub mod moderation;
pub mod notification;
pub mod ownership;
pub mod page;
pub mod processing;
pub mod search;
pub mod social;
pub mod time;
pub mod trending;
pub mod user;
pub mod video;
pub mod visibility;

pub use id::Id;
pub use page::{Page, PageRequest};
pub use time::Timestamp;

use std::marker::PhantomData;

use serde::ser::{Serialize, SerializeMap, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Ref, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The two keys a `Twin` is written under.
pub trait TwinKeys {
    const FIRST: &'static str;
    const SECOND: &'static str;
}

macro_rules! twin_keys {
    ($name:ident, $first:literal, $second:literal) => {
        #[derive(Clone, Copy, Debug)]
        pub struct $name;
        impl TwinKeys for $name {
            const FIRST: &'static str = $first;
            const SECOND: &'static str = $second;
        }
    };
}

twin_keys!(OwnerKeys, "owner", "ownerDetails");
twin_keys!(LikedVideoKeys, "video", "likedVideo");
twin_keys!(ChannelKeys, "channel", "subscribedChannel");
twin_keys!(LoginUserKeys, "user", "loggedInUser");

/// One value emitted under two keys, for the additive aliases of docs/api.md §5 rule 29
/// (`owner`/`ownerDetails`, `video`/`likedVideo`, ...). Used with `#[serde(flatten)]`.
#[derive(Clone, Debug)]
pub struct Twin<T, K> {
    pub value: T,
    keys: PhantomData<K>,
}

impl<T, K: TwinKeys> Twin<T, K> {
    pub fn new(value: T) -> Self {
        Twin { value, keys: PhantomData }
    }
}

impl<T: Serialize, K: TwinKeys> Serialize for Twin<T, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(K::FIRST, &self.value)?;
        map.serialize_entry(K::SECOND, &self.value)?;
        map.end()
    }
}

impl<T: ToSchema, K: TwinKeys> PartialSchema for Twin<T, K> {
    fn schema() -> RefOr<Schema> {
        let reference = || Ref::from_schema_name(T::name());
        ObjectBuilder::new()
            .property(K::FIRST, reference())
            .property(K::SECOND, reference())
            .required(K::FIRST)
            .required(K::SECOND)
            .into()
    }
}

/// The schema of a `Twin` field, for `#[schema(schema_with = ...)]` (the referenced schema must be
/// registered with the document).
pub fn twin_schema<T: ToSchema, K: TwinKeys>() -> RefOr<Schema> {
    Twin::<T, K>::schema()
}
