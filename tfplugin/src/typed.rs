//! Typed objects: each kind of object written against its model instead of
//! raw values, as terraform-plugin-framework hands a resource
//! `req.Plan.Get(ctx, &model)`. This file holds resources; the other
//! kinds ([`TypedDataSource`], [`TypedEphemeralResource`],
//! [`TypedListResource`], [`TypedAction`]) follow the same pattern.
//!
//! For a resource, the framework decodes the plan or state a
//! callback reads into [`TypedResource::Model`] once, the callback returns a
//! `Result` (so `?` works on every step), and the framework encodes the
//! model it returns. Nothing a callback does not read is decoded: `create`
//! gets the plan, not the configuration.
//!
//! Every `TypedResource` is a [`Resource`], so it is registered like any
//! other: `vec![Arc::new(GreetingResource)]`.

mod action;
mod data_source;
mod ephemeral;
mod list;

pub use action::TypedAction;
pub use data_source::TypedDataSource;
pub use ephemeral::{Opened, TypedEphemeralResource};
pub use list::TypedListResource;

use crate::context::Context;
use crate::diag::Diagnostics;
use crate::framework::{ApplyOutcome, ImportRequest, PlanRequest, Resource};
use crate::identity::IdentitySchema;
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;

/// Runs a typed `validate` on a configuration that decodes into `C`. One
/// that does not is not an error here: its values are still unknown where
/// `C` cannot hold an unknown, and the callback that needs them (plan,
/// apply, read) decodes it again once they are known, and says so then.
fn validate_decoded<C: Model>(
    config: &Value,
    check: impl FnOnce(&C) -> Diagnostics,
) -> Diagnostics {
    C::from_value(config).map_or_else(|_still_unknown| Diagnostics::new(), |config| check(&config))
}

/// What a create or an update produced: the new state as a model, private
/// bytes, and any warnings (or an error that still keeps the state, when
/// the object exists although something after its creation failed).
#[derive(Debug)]
pub struct Applied<M> {
    /// `None`: the object does not exist.
    pub state: Option<M>,
    /// Opaque bytes stored beside the state (see [`ApplyOutcome::private`]).
    pub private: Vec<u8>,
    /// Reported to Terraform with the state.
    pub diagnostics: Diagnostics,
}

impl<M> From<M> for Applied<M> {
    fn from(state: M) -> Self {
        Applied {
            state: Some(state),
            private: Vec::new(),
            diagnostics: Diagnostics::new(),
        }
    }
}

impl<M> Applied<M> {
    /// The same outcome, with `diagnostics` reported beside it.
    pub fn with(mut self, diagnostics: impl Into<Diagnostics>) -> Self {
        self.diagnostics.extend(diagnostics.into());
        self
    }
}

impl<M: Model> Applied<M> {
    fn into_outcome(self) -> ApplyOutcome {
        ApplyOutcome {
            new_state: self.state.as_ref().map(Model::to_value),
            private: self.private,
            diagnostics: self.diagnostics,
        }
    }
}

/// A managed resource written against its model. The methods mirror
/// [`Resource`]'s; see there for when Terraform calls each.
#[async_trait]
pub trait TypedResource: Send + Sync + 'static {
    /// The resource's config, plan and state as a struct (from
    /// [`model!`](crate::model!)); fields the plan may leave unknown are
    /// [`Maybe`](crate::model::Maybe).
    type Model: Model + Send + Sync;

    /// See [`Resource::type_name`].
    fn type_name(&self) -> &'static str;

    /// See [`Resource::schema`].
    fn schema(&self) -> Schema;

    /// See [`Resource::identity_schema`].
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// Checks that span several attributes (one attribute's checks are
    /// validators on it). Runs only on a configuration that decodes into
    /// the model: one whose values are still unknown where the model cannot
    /// hold an unknown is checked again at plan.
    fn validate(&self, _config: &Self::Model) -> Diagnostics {
        Diagnostics::new()
    }

    /// See [`Resource::modify_plan`]; `Ok` holds warnings. The plan and the
    /// prior state stay values here, not models: every plan of every
    /// object of the type passes through this, so it decodes only what it
    /// needs, when it needs it (`Model::from_value` on either).
    fn modify_plan(
        &self,
        _request: &PlanRequest<'_>,
        _planned: &mut Value,
    ) -> Result<Diagnostics, Diagnostics> {
        Ok(Diagnostics::new())
    }

    /// Creates the object `planned` describes and returns its state.
    async fn create(
        &self,
        ctx: &Context,
        planned: Self::Model,
    ) -> Result<Applied<Self::Model>, Diagnostics>;

    /// Updates in place; the default accepts the plan as the new state. An
    /// `Err` keeps the prior state.
    async fn update(
        &self,
        _ctx: &Context,
        _prior: Self::Model,
        planned: Self::Model,
    ) -> Result<Applied<Self::Model>, Diagnostics> {
        Ok(planned.into())
    }

    /// Deletes the object. `Ok` holds the warnings of a delete that
    /// succeeded (or left the object on purpose); `Err` keeps the object in
    /// state, so that a later apply can try again.
    async fn delete(&self, ctx: &Context, prior: Self::Model) -> Result<Diagnostics, Diagnostics>;

    /// See [`Resource::create_undelivered`].
    fn create_undelivered(&self, _ctx: &Context, _new_state: &Self::Model) {
        tracing::warn!(
            type_name = self.type_name(),
            "a create finished after Terraform had gone; its object is in no state"
        );
    }

    /// See [`Resource::update_undelivered`].
    fn update_undelivered(&self, _ctx: &Context, _prior: &Self::Model, _new_state: &Self::Model) {
        tracing::warn!(
            type_name = self.type_name(),
            "an update finished after Terraform had gone; its new state is in no state"
        );
    }

    /// See [`Resource::private_after_read`]; the default keeps it.
    fn private_after_read(&self, _state: &Self::Model, private: Vec<u8>) -> Vec<u8> {
        private
    }

    /// Refresh; `Ok(None)` says the object is gone. The default serves the
    /// state as it is.
    async fn read(
        &self,
        _ctx: &Context,
        current: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics> {
        Ok(Some(current))
    }

    /// See [`Resource::import`]; the default refuses every import.
    async fn import(
        &self,
        _ctx: &Context,
        _request: ImportRequest,
    ) -> Result<Self::Model, Diagnostics> {
        Err(crate::framework::import_refused(self.type_name()))
    }

    /// See [`Resource::upgrade_state`]; the default accepts only the
    /// current version.
    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        crate::framework::only_current_state_version(self.type_name(), &self.schema(), version)
            .map(|()| state)
    }

    /// See [`Resource::upgrade_identity`]; the default accepts only the
    /// current version.
    fn upgrade_identity(
        &self,
        version: i64,
        identity: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = TypedResource::identity_schema(self).map_or(0, |s| s.version);
        crate::framework::only_current_identity_version(self.type_name(), current, version)
            .map(|()| identity)
    }
}

