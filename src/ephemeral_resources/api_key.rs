//! `ephemeral "parallel_api_key"` (Terraform 1.10 and later): an API key
//! that exists for one Terraform run, for CI jobs and smoke tests.
//!
//! Open creates a key and close revokes it; the secret lives only in
//! Terraform's memory, never in a state or plan file. What close must
//! revoke travels in the `private` bytes Terraform hands back to it: the
//! key's identity and a few facts to name it by, never the secret.

use super::abandoned::{self, OpenKey, OpenKeys};
use crate::client::{AccountClient, CreateKeyError, Deletion, NewKey, is_usable_key_id};
use crate::journal::{Event, Operation as JournalOperation};
use crate::resources::api_key::facts::KeyFacts;
use crate::resources::api_key::journaled;
use crate::resources::api_key::model::ApiKeyModel;
use crate::resources::api_key::{self as managed};
use crate::secret::Secret;
use crate::toolkit::{self, Attempt, Deadline, NotFound, Operation, Timeouts};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tfplugin::model::{Maybe, Model, Number};
use tfplugin::typed::{self, TypedEphemeralResource};
use tfplugin::{Attribute, Block, Context, Diagnostic, Diagnostics, Schema, Value};
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_api_key";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
#[derive(Debug, Default)]
pub struct EphemeralApiKey {
    /// What this process opened and has not closed, for the end of the run.
    open: OpenKeys,
}

const DESCRIPTION: &str = "An API key of a Parallel app that exists for one Terraform run (Terraform \
     1.10 and later), for CI jobs and smoke tests. Terraform creates the key when it opens the \
     ephemeral resource and revokes it when it closes it, at the end of the run; the secret \
     (`raw_api_key`) is never written to a state or plan file. Terraform opens ephemeral \
     resources in every phase that needs them: `terraform plan` creates (and revokes) one key, \
     and `terraform apply` creates (and revokes) another, so each phase sees a different key. \
     Use it where an ephemeral value is accepted: provider configuration, write-only arguments, \
     other ephemeral resources, ephemeral outputs and locals. If Terraform cannot revoke the key \
     at close, a warning names the app and the key ID to revoke by hand.";

/// The managed resource's arguments and attributes, without what only a
/// stored object has: `keepers` (nothing is ever replaced),
/// `deletion_policy` (close always revokes) and the plan behaviour (nothing
/// is planned). Texts that speak of state are replaced.
const STORED_ONLY: [&str; 2] = ["keepers", "deletion_policy"];

pub fn schema() -> Schema {
    let managed = managed::schema().block;
    let block = managed
        .attributes
        .into_iter()
        .filter(|attribute| !STORED_ONLY.contains(&attribute.name))
        .map(|attribute| Attribute {
            plan_modifiers: Vec::new(),
            default: None,
            description: description(attribute.name).unwrap_or(attribute.description),
            ..attribute
        })
        .fold(Block::new(DESCRIPTION), Block::attribute);
    Schema::new(0, timeouts().add_to(block))
}

tfplugin::model! {
    /// The opened value: the managed key's model without what only a stored
    /// object has (`STORED_ONLY`). The configuration is read as the managed
    /// key's model itself (those attributes are then null), so the managed
    /// key's checks and answer handling serve this one unchanged.
    #[derive(Debug, Default)]
    pub struct EphemeralKeyModel {
        pub app_id: Maybe<String>,
        pub api_key_name: Maybe<String>,
        pub timeouts: Value,
        pub id: Maybe<String>,
        pub api_key_id: Maybe<String>,
        pub app_name: Maybe<String>,
        pub created_by_user_id: Maybe<String>,
        pub created_by_user_email: Maybe<String>,
        pub display_value: Maybe<String>,
        pub raw_api_key: Maybe<Secret>,
        pub created_at: Maybe<Number>,
    }
}

fn description(attribute: &str) -> Option<&'static str> {
    Some(match attribute {
        "app_id" => "ID (a UUID) of the Parallel app to create the key in.",
        "api_key_name" => "Name of the key, shown in the Parallel platform while the key exists.",
        "raw_api_key" => {
            "The API key itself (sensitive and ephemeral): valid from open until Terraform closes \
             the resource at the end of the phase, and never stored in state or plan files."
        }
        _ => return None,
    })
}

fn timeouts() -> Timeouts {
    Timeouts::covering(&[Operation::Create, Operation::Delete])
        .describe(
            Operation::Create,
            "Upper bound on opening: creating the key, retries included, as a duration such as \
             `30s` or `5m` (default `5m`). A request already sent is allowed to finish.",
        )
        .describe(
            Operation::Delete,
            "Upper bound on closing: revoking the key, retries included (default `5m`).",
        )
}

