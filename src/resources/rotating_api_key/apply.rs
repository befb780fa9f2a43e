//! The applies of `parallel_rotating_api_key` that call the API: a
//! rotation, and the revocation of keys whose time has come. The order is
//! what makes them safe: a new key is created before anything is revoked,
//! and a key whose revocation fails stays in state for the next apply.

use std::time::SystemTime;

use tfplugin::model::Maybe;
use tfplugin::typed::Applied;
use tfplugin::{Diagnostic, Diagnostics};
use uuid::Uuid;

use super::model::{self, KeyRef, RotatingKeyModel};
use super::{known_target, schedule, texts};
use crate::client::{AccountClient, CreateKeyError, Deletion, NewKey, is_usable_key_id};
use crate::journal::Event;
use crate::resources::api_key::journaled;
use crate::toolkit::Deadline;
use tfplugin::Context;

/// A rotation: the new key first; then the previous key and any older
/// ones are revoked, and the replaced key becomes the previous one (or is
/// revoked too, with no overlap). A key that cannot be revoked stays in
/// state.
pub(super) async fn rotate_key(
    revoker: &Revoker<'_>,
    prior: RotatingKeyModel,
    planned: RotatingKeyModel,
) -> Result<Applied<RotatingKeyModel>, Diagnostics> {
    let (app_id, prefix) = known_target(&planned)?;
    let name = schedule::key_name(&prefix, SystemTime::now());
    tracing::debug!(%app_id, "rotating: creating the new key");
    let journal = journaled::create_sent(&app_id.to_string(), &name, false);
    let created = revoker
        .client
        .create_key(app_id, &name, revoker.deadline.token())
        .await;
    if let Err(CreateKeyError::NotCreated(_)) = &created {
        journal.record(Event::NothingDone);
    }
    // Settled once Terraform has the outcome; an outcome that never
    // reaches it leaves the create for the next configure to name.
    journaled::handed_when_delivered(revoker.ctx, journal.clone());
    let mut state = planned;
    match created {
        Ok(created) => {
            state.set_current(created);
            journaled::created(revoker.ctx, &journal, &state.current());
        }
        Err(CreateKeyError::Incomplete {
            key: answer,
            problem,
        }) => return incomplete_rotation(revoker, prior, answer, &problem).await,
        // The apply fails and the framework keeps the prior state whole.
        Err(CreateKeyError::NotCreated(err)) => {
            return Err(texts::api_error(
                &err,
                &format!("Rotating: creating API key {name:?} in app {app_id}"),
                &app_id.to_string(),
                revoker.timed_out(),
                texts::ROTATION_UNDONE,
            ));
        }
        Err(CreateKeyError::MayHaveCreated(err)) => {
            return Err(texts::rotation_may_have_created(&name, &app_id.to_string(), &err).into());
        }
    }
    state.rotates_at = state.computed_rotates_at();
    let replaced = KeyRef {
        facts: prior.current(),
        revoke_at: Some(schedule::rfc3339(state.revoke_time(SystemTime::now()))),
    };
    let no_overlap = state.overlap_or_zero().is_zero();
    let mut revoke: Vec<(&str, KeyRef, &str)> = Vec::new();
    if let Some(previous) = prior.previous() {
        revoke.push(("the previous key", previous, "unrevoked_api_key_ids"));
    }
    for older in prior.unrevoked() {
        revoke.push(("an older key", older, "unrevoked_api_key_ids"));
    }
    if no_overlap {
        revoke.push((
            "the replaced key (overlap is 0s)",
            replaced.clone(),
            "previous_api_key_id",
        ));
    }
    let mut diags = Diagnostics::new();
    let mut failed = Vec::new();
    for (which, key, kept_as) in revoke {
        match revoker.revoke(which, &key, kept_as).await {
            Ok(warnings) => diags.extend(warnings),
            Err(errors) => {
                diags.extend(errors);
                failed.push(key);
            }
        }
    }
    if no_overlap {
        // The replaced key, when it failed, is the previous one, due now.
        let first = failed
            .iter()
            .position(|key| key.facts.id == replaced.facts.id)
            .map(|at| failed.remove(at));
        state.set_previous(first.as_ref());
    } else {
        state.set_previous(Some(&replaced));
    }
    state.set_unrevoked(&failed);
    Ok(Applied::from(state).with(diags))
}

/// The new key was made but its answer was incomplete: nothing changes
/// for the consumers; the new key is revoked now, or kept to revoke.
async fn incomplete_rotation(
    revoker: &Revoker<'_>,
    prior: RotatingKeyModel,
    answer: NewKey,
    problem: &str,
) -> Result<Applied<RotatingKeyModel>, Diagnostics> {
    let mut new = RotatingKeyModel {
        app_id: prior.app_id.clone(),
        ..RotatingKeyModel::default()
    };
    new.set_current(answer);
    let key = KeyRef {
        facts: new.current(),
        revoke_at: None,
    };
    let mut state = prior;
    let mut diags = Diagnostics::new();
    let mut revoked = false;
    if key.id().is_some_and(is_usable_key_id) {
        match revoker
            .revoke("the new key", &key, "unrevoked_api_key_ids")
            .await
        {
            Ok(_) => revoked = true,
            Err(errors) => {
                diags.extend(errors);
                let mut unrevoked = state.unrevoked();
                unrevoked.push(key.clone());
                state.set_unrevoked(&unrevoked);
            }
        }
    }
    diags.push(texts::incomplete_rotation(&key.facts, problem, revoked));
    Ok(Applied::from(state).with(diags))
}

