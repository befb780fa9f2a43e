//! `parallel_api_key`: an API key of a Parallel app.
//!
//! The API shows a key's secret exactly once, in the answer to its
//! creation, and cannot read a key back. So the state is the only record:
//! reads are served from it, every configurable attribute forces
//! replacement, and whatever a create returns is saved even when part of
//! the answer is wrong.

pub(crate) mod facts;
pub(crate) mod journaled;
pub mod model;
pub(crate) mod texts;

use std::time::Duration;

use crate::client::{CreateKeyError, Deletion, is_plausible_key_id, is_usable_key_id};
use crate::journal::Event;
use crate::toolkit;
use crate::toolkit::{Deadline, Operation, Timeouts, deletion_policy};
use async_trait::async_trait;
use facts::KeyFacts;
use model::ApiKeyModel;
use texts::{
    api_error, implausible_key_id_in_state, import_refused, incomplete_create,
    invalid_app_id_in_state, may_have_created, not_revocable,
};
use tfplugin::framework::PlanRequest;
use tfplugin::model::{Maybe, Model};
use tfplugin::typed::{Applied, TypedResource};
use tfplugin::validators::{self, Checked};
use tfplugin::{
    Attribute, Block, Context, Diagnostic, Diagnostics, IdentityAttribute, IdentitySchema,
    ImportRequest, Schema, Type, Value, attr_name, attr_path,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_api_key";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct ApiKeyResource;

/// A computed string that, like every computed value here, is fixed at
/// creation and kept until the key is replaced.
fn computed_string(name: &'static str, description: &'static str) -> Attribute {
    Attribute::string(name)
        .computed()
        .use_state_for_unknown()
        .description(description)
}

pub fn schema() -> Schema {
    let block = Block::new(
        "An API key of a Parallel app. Creating the resource creates a key; destroying it \
         revokes the key. The key's secret (`raw_api_key`) is returned by the API only when the \
         key is created, so it is kept in state as a sensitive value and every later read is \
         served from there. Changing `app_id`, `api_key_name` or `keepers` creates a new key \
         (use `keepers` with `create_before_destroy` to rotate without a gap); changing only \
         `timeouts` updates the resource in place, without calling the API.",
    )
    .attribute(
        Attribute::string("app_id")
            .required()
            .replace_unless_equivalent(same_uuid)
            .validator(app_id_is_a_uuid)
            .description(
                "ID (a UUID) of the Parallel app the key belongs to. Changing it creates a new \
                 key; writing the same UUID another way (upper case, in braces, as \
                 `urn:uuid:`) does not.",
            ),
    )
    .attribute(
        Attribute::string("api_key_name")
            .required()
            .requires_replace()
            .validator(validators::not_blank())
            .description(
                "Name of the key, shown in the Parallel platform. Changing it creates a new key.",
            ),
    )
    .attribute(
        Attribute::of_type("keepers", Type::Map(Box::new(Type::String)))
            .optional()
            .requires_replace()
            .description(
                "Arbitrary values that, when changed, create a new key (rotation). For example \
                 a date or a version number; combine with `lifecycle { create_before_destroy = \
                 true }` so the new key exists before the old one is revoked.",
            ),
    )
    .attribute(computed_string("id", "Same as `api_key_id`."))
    .attribute(computed_string(
        "api_key_id",
        "ID of the key, assigned by Parallel.",
    ))
    .attribute(computed_string(
        "app_name",
        "Name of the app the key belongs to.",
    ))
    .attribute(computed_string(
        "created_by_user_id",
        "ID of the user the access token belongs to, who created the key.",
    ))
    .attribute(computed_string(
        "created_by_user_email",
        "Email address of the user who created the key.",
    ))
    .attribute(computed_string(
        "display_value",
        "A masked form of the key, safe to show, to recognise it in the Parallel platform.",
    ))
    .attribute(
        computed_string(
            "raw_api_key",
            "The API key itself (sensitive). Parallel returns it only at creation; it is kept \
             in state, so protect the state. Hand it to other resources or outputs as \
             `parallel_api_key.NAME.raw_api_key`.",
        )
        .sensitive(),
    )
    .attribute(
        Attribute::number("created_at")
            .computed()
            .use_state_for_unknown()
            .description("When the key was created, as returned by the API (Unix timestamp)."),
    )
    .attribute(deletion_policy::attribute(
        "`DELETE` (default): destroying the resource revokes the key. `ABANDON`: destroying \
         only removes the key, and its secret, from the Terraform state and leaves it live in \
         Parallel (for moving it between configurations; revoke it yourself when done). \
         Changing only this updates in place, with no API call. When the key is replaced, \
         the old key follows the deletion_policy in state (the one in effect before the \
         apply), not the configuration's, even when the same apply changes it: to switch from \
         `ABANDON` to `DELETE` and have the old key revoked, apply the policy change alone \
         first.",
    ));
    // Version 1 added deletion_policy (see `upgrade_state`).
    Schema::new(1, timeouts().add_to(block))
}

/// The operations a key's `timeouts` block bounds.
fn timeouts() -> Timeouts {
    Timeouts::covering(&[Operation::Create, Operation::Delete])
        .describe(
            Operation::Create,
            "Upper bound on creating the key, retries and waits included, as a duration such as \
             `30s` or `5m` (default `5m`). A request already sent is allowed to finish (within \
             `request_timeout`), since its answer is the only copy of the new key.",
        )
        .describe(
            Operation::Delete,
            "Upper bound on revoking the key, retries and waits included (default `5m`). A \
             Ctrl-C does not cut a revoke short: its answer is what removes the key from state.",
        )
}

/// Two spellings of one UUID name one app: changing between them updates
/// the state in place (Terraform requires the plan to carry the configured
/// spelling) instead of replacing the key.
fn same_uuid(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => {
            matches!((Uuid::parse_str(a), Uuid::parse_str(b)), (Ok(a), Ok(b)) if a == b)
        }
        _ => false,
    }
}

