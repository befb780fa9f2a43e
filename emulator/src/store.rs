//! The emulated organisation: its apps, API keys and prepaid balance.
//!
//! Plain data behind one mutex (see `state.rs`): every operation is a few
//! map look-ups, so a single lock keeps things simple without limiting
//! throughput.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use uuid::Uuid;

use crate::secrets;

/// An app, serialised with the fields (and order) of the API's `AppItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct App {
    pub app_name: String,
    pub org_name: String,
    pub app_id: Uuid,
    pub org_id: String,
}

/// A live API key, serialised like the API's `CreateKeyResponse`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct KeyRecord {
    pub api_key_id: String,
    pub api_key_name: String,
    pub app_id: Uuid,
    pub app_name: String,
    pub created_by_user_id: String,
    pub created_by_user_email: String,
    pub display_value: String,
    pub raw_api_key: String,
    /// Unix seconds, an integer as in the API schema.
    pub created_at: i64,
}

impl fmt::Debug for KeyRecord {
    // The raw key is a secret: keep it out of test logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("api_key_id", &self.api_key_id)
            .field("api_key_name", &self.api_key_name)
            .field("app_id", &self.app_id)
            .field("app_name", &self.app_name)
            .field("display_value", &self.display_value)
            .field("raw_api_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The organisation's balance, serialised like the API's `BalanceResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub org_id: String,
    pub credit_balance_cents: i64,
    pub pending_debit_balance_cents: i64,
    pub will_invoice: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("App not found")]
    AppNotFound,
    #[error("API key not found")]
    KeyNotFound,
    #[error("Idempotency key was already used with a different amount")]
    IdempotencyKeyReused,
    #[error("Organization is billed by invoice")]
    BilledByInvoice,
}

impl StoreError {
    /// The `detail` text sent to clients.
    pub fn detail(&self) -> &'static str {
        match self {
            StoreError::AppNotFound => "App not found",
            StoreError::KeyNotFound => "API key not found",
            StoreError::IdempotencyKeyReused => {
                "Idempotency key was already used with a different amount"
            }
            StoreError::BilledByInvoice => {
                "This organization is billed by invoice; balance cannot be added to it"
            }
        }
    }
}

/// Who the emulated access token belongs to.
#[derive(Debug, Clone)]
pub struct Identity {
    pub org_id: String,
    pub org_name: String,
    pub user_id: String,
    pub user_email: String,
}

#[derive(Debug)]
struct StoredKey {
    // Creation order, so listings are stable and chronological.
    sequence: u64,
    record: KeyRecord,
}

/// How long the API de-duplicates add-balance calls by idempotency key:
/// documented as "at least 24 h", so exactly that here.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// One charge of the organization's payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRecord {
    pub idempotency_key: String,
    pub amount_cents: i64,
    /// On the emulator's clock (see `Emulator::advance_clock`).
    pub at: SystemTime,
    /// The answer the charge got, replayed to a repeat within the window.
    pub answer: Balance,
}

#[derive(Debug)]
pub struct Store {
    identity: Identity,
    apps: Vec<App>,
    keys: HashMap<String, StoredKey>,
    /// Every key ever created, revoked or not, for test tooling that must
    /// know every secret that was handed out.
    issued: Vec<KeyRecord>,
    next_sequence: u64,
    credit_balance_cents: i64,
    will_invoice: bool,
    /// Every charge made, oldest first.
    charges: Vec<ChargeRecord>,
    /// Added to the real time, so tests can step past the idempotency
    /// window without waiting.
    clock_offset: Duration,
}

fn unix_seconds(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |elapsed| {
        i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
    })
}

impl Store {
    pub fn new(identity: Identity, initial_balance_cents: i64) -> Store {
        Store {
            identity,
            apps: Vec::new(),
            keys: HashMap::new(),
            issued: Vec::new(),
            next_sequence: 0,
            credit_balance_cents: initial_balance_cents,
            will_invoice: false,
            charges: Vec::new(),
            clock_offset: Duration::ZERO,
        }
    }

