//! `java.time.format.DateTimeFormatter` constants and patterns, as the connector builds them.
//!
//! Patterns parse strictly (fixed widths are exact, a `+` only where Java accepts one) and
//! case-insensitively, and resolve with Java's SMART style (a day past the month's end is
//! clamped, `24:00` is the next midnight); the `ISO_*` constants resolve STRICT. Adjacent value
//! parsing works as in Java: in `yyyyMMdd` the year leaves the last four digits to the fixed-width
//! fields after it. Text (month and day names, AM/PM, eras) is English whatever `codec.locale`
//! says. Not supported: week-based fields (`Y`, `w`, `W`, `e`, `c`), quarters, day periods,
//! generic zone names (`v`) and padding (`p`).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};

use super::{Parsed, Zone, parse_zone_prefix};
use crate::codec::convert::excerpt;

/// A compiled `DateTimeFormatter`: a named `ISO_*` constant or a user pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeFormat {
    source: Box<str>,
    items: Vec<Item>,
    /// SMART resolver (patterns) rather than STRICT (the ISO constants).
    smart: bool,
    /// `ISO_INSTANT` prints in UTC whatever the zone.
    utc: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(Box<str>),
    Number {
        field: Field,
        min: u8,
        max: u8,
        sign: Sign,
    },
    /// Two digits, base year 2000 (`yy`, `uu`).
    Reduced(Field),
    Fraction {
        min: u8,
        max: u8,
        point: bool,
    },
    Text(Field, Style),
    Offset(OffsetStyle),
    /// `GMT+8` (`O`) or `GMT+08:00` (`OOOO`, `ZZZZ`).
    LocalizedOffset {
        full: bool,
    },
    ZoneId,
    ZoneText,
    Optional(Vec<Item>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Era,
    Year,
    YearOfEra,
    Month,
    Day,
    DayOfYear,
    DayOfWeek,
    AmPm,
    HourOfDay,
    ClockHourOfAmPm,
    HourOfAmPm,
    ClockHourOfDay,
    Minute,
    Second,
    Nano,
    MilliOfDay,
    NanoOfDay,
}

const FIELD_COUNT: usize = 17;

impl Field {
    fn java_name(self) -> &'static str {
        match self {
            Field::Era => "Era",
            Field::Year => "Year",
            Field::YearOfEra => "YearOfEra",
            Field::Month => "MonthOfYear",
            Field::Day => "DayOfMonth",
            Field::DayOfYear => "DayOfYear",
            Field::DayOfWeek => "DayOfWeek",
            Field::AmPm => "AmPmOfDay",
            Field::HourOfDay => "HourOfDay",
            Field::ClockHourOfAmPm => "ClockHourOfAmPm",
            Field::HourOfAmPm => "HourOfAmPm",
            Field::ClockHourOfDay => "ClockHourOfDay",
            Field::Minute => "MinuteOfHour",
            Field::Second => "SecondOfMinute",
            Field::Nano => "NanoOfSecond",
            Field::MilliOfDay => "MilliOfDay",
            Field::NanoOfDay => "NanoOfDay",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Normal,
    NotNegative,
    /// A sign only (and then always) when the value is wider than the minimum width.
    ExceedsPad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Short,
    Full,
    Narrow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    No,
    Optional,
    Required,
}

/// One of Java's offset patterns (`+HH:MM:ss`, …) and the text standing for a zero offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OffsetStyle {
    colon: bool,
    minutes: Need,
    seconds: Need,
    zero: &'static str,
}

const ISO_OFFSET: OffsetStyle =
    OffsetStyle { colon: true, minutes: Need::Required, seconds: Need::Optional, zero: "Z" };

const MONTHS_FULL: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS_FULL: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The names a text field can take in a style, indexed by value minus the field's first value.
fn names(field: Field, style: Style) -> &'static [&'static str] {
    const MONTHS_SHORT: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const MONTHS_NARROW: [&str; 12] = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"];
    const DAYS_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const DAYS_NARROW: [&str; 7] = ["M", "T", "W", "T", "F", "S", "S"];
    match (field, style) {
        (Field::Month, Style::Short) => &MONTHS_SHORT,
        (Field::Month, Style::Full) => &MONTHS_FULL,
        (Field::Month, Style::Narrow) => &MONTHS_NARROW,
        (Field::DayOfWeek, Style::Short) => &DAYS_SHORT,
        (Field::DayOfWeek, Style::Full) => &DAYS_FULL,
        (Field::DayOfWeek, Style::Narrow) => &DAYS_NARROW,
        (Field::Era, Style::Short) => &["BC", "AD"],
        (Field::Era, Style::Full) => &["Before Christ", "Anno Domini"],
        (Field::Era, Style::Narrow) => &["B", "A"],
        (Field::AmPm, _) => &["AM", "PM"],
        _ => &[],
    }
}

/// Value of the first name in [`names`].
fn first_value(field: Field) -> i64 {
    match field {
        Field::Month | Field::DayOfWeek => 1,
        _ => 0,
    }
}

fn num(field: Field, min: u8, max: u8, sign: Sign) -> Item {
    Item::Number { field, min, max, sign }
}

fn fixed(field: Field, width: u8) -> Item {
    num(field, width, width, Sign::NotNegative)
}

fn lit(s: &str) -> Item {
    Item::Literal(s.into())
}

fn iso_local_date_items() -> Vec<Item> {
    vec![num(Field::Year, 4, 10, Sign::ExceedsPad), lit("-"), fixed(Field::Month, 2), lit("-"), fixed(Field::Day, 2)]
}

fn iso_local_time_items() -> Vec<Item> {
    vec![
        fixed(Field::HourOfDay, 2),
        lit(":"),
        fixed(Field::Minute, 2),
        Item::Optional(vec![
            lit(":"),
            fixed(Field::Second, 2),
            Item::Optional(vec![Item::Fraction { min: 0, max: 9, point: true }]),
        ]),
    ]
}

fn iso_local_date_time_items() -> Vec<Item> {
    let mut items = iso_local_date_items();
    items.push(lit("T"));
    items.extend(iso_local_time_items());
    items
}

