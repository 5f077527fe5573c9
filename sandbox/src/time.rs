//! UTC timestamps as microseconds since the Unix epoch, formatted like
//! pydantic's JSON output (`2025-01-02T03:04:05.123456Z`). The calendar is the
//! `time` crate's; only the pydantic-style format and the lenient parse are ours.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// Microseconds since the Unix epoch.
pub type Micros = i64;

/// The current time.
pub fn now() -> Micros {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn to_datetime(t: Micros) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_micros(dt: OffsetDateTime) -> Micros {
    (dt.unix_timestamp_nanos() / 1_000) as Micros
}

/// `t` plus `months` calendar months, the day clamped to the target month's length.
pub fn add_months(t: Micros, months: i64) -> Micros {
    let dt = to_datetime(t);
    let total = i64::from(dt.year()) * 12 + i64::from(u8::from(dt.month())) - 1 + months;
    let (year, month) = (
        total.div_euclid(12) as i32,
        (total.rem_euclid(12) + 1) as u8,
    );
    let Ok(month) = time::Month::try_from(month) else {
        return t;
    };
    let day = dt.day().min(time::util::days_in_month(month, year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => to_micros(dt.replace_date(date)),
        Err(_) => t,
    }
}

/// RFC 3339 in UTC with microseconds.
pub fn format(t: Micros) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    to_datetime(t).format(&fmt).unwrap_or_default()
}

/// Parses RFC 3339, also with a space for `T`, without a zone (UTC) or a bare date.
pub fn parse(s: &str) -> Option<Micros> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(to_micros(dt));
    }
    if s.len() == 10 {
        let date = Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
        return Some(to_micros(date.with_time(Time::MIDNIGHT).assume_utc()));
    }
    let normalized = match s.get(10..11)? {
        " " => format!("{}T{}", &s[..10], &s[11..]),
        _ => s.to_string(),
    };
    if let Ok(dt) = OffsetDateTime::parse(&normalized, &Rfc3339) {
        return Some(to_micros(dt));
    }
    let local = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(&normalized, &local)
        .ok()
        .map(|dt| to_micros(dt.assume_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        let t = parse("2024-02-29T23:59:58.5Z").unwrap();
        assert_eq!(format(t), "2024-02-29T23:59:58.500000Z");
        assert_eq!(parse(&format(t)), Some(t));
        assert_eq!(
            parse("2024-03-01T01:00:00+01:00"),
            parse("2024-03-01T00:00:00Z")
        );
        assert_eq!(format(0), "1970-01-01T00:00:00.000000Z");
        assert!(parse("2024-13-01").is_none());
        assert!(parse("yesterday").is_none());
        assert_eq!(parse("2024-03-01 00:00:00"), parse("2024-03-01T00:00:00Z"));
        assert_eq!(parse("2024-03-01"), parse("2024-03-01T00:00:00.000Z"));
    }

    #[test]
    fn months_clamp_the_day() {
        let t = parse("2025-01-31T10:00:00Z").unwrap();
        assert_eq!(format(add_months(t, 1)), "2025-02-28T10:00:00.000000Z");
        assert_eq!(format(add_months(t, 13)), "2026-02-28T10:00:00.000000Z");
        let dec = parse("2024-12-15T00:00:00Z").unwrap();
        assert_eq!(format(add_months(dec, 2)), "2025-02-15T00:00:00.000000Z");
    }
}
