//! `CQL_TIMESTAMP`: every form of a CQL timestamp literal, hand-parsed because it is the default
//! and on the per-record path.
//!
//! `yyyy-MM-dd`, then optionally `T` or a space and `HH:mm[:ss[.fffffffff]]`, then optionally a
//! zone: `Z`, `+HH:MM`, `+HHMM`, `+HH` (a space before it is allowed), or a space and a zone id or
//! abbreviation (`Europe/Paris`, `UTC`, `PST`); an offset may be followed by `[region]` as
//! `ZonedDateTime.toString` prints it. Month, day, hour, minute and second take one or two digits;
//! years beyond four digits need a sign, as in ISO-8601.

use chrono::{FixedOffset, NaiveDate, NaiveTime};

use super::{Parsed, Zone, parse_zone_prefix};
use crate::codec::convert::excerpt;

pub(super) fn parse(s: &str) -> Result<Parsed, String> {
    let b = s.as_bytes();
    let at = |i: usize| format!("Text '{}' could not be parsed at index {i}", excerpt(s));
    let mut p = 0;

    let sign = match b.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => 0,
    };
    if sign != 0 {
        p += 1;
    }
    let year_digits = digit_run(b, p);
    if !(4..=10).contains(&year_digits) || (year_digits > 4 && sign == 0) || (sign == 1 && year_digits == 4) {
        return Err(at(p));
    }
    let year = number(b, p, year_digits).ok_or_else(|| at(p))?;
    p += year_digits;
    let year = if sign < 0 { -year } else { year };
    p = expect(b, p, b'-').ok_or_else(|| at(p))?;
    let (month, next) = one_or_two(b, p).ok_or_else(|| at(p))?;
    p = expect(b, next, b'-').ok_or_else(|| at(next))?;
    let (day, next) = one_or_two(b, p).ok_or_else(|| at(p))?;
    p = next;
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or_else(|| format!("Text '{}' could not be parsed: Invalid date {year}-{month:02}-{day:02}", excerpt(s)))?;

    let mut time = None;
    if matches!(b.get(p), Some(b'T' | b't' | b' ')) && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
        let (t, next) = parse_time(b, p + 1).map_err(at)?;
        time = Some(t);
        p = next;
    }

    let mut zone = None;
    if p < b.len() {
        let (z, next) = parse_zone(b, p).ok_or_else(|| at(p))?;
        zone = Some(z);
        p = next;
    }
    if p != b.len() {
        return Err(format!("Text '{}' could not be parsed, unparsed text found at index {p}", excerpt(s)));
    }
    Ok(Parsed { date: Some(date), time, zone })
}

/// `yyyy-MM-ddTHH:mm[:ss[.f…]]Z` (or a space for the `T`), the form most producers write, read
/// straight to nanoseconds since the epoch. `None` for every other form, and for fields out of
/// range: [`parse`] reads those (and says what is wrong).
pub(super) fn utc_nanos(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |at: usize, len: usize| (digit_run(b, at) >= len).then(|| number(b, at, len)).flatten();
    let at = |i: usize| b.get(i).copied();
    let zulu = b.len().checked_sub(1)?;
    if at(zulu) != Some(b'Z')
        || at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || !matches!(at(10), Some(b'T' | b' '))
        || at(13) != Some(b':')
    {
        return None;
    }
    let (mut second, mut nano, mut p) = (0, 0, 16);
    if at(p) == Some(b':') {
        second = num(p + 1, 2)?;
        p += 3;
        if at(p) == Some(b'.') {
            let digits = zulu.checked_sub(p + 1)?;
            if !(1..=9).contains(&digits) {
                return None;
            }
            nano = num(p + 1, digits)? * 10i64.pow(9 - digits as u32);
            p += 1 + digits;
        }
    }
    if p != zulu {
        return None;
    }
    let field = |v: i64| u32::try_from(v).ok();
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, field(num(5, 2)?)?, field(num(8, 2)?)?)?;
    let time = NaiveTime::from_hms_nano_opt(field(num(11, 2)?)?, field(num(14, 2)?)?, field(second)?, field(nano)?)?;
    Some(super::epoch_nanos(date.and_time(time).and_utc()))
}

fn digit_run(b: &[u8], pos: usize) -> usize {
    b.get(pos..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count())
}

fn number(b: &[u8], pos: usize, len: usize) -> Option<i64> {
    b.get(pos..pos.checked_add(len)?)?
        .iter()
        .try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')))
}

fn one_or_two(b: &[u8], pos: usize) -> Option<(u32, usize)> {
    let len = digit_run(b, pos);
    if !(1..=2).contains(&len) {
        return None;
    }
    let v = number(b, pos, len)?;
    Some((u32::try_from(v).ok()?, pos + len))
}

