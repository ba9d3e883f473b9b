//! ObjectId-compatible identifiers: 12 bytes, written as 24 lowercase hex digits on every backend.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A MongoDB-style ObjectId: 4-byte timestamp, 5-byte per-process random value, 3-byte counter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; 12]);

static PROCESS_UNIQUE: OnceLock<[u8; 5]> = OnceLock::new();
static COUNTER: OnceLock<AtomicU32> = OnceLock::new();

impl Id {
    /// A fresh id, unique across processes like a MongoDB ObjectId.
    pub fn generate() -> Self {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as u32).unwrap_or(0);
        let unique = PROCESS_UNIQUE.get_or_init(rand::random::<[u8; 5]>);
        let counter = COUNTER.get_or_init(|| AtomicU32::new(rand::random::<u32>())).fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(unique);
        bytes[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
        Id(bytes)
    }

    /// Parses exactly 24 hex digits, either case.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 24 {
            return None;
        }
        let mut bytes = [0u8; 12];
        hex::decode_to_slice(s, &mut bytes).ok()?;
        Some(Id(bytes))
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// The 12 raw bytes, as a MongoDB ObjectId stores them.
    pub const fn bytes(self) -> [u8; 12] {
        self.0
    }

    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        Id(bytes)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.to_hex())
    }
}

impl Serialize for Id {
    /// Written from a stack buffer: a feed page serialises a few ids per video.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 24];
        hex::encode_to_slice(self.0, &mut text).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

/// Reads 24 hex digits, either case (docs/api.md §1.5); anything else is an error that names no
/// value, so the HTTP edge can answer `Invalid <name>` for the parameter it came from.
impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Parsed inside the visitor, so a deserializer that knows the key (axum's `Path`) reports it.
        struct HexId;
        impl serde::de::Visitor<'_> for HexId {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("24 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Id, E> {
                Id::parse(v).ok_or_else(|| E::custom("not an ObjectId"))
            }
        }
        deserializer.deserialize_str(HexId)
    }
}

impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9a-f]{24}$"))
            .examples(["6650a1b2c3d4e5f601234567"])
            .into()
    }
}

impl utoipa::ToSchema for Id {
    fn name() -> std::borrow::Cow<'static, str> {
        "ObjectId".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_24_lowercase_hex_and_distinct() {
        let a = Id::generate();
        let b = Id::generate();
        assert_ne!(a, b);
        let hex = a.to_string();
        assert_eq!(hex.len(), 24);
        assert!(hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    }

    #[test]
    fn parse_accepts_either_case_and_rejects_other_shapes() {
        let id = Id::parse("6650A1B2C3D4E5F601234567").unwrap();
        assert_eq!(id.to_string(), "6650a1b2c3d4e5f601234567");
        for bad in ["", "6650a1b2c3d4e5f60123456", "6650a1b2c3d4e5f6012345678", "zz50a1b2c3d4e5f601234567"] {
            assert!(Id::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn serializes_as_a_plain_hex_string() {
        let id = Id::parse("6650a1b2c3d4e5f601234567").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"6650a1b2c3d4e5f601234567\"");
    }

    proptest::proptest! {
        #[test]
        fn hex_of_24_digits_round_trips(hex in "[0-9a-fA-F]{24}") {
            let id = Id::parse(&hex).unwrap();
            proptest::prop_assert_eq!(id.to_string(), hex.to_lowercase());
        }

        #[test]
        fn other_strings_are_rejected(raw in ".{0,30}") {
            let valid = raw.len() == 24 && raw.chars().all(|c| c.is_ascii_hexdigit());
            proptest::prop_assert_eq!(Id::parse(&raw).is_some(), valid);
        }
    }
}
