//! Exact numbers: decimal text borrowed as digits, and narrowing that never rounds.
//!
//! The connector converts with overflow strategy REJECT and rounding UNNECESSARY: a value that
//! does not fit, has a fraction where an integer is wanted, or is not exactly representable as a
//! float/double is an error. Float exactness follows `Float.toString`/`Double.toString`: the
//! narrowed value's shortest round-trip text must equal the input numerically, so JSON `0.1` is a
//! valid double and a valid float, while `3.14159265` is not a float.

use std::fmt::{self, Write};

use num_bigint::BigInt;
use scylla::value::{CqlDecimal, CqlVarint};

/// Digits beyond which varint/decimal conversion is refused: bounds the quadratic cost of
/// decimal → binary conversion on untrusted input.
pub(crate) const MAX_DIGITS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumError {
    /// An integer target and a non-zero fraction.
    Fraction,
    Overflow,
    /// Not exactly representable as float/double.
    Inexact,
    /// NaN or an infinity where a finite value is needed.
    NotFinite,
    TooManyDigits,
}

/// A decimal number borrowed from its text: `(-)int.frac × 10^exp`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dec<'a> {
    negative: bool,
    /// Digits, possibly with grouping separators (skipped when reading digits).
    int: &'a [u8],
    /// Digits only.
    frac: &'a [u8],
    exp: i64,
    /// The whole text, when Rust's float parser reads it as is.
    plain: Option<&'a str>,
}

/// Grouping and decimal separators of `codec.locale`, for the locale number pattern `#,###.##`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Symbols {
    grouping: Grouping,
    decimal: char,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grouping {
    Comma,
    Dot,
    /// Space, no-break space or narrow no-break space (`fr_FR` and others).
    Space,
}

impl Grouping {
    fn matches(self, c: char) -> bool {
        match self {
            Grouping::Comma => c == ',',
            Grouping::Dot => c == '.',
            Grouping::Space => matches!(c, ' ' | '\u{a0}' | '\u{202f}'),
        }
    }
}

impl Symbols {
    /// The separators of a locale's language; `en` conventions for every language not listed.
    pub(crate) fn of_locale(locale: &str) -> Symbols {
        let lang = locale.split(['_', '-']).next().unwrap_or("");
        let is = |langs: &[&str]| langs.iter().any(|l| l.eq_ignore_ascii_case(lang));
        if is(&["de", "es", "it", "nl", "pt", "da", "id", "tr", "el", "ro", "hr", "sl", "sr"]) {
            Symbols { grouping: Grouping::Dot, decimal: ',' }
        } else if is(&["fr", "ru", "pl", "cs", "sk", "sv", "fi", "nb", "no", "uk", "hu", "bg", "lt", "lv", "et"]) {
            Symbols { grouping: Grouping::Space, decimal: ',' }
        } else {
            Symbols { grouping: Grouping::Comma, decimal: '.' }
        }
    }
}