fn zone_region_items() -> Item {
    Item::Optional(vec![lit("["), Item::ZoneId, lit("]")])
}

impl DateTimeFormat {
    /// A named `DateTimeFormatter` constant, else a pattern.
    pub fn new(setting: &str) -> Result<DateTimeFormat, String> {
        let with = |items: Vec<Item>| DateTimeFormat { source: setting.into(), items, smart: false, utc: false };
        let optional_offset = || Item::Optional(vec![Item::Offset(ISO_OFFSET)]);
        let format = match setting {
            "ISO_LOCAL_DATE" => with(iso_local_date_items()),
            "ISO_OFFSET_DATE" => with([iso_local_date_items(), vec![Item::Offset(ISO_OFFSET)]].concat()),
            "ISO_DATE" => with([iso_local_date_items(), vec![optional_offset()]].concat()),
            "ISO_LOCAL_TIME" => with(iso_local_time_items()),
            "ISO_OFFSET_TIME" => with([iso_local_time_items(), vec![Item::Offset(ISO_OFFSET)]].concat()),
            "ISO_TIME" => with([iso_local_time_items(), vec![optional_offset()]].concat()),
            "ISO_LOCAL_DATE_TIME" => with(iso_local_date_time_items()),
            "ISO_OFFSET_DATE_TIME" => with([iso_local_date_time_items(), vec![Item::Offset(ISO_OFFSET)]].concat()),
            "ISO_ZONED_DATE_TIME" => {
                with([iso_local_date_time_items(), vec![Item::Offset(ISO_OFFSET), zone_region_items()]].concat())
            }
            "ISO_DATE_TIME" => with(
                [
                    iso_local_date_time_items(),
                    vec![Item::Optional(vec![Item::Offset(ISO_OFFSET), zone_region_items()])],
                ]
                .concat(),
            ),
            "ISO_ORDINAL_DATE" => with(vec![
                num(Field::Year, 4, 10, Sign::ExceedsPad),
                lit("-"),
                fixed(Field::DayOfYear, 3),
                optional_offset(),
            ]),
            "ISO_INSTANT" => {
                let mut items = iso_local_date_items();
                items.extend([
                    lit("T"),
                    fixed(Field::HourOfDay, 2),
                    lit(":"),
                    fixed(Field::Minute, 2),
                    lit(":"),
                    fixed(Field::Second, 2),
                    Item::Fraction { min: 0, max: 9, point: true },
                    Item::Offset(ISO_OFFSET),
                ]);
                DateTimeFormat { utc: true, ..with(items) }
            }
            "BASIC_ISO_DATE" => with(vec![
                fixed(Field::Year, 4),
                fixed(Field::Month, 2),
                fixed(Field::Day, 2),
                Item::Optional(vec![Item::Offset(OffsetStyle {
                    colon: false,
                    minutes: Need::Required,
                    seconds: Need::Optional,
                    zero: "Z",
                })]),
            ]),
            "RFC_1123_DATE_TIME" => DateTimeFormat {
                smart: true,
                ..with(vec![
                    Item::Optional(vec![Item::Text(Field::DayOfWeek, Style::Short), lit(", ")]),
                    num(Field::Day, 1, 2, Sign::NotNegative),
                    lit(" "),
                    Item::Text(Field::Month, Style::Short),
                    lit(" "),
                    fixed(Field::Year, 4),
                    lit(" "),
                    fixed(Field::HourOfDay, 2),
                    lit(":"),
                    fixed(Field::Minute, 2),
                    Item::Optional(vec![lit(":"), fixed(Field::Second, 2)]),
                    lit(" "),
                    Item::Offset(OffsetStyle { colon: false, minutes: Need::Required, seconds: Need::No, zero: "GMT" }),
                ])
            },
            "ISO_WEEK_DATE" => return Err("ISO_WEEK_DATE is not supported".to_string()),
            pattern => DateTimeFormat { smart: true, ..with(compile(pattern)?) },
        };
        Ok(format)
    }

    pub(super) fn iso_local_date() -> DateTimeFormat {
        DateTimeFormat { source: "ISO_LOCAL_DATE".into(), items: iso_local_date_items(), smart: false, utc: false }
    }

    pub(super) fn iso_local_time() -> DateTimeFormat {
        DateTimeFormat { source: "ISO_LOCAL_TIME".into(), items: iso_local_time_items(), smart: false, utc: false }
    }

    /// The constant's name or the pattern, as configured.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub(super) fn parse(&self, s: &str) -> Result<Parsed, String> {
        let b = s.as_bytes();
        let mut fields = Fields::default();
        let end = parse_items(&self.items, b, 0, &mut fields)
            .map_err(|at| format!("Text '{}' could not be parsed at index {at}", excerpt(s)))?;
        if end != b.len() {
            return Err(format!("Text '{}' could not be parsed, unparsed text found at index {end}", excerpt(s)));
        }
        fields.resolve(self.smart).map_err(|reason| format!("Text '{}' could not be parsed: {reason}", excerpt(s)))
    }

    pub(super) fn format(&self, instant: DateTime<Utc>, zone: Tz) -> String {
        let zone = if self.utc { Tz::UTC } else { zone };
        let local = instant.with_timezone(&zone);
        let ctx = FormatContext {
            date: local.date_naive(),
            time: local.time(),
            offset: local.offset().fix(),
            zone_id: zone.name(),
            zone_text: local.offset().abbreviation().unwrap_or(zone.name()),
        };
        let mut out = String::new();
        format_items(&self.items, &ctx, &mut out);
        out
    }
}