#[async_trait]
impl TypedResource for ApiKeyResource {
    type Model = ApiKeyModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    /// Terraform 1.12 and later store this beside the state: the app and the
    /// key's ID name one key for good.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new(
            0,
            vec![
                IdentityAttribute::required("app_id", Type::String)
                    .description("ID of the app the key belongs to."),
                IdentityAttribute::required("api_key_id", Type::String)
                    .description("ID of the key."),
            ],
        ))
    }

    /// Version 0 had no deletion_policy: such keys were made to be revoked
    /// on destroy, which is the default, so a provider upgrade shows no
    /// change.
    fn upgrade_state(
        &self,
        version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        match version {
            0 => {
                if let Some(fields) = state.as_object_mut() {
                    fields
                        .entry(deletion_policy::ATTRIBUTE)
                        .or_insert_with(|| "DELETE".into());
                }
                Ok(state)
            }
            1 => Ok(state),
            _ => Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "This parallel_api_key was stored by a newer provider (schema version \
                     {version}; this one understands up to 1). Use that provider version or \
                     newer."
                ),
            )
            .into()),
        }
    }

    /// The API cannot read a key back, so a plan is where a secret missing
    /// from state (deleted by hand) is noticed: said every plan, until the
    /// key is replaced.
    ///
    /// It is also where an api_key_id that is no ID (state edited by hand)
    /// is refused, for every plan, destroys and replacements included:
    /// a revoke by it would be answered 404 and pass for done.
    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        _planned: &mut Value,
    ) -> Result<Diagnostics, Diagnostics> {
        if request.prior_state.is_null() {
            return Ok(Diagnostics::new());
        }
        let prior = ApiKeyModel::from_value(request.prior_state)?;
        Ok(plan_checks(&prior, request.replacing))
    }

    async fn create(
        &self,
        ctx: &Context,
        mut key: ApiKeyModel,
    ) -> Result<Applied<ApiKeyModel>, Diagnostics> {
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
        let app_id = Uuid::parse_str(&app_id_text).map_err(|_| invalid_app_id())?;
        let limit = timeouts().limit(&key.timeouts, Operation::Create);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(%app_id, "creating API key");
        let journal = journaled::create_sent(&app_id_text, &name, false);
        let result = client.create_key(app_id, &name, deadline.token()).await;
        let timed_out_after = deadline.timed_out_after();
        if let Err(CreateKeyError::NotCreated(_)) = &result {
            journal.record(Event::NothingDone);
        }
        // Whatever the answer, the operation is settled once Terraform has
        // it: a key in state, or an error that names what to check.
        journaled::handed_when_delivered(ctx, journal.clone());
        match result {
            Ok(created) => {
                key.record(created);
                journaled::created(ctx, &journal, &key.facts());
                Ok(key.into())
            }
            Err(CreateKeyError::Incomplete {
                key: answer,
                problem,
            }) => {
                key.record(answer);
                journaled::created(ctx, &journal, &key.facts());
                let has_secret = !key.secret_missing();
                let diagnostic = incomplete_create(&key.facts(), has_secret, &problem);
                Ok(Applied::from(key).with(diagnostic))
            }
            Err(CreateKeyError::NotCreated(err)) => Err(api_error(
                &err,
                &format!("Creating API key {name:?} in app {app_id_text}"),
                &app_id_text,
                timed_out_after,
                attr_name!(ApiKeyModel, api_key_name),
            )),
            // A create already sent is never abandoned (its answer is the
            // only copy of the key), so this is a failure of the request
            // itself, not of the operation's deadline.
            Err(CreateKeyError::MayHaveCreated(err)) => {
                Err(may_have_created(&name, &app_id_text, &err, "").into())
            }
        }
    }

    async fn delete(&self, ctx: &Context, state: ApiKeyModel) -> Result<Diagnostics, Diagnostics> {
        let key = state.facts();
        if deletion_policy::abandons(&state.deletion_policy) {
            tracing::info!(key = %key.label(), "deletion_policy is ABANDON: leaving the key live");
            return Ok(deletion_policy::abandoned(
                "API key left live (deletion_policy = \"ABANDON\")",
                &key.label(),
                &format!(
                    "It still works for whoever holds it: revoke it in the Parallel platform \
                     when nothing uses it any more ({}).",
                    key.finding_aid()
                ),
            )
            .into());
        }
        // Nothing can ever revoke a key without a usable ID from here, so
        // it leaves the state with a warning that says how to find it.
        let Some(key_id) = key.id.as_deref().filter(|id| is_usable_key_id(id)) else {
            return Ok(not_revocable(&key).into());
        };
        // Refused at plan already; kept here for a destroy planned without
        // this provider's plan check.
        if implausible_id(&state) {
            return Err(implausible_key_id_in_state(&key).into());
        }
        let Some(app_id) = key.app_id.as_deref().and_then(|a| Uuid::parse_str(a).ok()) else {
            return Err(invalid_app_id_in_state(&key).into());
        };
        let limit = timeouts().limit(&state.timeouts, Operation::Delete);
        revoke(ctx, &key, app_id, key_id, limit).await?;
        Ok(Diagnostics::new())
    }

    /// Terraform was killed while this key was being created: the key is
    /// live and will be in no state. The journal already holds it for the
    /// next run to name; this says so at once, on stderr.
    fn create_undelivered(&self, ctx: &Context, new_state: &ApiKeyModel) {
        journaled::say_undelivered(ctx, &new_state.facts());
    }

    /// The API cannot read a key, so the state is served as it is, except
    /// for a key the journal shows revoked by a run whose outcome never
    /// reached Terraform (Ctrl-C during a revoke): it is gone, and the next
    /// plan creates it again, with its consumers.
    async fn read(
        &self,
        ctx: &Context,
        current: ApiKeyModel,
    ) -> Result<Option<ApiKeyModel>, Diagnostics> {
        // Matched by where the key lives (this API, its app, its ID), so a
        // key of another API with the same ID is never dropped.
        if journaled::revoked_unbeknown_to_state(ctx, &current.facts()) {
            tracing::info!("the journal shows this key revoked: removing it from state");
            return Ok(None);
        }
        Ok(Some(current))
    }

    /// Import is refused the same way whether asked by ID or by identity.
    async fn import(
        &self,
        _ctx: &Context,
        _request: ImportRequest,
    ) -> Result<ApiKeyModel, Diagnostics> {
        Err(import_refused(TYPE_NAME).into())
    }
}

