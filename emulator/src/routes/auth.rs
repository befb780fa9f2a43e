//! Bearer-token check with the wording of FastAPI's `HTTPBearer`. Accepted:
//! the emulator's own token, and access tokens of emulated logins until they
//! expire or are revoked.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::ApiError;
use crate::logins::unix_now;
use crate::state::{Shared, lock};

pub async fn require_bearer(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    match check(&shared, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn check(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    const MISSING: ApiError = ApiError::Unauthorized("Not authenticated");
    let value = headers.get(header::AUTHORIZATION).ok_or(MISSING)?;
    let text = value.to_str().map_err(|_| MISSING)?;
    // FastAPI splits at the first space: "<scheme> <credentials>".
    let (scheme, credentials) = text.split_once(' ').unwrap_or((text, ""));
    let credentials = credentials.trim();
    if scheme.is_empty() || credentials.is_empty() {
        return Err(MISSING);
    }
    // The real service's wording for a wrong or expired token is not
    // documented; FastAPI's wording for a bad scheme is reused for both.
    let invalid = ApiError::Unauthorized("Invalid authentication credentials");
    let accepted = shared.token_matches(credentials)
        || lock(&shared.logins).access_token_valid(credentials, unix_now());
    if !scheme.eq_ignore_ascii_case("bearer") || !accepted {
        return Err(invalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Identity, Store};
    use axum::http::HeaderValue;
    use std::time::Duration;

    fn shared() -> Shared {
        let identity = Identity {
            org_id: "o".into(),
            org_name: "O".into(),
            user_id: "u".into(),
            user_email: "u@example.com".into(),
        };
        Shared::new("tok".into(), Store::new(identity, 0), Duration::ZERO)
    }

    fn detail_for(authorization: Option<&str>) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        match check(&shared(), &headers) {
            Ok(()) => None,
            Err(ApiError::Unauthorized(detail)) => Some(detail),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accepts_the_token_with_any_scheme_case() {
        assert_eq!(detail_for(Some("Bearer tok")), None);
        assert_eq!(detail_for(Some("bearer tok")), None);
    }

    #[test]
    fn rejects_missing_or_malformed_headers() {
        assert_eq!(detail_for(None), Some("Not authenticated"));
        assert_eq!(detail_for(Some("Bearer")), Some("Not authenticated"));
        assert_eq!(detail_for(Some("Bearer ")), Some("Not authenticated"));
        assert_eq!(
            detail_for(Some("Basic tok")),
            Some("Invalid authentication credentials")
        );
        assert_eq!(
            detail_for(Some("Bearer nope")),
            Some("Invalid authentication credentials")
        );
    }
}
