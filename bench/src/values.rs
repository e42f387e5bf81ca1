//! Parsers for the values of command-line options: durations, rates, counts and tags.
//!
//! The duration parser is written here rather than taken from `humantime`: that crate requires
//! a unit, while a bare number must keep meaning seconds for the scripts that pass one, and
//! the whole grammar is one number and an optional unit.

use std::time::Duration;

use clap::builder::RangedU64ValueParser;

/// A duration: a number (decimals allowed) and an optional unit, `ms`, `s`, `m` or `h`;
/// without a unit the number is seconds. `3s`, `500ms`, `2m`, `1h`, `10` and `0.5` are all
/// accepted.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let unit_start = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_start);
    let seconds_per_unit = match unit {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown unit `{other}` (use ms, s, m or h)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (for example 3s, 500ms, 2m, 1h, 10)"))?;
    Duration::try_from_secs_f64(value * seconds_per_unit)
        .map_err(|_| format!("`{text}` is not a duration: it must be finite and not negative"))
}

/// A number greater than zero, such as a rate.
pub(crate) fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("`{text}` is not a number greater than 0")),
    }
}

/// A count of at least one.
pub(crate) fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..)
}

/// `KEY=VALUE`, split at the first `=`.
pub(crate) fn tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit_or_mean_seconds() {
        assert_eq!(duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_are_refused() {
        for text in [
            "", "s", "3x", "3 s", "3S", "ms3", "-1", "-1s", "inf", "NaN", "1e999", "3sec",
        ] {
            assert!(duration(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn rates_must_be_positive() {
        assert_eq!(positive("2500"), Ok(2500.0));
        assert_eq!(positive("0.5"), Ok(0.5));
        for text in ["0", "-3", "inf", "fast", ""] {
            assert!(positive(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn tags_split_at_the_first_equals_sign() {
        assert_eq!(
            tag("server=nano-rs"),
            Ok(("server".to_owned(), "nano-rs".to_owned()))
        );
        assert_eq!(tag("note=a=b"), Ok(("note".to_owned(), "a=b".to_owned())));
        assert_eq!(tag("empty="), Ok(("empty".to_owned(), String::new())));
        assert!(tag("no-equals").is_err());
        assert!(tag("=value").is_err());
    }
}
