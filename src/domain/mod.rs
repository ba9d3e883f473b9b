//! Plain data: identifiers, time, pagination and the entities the API returns. No I/O here.

pub mod id;
pub mod page;
pub mod social;
pub mod time;
pub mod user;
pub mod video;

pub use id::Id;
pub use page::{Page, PageRequest};
pub use time::Timestamp;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One value emitted under two keys, for the additive aliases of contract §5 rule 29
/// (`owner`/`ownerDetails`, `video`/`likedVideo`, ...). Used with `#[serde(flatten)]`.
#[derive(Clone, Debug)]
pub struct Twin<T> {
    keys: (&'static str, &'static str),
    pub value: T,
}

impl<T> Twin<T> {
    pub fn new(keys: (&'static str, &'static str), value: T) -> Self {
        Twin { keys, value }
    }
}

impl<T: Serialize> Serialize for Twin<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.keys.0, &self.value)?;
        map.serialize_entry(self.keys.1, &self.value)?;
        map.end()
    }
}