impl<'a> Dec<'a> {
    /// `java.math.BigDecimal` syntax: `[+-](digits[.digits]|.digits)[(e|E)[+-]digits]`.
    pub(crate) fn parse(s: &'a str) -> Option<Dec<'a>> {
        let b = s.as_bytes();
        let (negative, mut p) = match b.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let int_start = p;
        p += digit_run(b, p);
        let int = b.get(int_start..p)?;
        let mut frac: &[u8] = &[];
        if b.get(p) == Some(&b'.') {
            let start = p + 1;
            p = start + digit_run(b, start);
            frac = b.get(start..p)?;
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut exp = 0i64;
        if matches!(b.get(p), Some(b'e' | b'E')) {
            p += 1;
            let exp_negative = match b.get(p) {
                Some(b'-') => {
                    p += 1;
                    true
                }
                Some(b'+') => {
                    p += 1;
                    false
                }
                _ => false,
            };
            let len = digit_run(b, p);
            if len == 0 {
                return None;
            }
            // BigDecimal exponents are Java ints.
            for &d in b.get(p..p + len)? {
                exp = exp * 10 + i64::from(d - b'0');
                if exp > i64::from(i32::MAX) {
                    return None;
                }
            }
            if exp_negative {
                exp = -exp;
            }
            p += len;
        }
        (p == b.len()).then_some(Dec { negative, int, frac, exp, plain: Some(s) })
    }

    /// The locale number pattern `#,###.##` as `DecimalFormat` parses it: an optional `-`,
    /// digits with grouping separators between them, an optional decimal separator and digits.
    pub(crate) fn parse_grouped(s: &'a str, symbols: Symbols) -> Option<Dec<'a>> {
        let (negative, body, offset) = match s.strip_prefix('-') {
            Some(rest) => (true, rest, 1),
            None => (false, s, 0),
        };
        let mut int_end = 0;
        let mut frac_range = None;
        let mut prev_digit = false;
        let mut grouped = false;
        let mut chars = body.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_ascii_digit() {
                prev_digit = true;
                int_end = i + 1;
            } else if symbols.grouping.matches(c) && prev_digit && chars.peek().is_some_and(|(_, n)| n.is_ascii_digit())
            {
                prev_digit = false;
                grouped = true;
            } else if c == symbols.decimal {
                let start = i + c.len_utf8();
                let len = digit_run(body.as_bytes(), start);
                if start + len != body.len() {
                    return None;
                }
                frac_range = Some((start, start + len));
                break;
            } else {
                return None;
            }
        }
        let b = s.as_bytes();
        let int = b.get(offset..offset + int_end)?;
        let frac = match frac_range {
            Some((from, to)) => b.get(offset + from..offset + to)?,
            None => &[],
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let plain = (!grouped && symbols.decimal == '.').then_some(s);
        Some(Dec { negative, int, frac, exp: 0, plain })
    }

    fn digits(&self) -> impl Iterator<Item = u8> + 'a {
        let (int, frac) = (self.int, self.frac);
        int.iter().copied().filter(u8::is_ascii_digit).chain(frac.iter().copied())
    }

    fn int_len(&self) -> usize {
        self.int.iter().filter(|d| d.is_ascii_digit()).count()
    }

    /// Digits before the decimal point, counting the exponent.
    fn point(&self) -> i64 {
        (self.int_len() as i64).saturating_add(self.exp)
    }

    fn is_zero(&self) -> bool {
        self.digits().all(|d| d == b'0')
    }

    fn is_integral(&self) -> bool {
        let point = usize::try_from(self.point().max(0)).unwrap_or(usize::MAX);
        self.digits().skip(point).all(|d| d == b'0')
    }

    fn to_i128(self) -> Result<i128, NumError> {
        if !self.is_integral() {
            return Err(NumError::Fraction);
        }
        if self.is_zero() {
            return Ok(0);
        }
        let point = self.point();
        let mut acc: i128 = 0;
        let mut seen: i64 = 0;
        for d in self.digits() {
            if seen >= point {
                break;
            }
            acc = acc.checked_mul(10).and_then(|a| a.checked_add(i128::from(d - b'0'))).ok_or(NumError::Overflow)?;
            seen += 1;
        }
        // A positive exponent appends zeros; the value is non-zero, so this overflows quickly.
        while seen < point {
            acc = acc.checked_mul(10).ok_or(NumError::Overflow)?;
            seen += 1;
        }
        Ok(if self.negative { -acc } else { acc })
    }

    fn to_f64(self) -> f64 {
        match self.plain {
            Some(text) => text.parse().unwrap_or(f64::NAN),
            None => self.to_plain_text().parse().unwrap_or(f64::NAN),
        }
    }

    fn to_f32(self) -> f32 {
        match self.plain {
            Some(text) => text.parse().unwrap_or(f32::NAN),
            None => self.to_plain_text().parse().unwrap_or(f32::NAN),
        }
    }

    /// The number in Rust float syntax, for texts that were not (grouping, decimal comma).
    fn to_plain_text(self) -> String {
        let mut out = String::with_capacity(self.int.len() + self.frac.len() + 24);
        if self.negative {
            out.push('-');
        }
        out.extend(self.int.iter().filter(|d| d.is_ascii_digit()).map(|&d| char::from(d)));
        if out.len() == usize::from(self.negative) {
            out.push('0');
        }
        out.push('.');
        out.extend(self.frac.iter().map(|&d| char::from(d)));
        out.push('0');
        let _ = write!(out, "e{}", self.exp);
        out
    }

    /// Whether the number has at most `digits` significant digits and a decimal exponent within
    /// `exponents` (as in `d.ddd × 10^e`).
    fn is_short(&self, digits: usize, exponents: std::ops::RangeInclusive<i64>) -> bool {
        let lead = self.digits().take_while(|&d| d == b'0').count();
        let mut significant = 0;
        let mut zeros = 0;
        for d in self.digits().skip(lead) {
            if d == b'0' {
                zeros += 1;
            } else {
                significant += zeros + 1;
                zeros = 0;
            }
        }
        significant <= digits && exponents.contains(&self.point().saturating_sub(lead as i64 + 1))
    }

    /// Numeric equality, ignoring scale and representation (`1.50` = `15e-1`).
    fn num_eq(&self, other: &Dec<'_>) -> bool {
        let (za, zb) = (self.is_zero(), other.is_zero());
        if za || zb {
            return za && zb;
        }
        if self.negative != other.negative {
            return false;
        }
        let lead_a = self.digits().take_while(|&d| d == b'0').count();
        let lead_b = other.digits().take_while(|&d| d == b'0').count();
        if self.point().saturating_sub(lead_a as i64) != other.point().saturating_sub(lead_b as i64) {
            return false;
        }
        let mut a = self.digits().skip(lead_a);
        let mut b = other.digits().skip(lead_b);
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x == y => {}
                (Some(_), Some(_)) => return false,
                (Some(x), None) => return x == b'0' && a.all(|d| d == b'0'),
                (None, Some(y)) => return y == b'0' && b.all(|d| d == b'0'),
            }
        }
    }

