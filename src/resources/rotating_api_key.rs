//! `parallel_rotating_api_key`: an API key that Terraform replaces on a
//! schedule, keeping the replaced key alive for an overlap window and
//! revoking it on a later apply.
//!
//! The endpoints are those of `parallel_api_key` (one create, one delete),
//! and like it the state is the only record of the keys: reads are served
//! from it. What is new is time. The plan decides what is due (see
//! `schedule`), at the time of the refresh before it; the apply does what
//! the plan says, reading the plan from the planned values: an unknown
//! `api_key_id` means rotate, a `previous_api_key_id` planned null means
//! revoke the previous key. Nothing is ever dropped from state while it may
//! be live: a new key is created before anything is revoked, and a key
//! whose revocation fails stays in state for the next apply.

mod apply;
mod model;
mod schedule;
mod texts;

use std::time::SystemTime;

use crate::client::CreateKeyError;
use crate::journal::Event;
use crate::resources::api_key::model::ApiKeyModel;
use crate::resources::api_key::{self, journaled};
use crate::toolkit;
use crate::toolkit::{Deadline, Operation, Timeouts, deletion_policy};
use apply::{Revoker, revoke_due, rotate_key, settle_times};
use async_trait::async_trait;
use model::{KeyRef, RotatingKeyModel, parse_setting};
use schedule::{Plan, Previous};
use tfplugin::framework::PlanRequest;
use tfplugin::model::{Maybe, Model};
use tfplugin::typed::{Applied, TypedResource};
use tfplugin::{
    Attribute, Block, Context, Diagnostic, Diagnostics, ImportRequest, Schema, Type, Value,
    attr_path,
};
use uuid::Uuid;

pub const TYPE_NAME: &str = "parallel_rotating_api_key";

/// Gets its client from the framework's context, where the provider
/// configuration put it.
pub struct RotatingApiKeyResource;

/// A computed attribute: the generic plan keeps its state value, and
/// `modify_plan` decides what changes.
fn computed(attribute: Attribute, description: &'static str) -> Attribute {
    attribute
        .computed()
        .use_state_for_unknown()
        .description(description)
}

fn computed_string(name: &'static str, description: &'static str) -> Attribute {
    computed(Attribute::string(name), description)
}