/// What a plan says of the key in state: an ID no revoke may use, a
/// replacement that abandons it, or a secret gone from state.
fn plan_checks(prior: &ApiKeyModel, replacing: bool) -> Diagnostics {
    if implausible_id(prior) {
        return implausible_key_id_in_state(&prior.facts()).into();
    }
    if replacing && deletion_policy::abandons(&prior.deletion_policy) {
        return deletion_policy::replacement_abandons(&prior.facts().label()).into();
    }
    if !replacing && prior.secret_missing() {
        return texts::secret_missing_from_state(&prior.facts()).into();
    }
    Diagnostics::new()
}

/// Revokes the key `key_id` of app `app_id`, which `key` names to a person.
async fn revoke(
    ctx: &Context,
    key: &KeyFacts,
    app_id: Uuid,
    key_id: &str,
    limit: Duration,
) -> Result<(), Diagnostics> {
    let client = &toolkit::api(ctx)?.client;
    // A revoke, once begun, runs to its answer or its time limit, not
    // to a Ctrl-C: its answer is what lets the state drop the key, and
    // a revoke cut off after Parallel acted left a state that held a
    // revoked key and planned no change.
    let deadline = Deadline::start(&CancellationToken::new(), limit);
    tracing::debug!(%app_id, api_key_id = %key_id, "revoking API key");
    let journal = journaled::revoke_sent(ctx, key, app_id, key_id);
    let result = client.delete_key(app_id, key_id, deadline.token()).await;
    if result.is_ok() {
        journal.record(Event::Revoked);
    }
    // Settled once Terraform has the outcome; if it never does, reads
    // drop the revoked key from the state it stayed in.
    journaled::handed_when_delivered(ctx, journal);
    let timed_out_after = deadline.timed_out_after();
    match result {
        Ok(Deletion::Revoked) => Ok(()),
        Ok(Deletion::AlreadyGone) => {
            tracing::info!(api_key_id = %key_id, "API key was already revoked");
            Ok(())
        }
        Err(err) => Err(api_error(
            &err,
            &format!("Revoking {}", key.label()),
            &app_id.to_string(),
            timed_out_after,
            attr_name!(ApiKeyModel, api_key_name),
        )),
    }
}

