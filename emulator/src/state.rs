//! State shared by every connection of one emulator instance.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::faults::FaultQueue;
pub use crate::locking::lock;
use crate::logins::Logins;
use crate::store::Store;
use crate::traffic::Traffic;

pub struct Shared {
    token: String,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultQueue>,
    pub traffic: Arc<Traffic>,
    /// Tokens issued by the platform's token endpoint.
    pub logins: Mutex<Logins>,
    latency: Mutex<Duration>,
}

impl Shared {
    #[cfg(test)]
    pub fn new(token: String, store: Store, latency: Duration) -> Shared {
        Shared::with_logins(
            token,
            store,
            latency,
            Logins::new(String::new(), String::new(), Duration::ZERO),
        )
    }

    pub fn with_logins(token: String, store: Store, latency: Duration, logins: Logins) -> Shared {
        Shared {
            token,
            logins: Mutex::new(logins),
            store: Mutex::new(store),
            faults: Mutex::new(FaultQueue::default()),
            traffic: Arc::new(Traffic::new()),
            latency: Mutex::new(latency),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Compares in time independent of where the first difference is, as a
    /// real token check should.
    pub fn token_matches(&self, presented: &str) -> bool {
        let expected = self.token.as_bytes();
        let presented = presented.as_bytes();
        expected.len() == presented.len()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("token", &"<redacted>")
            .field("latency", &self.latency())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Identity;

    fn shared(token: &str) -> Shared {
        let identity = Identity {
            org_id: "o".into(),
            org_name: "O".into(),
            user_id: "u".into(),
            user_email: "u@example.com".into(),
        };
        Shared::new(token.into(), Store::new(identity, 0), Duration::ZERO)
    }

    #[test]
    fn token_comparison_is_exact() {
        let shared = shared("secret-token");
        assert!(shared.token_matches("secret-token"));
        assert!(!shared.token_matches("secret-tokeN"));
        assert!(!shared.token_matches("secret"));
        assert!(!shared.token_matches(""));
    }

    #[test]
    fn debug_hides_the_token() {
        assert!(!format!("{:?}", shared("secret-token")).contains("secret-token"));
    }
}
