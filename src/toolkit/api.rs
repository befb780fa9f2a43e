//! What the provider's configuration hands every object: the Account API
//! client, and the organization's app list shared by every refresh.

use super::{Attempt, api_error};
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

    /// The organization's apps as they are now (see [`AppDirectory::list`]),
    /// or the error that says why they could not be listed and what to do.
    pub async fn list_apps(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Arc<Vec<App>>, Diagnostics> {
        self.apps
            .list(&self.client, cancel)
            .await
            .map_err(|err| api_error(&err, Attempt::new("Listing the apps of the organization")))
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
/// gets the same answer. A create or delete makes the list stale; a reader
/// takes only a list whose fetch began after every change it must see.
///
/// A create needs the list only for the organization's ID and name, which
/// every app the token sees shares: [`AppDirectory::org`] keeps them from
/// any list, so only the creates before a provider's first list list at
/// all, and they share one fetched after their own create (a [`Change`]).
#[derive(Default)]
pub struct AppDirectory {
    /// One fetch at a time: a reader waits here for the one in flight.
    fetch: tokio::sync::Mutex<()>,
    cached: Mutex<Cached>,
}

/// A create or delete, as seen by the directory: a list fetched after it
/// shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change(u64);

#[derive(Default)]
struct Cached {
    /// Bumped by every change.
    generation: u64,
    /// The newest list, with the generation its fetch began at.
    apps: Option<(u64, Arc<Vec<App>>)>,
    /// From the newest list that had an app.
    org: Option<Org>,
}

/// The organization every listed app belongs to: the token's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub org_id: String,
    pub org_name: Option<String>,
}

impl Org {
    pub fn of(app: &App) -> Org {
        Org {
            org_id: app.org_id.clone(),
            org_name: app.org_name.clone(),
        }
    }
}

impl Cached {
    fn fetched_since(&self, since: u64) -> Option<Arc<Vec<App>>> {
        self.apps
            .as_ref()
            .filter(|(generation, _)| *generation >= since)
            .map(|(_, apps)| apps.clone())
    }
}

impl AppDirectory {
    fn cached(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The organization's apps as they are now: a list fetched after every
    /// change made so far.
    pub async fn list(
        &self,
        client: &AccountClient,
        cancel: &CancellationToken,
    ) -> Result<Arc<Vec<App>>, ApiError> {
        let now = Change(self.cached().generation);
        self.list_after(now, client, cancel).await
    }

    /// The organization's apps, from a list fetched after `change` (later
    /// changes may or may not show).
    pub async fn list_after(
        &self,
        change: Change,
        client: &AccountClient,
        cancel: &CancellationToken,
    ) -> Result<Arc<Vec<App>>, ApiError> {
        if let Some(apps) = self.cached().fetched_since(change.0) {
            return Ok(apps);
        }
        let _one_fetch = self.fetch.lock().await;
        let generation = {
            let cached = self.cached();
            if let Some(apps) = cached.fetched_since(change.0) {
                return Ok(apps);
            }
            cached.generation
        };
        let apps = Arc::new(client.list_apps(cancel).await?);
        let mut cached = self.cached();
        if let Some(app) = apps.first() {
            cached.org = Some(Org::of(app));
        }
        if cached.fetched_since(generation).is_none() {
            cached.apps = Some((generation, apps.clone()));
        }
        Ok(apps)
    }

    /// The organization, once any list has shown an app (changes do not
    /// touch it: apps come and go, the token's organization stays).
    pub fn org(&self) -> Option<Org> {
        self.cached().org.clone()
    }

    /// Records that an app was created or deleted (or may have been): later
    /// reads need a list fetched after this.
    pub fn changed(&self) -> Change {
        let mut cached = self.cached();
        cached.generation += 1;
        Change(cached.generation)
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

    #[tokio::test]
    async fn a_read_back_takes_any_list_fetched_after_its_own_change() {
        let emulator = Emulator::start().expect("emulator");
        let client = client(&emulator);
        let directory = AppDirectory::default();
        let cancel = CancellationToken::new();
        let first = directory.changed();
        let second = directory.changed();
        emulator.create_app("made-before-both-changes-were-recorded");
        let listed = directory
            .list_after(second, &client, &cancel)
            .await
            .expect("listed");
        assert_eq!(listed.len(), 1);
        directory
            .list_after(first, &client, &cancel)
            .await
            .expect("listed");
        assert_eq!(
            lists(&emulator),
            1,
            "the list after the second change serves the first"
        );

        let third = directory.changed();
        directory
            .list_after(second, &client, &cancel)
            .await
            .expect("listed");
        assert_eq!(
            lists(&emulator),
            1,
            "a read-back need not see later changes"
        );
        directory.list(&client, &cancel).await.expect("listed");
        assert_eq!(lists(&emulator), 2, "a plain read must");
        directory
            .list_after(third, &client, &cancel)
            .await
            .expect("listed");
        assert_eq!(
            lists(&emulator),
            2,
            "and its list serves what came after the third change"
        );
    }

    #[tokio::test]
    async fn the_organization_is_known_from_any_list_with_an_app() {
        let emulator = Emulator::start().expect("emulator");
        let client = client(&emulator);
        let directory = AppDirectory::default();
        let cancel = CancellationToken::new();
        directory.list(&client, &cancel).await.expect("listed");
        assert_eq!(directory.org(), None, "an empty list shows no organization");
        emulator.create_app("first");
        directory.changed();
        let listed = directory.list(&client, &cancel).await.expect("listed");
        let org = directory.org().expect("known from the list");
        assert_eq!(org, Org::of(&listed[0]));
        directory.changed();
        assert_eq!(directory.org(), Some(org), "a change keeps it");
    }
}
