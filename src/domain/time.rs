//! Millisecond-precision UTC timestamps, rendered as ISO-8601 with exactly three fractional digits.

use std::fmt;

use serde::{Serialize, Serializer};

/// Milliseconds since the Unix epoch, UTC. BSON dates hold milliseconds, so nothing finer is kept.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_secs(self, secs: u64) -> Self {
        Timestamp(self.0.saturating_add((secs as i64).saturating_mul(1000)))
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let tod = secs.rem_euclid(86_400);
        write!(f, "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z", tod / 3600, (tod % 3600) / 60, tod % 60)
    }
}

impl Timestamp {
    /// The `Display` text for years 0–9999, written digit by digit: a feed page serialises a few
    /// timestamps per video, and the formatting machinery was a tenth of an uncached page's time.
    /// `None` for other years, which `Display` writes. A test compares the two.
    fn iso8601(self) -> Option<[u8; 24]> {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        if !(0..=9999).contains(&year) {
            return None;
        }
        let tod = secs.rem_euclid(86_400);
        let mut text = *b"0000-00-00T00:00:00.000Z";
        let fields = [
            (0, 4, year),
            (5, 2, i64::from(month)),
            (8, 2, i64::from(day)),
            (11, 2, tod / 3600),
            (14, 2, (tod % 3600) / 60),
            (17, 2, tod % 60),
            (20, 3, ms),
        ];
        for (start, width, mut value) in fields {
            for at in (start..start + width).rev() {
                text[at] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        Some(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.iso8601() {
            // Only ASCII digits and separators were written.
            Some(text) => serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?),
            None => serializer.collect_str(self),
        }
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
            .examples(["2025-01-15T10:00:00.000Z"])
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {
    fn name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_text_is_the_display_text() {
        let mut samples = vec![i64::MIN / 4, -62_167_219_200_001, -62_167_219_200_000, -1, 0, 1, 999, 1000];
        samples.extend([
            951_782_400_000,
            1_709_164_799_999,
            4_102_444_800_000,
            253_402_300_799_999,
            253_402_300_800_000,
        ]);
        // A walk across the years 1970–9999 with every field changing.
        samples.extend((0..5_000i64).map(|k| k * 50_492_165_437 + k % 1000));
        for ms in samples {
            let ts = Timestamp(ms);
            assert_eq!(serde_json::to_string(&ts).unwrap(), format!("\"{ts}\""), "{ms}");
        }
        assert!(Timestamp(253_402_300_800_000).iso8601().is_none(), "year 10000 is written by Display");
    }

    #[test]
    fn formats_with_three_fraction_digits() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp(1_736_935_200_000).to_string(), "2025-01-15T10:00:00.000Z");
        assert_eq!(Timestamp(951_782_400_007).to_string(), "2000-02-29T00:00:00.007Z");
        assert_eq!(Timestamp(4_102_444_799_999).to_string(), "2099-12-31T23:59:59.999Z");
    }
}
