//! The reqwest client, built at the first request rather than at
//! configuration: building it loads and parses every root certificate of
//! the platform, and most provider processes (validate, plan, refresh)
//! never send a request at all.

use std::sync::{Mutex, OnceLock, PoisonError};

use super::error::ApiError;

pub(crate) struct LazyHttp {
    builder: Mutex<Option<reqwest::ClientBuilder>>,
    client: OnceLock<Result<reqwest::Client, String>>,
}

impl LazyHttp {
    pub(crate) fn new(builder: reqwest::ClientBuilder) -> Self {
        Self {
            builder: Mutex::new(Some(builder)),
            client: OnceLock::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn ready(client: reqwest::Client) -> Self {
        let lazy = Self {
            builder: Mutex::new(None),
            client: OnceLock::new(),
        };
        let _ = lazy.client.set(Ok(client));
        lazy
    }

    /// The client, built on first use. A failure to build it is final (no
    /// retry can mend it) and certainly sent nothing.
    pub(crate) fn get(&self) -> Result<&reqwest::Client, ApiError> {
        let built = self.client.get_or_init(|| {
            let builder = self
                .builder
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            match builder {
                Some(builder) => builder.build().map_err(|e| super::error::error_chain(&e)),
                None => Err("the HTTP client was already being set up".to_owned()),
            }
        });
        built.as_ref().map_err(|reason| ApiError::InvalidInput {
            problem: format!(
                "the HTTP client could not be set up ({reason}); check the system's CA \
                 certificates, ca_cert_file and HTTPS_PROXY"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_and_reuses_the_client() {
        let lazy = LazyHttp::new(reqwest::Client::builder());
        let first: *const reqwest::Client = lazy.get().expect("built");
        let second: *const reqwest::Client = lazy.get().expect("built");
        assert_eq!(first, second);
    }
}