/// No rotation: the previous key's time has come, or older keys are left
/// to revoke. The current key stays exactly as it is.
pub(super) async fn revoke_due(
    revoker: &Revoker<'_>,
    prior: RotatingKeyModel,
    planned: RotatingKeyModel,
) -> Result<Applied<RotatingKeyModel>, Diagnostics> {
    let mut state = planned;
    settle_times(&mut state, &prior);
    let mut diags = Diagnostics::new();
    if state.previous_api_key_id.is_null()
        && let Some(previous) = prior.previous()
    {
        tracing::debug!("revoking the previous key, whose time has come");
        match revoker
            .revoke("the previous key", &previous, "previous_api_key_id")
            .await
        {
            Ok(warnings) => diags.extend(warnings),
            Err(errors) => {
                diags.extend(errors);
                state.copy_previous(&prior);
            }
        }
    }
    let mut failed = Vec::new();
    for older in prior.unrevoked() {
        match revoker
            .revoke("an older key", &older, "unrevoked_api_key_ids")
            .await
        {
            Ok(warnings) => diags.extend(warnings),
            Err(errors) => {
                diags.extend(errors);
                failed.push(older);
            }
        }
    }
    state.set_unrevoked(&failed);
    Ok(Applied::from(state).with(diags))
}

/// Fills in the times a plan left unknown (their durations were unknown
/// until apply): from `created_at`, and from the rotation the previous
/// key's recorded time came from.
pub(super) fn settle_times(state: &mut RotatingKeyModel, prior: &RotatingKeyModel) {
    if state.rotates_at.is_unknown() {
        state.rotates_at = state.computed_rotates_at();
    }
    if state.previous_revoke_at.is_unknown() {
        let recorded = prior
            .previous_revoke_at
            .known()
            .and_then(|at| schedule::parse_rfc3339(at));
        state.previous_revoke_at = match recorded {
            Some(at) => {
                let old = model::duration(&prior.overlap, true);
                let moved = schedule::moved_revoke_at(at, old, state.overlap_or_zero());
                Maybe::Known(schedule::rfc3339(moved))
            }
            None => prior.previous_revoke_at.clone(),
        };
    }
}

/// Revokes keys within one operation's time limit.
pub(super) struct Revoker<'a> {
    /// Where the journal learns whether the outcome reached Terraform.
    pub ctx: &'a Context,
    pub client: &'a AccountClient,
    pub deadline: &'a Deadline,
}

impl Revoker<'_> {
    fn timed_out(&self) -> Option<std::time::Duration> {
        self.deadline.timed_out_after()
    }

    /// Revokes `key` (`which`: "the previous key"...). `Ok` with warnings
    /// when it is gone, or can never be revoked from here; `Err` when it
    /// may be live, saying that the state keeps it (as `kept_as`, unless
    /// empty).
    pub async fn revoke(
        &self,
        which: &str,
        key: &KeyRef,
        kept_as: &str,
    ) -> Result<Diagnostics, Diagnostics> {
        let Some(key_id) = key.id().filter(|id| is_usable_key_id(id)) else {
            return Ok(texts::not_revocable(&key.facts).into());
        };
        let app_text = key.facts.app_id.clone().unwrap_or_default();
        let Ok(app_id) = Uuid::parse_str(&app_text) else {
            return Err(Diagnostic::error(
                "Invalid app_id in state",
                format!(
                    "Terraform cannot revoke {}: the app_id recorded in state, {app_text:?}, is \
                     not a UUID. Put the app's UUID back into the state, or revoke the key in \
                     the Parallel platform ({}) and then drop the resource with `terraform \
                     state rm`.",
                    key.facts.label(),
                    key.facts.finding_aid()
                ),
            )
            .into());
        };
        tracing::debug!(%app_id, api_key_id = %key_id, "revoking {which}");
        let journal = journaled::revoke_sent(self.ctx, &key.facts, app_id, key_id);
        let result = self
            .client
            .delete_key(app_id, key_id, self.deadline.token())
            .await;
        if result.is_ok() {
            journal.record(Event::Revoked);
        }
        // Settled once Terraform has the outcome; if it never does, the
        // next configure sends the revoke again.
        journaled::handed_when_delivered(self.ctx, journal);
        match result {
            Ok(Deletion::Revoked) => Ok(Diagnostics::new()),
            Ok(Deletion::AlreadyGone) => {
                tracing::info!(api_key_id = %key_id, "{which} was already revoked");
                Ok(Diagnostics::new())
            }
            Err(err) => {
                let outcome = if kept_as.is_empty() {
                    String::new()
                } else {
                    texts::revoke_outcome(key, kept_as)
                };
                Err(texts::api_error(
                    &err,
                    &format!("Revoking {which}, {}", key.facts.label()),
                    &app_text,
                    self.timed_out(),
                    &outcome,
                ))
            }
        }
    }
}
