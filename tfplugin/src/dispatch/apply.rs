//! ApplyResourceChange, and the policy that keeps a remote object in state
//! whatever else goes wrong: a failed delete keeps the prior state, a
//! failed update keeps the object as it was, and a create's state is
//! returned together with its errors.
//!
//! An apply runs detached from its call: when Terraform is killed its
//! connection closes and the transport drops the call's future, which
//! would cut a create off between the remote object's creation and its
//! answer (measured: about 20 ms after the kill). Detached, it runs to its
//! answer; and when that answer has nobody to go to, the resource hears of
//! it (`Resource::create_undelivered`, `Resource::update_undelivered`) and
//! can leave a record.

use super::codec::{decode, encode};
use super::guard::{guarded, guarded_sync};
use super::{Dispatch, ManagedResource};
use crate::diag::{Diagnostic, Diagnostics};
use crate::framework::{ApplyOutcome, Context};
use crate::proto::tfplugin6 as pb;
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::oneshot;

impl Dispatch {
    pub(super) async fn handle_apply_resource_change(
        &self,
        request: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        tracing::debug!(type_name = %request.type_name, "ApplyResourceChange");
        let ctx = self.context();
        let r = match self.resource(&request.type_name) {
            Err(diags) => {
                return pb::apply_resource_change::Response {
                    diagnostics: diags.to_proto(),
                    ..Default::default()
                };
            }
            Ok(r) => Arc::clone(r),
        };
        let (answer, answered) = oneshot::channel();
        let lifeline = self.lifeline.clone();
        self.lifeline.detach(async move {
            let (response, undelivered) = apply(&r, &ctx, request).await;
            // Gone: the answer would go nowhere. A failed send: the
            // transport dropped the call (its connection closed).
            let delivered = !lifeline.is_gone() && answer.send(response).is_ok();
            ctx.delivery.settle(delivered);
            match undelivered {
                _ if delivered => {}
                Some(Undelivered::Create(state)) => {
                    let record = || r.typed.imp.create_undelivered(&ctx, &state);
                    guarded_sync("recording an undelivered create", record, drop);
                }
                Some(Undelivered::Update { prior, state }) => {
                    let record = || r.typed.imp.update_undelivered(&ctx, &prior, &state);
                    guarded_sync("recording an undelivered update", record, drop);
                }
                None => {}
            }
        });
        answered
            .await
            .unwrap_or_else(|_| pb::apply_resource_change::Response {
                diagnostics: Diagnostics::from(Diagnostic::error(
                    "Provider internal error",
                    "The apply ended without an answer. Please report this bug; run with \
                 TF_LOG=DEBUG for details.",
                ))
                .to_proto(),
                ..Default::default()
            })
    }
}

/// What a create or update produced, for the resource to record should
/// its answer never reach Terraform.
enum Undelivered {
    Create(Value),
    Update { prior: Value, state: Value },
}

/// The answer, and what the resource records if it is not delivered
/// (`create_undelivered`, `update_undelivered`).
async fn apply(
    r: &ManagedResource,
    ctx: &Context,
    request: pb::apply_resource_change::Request,
) -> (pb::apply_resource_change::Response, Option<Undelivered>) {
    let ty = &r.typed.ty;
    let decoded = (|| {
        Ok::<_, Diagnostics>((
            decode(request.prior_state.as_ref(), ty, "prior state")?,
            decode(request.planned_state.as_ref(), ty, "planned state")?,
            decode(request.config.as_ref(), ty, "configuration")?,
        ))
    })();
    let (prior, planned, config) = match decoded {
        Ok(values) => values,
        Err(diags) => {
            let response = pb::apply_resource_change::Response {
                diagnostics: diags.to_proto(),
                ..Default::default()
            };
            return (response, None);
        }
    };
    let imp = &r.typed.imp;
    let mut outcome = if planned.is_null() {
        let diagnostics = guarded("delete", imp.delete(ctx, &prior), |d| d).await;
        if diagnostics.has_errors() {
            // The object may still exist: keep it in state so a retry can
            // delete it.
            ApplyOutcome {
                new_state: Some(prior.clone()),
                private: request.planned_private.clone(),
                diagnostics,
            }
        } else {
            ApplyOutcome {
                diagnostics,
                ..Default::default()
            }
        }
    } else if prior.is_null() {
        let create = imp.create(ctx, &planned, &config);
        guarded("create", create, ApplyOutcome::failed).await
    } else {
        let update = imp.update(ctx, &prior, &planned, &config);
        let mut outcome = guarded("update", update, ApplyOutcome::failed).await;
        if outcome.new_state.is_none() && outcome.diagnostics.has_errors() {
            // A failed update leaves the object as it was.
            outcome.new_state = Some(prior.clone());
        }
        outcome
    };
    let state = outcome.new_state.take().unwrap_or(Value::Null);
    // Terraform refuses unknown values in a new state; on failure it would
    // turn them into nulls itself, so do the same whatever happened.
    let state = unknown_as_null(state);
    // A delete has nothing new to record (a failed one keeps the prior state).
    let undelivered = match (prior.is_null(), planned.is_null() || state.is_null()) {
        (_, true) => None,
        (true, false) => Some(Undelivered::Create(state.clone())),
        (false, false) => Some(Undelivered::Update {
            prior: prior.clone(),
            state: state.clone(),
        }),
    };
    let mut diagnostics = outcome.diagnostics;
    let encoded = encode(&state, ty).and_then(|s| Ok((s, r.identity_of(&state)?)));
    let (new_state, new_identity) = match encoded {
        Ok((state, identity)) => (Some(state), identity),
        Err(diags) => {
            diagnostics.extend(diags);
            (None, None)
        }
    };
    let response = pb::apply_resource_change::Response {
        new_state,
        private: outcome.private,
        diagnostics: diagnostics.to_proto(),
        new_identity,
    };
    (response, undelivered)
}

/// Replaces every unknown inside a value with null.
fn unknown_as_null(value: Value) -> Value {
    let each = |items: Vec<Value>| items.into_iter().map(unknown_as_null).collect();
    let each_entry = |entries: BTreeMap<String, Value>| {
        entries
            .into_iter()
            .map(|(k, v)| (k, unknown_as_null(v)))
            .collect()
    };
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(each(items)),
        Value::Set(items) => Value::Set(each(items)),
        Value::Tuple(items) => Value::Tuple(each(items)),
        Value::Map(entries) => Value::Map(each_entry(entries)),
        Value::Object(entries) => Value::Object(each_entry(entries)),
        Value::Dynamic(ty, inner) => Value::Dynamic(ty, Box::new(unknown_as_null(*inner))),
        known => known,
    }
}
