//! Random credentials the emulator hands out.

use rand::Rng;
use rand::distr::Alphanumeric;

const RAW_KEY_PREFIX: &str = "sk-";
const RAW_KEY_RANDOM_CHARS: usize = 40;
const VISIBLE_SUFFIX_CHARS: usize = 4;

fn random_alphanumeric(length: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(length)
        .map(char::from)
        .collect()
}

/// An opaque bearer token for one emulator instance.
pub fn access_token() -> String {
    format!("emu-{}", random_alphanumeric(40))
}

/// The random part of an issued access or refresh token.
pub fn token_chars() -> String {
    random_alphanumeric(40)
}

/// A short random suffix for names (temporary files, client ids).
pub fn short_id() -> String {
    random_alphanumeric(8)
}

/// A fresh raw API key, shown to the caller exactly once.
pub fn raw_api_key() -> String {
    format!(
        "{RAW_KEY_PREFIX}{}",
        random_alphanumeric(RAW_KEY_RANDOM_CHARS)
    )
}

/// The masked form listed in dashboards: prefix, stars, last characters.
/// It must never let the raw key be reconstructed.
pub fn display_value(raw_api_key: &str) -> String {
    let chars: Vec<char> = raw_api_key.chars().collect();
    let suffix_start = chars.len().saturating_sub(VISIBLE_SUFFIX_CHARS);
    let suffix: String = chars[suffix_start..].iter().collect();
    format!("{RAW_KEY_PREFIX}***{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_are_unique_and_prefixed() {
        let first = raw_api_key();
        let second = raw_api_key();
        assert_ne!(first, second);
        assert!(first.starts_with("sk-"));
        assert_eq!(first.len(), 3 + 40);
    }

    #[test]
    fn display_value_hides_the_middle() {
        let raw = "sk-abcdefghijklmnopqrstuvwxyz0123456789WXYZ";
        assert_eq!(display_value(raw), "sk-***WXYZ");
        assert_eq!(display_value("ab"), "sk-***ab");
    }

    #[test]
    fn access_tokens_differ() {
        assert_ne!(access_token(), access_token());
    }
}