/// Compiles a pattern with `DateTimeFormatterBuilder.appendPattern`'s letter rules.
fn compile(pattern: &str) -> Result<Vec<Item>, String> {
    const MAX_OPTIONAL_DEPTH: usize = 16;
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut chars = pattern.chars().peekable();
    let mut literal = String::new();
    let flush = |literal: &mut String, stack: &mut Vec<Vec<Item>>| {
        if !literal.is_empty()
            && let Some(top) = stack.last_mut()
        {
            top.push(Item::Literal(std::mem::take(literal).into()));
        }
    };
    while let Some(c) = chars.next() {
        if c.is_ascii_alphabetic() {
            let mut count = 1usize;
            while chars.peek() == Some(&c) {
                chars.next();
                count += 1;
            }
            flush(&mut literal, &mut stack);
            let item = letter_item(c, count)?;
            if let Some(top) = stack.last_mut() {
                top.push(item);
            }
        } else if c == '\'' {
            // A quoted literal; '' inside (or alone) is one quote.
            let mut closed = false;
            let mut text = String::new();
            while let Some(q) = chars.next() {
                if q == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        text.push('\'');
                    } else {
                        closed = true;
                        break;
                    }
                } else {
                    text.push(q);
                }
            }
            if !closed {
                return Err("Pattern ends with an incomplete string literal".to_string());
            }
            literal.push_str(if text.is_empty() { "'" } else { &text });
        } else if c == '[' {
            flush(&mut literal, &mut stack);
            if stack.len() > MAX_OPTIONAL_DEPTH {
                return Err(format!("optional sections nested deeper than {MAX_OPTIONAL_DEPTH}"));
            }
            stack.push(Vec::new());
        } else if c == ']' {
            flush(&mut literal, &mut stack);
            if stack.len() < 2 {
                return Err("Pattern invalid as it contains ] without previous [".to_string());
            }
            if let Some(inner) = stack.pop()
                && let Some(top) = stack.last_mut()
            {
                top.push(Item::Optional(inner));
            }
        } else if matches!(c, '{' | '}' | '#') {
            return Err(format!("Pattern includes reserved character: '{c}'"));
        } else {
            literal.push(c);
        }
    }
    flush(&mut literal, &mut stack);
    // Java closes sections left open at the end.
    while stack.len() > 1 {
        if let Some(inner) = stack.pop()
            && let Some(top) = stack.last_mut()
        {
            top.push(Item::Optional(inner));
        }
    }
    Ok(stack.pop().unwrap_or_default())
}

fn letter_item(c: char, count: usize) -> Result<Item, String> {
    let too_many = || Err(format!("Too many pattern letters: {c}"));
    let style = |count: usize| match count {
        1..=3 => Ok(Style::Short),
        4 => Ok(Style::Full),
        5 => Ok(Style::Narrow),
        _ => Err(format!("Too many pattern letters: {c}")),
    };
    // Widths are at most 19 digits, like Java's.
    let width = u8::try_from(count).ok().filter(|w| *w <= 19).ok_or_else(|| format!("Too many pattern letters: {c}"));
    let simple = |field: Field| match count {
        1 => Ok(num(field, 1, 19, Sign::Normal)),
        2 => Ok(fixed(field, 2)),
        _ => too_many(),
    };
    let offset = |minutes: Need, seconds: Need, colon: bool, zero: &'static str| {
        Ok(Item::Offset(OffsetStyle { colon, minutes, seconds, zero }))
    };
    use Need::{No, Optional as Opt, Required as Req};
    match c {
        'G' => Ok(Item::Text(Field::Era, style(count)?)),
        'y' | 'u' => {
            let field = if c == 'y' { Field::YearOfEra } else { Field::Year };
            match count {
                1 => Ok(num(field, 1, 19, Sign::Normal)),
                2 => Ok(Item::Reduced(field)),
                3 => Ok(num(field, 3, 19, Sign::Normal)),
                _ => Ok(num(field, width?, 19, Sign::ExceedsPad)),
            }
        }
        'M' | 'L' => match count {
            1 => Ok(num(Field::Month, 1, 19, Sign::Normal)),
            2 => Ok(fixed(Field::Month, 2)),
            _ => Ok(Item::Text(Field::Month, style(count)?)),
        },
        'd' => simple(Field::Day),
        'D' => match count {
            1 => Ok(num(Field::DayOfYear, 1, 19, Sign::Normal)),
            2 => Ok(num(Field::DayOfYear, 2, 3, Sign::NotNegative)),
            3 => Ok(fixed(Field::DayOfYear, 3)),
            _ => too_many(),
        },
        'E' => Ok(Item::Text(Field::DayOfWeek, style(count)?)),
        'a' => match count {
            1 => Ok(Item::Text(Field::AmPm, Style::Short)),
            _ => too_many(),
        },
        'H' => simple(Field::HourOfDay),
        'k' => simple(Field::ClockHourOfDay),
        'K' => simple(Field::HourOfAmPm),
        'h' => simple(Field::ClockHourOfAmPm),
        'm' => simple(Field::Minute),
        's' => simple(Field::Second),
        'S' => match count {
            1..=9 => {
                let w = width?;
                Ok(Item::Fraction { min: w, max: w, point: false })
            }
            _ => too_many(),
        },
        'n' | 'N' | 'A' => {
            let field = match c {
                'n' => Field::Nano,
                'N' => Field::NanoOfDay,
                _ => Field::MilliOfDay,
            };
            Ok(num(field, width?, 19, Sign::NotNegative))
        }
        'V' => match count {
            2 => Ok(Item::ZoneId),
            _ => Err(format!("Pattern letter count must be 2: {c}")),
        },
        'z' => match count {
            1..=4 => Ok(Item::ZoneText),
            _ => too_many(),
        },
        'O' => match count {
            1 => Ok(Item::LocalizedOffset { full: false }),
            4 => Ok(Item::LocalizedOffset { full: true }),
            _ => Err(format!("Pattern letter count must be 1 or 4: {c}")),
        },
        'X' | 'x' => {
            let zero_x = c == 'X';
            match count {
                1 => offset(Opt, No, false, if zero_x { "Z" } else { "+00" }),
                2 => offset(Req, No, false, if zero_x { "Z" } else { "+0000" }),
                3 => offset(Req, No, true, if zero_x { "Z" } else { "+00:00" }),
                4 => offset(Req, Opt, false, if zero_x { "Z" } else { "+0000" }),
                5 => offset(Req, Opt, true, if zero_x { "Z" } else { "+00:00" }),
                _ => too_many(),
            }
        }
        'Z' => match count {
            1..=3 => offset(Req, No, false, "+0000"),
            4 => Ok(Item::LocalizedOffset { full: true }),
            5 => offset(Req, Opt, true, "Z"),
            _ => too_many(),
        },
        'Q' | 'q' | 'Y' | 'w' | 'W' | 'e' | 'c' | 'F' | 'B' | 'g' | 'v' | 'p' => {
            Err(format!("unsupported pattern letter '{c}'"))
        }
        _ => Err(format!("unknown pattern letter '{c}'")),
    }
}

