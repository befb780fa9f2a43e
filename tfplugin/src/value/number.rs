//! cty's exact decimal numbers.

use std::fmt;
use std::str::FromStr;

/// Numbers beyond ±1e10000 are refused: printing them in cty's plain
/// decimal notation would take unbounded memory.
const MAX_DECIMAL_MAGNITUDE: i64 = 10_000;

/// An exact decimal number (or ±infinity), as cty's arbitrary-precision
/// numbers are.
///
/// Stored normalised (no leading or trailing zero digits, zero has no sign),
/// so the derived equality is numeric equality: `1.50 == 1.5`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// `(-1)^negative × digits × 10^exponent`; zero is empty `digits`.
    Finite {
        negative: bool,
        digits: String,
        exponent: i64,
    },
    Infinity {
        negative: bool,
    },
}

/// Why text could not be read as a number. Never includes the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The text is not a decimal number (nor an infinity).
    #[error("not a valid decimal number")]
    Invalid,
    /// The number's magnitude is beyond ±1e10000.
    #[error("number is outside the supported range of ±1e{MAX_DECIMAL_MAGNITUDE}")]
    OutOfRange,
}

impl Number {
    /// Zero (which has no sign).
    pub const ZERO: Number = Number(Repr::Finite {
        negative: false,
        digits: String::new(),
        exponent: 0,
    });

    /// Parses decimal text such as `-12`, `0.1`, `1e-7`, `1.5E+3` or `+Inf`.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
            return Ok(Number(Repr::Infinity { negative }));
        }
        let (mantissa, exponent_text) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return Err(NumberError::Invalid);
        }
        let exponent = match exponent_text {
            Some(text) => parse_exponent(text)?,
            None => 0,
        };
        let fraction_len = i64::try_from(fraction.len()).map_err(|_| NumberError::OutOfRange)?;
        let number = Number::normalised(
            negative,
            format!("{whole}{fraction}"),
            exponent.saturating_sub(fraction_len),
        );
        if number.within_supported_range() {
            Ok(number)
        } else {
            Err(NumberError::OutOfRange)
        }
    }

    /// `None` for NaN, which cty cannot represent.
    pub fn from_f64(value: f64) -> Option<Number> {
        if value.is_nan() {
            return None;
        }
        if value.is_infinite() {
            return Some(Number(Repr::Infinity {
                negative: value < 0.0,
            }));
        }
        // `{:e}` gives the shortest digits that read back as the same f64,
        // which is also how cty prints a number that came in as a float64.
        Number::parse(&format!("{value:e}")).ok()
    }

    fn normalised(negative: bool, digits: String, exponent: i64) -> Number {
        let significant = digits.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            return Number::ZERO;
        }
        let trailing_zeros = (significant.len() - trimmed.len()) as i64;
        Number(Repr::Finite {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent.saturating_add(trailing_zeros),
        })
    }

    fn within_supported_range(&self) -> bool {
        match &self.0 {
            Repr::Infinity { .. } => true,
            Repr::Finite {
                digits, exponent, ..
            } => {
                digits.is_empty()
                    || (*exponent >= -MAX_DECIMAL_MAGNITUDE
                        && exponent.saturating_add(digits.len() as i64) <= MAX_DECIMAL_MAGNITUDE)
            }
        }
    }

    /// True for ±infinity.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::Infinity { .. })
    }

    /// True below zero (including -infinity).
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Finite { negative, .. } | Repr::Infinity { negative } => *negative,
        }
    }

    /// True for a finite whole number, however large.
    pub fn is_integer(&self) -> bool {
        matches!(&self.0, Repr::Finite { exponent, .. } if *exponent >= 0)
    }

    /// The value as an i128 when it is an integer of at most 38 digits.
    fn as_i128(&self) -> Option<i128> {
        let Repr::Finite {
            negative,
            digits,
            exponent,
        } = &self.0
        else {
            return None;
        };
        if digits.is_empty() {
            return Some(0);
        }
        let exponent = u32::try_from(*exponent).ok()?;
        if digits.len() as u64 + u64::from(exponent) > 38 {
            return None;
        }
        let magnitude = digits
            .parse::<i128>()
            .ok()?
            .checked_mul(10i128.pow(exponent))?;
        Some(if *negative { -magnitude } else { magnitude })
    }

    /// The number, if it is an integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|n| i64::try_from(n).ok())
    }

    /// The number, if it is an integer that fits `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|n| u64::try_from(n).ok())
    }

    /// The nearest f64 (lossy for numbers a float64 cannot hold exactly).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Infinity { negative: false } => f64::INFINITY,
            Repr::Infinity { negative: true } => f64::NEG_INFINITY,
            Repr::Finite { digits, .. } if digits.is_empty() => 0.0,
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => {
                let sign = if *negative { "-" } else { "" };
                // Rust's float parsing is correctly rounded and saturates to
                // infinity or zero, so this cannot fail on our own output.
                format!("{sign}{digits}e{exponent}")
                    .parse()
                    .unwrap_or(f64::NAN)
            }
        }
    }

    /// The f64 with exactly this value, if there is one (0.5 yes, 0.1 no).
    pub fn to_exact_f64(&self) -> Option<f64> {
        let Repr::Finite { exponent, .. } = &self.0 else {
            return Some(self.as_f64());
        };
        let candidate = self.as_f64();
        if !candidate.is_finite() {
            return None;
        }
        // A float's exact decimal expansion has one fractional digit per
        // fractional bit; ours has exactly `-exponent` of them.
        let fraction_digits = u64::try_from(-exponent).unwrap_or(0);
        if fractional_bits(candidate) != fraction_digits {
            return None;
        }
        // With that many digits the formatting below involves no rounding.
        let precision = usize::try_from(fraction_digits).ok()?;
        let expanded = format!("{candidate:.precision$}");
        (Number::parse(&expanded).ok()? == *self).then_some(candidate)
    }
}