/// What close needs to revoke the key and to name it in a warning. The
/// secret is not among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenedKey {
    /// The key as every message names it; `opened` makes sure its `id` is
    /// usable and its `app_id` is set.
    key: KeyFacts,
    /// The `timeouts.delete` of the configuration, which close cannot see.
    close_timeout_secs: u64,
    /// The key's operation in the journal.
    #[serde(default)]
    journal_op: Option<String>,
}

impl OpenedKey {
    fn app_id(&self) -> &str {
        self.key.app_id.as_deref().unwrap_or_default()
    }

    fn api_key_id(&self) -> &str {
        self.key.id.as_deref().unwrap_or_default()
    }
}

/// The key's identity from an opened key, when it has a usable ID.
fn opened(key: &ApiKeyModel, close_limit: Duration) -> Option<OpenedKey> {
    let facts = key.facts();
    let usable = facts.id.as_deref().is_some_and(is_usable_key_id);
    (usable && facts.app_id.is_some()).then(|| OpenedKey {
        key: facts,
        close_timeout_secs: close_limit.as_secs().max(1),
        journal_op: None,
    })
}

/// Revokes a key, retries included; `Err` explains why it is still live.
async fn revoke(
    client: &AccountClient,
    ctx: &Context,
    key: &OpenedKey,
) -> Result<Deletion, Diagnostics> {
    let app_id = Uuid::parse_str(key.app_id()).map_err(|_| {
        Diagnostics::from(Diagnostic::error(
            "Invalid app_id",
            format!("{:?} is not a UUID.", key.app_id()),
        ))
    })?;
    let limit = Duration::from_secs(key.close_timeout_secs);
    let deadline = Deadline::start(&ctx.cancel, limit);
    tracing::debug!(%app_id, api_key_id = %key.api_key_id(), "revoking ephemeral API key");
    let result = client
        .delete_key(app_id, key.api_key_id(), deadline.token())
        .await;
    result.map_err(|err| {
        toolkit::api_error(
            &err,
            Attempt::new(&format!("Revoking {}", key.key.label()))
                .not_found(NotFound::app(key.app_id()))
                .timed_out_after(deadline.timed_out_after()),
        )
    })
}

/// Close could not revoke the key: a warning, since the run's work is done,
/// that says which key to revoke by hand and why.
fn not_revoked(key: &OpenedKey, why: &Diagnostics) -> Diagnostic {
    Diagnostic::warning(
        "Ephemeral API key not revoked",
        format!(
            "Terraform could not revoke the ephemeral {} when closing it: {}",
            key.key.label(),
            still_live(key, why)
        ),
    )
}

/// Why a key could not be revoked, and how to revoke it by hand.
fn still_live(key: &OpenedKey, why: &Diagnostics) -> String {
    let reasons: Vec<&str> = why.iter().map(|d| d.detail.as_str()).collect();
    format!(
        "{}. The key is still live. The provider tries again when this run ends and, failing \
         that, at the next run on this machine; should it stay live, revoke it by hand in the \
         Parallel platform: app {}, key ID {} ({}).",
        reasons.join("; "),
        key.app_id(),
        key.api_key_id(),
        key.key.finding_aid()
    )
}

/// Parallel created a key but its answer was incomplete: the key is not
/// handed out (open fails), and it is revoked at once when its ID is known,
/// or named for revoking by hand when it is not.
async fn discard_incomplete(
    client: &AccountClient,
    ctx: &Context,
    mut key: ApiKeyModel,
    answer: NewKey,
    problem: &str,
    journal: &JournalOperation,
) -> Diagnostics {
    let close_limit = timeouts().limit(&key.timeouts, Operation::Delete);
    key.record(answer);
    let facts = key.facts();
    journaled::created(ctx, journal, &facts);
    let revoked = match opened(&key, close_limit) {
        Some(key) => Some((revoke(client, ctx, &key).await, key)),
        None => None,
    };
    if let Some((Ok(_), _)) = &revoked {
        journal.record(Event::Closed);
    }
    let detail = match revoked {
        Some((result, key)) => match result {
            Ok(_) => format!(
                "Parallel created {}, but its answer was incomplete: {problem}. Terraform \
                 revoked the key rather than hand out an incomplete one; nothing is left \
                 behind. Try again.",
                facts.label()
            ),
            Err(why) => format!(
                "Parallel created {}, but its answer was incomplete: {problem}. Terraform tried \
                 to revoke the key rather than hand out an incomplete one, and failed: {}",
                facts.label(),
                still_live(&key, &why)
            ),
        },
        None => format!(
            "Parallel created {}, but its answer holds no usable api_key_id: {problem}. \
             Without its ID Terraform cannot revoke the key, so it may still be live. Revoke \
             it by hand in the Parallel platform: {}.",
            facts.label(),
            facts.finding_aid()
        ),
    };
    Diagnostic::error(
        "API key created, but Parallel's answer was incomplete",
        detail,
    )
    .into()
}