/// Field values seen while parsing, before resolution.
#[derive(Debug, Clone, Copy, Default)]
struct Fields {
    values: [Option<i64>; FIELD_COUNT],
    offset: Option<FixedOffset>,
    region: Option<Tz>,
}

impl Fields {
    fn get(&self, f: Field) -> Option<i64> {
        self.values[f as usize]
    }

    /// Sets a field; a second, different value for it is a conflict (an error at `at`).
    fn set(&mut self, f: Field, v: i64, at: usize) -> Result<(), usize> {
        let slot = &mut self.values[f as usize];
        match *slot {
            Some(old) if old != v => Err(at),
            _ => {
                *slot = Some(v);
                Ok(())
            }
        }
    }

    fn set_zone(&mut self, zone: Zone) {
        match zone {
            Zone::Offset(o) => self.offset = Some(o),
            Zone::Region(tz) => self.region = Some(tz),
        }
    }

    fn resolve(mut self, smart: bool) -> Result<Parsed, String> {
        let check = |f: Field, v: i64, lo: i64, hi: i64, range: &str| -> Result<i64, String> {
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(format!("Invalid value for {} (valid values {range}): {v}", f.java_name()))
            }
        };
        let conflict = |f: Field| format!("Conflict found: {} has two different values", f.java_name());

        // Year from year-of-era and era (SMART assumes the current era when none was parsed).
        if let Some(yoe) = self.get(Field::YearOfEra) {
            check(Field::YearOfEra, yoe, 1, 999_999_999, "1 - 999999999/1000000000")?;
            let era = match self.get(Field::Era) {
                Some(e) => check(Field::Era, e, 0, 1, "0 - 1")?,
                None => 1,
            };
            let year = if era == 1 { yoe } else { 1 - yoe };
            if self.get(Field::Year).is_some_and(|y| y != year) {
                return Err(conflict(Field::Year));
            }
            self.values[Field::Year as usize] = Some(year);
        }

        let mut date = None;
        if let Some(year) = self.get(Field::Year) {
            check(Field::Year, year, -999_999_999, 999_999_999, "-999999999 - 999999999")?;
            let year = i32::try_from(year).map_err(|_| "Year out of range".to_string())?;
            if let (Some(m), Some(d)) = (self.get(Field::Month), self.get(Field::Day)) {
                let m = check(Field::Month, m, 1, 12, "1 - 12")? as u32;
                let mut d = check(Field::Day, d, 1, 31, "1 - 28/31")? as u32;
                if smart {
                    d = d.min(month_length(year, m));
                }
                date = Some(NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| {
                    if month_length(year, m) < d && m == 2 && d == 29 {
                        format!("Invalid date 'February 29' as '{year}' is not a leap year")
                    } else if month_length(year, m) < d {
                        format!("Invalid date '{} {d}'", MONTHS_FULL[(m - 1) as usize].to_uppercase())
                    } else {
                        "Year out of the supported range".to_string()
                    }
                })?);
            } else if let Some(doy) = self.get(Field::DayOfYear) {
                let doy = check(Field::DayOfYear, doy, 1, 366, "1 - 365/366")? as u32;
                date = Some(
                    NaiveDate::from_yo_opt(year, doy)
                        .ok_or_else(|| format!("Invalid date 'DayOfYear {doy}' as '{year}' is not a leap year"))?,
                );
            }
        }
        if let (Some(d), Some(dow)) = (date, self.get(Field::DayOfWeek)) {
            let actual = i64::from(d.weekday().number_from_monday());
            if actual != dow {
                return Err(format!(
                    "Conflict found: Field DayOfWeek {actual} differs from DayOfWeek {dow} derived from {d}"
                ));
            }
        }

        // Hour of day from the clock and AM/PM fields.
        if let Some(k) = self.get(Field::ClockHourOfDay) {
            let k = check(Field::ClockHourOfDay, k, 1, 24, "1 - 24")?;
            self.set(Field::HourOfDay, if k == 24 { 0 } else { k }, 0).map_err(|_| conflict(Field::HourOfDay))?;
        }
        if let Some(h) = self.get(Field::ClockHourOfAmPm) {
            let h = check(Field::ClockHourOfAmPm, h, 1, 12, "1 - 12")?;
            self.set(Field::HourOfAmPm, if h == 12 { 0 } else { h }, 0).map_err(|_| conflict(Field::HourOfAmPm))?;
        }
        match (self.get(Field::HourOfAmPm), self.get(Field::AmPm)) {
            (Some(h), Some(ap)) => {
                let h = check(Field::HourOfAmPm, h, 0, 11, "0 - 11")?;
                self.set(Field::HourOfDay, ap * 12 + h, 0).map_err(|_| conflict(Field::HourOfDay))?;
            }
            (Some(_), None) => {
                return Err("Unable to resolve the hour: an AM/PM hour without an AM/PM marker".to_string());
            }
            _ => {}
        }
        if let Some(ms) = self.get(Field::MilliOfDay) {
            let ms = check(Field::MilliOfDay, ms, 0, 86_399_999, "0 - 86399999")?;
            self.set_time_of_day(ms * 1_000_000).map_err(|_| conflict(Field::MilliOfDay))?;
        }
        if let Some(ns) = self.get(Field::NanoOfDay) {
            let ns = check(Field::NanoOfDay, ns, 0, 86_399_999_999_999, "0 - 86399999999999")?;
            self.set_time_of_day(ns).map_err(|_| conflict(Field::NanoOfDay))?;
        }

        let mut time = None;
        if let Some(h) = self.get(Field::HourOfDay) {
            let (m, s, n) = (self.get(Field::Minute), self.get(Field::Second), self.get(Field::Nano));
            // Java leaves these combinations unresolved rather than defaulting the gap.
            if (m.is_none() && (s.is_some() || n.is_some())) || (m.is_some() && s.is_none() && n.is_some()) {
                return Err("Unable to obtain LocalTime from the parsed fields".to_string());
            }
            let m = check(Field::Minute, m.unwrap_or(0), 0, 59, "0 - 59")?;
            let s = check(Field::Second, s.unwrap_or(0), 0, 59, "0 - 59")?;
            let n = check(Field::Nano, n.unwrap_or(0), 0, 999_999_999, "0 - 999999999")?;
            let h = if smart && h == 24 && m == 0 && s == 0 && n == 0 {
                // SMART: 24:00 is midnight of the next day.
                date = match date {
                    Some(d) => Some(d.succ_opt().ok_or("Year out of the supported range")?),
                    None => None,
                };
                0
            } else {
                check(Field::HourOfDay, h, 0, 23, "0 - 23")?
            };
            time = NaiveTime::from_hms_nano_opt(h as u32, m as u32, s as u32, n as u32);
        }

        Ok(Parsed { date, time, zone: self.offset.map(Zone::Offset).or(self.region.map(Zone::Region)) })
    }

    fn set_time_of_day(&mut self, nanos: i64) -> Result<(), usize> {
        let secs = nanos / 1_000_000_000;
        self.set(Field::HourOfDay, secs / 3600, 0)?;
        self.set(Field::Minute, secs / 60 % 60, 0)?;
        self.set(Field::Second, secs % 60, 0)?;
        self.set(Field::Nano, nanos % 1_000_000_000, 0)
    }
}

