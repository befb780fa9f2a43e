//! A strict, fast, in-memory emulator of Parallel's Account API
//! (`https://api.parallel.ai/account`), for tests and offline demos.
//!
//! [`Emulator::start`] serves it on `127.0.0.1` from a background thread
//! with its own tokio runtime, so plain synchronous tests can use it; the
//! server stops when the handle is dropped. Besides the seven documented
//! endpoints it can inject faults (error statuses, latency, dropped
//! connections, broken bodies) and records every request it receives.

mod errors;
mod faults;
mod intercept;
mod locking;
mod logins;
mod routes;
mod secrets;
mod server;
mod state;
mod store;
mod traffic;
mod validation;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use faults::{Fault, FaultKind};
pub use http::Method;
pub use logins::{CLI_SCOPES, FALLBACK_CLIENT_ID, Login, LoginSpec, auth_file_in, unix_now};
pub use store::{App, Balance, ChargeRecord, IDEMPOTENCY_WINDOW, KeyRecord};
pub use traffic::RequestRecord;

use logins::Logins;
use state::{Shared, lock};
use store::{Identity, Store};

/// How to start an emulator. `Default` gives a random port and token.
#[derive(Clone)]
pub struct Options {
    /// 0 picks a free port.
    pub port: u16,
    /// `None` generates a random token.
    pub token: Option<String>,
    /// Added to every API request (not to `/_emulator` admin routes).
    pub latency: Duration,
    pub initial_balance_cents: i64,
    /// The organization is billed by invoice: add-balance is refused.
    pub will_invoice: bool,
    pub org_name: String,
    pub user_email: String,
    /// Lifetime of the access tokens the token endpoint issues.
    pub access_token_lifetime: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            port: 0,
            token: None,
            latency: Duration::ZERO,
            initial_balance_cents: 1_000,
            will_invoice: false,
            org_name: "Emulated Org".to_owned(),
            user_email: "emulator@example.com".to_owned(),
            access_token_lifetime: Duration::from_secs(3600),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("port", &self.port)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("latency", &self.latency)
            .field("initial_balance_cents", &self.initial_balance_cents)
            .field("will_invoice", &self.will_invoice)
            .field("org_name", &self.org_name)
            .field("user_email", &self.user_email)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .finish()
    }
}

/// A running emulator. Dropping it stops the server and closes its port.
pub struct Emulator {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on `127.0.0.1`, on a free port, with a random token.
    pub fn start() -> std::io::Result<Emulator> {
        Emulator::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("parallel-emulator-worker")
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };

        let identity = Identity {
            org_id: Uuid::new_v4().to_string(),
            org_name: options.org_name,
            user_id: Uuid::new_v4().to_string(),
            user_email: options.user_email,
        };
        let token = options.token.unwrap_or_else(secrets::access_token);
        let logins = Logins::new(
            identity.org_id.clone(),
            identity.org_name.clone(),
            options.access_token_lifetime,
        );
        let mut store = Store::new(identity, options.initial_balance_cents);
        store.set_will_invoice(options.will_invoice);
        let shared = Arc::new(Shared::with_logins(token, store, options.latency, logins));
        let router = routes::router(Arc::clone(&shared));
        let shutdown = CancellationToken::new();