    fn to_varint(self) -> Result<CqlVarint, NumError> {
        match self.to_i128() {
            Ok(v) => Ok(CqlVarint::from_signed_bytes_be(i128_bytes(v))),
            Err(NumError::Overflow) => {
                let point = usize::try_from(self.point()).map_err(|_| NumError::Overflow)?;
                if point > MAX_DIGITS {
                    return Err(NumError::TooManyDigits);
                }
                let mut text = Vec::with_capacity(point + 1);
                if self.negative {
                    text.push(b'-');
                }
                text.extend(self.digits().take(point));
                text.resize(point + usize::from(self.negative), b'0');
                let big = BigInt::parse_bytes(&text, 10).ok_or(NumError::Overflow)?;
                Ok(CqlVarint::from_signed_bytes_be(big.to_signed_bytes_be()))
            }
            Err(e) => Err(e),
        }
    }

    /// `new BigDecimal(text)`: the unscaled value is every digit, the scale is kept.
    fn to_decimal(self) -> Result<CqlDecimal, NumError> {
        let scale = i32::try_from((self.frac.len() as i64).saturating_sub(self.exp)).map_err(|_| NumError::Overflow)?;
        let count = self.int_len() + self.frac.len();
        let bytes = if count <= 38 {
            let unscaled = self.digits().fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0'));
            i128_bytes(if self.negative { -unscaled } else { unscaled })
        } else {
            if count > MAX_DIGITS {
                return Err(NumError::TooManyDigits);
            }
            let mut text = Vec::with_capacity(count + 1);
            if self.negative {
                text.push(b'-');
            }
            text.extend(self.digits());
            BigInt::parse_bytes(&text, 10).ok_or(NumError::Overflow)?.to_signed_bytes_be()
        };
        Ok(CqlDecimal::from_signed_be_bytes_and_exponent(bytes, scale))
    }
}