fn month_length(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

fn digit_run(b: &[u8], pos: usize) -> usize {
    b.get(pos..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// Accumulates ASCII digits; `None` on overflow.
fn digits_value(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |acc, d| acc.checked_mul(10)?.checked_add(i64::from(d - b'0')))
}

fn starts_with_ignore_case(b: &[u8], pos: usize, text: &[u8]) -> bool {
    pos.checked_add(text.len()).and_then(|end| b.get(pos..end)).is_some_and(|s| s.eq_ignore_ascii_case(text))
}

/// Total width of the fixed-width numeric items right after a variable-width one: the digits it
/// must leave to them (Java's adjacent value parsing).
fn adjacent_width(rest: &[Item]) -> usize {
    rest.iter()
        .map_while(|item| match item {
            Item::Number { min, max, .. } if min == max => Some(usize::from(*min)),
            Item::Reduced(_) => Some(2),
            Item::Fraction { min, max, point: false } if min == max => Some(usize::from(*min)),
            _ => None,
        })
        .sum()
}

/// Parses `items` from `b[pos..]`; `Err` is the index where the text stopped matching.
fn parse_items(items: &[Item], b: &[u8], mut pos: usize, f: &mut Fields) -> Result<usize, usize> {
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Literal(text) => {
                if !starts_with_ignore_case(b, pos, text.as_bytes()) {
                    return Err(pos);
                }
                pos += text.len();
            }
            Item::Number { field, min, max, sign } => {
                let start = pos;
                let (mut plus, mut minus) = (false, false);
                match b.get(pos) {
                    Some(b'+') if *sign == Sign::ExceedsPad => plus = true,
                    Some(b'-') if *sign != Sign::NotNegative => minus = true,
                    _ => {}
                }
                if plus || minus {
                    pos += 1;
                }
                let reserved = if min == max { 0 } else { adjacent_width(&items[i + 1..]) };
                let available = digit_run(b, pos);
                let take = available.saturating_sub(reserved).min(usize::from(*max));
                if take < usize::from(*min) {
                    return Err(pos);
                }
                let digits = b.get(pos..pos + take).ok_or(pos)?;
                let mut value = digits_value(digits).ok_or(pos)?;
                if *sign == Sign::ExceedsPad {
                    let exceeds = take > usize::from(*min);
                    if (plus && !exceeds) || (!plus && !minus && exceeds) {
                        return Err(start);
                    }
                }
                if minus {
                    value = -value;
                }
                pos += take;
                f.set(*field, value, start)?;
            }
            Item::Reduced(field) => {
                if digit_run(b, pos) < 2 {
                    return Err(pos);
                }
                let digits = b.get(pos..pos + 2).ok_or(pos)?;
                let value = 2000 + digits_value(digits).ok_or(pos)?;
                f.set(*field, value, pos)?;
                pos += 2;
            }
            Item::Fraction { min, max, point } => {
                let start = pos;
                if *point {
                    if b.get(pos) != Some(&b'.') {
                        if *min > 0 {
                            return Err(pos);
                        }
                        continue;
                    }
                    pos += 1;
                }
                let take = digit_run(b, pos).min(usize::from(*max));
                if take < usize::from(*min) {
                    return Err(pos);
                }
                let digits = b.get(pos..pos + take).ok_or(pos)?;
                let nanos = digits
                    .iter()
                    .chain(std::iter::repeat(&b'0'))
                    .take(9)
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
                pos += take;
                f.set(Field::Nano, nanos, start)?;
            }
            Item::Text(field, style) => {
                let candidates = names(*field, *style);
                let (index, len) = candidates
                    .iter()
                    .enumerate()
                    .filter(|(_, name)| starts_with_ignore_case(b, pos, name.as_bytes()))
                    .map(|(i, name)| (i, name.len()))
                    .max_by_key(|&(_, len)| len)
                    .ok_or(pos)?;
                f.set(*field, first_value(*field) + index as i64, pos)?;
                pos += len;
            }
            Item::Offset(style) => {
                let (offset, end) = parse_offset(b, pos, style).ok_or(pos)?;
                f.offset = Some(offset);
                pos = end;
            }
            Item::LocalizedOffset { .. } => {
                let (offset, end) = parse_localized_offset(b, pos).ok_or(pos)?;
                f.offset = Some(offset);
                pos = end;
            }
            Item::ZoneId | Item::ZoneText => {
                let rest = b.get(pos..).ok_or(pos)?;
                let (zone, len) = parse_zone_prefix(rest, matches!(item, Item::ZoneText)).ok_or(pos)?;
                f.set_zone(zone);
                pos += len;
            }
            Item::Optional(inner) => {
                let saved = *f;
                match parse_items(inner, b, pos, f) {
                    Ok(end) => pos = end,
                    Err(_) => *f = saved,
                }
            }
        }
    }
    Ok(pos)
}

