//! The `codec.timestamp` / `codec.date` / `codec.time` formats and text → instant, date or time.
//!
//! Three kinds of format, as the DataStax connector accepts them: `CQL_TIMESTAMP` (a lenient parser
//! for every CQL timestamp literal, in `cql`), `UNITS_SINCE_EPOCH` (a number of `codec.unit`; the
//! number itself is read by [`super::convert`]), and `java.time.format.DateTimeFormatter` constants
//! and patterns, re-implemented in `pattern` (strict, case-insensitive, English text only).
//!
//! A parse yields a `Parsed`: whichever of date, time and zone the text carried. Turning it into
//! an instant, a date or a time follows the connector: a missing zone is `codec.timeZone`, a
//! missing time is midnight, a missing date is the epoch day, and zoned values are moved into
//! `codec.timeZone` before a date or time is taken from them.

mod cql;
mod pattern;

use chrono::{DateTime, Days, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

pub use pattern::DateTimeFormat;

use super::TimeUnit;
use super::convert::excerpt;

/// A `codec.timestamp` / `codec.date` / `codec.time` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemporalFormat {
    /// `CQL_TIMESTAMP`: every CQL timestamp literal form.
    CqlTimestamp,
    /// `UNITS_SINCE_EPOCH`: a number of `codec.unit` since 1970-01-01T00:00Z.
    UnitsSinceEpoch,
    /// A `DateTimeFormatter` constant (`ISO_LOCAL_DATE`, …) or a pattern (`yyyy-MM-dd HH:mm:ss`).
    Formatter(DateTimeFormat),
}

impl TemporalFormat {
    /// Reads a setting value; `Err` is the reason it is not a valid format.
    pub fn parse(setting: &str) -> Result<TemporalFormat, String> {
        match setting {
            "CQL_TIMESTAMP" => Ok(TemporalFormat::CqlTimestamp),
            "UNITS_SINCE_EPOCH" => Ok(TemporalFormat::UnitsSinceEpoch),
            _ => DateTimeFormat::new(setting).map(TemporalFormat::Formatter),
        }
    }

    /// `ISO_LOCAL_DATE`, the `codec.date` default.
    pub fn iso_local_date() -> TemporalFormat {
        TemporalFormat::Formatter(DateTimeFormat::iso_local_date())
    }

    /// `ISO_LOCAL_TIME`, the `codec.time` default.
    pub fn iso_local_time() -> TemporalFormat {
        TemporalFormat::Formatter(DateTimeFormat::iso_local_time())
    }

    /// The setting value this format was read from.
    pub fn name(&self) -> &str {
        match self {
            TemporalFormat::CqlTimestamp => "CQL_TIMESTAMP",
            TemporalFormat::UnitsSinceEpoch => "UNITS_SINCE_EPOCH",
            TemporalFormat::Formatter(f) => f.source(),
        }
    }

    /// Parses text with a textual format. `UNITS_SINCE_EPOCH` is numeric and is read by the caller.
    pub(crate) fn parse_text(&self, s: &str) -> Result<Parsed, String> {
        match self {
            TemporalFormat::CqlTimestamp => cql::parse(s),
            TemporalFormat::Formatter(f) => f.parse(s),
            TemporalFormat::UnitsSinceEpoch => {
                Err(format!("Text '{}' could not be parsed: expected a number of units since the epoch", excerpt(s)))
            }
        }
    }

    pub fn parse_instant(&self, s: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
        self.parse_text(s)?.to_instant(zone).map_err(|r| unresolved(s, r))
    }

    /// [`TemporalFormat::parse_instant`] in nanoseconds since the epoch.
    pub fn parse_instant_nanos(&self, s: &str, zone: Tz) -> Result<i128, String> {
        if let TemporalFormat::CqlTimestamp = self
            && let Some(nanos) = cql::utc_nanos(s)
        {
            return Ok(nanos);
        }
        self.parse_instant(s, zone).map(epoch_nanos)
    }