    /// The emulator's time: the real one, moved on by `advance_clock`.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    pub fn advance_clock(&mut self, by: Duration) {
        self.clock_offset = self.clock_offset.saturating_add(by);
    }

    pub fn apps(&self) -> Vec<App> {
        self.apps.clone()
    }

    pub fn create_app(&mut self, app_name: String) -> App {
        let app = App {
            app_name,
            org_name: self.identity.org_name.clone(),
            app_id: Uuid::new_v4(),
            org_id: self.identity.org_id.clone(),
        };
        self.apps.push(app.clone());
        app
    }

    /// Deleting an app also revokes its keys: a key cannot outlive its app.
    pub fn delete_app(&mut self, app_id: Uuid) -> Result<(), StoreError> {
        let index = self
            .apps
            .iter()
            .position(|app| app.app_id == app_id)
            .ok_or(StoreError::AppNotFound)?;
        self.apps.remove(index);
        self.keys.retain(|_, key| key.record.app_id != app_id);
        Ok(())
    }

    pub fn create_key(
        &mut self,
        app_id: Uuid,
        api_key_name: String,
    ) -> Result<KeyRecord, StoreError> {
        let app = self
            .apps
            .iter()
            .find(|app| app.app_id == app_id)
            .ok_or(StoreError::AppNotFound)?;
        let raw_api_key = secrets::raw_api_key();
        let record = KeyRecord {
            api_key_id: Uuid::new_v4().to_string(),
            api_key_name,
            app_id,
            app_name: app.app_name.clone(),
            created_by_user_id: self.identity.user_id.clone(),
            created_by_user_email: self.identity.user_email.clone(),
            display_value: secrets::display_value(&raw_api_key),
            raw_api_key,
            created_at: unix_seconds(self.now()),
        };
        self.issued.push(record.clone());
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.keys.insert(
            record.api_key_id.clone(),
            StoredKey {
                sequence,
                record: record.clone(),
            },
        );
        Ok(record)
    }

    /// An unknown app answers "App not found" first, like a nested resource
    /// lookup would; a key that exists under another app is "not found" too.
    pub fn delete_key(&mut self, app_id: Uuid, api_key_id: &str) -> Result<(), StoreError> {
        if !self.apps.iter().any(|app| app.app_id == app_id) {
            return Err(StoreError::AppNotFound);
        }
        match self.keys.get(api_key_id) {
            Some(key) if key.record.app_id == app_id => {
                self.keys.remove(api_key_id);
                Ok(())
            }
            _ => Err(StoreError::KeyNotFound),
        }
    }

    /// Removes a key whatever its app; `false` when it was not live.
    pub fn revoke_key(&mut self, api_key_id: &str) -> bool {
        self.keys.remove(api_key_id).is_some()
    }

    pub fn live_keys(&self) -> Vec<KeyRecord> {
        let mut keys: Vec<&StoredKey> = self.keys.values().collect();
        keys.sort_by_key(|key| key.sequence);
        keys.into_iter().map(|key| key.record.clone()).collect()
    }

    /// Every key ever created, revoked ones included, oldest first.
    pub fn issued_keys(&self) -> Vec<KeyRecord> {
        self.issued.clone()
    }

    /// An invoice-billed organization shows 0 for both amounts, as the API
    /// documents.
    pub fn balance(&self) -> Balance {
        let (credit, pending) = if self.will_invoice {
            (0, 0)
        } else {
            (self.credit_balance_cents, 0)
        };
        Balance {
            org_id: self.identity.org_id.clone(),
            credit_balance_cents: credit,
            pending_debit_balance_cents: pending,
            will_invoice: self.will_invoice,
        }
    }

    pub fn set_will_invoice(&mut self, will_invoice: bool) {
        self.will_invoice = will_invoice;
    }

    pub fn charges(&self) -> Vec<ChargeRecord> {
        self.charges.clone()
    }

    /// Charges once per idempotency key within [`IDEMPOTENCY_WINDOW`], as
    /// Stripe-style idempotency does: a repeat with the same amount charges
    /// nothing and gets the first call's answer again; with another amount
    /// it is refused. After the window the key is a new charge.
    pub fn add_balance(
        &mut self,
        amount_cents: i64,
        idempotency_key: String,
    ) -> Result<Balance, StoreError> {
        if self.will_invoice {
            return Err(StoreError::BilledByInvoice);
        }
        let now = self.now();
        let earlier = self.charges.iter().rev().find(|charge| {
            charge.idempotency_key == idempotency_key
                && now.duration_since(charge.at).unwrap_or(Duration::ZERO) < IDEMPOTENCY_WINDOW
        });
        match earlier {
            Some(charge) if charge.amount_cents == amount_cents => Ok(charge.answer.clone()),
            Some(_) => Err(StoreError::IdempotencyKeyReused),
            None => {
                self.credit_balance_cents = self.credit_balance_cents.saturating_add(amount_cents);
                let answer = self.balance();
                self.charges.push(ChargeRecord {
                    idempotency_key,
                    amount_cents,
                    at: now,
                    answer: answer.clone(),
                });
                Ok(answer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let identity = Identity {
            org_id: "org".into(),
            org_name: "Org".into(),
            user_id: "user".into(),
            user_email: "user@example.com".into(),
        };
        Store::new(identity, 1_000)
    }

    #[test]
    fn keys_belong_to_existing_apps() {
        let mut store = store();
        assert_eq!(
            store.create_key(Uuid::new_v4(), "k".into()),
            Err(StoreError::AppNotFound)
        );
        let app = store.create_app("demo".into());
        let key = store.create_key(app.app_id, "k".into()).unwrap();
        assert_eq!(key.app_name, "demo");
        assert_eq!(key.created_by_user_email, "user@example.com");
        assert!(
            key.display_value
                .ends_with(&key.raw_api_key[key.raw_api_key.len() - 4..])
        );
        assert_eq!(store.live_keys(), vec![key]);
    }

    #[test]
    fn deleting_a_key_twice_is_not_found() {
        let mut store = store();
        let app = store.create_app("demo".into());
        let key = store.create_key(app.app_id, "k".into()).unwrap();
        assert_eq!(store.delete_key(app.app_id, &key.api_key_id), Ok(()));
        assert_eq!(
            store.delete_key(app.app_id, &key.api_key_id),
            Err(StoreError::KeyNotFound)
        );
        assert_eq!(
            store.delete_key(Uuid::new_v4(), &key.api_key_id),
            Err(StoreError::AppNotFound)
        );
    }

    #[test]
    fn a_key_cannot_be_deleted_through_another_app() {
        let mut store = store();
        let owner = store.create_app("owner".into());
        let other = store.create_app("other".into());
        let key = store.create_key(owner.app_id, "k".into()).unwrap();
        assert_eq!(
            store.delete_key(other.app_id, &key.api_key_id),
            Err(StoreError::KeyNotFound)
        );
        assert_eq!(store.live_keys().len(), 1);
    }

    #[test]
    fn deleting_an_app_revokes_its_keys() {
        let mut store = store();
        let app = store.create_app("demo".into());
        let keep = store.create_app("keep".into());
        store.create_key(app.app_id, "a".into()).unwrap();
        let kept = store.create_key(keep.app_id, "b".into()).unwrap();
        store.delete_app(app.app_id).unwrap();
        assert_eq!(store.live_keys(), vec![kept]);
        assert_eq!(store.delete_app(app.app_id), Err(StoreError::AppNotFound));
    }

    #[test]
    fn live_keys_are_listed_in_creation_order() {
        let mut store = store();
        let app = store.create_app("demo".into());
        let names: Vec<String> = (0..20).map(|i| format!("key-{i}")).collect();
        for name in &names {
            store.create_key(app.app_id, name.clone()).unwrap();
        }
        let listed: Vec<String> = store
            .live_keys()
            .into_iter()
            .map(|k| k.api_key_name)
            .collect();
        assert_eq!(listed, names);
    }

    #[test]
    fn balance_charges_once_per_idempotency_key() {
        let mut store = store();
        assert_eq!(
            store
                .add_balance(500, "key-0001".into())
                .unwrap()
                .credit_balance_cents,
            1_500
        );
        assert_eq!(
            store
                .add_balance(500, "key-0001".into())
                .unwrap()
                .credit_balance_cents,
            1_500
        );
        assert_eq!(
            store.add_balance(700, "key-0001".into()),
            Err(StoreError::IdempotencyKeyReused)
        );
        assert_eq!(
            store
                .add_balance(700, "key-0002".into())
                .unwrap()
                .credit_balance_cents,
            2_200
        );
    }

    #[test]
    fn a_replay_gets_the_first_answer_until_the_window_closes() {
        let mut store = store();
        let first = store.add_balance(500, "key-0001".into()).unwrap();
        store.add_balance(100, "key-0002".into()).unwrap();
        store.advance_clock(IDEMPOTENCY_WINDOW - Duration::from_secs(1));
        assert_eq!(store.add_balance(500, "key-0001".into()), Ok(first));
        assert_eq!(store.charges().len(), 2);
        store.advance_clock(Duration::from_secs(1));
        let again = store.add_balance(500, "key-0001".into()).unwrap();
        assert_eq!(again.credit_balance_cents, 2_100, "a new charge");
        assert_eq!(store.charges().len(), 3);
    }

    #[test]
    fn an_invoice_billed_organization_cannot_add_balance() {
        let mut store = store();
        store.set_will_invoice(true);
        let balance = store.balance();
        assert!(balance.will_invoice);
        assert_eq!(
            (
                balance.credit_balance_cents,
                balance.pending_debit_balance_cents
            ),
            (0, 0)
        );
        assert_eq!(
            store.add_balance(500, "key-0001".into()),
            Err(StoreError::BilledByInvoice)
        );
        assert!(store.charges().is_empty());
    }

    #[test]
    fn revoked_keys_stay_among_the_issued() {
        let mut store = store();
        let app = store.create_app("demo".into());
        let key = store.create_key(app.app_id, "k".into()).unwrap();
        store.revoke_key(&key.api_key_id);
        assert!(store.live_keys().is_empty());
        assert_eq!(store.issued_keys(), vec![key]);
    }

    #[test]
    fn debug_output_hides_the_raw_key() {
        let mut store = store();
        let app = store.create_app("demo".into());
        let key = store.create_key(app.app_id, "k".into()).unwrap();
        assert!(!format!("{key:?}").contains(&key.raw_api_key));
        assert!(!format!("{store:?}").contains(&key.raw_api_key));
    }
}