fn two_digits(b: &[u8], pos: usize) -> Option<i32> {
    let (a, c) = (*b.get(pos)?, *b.get(pos + 1)?);
    (a.is_ascii_digit() && c.is_ascii_digit()).then(|| i32::from(a - b'0') * 10 + i32::from(c - b'0'))
}

/// An offset in one of Java's offset patterns, or its zero text.
fn parse_offset(b: &[u8], pos: usize, style: &OffsetStyle) -> Option<(FixedOffset, usize)> {
    let signed = || -> Option<(FixedOffset, usize)> {
        let negative = match b.get(pos)? {
            b'+' => false,
            b'-' => true,
            _ => return None,
        };
        let mut p = pos + 1;
        let hours = two_digits(b, p)?;
        p += 2;
        let part = |need: Need, p: &mut usize| -> Option<i32> {
            let sep = usize::from(style.colon);
            if need == Need::No || (style.colon && b.get(*p) != Some(&b':')) {
                return if need == Need::Required { None } else { Some(0) };
            }
            match two_digits(b, *p + sep) {
                Some(v) => {
                    *p += sep + 2;
                    Some(v)
                }
                None if need == Need::Optional => Some(0),
                None => None,
            }
        };
        let minutes = part(style.minutes, &mut p)?;
        let seconds = if minutes != 0 || style.minutes == Need::Required { part(style.seconds, &mut p)? } else { 0 };
        if hours > 18 || minutes > 59 || seconds > 59 {
            return None;
        }
        let total = hours * 3600 + minutes * 60 + seconds;
        let offset = FixedOffset::east_opt(if negative { -total } else { total })?;
        Some((offset, p))
    };
    signed().or_else(|| {
        starts_with_ignore_case(b, pos, style.zero.as_bytes())
            .then(|| FixedOffset::east_opt(0).map(|o| (o, pos + style.zero.len())))
            .flatten()
    })
}

/// `GMT`, `GMT+8`, `GMT+08:00`, `GMT-8:30:15`.
fn parse_localized_offset(b: &[u8], pos: usize) -> Option<(FixedOffset, usize)> {
    if !starts_with_ignore_case(b, pos, b"GMT") {
        return None;
    }
    let mut p = pos + 3;
    let negative = match b.get(p) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return FixedOffset::east_opt(0).map(|o| (o, p)),
    };
    p += 1;
    let hour_digits = digit_run(b, p).min(2);
    if hour_digits == 0 {
        return None;
    }
    let hours = digits_value(b.get(p..p + hour_digits)?)? as i32;
    p += hour_digits;
    let mut rest = [0i32; 2];
    for slot in &mut rest {
        if b.get(p) == Some(&b':')
            && let Some(v) = two_digits(b, p + 1)
        {
            *slot = v;
            p += 3;
        } else {
            break;
        }
    }
    if hours > 18 || rest[0] > 59 || rest[1] > 59 {
        return None;
    }
    let total = hours * 3600 + rest[0] * 60 + rest[1];
    FixedOffset::east_opt(if negative { -total } else { total }).map(|o| (o, p))
}

struct FormatContext<'a> {
    date: NaiveDate,
    time: NaiveTime,
    offset: FixedOffset,
    zone_id: &'a str,
    zone_text: &'a str,
}

impl FormatContext<'_> {
    fn value(&self, field: Field) -> i64 {
        let (d, t) = (&self.date, &self.time);
        let hour = i64::from(t.hour());
        match field {
            Field::Era => i64::from(d.year() > 0),
            Field::Year => i64::from(d.year()),
            Field::YearOfEra => i64::from(if d.year() > 0 { d.year() } else { 1 - d.year() }),
            Field::Month => i64::from(d.month()),
            Field::Day => i64::from(d.day()),
            Field::DayOfYear => i64::from(d.ordinal()),
            Field::DayOfWeek => i64::from(d.weekday().number_from_monday()),
            Field::AmPm => hour / 12,
            Field::HourOfDay => hour,
            Field::ClockHourOfAmPm => (hour + 11) % 12 + 1,
            Field::HourOfAmPm => hour % 12,
            Field::ClockHourOfDay => (hour + 23) % 24 + 1,
            Field::Minute => i64::from(t.minute()),
            Field::Second => i64::from(t.second()),
            Field::Nano => i64::from(t.nanosecond()),
            Field::MilliOfDay => {
                i64::from(t.num_seconds_from_midnight()) * 1000 + i64::from(t.nanosecond()) / 1_000_000
            }
            Field::NanoOfDay => i64::from(t.num_seconds_from_midnight()) * 1_000_000_000 + i64::from(t.nanosecond()),
        }
    }
}