    pub fn parse_date(&self, s: &str, zone: Tz) -> Result<NaiveDate, String> {
        self.parse_text(s)?.to_date(zone).map_err(|r| unresolved(s, r))
    }

    pub fn parse_time(&self, s: &str, zone: Tz) -> Result<NaiveTime, String> {
        self.parse_text(s)?.to_time(zone).map_err(|r| unresolved(s, r))
    }

    /// Formats `instant` as this format would, for error messages that show an accepted example.
    pub fn format(&self, instant: DateTime<Utc>, zone: Tz, unit: TimeUnit) -> String {
        match self {
            TemporalFormat::CqlTimestamp => {
                let local = instant.with_timezone(&zone);
                let offset = local.offset().fix();
                let mut out = local.naive_local().format("%Y-%m-%dT%H:%M:%S%.f").to_string();
                push_offset_id(&mut out, offset);
                out
            }
            TemporalFormat::UnitsSinceEpoch => {
                let nanos =
                    i128::from(instant.timestamp()) * 1_000_000_000 + i128::from(instant.timestamp_subsec_nanos());
                nanos.div_euclid(unit.nanos()).to_string()
            }
            TemporalFormat::Formatter(f) => f.format(instant, zone),
        }
    }
}

/// Nanoseconds since the epoch.
pub fn epoch_nanos(instant: DateTime<Utc>) -> i128 {
    i128::from(instant.timestamp()) * 1_000_000_000 + i128::from(instant.timestamp_subsec_nanos())
}

fn unresolved(s: &str, reason: &str) -> String {
    format!("Text '{}' could not be parsed: {reason}", excerpt(s))
}

/// `+HH:MM[:ss]` or `Z`, as `DateTimeFormatter.ISO_OFFSET_DATE_TIME` prints an offset.
fn push_offset_id(out: &mut String, offset: FixedOffset) {
    let secs = offset.local_minus_utc();
    if secs == 0 {
        out.push('Z');
        return;
    }
    let abs = secs.unsigned_abs();
    out.push(if secs < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}:{:02}", abs / 3600, abs / 60 % 60));
    if !abs.is_multiple_of(60) {
        out.push_str(&format!(":{:02}", abs % 60));
    }
}

/// A zone carried by the text: a fixed offset or a region with rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Offset(FixedOffset),
    Region(Tz),
}

impl Zone {
    /// The instant of `local` in this zone. Inside a daylight-saving gap the offset before the
    /// gap applies (the local time moves forward by the gap); in an overlap the earlier instant
    /// wins, as `java.time.ZonedDateTime.of` does.
    fn instant_of(self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Offset(o) => o.from_local_datetime(&local).single().map(|d| d.with_timezone(&Utc)),
            Zone::Region(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
                LocalResult::Ambiguous(early, _) => Some(early.with_timezone(&Utc)),
                LocalResult::None => {
                    let before = local.checked_sub_days(Days::new(1))?;
                    let offset = tz.offset_from_utc_datetime(&before).fix();
                    offset.from_local_datetime(&local).single().map(|d| d.with_timezone(&Utc))
                }
            },
        }
    }
}

/// What a temporal text carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Parsed {
    pub(crate) date: Option<NaiveDate>,
    pub(crate) time: Option<NaiveTime>,
    pub(crate) zone: Option<Zone>,
}

const NO_INSTANT: &str = "Unable to obtain Instant from the parsed fields";