/// How many binary digits after the point a finite f64 needs.
fn fractional_bits(value: f64) -> u64 {
    let bits = value.abs().to_bits();
    let biased_exponent = (bits >> 52) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased_exponent - 1075)
    };
    if mantissa == 0 {
        return 0;
    }
    let exponent = exponent + i64::from(mantissa.trailing_zeros());
    u64::try_from(-exponent).unwrap_or(0)
}

fn parse_exponent(text: &str) -> Result<i64, NumberError> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::Invalid);
    }
    // Saturate rather than overflow: anything this large is out of range
    // anyway and the range check after normalisation reports it.
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Ok(if negative { -magnitude } else { magnitude })
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Number, NumberError> {
        Number::parse(text)
    }
}

/// cty's canonical text: plain decimal notation, no exponent, as go-cty's
/// `Text('f', -1)` prints it (`0.0000001`, `12345678901234567890123`);
/// infinities print as `+Inf`/`-Inf`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (negative, digits, exponent) = match &self.0 {
            Repr::Infinity { negative } => {
                return f.write_str(if *negative { "-Inf" } else { "+Inf" });
            }
            Repr::Finite { digits, .. } if digits.is_empty() => return f.write_str("0"),
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => (*negative, digits.as_str(), *exponent),
        };
        if negative {
            f.write_str("-")?;
        }
        let zeros = |count: i64| "0".repeat(usize::try_from(count).unwrap_or(0));
        if exponent >= 0 {
            return write!(f, "{digits}{}", zeros(exponent));
        }
        let whole_len = digits.len() as i64 + exponent;
        if whole_len > 0 {
            let (whole, fraction) = digits.split_at(whole_len as usize);
            write!(f, "{whole}.{fraction}")
        } else {
            write!(f, "0.{}{digits}", zeros(-whole_len))
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Number {
        Number::normalised(value < 0, value.unsigned_abs().to_string(), 0)
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Number {
        Number::normalised(false, value.to_string(), 0)
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Number {
        Number::from(i64::from(value))
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Number {
        Number::from(u64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Number {
        Number::parse(text).unwrap()
    }
    #[test]
    fn numbers_print_in_plain_decimal_notation() {
        assert_eq!(num("1e-7").to_string(), "0.0000001");
        assert_eq!(num("1.5E+3").to_string(), "1500");
        assert_eq!(num("-0.000").to_string(), "0");
        assert_eq!(num("00012.3400").to_string(), "12.34");
        assert_eq!(num(".5").to_string(), "0.5");
        assert_eq!(num("5.").to_string(), "5");
        assert_eq!(num("-3.14159265358979").to_string(), "-3.14159265358979");
        assert_eq!(
            num("12345678901234567890123").to_string(),
            "12345678901234567890123"
        );
        assert_eq!(num("-inf").to_string(), "-Inf");
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(num("1.50"), num("1.5"));
        assert_eq!(num("150e-2"), num("1.5"));
        assert_eq!(num("-0"), Number::ZERO);
        assert_ne!(num("1.5"), num("-1.5"));
        assert_eq!(Number::from(-42i64), num("-42"));
        assert_eq!(Number::from(u64::MAX), num("18446744073709551615"));
    }

    #[test]
    fn malformed_or_huge_numbers_are_rejected() {
        for bad in [
            "", "-", ".", "1e", "1e+", "abc", "1.2.3", "0x10", " 1", "1 ", "--1", "NaN",
        ] {
            assert_eq!(Number::parse(bad), Err(NumberError::Invalid), "{bad:?}");
        }
        for huge in ["1e10001", "1e-10001", "1e99999999999999999999999"] {
            assert_eq!(Number::parse(huge), Err(NumberError::OutOfRange), "{huge}");
        }
        assert!(Number::parse("0e99999999999999999999999").is_ok());
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(num("1e3").as_i64(), Some(1000));
        assert_eq!(num("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(num("9223372036854775808").as_i64(), None);
        assert_eq!(num("9223372036854775808").as_u64(), Some(1 << 63));
        assert_eq!(num("1.5").as_i64(), None);
        assert_eq!(num("1e40").as_i64(), None);
        assert!(num("1e40").is_integer());
    }

    #[test]
    fn floats_convert_to_their_shortest_decimal() {
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(
            Number::from_f64(-2.5e-7).unwrap().to_string(),
            "-0.00000025"
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::ZERO);
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).unwrap().is_infinite());
        assert_eq!(num("0.1").as_f64(), 0.1);
    }

    #[test]
    fn exact_float_detection() {
        assert_eq!(num("0.5").to_exact_f64(), Some(0.5));
        assert_eq!(num("-3.25").to_exact_f64(), Some(-3.25));
        assert_eq!(num("0.1").to_exact_f64(), None);
        assert_eq!(num("1e-7").to_exact_f64(), None);
        assert_eq!(num("3.14159265358979").to_exact_f64(), None);
        // The exact expansion of the float nearest 0.1 is itself exact.
        let exact_tenth = "0.1000000000000000055511151231257827021181583404541015625";
        assert_eq!(num(exact_tenth).to_exact_f64(), Some(0.1));
        assert_eq!(num("4.9406564584124654e-324").to_exact_f64(), None);
        assert_eq!(num("1e400").to_exact_f64(), None);
    }
}
