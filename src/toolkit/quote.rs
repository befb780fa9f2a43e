//! A value the user gave, quoted in an error text: in full when it is as
//! short as a real one, else its start and its length. An ID pasted wrong
//! can be a whole file; echoing 100,000 characters back buries the message.

use crate::client::shorten;

/// Longer than any ID or name this provider takes, short enough to read.
const SHOWN_CHARS: usize = 80;

/// `given` in quotes, cut to its first characters (and its length said)
/// when it is long.
pub fn quoted(given: &str) -> String {
    let length = given.chars().count();
    if length <= SHOWN_CHARS {
        return format!("{given:?}");
    }
    format!(
        "{:?} ({length} characters in all)",
        shorten(given, SHOWN_CHARS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole_and_long_ones_cut() {
        assert_eq!(quoted("abc"), "\"abc\"");
        let long = "x".repeat(100_000);
        let shown = quoted(&long);
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with("…\" (100000 characters in all)"), "{shown}");
    }
}
