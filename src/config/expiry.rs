//! The token lifetime syntax of docs/api.md §1.7 (`15m`, `1d`, `2 hours`, `1.5h`; a bare number is seconds).

/// Parses an expiry string to whole seconds (rounded down); `None` when malformed or under one second.
pub fn parse_expiry(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let number_len = s.char_indices().find(|(_, c)| !(c.is_ascii_digit() || *c == '.')).map_or(s.len(), |(i, _)| i);
    let (number, unit) = s.split_at(number_len);
    if number.is_empty() {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let unit_secs = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600.0,
        _ => return None,
    };
    let secs = (value * unit_secs).floor();
    (secs.is_finite() && secs >= 1.0 && secs < u64::MAX as f64).then_some(secs as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_expiry;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_expiry("15m"), Some(900));
        assert_eq!(parse_expiry("1d"), Some(86_400));
        assert_eq!(parse_expiry("10d"), Some(864_000));
        assert_eq!(parse_expiry("2 hours"), Some(7200));
        assert_eq!(parse_expiry("1.5h"), Some(5400));
        assert_eq!(parse_expiry("90"), Some(90));
        assert_eq!(parse_expiry("1500ms"), Some(1));
        assert_eq!(parse_expiry("1 Year"), Some(31_557_600));
        assert_eq!(parse_expiry("2W"), Some(1_209_600));
    }

    #[test]
    fn rejects_malformed_or_sub_second_values() {
        for bad in ["", "abc", "1 fortnight", "0", "999ms", "-5m", ".", "1..2h", "h"] {
            assert_eq!(parse_expiry(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn whole_units_parse_exactly(n in 1u64..1_000_000, unit in proptest::sample::select(vec![
            ("s", 1u64), ("sec", 1), ("m", 60), ("min", 60), ("h", 3600), ("hours", 3600), ("d", 86_400), ("w", 604_800),
        ]), space in proptest::bool::ANY) {
            let raw = format!("{n}{}{}", if space { " " } else { "" }, unit.0);
            proptest::prop_assert_eq!(parse_expiry(&raw), Some(n * unit.1));
        }

        #[test]
        fn arbitrary_input_never_panics_and_never_gives_zero(raw in ".{0,24}") {
            proptest::prop_assert_ne!(parse_expiry(&raw), Some(0));
        }
    }
}
