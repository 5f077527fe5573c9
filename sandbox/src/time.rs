//! UTC timestamps as microseconds since the Unix epoch, formatted like
//! pydantic's JSON output (`2025-01-02T03:04:05.123456Z`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch.
pub type Micros = i64;

const DAY: i64 = 86_400;

/// The current time.
pub fn now() -> Micros {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)
}

/// `t` plus `months` calendar months, the day clamped to the target month's length.
pub fn add_months(t: Micros, months: i64) -> Micros {
    let secs = t.div_euclid(1_000_000);
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(days_in_month(ny, nm));
    (days_from_civil(ny, nm, nd) * DAY + rem) * 1_000_000 + t.rem_euclid(1_000_000)
}

/// RFC 3339 in UTC with microseconds.
pub fn format(t: Micros) -> String {
    let secs = t.div_euclid(1_000_000);
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        t.rem_euclid(1_000_000)
    )
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM]` (no zone = UTC) or a bare date.
pub fn parse(s: &str) -> Option<Micros> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !(1..=12).contains(&mo) || d < 1 {
        return None;
    }
    let mut t = days_from_civil(y, mo, d) * DAY * 1_000_000;
    if s.len() == 10 {
        return Some(t);
    }
    if !matches!(s.get(10..11)?, "T" | "t" | " ") || s.get(13..14)? != ":" {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    t += (h * 3600 + mi * 60 + sec) * 1_000_000;
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &frac[..n.min(6)];
        if n > 0 {
            t += digits.parse::<i64>().ok()? * 10i64.pow(6 - digits.len() as u32);
        }
        rest = &frac[n..];
    }
    match rest {
        "" | "Z" | "z" => Some(t),
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let off = rest.get(1..)?.replace(':', "");
            let (oh, om) = (
                off.get(..2)?.parse::<i64>().ok()?,
                off.get(2..4)?.parse::<i64>().ok()?,
            );
            Some(t - sign * (oh * 3600 + om * 60) * 1_000_000)
        }
    }
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