pub fn schema() -> Schema {
    let block = Block::new(
        "An API key of a Parallel app that Terraform rotates on a schedule. Once the current \
         key is `rotate_after` old (or `keepers` or `name_prefix` changes), the next plan \
         shows an update in place: the apply creates a new key first, hands it to whatever \
         refers to `raw_api_key`, and keeps the replaced key alive as the previous key for \
         `overlap`; an apply after `previous_revoke_at` revokes it. Time is read when \
         Terraform plans, so keys rotate only when Terraform runs: schedule runs at least as \
         often as `overlap`. Destroying the resource revokes every key it holds.",
    )
    .attribute(
        Attribute::string("app_id")
            .required()
            .requires_replace()
            .description(
                "ID (a UUID) of the Parallel app the keys belong to. Changing it replaces the \
                 resource: its keys are revoked and a new key is created in the other app.",
            ),
    )
    .attribute(Attribute::string("name_prefix").required().description(
        "Start of each key's name: keys are named `<name_prefix>-<UTC creation time>`, such as \
         `search-20261206T213300Z`. Changing it rotates the key now, in place.",
    ))
    .attribute(Attribute::string("rotate_after").required().description(
        "Age at which the current key is replaced, as a duration such as `720h` (30 days), \
         `90s`, `15m` or `1h30m`. Changing it moves `rotates_at` and rotates only if the key \
         is then due.",
    ))
    .attribute(
        Attribute::string("overlap")
            .default_value(Value::string("0s"))
            .description(
                "How long the previous key stays valid after a rotation, as a duration such as \
                 `24h` (default `0s`: the replaced key is revoked in the apply that replaces \
                 it, after the new key is created). Must be shorter than `rotate_after`. \
                 Changing it moves `previous_revoke_at`.",
            ),
    )
    .attribute(
        Attribute::of_type("keepers", Type::Map(Box::new(Type::String)))
            .optional()
            .description(
                "Arbitrary values that, when changed, rotate the key now, in place, with the \
                 same overlap (a generation number, say).",
            ),
    )
    .attribute(computed_string(
        "id",
        "Same as `api_key_id`: the current key's ID.",
    ))
    .attribute(computed_string(
        "api_key_id",
        "ID of the current key, assigned by Parallel.",
    ))
    .attribute(computed_string(
        "api_key_name",
        "Name of the current key: `<name_prefix>-<UTC creation time>`.",
    ))
    .attribute(
        computed_string(
            "raw_api_key",
            "The current key itself (sensitive). Parallel returns it only at creation; it is \
             kept in state, so protect the state. A rotation changes it: hand it on as \
             `parallel_rotating_api_key.NAME.raw_api_key`, and whatever refers to it gets the \
             new key in the apply that rotates.",
        )
        .sensitive(),
    )
    .attribute(computed_string(
        "display_value",
        "A masked form of the current key, safe to show, to recognise it in the Parallel \
         platform.",
    ))
    .attribute(computed(
        Attribute::number("created_at"),
        "When the current key was created, as returned by the API (Unix timestamp).",
    ))
    .attribute(computed_string(
        "app_name",
        "Name of the app the keys belong to.",
    ))
    .attribute(computed_string(
        "created_by_user_id",
        "ID of the user the access token belongs to, who created the current key.",
    ))
    .attribute(computed_string(
        "created_by_user_email",
        "Email address of the user who created the current key.",
    ))
    .attribute(computed_string(
        "rotates_at",
        "When the current key becomes due (RFC 3339, UTC): `created_at` + `rotate_after`. The \
         first plan at or after this time rotates it.",
    ))
    .attribute(computed_string(
        "previous_api_key_id",
        "ID of the previous key, the one the last rotation replaced, while it is still valid; \
         null when there is none. Its secret is not kept: consumers move to `raw_api_key`.",
    ))
    .attribute(computed_string(
        "previous_api_key_name",
        "Name of the previous key; null when there is none.",
    ))
    .attribute(computed_string(
        "previous_display_value",
        "Masked form of the previous key; null when there is none.",
    ))
    .attribute(computed_string(
        "previous_revoke_at",
        "When the previous key is revoked (RFC 3339, UTC): the rotation's time + `overlap`. \
         The first apply at or after this time revokes it, and only it.",
    ))
    .attribute(computed(
        Attribute::of_type("unrevoked_api_key_ids", Type::List(Box::new(Type::String))),
        "IDs of older keys of this resource that an apply could not revoke (the API refused \
         or failed) and that are not the previous key; each apply tries again. Null when \
         there are none, which is the normal case.",
    ))
    .attribute(deletion_policy::attribute(
        "`DELETE` (default): destroying the resource revokes its current and previous keys. \
         `ABANDON`: destroying only removes them, and their secret, from the Terraform state \
         and leaves them live in Parallel (revoke them yourself when done). Changing only \
         this updates in place, with no API call.",
    ));
    Schema::new(0, timeouts().add_to(block))
}

/// The operations a key's `timeouts` block bounds.
fn timeouts() -> Timeouts {
    Timeouts::covering(&[Operation::Create, Operation::Update, Operation::Delete])
        .describe(
            Operation::Create,
            "Upper bound on creating the first key, retries and waits included (default \
             `5m`). A request already sent is allowed to finish (within `request_timeout`), \
             since its answer is the only copy of the new key.",
        )
        .describe(
            Operation::Update,
            "Upper bound on an apply that rotates or revokes: the new key's creation and the \
             revocations, retries and waits included (default `5m`).",
        )
        .describe(
            Operation::Delete,
            "Upper bound on revoking the keys on destroy, retries and waits included (default \
             `5m`).",
        )
}

