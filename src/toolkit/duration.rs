//! Durations as Terraform users write them: `30s`, `5m`, `1h30m`.

use std::time::Duration;
use tfplugin::{AttrPath, Diagnostic};

/// A positive duration, or an error diagnostic at `attribute`.
pub fn parse_duration(text: &str, attribute: AttrPath) -> Result<Duration, Diagnostic> {
    match tfplugin::validators::parse_duration(text, false) {
        Some(duration) => Ok(duration),
        None => Err(Diagnostic::error(
            "Invalid duration",
            format!(
                "{attribute} must be a positive duration such as \"30s\", \"5m\" or \"1h30m\"; \
                 got {text:?}."
            ),
        )
        .at(attribute)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_and_nonsense_is_named() {
        let at = || AttrPath::root("request_timeout");
        assert_eq!(
            parse_duration(" 1h30m ", at()),
            Ok(Duration::from_secs(5400))
        );
        for bad in ["", "0s", "soon", "-5s"] {
            let err = parse_duration(bad, at()).unwrap_err();
            assert_eq!(err.attribute, Some(at()), "{bad:?}");
            assert!(err.detail.contains("request_timeout"), "{}", err.detail);
        }
    }
}