        let serve_until = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name("parallel-emulator".to_owned())
            .spawn(move || {
                runtime.block_on(server::serve(listener, router, serve_until));
                // Cancels connection tasks still open (idle keep-alives,
                // requests sleeping on latency) so the port is really freed.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;

        Ok(Emulator {
            shared,
            address,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The equivalent of `https://api.parallel.ai/account`; API routes hang
    /// below it (`/service/v1/...`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn token(&self) -> String {
        self.shared.token().to_owned()
    }

    /// Seeds an app, as if created through the API.
    pub fn create_app(&self, name: &str) -> App {
        lock(&self.shared.store).create_app(name.to_owned())
    }

    /// Deletes an app (and so its keys) behind the client's back, as a user
    /// would in the platform; `false` if there was no such app.
    pub fn delete_app_out_of_band(&self, app_id: &str) -> bool {
        let Ok(app_id) = uuid::Uuid::parse_str(app_id) else {
            return false;
        };
        lock(&self.shared.store).delete_app(app_id).is_ok()
    }

    pub fn apps(&self) -> Vec<App> {
        lock(&self.shared.store).apps()
    }

    /// Keys not revoked, oldest first.
    pub fn live_keys(&self) -> Vec<KeyRecord> {
        lock(&self.shared.store).live_keys()
    }

    /// Revokes a key behind the client's back (as a user would in the
    /// dashboard); `false` if it was not live.
    pub fn revoke_out_of_band(&self, api_key_id: &str) -> bool {
        lock(&self.shared.store).revoke_key(api_key_id)
    }

    pub fn balance(&self) -> Balance {
        lock(&self.shared.store).balance()
    }

    /// Switches the organization to (or from) invoice billing.
    pub fn set_will_invoice(&self, will_invoice: bool) {
        lock(&self.shared.store).set_will_invoice(will_invoice);
    }

    /// Every charge made by add-balance, oldest first.
    pub fn charges(&self) -> Vec<ChargeRecord> {
        lock(&self.shared.store).charges()
    }

    /// Every key ever created, revoked ones included (with their secrets),
    /// oldest first.
    pub fn issued_keys(&self) -> Vec<KeyRecord> {
        lock(&self.shared.store).issued_keys()
    }

    /// Moves the emulator's clock forward (key creation times, the
    /// add-balance idempotency window), so a test can step past 24 h.
    pub fn advance_clock(&self, by: Duration) {
        lock(&self.shared.store).advance_clock(by);
    }

    /// Every API request received so far, in completion order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.traffic.records()
    }

    /// Forgets recorded requests and restarts [`Self::max_concurrent_requests`].
    pub fn clear_requests(&self) {
        self.shared.traffic.clear();
    }

    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Faults not yet fully consumed.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).len()
    }

    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }

    /// A new `parallel-cli login` for the emulator's organization: its
    /// tokens are known to the token endpoint and the API routes.
    pub fn login(&self, spec: &LoginSpec) -> Login {
        lock(&self.shared.logins).login(spec)
    }

    /// Logs in ([`Self::login`]) and saves the login where the Parallel CLI
    /// would for `home` (`.config/parallel-web-tools/auth.json`, mode 0600);
    /// returns the login and the file's path.
    pub fn write_cli_login(
        &self,
        home: &std::path::Path,
        spec: &LoginSpec,
    ) -> std::io::Result<(Login, std::path::PathBuf)> {
        let login = self.login(spec);
        let path = auth_file_in(home);
        logins::write_auth_file(&path, &login.auth_json())?;
        Ok((login, path))
    }

    /// Lifetime of the access tokens the refresh grant issues from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        lock(&self.shared.logins).set_access_token_lifetime(lifetime);
    }

    /// Revokes every access token of emulated logins (refresh tokens stay
    /// good); returns how many there were.
    pub fn revoke_access_tokens(&self) -> usize {
        lock(&self.shared.logins).revoke_access_tokens()
    }

    /// Successful refresh grants so far.
    pub fn refresh_count(&self) -> usize {
        lock(&self.shared.logins).refreshes()
    }

    /// Every access token, refresh token and data-API key of emulated
    /// logins, for tests that check none of them leaks.
    pub fn login_secrets(&self) -> Vec<String> {
        lock(&self.shared.logins).issued_secrets()
    }

    /// The most API requests ever in flight at once (since start or the
    /// last [`Self::clear_requests`]).
    pub fn max_concurrent_requests(&self) -> usize {
        self.shared.traffic.max_concurrent()
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread was already reported by the
            // panic hook; there is nothing more to do with it here.
            let _ = thread.join();
        }
    }
}
