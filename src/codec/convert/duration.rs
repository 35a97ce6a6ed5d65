//! CQL duration literals, as Cassandra's `Duration.from` reads them.
//!
//! Three forms, each with an optional leading `-`: the CQL form (`1y2mo3w4d5h6m7s8ms9us10ns`,
//! units case-insensitive, largest first, each at most once), ISO-8601 (`P1Y2M3DT4H5M6S`, or
//! `P2W`), and the ISO-8601 alternative (`P0001-02-03T04:05:06`). Messages are Cassandra's.

use scylla::value::CqlDuration;

const NANOS_PER: [i64; 10] = [0, 0, 0, 0, 3_600_000_000_000, 60_000_000_000, 1_000_000_000, 1_000_000, 1_000, 1];

const UNIT_NAMES: [&str; 10] =
    ["years", "months", "weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"];

const YEARS: usize = 0;
const MONTHS: usize = 1;
const WEEKS: usize = 2;
const DAYS: usize = 3;
const HOURS: usize = 4;
const MINUTES: usize = 5;
const SECONDS: usize = 6;

/// Accumulates units in Cassandra's order, with its overflow checks.
#[derive(Default)]
struct Builder {
    months: i64,
    days: i64,
    nanos: i64,
    last_unit: Option<usize>,
}

impl Builder {
    fn add(&mut self, unit: usize, value: i64) -> Result<(), String> {
        if let Some(last) = self.last_unit {
            if unit == last {
                return Err(format!("Invalid duration. The {} are specified multiple times", UNIT_NAMES[unit]));
            }
            if unit < last {
                return Err(format!("Invalid duration. The {} should be after {}", UNIT_NAMES[last], UNIT_NAMES[unit]));
            }
        }
        self.last_unit = Some(unit);
        let months_overflow =
            || "Invalid duration. The total number of months must be less or equal to 2147483647".to_string();
        let days_overflow =
            || "Invalid duration. The total number of days must be less or equal to 2147483647".to_string();
        match unit {
            YEARS | MONTHS => {
                let months = if unit == YEARS { value.checked_mul(12) } else { Some(value) };
                self.months = months
                    .and_then(|m| self.months.checked_add(m))
                    .filter(|m| *m <= i64::from(i32::MAX))
                    .ok_or_else(months_overflow)?;
            }
            WEEKS | DAYS => {
                let days = if unit == WEEKS { value.checked_mul(7) } else { Some(value) };
                self.days = days
                    .and_then(|d| self.days.checked_add(d))
                    .filter(|d| *d <= i64::from(i32::MAX))
                    .ok_or_else(days_overflow)?;
            }
            _ => {
                self.nanos =
                    value.checked_mul(NANOS_PER[unit]).and_then(|n| self.nanos.checked_add(n)).ok_or_else(|| {
                        "Invalid duration. The total number of nanoseconds must be less or equal to 9223372036854775807"
                            .to_string()
                    })?;
            }
        }
        Ok(())
    }

    fn build(self, negative: bool) -> CqlDuration {
        // Each total was checked against the positive maximum, so negation cannot overflow.
        let sign = if negative { -1 } else { 1 };
        CqlDuration {
            months: (self.months * sign) as i32,
            days: (self.days * sign) as i32,
            nanoseconds: self.nanos * sign,
        }
    }
}

pub(super) fn parse(input: &str) -> Result<CqlDuration, String> {
    let unable = || format!("Unable to convert '{}' to a duration", super::excerpt(input));
    let (negative, source) = match input.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let mut builder = Builder::default();
    if let Some(iso) = source.strip_prefix('P') {
        if let Some(weeks) = iso.strip_suffix('W') {
            builder.add(WEEKS, number(weeks).ok_or_else(unable)?)?;
        } else if iso.contains('-') {
            alternative(iso, &mut builder).ok_or_else(unable)??;
        } else {
            iso8601(iso, &mut builder).ok_or_else(unable)??;
        }
        return Ok(builder.build(negative));
    }
    let b = source.as_bytes();
    if b.is_empty() {
        return Err(unable());
    }
    let mut p = 0;
    while p < b.len() {
        let len = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
        let value = b.get(p..p + len).and_then(digits_value).ok_or_else(unable)?;
        p += len;
        let rest = b.get(p..).unwrap_or(&[]);
        let lower = |i: usize| rest.get(i).map(u8::to_ascii_lowercase);
        let (unit, unit_len) = match (lower(0), lower(1)) {
            (Some(b'm'), Some(b'o')) => (MONTHS, 2),
            (Some(b'm'), Some(b's')) => (7, 2),
            (Some(b'u'), Some(b's')) => (8, 2),
            (Some(b'n'), Some(b's')) => (9, 2),
            (Some(b'y'), _) => (YEARS, 1),
            (Some(b'w'), _) => (WEEKS, 1),
            (Some(b'd'), _) => (DAYS, 1),
            (Some(b'h'), _) => (HOURS, 1),
            (Some(b's'), _) => (SECONDS, 1),
            (Some(b'm'), _) => (MINUTES, 1),
            _ if rest.starts_with("µs".as_bytes()) || rest.starts_with("µS".as_bytes()) => (8, "µs".len()),
            _ => return Err(unable()),
        };
        builder.add(unit, value)?;
        p += unit_len;
    }
    Ok(builder.build(negative))
}

