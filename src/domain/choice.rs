//! Closed sets of names the API reads and writes (a role, a report's reason, ...). Each is an enum
//! declared with [`choice!`], which gives it its names, its parsing and the 400 message that lists
//! them, so a name is spelled once.

/// A value of a closed set of names.
pub trait Choice: Copy + Eq + Sized + 'static {
    /// Every value, in the order the API lists them.
    const ALL: &'static [Self];
    /// The input field the value is read from, as messages name it.
    const FIELD: &'static str;

    fn as_str(self) -> &'static str;

    /// The value named exactly (lowercase, untrimmed); `None` for anything else.
    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == raw)
    }

    /// The 400 message for any other value: `<field> must be one of a, b, c`.
    fn invalid() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|value| value.as_str()).collect();
        format!("{} must be one of {}", Self::FIELD, names.join(", "))
    }
}

/// Declares an enum of names read from the field `$field`: serialised and documented by its names.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $field:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::domain::choice::Choice::as_str(*self))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $crate::domain::choice::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const FIELD: &'static str = $field;

            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }
    };
}

pub(crate) use choice;

#[cfg(test)]
mod tests {
    use super::*;

    choice! {
        enum Shade for "shade" { Light = "light", Dark = "dark" }
    }

    #[test]
    fn names_parse_serialise_and_list_themselves() {
        assert_eq!(Shade::parse("dark"), Some(Shade::Dark));
        assert_eq!(Shade::parse("Dark"), None);
        assert_eq!(Shade::parse(" dark"), None);
        assert_eq!(serde_json::to_value(Shade::Light).unwrap(), "light");
        assert_eq!(Shade::invalid(), "shade must be one of light, dark");
    }
}