/// An api_key_id in state that would address a request but cannot be an ID
/// Parallel gave; irrelevant when the key is abandoned (no request).
/// Unusable ones ("", "..") are left to `not_revocable` at destroy.
fn implausible_id(state: &ApiKeyModel) -> bool {
    !deletion_policy::abandons(&state.deletion_policy)
        && state
            .api_key_id
            .known()
            .is_some_and(|id| is_usable_key_id(id) && !is_plausible_key_id(id))
}

/// The checks of a key's configuration (its attributes' validators), for
/// the ephemeral key, which opens with values that may have been unknown
/// when Terraform validated them.
pub(crate) fn check(key: &ApiKeyModel) -> Diagnostics {
    schema().block.validate(&key.to_value())
}

/// `app_id`'s validator: a UUID, and where to find one by name.
fn app_id_is_a_uuid(checked: &Checked<'_>) -> Result<(), Diagnostic> {
    match checked.value.as_str().map(Uuid::parse_str) {
        Some(Ok(_)) => Ok(()),
        _ => Err(checked.invalid(
            "app_id must be the UUID of a Parallel app, such as \
             \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"; the configured value is not a UUID. \
             To find an app's ID by its name, use data \"parallel_app\" { app_name = \"...\" } \
             and set app_id = data.parallel_app.NAME.app_id."
                .to_owned(),
        )),
    }
}

fn invalid_app_id() -> Diagnostic {
    Diagnostic::error(
        "Invalid app_id",
        "app_id must be the UUID of a Parallel app; the configured value is not a UUID.",
    )
    .at(attr_path!(ApiKeyModel, app_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_0_state_gets_the_default_deletion_policy() {
        let upgraded = ApiKeyResource
            .upgrade_state(0, serde_json::json!({"api_key_id": "k"}))
            .expect("upgraded");
        assert_eq!(upgraded["deletion_policy"], "DELETE");
        assert_eq!(upgraded["api_key_id"], "k");
        assert!(
            ApiKeyResource
                .upgrade_state(2, serde_json::json!({}))
                .is_err()
        );
    }

    #[test]
    fn spellings_of_one_uuid_are_the_same_app() {
        let plain = Value::string("3c90c3cc-0d44-4b50-8888-8dd25736052a");
        for other in [
            "3C90C3CC-0D44-4B50-8888-8DD25736052A",
            "{3c90c3cc-0d44-4b50-8888-8dd25736052a}",
            "urn:uuid:3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "3c90c3cc0d444b5088888dd25736052a",
        ] {
            assert!(same_uuid(&plain, &Value::string(other)), "{other}");
        }
        let different = Value::string("3c90c3cc-0d44-4b50-8888-8dd25736052b");
        assert!(!same_uuid(&plain, &different));
        assert!(!same_uuid(&Value::string("x"), &Value::string("x")));
        assert!(!same_uuid(&plain, &Value::Unknown));
    }
}