fn expect(b: &[u8], pos: usize, c: u8) -> Option<usize> {
    (b.get(pos) == Some(&c)).then_some(pos + 1)
}

/// `HH:mm[:ss[.fffffffff]]` at `p`; `Err` is the index where it stopped matching.
fn parse_time(b: &[u8], mut p: usize) -> Result<(NaiveTime, usize), usize> {
    let (hour, next) = one_or_two(b, p).ok_or(p)?;
    p = expect(b, next, b':').ok_or(next)?;
    let (minute, next) = one_or_two(b, p).ok_or(p)?;
    p = next;
    let (mut second, mut nano) = (0, 0);
    if b.get(p) == Some(&b':') {
        let (s, next) = one_or_two(b, p + 1).ok_or(p + 1)?;
        second = s;
        p = next;
        if b.get(p) == Some(&b'.') {
            let digits = digit_run(b, p + 1);
            if !(1..=9).contains(&digits) {
                return Err(p + 1);
            }
            let value = number(b, p + 1, digits).ok_or(p + 1)?;
            // Scale the fraction to nanoseconds: "5" is 500_000_000.
            nano = u32::try_from(value * 10i64.pow(9 - digits as u32)).map_err(|_| p + 1)?;
            p += 1 + digits;
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano).ok_or(p)?;
    Ok((time, p))
}

fn parse_zone(b: &[u8], p: usize) -> Option<(Zone, usize)> {
    let rest = b.get(p..)?;
    if rest.eq_ignore_ascii_case(b"Z") {
        return Some((Zone::Offset(FixedOffset::east_opt(0)?), p + 1));
    }
    let (space, rest) = match rest.strip_prefix(b" ") {
        Some(r) => (1, r),
        None => (0, rest),
    };
    if let Some((offset, len)) = parse_offset(rest) {
        let mut end = p + space + len;
        // ZonedDateTime.toString appends the region: the offset already fixes the instant.
        if let Some(inner) = b.get(end..).and_then(|r| r.strip_prefix(b"["))
            && let Some((Zone::Region(_), zlen)) = parse_zone_prefix(inner, false)
            && inner.get(zlen) == Some(&b']')
        {
            end += zlen + 2;
        }
        return Some((Zone::Offset(offset), end));
    }
    if space == 1 {
        let (zone, len) = parse_zone_prefix(rest, true)?;
        return Some((zone, p + 1 + len));
    }
    None
}

/// `+HH:MM`, `+HHMM` or `+HH` (and `-`).
fn parse_offset(b: &[u8]) -> Option<(FixedOffset, usize)> {
    let negative = match b.first()? {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let two = |i: usize| -> Option<i32> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| i32::from(x - b'0') * 10 + i32::from(y - b'0'))
    };
    let hours = two(1)?;
    let (minutes, len) = if b.get(3) == Some(&b':') {
        (two(4)?, 6)
    } else if let Some(m) = two(3) {
        (m, 5)
    } else {
        (0, 3)
    };
    if hours > 18 || minutes > 59 {
        return None;
    }
    let total = hours * 3600 + minutes * 60;
    FixedOffset::east_opt(if negative { -total } else { total }).map(|o| (o, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn time(h: u32, m: u32, s: u32, n: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_nano_opt(h, m, s, n)
    }

    fn offset(secs: i32) -> Option<Zone> {
        FixedOffset::east_opt(secs).map(Zone::Offset)
    }

    #[test]
    fn accepts_every_cql_literal_form() {
        let cases = [
            ("2011-02-03", date(2011, 2, 3), None, None),
            ("2011-02-03Z", date(2011, 2, 3), None, offset(0)),
            ("2011-02-03+0100", date(2011, 2, 3), None, offset(3600)),
            ("2011-02-03 04:05", date(2011, 2, 3), time(4, 5, 0, 0), None),
            ("2011-02-03T04:05", date(2011, 2, 3), time(4, 5, 0, 0), None),
            ("2011-02-03t04:05:06", date(2011, 2, 3), time(4, 5, 6, 0), None),
            ("2011-02-03 04:05:06.7", date(2011, 2, 3), time(4, 5, 6, 700_000_000), None),
            ("2011-02-03T04:05:06.123456789Z", date(2011, 2, 3), time(4, 5, 6, 123_456_789), offset(0)),
            ("2011-02-03 04:05+0000", date(2011, 2, 3), time(4, 5, 0, 0), offset(0)),
            ("2011-02-03 04:05:06-02:30", date(2011, 2, 3), time(4, 5, 6, 0), offset(-9000)),
            ("2011-02-03 04:05:06+03", date(2011, 2, 3), time(4, 5, 6, 0), offset(10800)),
            ("2011-02-03 04:05:06 +0300", date(2011, 2, 3), time(4, 5, 6, 0), offset(10800)),
            ("2011-2-3 4:5:6", date(2011, 2, 3), time(4, 5, 6, 0), None),
            (
                "2011-02-03 04:05:06 Europe/Paris",
                date(2011, 2, 3),
                time(4, 5, 6, 0),
                Some(Zone::Region(Tz::Europe__Paris)),
            ),
            ("2011-02-03 04:05 UTC", date(2011, 2, 3), time(4, 5, 0, 0), Some(Zone::Region(Tz::UTC))),
            ("2011-02-03 04:05 pst", date(2011, 2, 3), time(4, 5, 0, 0), Some(Zone::Region(Tz::America__Los_Angeles))),
            ("2011-02-03T04:05+01:00[Europe/Paris]", date(2011, 2, 3), time(4, 5, 0, 0), offset(3600)),
            ("+12011-02-03", date(12011, 2, 3), None, None),
            ("-0044-03-15", date(-44, 3, 15), None, None),
        ];
        for (text, d, t, z) in cases {
            let p = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!((p.date, p.time, p.zone), (d, t, z), "{text}");
        }
    }

    #[test]
    fn rejects_with_java_style_messages() {
        let cases = [
            ("", "Text '' could not be parsed at index 0"),
            ("1234", "Text '1234' could not be parsed at index 4"),
            ("12345-01-01", "Text '12345-01-01' could not be parsed at index 0"),
            ("2011-02", "Text '2011-02' could not be parsed at index 7"),
            ("2011-02-30", "Text '2011-02-30' could not be parsed: Invalid date 2011-02-30"),
            ("2011-02-03 25:00", "Text '2011-02-03 25:00' could not be parsed at index 16"),
            ("2011-02-03 04", "Text '2011-02-03 04' could not be parsed at index 13"),
            ("2011-02-03 04:05:06.", "Text '2011-02-03 04:05:06.' could not be parsed at index 20"),
            ("2011-02-03 04:05 Mars/Base", "Text '2011-02-03 04:05 Mars/Base' could not be parsed at index 16"),
            ("2011-02-03 04:05+25:00", "Text '2011-02-03 04:05+25:00' could not be parsed at index 16"),
            ("2011-02-03 04:05Zulu!", "Text '2011-02-03 04:05Zulu!' could not be parsed at index 16"),
            ("2011-02-03€", "Text '2011-02-03€' could not be parsed at index 10"),
        ];
        for (text, message) in cases {
            assert_eq!(parse(text).unwrap_err(), message, "{text}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }

        /// The direct reading of the common UTC form gives what the general parser gives, and
        /// leaves every text it does not take to it.
        #[test]
        fn utc_form_is_read_as_parse_reads_it(
            year in 0i32..=9999,
            day_of_year in 0u64..366,
            secs in 0u32..86_400,
            nanos in 0u32..1_000_000_000,
            digits in 0usize..=9,
            with_seconds in any::<bool>(),
            space in any::<bool>(),
        ) {
            let date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap() + chrono::Days::new(day_of_year);
            let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).unwrap();
            let mut text = date.format("%Y-%m-%d").to_string();
            text.push(if space { ' ' } else { 'T' });
            text.push_str(&time.format(if with_seconds { "%H:%M:%S%.9f" } else { "%H:%M" }).to_string());
            if with_seconds {
                // Keep `digits` digits of the fraction (none: no point).
                text.truncate(text.len() - 10 + if digits == 0 { 0 } else { 1 + digits });
            }
            text.push('Z');
            let general = parse(&text).unwrap().to_instant(Tz::Europe__Paris).unwrap();
            let expected = i128::from(general.timestamp()) * 1_000_000_000 + i128::from(general.timestamp_subsec_nanos());
            prop_assert_eq!(utc_nanos(&text), Some(expected), "{}", text);
        }

        #[test]
        fn utc_form_takes_nothing_the_parser_refuses(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{0,10})?)?Z") {
            match parse(&s).ok().and_then(|p| p.to_instant(Tz::UTC).ok()) {
                Some(i) => prop_assert_eq!(
                    utc_nanos(&s),
                    Some(i128::from(i.timestamp()) * 1_000_000_000 + i128::from(i.timestamp_subsec_nanos()))
                ),
                None => prop_assert_eq!(utc_nanos(&s), None),
            }
        }

        #[test]
        fn formatted_timestamps_parse_back(
            secs in -62_135_596_800i64..253_402_300_799i64,
            nanos in 0u32..1_000_000_000,
            offset_min in -18 * 60i32..=18 * 60,
        ) {
            let instant = chrono::DateTime::from_timestamp(secs, nanos).unwrap();
            let zone = FixedOffset::east_opt(offset_min * 60).unwrap();
            let text = instant.with_timezone(&zone).format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string();
            let parsed = parse(&text).unwrap();
            prop_assert_eq!(parsed.to_instant(Tz::UTC), Ok(instant));
        }
    }
}