fn format_items(items: &[Item], ctx: &FormatContext<'_>, out: &mut String) {
    for item in items {
        match item {
            Item::Literal(text) => out.push_str(text),
            Item::Number { field, min, sign, .. } => {
                let v = ctx.value(*field);
                let digits = v.unsigned_abs().to_string();
                if v < 0 {
                    out.push('-');
                } else if *sign == Sign::ExceedsPad && digits.len() > usize::from(*min) {
                    out.push('+');
                }
                for _ in digits.len()..usize::from(*min) {
                    out.push('0');
                }
                out.push_str(&digits);
            }
            Item::Reduced(field) => {
                out.push_str(&format!("{:02}", ctx.value(*field).rem_euclid(100)));
            }
            Item::Fraction { min, max, point } => {
                let nine = format!("{:09}", ctx.time.nanosecond().min(999_999_999));
                let kept = nine.get(..usize::from(*max)).unwrap_or(&nine);
                let trimmed = kept.trim_end_matches('0');
                let shown = if trimmed.len() < usize::from(*min) {
                    kept.get(..usize::from(*min)).unwrap_or(kept)
                } else {
                    trimmed
                };
                if !shown.is_empty() {
                    if *point {
                        out.push('.');
                    }
                    out.push_str(shown);
                }
            }
            Item::Text(field, style) => {
                let index = ctx.value(*field) - first_value(*field);
                if let Some(name) = usize::try_from(index).ok().and_then(|i| names(*field, *style).get(i)) {
                    out.push_str(name);
                }
            }
            Item::Offset(style) => format_offset(ctx.offset, style, out),
            Item::LocalizedOffset { full } => {
                out.push_str("GMT");
                let secs = ctx.offset.local_minus_utc();
                if secs != 0 {
                    let abs = secs.unsigned_abs();
                    out.push(if secs < 0 { '-' } else { '+' });
                    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
                    if *full {
                        out.push_str(&format!("{h:02}:{m:02}"));
                    } else {
                        out.push_str(&h.to_string());
                        if m != 0 || s != 0 {
                            out.push_str(&format!(":{m:02}"));
                        }
                    }
                    if s != 0 {
                        out.push_str(&format!(":{s:02}"));
                    }
                }
            }
            Item::ZoneId => out.push_str(ctx.zone_id),
            Item::ZoneText => out.push_str(ctx.zone_text),
            Item::Optional(inner) => format_items(inner, ctx, out),
        }
    }
}