#[async_trait]
impl TypedEphemeralResource for EphemeralApiKey {
    type Config = ApiKeyModel;
    type Model = EphemeralKeyModel;
    type Private = OpenedKey;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn open(
        &self,
        ctx: &Context,
        mut key: ApiKeyModel,
    ) -> Result<typed::Opened<EphemeralKeyModel, OpenedKey>, Diagnostics> {
        let client = &toolkit::api(ctx)?.client;
        let (Maybe::Known(app_id_text), Maybe::Known(name)) =
            (key.app_id.clone(), key.api_key_name.clone())
        else {
            return Err(Diagnostic::error(
                "Incomplete configuration",
                "app_id and api_key_name must be known to create a key.",
            )
            .into());
        };
        let diags = managed::check(&key);
        if diags.has_errors() {
            return Err(diags);
        }
        let app_id = Uuid::parse_str(&app_id_text).map_err(|_| managed::check(&key))?;
        let limit = timeouts().limit(&key.timeouts, Operation::Create);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(%app_id, "creating ephemeral API key");
        let journal = journaled::create_sent(&app_id_text, &name, true);
        let result = client.create_key(app_id, &name, deadline.token()).await;
        let timed_out_after = deadline.timed_out_after();
        drop(deadline);
        let created = match result {
            Ok(created) => created,
            Err(CreateKeyError::Incomplete {
                key: answer,
                problem,
            }) => {
                let diags = discard_incomplete(client, ctx, key, answer, &problem, &journal);
                return Err(diags.await);
            }
            Err(CreateKeyError::NotCreated(err)) => {
                journal.record(Event::NothingDone);
                return Err(toolkit::api_error(
                    &err,
                    Attempt::new(&format!(
                        "Creating ephemeral API key {name:?} in app {app_id}"
                    ))
                    .attributes(&["app_id", "api_key_name"])
                    .not_found(NotFound::app(&app_id_text))
                    .timed_out_after(timed_out_after),
                ));
            }
            Err(CreateKeyError::MayHaveCreated(err)) => {
                // Said in full by this error; the journal's entry stays for
                // the case where Terraform never shows it.
                return Err(Diagnostic::error(
                    "API key may have been created",
                    format!(
                        "Creating ephemeral API key {name:?} in app {app_id} failed in a way \
                         that leaves it unknown whether Parallel created it: {err}. It was not \
                         retried, so no duplicate was made. Check the keys of app {app_id} in \
                         the Parallel platform and revoke any key named {name:?} that is not in \
                         use."
                    ),
                )
                .into());
            }
        };
        key.record(created);
        journaled::created(ctx, &journal, &key.facts());
        let close_limit = timeouts().limit(&key.timeouts, Operation::Delete);
        // A complete answer always has a usable ID (see `parse_created_key`).
        let Some(mut identity) = opened(&key, close_limit) else {
            return Err(Diagnostic::error(
                "API key without an ID",
                format!(
                    "Parallel created {} without a usable ID. Revoke it by hand in the \
                     Parallel platform: {}.",
                    key.facts().label(),
                    key.facts().finding_aid()
                ),
            )
            .into());
        };
        identity.journal_op = Some(journal.id().to_owned());
        self.open.opened(OpenKey {
            app_id: identity.app_id().to_owned(),
            api_key_id: identity.api_key_id().to_owned(),
            label: identity.key.label(),
            journal_op: identity.journal_op.clone(),
        });
        Ok(typed::Opened {
            // Its attributes, taken by name from the managed key's.
            result: EphemeralKeyModel::from_value(&key.to_value())?,
            private: identity,
            renew_at: None,
        })
    }

    fn private_unreadable(&self, _during: &str) -> Diagnostics {
        Diagnostic::warning(
            "Ephemeral API key not revoked",
            "Terraform handed back no record of which key this ephemeral resource created, so \
             it cannot revoke it. Check the app's keys in the Parallel platform and revoke any \
             key that is not in use.",
        )
        .into()
    }

    async fn close(&self, ctx: &Context, key: OpenedKey) -> Diagnostics {
        let client = match toolkit::api(ctx) {
            Ok(api) => &api.client,
            Err(why) => return not_revoked(&key, &why).into(),
        };
        let result = revoke(client, ctx, &key).await;
        if result.is_ok() {
            self.open.closed(key.api_key_id());
            abandoned::journal_closed(key.journal_op.as_deref());
        }
        match result {
            Ok(Deletion::Revoked) => Diagnostics::new(),
            Ok(Deletion::AlreadyGone) => {
                tracing::info!(api_key_id = %key.api_key_id(), "ephemeral API key was already revoked");
                Diagnostics::new()
            }
            Err(why) => not_revoked(&key, &why).into(),
        }
    }

