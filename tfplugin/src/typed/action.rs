//! Typed actions: an action written against its `config` block as a model.

use crate::action::{Action, Progress};
use crate::context::Context;
use crate::diag::Diagnostics;
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;

/// An action written against its configuration's model. The framework
/// decodes the `config` block into [`Config`](TypedAction::Config) for
/// each call.
#[async_trait]
pub trait TypedAction: Send + Sync + 'static {
    /// The action's `config` block.
    type Config: Model + Send + Sync;

    /// See [`Action::type_name`].
    fn type_name(&self) -> &'static str;

    /// See [`Action::schema`].
    fn schema(&self) -> Schema;

    /// Checks that span several arguments; runs only on a configuration
    /// that decodes into `Config` (values may still be unknown where
    /// `Config` holds [`Maybe`](crate::model::Maybe)).
    fn validate(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }

    /// See [`Action::plan`]: every value is known here.
    fn plan(&self, _config: &Self::Config) -> Diagnostics {
        Diagnostics::new()
    }

    /// Does the work. `Ok` holds the warnings of an invocation that
    /// succeeded; `Err` ends it as failed.
    async fn invoke(
        &self,
        ctx: &Context,
        config: Self::Config,
        progress: &Progress,
    ) -> Result<Diagnostics, Diagnostics>;
}

#[async_trait]
impl<T: TypedAction> Action for T {
    fn type_name(&self) -> &'static str {
        TypedAction::type_name(self)
    }

    fn schema(&self) -> Schema {
        TypedAction::schema(self)
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        super::validate_decoded::<T::Config>(config, |config| TypedAction::validate(self, config))
    }

    fn plan(&self, config: &Value) -> Diagnostics {
        T::Config::from_value(config)
            .map_or_else(|diags| diags, |config| TypedAction::plan(self, &config))
    }

    async fn invoke(&self, ctx: &Context, config: &Value, progress: &Progress) -> Diagnostics {
        let invoked = match T::Config::from_value(config) {
            Ok(config) => TypedAction::invoke(self, ctx, config, progress).await,
            Err(diags) => Err(diags),
        };
        invoked.unwrap_or_else(|failed| failed)
    }
}