fn digit_run(b: &[u8], pos: usize) -> usize {
    b.get(pos..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// Minimal big-endian two's complement, as CQL varints are sent.
fn i128_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let redundant =
        bytes.windows(2).take_while(|w| (w[0] == 0 && w[1] & 0x80 == 0) || (w[0] == 0xff && w[1] & 0x80 != 0)).count();
    bytes.get(redundant..).unwrap_or(&bytes).to_vec()
}

/// A number as the connector's parsers deliver it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num<'a> {
    /// Exact decimal text (a JSON number, `BigDecimal` or locale syntax).
    Dec(Dec<'a>),
    /// A `Double.valueOf` result or a floating-point primitive.
    Float(f64),
    /// An integral primitive, an epoch count or a boolean's 1/0.
    Int(i64),
}

/// A small stack buffer for number texts, so narrowing checks do not allocate.
pub(crate) struct Buf {
    bytes: [u8; 64],
    len: usize,
}

impl Buf {
    pub(crate) fn new() -> Buf {
        Buf { bytes: [0; 64], len: 0 }
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Runs `f` on the decimal text of an integer or a finite double (`Double.toString` digits).
fn with_dec<T>(n: Num<'_>, f: impl FnOnce(Dec<'_>) -> Result<T, NumError>) -> Result<T, NumError> {
    let mut buf = Buf::new();
    match n {
        Num::Dec(d) => return f(d),
        Num::Int(i) => write!(buf, "{i}").map_err(|_| NumError::Overflow)?,
        Num::Float(x) if !x.is_finite() => return Err(NumError::NotFinite),
        Num::Float(x) => write_java_double(x, &mut buf).map_err(|_| NumError::Overflow)?,
    }
    f(Dec::parse(buf.as_str()).ok_or(NumError::Overflow)?)
}

/// Exact narrowing to an integer type of range `lo..=hi`.
pub(crate) fn to_integer(n: Num<'_>, lo: i64, hi: i64) -> Result<i64, NumError> {
    let v: i128 = match n {
        Num::Int(i) => i128::from(i),
        Num::Float(x) if !x.is_finite() => return Err(NumError::NotFinite),
        Num::Float(x) if x.fract() != 0.0 => return Err(NumError::Fraction),
        // Outside ±2^63 it cannot fit any target; inside, the cast is exact.
        Num::Float(x) if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x) => {
            return Err(NumError::Overflow);
        }
        Num::Float(x) => i128::from(x as i64),
        Num::Dec(d) => d.to_i128()?,
    };
    if (i128::from(lo)..=i128::from(hi)).contains(&v) { Ok(v as i64) } else { Err(NumError::Overflow) }
}

pub(crate) fn to_varint(n: Num<'_>) -> Result<CqlVarint, NumError> {
    match n {
        Num::Int(i) => Ok(CqlVarint::from_signed_bytes_be(i128_bytes(i128::from(i)))),
        _ => with_dec(n, |d| d.to_varint()),
    }
}

pub(crate) fn to_decimal(n: Num<'_>) -> Result<CqlDecimal, NumError> {
    match n {
        Num::Int(i) => Ok(CqlDecimal::from_signed_be_bytes_and_exponent(i128_bytes(i128::from(i)), 0)),
        _ => with_dec(n, |d| d.to_decimal()),
    }
}

pub(crate) fn to_double(n: Num<'_>) -> Result<f64, NumError> {
    if let Num::Float(x) = n {
        return Ok(x);
    }
    with_dec(n, |d| {
        let x = d.to_f64();
        // Up to 15 significant digits (DBL_DIG) in the normal range, a decimal is the shortest
        // text of the double nearest to it: the check below would hold.
        if d.is_short(15, -307..=307) && !d.is_zero() {
            return Ok(x);
        }
        if !x.is_finite() {
            return Err(NumError::Overflow);
        }
        let mut buf = Buf::new();
        write!(buf, "{x:e}").map_err(|_| NumError::Overflow)?;
        match Dec::parse(buf.as_str()) {
            Some(shortest) if shortest.num_eq(&d) => Ok(x),
            _ => Err(NumError::Inexact),
        }
    })
}

/// A double that holds a float's exact value (a widened FLOAT32 field) is accepted too, which
/// `Double.toString` alone would reject for values like 0.1f.
pub(crate) fn to_float(n: Num<'_>) -> Result<f32, NumError> {
    if let Num::Float(x) = n
        && (!x.is_finite() || f64::from(x as f32) == x)
    {
        return Ok(x as f32);
    }
    with_dec(n, |d| {
        let x = d.to_f32();
        // FLT_DIG, as for doubles.
        if d.is_short(6, -37..=37) && !d.is_zero() {
            return Ok(x);
        }
        if !x.is_finite() {
            return Err(NumError::Overflow);
        }
        let mut buf = Buf::new();
        write!(buf, "{x:e}").map_err(|_| NumError::Overflow)?;
        match Dec::parse(buf.as_str()) {
            Some(shortest) if shortest.num_eq(&d) => Ok(x),
            _ => Err(NumError::Inexact),
        }
    })
}

/// `Double.valueOf` syntax beyond `BigDecimal`'s: surrounding control characters and spaces,
/// `NaN`, `Infinity`, and a trailing `f`/`F`/`d`/`D`. Hexadecimal floats are not accepted.
pub(crate) fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    let magnitude = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let number = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            // Reject what Rust reads but Java does not ("inf", "nan", "infinity").
            if !number.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                return None;
            }
            Dec::parse(number)?.to_f64()
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// `Double.toString`: plain notation with at least one fraction digit for magnitudes in
/// [10^-3, 10^7), computerized scientific notation (`1.0E10`) otherwise.
pub(crate) fn write_java_double(x: f64, out: &mut impl Write) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("NaN");
    }
    if x.is_infinite() {
        return out.write_str(if x < 0.0 { "-Infinity" } else { "Infinity" });
    }
    if x == 0.0 {
        return out.write_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
    }
    let mut sci = Buf::new();
    write!(sci, "{:e}", x.abs())?;
    let (mantissa, exp) = sci.as_str().split_once('e').ok_or(fmt::Error)?;
    let exp: i32 = exp.parse().map_err(|_| fmt::Error)?;
    let mut digit_buf = Buf::new();
    for c in mantissa.chars().filter(|c| *c != '.') {
        digit_buf.write_char(c)?;
    }
    let digits = digit_buf.as_str();
    if x < 0.0 {
        out.write_char('-')?;
    }
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = (exp + 1) as usize;
            for i in 0..int_len {
                out.write_char(char::from(*digits.as_bytes().get(i).unwrap_or(&b'0')))?;
            }
            out.write_char('.')?;
            let frac = digits.get(int_len..).unwrap_or("");
            out.write_str(if frac.is_empty() { "0" } else { frac })
        } else {
            out.write_str("0.")?;
            for _ in 0..(-exp - 1) {
                out.write_char('0')?;
            }
            out.write_str(digits)
        }
    } else {
        let (first, rest) = digits.split_at_checked(1).ok_or(fmt::Error)?;
        write!(out, "{first}.{}E{exp}", if rest.is_empty() { "0" } else { rest })
    }
}