impl Parsed {
    pub(crate) fn to_instant(self, default_zone: Tz) -> Result<DateTime<Utc>, &'static str> {
        if self.date.is_none() && self.time.is_none() {
            return Err(NO_INSTANT);
        }
        let date = self.date.unwrap_or(DateTime::UNIX_EPOCH.date_naive());
        let local = date.and_time(self.time.unwrap_or(NaiveTime::MIN));
        self.zone.unwrap_or(Zone::Region(default_zone)).instant_of(local).ok_or(NO_INSTANT)
    }

    pub(crate) fn to_date(self, zone: Tz) -> Result<NaiveDate, &'static str> {
        match (self.date, self.time, self.zone) {
            (Some(_), Some(_), Some(_)) => Ok(self.to_instant(zone)?.with_timezone(&zone).date_naive()),
            (Some(d), _, _) => Ok(d),
            _ => Err("Unable to obtain LocalDate from the parsed fields"),
        }
    }

    pub(crate) fn to_time(self, zone: Tz) -> Result<NaiveTime, &'static str> {
        match (self.time, self.zone) {
            (Some(_), Some(_)) => Ok(self.to_instant(zone)?.with_timezone(&zone).time()),
            (Some(t), None) => Ok(t),
            _ => Err("Unable to obtain LocalTime from the parsed fields"),
        }
    }
}

/// Abbreviations `java.time` understands as zone text (pattern letter `z`, CQL ` PST`), mapped to
/// the region they stand for; daylight and standard names share a region because the region's
/// rules decide the offset.
const ZONE_ABBREVIATIONS: [(&str, Tz); 22] = [
    ("PST", Tz::America__Los_Angeles),
    ("PDT", Tz::America__Los_Angeles),
    ("MST", Tz::America__Denver),
    ("MDT", Tz::America__Denver),
    ("CST", Tz::America__Chicago),
    ("CDT", Tz::America__Chicago),
    ("EST", Tz::America__New_York),
    ("EDT", Tz::America__New_York),
    ("AKST", Tz::America__Anchorage),
    ("AKDT", Tz::America__Anchorage),
    ("HST", Tz::Pacific__Honolulu),
    ("BST", Tz::Europe__London),
    ("CET", Tz::Europe__Paris),
    ("CEST", Tz::Europe__Paris),
    ("EET", Tz::Europe__Athens),
    ("EEST", Tz::Europe__Athens),
    ("WET", Tz::Europe__Lisbon),
    ("WEST", Tz::Europe__Lisbon),
    ("IST", Tz::Asia__Kolkata),
    ("JST", Tz::Asia__Tokyo),
    ("AEST", Tz::Australia__Sydney),
    ("AEDT", Tz::Australia__Sydney),
];

pub(crate) fn zone_abbreviation(s: &str) -> Option<Tz> {
    ZONE_ABBREVIATIONS.iter().find(|(name, _)| name.eq_ignore_ascii_case(s)).map(|&(_, tz)| tz)
}

/// A `java.time.ZoneId` text: `Z`, an offset (`+01`, `+0100`, `+01:00`, `+01:00:00`), an offset
/// after `UTC`/`GMT`/`UT`, or a region id (exact case first, then any case).
pub(crate) fn parse_zone_id(s: &str) -> Option<Zone> {
    if s.eq_ignore_ascii_case("Z") {
        return Some(Zone::Offset(FixedOffset::east_opt(0)?));
    }
    if s.starts_with(['+', '-']) {
        return parse_offset_id(s).map(Zone::Offset);
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if let Some(rest) = strip_prefix_ignore_case(s, prefix) {
            if rest.is_empty() {
                return Some(Zone::Region(Tz::UTC));
            }
            if rest.starts_with(['+', '-']) {
                return parse_offset_id(rest).map(Zone::Offset);
            }
        }
    }
    if let Ok(tz) = s.parse::<Tz>() {
        return Some(Zone::Region(tz));
    }
    chrono_tz::TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(s)).map(|&tz| Zone::Region(tz))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| s.get(prefix.len()..)).flatten()
}