#[async_trait]
impl TypedResource for RotatingApiKeyResource {
    type Model = RotatingKeyModel;

    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &RotatingKeyModel) -> Diagnostics {
        check(config)
    }

    /// The time the next plan reads: that of this refresh. Terraform keeps
    /// it beside the refreshed state, and in a saved plan, so the plan it
    /// makes again at apply decides the same.
    fn private_after_read(&self, _state: &RotatingKeyModel, _private: Vec<u8>) -> Vec<u8> {
        schedule::encode_clock(SystemTime::now())
    }

    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        planned: &mut Value,
    ) -> Result<Diagnostics, Diagnostics> {
        let mut plan = RotatingKeyModel::from_value(planned)?;
        if request.prior_state.is_null() || request.replacing {
            // A new resource has one key.
            plan.set_previous(None);
            plan.set_unrevoked(&[]);
            *planned = plan.to_value();
            return Ok(Diagnostics::new());
        }
        let prior = RotatingKeyModel::from_value(request.prior_state)?;
        let wanted = schedule::Wanted {
            rotate_after: model::duration(&plan.rotate_after, false),
            overlap: model::duration(&plan.overlap, true),
            // Unknown until apply counts as changed, as a replace rule would.
            rotate_now: plan.keepers != prior.keepers
                || plan.name_prefix.known() != prior.name_prefix.known(),
        };
        let now = schedule::plan_clock(request.prior_private);
        let decision = schedule::plan(now, &prior.schedule_prior(), &wanted);
        tracing::debug!(?now, ?decision, "rotating key plan");
        let mut diags = Diagnostics::new();
        if now.is_none()
            && schedule::plan(Some(SystemTime::now()), &prior.schedule_prior(), &wanted) != decision
        {
            diags.push(texts::due_without_refresh());
        }
        plan.copy_current(&prior);
        plan.copy_previous(&prior);
        plan.set_unrevoked(&[]);
        match decision {
            Plan::Rotate => {
                for field in [
                    &mut plan.id,
                    &mut plan.api_key_id,
                    &mut plan.api_key_name,
                    &mut plan.display_value,
                    &mut plan.app_name,
                    &mut plan.created_by_user_id,
                    &mut plan.created_by_user_email,
                    &mut plan.rotates_at,
                    &mut plan.previous_api_key_id,
                    &mut plan.previous_api_key_name,
                    &mut plan.previous_display_value,
                    &mut plan.previous_revoke_at,
                ] {
                    *field = Maybe::Unknown;
                }
                plan.raw_api_key = Maybe::Unknown;
                plan.created_at = Maybe::Unknown;
            }
            Plan::Keep {
                rotates_at,
                previous,
            } => {
                plan.rotates_at = known_time(rotates_at);
                match previous {
                    Previous::None | Previous::Revoke => plan.set_previous(None),
                    Previous::Keep { revoke_at } => {
                        plan.previous_revoke_at = known_time(revoke_at);
                    }
                }
            }
        }
        *planned = plan.to_value();
        Ok(diags)
    }

    async fn create(
        &self,
        ctx: &Context,
        mut key: RotatingKeyModel,
    ) -> Result<Applied<RotatingKeyModel>, Diagnostics> {
        let client = &toolkit::api(ctx)?.client;
        let (app_id, prefix) = known_target(&key)?;
        let name = schedule::key_name(&prefix, SystemTime::now());
        let limit = timeouts().limit(&key.timeouts, Operation::Create);
        let deadline = Deadline::start(&ctx.cancel, limit);
        tracing::debug!(%app_id, "creating the first key of a rotating API key");
        let journal = journaled::create_sent(&app_id.to_string(), &name, false);
        let result = client.create_key(app_id, &name, deadline.token()).await;
        if let Err(CreateKeyError::NotCreated(_)) = &result {
            journal.record(Event::NothingDone);
        }
        // Settled once Terraform has the outcome; an outcome that never
        // reaches it leaves the create for the next configure to name.
        journaled::handed_when_delivered(ctx, journal.clone());
        key.set_previous(None);
        key.set_unrevoked(&[]);
        match result {
            Ok(created) => {
                key.set_current(created);
                journaled::created(ctx, &journal, &key.current());
                key.rotates_at = key.computed_rotates_at();
                Ok(key.into())
            }
            Err(CreateKeyError::Incomplete {
                key: answer,
                problem,
            }) => {
                key.set_current(answer);
                journaled::created(ctx, &journal, &key.current());
                key.rotates_at = key.computed_rotates_at();
                let has_secret = matches!(&key.raw_api_key, Maybe::Known(s) if !s.is_empty());
                let diagnostic = texts::incomplete_create(&key.current(), has_secret, &problem);
                Ok(Applied::from(key).with(diagnostic))
            }
            Err(CreateKeyError::NotCreated(err)) => Err(texts::api_error(
                &err,
                &format!("Creating API key {name:?} in app {app_id}"),
                &app_id.to_string(),
                deadline.timed_out_after(),
                "",
            )),
            Err(CreateKeyError::MayHaveCreated(err)) => {
                Err(api_key::texts::may_have_created(&name, &app_id.to_string(), &err, "").into())
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: RotatingKeyModel,
        planned: RotatingKeyModel,
    ) -> Result<Applied<RotatingKeyModel>, Diagnostics> {
        let rotate = planned.api_key_id.is_unknown();
        let revoke_previous = planned.previous_api_key_id.is_null() && prior.previous().is_some();
        let revoke_older = !prior.unrevoked().is_empty();
        if !rotate && !revoke_previous && !revoke_older {
            // Times recomputed, or only settings changed: no API call.
            let mut state = planned;
            settle_times(&mut state, &prior);
            return Ok(state.into());
        }
        let client = &toolkit::api(ctx)?.client;
        let limit = timeouts().limit(&planned.timeouts, Operation::Update);
        let deadline = Deadline::start(&ctx.cancel, limit);
        let revoker = Revoker {
            ctx,
            client,
            deadline: &deadline,
        };
        if rotate {
            rotate_key(&revoker, prior, planned).await
        } else {
            revoke_due(&revoker, prior, planned).await
        }
    }

    async fn delete(
        &self,
        ctx: &Context,
        state: RotatingKeyModel,
    ) -> Result<Diagnostics, Diagnostics> {
        if deletion_policy::abandons(&state.deletion_policy) {
            tracing::info!(
                key = %state.current().label(),
                "deletion_policy is ABANDON: leaving the keys live"
            );
            return Ok(deletion_policy::abandoned(
                "API keys left live (deletion_policy = \"ABANDON\")",
                &abandoned_keys(&state),
                "Revoke them in the Parallel platform when nothing uses them any more.",
            )
            .into());
        }
        let client = &toolkit::api(ctx)?.client;
        let limit = timeouts().limit(&state.timeouts, Operation::Delete);
        // Revokes, once begun, run to their answer or their time limit, not
        // to a Ctrl-C, as parallel_api_key's do: a revoke cut off after
        // Parallel acted would leave a state that holds a revoked key.
        let deadline = Deadline::start(&tokio_util::sync::CancellationToken::new(), limit);
        let revoker = Revoker {
            ctx,
            client,
            deadline: &deadline,
        };
        let current = KeyRef {
            facts: state.current(),
            revoke_at: None,
        };
        let mut keys = vec![("the current key", current)];
        keys.extend(state.previous().map(|key| ("the previous key", key)));
        keys.extend(
            state
                .unrevoked()
                .into_iter()
                .map(|key| ("an older key", key)),
        );
        let mut diags = Diagnostics::new();
        for (which, key) in &keys {
            // A failure keeps the whole state (see `ApplyOutcome`): the next
            // destroy tries every key again, and those gone count as done.
            diags.extend(revoker.revoke(which, key, "").await.unwrap_or_else(|e| e));
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(diags)
        }
    }

    /// Terraform was killed while the first key was being created: it is
    /// live and in no state, so it is recorded as `parallel_api_key`
    /// records such keys.
    fn create_undelivered(&self, ctx: &Context, new_state: &RotatingKeyModel) {
        record_lost(ctx, new_state);
    }

    /// Terraform was killed during a rotation: it keeps the prior state, so
    /// the new key, if one was made, is live and in no state.
    fn update_undelivered(
        &self,
        ctx: &Context,
        prior: &RotatingKeyModel,
        new_state: &RotatingKeyModel,
    ) {
        if new_state.api_key_id.known().is_some() && new_state.api_key_id != prior.api_key_id {
            record_lost(ctx, new_state);
        }
    }

    async fn import(
        &self,
        _ctx: &Context,
        _request: ImportRequest,
    ) -> Result<RotatingKeyModel, Diagnostics> {
        Err(api_key::texts::import_refused(TYPE_NAME).into())
    }
}

/// Every key an ABANDON destroy leaves live, for its warning.
fn abandoned_keys(state: &RotatingKeyModel) -> String {
    let mut keys = vec![state.current().label()];
    keys.extend(state.previous().map(|key| key.facts.label()));
    keys.extend(state.unrevoked().into_iter().map(|key| key.facts.label()));
    keys.join(", ")
}

/// Says at once that the current key of `key` is live and in no state;
/// the journal already holds its create for the next run to name.
fn record_lost(ctx: &Context, key: &RotatingKeyModel) {
    journaled::say_undelivered(ctx, &key.current());
}

fn known_time(at: Option<SystemTime>) -> Maybe<String> {
    at.map_or(Maybe::Unknown, |at| Maybe::Known(schedule::rfc3339(at)))
}

/// The app and the name prefix, which must be known to create a key.
pub(super) fn known_target(key: &RotatingKeyModel) -> Result<(Uuid, String), Diagnostics> {
    let (Maybe::Known(app_id), Maybe::Known(prefix)) = (&key.app_id, &key.name_prefix) else {
        return Err(Diagnostic::error(
            "Incomplete configuration",
            "app_id and name_prefix must be known to create a key.",
        )
        .into());
    };
    let app_id = Uuid::parse_str(app_id).map_err(|_| {
        Diagnostic::error(
            "Invalid app_id",
            "app_id must be the UUID of a Parallel app; the configured value is not a UUID.",
        )
        .at(attr_path!(RotatingKeyModel, app_id))
    })?;
    Ok((app_id, prefix.clone()))
}

/// The offline checks; unknown values wait for apply.
fn check(key: &RotatingKeyModel) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // app_id is checked as parallel_api_key checks it (same attribute, same
    // text); that model's other fields are unset and pass.
    diags.extend(api_key::check(&ApiKeyModel {
        app_id: key.app_id.clone(),
        ..ApiKeyModel::default()
    }));
    if let Maybe::Known(prefix) = &key.name_prefix
        && prefix.trim().is_empty()
    {
        diags.push(
            Diagnostic::error(
                "Invalid name_prefix",
                "name_prefix must not be empty: it starts every key's name, which is how the \
                 keys are recognised in the Parallel platform.",
            )
            .at(attr_path!(RotatingKeyModel, name_prefix)),
        );
    }
    let rotate_after = match &key.rotate_after {
        Maybe::Known(text) => {
            parse_setting(text, false, attr_path!(RotatingKeyModel, rotate_after))
                .map_err(|d| diags.push(d))
                .ok()
        }
        _ => None,
    };
    let overlap = match &key.overlap {
        Maybe::Known(text) => parse_setting(text, true, attr_path!(RotatingKeyModel, overlap))
            .map_err(|d| diags.push(d))
            .ok(),
        Maybe::Null => Some(std::time::Duration::ZERO),
        Maybe::Unknown => None,
    };
    if let (Some(rotate_after), Some(overlap)) = (rotate_after, overlap)
        && overlap >= rotate_after
    {
        diags.push(
            Diagnostic::error(
                "Invalid overlap",
                format!(
                    "overlap ({}) must be shorter than rotate_after ({}): the previous key must \
                     be revoked before the current one is due, or keys would pile up.",
                    humantime::format_duration(overlap),
                    humantime::format_duration(rotate_after)
                ),
            )
            .at(attr_path!(RotatingKeyModel, overlap)),
        );
    }
    diags
}

#[cfg(test)]
mod tests;