pub(crate) fn java_double_string(x: f64) -> String {
    let mut s = String::new();
    let _ = write_java_double(x, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::BigDecimal;
    use proptest::prelude::*;
    use std::str::FromStr;

    const EN: Symbols = Symbols { grouping: Grouping::Comma, decimal: '.' };

    fn dec(s: &str) -> Num<'_> {
        Num::Dec(Dec::parse(s).unwrap())
    }

    fn decimal_parts(d: CqlDecimal) -> (String, i32) {
        let (bytes, scale) = d.into_signed_be_bytes_and_exponent();
        (BigInt::from_signed_bytes_be(&bytes).to_string(), scale)
    }

    #[test]
    fn bigdecimal_syntax() {
        for ok in ["0", "-1", "+1", "1.", ".5", "1e5", "1E+5", "-1.5e-7", "007"] {
            assert!(Dec::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "-", ".", "e5", "1e", "1e+", "1.2.3", " 1", "1 ", "0x10", "1e2147483648", "١"] {
            assert!(Dec::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn grouped_syntax() {
        let g = |s| Dec::parse_grouped(s, EN).map(|d| to_integer(Num::Dec(d), i64::MIN, i64::MAX));
        assert_eq!(g("2,147,483,647"), Some(Ok(2_147_483_647)));
        assert_eq!(g("-1,000"), Some(Ok(-1000)));
        assert_eq!(g("1,000.00"), Some(Ok(1000)));
        assert_eq!(g(",1"), None);
        assert_eq!(g("1,"), None);
        assert_eq!(g("1,,0"), None);
        assert_eq!(g("+1"), None);
        assert_eq!(g("1e5"), None);
        let de = Symbols::of_locale("de_DE");
        let d = Dec::parse_grouped("1.234,5", de).unwrap();
        assert_eq!(to_double(Num::Dec(d)), Ok(1234.5));
        let fr = Symbols::of_locale("fr_FR");
        let d = Dec::parse_grouped("1\u{202f}234,5", fr).unwrap();
        assert_eq!(decimal_parts(to_decimal(Num::Dec(d)).unwrap()), ("12345".into(), 1));
    }

    #[test]
    fn integers_narrow_exactly() {
        assert_eq!(to_integer(dec("2147483647"), i32::MIN.into(), i32::MAX.into()), Ok(2147483647));
        assert_eq!(to_integer(dec("2147483648"), i32::MIN.into(), i32::MAX.into()), Err(NumError::Overflow));
        assert_eq!(to_integer(dec("1.0"), -128, 127), Ok(1));
        assert_eq!(to_integer(dec("1.2"), -128, 127), Err(NumError::Fraction));
        assert_eq!(to_integer(dec("1.5e1"), -128, 127), Ok(15));
        assert_eq!(to_integer(dec("-1.28e2"), -128, 127), Ok(-128));
        assert_eq!(to_integer(dec("0e999999999"), -128, 127), Ok(0));
        assert_eq!(to_integer(dec("1e999999999"), -128, 127), Err(NumError::Overflow));
        assert_eq!(to_integer(dec("1e-999999999"), -128, 127), Err(NumError::Fraction));
        assert_eq!(to_integer(Num::Float(3.0), -128, 127), Ok(3));
        assert_eq!(to_integer(Num::Float(3.5), -128, 127), Err(NumError::Fraction));
        assert_eq!(to_integer(Num::Float(f64::NAN), -128, 127), Err(NumError::NotFinite));
        assert_eq!(to_integer(Num::Float(9.223_372_036_854_776e18), i64::MIN, i64::MAX), Err(NumError::Overflow));
        assert_eq!(to_integer(Num::Int(128), -128, 127), Err(NumError::Overflow));
    }

    #[test]
    fn floats_are_exact_by_shortest_text() {
        assert_eq!(to_float(dec("1234568.000000")), Ok(1234568.0));
        assert_eq!(to_float(dec("3.14159265")), Err(NumError::Inexact));
        assert_eq!(to_float(dec("0.1")), Ok(0.1));
        assert_eq!(to_float(Num::Float(0.1)), Ok(0.1));
        assert_eq!(to_float(Num::Float(0.1 + 0.2)), Err(NumError::Inexact));
        assert_eq!(to_float(Num::Int(16_777_217)), Err(NumError::Inexact));
        assert_eq!(to_float(dec("1e39")), Err(NumError::Overflow));
        assert!(to_float(Num::Float(f64::NAN)).unwrap().is_nan());
        assert_eq!(to_double(dec("0.1")), Ok(0.1));
        assert_eq!(to_double(dec("0.30000000000000001")), Err(NumError::Inexact));
        assert_eq!(to_double(dec("1e-400")), Err(NumError::Inexact));
        assert_eq!(to_double(dec("1e400")), Err(NumError::Overflow));
        assert_eq!(to_double(Num::Int(9_007_199_254_740_993)), Err(NumError::Inexact));
        assert_eq!(to_double(Num::Float(f64::INFINITY)), Ok(f64::INFINITY));
    }

    #[test]
    fn decimals_keep_scale() {
        let parts = |n| decimal_parts(to_decimal(n).unwrap());
        assert_eq!(parts(dec("1.50")), ("150".into(), 2));
        assert_eq!(parts(dec("-0.00")), ("0".into(), 2));
        assert_eq!(parts(dec("1E+3")), ("1".into(), -3));
        assert_eq!(parts(dec("1.5e2")), ("15".into(), -1));
        assert_eq!(parts(Num::Int(-42)), ("-42".into(), 0));
        assert_eq!(parts(Num::Float(1.0)), ("10".into(), 1));
        assert_eq!(parts(Num::Float(1e10)), ("10".into(), -9));
        let long = format!("{}.5", "9".repeat(60));
        assert_eq!(parts(dec(&long)), (format!("{}5", "9".repeat(60)), 1));
        assert_eq!(to_decimal(dec("1e-2147483647")).map(|_| ()), Ok(()));
        assert_eq!(to_decimal(dec("0.1e-2147483647")), Err(NumError::Overflow));
        assert_eq!(to_decimal(Num::Float(f64::NAN)), Err(NumError::NotFinite));
        let huge = "9".repeat(MAX_DIGITS + 1);
        assert_eq!(to_decimal(dec(&huge)), Err(NumError::TooManyDigits));
    }

    #[test]
    fn varints() {
        let v = |n| BigInt::from_signed_bytes_be(to_varint(n).unwrap().as_signed_bytes_be_slice()).to_string();
        assert_eq!(v(dec("123456789012345678901234567890123456789012")), "123456789012345678901234567890123456789012");
        assert_eq!(v(dec("-1.2e50")), format!("-12{}", "0".repeat(49)));
        assert_eq!(v(dec("127")), "127");
        assert_eq!(to_varint(dec("128")).unwrap().as_signed_bytes_be_slice(), [0, 128]);
        assert_eq!(to_varint(dec("-128")).unwrap().as_signed_bytes_be_slice(), [128]);
        assert_eq!(to_varint(dec("0")).unwrap().as_signed_bytes_be_slice(), [0]);
        assert_eq!(v(Num::Float(1e20)), "100000000000000000000");
        assert_eq!(to_varint(dec("1.5")), Err(NumError::Fraction));
        assert_eq!(to_varint(dec("1e20000")), Err(NumError::TooManyDigits));
    }

    #[test]
    fn java_doubles() {
        assert_eq!(parse_java_double("NaN").map(f64::is_nan), Some(true));
        assert_eq!(parse_java_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_java_double(" 1.5d "), Some(1.5));
        assert_eq!(parse_java_double("2f"), Some(2.0));
        assert_eq!(parse_java_double("inf"), None);
        assert_eq!(parse_java_double("nan"), None);
        assert_eq!(parse_java_double("0x1p3"), None);
        assert_eq!(parse_java_double("abc"), None);
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (0.001, "0.001"),
            (1e-4, "1.0E-4"),
            (1.5e-7, "1.5E-7"),
            (-123.45, "-123.45"),
            (1e300, "1.0E300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
        ];
        for (x, s) in cases {
            assert_eq!(java_double_string(x), s);
        }
    }

    proptest! {
        #[test]
        fn any_double_round_trips(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let text = java_double_string(x);
            let d = Dec::parse(&text).unwrap();
            prop_assert_eq!(to_double(Num::Dec(d)), Ok(x));
            prop_assert_eq!(to_double(dec(&format!("{x:e}"))), Ok(x));
        }

        #[test]
        fn short_decimals_are_exact_doubles(digits in 1u64..1_000_000_000_000_000, exp in -330i64..330, negative in any::<bool>()) {
            let text = format!("{}{digits}e{exp}", if negative { "-" } else { "" });
            let d = Dec::parse(&text).unwrap();
            let x = d.to_f64();
            let mut buf = Buf::new();
            write!(buf, "{x:e}").unwrap();
            let exact = x.is_finite() && Dec::parse(buf.as_str()).is_some_and(|s| s.num_eq(&d));
            if d.is_short(15, -307..=307) {
                prop_assert!(exact, "{} reads as {}", text, buf.as_str());
            }
            let expected = if exact { Ok(x) } else if x.is_finite() { Err(NumError::Inexact) } else { Err(NumError::Overflow) };
            prop_assert_eq!(to_double(Num::Dec(d)), expected);
        }

        #[test]
        fn any_float_round_trips(x in any::<f32>().prop_filter("finite", |x| x.is_finite())) {
            prop_assert_eq!(to_float(dec(&x.to_string())), Ok(x));
            prop_assert_eq!(to_float(Num::Float(f64::from(x))), Ok(x));
        }

        #[test]
        fn integers_round_trip(i in any::<i64>()) {
            let text = i.to_string();
            prop_assert_eq!(to_integer(dec(&text), i64::MIN, i64::MAX), Ok(i));
            let v = to_varint(dec(&text)).unwrap();
            prop_assert_eq!(BigInt::from_signed_bytes_be(v.as_signed_bytes_be_slice()), BigInt::from(i));
        }

        #[test]
        fn decimals_keep_scale_prop(unscaled in any::<i64>(), scale in -30i32..30) {
            // BigDecimal("<unscaled>E<-scale>") has exactly this unscaled value and scale.
            let text = format!("{unscaled}E{}", -scale);
            let got = BigDecimal::from(to_decimal(dec(&text)).unwrap());
            prop_assert_eq!(got.as_bigint_and_exponent(), (BigInt::from(unscaled), i64::from(scale)));
            let plain = BigDecimal::new(BigInt::from(unscaled), i64::from(scale.abs())).to_string();
            let got = BigDecimal::from(to_decimal(dec(&plain)).unwrap());
            prop_assert_eq!(got.as_bigint_and_exponent(), (BigInt::from(unscaled), i64::from(scale.abs())));
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = Dec::parse(&s).map(|d| (to_integer(Num::Dec(d), 0, 10), to_decimal(Num::Dec(d)), to_float(Num::Dec(d))));
            let _ = Dec::parse_grouped(&s, Symbols::of_locale("fr")).map(|d| to_double(Num::Dec(d)));
            let _ = parse_java_double(&s);
        }
    }

    #[test]
    fn bigdecimal_agrees_on_scale() {
        for s in ["1.50", "1E+3", "-0.001", "12345678901234567890123456789012345678901234.5"] {
            let ours = BigDecimal::from(to_decimal(dec(s)).unwrap());
            let theirs = BigDecimal::from_str(s).unwrap();
            assert_eq!(ours.as_bigint_and_exponent(), theirs.as_bigint_and_exponent(), "{s}");
        }
    }
}