/// `±H`, `±HH`, `±HH:MM`, `±HHMM`, `±HH:MM:SS`, `±HHMMSS` (`ZoneOffset.of`).
fn parse_offset_id(s: &str) -> Option<FixedOffset> {
    let b = s.as_bytes();
    let negative = match b.first()? {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let digits = &b[1..];
    let two = |i: usize| -> Option<i32> {
        let (a, c) = (*digits.get(i)?, *digits.get(i + 1)?);
        (a.is_ascii_digit() && c.is_ascii_digit()).then(|| i32::from(a - b'0') * 10 + i32::from(c - b'0'))
    };
    let (h, m, sec) = match digits.len() {
        1 if digits[0].is_ascii_digit() => (i32::from(digits[0] - b'0'), 0, 0),
        2 => (two(0)?, 0, 0),
        4 => (two(0)?, two(2)?, 0),
        5 if digits[2] == b':' => (two(0)?, two(3)?, 0),
        6 => (two(0)?, two(2)?, two(4)?),
        8 if digits[2] == b':' && digits[5] == b':' => (two(0)?, two(3)?, two(6)?),
        _ => return None,
    };
    if h > 18 || m > 59 || sec > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + sec;
    if total > 18 * 3600 {
        return None;
    }
    FixedOffset::east_opt(if negative { -total } else { total })
}

/// A zone at the start of `b` (ids contain no spaces): the longest prefix that names a zone, and
/// its length. `abbreviations` also accepts `PST`-style zone text.
pub(crate) fn parse_zone_prefix(b: &[u8], abbreviations: bool) -> Option<(Zone, usize)> {
    const MAX_ZONE_LEN: usize = 64;
    let run = b.iter().take(MAX_ZONE_LEN).take_while(|c| c.is_ascii_alphanumeric() || b"/_+-:.~".contains(c)).count();
    // The run is ASCII, so every prefix of it is a valid str.
    let text = std::str::from_utf8(&b[..run]).ok()?;
    for len in (1..=run).rev() {
        let candidate = text.get(..len)?;
        if abbreviations && let Some(tz) = zone_abbreviation(candidate) {
            return Some((Zone::Region(tz), len));
        }
        if let Some(zone) = parse_zone_id(candidate) {
            return Some((zone, len));
        }
    }
    None
}

/// Parses a `codec.timeZone` value (`ZoneId.of`). Fixed offsets are kept as `Etc/GMT±h` regions,
/// so only whole hours are accepted.
pub fn parse_time_zone(s: &str) -> Result<Tz, String> {
    match parse_zone_id(s) {
        Some(Zone::Region(tz)) => Ok(tz),
        Some(Zone::Offset(o)) => {
            let secs = o.local_minus_utc();
            if secs == 0 {
                return Ok(Tz::UTC);
            }
            if secs % 3600 != 0 || secs.abs() > 14 * 3600 {
                return Err(format!(
                    "fixed offset '{s}' is not supported: use whole hours or a region id such as 'Asia/Kolkata'"
                ));
            }
            // POSIX-style names: Etc/GMT-2 is two hours *ahead* of UTC.
            let name = format!("Etc/GMT{:+}", -secs / 3600);
            name.parse::<Tz>().map_err(|_| format!("Unknown time-zone ID: {s}"))
        }
        None => Err(format!("Unknown time-zone ID: {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn named_and_special_formats() {
        assert_eq!(TemporalFormat::parse("CQL_TIMESTAMP"), Ok(TemporalFormat::CqlTimestamp));
        assert_eq!(TemporalFormat::parse("UNITS_SINCE_EPOCH"), Ok(TemporalFormat::UnitsSinceEpoch));
        for name in [
            "ISO_LOCAL_DATE",
            "ISO_OFFSET_DATE",
            "ISO_DATE",
            "ISO_LOCAL_TIME",
            "ISO_OFFSET_TIME",
            "ISO_TIME",
            "ISO_LOCAL_DATE_TIME",
            "ISO_OFFSET_DATE_TIME",
            "ISO_ZONED_DATE_TIME",
            "ISO_DATE_TIME",
            "ISO_ORDINAL_DATE",
            "ISO_INSTANT",
            "BASIC_ISO_DATE",
            "RFC_1123_DATE_TIME",
        ] {
            let f = TemporalFormat::parse(name).unwrap();
            assert_eq!(f.name(), name);
        }
        assert_eq!(TemporalFormat::parse("ISO_WEEK_DATE"), Err("ISO_WEEK_DATE is not supported".to_string()));
        assert_eq!(TemporalFormat::parse("yyyy-QQ"), Err("unsupported pattern letter 'Q'".to_string()));
        assert_eq!(TemporalFormat::parse("yyyy-bb"), Err("unknown pattern letter 'b'".to_string()));
    }

    #[test]
    fn instants_dates_times_with_zones() {
        let paris = Tz::Europe__Paris;
        let f = TemporalFormat::CqlTimestamp;
        assert_eq!(f.parse_instant("2020-01-01 10:00", paris), Ok(utc("2020-01-01T09:00:00Z")));
        assert_eq!(f.parse_instant("2020-01-01 10:00Z", paris), Ok(utc("2020-01-01T10:00:00Z")));
        // Daylight-saving gap: 02:30 does not exist in Paris on 2021-03-28; Java moves it to 03:30.
        assert_eq!(f.parse_instant("2021-03-28 02:30", paris), Ok(utc("2021-03-28T01:30:00Z")));
        // Overlap: the earlier instant.
        assert_eq!(f.parse_instant("2021-10-31 02:30", paris), Ok(utc("2021-10-31T00:30:00Z")));
        let d = TemporalFormat::parse("ISO_DATE_TIME").unwrap();
        assert_eq!(
            d.parse_date("2020-01-01T23:00:00-05:00", Tz::UTC),
            Ok(NaiveDate::from_ymd_opt(2020, 1, 2).unwrap())
        );
        assert_eq!(d.parse_time("2020-01-01T23:00:00-05:00", Tz::UTC), Ok(NaiveTime::from_hms_opt(4, 0, 0).unwrap()));
        let t = TemporalFormat::iso_local_time();
        assert_eq!(
            t.parse_date("10:00", Tz::UTC),
            Err("Text '10:00' could not be parsed: Unable to obtain LocalDate from the parsed fields".to_string())
        );
    }

    #[test]
    fn zone_ids() {
        assert_eq!(parse_time_zone("UTC"), Ok(Tz::UTC));
        assert_eq!(parse_time_zone("Europe/Paris"), Ok(Tz::Europe__Paris));
        assert_eq!(parse_time_zone("europe/paris"), Ok(Tz::Europe__Paris));
        assert_eq!(parse_time_zone("+02:00"), Ok(Tz::Etc__GMTMinus2));
        assert_eq!(parse_time_zone("UTC-5"), Ok(Tz::Etc__GMTPlus5));
        assert_eq!(parse_time_zone("Z"), Ok(Tz::UTC));
        assert_eq!(parse_time_zone("Mars/Olympus"), Err("Unknown time-zone ID: Mars/Olympus".to_string()));
        assert!(parse_time_zone("+05:30").unwrap_err().contains("not supported"));
        assert_eq!(parse_zone_prefix(b"Europe/Paris]", false), Some((Zone::Region(Tz::Europe__Paris), 12)));
        assert_eq!(parse_zone_prefix(b"PST", true), Some((Zone::Region(Tz::America__Los_Angeles), 3)));
        assert_eq!(parse_zone_prefix("é".as_bytes(), true), None);
    }

    #[test]
    fn format_examples() {
        let y2k = utc("2000-01-01T00:00:00Z");
        let ms = TimeUnit::Milliseconds;
        assert_eq!(TemporalFormat::CqlTimestamp.format(y2k, Tz::UTC, ms), "2000-01-01T00:00:00Z");
        assert_eq!(TemporalFormat::CqlTimestamp.format(y2k, Tz::Europe__Paris, ms), "2000-01-01T01:00:00+01:00");
        assert_eq!(TemporalFormat::UnitsSinceEpoch.format(y2k, Tz::UTC, ms), "946684800000");
        assert_eq!(TemporalFormat::UnitsSinceEpoch.format(y2k, Tz::UTC, TimeUnit::Days), "10957");
    }
}