    /// Terraform skipped close (something upstream of it failed) or the
    /// run was stopped: the keys still open are revoked now.
    async fn close_abandoned(&self, ctx: &Context) {
        match toolkit::api(ctx) {
            Ok(api) => abandoned::revoke_at_end_of_run(&api.client, &self.open).await,
            Err(_) if self.open.is_empty() => {}
            Err(_) => {
                tracing::warn!("ephemeral keys left open, but the provider is not configured")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(api_key_id: Option<&str>) -> ApiKeyModel {
        let value = Value::object([
            (
                "app_id",
                Value::string("3c90c3cc-0d44-4b50-8888-8dd25736052a"),
            ),
            ("api_key_name", Value::string("ci")),
            ("api_key_id", api_key_id.map_or(Value::Null, Value::string)),
            ("app_name", Value::string("Search")),
            ("display_value", Value::string("par_…6789")),
            ("raw_api_key", Value::string("par_live_SECRET")),
            ("created_at", Value::number(1_731_000_000)),
        ]);
        ApiKeyModel::from_value(&value).unwrap()
    }

    #[test]
    fn the_model_is_the_schema() {
        EphemeralKeyModel::check_schema(&schema().block).unwrap();
    }

    #[test]
    fn an_opened_value_round_trips_through_the_managed_model() {
        let ephemeral = EphemeralKeyModel::from_value(&result(Some("key_1")).to_value())
            .unwrap()
            .to_value();
        // The configuration's shape (no keepers, no deletion_policy) reads
        // as the managed model, and every attribute comes back by name.
        let managed = ApiKeyModel::from_value(&ephemeral).unwrap();
        assert_eq!(managed.deletion_policy, Maybe::Null);
        let back = EphemeralKeyModel::from_value(&managed.to_value()).unwrap();
        assert_eq!(back.to_value(), ephemeral);
        assert_eq!(
            back.raw_api_key.known().map(Secret::expose),
            Some("par_live_SECRET")
        );
    }

    #[test]
    fn the_schema_is_the_managed_one_without_keepers_or_plan_behaviour() {
        let block = schema().block;
        let names: Vec<&str> = block.attributes.iter().map(|a| a.name).collect();
        let managed: Vec<&str> = managed::schema()
            .block
            .attributes
            .iter()
            .map(|a| a.name)
            .filter(|name| !STORED_ONLY.contains(name))
            .collect();
        assert_eq!(names, managed);
        assert!(
            block
                .attributes
                .iter()
                .all(|a| a.plan_modifiers.is_empty() && a.default.is_none())
        );
        let raw = block.find_attribute("raw_api_key").expect("raw_api_key");
        assert!(raw.sensitive && !raw.description.contains("kept in state"));
        // What Terraform (and the docs) show must warn that plan and apply
        // each get their own key.
        assert!(
            block
                .description
                .contains("each phase sees a different key"),
            "{}",
            block.description
        );
        assert_eq!(block.blocks[0].type_name, "timeouts");
    }

    #[test]
    fn private_bytes_name_the_key_and_never_hold_the_secret() {
        let key = opened(&result(Some("key_1")), Duration::from_secs(90)).expect("usable");
        assert_eq!(key.api_key_id(), "key_1");
        assert_eq!(key.close_timeout_secs, 90);
        let bytes = serde_json::to_vec(&key).expect("encodes");
        assert!(!String::from_utf8_lossy(&bytes).contains("SECRET"));
        assert_eq!(serde_json::from_slice::<OpenedKey>(&bytes).ok(), Some(key));
        for unusable in [None, Some(""), Some("..")] {
            assert_eq!(opened(&result(unusable), Duration::from_secs(1)), None);
        }
    }

    #[test]
    fn a_key_not_revoked_is_named_for_revoking_by_hand() {
        let key = opened(&result(Some("key_1")), Duration::from_secs(1)).expect("usable");
        let why = Diagnostics::from(Diagnostic::error("x", "Parallel answered HTTP 500"));
        let warning = not_revoked(&key, &why);
        assert_eq!(warning.severity, tfplugin::diag::Severity::Warning);
        for needle in [
            "app 3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "key ID key_1",
            "HTTP 500",
            "shown as \"par_…6789\"",
        ] {
            assert!(warning.detail.contains(needle), "{}", warning.detail);
        }
        assert!(!warning.detail.contains("SECRET"));
    }
}