fn format_offset(offset: FixedOffset, style: &OffsetStyle, out: &mut String) {
    let secs = offset.local_minus_utc();
    if secs == 0 {
        out.push_str(style.zero);
        return;
    }
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    out.push(if secs < 0 { '-' } else { '+' });
    out.push_str(&format!("{h:02}"));
    let sep = if style.colon { ":" } else { "" };
    let show_minutes = style.minutes == Need::Required || (style.minutes == Need::Optional && (m != 0 || s != 0));
    if show_minutes {
        out.push_str(&format!("{sep}{m:02}"));
        if style.seconds == Need::Required || (style.seconds == Need::Optional && s != 0) {
            out.push_str(&format!("{sep}{s:02}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fmt(p: &str) -> DateTimeFormat {
        DateTimeFormat::new(p).unwrap()
    }

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
    fn iso_constants_parse() {
        let p = fmt("ISO_LOCAL_DATE").parse("2016-07-24").unwrap();
        assert_eq!((p.date, p.time, p.zone), (date(2016, 7, 24), None, None));
        let p = fmt("ISO_LOCAL_TIME").parse("17:12:32.584").unwrap();
        assert_eq!(p.time, time(17, 12, 32, 584_000_000));
        assert_eq!(fmt("ISO_LOCAL_TIME").parse("17:12").unwrap().time, time(17, 12, 0, 0));
        let p = fmt("ISO_OFFSET_DATE_TIME").parse("2020-02-03T04:05:06+01:30").unwrap();
        assert_eq!((p.date, p.time, p.zone), (date(2020, 2, 3), time(4, 5, 6, 0), offset(5400)));
        let p = fmt("ISO_ZONED_DATE_TIME").parse("2020-02-03T04:05:06+01:00[Europe/Paris]").unwrap();
        assert_eq!(p.zone, offset(3600));
        let p = fmt("ISO_DATE_TIME").parse("2020-02-03T04:05:06").unwrap();
        assert_eq!(p.zone, None);
        let p = fmt("ISO_INSTANT").parse("2020-02-03T04:05:06.123456789Z").unwrap();
        assert_eq!((p.time, p.zone), (time(4, 5, 6, 123_456_789), offset(0)));
        assert_eq!(fmt("ISO_ORDINAL_DATE").parse("2020-060").unwrap().date, date(2020, 2, 29));
        assert_eq!(fmt("BASIC_ISO_DATE").parse("20200229").unwrap().date, date(2020, 2, 29));
        let p = fmt("RFC_1123_DATE_TIME").parse("Tue, 3 Jun 2008 11:05:30 GMT").unwrap();
        assert_eq!((p.date, p.time, p.zone), (date(2008, 6, 3), time(11, 5, 30, 0), offset(0)));
        assert_eq!(fmt("ISO_LOCAL_DATE").parse("+12345-01-01").unwrap().date, date(12345, 1, 1));
    }

    #[test]
    fn iso_constants_reject() {
        let d = fmt("ISO_LOCAL_DATE");
        assert_eq!(d.parse("2016-7-24").unwrap_err(), "Text '2016-7-24' could not be parsed at index 5");
        assert_eq!(
            d.parse("2016-07-24T").unwrap_err(),
            "Text '2016-07-24T' could not be parsed, unparsed text found at index 10"
        );
        assert_eq!(
            d.parse("2016-13-01").unwrap_err(),
            "Text '2016-13-01' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 13"
        );
        // STRICT: no clamping.
        assert_eq!(
            d.parse("2021-02-29").unwrap_err(),
            "Text '2021-02-29' could not be parsed: Invalid date 'February 29' as '2021' is not a leap year"
        );
        assert_eq!(
            d.parse("2021-04-31").unwrap_err(),
            "Text '2021-04-31' could not be parsed: Invalid date 'APRIL 31'"
        );
        // More than four digits need a sign.
        assert!(d.parse("12345-01-01").is_err());
        assert!(d.parse("+2020-01-01").is_err());
        assert!(fmt("ISO_LOCAL_TIME").parse("24:00").is_err());
        assert!(fmt("ISO_LOCAL_TIME").parse("10:00:00.1234567890").is_err());
        let r = fmt("RFC_1123_DATE_TIME").parse("Mon, 3 Jun 2008 11:05:30 GMT");
        assert!(r.unwrap_err().contains("Conflict found"));
    }

    #[test]
    fn patterns_parse() {
        let p = fmt("yyyy-MM-dd HH:mm:ss").parse("2018-03-09 17:12:32").unwrap();
        assert_eq!((p.date, p.time), (date(2018, 3, 9), time(17, 12, 32, 0)));
        // Case-insensitive literals and text.
        let p = fmt("dd MMM yyyy 'at' h:mm a").parse("09 mar 2018 AT 5:12 pm").unwrap();
        assert_eq!((p.date, p.time), (date(2018, 3, 9), time(17, 12, 0, 0)));
        let p = fmt("EEEE, d MMMM uuuu").parse("Friday, 9 March 2018").unwrap();
        assert_eq!(p.date, date(2018, 3, 9));
        // Adjacent value parsing: the year leaves four digits to MMdd.
        assert_eq!(fmt("yyyyMMdd").parse("20180309").unwrap().date, date(2018, 3, 9));
        assert_eq!(fmt("HHmmssSSS").parse("171232584").unwrap().time, time(17, 12, 32, 584_000_000));
        assert_eq!(fmt("yy-M-d").parse("18-3-9").unwrap().date, date(2018, 3, 9));
        // SMART: clamped to the month's end; 24:00 is the next midnight.
        assert_eq!(fmt("yyyy-MM-dd").parse("2021-02-31").unwrap().date, date(2021, 2, 28));
        let p = fmt("yyyy-MM-dd HH:mm").parse("2021-12-31 24:00").unwrap();
        assert_eq!((p.date, p.time), (date(2022, 1, 1), time(0, 0, 0, 0)));
        let p = fmt("yyyy-MM-dd[ HH:mm[:ss]]").parse("2021-12-31").unwrap();
        assert_eq!((p.date, p.time), (date(2021, 12, 31), None));
        let p = fmt("yyyy-MM-dd HH:mm XXX").parse("2021-12-31 10:00 -05:00").unwrap();
        assert_eq!(p.zone, offset(-5 * 3600));
        let p = fmt("yyyy-MM-dd HH:mm Z").parse("2021-12-31 10:00 +0530").unwrap();
        assert_eq!(p.zone, offset(5 * 3600 + 1800));
        let p = fmt("yyyy-MM-dd HH:mm O").parse("2021-12-31 10:00 GMT+8").unwrap();
        assert_eq!(p.zone, offset(8 * 3600));
        let p = fmt("yyyy-MM-dd HH:mm VV").parse("2021-12-31 10:00 America/New_York").unwrap();
        assert_eq!(p.zone, Some(Zone::Region(Tz::America__New_York)));
        let p = fmt("yyyy-MM-dd HH:mm z").parse("2021-12-31 10:00 PST").unwrap();
        assert_eq!(p.zone, Some(Zone::Region(Tz::America__Los_Angeles)));
        let p = fmt("D/yyyy").parse("60/2020").unwrap();
        assert_eq!(p.date, date(2020, 2, 29));
        let p = fmt("yyyy-MM-dd G").parse("0044-03-15 BC").unwrap();
        assert_eq!(p.date, date(-43, 3, 15));
        assert_eq!(fmt("A").parse("3600000").unwrap().time, time(1, 0, 0, 0));
        assert_eq!(fmt("''yyyy''").parse("'2020'").unwrap().date, None);
    }

    #[test]
    fn patterns_reject() {
        assert_eq!(
            fmt("yyyy-MM-dd").parse("2018-3-09").unwrap_err(),
            "Text '2018-3-09' could not be parsed at index 5"
        );
        assert_eq!(
            fmt("HH:mm").parse("25:00").unwrap_err(),
            "Text '25:00' could not be parsed: Invalid value for HourOfDay (valid values 0 - 23): 25"
        );
        assert!(fmt("hh:mm").parse("10:00").unwrap_err().contains("AM/PM"));
        assert!(fmt("yyyy-MM-dd").parse("+2018-03-09").is_err());
        assert!(fmt("d").parse("99999999999999999999").is_err());
    }

    #[test]
    fn pattern_compile_errors() {
        let err = |p: &str| DateTimeFormat::new(p).unwrap_err();
        assert_eq!(err("yyyy-MM-dd'T"), "Pattern ends with an incomplete string literal");
        assert_eq!(err("yyyy]"), "Pattern invalid as it contains ] without previous [");
        assert_eq!(err("yyyy#"), "Pattern includes reserved character: '#'");
        assert_eq!(err("ddd"), "Too many pattern letters: d");
        assert_eq!(err("MMMMMM"), "Too many pattern letters: M");
        assert_eq!(err("V"), "Pattern letter count must be 2: V");
        assert_eq!(err("OO"), "Pattern letter count must be 1 or 4: O");
        assert_eq!(err("SSSSSSSSSS"), "Too many pattern letters: S");
        assert_eq!(err("www"), "unsupported pattern letter 'w'");
        assert_eq!(err("t"), "unknown pattern letter 't'");
        assert!(err(&"[".repeat(40)).contains("nested deeper"));
        // Open sections close at the end.
        assert!(DateTimeFormat::new("yyyy[-MM").is_ok());
    }

    #[test]
    fn formats_examples() {
        let y2k = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap();
        let paris = Tz::Europe__Paris;
        let cases = [
            ("ISO_LOCAL_DATE", Tz::UTC, "2000-01-01"),
            ("ISO_LOCAL_TIME", Tz::UTC, "00:00:00"),
            ("ISO_OFFSET_DATE_TIME", paris, "2000-01-01T01:00:00+01:00"),
            ("ISO_ZONED_DATE_TIME", Tz::UTC, "2000-01-01T00:00:00Z[UTC]"),
            ("ISO_INSTANT", paris, "2000-01-01T00:00:00Z"),
            ("BASIC_ISO_DATE", Tz::UTC, "20000101Z"),
            ("RFC_1123_DATE_TIME", Tz::UTC, "Sat, 1 Jan 2000 00:00:00 GMT"),
            ("yyyy-MM-dd HH:mm:ss.SSS", Tz::UTC, "2000-01-01 00:00:00.000"),
            ("EEEE d MMMM yy h a XXX", paris, "Saturday 1 January 00 1 AM +01:00"),
            ("yyyy-MM-dd'T'HH:mm z O", paris, "2000-01-01T01:00 CET GMT+1"),
        ];
        for (p, zone, expected) in cases {
            assert_eq!(fmt(p).format(y2k, zone), expected, "{p}");
        }
    }
}