#[async_trait]
impl<T: TypedResource> Resource for T {
    fn type_name(&self) -> &'static str {
        TypedResource::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedResource::schema(self)
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        TypedResource::identity_schema(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        validate_decoded::<T::Model>(config, |config| TypedResource::validate(self, config))
    }

    fn modify_plan(&self, request: &PlanRequest<'_>, planned: &mut Value) -> Diagnostics {
        TypedResource::modify_plan(self, request, planned).unwrap_or_else(|failed| failed)
    }

    async fn create(&self, ctx: &Context, planned: &Value, _config: &Value) -> ApplyOutcome {
        let created = match T::Model::from_value(planned) {
            Ok(planned) => TypedResource::create(self, ctx, planned).await,
            Err(diags) => Err(diags),
        };
        created.map_or_else(ApplyOutcome::failed, Applied::into_outcome)
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> ApplyOutcome {
        let updated = match (T::Model::from_value(prior), T::Model::from_value(planned)) {
            (Ok(prior), Ok(planned)) => TypedResource::update(self, ctx, prior, planned).await,
            (Err(diags), _) | (_, Err(diags)) => Err(diags),
        };
        updated.map_or_else(ApplyOutcome::failed, Applied::into_outcome)
    }

    async fn delete(&self, ctx: &Context, prior: &Value) -> Diagnostics {
        let deleted = match T::Model::from_value(prior) {
            Ok(prior) => TypedResource::delete(self, ctx, prior).await,
            Err(diags) => Err(diags),
        };
        deleted.unwrap_or_else(|kept| kept)
    }

    fn create_undelivered(&self, ctx: &Context, new_state: &Value) {
        match T::Model::from_value(new_state) {
            Ok(state) => TypedResource::create_undelivered(self, ctx, &state),
            Err(_) => tracing::warn!(
                type_name = TypedResource::type_name(self),
                "a create finished after Terraform had gone; its object is in no state"
            ),
        }
    }

    fn update_undelivered(&self, ctx: &Context, prior: &Value, new_state: &Value) {
        match (T::Model::from_value(prior), T::Model::from_value(new_state)) {
            (Ok(prior), Ok(state)) => TypedResource::update_undelivered(self, ctx, &prior, &state),
            _ => tracing::warn!(
                type_name = TypedResource::type_name(self),
                "an update finished after Terraform had gone; its new state is in no state"
            ),
        }
    }

    fn private_after_read(&self, state: &Value, private: Vec<u8>) -> Vec<u8> {
        match T::Model::from_value(state) {
            Ok(state) => TypedResource::private_after_read(self, &state, private),
            Err(_) => private,
        }
    }

    async fn read(&self, ctx: &Context, current: Value) -> Result<Option<Value>, Diagnostics> {
        let current = T::Model::from_value(&current)?;
        let read = TypedResource::read(self, ctx, current).await?;
        Ok(read.as_ref().map(Model::to_value))
    }

    async fn import(&self, ctx: &Context, request: ImportRequest) -> Result<Value, Diagnostics> {
        TypedResource::import(self, ctx, request)
            .await
            .map(|state| state.to_value())
    }

    fn upgrade_state(
        &self,
        version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        TypedResource::upgrade_state(self, version, state)
    }

    fn upgrade_identity(
        &self,
        version: i64,
        identity: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        TypedResource::upgrade_identity(self, version, identity)
    }
}

#[cfg(test)]
#[path = "typed/tests.rs"]
mod tests;
