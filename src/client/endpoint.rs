//! The base URL rules and building endpoint URLs under it.

use std::net::IpAddr;

use reqwest::Url;

use super::error::ConfigError;

/// Parses and checks `base_url`.
///
/// Refused: anything but http(s); plain http to a non-loopback host (the
/// bearer token would travel in clear); credentials, query or fragment
/// (they would be mangled by, or leak through, the paths appended to it).
/// A trailing slash is fine.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|e| ConfigError::BaseUrlUnparsable {
        reason: e.to_string(),
    })?;
    let shown = displayable(&url);
    let shape_error = |problem: &str| ConfigError::BaseUrlShape {
        url: shown.clone(),
        problem: problem.to_owned(),
    };
    match url.scheme() {
        "https" => {}
        "http" => {
            if !is_loopback(&url) {
                return Err(ConfigError::BaseUrlCleartext {
                    url: shown,
                    host: url.host_str().unwrap_or_default().to_owned(),
                });
            }
        }
        other => {
            return Err(ConfigError::BaseUrlScheme {
                url: shown,
                scheme: other.to_owned(),
            });
        }
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(shape_error("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(shape_error(
            "it contains credentials; give the access token through access_token instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(shape_error(
            "it must not have a query (?...) or fragment (#...)",
        ));
    }
    Ok(url)
}

/// `base` with `segments` appended as path segments. Each segment is
/// percent-encoded, so an id containing `/` or `?` cannot change the path.
/// `None` if a segment is empty, `.` or `..` (the URL library would drop
/// those silently and address another resource).
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Option<Url> {
    if !segments.iter().all(|s| is_usable_segment(s)) {
        return None;
    }
    let mut url = base.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(segments);
    Some(url)
}

/// Whether `segment` can be a path segment of an endpoint. Anything else
/// is percent-encoded (`%` included), so only these three are refused.
pub(crate) fn is_usable_segment(segment: &str) -> bool {
    !matches!(segment, "" | "." | "..")
}

/// Whether the URL's host is 127.0.0.0/8, ::1 (or an IPv4-mapped
/// loopback) or literally `localhost`. Decided from the text alone: the
/// name is resolved later, and `localhost.` (or any other name) may
/// resolve through DNS to anything.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed: `[::1]`.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The URL as it may appear in an error text: without any credentials.
fn displayable(url: &Url) -> String {
    let mut shown = url.clone();
    // Both setters only fail for URLs that cannot carry credentials anyway.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        for ok in [
            "https://api.parallel.ai/account",
            "https://api.parallel.ai/account/",
            "  https://api.parallel.ai  ",
            "https://10.0.0.1:8443/x",
            "http://127.0.0.1:8080",
            "http://127.8.9.10/account",
            "http://localhost:3000/account/",
            "http://LOCALHOST/",
            "http://[::1]:9000/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_clear_text_to_remote_hosts() {
        for bad in [
            "http://api.parallel.ai/account",
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
            "http://localhost.:8080/",
            "http://localhost../",
            "http://[::2]/",
            "http://0.0.0.0/",
        ] {
            match parse_base_url(bad) {
                Err(e @ ConfigError::BaseUrlCleartext { .. }) => {
                    assert!(e.to_string().contains("clear text"), "{e}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn refuses_other_schemes_and_shapes() {
        assert!(matches!(
            parse_base_url("ftp://api.parallel.ai"),
            Err(ConfigError::BaseUrlScheme { .. })
        ));
        assert!(matches!(
            parse_base_url("api.parallel.ai/account"),
            Err(ConfigError::BaseUrlUnparsable { .. })
        ));
        assert!(matches!(
            parse_base_url(""),
            Err(ConfigError::BaseUrlUnparsable { .. })
        ));
        for bad in [
            "https://api.parallel.ai/account?x=1",
            "https://api.parallel.ai/account#frag",
        ] {
            assert!(
                matches!(parse_base_url(bad), Err(ConfigError::BaseUrlShape { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_in_the_url_are_refused_and_not_echoed() {
        let err = parse_base_url("https://me:hunter2@api.parallel.ai/").unwrap_err();
        assert!(matches!(err, ConfigError::BaseUrlShape { .. }));
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn builds_endpoints_with_or_without_trailing_slash() {
        for base in [
            "https://api.parallel.ai/account",
            "https://api.parallel.ai/account/",
        ] {
            let base = parse_base_url(base).unwrap();
            let url = endpoint(&base, &["service", "v1", "apps"]).unwrap();
            assert_eq!(
                url.as_str(),
                "https://api.parallel.ai/account/service/v1/apps"
            );
        }
        let root = parse_base_url("http://127.0.0.1:9/").unwrap();
        let url = endpoint(&root, &["service", "v1"]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9/service/v1");
    }

    #[test]
    fn segments_are_encoded_and_dot_segments_refused() {
        let base = parse_base_url("https://h/account").unwrap();
        let url = endpoint(&base, &["keys", "a/b?c#d e"]).unwrap();
        assert_eq!(url.as_str(), "https://h/account/keys/a%2Fb%3Fc%23d%20e");
        for bad in ["", ".", ".."] {
            assert!(endpoint(&base, &["keys", bad]).is_none(), "{bad:?}");
            assert!(!is_usable_segment(bad));
        }
        // `%` is encoded too, so an encoded dot segment stays a name.
        let url = endpoint(&base, &["keys", "%2e%2e"]).unwrap();
        assert_eq!(url.as_str(), "https://h/account/keys/%252e%252e");
    }
}