fn digits_value(d: &[u8]) -> Option<i64> {
    if d.is_empty() {
        return None;
    }
    d.iter().try_fold(0i64, |acc, c| acc.checked_mul(10)?.checked_add(i64::from(c - b'0')))
}

fn number(s: &str) -> Option<i64> {
    if !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits_value(s.as_bytes())
}

/// `[nY][nM][nD][T[nH][nM][nS]]` after the `P`; `None` when it does not match.
fn iso8601(s: &str, builder: &mut Builder) -> Option<Result<(), String>> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts: Vec<(usize, i64)> = Vec::new();
    designators(date, &[(b'Y', YEARS), (b'M', MONTHS), (b'D', DAYS)], &mut parts)?;
    if let Some(time) = time {
        designators(time, &[(b'H', HOURS), (b'M', MINUTES), (b'S', SECONDS)], &mut parts)?;
    }
    Some(parts.into_iter().try_for_each(|(unit, v)| builder.add(unit, v)))
}

/// Reads `<digits><designator>` pairs whose designators appear in `order`, in that order.
fn designators(s: &str, order: &[(u8, usize)], out: &mut Vec<(usize, i64)>) -> Option<()> {
    let b = s.as_bytes();
    let mut p = 0;
    let mut next = 0;
    while p < b.len() {
        let len = b[p..].iter().take_while(|c| c.is_ascii_digit()).count();
        let value = digits_value(b.get(p..p + len)?)?;
        let designator = *b.get(p + len)?;
        let i = order.iter().skip(next).position(|(d, _)| *d == designator)? + next;
        out.push((order[i].1, value));
        next = i + 1;
        p += len + 1;
    }
    Some(())
}

/// `YYYY-MM-DDThh:mm:ss` after the `P`.
fn alternative(s: &str, builder: &mut Builder) -> Option<Result<(), String>> {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if b.len() != shape.len() || !b.iter().zip(shape).all(|(c, s)| if *s == b'd' { c.is_ascii_digit() } else { c == s })
    {
        return None;
    }
    let field = |from: usize, to: usize| b.get(from..to).and_then(digits_value);
    let parts = [
        (YEARS, field(0, 4)?),
        (MONTHS, field(5, 7)?),
        (DAYS, field(8, 10)?),
        (HOURS, field(11, 13)?),
        (MINUTES, field(14, 16)?),
        (SECONDS, field(17, 19)?),
    ];
    Some(parts.into_iter().try_for_each(|(unit, v)| builder.add(unit, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(months: i32, days: i32, nanoseconds: i64) -> CqlDuration {
        CqlDuration { months, days, nanoseconds }
    }

    const H: i64 = 3_600_000_000_000;
    const M: i64 = 60_000_000_000;

    #[test]
    fn every_form() {
        let cases = [
            ("1h30m", d(0, 0, H + 30 * M)),
            ("1H30M", d(0, 0, H + 30 * M)),
            ("-1h30m", d(0, 0, -(H + 30 * M))),
            ("1y2mo3w4d5h6m7s8ms9us10ns", d(14, 25, 5 * H + 6 * M + 7_008_009_010)),
            ("12µs", d(0, 0, 12_000)),
            ("0s", d(0, 0, 0)),
            ("PT1H30M", d(0, 0, H + 30 * M)),
            ("P1Y2M3DT4H5M6S", d(14, 3, 4 * H + 5 * M + 6_000_000_000)),
            ("P2D", d(0, 2, 0)),
            ("P", d(0, 0, 0)),
            ("P2W", d(0, 14, 0)),
            ("-P2W", d(0, -14, 0)),
            ("P0000-00-00T01:30:00", d(0, 0, H + 30 * M)),
            ("P0001-02-03T00:00:01", d(14, 3, 1_000_000_000)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejections() {
        let cases = [
            ("", "Unable to convert '' to a duration"),
            ("-", "Unable to convert '-' to a duration"),
            ("1", "Unable to convert '1' to a duration"),
            ("h", "Unable to convert 'h' to a duration"),
            ("1h2x", "Unable to convert '1h2x' to a duration"),
            ("1h 2m", "Unable to convert '1h 2m' to a duration"),
            ("PT1H30", "Unable to convert 'PT1H30' to a duration"),
            ("P1D2Y", "Unable to convert 'P1D2Y' to a duration"),
            ("P0000-00-00T01:30", "Unable to convert 'P0000-00-00T01:30' to a duration"),
            ("1h2h", "Invalid duration. The hours are specified multiple times"),
            ("1m2h", "Invalid duration. The minutes should be after hours"),
            ("2147483648mo", "Invalid duration. The total number of months must be less or equal to 2147483647"),
            ("178956971y", "Invalid duration. The total number of months must be less or equal to 2147483647"),
            (
                "2562048h",
                "Invalid duration. The total number of nanoseconds must be less or equal to 9223372036854775807",
            ),
            ("99999999999999999999s", "Unable to convert '99999999999999999999s' to a duration"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text), Err(message.to_string()), "{text}");
        }
    }
}
