//! What the provider's configuration hands every object: the Account API
//! client, and the organization's app list shared by every refresh.

use crate::client::{AccountClient, ApiError, App};
use std::sync::{Arc, Mutex, PoisonError};
use tfplugin::{Context, Diagnostics};
use tokio_util::sync::CancellationToken;

/// The provider's configured data.
pub struct Api {
    pub client: AccountClient,
    pub apps: AppDirectory,
}

impl Api {
    pub fn new(client: AccountClient) -> Self {
        Api {
            client,
            apps: AppDirectory::default(),
        }
    }
}

/// The configured API, or the framework's "provider not configured" error.
pub fn api(ctx: &Context) -> Result<&Api, Diagnostics> {
    ctx.provider_data::<Api>()
}

/// The app list, fetched at most once until something changes it.
///
/// Terraform refreshes every `parallel_app` (and reads every app data
/// source) in parallel, and the API can only list all apps at once; so
/// the first reader fetches the list and every reader waiting meanwhile
/// gets the same answer. A create or delete drops it, and a list fetched
/// across such a change is not kept.
#[derive(Default)]
pub struct AppDirectory {
    /// One fetch at a time: a reader waits here for the one in flight.
    fetch: tokio::sync::Mutex<()>,
    cached: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    /// Bumped by every change, so a list fetched across one is not kept.
    generation: u64,
    apps: Option<Arc<Vec<App>>>,
}

impl AppDirectory {
    fn cached(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The organization's apps, from the shared list when there is one.
    pub async fn list(
        &self,
        client: &AccountClient,
        cancel: &CancellationToken,
    ) -> Result<Arc<Vec<App>>, ApiError> {
        if let Some(apps) = &self.cached().apps {
            return Ok(apps.clone());
        }
        let _one_fetch = self.fetch.lock().await;
        let generation = {
            let cached = self.cached();
            if let Some(apps) = &cached.apps {
                return Ok(apps.clone());
            }
            cached.generation
        };
        let apps = Arc::new(client.list_apps(cancel).await?);
        let mut cached = self.cached();
        if cached.generation == generation {
            cached.apps = Some(apps.clone());
        }
        Ok(apps)
    }

    /// Forgets the list: an app was created or deleted (or may have been).
    pub fn changed(&self) {
        let mut cached = self.cached();
        cached.generation += 1;
        cached.apps = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientConfig;
    use crate::secret::Secret;
    use parallel_emulator::{Emulator, Method};

    fn client(emulator: &Emulator) -> AccountClient {
        AccountClient::new(ClientConfig {
            base_url: emulator.base_url(),
            ..ClientConfig::new(Secret::new(emulator.token()))
        })
        .expect("client")
    }

    fn lists(emulator: &Emulator) -> usize {
        emulator
            .requests()
            .iter()
            .filter(|r| r.method == Method::GET && r.path.ends_with("/service/v1/apps"))
            .count()
    }

    #[tokio::test]
    async fn parallel_readers_share_one_list_until_something_changes() {
        let emulator = Emulator::start().expect("emulator");
        for n in 0..20 {
            emulator.create_app(&format!("app-{n}"));
        }
        let client = client(&emulator);
        let directory = Arc::new(AppDirectory::default());
        let cancel = CancellationToken::new();
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (directory, client, cancel) = (directory.clone(), client.clone(), cancel.clone());
            readers.spawn(async move { directory.list(&client, &cancel).await });
        }
        while let Some(read) = readers.join_next().await {
            assert!(read.expect("task").expect("listed").len() >= 20);
        }
        assert_eq!(lists(&emulator), 1, "one list for twenty readers");

        directory.changed();
        directory.list(&client, &cancel).await.expect("listed");
        assert_eq!(lists(&emulator), 2, "a change drops the shared list");
    }
}
